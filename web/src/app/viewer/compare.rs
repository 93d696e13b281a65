//! Several runs side by side: one column per run for the chosen statistic,
//! with the change from the first run, and the plots overlaid.

use crate::app::report::Plots;
use crate::model::RunView;
use crate::plots::PALETTE;
use imgperf_core::metrics::MetricValue;
use imgperf_core::table::{format_number, ROWS};
use leptos::prelude::*;

/// Statistics one can compare on.
const STATS: [&str; 5] = ["avg", "p50", "p90", "p99", "max"];

fn stat_of(run: &RunView, tag: &str, stat: &str) -> Option<f64> {
    let m = run.summary.as_ref()?.get(tag)?;
    Some(match &m.value {
        MetricValue::Scalar(v) => *v,
        MetricValue::Distribution(s) => match stat {
            "p50" => s.p50,
            "p90" => s.p90,
            "p99" => s.p99,
            "max" => s.max,
            _ => s.avg,
        },
    })
}

/// `+12.3%` (the change from `base` to `v`), or `=` when equal.
pub fn delta(base: f64, v: f64) -> String {
    if base == v {
        return "=".into();
    }
    if base == 0.0 {
        return "new".into();
    }
    format!("{:+.1}%", (v - base) / base.abs() * 100.0)
}

/// The comparison of `runs` (two or more).
#[component]
pub fn Compare(runs: Vec<RunView>) -> impl IntoView {
    let stat = RwSignal::new("avg");
    let table_runs = runs.clone();
    let table = move || {
        let st = stat.get();
        let runs = &table_runs;
        let rows = ROWS
            .iter()
            .filter(|d| runs.iter().any(|r| stat_of(r, d.tag, st).is_some()))
            .map(|d| {
                let base = stat_of(&runs[0], d.tag, st);
                let cells = runs
                    .iter()
                    .enumerate()
                    .map(|(i, r)| {
                        let v = stat_of(r, d.tag, st);
                        let text = v.map_or("-".to_owned(), format_number);
                        let change = match (i, base, v) {
                            (0, _, _) => String::new(),
                            (_, Some(b), Some(v)) => delta(b, v),
                            _ => String::new(),
                        };
                        view! { <td>{text}</td><td class="delta">{change}</td> }
                    })
                    .collect_view();
                view! { <tr data-metric=d.tag><th scope="row">{d.label()}</th>{cells}</tr> }
            })
            .collect_view();
        view! {
            <table class="metrics compare">
                <thead>
                    <tr>
                        <th>"Metric"</th>
                        {runs
                            .iter()
                            .enumerate()
                            .map(|(i, r)| {
                                let style = format!("border-top: 4px solid {}", PALETTE[i % PALETTE.len()]);
                                view! { <th style=style>{r.label.clone()}</th><th>{if i == 0 { "" } else { "Δ vs first" }}</th> }
                            })
                            .collect_view()}
                    </tr>
                </thead>
                <tbody>{rows}</tbody>
            </table>
        }
    };
    view! {
        <article class="compare-view">
            <h2>{format!("Comparing {} runs", runs.len())}</h2>
            <label>
                "Statistic for distributions: "
                <select on:change=move |ev| {
                    let v = event_target_value(&ev);
                    stat.set(STATS.iter().copied().find(|s| *s == v).unwrap_or("avg"));
                }>
                    {STATS.iter().map(|s| view! { <option value=*s>{*s}</option> }).collect_view()}
                </select>
            </label>
            {table}
            <Plots runs=runs.clone()/>
        </article>
    }
}
