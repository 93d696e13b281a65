//! A sweep's page: one row per point of the grid (its parameters,
//! requests, throughputs and latency percentiles, from each point's own
//! summary), latency against throughput as a curve, and a link to each
//! point's run when the site published it.

use crate::model::SweepView;
use crate::plots::{sweep_curve, SweepPoint};
use crate::route::{to_hash, Route};
use imgperf_core::metrics::{MetricValue, Summary};
use imgperf_core::table::format_number;
use leptos::prelude::*;

fn stat(s: &Summary, tag: &str, pick: Pick) -> Option<f64> {
    match &s.get(tag)?.value {
        MetricValue::Distribution(d) => Some(pick(d)),
        MetricValue::Scalar(v) => Some(*v),
    }
}

/// Picks one figure of a distribution.
type Pick = fn(&imgperf_core::stats::Stats) -> f64;

/// Columns: header, metric tag, statistic.
const COLUMNS: [(&str, &str, Pick); 7] = [
    ("Requests", "request_count", |d| d.avg),
    ("Errors", "error_request_count", |d| d.avg),
    ("Request throughput (req/s)", "request_throughput", |d| {
        d.avg
    }),
    ("Image throughput (img/s)", "image_throughput", |d| d.avg),
    ("Latency avg (ms)", "request_latency", |d| d.avg),
    ("Latency p50 (ms)", "request_latency", |d| d.p50),
    ("Latency p99 (ms)", "request_latency", |d| d.p99),
];

/// The sweep page.
#[component]
pub fn SweepReport(sweep: SweepView) -> impl IntoView {
    let curve: Vec<SweepPoint> = sweep
        .points
        .iter()
        .map(|p| SweepPoint {
            name: p.name(),
            throughput: stat(&p.summary, "request_throughput", |d| d.avg).unwrap_or(0.0),
            p50: stat(&p.summary, "request_latency", |d| d.p50).unwrap_or(0.0),
            p99: stat(&p.summary, "request_latency", |d| d.p99).unwrap_or(0.0),
        })
        .collect();
    let rows = sweep
        .points
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let name = p.name();
            let link = sweep.runs.get(i).cloned().flatten();
            let cells = COLUMNS
                .iter()
                .map(|(_, tag, pick)| {
                    let v = stat(&p.summary, tag, *pick);
                    view! { <td>{v.map_or("-".to_owned(), format_number)}</td> }
                })
                .collect_view();
            let point = match link {
                Some(run) => view! { <a href=to_hash(&Route::ShowRun(run))>{name}</a> }.into_any(),
                None => view! { <span>{name}</span> }.into_any(),
            };
            view! { <tr class="sweep-point"><th scope="row">{point}</th>{cells}</tr> }
        })
        .collect_view();
    let compare = {
        let names: Vec<String> = sweep.runs.iter().flatten().cloned().collect();
        (names.len() > 1).then(|| view! {
            <a class="compare-all" href=to_hash(&Route::Compare(names))>"Compare every point"</a>
        })
    };
    view! {
        <article class="sweep-view">
            <h2>{format!("{} ({} points)", sweep.label, sweep.points.len())}</h2>
            <table class="metrics sweep">
                <thead><tr><th>"Point"</th>{COLUMNS.iter().map(|(h, _, _)| view! { <th>{*h}</th> }).collect_view()}</tr></thead>
                <tbody>{rows}</tbody>
            </table>
            {compare}
            <div class="plots"><div class="plot-box" inner_html=sweep_curve(&curve)></div></div>
        </article>
    }
}
