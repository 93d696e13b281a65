//! The run page: a form for a quick benchmark from the browser against a
//! CORS-enabled server, live progress, the CLI's metrics table, the gallery
//! and downloads in the CLI's formats. The run itself happens in a Web
//! Worker ([`client`], `app::worker`): the page gets progress, one record
//! line per finished request and thumbnails by message, and builds its
//! table from the record lines exactly as the viewer reads
//! `profile_export.jsonl`. The API key lives in a signal and the worker's
//! memory only: never in the URL, storage or any export.

mod client;
mod edit_form;
mod form;
mod live;

use crate::app::gallery::Gallery;
use crate::app::platform::dom::download;
use crate::app::platform::fetch::CORS_HINT;
use crate::app::table::MetricsTable;
use crate::protocol::{RunForm, ToWorker};
use crate::store::Runs;
use form::RunFormView;
use leptos::prelude::*;
use live::{offer, Live, State};

/// The run page.
#[component]
pub fn RunPage() -> impl IntoView {
    let runs = expect_context::<Runs>();
    let live = Live::new();
    let state = RwSignal::new(State::Idle);
    let total = RwSignal::new(0u64);
    let stops = RwSignal::new(0u8);
    let on_run = move |form: RunForm| {
        total.set(form.request_count);
        stops.set(0);
        live.start(form, state, runs);
    };
    let running =
        Signal::derive(move || matches!(state.get(), State::Preparing(_) | State::Running));
    let stop = move |_| {
        let level = (stops.get_untracked() + 1).min(2);
        stops.set(level);
        live.send(&ToWorker::Stop { level }, state, runs);
    };
    let progress = move || {
        let (done, issued, errors) = (live.done.get(), live.issued.get(), live.errors.get());
        let latency = live.summary.with(|s| {
            s.as_ref()
                .and_then(|s| s.get("request_latency"))
                .map(|m| match &m.value {
                    imgperf_core::metrics::MetricValue::Distribution(d) => format!(
                        " · latency so far: avg {:.0} ms, p50 {:.0} ms, max {:.0} ms",
                        d.avg, d.p50, d.max
                    ),
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
        State::Preparing(what) => what,
        State::Invalid(e) => e,
        State::Running => "Running (in a Web Worker: the page stays responsive)…".into(),
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
                    <button class="stop" on:click=stop>
                        {move || if stops.get() == 0 { "Stop" } else { "Stop now (abandon in-flight requests)" }}
                    </button>
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
                    <button on:click=|_| offer("summary", download)>"summary JSON"</button>
                    <button on:click=|_| offer("csv", download)>"summary CSV"</button>
                    <button on:click=|_| offer("records", download)>"profile_export.jsonl"</button>
                    <button on:click=|_| offer("raw", download)>"profile_export_raw.jsonl"</button>
                </div>
            </Show>
            <Show when=move || live.images.with(|v| !v.is_empty())>
                <Gallery images=live.images/>
            </Show>
        </section>
    }
}
