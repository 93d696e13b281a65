//! The viewer page: open CLI artifacts (file picker or drag and drop),
//! list the runs they make up, and show the selected one (table, plots,
//! gallery) or compare several. Nothing leaves the browser.

mod compare;
pub mod load;

use crate::app::platform::files::file_list;
use crate::app::report::RunReport;
use crate::store::Runs;
use compare::Compare;
use leptos::prelude::*;
use leptos::task::spawn_local;

/// Open each file in turn, adding its run to the store.
fn open_files(
    runs: Runs,
    files: Vec<web_sys::File>,
    status: RwSignal<String>,
    errors: RwSignal<Vec<String>>,
) {
    if files.is_empty() {
        return;
    }
    spawn_local(async move {
        for file in files {
            let name = file.name();
            let size_mb = file.size() / 1e6;
            let id = runs.next_id();
            let progress = |share: f64| {
                status.set(format!(
                    "Reading {name} ({size_mb:.1} MB): {:.0}%",
                    share * 100.0
                ));
            };
            match load::load_file(&file, id, progress).await {
                Ok(view) => runs.add(view),
                Err(e) => errors.update(|v| v.push(e)),
            }
        }
        status.set(String::new());
    });
}

/// The viewer page.
#[component]
pub fn ViewerPage() -> impl IntoView {
    let runs = expect_context::<Runs>();
    let status = RwSignal::new(String::new());
    let errors = RwSignal::new(Vec::<String>::new());
    let dragging = RwSignal::new(false);
    let on_pick = move |ev: leptos::ev::Event| {
        let input: web_sys::HtmlInputElement = event_target(&ev);
        let files = file_list(input.files());
        input.set_value("");
        open_files(runs, files, status, errors);
    };
    let on_drop = move |ev: web_sys::DragEvent| {
        ev.prevent_default();
        dragging.set(false);
        let files = file_list(ev.data_transfer().and_then(|d| d.files()));
        open_files(runs, files, status, errors);
    };
    let run_list = move || {
        let selected = runs.selected.get();
        runs.list.with(|list| {
            list.iter()
                .map(|r| {
                    let id = r.id;
                    let checked = selected.contains(&id);
                    let n = r.points.len();
                    let facts = format!(
                        "{} · {} requests · {} images",
                        r.files.join(", "),
                        n,
                        r.images.len()
                    );
                    view! {
                        <li class="run-entry">
                            <label>
                                <input type="checkbox" prop:checked=checked on:change=move |_| runs.toggle(id)/>
                                <strong>{r.label.clone()}</strong>
                            </label>
                            <span class="facts">{facts}</span>
                            <button class="remove" on:click=move |_| runs.remove(id)>"remove"</button>
                        </li>
                    }
                })
                .collect_view()
        })
    };
    let shown = move || {
        let sel = runs.selected_runs();
        match sel.len() {
            0 => view! { <p class="note">"Open files to see a run; tick two or more runs to compare them."</p> }.into_any(),
            1 => view! { <RunReport run=sel[0].clone()/> }.into_any(),
            _ => view! { <Compare runs=sel/> }.into_any(),
        }
    };
    view! {
        <section class="viewer">
            <div
                class="dropzone"
                class:dragging=move || dragging.get()
                on:dragover=move |ev: web_sys::DragEvent| {
                    ev.prevent_default();
                    dragging.set(true);
                }
                on:dragleave=move |_| dragging.set(false)
                on:drop=on_drop
            >
                <p>
                    "Drop CLI artifacts here, or "
                    <label class="picker">
                        "choose files"
                        <input id="viewer-files" type="file" multiple accept=".json,.jsonl" on:change=on_pick/>
                    </label>
                    ": the summary JSON (profile_export_imgperf.json), profile_export.jsonl, profile_export_raw.jsonl. "
                    "Files of one run are merged; files are read in slices, never sent anywhere."
                </p>
                <p class="status">{move || status.get()}</p>
                {move || errors.get().into_iter().map(|e| view! { <p class="error">{e}</p> }).collect_view()}
            </div>
            <ul class="runs">{run_list}</ul>
            {shown}
        </section>
    }
}
