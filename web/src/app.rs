//! The browser half of the app: pages, components and the platform glue,
//! [`App`], the two tabs that share the list of runs, and the run worker.

pub mod gallery;
pub mod platform;
pub mod report;
pub mod run;
pub mod table;
pub mod telemetry;
pub mod viewer;
pub mod worker;

use crate::route::{self, Route};
use crate::store::Runs;
use leptos::prelude::*;
use leptos::task::spawn_local;
use run::RunPage;
use viewer::site::{site_index_path, Feedback, Site};
use viewer::ViewerPage;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

/// Which page is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tab {
    Run,
    Viewer,
}

fn current_hash() -> String {
    web_sys::window()
        .and_then(|w| w.location().hash().ok())
        .unwrap_or_default()
}

/// The whole app: two tabs sharing the list of runs; the fragment of the
/// URL ([`route`]) picks the tab and opens deep links. A published site
/// opens on its run list.
#[component]
pub fn App() -> impl IntoView {
    let runs = Runs::new();
    let site = Site::new();
    let fb = Feedback {
        status: RwSignal::new(String::new()),
        errors: RwSignal::new(Vec::new()),
    };
    provide_context(runs);
    provide_context(site);
    provide_context(fb);
    let is_site = site_index_path().is_some();
    let route = RwSignal::new(route::parse(&current_hash()));
    let on_hash = Closure::<dyn Fn()>::new(move || route.set(route::parse(&current_hash())));
    if let Some(w) = web_sys::window() {
        w.set_onhashchange(Some(on_hash.as_ref().unchecked_ref()));
    }
    on_hash.forget();
    // The site's index first, then the link the page was opened with.
    spawn_local(async move {
        site.load_index(fb).await;
        site.follow(route.get_untracked(), runs, fb).await;
    });
    Effect::new(move |first: Option<()>| {
        let r = route.get();
        if first.is_some() {
            spawn_local(site.follow(r, runs, fb));
        }
    });
    let tab = Memo::new(move |_| match route.get() {
        Route::Run => Tab::Run,
        Route::Home if !is_site => Tab::Run,
        _ => Tab::Viewer,
    });
    let go = move |r: Route| viewer::navigate(&r);
    view! {
        <header>
            <h1>"imgperf"</h1>
            <nav>
                <button id="tab-run" class:active=move || tab.get() == Tab::Run on:click=move |_| go(Route::Run)>"Run"</button>
                <button id="tab-viewer" class:active=move || tab.get() == Tab::Viewer on:click=move |_| go(Route::Viewer)>"Viewer"</button>
            </nav>
        </header>
        <main>
            // Both pages stay mounted so a run goes on while the viewer is open.
            <div class:hidden=move || tab.get() != Tab::Run><RunPage/></div>
            <div class:hidden=move || tab.get() != Tab::Viewer><ViewerPage/></div>
        </main>
    }
}

/// Bytes of the app's wasm linear memory (it only grows): for memory
/// measurements from outside (`window.wasmBindings.wasm_memory_bytes()`).
#[wasm_bindgen]
pub fn wasm_memory_bytes() -> f64 {
    let memory: js_sys::WebAssembly::Memory = wasm_bindgen::memory().unchecked_into();
    js_sys::ArrayBuffer::from(memory.buffer()).byte_length() as f64
}
