//! The runs the page knows (opened in the viewer or run in this page), which
//! of them are selected, and how files of one run are merged: files that
//! share a start time (`start_time` of the summary JSON, the first request
//! start of the JSONL exports) are one run. For the table, the CLI's own
//! summary JSON beats numbers recomputed from a raw export (which measures
//! the images again), which beat those from `profile_export.jsonl` (whose
//! lines carry no image details).

use crate::model::{RunView, SweepView};
use leptos::prelude::*;

/// How trustworthy a run's summary is, by source.
fn rank(from: &str) -> u8 {
    match from {
        "summary JSON" | "this page" => 3,
        "raw export" => 2,
        "records" => 1,
        _ => 0,
    }
}

/// Only telemetry exports (no summary, no requests) so far.
fn telemetry_only(r: &RunView) -> bool {
    r.summary.is_none() && r.points.is_empty() && r.telemetry.is_some()
}

/// Whether a telemetry export and a run (or another telemetry export)
/// belong together: their time spans overlap (the scrapes bracket the
/// requests).
fn same_time(a: &RunView, b: &RunView) -> bool {
    match (a.span_ns, b.span_ns) {
        (Some((a0, a1)), Some((b0, b1))) => {
            (telemetry_only(a) || telemetry_only(b)) && a0 <= b1 && b0 <= a1
        }
        _ => false,
    }
}

/// Add `new` to `runs`, merged into the run with the same start key if any
/// (or, for telemetry exports, the run whose time span they overlap).
/// Returns the id of the run that holds it.
pub fn merge_into(runs: &mut Vec<RunView>, new: RunView) -> u32 {
    let pos = new
        .start_key
        .as_ref()
        .and_then(|k| runs.iter().position(|r| r.start_key.as_ref() == Some(k)))
        .or_else(|| runs.iter().position(|r| same_time(r, &new)));
    let Some(run) = pos.map(|i| &mut runs[i]) else {
        let id = new.id;
        runs.push(new);
        return id;
    };
    if telemetry_only(run) && !telemetry_only(&new) {
        run.label = new.label.clone();
        run.start_key = new.start_key.clone();
        run.span_ns = new.span_ns;
    }
    match (&mut run.telemetry, new.telemetry) {
        (Some(t), Some(n)) => t.merge(n),
        (t @ None, n) => *t = n,
        (Some(_), None) => {}
    }
    run.files.extend(new.files);
    if rank(&new.summary_from) > rank(&run.summary_from) && new.summary.is_some() {
        run.summary = new.summary;
        run.summary_from = new.summary_from.clone();
        run.notes
            .retain(|n| !n.starts_with("Input sequence length"));
        run.notes.extend(
            new.notes
                .iter()
                .filter(|n| !n.starts_with("Input sequence length"))
                .cloned(),
        );
    } else if new.summary_from != "raw export" {
        run.notes.extend(new.notes.iter().cloned());
    }
    if run.points.is_empty() {
        run.points = new.points;
    }
    if run.images.is_empty() {
        run.images = new.images;
    }
    if run.per_size.is_empty() {
        run.per_size = new.per_size;
    }
    if new.config.is_some() {
        run.config = new.config;
        run.label = new.label;
    }
    run.id
}

/// The page's runs and selection, shared by both pages through context.
#[derive(Debug, Clone, Copy)]
pub struct Runs {
    /// Every run, in the order opened.
    pub list: RwSignal<Vec<RunView>>,
    /// Ids of the runs shown (one: its report; several: the comparison).
    pub selected: RwSignal<Vec<u32>>,
    /// A sweep shown above them.
    pub sweep: RwSignal<Option<SweepView>>,
    next: RwSignal<u32>,
}

impl Runs {
    /// No runs.
    pub fn new() -> Self {
        Runs {
            list: RwSignal::new(Vec::new()),
            selected: RwSignal::new(Vec::new()),
            sweep: RwSignal::new(None),
            next: RwSignal::new(1),
        }
    }

    /// A fresh run id.
    pub fn next_id(&self) -> u32 {
        let id = self.next.get_untracked();
        self.next.set(id + 1);
        id
    }

