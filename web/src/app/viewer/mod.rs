//! The viewer page: a published site's run list (when the app is one),
//! CLI artifacts opened by hand (file picker or drag and drop) or by URL,
//! the runs they make up, and the selected one (table, plots, gallery), a
//! comparison of several, or a sweep. Files opened by hand never leave the
//! browser.

mod compare;
pub mod load;
mod load_telemetry;
pub mod site;
mod sweep;

use crate::app::platform::files::file_list;
use crate::app::report::RunReport;
use crate::route::{to_hash, Route};
use crate::store::Runs;
use compare::Compare;
use leptos::prelude::*;
use leptos::task::spawn_local;
use load::Loaded;
use site::{Feedback, Site};
use sweep::SweepReport;

/// Open each file in turn, adding its run to the store.
fn open_files(runs: Runs, files: Vec<web_sys::File>, fb: Feedback) {
    if files.is_empty() {
        return;
    }
    spawn_local(async move {
        for file in files {
            let name = file.name();
            let size_mb = file.size() / 1e6;
            let id = runs.next_id();
            let progress = |share: f64| {
                fb.status.set(format!(
                    "Reading {name} ({size_mb:.1} MB): {:.0}%",
                    share * 100.0
                ));
            };
            match load::load_file(&file, id, progress).await {
                Ok(Loaded::Run(view)) => {
                    runs.add(*view);
                }
                Ok(Loaded::Sweep(s)) => runs.sweep.set(Some(s)),
                Err(e) => fb.errors.update(|v| v.push(e)),
            }
        }
        fb.status.set(String::new());
    });
}

/// Go to `route` (the app follows the new fragment).
pub fn navigate(route: &Route) {
    if let Some(w) = web_sys::window() {
        let _ = w.location().set_hash(&to_hash(route));
    }
}

/// The run list of a published site, with links and a comparison; folded
/// while a run, a comparison or a sweep is shown.
#[component]
fn SiteRuns(site: Site) -> impl IntoView {
    let picked = RwSignal::new(Vec::<String>::new());
    let runs_store = expect_context::<Runs>();
    let open =
        move || runs_store.selected.with(Vec::is_empty) && runs_store.sweep.with(Option::is_none);
    move || {
        site.index.get().map(|index| {
            let runs = index
                .runs
                .iter()
                .map(|r| {
                    let name = r.name.clone();
                    let n = name.clone();
                    let toggle = move |_| {
                        picked.update(|p| match p.iter().position(|x| *x == n) {
                            Some(i) => {
                                p.remove(i);
                            }
                            None => p.push(n.clone()),
                        })
                    };
                    view! {
                        <tr class="site-run" data-run=name.clone()>
                            <td><input type="checkbox" on:change=toggle/></td>
                            <td><a href=to_hash(&Route::ShowRun(name.clone()))>{r.label.clone()}</a></td>
                            <td>{r.request_count}</td>
                            <td>{r.error_count}</td>
                            <td>{r.image_count}</td>
                            <td class="name">{name.clone()}</td>
                        </tr>
                    }
                })
                .collect_view();
            let sweeps = index
                .sweeps
                .iter()
                .map(|s| {
                    let label = format!("{} ({} points)", s.label, s.points.len());
                    view! { <li><a href=to_hash(&Route::Sweep(s.name.clone()))>{label}</a></li> }
                })
                .collect_view();
            let about = format!("{} runs · published by {} · {}", index.runs.len(), index.generator, index.created.replace('T', " ").chars().take(19).collect::<String>());
            view! {
                <details class="site" prop:open=open>
                    <summary><h2>{index.title.clone().unwrap_or_else(|| "imgperf results".into())}</h2></summary>
                    <p class="note">{about}</p>
                    <table class="site-runs">
                        <thead><tr><th></th><th>"Run"</th><th>"Requests"</th><th>"Errors"</th><th>"Images"</th><th>"Link name"</th></tr></thead>
                        <tbody>{runs}</tbody>
                    </table>
                    <button id="compare-picked" disabled=move || picked.with(|p| p.len() < 2)
                        on:click=move |_| navigate(&Route::Compare(picked.get_untracked()))>"Compare the ticked runs"</button>
                    {(!index.sweeps.is_empty()).then(|| view! { <h3>"Sweeps"</h3><ul class="sweeps">{sweeps}</ul> })}
                </details>
            }
        })
    }
}

/// The viewer page.
#[component]
pub fn ViewerPage() -> impl IntoView {
    let runs = expect_context::<Runs>();
    let site = expect_context::<Site>();
    let fb = expect_context::<Feedback>();
    let dragging = RwSignal::new(false);
    let url = RwSignal::new(String::new());
    let on_pick = move |ev: leptos::ev::Event| {
        let input: web_sys::HtmlInputElement = event_target(&ev);
        let files = file_list(input.files());
        input.set_value("");
        open_files(runs, files, fb);
    };
    let on_drop = move |ev: web_sys::DragEvent| {
        ev.prevent_default();
        dragging.set(false);
        let files = file_list(ev.data_transfer().and_then(|d| d.files()));
        open_files(runs, files, fb);
    };
    let open_url = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let u = url.get_untracked().trim().to_owned();
        if !u.is_empty() {
            navigate(&Route::Open(vec![u]));
        }
    };
    let run_list = move || {
        let selected = runs.selected.get();
        runs.list.with(|list| {
            list.iter()
                .map(|r| {
                    let id = r.id;
                    let checked = selected.contains(&id);
                    let requests = r.summary.as_ref().map_or(r.points.len() as u64, |s| s.request_count + s.error_count);
                    let facts = format!(
                        "{} · {} requests · {} images",
                        if r.files.is_empty() { r.summary_from.clone() } else { r.files.join(", ") },
                        requests,
                        r.images_made()
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
        let sweep = runs.sweep.get().map(|s| view! { <SweepReport sweep=s/> });
        let runs_view = match sel.len() {
            0 if sweep.is_some() => ().into_any(),
            0 => view! { <p class="note">"Open files (or a link) to see a run; tick two or more runs to compare them."</p> }.into_any(),
            1 => view! { <RunReport run=sel[0].clone()/> }.into_any(),
            _ => view! { <Compare runs=sel/> }.into_any(),
        };
        view! { {sweep} {runs_view} }
    };
    view! {
        <section class="viewer">
            <SiteRuns site=site/>
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
                    ": the summary JSON (profile_export_imgperf.json), profile_export.jsonl, profile_export_raw.jsonl, sweep_summary.json. "
                    "Files of one run are merged; files are read in slices, never sent anywhere."
                </p>
                <form class="open-url" on:submit=open_url>
                    <label for="open-url">"Or open by URL (same site, or a host that sends CORS headers): "</label>
                    <input id="open-url" type="url" placeholder="https://example.org/run/profile_export.jsonl"
                        prop:value=move || url.get() on:input=move |ev| url.set(event_target_value(&ev))/>
                    <button type="submit">"Open"</button>
                </form>
                <p class="status">{move || fb.status.get()}</p>
                {move || fb.errors.get().into_iter().map(|e| view! { <p class="error" role="alert">{e}</p> }).collect_view()}
            </div>
            <ul class="runs">{run_list}</ul>
            {shown}
        </section>
    }
}
