//! The page's handle on the run worker: started on the first run (the
//! browser fetches `worker.js`, which loads the app's wasm a second time,
//! from the cache), kept for later runs. Messages wait until the worker
//! says it is ready; what it posts back goes to one handler. A message goes
//! as its JSON text, or with blobs (an edit's picked reference files) as an
//! object: the text under `msg`, each blob under its name.

use crate::protocol::{decode, encode, FromWorker, ToWorker};
use std::cell::RefCell;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

/// Script that starts the worker, next to `index.html`.
pub const WORKER_SCRIPT: &str = "worker.js";

/// A message from the worker and the object it came in (for its blobs).
pub type Handler = Box<dyn Fn(FromWorker, &JsValue)>;

struct RunWorker {
    worker: web_sys::Worker,
    ready: bool,
    waiting: Vec<JsValue>,
}

thread_local! {
    static WORKER: RefCell<Option<RunWorker>> = const { RefCell::new(None) };
}

/// A blob posted alongside a message, by name.
pub fn blob(data: &JsValue, name: &str) -> Option<web_sys::Blob> {
    js_sys::Reflect::get(data, &name.into())
        .ok()
        .and_then(|b| b.dyn_into().ok())
}

fn start(handler: Handler, on_error: Box<dyn Fn(String)>) -> Result<web_sys::Worker, String> {
    let opts = web_sys::WorkerOptions::new();
    opts.set_type(web_sys::WorkerType::Module);
    let worker = web_sys::Worker::new_with_options(WORKER_SCRIPT, &opts)
        .map_err(|e| format!("cannot start the run worker ({WORKER_SCRIPT}): {e:?}"))?;
    let on_message =
        Closure::<dyn Fn(web_sys::MessageEvent)>::new(move |ev: web_sys::MessageEvent| {
            let data = ev.data();
            let text = js_sys::Reflect::get(&data, &"msg".into())
                .ok()
                .and_then(|m| m.as_string())
                .unwrap_or_default();
            match decode::<FromWorker>(&text) {
                Ok(FromWorker::Ready) => flush(),
                Ok(msg) => handler(msg, &data),
                Err(e) => web_sys::console::error_1(&e.into()),
            }
        });
    worker.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    on_message.forget();
    let on_err = Closure::<dyn Fn(web_sys::ErrorEvent)>::new(move |ev: web_sys::ErrorEvent| {
        on_error(format!(
            "The run worker failed: {} ({WORKER_SCRIPT} must be served next to index.html)",
            ev.message()
        ));
    });
    worker.set_onerror(Some(on_err.as_ref().unchecked_ref()));
    on_err.forget();
    Ok(worker)
}

/// Send what waited for the worker to be ready.
fn flush() {
    WORKER.with(|w| {
        if let Some(w) = w.borrow_mut().as_mut() {
            w.ready = true;
            for m in w.waiting.drain(..) {
                let _ = w.worker.post_message(&m);
            }
        }
    });
}

/// Send `msg` to the worker with `blobs` alongside, by name, starting it
/// (with `handler` for its answers) if it is not running yet.
pub fn send_with(
    msg: &ToWorker,
    blobs: &[(String, web_sys::Blob)],
    handler: impl FnOnce() -> (Handler, Box<dyn Fn(String)>),
) -> Result<(), String> {
    let text: JsValue = if blobs.is_empty() {
        encode(msg).into()
    } else {
        let obj = js_sys::Object::new();
        let _ = js_sys::Reflect::set(&obj, &"msg".into(), &encode(msg).into());
        for (name, b) in blobs {
            let _ = js_sys::Reflect::set(&obj, &name.as_str().into(), b);
        }
        obj.into()
    };
    WORKER.with(|w| {
        let mut w = w.borrow_mut();
        if w.is_none() {
            let (h, e) = handler();
            *w = Some(RunWorker {
                worker: start(h, e)?,
                ready: false,
                waiting: Vec::new(),
            });
        }
        let w = w.as_mut().expect("started above");
        if w.ready {
            let _ = w.worker.post_message(&text);
        } else {
            w.waiting.push(text);
        }
        Ok(())
    })
}