    /// Add (or merge) a run and select it; returns the id of the run that holds it.
    pub fn add(&self, run: RunView) -> u32 {
        let mut id = 0;
        self.list.update(|l| id = merge_into(l, run));
        self.selected.update(|s| {
            if !s.contains(&id) {
                s.push(id);
            }
        });
        id
    }

    /// Forget a run.
    pub fn remove(&self, id: u32) {
        self.list.update(|l| l.retain(|r| r.id != id));
        self.selected.update(|s| s.retain(|x| *x != id));
    }

    /// Select or unselect a run.
    pub fn toggle(&self, id: u32) {
        self.selected.update(|s| {
            if let Some(i) = s.iter().position(|x| *x == id) {
                s.remove(i);
            } else {
                s.push(id);
            }
        });
    }

    /// The selected runs, in selection order.
    pub fn selected_runs(&self) -> Vec<RunView> {
        let sel = self.selected.get();
        self.list.with(|l| {
            sel.iter()
                .filter_map(|id| l.iter().find(|r| r.id == *id).cloned())
                .collect()
        })
    }
}

impl Default for Runs {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use imgperf_core::metrics::SummaryBuilder;

    fn view(id: u32, from: &str, key: &str) -> RunView {
        RunView {
            id,
            label: format!("file {id}"),
            files: vec![format!("f{id}")],
            start_key: Some(key.to_owned()),
            summary: Some(SummaryBuilder::new().finish()),
            summary_from: from.to_owned(),
            points: Vec::new(),
            images: Vec::new(),
            config: None,
            notes: vec![format!("Input sequence length {id}")],
            per_size: Vec::new(),
            span_ns: None,
            telemetry: None,
        }
    }

    #[test]
    fn files_of_one_run_merge_and_the_summary_json_wins() {
        let mut runs = Vec::new();
        assert_eq!(merge_into(&mut runs, view(1, "raw export", "t1")), 1);
        assert_eq!(merge_into(&mut runs, view(2, "records", "t1")), 1);
        assert_eq!(runs[0].summary_from, "raw export");
        let mut summary = view(3, "summary JSON", "t1");
        summary.config = Some(serde_json::json!({"x": 1}));
        summary.notes.clear();
        assert_eq!(merge_into(&mut runs, summary), 1);
        assert_eq!(merge_into(&mut runs, view(4, "raw export", "t2")), 4);
        assert_eq!(runs.len(), 2);
        let r = &runs[0];
        assert_eq!(r.files, ["f1", "f2", "f3"]);
        assert_eq!(
            (r.summary_from.as_str(), r.label.as_str()),
            ("summary JSON", "file 3")
        );
        assert!(r.notes.is_empty(), "{:?}", r.notes);
    }

    #[test]
    fn telemetry_exports_join_the_run_they_overlap() {
        let mut runs = Vec::new();
        let mut records = view(1, "records", "t1");
        records.span_ns = Some((100, 200));
        let tel = |id: u32, span: (u64, u64)| RunView {
            id,
            label: format!("gpu {id}"),
            files: vec![format!("g{id}")],
            start_key: None,
            summary: None,
            summary_from: String::new(),
            points: Vec::new(),
            images: Vec::new(),
            config: None,
            notes: Vec::new(),
            per_size: Vec::new(),
            span_ns: Some(span),
            telemetry: Some(crate::telemetry::TelemetryView::default()),
        };
        // Opened first: the other export and the records join them, and the
        // records give the run its name and time origin.
        assert_eq!(merge_into(&mut runs, tel(2, (90, 210))), 2);
        assert_eq!(
            merge_into(&mut runs, tel(3, (95, 205))),
            2,
            "server metrics too"
        );
        assert_eq!(merge_into(&mut runs, records), 2);
        assert_eq!(runs[0].label, "file 1");
        assert_eq!(runs[0].span_ns, Some((100, 200)));
        assert_eq!(merge_into(&mut runs, tel(4, (500, 600))), 4, "another run");
        assert_eq!(runs[0].files, ["g2", "g3", "f1"]);
    }
}
