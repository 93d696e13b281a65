//! The browser half of the app: pages, components and the platform glue,
//! [`App`], the two tabs that share the list of runs, and the run worker.

pub mod gallery;
pub mod platform;
pub mod report;
pub mod run;
pub mod table;
pub mod viewer;
pub mod worker;

use crate::store::Runs;
use leptos::prelude::*;
use run::RunPage;
use viewer::ViewerPage;
use wasm_bindgen::prelude::wasm_bindgen;
use wasm_bindgen::JsCast;

/// Which page is shown; `#viewer` in the URL opens the viewer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tab {
    Run,
    Viewer,
}

fn tab_from_hash() -> Tab {
    let hash = web_sys::window()
        .and_then(|w| w.location().hash().ok())
        .unwrap_or_default();
    if hash == "#viewer" {
        Tab::Viewer
    } else {
        Tab::Run
    }
}

fn set_hash(tab: Tab) {
    if let Some(w) = web_sys::window() {
        let _ = w.location().set_hash(match tab {
            Tab::Run => "run",
            Tab::Viewer => "viewer",
        });
    }
}

/// The whole app: two tabs sharing the list of runs.
#[component]
pub fn App() -> impl IntoView {
    provide_context(Runs::new());
    let tab = RwSignal::new(tab_from_hash());
    let go = move |t: Tab| {
        tab.set(t);
        set_hash(t);
    };
    view! {
        <header>
            <h1>"imgperf"</h1>
            <nav>
                <button id="tab-run" class:active=move || tab.get() == Tab::Run on:click=move |_| go(Tab::Run)>"Run"</button>
                <button id="tab-viewer" class:active=move || tab.get() == Tab::Viewer on:click=move |_| go(Tab::Viewer)>"Viewer"</button>
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
