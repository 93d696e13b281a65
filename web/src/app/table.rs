//! The metrics table as HTML: the CLI's rows, columns and number format
//! (from core's `table` module), then the grouped errors.

use imgperf_core::metrics::Summary;
use imgperf_core::table;
use leptos::prelude::*;

/// "Image (or Video) Generation Metrics", exactly the rows and digits the CLI prints.
#[component]
pub fn MetricsTable(summary: Summary) -> impl IntoView {
    let rows = table::rows(&summary);
    let errors = table::error_lines(&summary);
    let error_count = summary.error_count;
    let title = table::title(&summary);
    view! {
        <table class="metrics">
            <caption>{title}</caption>
            <thead>
                <tr>{table::HEADER.iter().map(|h| view! { <th>{*h}</th> }).collect_view()}</tr>
            </thead>
            <tbody>
                {rows
                    .into_iter()
                    .map(|row| {
                        let label = row.label();
                        let tag = row.def.tag;
                        view! {
                            <tr data-metric=tag>
                                <th scope="row">{label}</th>
                                {row.cells().into_iter().map(|c| view! { <td>{c}</td> }).collect_view()}
                            </tr>
                        }
                    })
                    .collect_view()}
            </tbody>
        </table>
        {(!errors.is_empty())
            .then(|| {
                view! {
                    <div class="errors">
                        <p>{format!("Errors ({error_count} requests):")}</p>
                        <pre>{errors.join("\n")}</pre>
                    </div>
                }
            })}
    }
}
