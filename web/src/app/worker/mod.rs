//! The run page's dedicated Web Worker: the same wasm module as the page,
//! started by `worker.js` (`new Worker("worker.js", {type: "module"})`),
//! which calls [`worker_main`]. It takes [`ToWorker`] messages (a run, stop
//! requests) and runs the benchmark here, off the page's thread: fetch,
//! timers and the response checks all work in workers, and nothing the
//! page draws can delay a send. See [`crate::protocol`] for the messages.

mod backlog;
mod edit;
mod gallery;
mod prime;
mod session;

use crate::protocol::{decode, encode, FromWorker, ToWorker};
use imgperf_core::stop::StopSignal;
use std::cell::RefCell;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

thread_local! {
    static STOP: RefCell<Option<StopSignal>> = const { RefCell::new(None) };
}

fn scope() -> web_sys::DedicatedWorkerGlobalScope {
    js_sys::global().unchecked_into()
}

/// Whether this code runs in a worker (not in a page).
pub fn in_worker() -> bool {
    js_sys::global()
        .dyn_into::<web_sys::DedicatedWorkerGlobalScope>()
        .is_ok()
}

/// Post a message to the page, with `blobs` as named properties.
pub(crate) fn post_with(msg: &FromWorker, blobs: &[(&str, &web_sys::Blob)]) {
    let obj = js_sys::Object::new();
    let _ = js_sys::Reflect::set(&obj, &"msg".into(), &encode(msg).into());
    for (name, blob) in blobs {
        let _ = js_sys::Reflect::set(&obj, &(*name).into(), blob);
    }
    let _ = scope().post_message(&obj);
}

/// Post a message to the page.
pub(crate) fn post(msg: &FromWorker) {
    post_with(msg, &[]);
}

/// Run the form's benchmark, reporting to the page; `files` are an edit
/// run's picked reference files.
async fn run(form: crate::protocol::RunForm, files: Vec<web_sys::Blob>) {
    let prep = match session::prepare(&form, files).await {
        Ok(p) => p,
        Err(message) => return post(&FromWorker::Invalid { message }),
    };
    let stop = StopSignal::new();
    STOP.with(|s| *s.borrow_mut() = Some(stop.clone()));
    post(&FromWorker::Started {
        cli_command: prep.cli_command.clone(),
        input_config: prep.input_config.clone(),
    });
    let done = session::execute(prep, stop).await;
    STOP.with(|s| *s.borrow_mut() = None);
    post_with(
        &FromWorker::Finished {
            was_cancelled: done.outcome.was_cancelled,
        },
        &[("raw", &done.raw)],
    );
}

fn on_message(event: web_sys::MessageEvent) {
    // The JSON text, alone or under `msg` with blobs alongside.
    let data = event.data();
    let text = data.as_string().unwrap_or_else(|| {
        js_sys::Reflect::get(&data, &"msg".into())
            .ok()
            .and_then(|m| m.as_string())
            .unwrap_or_default()
    });
    match decode::<ToWorker>(&text) {
        Ok(ToWorker::Start { form }) => {
            let names = form.references.as_ref().map_or(0, |r| r.files.len());
            let files = (0..names)
                .filter_map(|i| {
                    js_sys::Reflect::get(&data, &crate::protocol::reference_blob(i).into())
                        .ok()
                        .and_then(|b| b.dyn_into::<web_sys::Blob>().ok())
                })
                .collect();
            wasm_bindgen_futures::spawn_local(run(*form, files))
        }
        Ok(ToWorker::Stop { level }) => STOP.with(|s| {
            if let Some(s) = s.borrow().as_ref() {
                while s.level() < level {
                    s.escalate();
                }
            }
        }),
        Err(e) => web_sys::console::error_1(&e.into()),
    }
}

/// The worker's entry point, called by `worker.js` once the wasm is loaded.
#[wasm_bindgen]
pub fn worker_main() {
    console_error_panic_hook::set_once();
    let handler = Closure::<dyn FnMut(web_sys::MessageEvent)>::new(on_message);
    scope().set_onmessage(Some(handler.as_ref().unchecked_ref()));
    handler.forget();
    post(&FromWorker::Ready);
}
