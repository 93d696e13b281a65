//! The run page: a form for a quick benchmark from the browser against a
//! CORS-enabled server, live progress, the CLI's metrics table, the gallery
//! and downloads in the CLI's formats. The API key lives in a signal only:
//! never in the URL, storage or any export.

mod form;
pub mod session;

use crate::app::gallery::Gallery;
use crate::app::platform::dom::{download, text_blob, LineStore};
use crate::app::platform::fetch::CORS_HINT;
use crate::app::table::MetricsTable;
use crate::model::RunView;
use crate::store::Runs;
use form::RunFormView;
use imgperf_core::export::{self, format_wall_time, RunInfo};
use imgperf_core::stop::StopSignal;
use leptos::prelude::*;
use leptos::task::spawn_local;
use session::{execute, prepare, Live, RunForm};
use std::cell::RefCell;

/// The last run's downloadable exports (browser memory, not the wasm heap).
struct Downloads {
    summary_json: String,
    summary_csv: String,
    records: LineStore,
    raw: LineStore,
}

thread_local! {
    static LAST: RefCell<Option<Downloads>> = const { RefCell::new(None) };
    static STOP: RefCell<Option<StopSignal>> = const { RefCell::new(None) };
}

fn offer(which: &str) {
    LAST.with(|l| {
        let l = l.borrow();
        let Some(d) = l.as_ref() else { return };
        match which {
            "summary" => download(
                "profile_export_imgperf.json",
                &text_blob(&d.summary_json, "application/json"),
            ),
            "csv" => download(
                "profile_export_imgperf.csv",
                &text_blob(&d.summary_csv, "text/csv"),
            ),
            "records" => download("profile_export.jsonl", &d.records.to_blob()),
            _ => download("profile_export_raw.jsonl", &d.raw.to_blob()),
        }
    });
}

/// Run the form's benchmark in the page.
fn start(form: RunForm, live: Live, state: RwSignal<State>, runs: Runs) {
    live.reset();
    LAST.with(|l| *l.borrow_mut() = None);
    state.set(State::Preparing);
    spawn_local(async move {
        let prep = match prepare(&form).await {
            Ok(p) => p,
            Err(e) => return state.set(State::Invalid(e)),
        };
        let stop = StopSignal::new();
        STOP.with(|s| *s.borrow_mut() = Some(stop.clone()));
        state.set(State::Running);
        let (cli_command, input_config) = (prep.cli_command.clone(), prep.input_config.clone());
        let done = execute(prep, live, stop).await;
        STOP.with(|s| *s.borrow_mut() = None);
        let summary = done.sink.run.finish();
        let info = RunInfo {
            cli_command,
            input_config: input_config.clone(),
            was_cancelled: done.outcome.was_cancelled,
            wall_origin_ns: done.wall_origin_ns,
        };
        let summary_json = serde_json::to_string_pretty(&export::summary_json(&summary, &info))
            .unwrap_or_default();
        let start_key = done
            .sink
            .run
            .first_start_ns()
            .map(|t| format_wall_time(done.wall_origin_ns + t));
        let label = format!(
            "browser run {} · {}",
            start_key
                .as_deref()
                .unwrap_or("")
                .chars()
                .skip(11)
                .take(8)
                .collect::<String>(),
            form.model
        );
        runs.add(RunView {
            id: runs.next_id(),
            label,
            files: Vec::new(),
            start_key,
            summary: Some(summary.clone()),
            summary_from: "this page".into(),
            points: done.sink.run.points(),
            images: live.images.get_untracked(),
            config: Some(input_config),
            notes: Vec::new(),
        });
        LAST.with(|l| {
            *l.borrow_mut() = Some(Downloads {
                summary_json,
                summary_csv: export::summary_csv(&summary),
                records: done.sink.records,
                raw: done.sink.raw,
            })
        });
        state.set(State::Finished {
            was_cancelled: done.outcome.was_cancelled,
        });
    });
}

/// Where the page is in a run.
#[derive(Debug, Clone, PartialEq)]
pub enum State {
    Idle,
    Preparing,
    Invalid(String),
    Running,
    Finished { was_cancelled: bool },
}

/// The run page.
#[component]
pub fn RunPage() -> impl IntoView {
    let runs = expect_context::<Runs>();
    let live = Live::new();
    let state = RwSignal::new(State::Idle);
    let total = RwSignal::new(0u64);
    let on_run = move |form: RunForm| {
        total.set(form.request_count);
        start(form, live, state, runs);
    };
    let running = Signal::derive(move || matches!(state.get(), State::Preparing | State::Running));
    let stop = move |_| {
        STOP.with(|s| {
            if let Some(s) = s.borrow().as_ref() {
                s.escalate();
            }
        })
    };
    let progress = move || {
        let (done, issued, errors) = (live.done.get(), live.issued.get(), live.errors.get());
        let latency = live.summary.with(|s| {
            s.as_ref()
                .and_then(|s| s.get("request_latency"))
                .map(|m| match &m.value {
                    imgperf_core::metrics::MetricValue::Distribution(d) => {
                        format!(
                            " · latency so far: avg {:.0} ms, p50 {:.0} ms, max {:.0} ms",
                            d.avg, d.p50, d.max
                        )
                    }
                    imgperf_core::metrics::MetricValue::Scalar(_) => String::new(),
                })
        });
        format!(
            "{done} / {} done · {errors} errors · {} in flight{}",
            total.get(),
            issued.saturating_sub(done),
            latency.unwrap_or_default()
        )
    };
    let status = move || match state.get() {
        State::Idle => String::new(),
        State::Preparing => "Preparing prompts…".into(),
        State::Invalid(e) => e,
        State::Running => "Running…".into(),
        State::Finished {
            was_cancelled: true,
        } => "Stopped early; the results below cover the requests that finished.".into(),
        State::Finished { .. } => {
            "Finished. The run is also in the Viewer tab, to compare with CLI runs.".into()
        }
    };
    let finished = move || matches!(state.get(), State::Finished { .. });
    view! {
        <section class="run-page">
            <RunFormView on_run=on_run running=running/>
            <div class="run-controls">
                <Show when=move || running.get()>
                    <button class="stop" on:click=stop>"Stop (again: abandon in-flight requests)"</button>
                </Show>
                <p class="status" class:invalid=move || matches!(state.get(), State::Invalid(_))>{status}</p>
            </div>
            <Show when=move || { live.issued.get() > 0 || finished() }>
                <p class="progress" id="progress">{progress}</p>
            </Show>
            <Show when=move || { live.opaque_errors.get() > 0 }>
                <div class="cors-error" role="alert">
                    <strong>{move || format!("{} requests failed before any response: ", live.opaque_errors.get())}</strong>
                    {CORS_HINT}
                </div>
            </Show>
            {move || live.summary.get().map(|s| view! { <MetricsTable summary=s/> })}
            <Show when=finished>
                <div class="downloads">
                    "Download (the CLI's formats): "
                    <button on:click=|_| offer("summary")>"summary JSON"</button>
                    <button on:click=|_| offer("csv")>"summary CSV"</button>
                    <button on:click=|_| offer("records")>"profile_export.jsonl"</button>
                    <button on:click=|_| offer("raw")>"profile_export_raw.jsonl"</button>
                </div>
            </Show>
            <Show when=move || live.images.with(|v| !v.is_empty())>
                <Gallery images=live.images/>
            </Show>
        </section>
    }
}
