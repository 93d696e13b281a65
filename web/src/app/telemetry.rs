//! A run's telemetry in its report: the "GPU Telemetry" table and the
//! energy lines (core's rows and words, as the CLI prints them), the server
//! queue table, and power, utilization and queue over time on the
//! requests' time axis.

use crate::model::RunView;
use crate::plots::telemetry_timeline;
use imgperf_core::metrics::SummaryBuilder;
use imgperf_core::telemetry::table;
use leptos::prelude::*;

fn html_table(
    class: &'static str,
    title: &str,
    header: Vec<String>,
    rows: Vec<Vec<String>>,
) -> impl IntoView {
    view! {
        <table class=format!("telemetry-table {class}")>
            <caption>{title.to_owned()}</caption>
            <thead><tr>{header.into_iter().map(|h| view! { <th>{h}</th> }).collect_view()}</tr></thead>
            <tbody>
                {rows.into_iter().map(|r| view! {
                    <tr>{r.into_iter().map(|c| view! { <td>{c}</td> }).collect_view()}</tr>
                }).collect_view()}
            </tbody>
        </table>
    }
}

/// Tables, notes and time series of the run's telemetry (nothing without any).
#[component]
pub fn TelemetryReport(run: RunView) -> impl IntoView {
    let Some(t) = run.telemetry.clone() else {
        return ().into_any();
    };
    let summary = run
        .summary
        .clone()
        .unwrap_or_else(|| SummaryBuilder::new().finish());
    let mut blocks = Vec::new();
    let mut notes = Vec::new();
    if let Some(g) = &t.gpu {
        if !g.gpus.is_empty() {
            let header = table::GPU_HEADER.map(String::from).to_vec();
            blocks.push(
                html_table(
                    "gpu-telemetry",
                    table::GPU_TITLE,
                    header,
                    table::gpu_rows(g),
                )
                .into_any(),
            );
        }
        notes.extend(table::gpu_notes(g, &summary));
    }
    if let Some(s) = &t.server {
        if let Some((header, rows)) = table::queue_table(s) {
            blocks.push(html_table("server-queue", table::SERVER_TITLE, header, rows).into_any());
        }
        notes.extend(table::server_notes(s));
    }
    let origin = run
        .span_ns
        .map(|s| s.0)
        .or(t.timeline.span.map(|s| s.0))
        .unwrap_or(0);
    let panels = telemetry_timeline(&run.points, origin, &t.timeline);
    view! {
        <section class="telemetry">
            {blocks}
            {notes.into_iter().map(|n| view! { <p class="note">{n}</p> }).collect_view()}
            {(!panels.is_empty()).then(|| view! {
                <div class="timeline">
                    {panels.into_iter().map(|svg| view! { <div class="plot-box" inner_html=svg></div> }).collect_view()}
                </div>
            })}
        </section>
    }
    .into_any()
}
