//! One run's report (table, notes, plots, telemetry, gallery) and the plots block
//! shared with the comparison.

use crate::app::gallery::Gallery;
use crate::app::table::MetricsTable;
use crate::app::telemetry::TelemetryReport;
use crate::model::RunView;
use crate::plots::{
    latency_cdf, latency_histogram, latency_over_time, size_bars, throughput_over_time, Series,
    SizeSeries, PALETTE,
};
use leptos::prelude::*;

/// The plots of one or more runs (overlaid): latency over time,
/// throughput over time, latency CDF and histogram, and latency per
/// requested size when requests asked for several.
#[component]
pub fn Plots(runs: Vec<RunView>) -> impl IntoView {
    let with_points: Vec<&RunView> = runs.iter().filter(|r| !r.points.is_empty()).collect();
    if with_points.is_empty() {
        return view! {
            <p class="note">"No per-request data to plot (a summary JSON alone has none): open profile_export.jsonl or profile_export_raw.jsonl."</p>
        }
        .into_any();
    }
    let series: Vec<Series<'_>> = with_points
        .iter()
        .enumerate()
        .map(|(i, r)| Series {
            name: &r.label,
            color: PALETTE[i % PALETTE.len()],
            points: &r.points,
        })
        .collect();
    let mut svgs = vec![
        latency_over_time(&series),
        throughput_over_time(&series),
        latency_cdf(&series),
        latency_histogram(&series),
    ];
    let sized: Vec<SizeSeries<'_>> = runs
        .iter()
        .enumerate()
        .filter(|(_, r)| !r.per_size.is_empty())
        .map(|(i, r)| SizeSeries {
            name: &r.label,
            color: PALETTE[i % PALETTE.len()],
            sizes: &r.per_size,
        })
        .collect();
    if !sized.is_empty() {
        svgs.push(size_bars(&sized));
    }
    view! {
        <div class="plots">
            {svgs.into_iter().map(|svg| view! { <div class="plot-box" inner_html=svg></div> }).collect_view()}
        </div>
    }
    .into_any()
}

/// Table, notes, plots and gallery of one run.
#[component]
pub fn RunReport(run: RunView) -> impl IntoView {
    let images = run.images.clone();
    let has_images = !images.is_empty();
    let images = Signal::derive(move || images.clone());
    view! {
        <article class="report" data-run-id=run.id>
            <h2>{run.label.clone()}</h2>
            <p class="sources">
                {format!("Files: {} · table from {}", run.files.join(", "), run.summary_from)}
            </p>
            {run.notes.iter().map(|n| view! { <p class="note">{n.clone()}</p> }).collect_view()}
            {run.summary.clone().map(|s| view! { <MetricsTable summary=s/> })}
            <Plots runs=vec![run.clone()]/>
            <TelemetryReport run=run.clone()/>
            {has_images.then(|| view! { <Gallery images=images/> })}
        </article>
    }
}
