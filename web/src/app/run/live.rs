//! The page's side of a run: what the worker reports, folded into signals
//! the run page shows. Record lines go through core's `import` and the
//! viewer's [`RunBuilder`] (one statistics for every view of a run), and
//! are kept for download with the summary and the raw export the worker
//! sends at the end.

use super::client::{self, blob, Handler};
use crate::app::platform::dom::{bytes_url_of_blob, text_blob, LineStore};
use crate::app::platform::runtime::sleep_ms;
use crate::model::{GalleryImage, ImageSource, InputPreview, InputSource, RunBuilder, RunView};
use crate::protocol::{FromWorker, RunForm, ToWorker};
use crate::store::Runs;
use imgperf_core::export::{self, add_image_report, format_wall_time, RunInfo};
use imgperf_core::import::parse_line;
use imgperf_core::metrics::Summary;
use leptos::prelude::*;
use serde_json::Value;
use std::cell::RefCell;

/// Where the page is in a run.
#[derive(Debug, Clone, PartialEq)]
pub enum State {
    Idle,
    /// Before the first request (what is being done).
    Preparing(String),
    Invalid(String),
    Running,
    Finished {
        was_cancelled: bool,
    },
}

/// The run in progress, as the page accumulates it.
#[derive(Default)]
struct Current {
    form: Option<RunForm>,
    run: RunBuilder,
    records: LineStore,
    raw: Option<web_sys::Blob>,
    cli_command: String,
    input_config: Value,
    summary_json: String,
    summary_csv: String,
    /// Gallery images not shown yet.
    new_images: Vec<GalleryImage>,
    /// A refresh of the table and gallery is due.
    refresh_due: bool,
}

/// Table and gallery are redrawn at most this often during a run (the
/// counters at every record): the page's drawing shares the machine with
/// the worker's sends.
const REFRESH_MS: f64 = 100.0;

thread_local! {
    static CURRENT: RefCell<Current> = RefCell::new(Current::default());
}

/// Offer one of the last run's exports as a download.
pub fn offer(which: &str, download: fn(&str, &web_sys::Blob)) {
    CURRENT.with(|c| {
        let c = c.borrow();
        match which {
            "summary" => download(
                "profile_export_imgperf.json",
                &text_blob(&c.summary_json, "application/json"),
            ),
            "csv" => download(
                "profile_export_imgperf.csv",
                &text_blob(&c.summary_csv, "text/csv"),
            ),
            "records" => download("profile_export.jsonl", &c.records.to_blob()),
            _ => {
                if let Some(raw) = &c.raw {
                    download("profile_export_raw.jsonl", raw);
                }
            }
        }
    });
}

/// Signals the live view reads.
#[derive(Debug, Clone, Copy)]
pub struct Live {
    pub issued: RwSignal<u64>,
    pub done: RwSignal<u64>,
    pub errors: RwSignal<u64>,
    /// Requests that failed before any response (CORS or unreachable).
    pub opaque_errors: RwSignal<u64>,
    pub summary: RwSignal<Option<Summary>>,
    pub images: RwSignal<Vec<GalleryImage>>,
}

impl Live {
    /// All zero.
    pub fn new() -> Self {
        Live {
            issued: RwSignal::new(0),
            done: RwSignal::new(0),
            errors: RwSignal::new(0),
            opaque_errors: RwSignal::new(0),
            summary: RwSignal::new(None),
            images: RwSignal::new(Vec::new()),
        }
    }

    /// Start the form's run in the worker.
    pub fn start(self, form: RunForm, state: RwSignal<State>, runs: Runs) {
        for n in [self.issued, self.done, self.errors, self.opaque_errors] {
            n.set(0);
        }
        self.summary.set(None);
        self.images.set(Vec::new());
        CURRENT.with(|c| {
            *c.borrow_mut() = Current {
                form: Some(form.clone()),
                ..Current::default()
            }
        });
        state.set(State::Preparing("Starting the run worker…".into()));
        // An edit's picked reference files go along as blobs.
        let files = match &form.references {
            Some(r) if r.synthetic.is_none() => super::edit_form::picked_blobs(),
            _ => Vec::new(),
        };
        self.send_with(
            &ToWorker::Start {
                form: Box::new(form),
            },
            &files,
            state,
            runs,
        );
    }

    /// Send a message to the worker (starting it with this page's handler).
    pub fn send(self, msg: &ToWorker, state: RwSignal<State>, runs: Runs) {
        self.send_with(msg, &[], state, runs);
    }

    /// [`Live::send`] with blobs alongside.
    fn send_with(
        self,
        msg: &ToWorker,
        blobs: &[(String, web_sys::Blob)],
        state: RwSignal<State>,
        runs: Runs,
    ) {
        let handlers = move || -> (Handler, Box<dyn Fn(String)>) {
            (
                Box::new(move |m, data| self.on_message(m, data, state, runs)),
                Box::new(move |e| state.set(State::Invalid(e))),
            )
        };
        if let Err(e) = client::send_with(msg, blobs, handlers) {
            state.set(State::Invalid(e));
        }
    }

    fn on_message(
        self,
        msg: FromWorker,
        data: &wasm_bindgen::JsValue,
        state: RwSignal<State>,
        runs: Runs,
    ) {
        match msg {
            FromWorker::Ready => {}
            FromWorker::Preparing { what } => state.set(State::Preparing(what)),
            FromWorker::Invalid { message } => state.set(State::Invalid(message)),
            FromWorker::Started {
                cli_command,
                input_config,
            } => {
                CURRENT.with(|c| {
                    let mut c = c.borrow_mut();
                    (c.cli_command, c.input_config) = (cli_command, input_config);
                });
                state.set(State::Running);
            }
            FromWorker::Issued { count } => self.issued.set(count),
            FromWorker::Record { line } => self.record(&line),
            FromWorker::Image { facts } => {
                let url = |name| blob(data, name).map(|b| bytes_url_of_blob(&b));
                if let Some(thumb) = url("thumb") {
                    let image = GalleryImage {
                        source: ImageSource::Url {
                            src: thumb,
                            full: url("full"),
                        },
                        prompt: facts.prompt,
                        latency_ms: facts.latency_ms,
                        width: facts.width,
                        height: facts.height,
                        format: facts.format,
                        bytes: facts.bytes,
                        input: facts.input.map(|i| InputPreview {
                            source: url("input").map_or(InputSource::NotExported, InputSource::Url),
                            width: i.width,
                            height: i.height,
                            count: i.count,
                        }),
                    };
                    CURRENT.with(|c| c.borrow_mut().new_images.push(image));
                    self.schedule_refresh();
                }
            }
            FromWorker::Finished { was_cancelled } => {
                self.finish(was_cancelled, blob(data, "raw"), runs);
                state.set(State::Finished { was_cancelled });
            }
        }
    }

    /// One finished request's record line.
    fn record(self, line: &str) {
        let Ok(parsed) = parse_line(line) else {
            return web_sys::console::error_1(
                &format!("unreadable record line: {line:.200}").into(),
            );
        };
        let rec = parsed.record;
        if let Some(e) = &rec.error {
            self.errors.update(|n| *n += 1);
            if e.kind == "ConnectionError" {
                self.opaque_errors.update(|n| *n += 1);
            }
        }
        self.done.update(|n| *n += 1);
        CURRENT.with(|c| {
            let mut c = c.borrow_mut();
            c.records.push(line);
            c.run.add(&rec);
        });
        self.schedule_refresh();
    }

    /// Redraw the table and the gallery within [`REFRESH_MS`].
    fn schedule_refresh(self) {
        let due = CURRENT.with(|c| std::mem::replace(&mut c.borrow_mut().refresh_due, true));
        if !due {
            leptos::task::spawn_local(async move {
                sleep_ms(REFRESH_MS).await;
                self.refresh();
            });
        }
    }

    fn refresh(self) {
        let (summary, images) = CURRENT.with(|c| {
            let mut c = c.borrow_mut();
            c.refresh_due = false;
            // Recomputing is O(n log n): every time early on, then every 1%.
            let n = c.run.len();
            let summary =
                (n > 0 && (n < 1000 || n.is_multiple_of(n / 100))).then(|| c.run.finish());
            (summary, std::mem::take(&mut c.new_images))
        });
        if let Some(s) = summary {
            self.summary.set(Some(s));
        }
        if !images.is_empty() {
            self.images.update(|v| v.extend(images));
        }
    }

    /// The run ended: final summary, exports, and the run in the viewer.
    fn finish(self, was_cancelled: bool, raw: Option<web_sys::Blob>, runs: Runs) {
        self.refresh();
        let view = CURRENT.with(|c| {
            let mut c = c.borrow_mut();
            let summary = c.run.finish();
            let info = RunInfo {
                cli_command: c.cli_command.clone(),
                input_config: c.input_config.clone(),
                was_cancelled,
                // Record lines carry epoch times already.
                wall_origin_ns: 0,
            };
            let mut json = export::summary_json(&summary, &info);
            add_image_report(&mut json, &c.run.summary.report());
            c.summary_json = serde_json::to_string_pretty(&json).unwrap_or_default();
            c.summary_csv = export::summary_csv(&summary);
            c.raw = raw;
            self.summary.set(Some(summary.clone()));
            let start_key = c.run.first_start_ns().map(format_wall_time);
            let model = c.form.as_ref().map(|f| f.model.clone()).unwrap_or_default();
            let time: String = start_key
                .as_deref()
                .unwrap_or("")
                .chars()
                .skip(11)
                .take(8)
                .collect();
            RunView {
                id: runs.next_id(),
                label: format!("browser run {time} · {model}"),
                files: Vec::new(),
                start_key,
                summary: Some(summary),
                summary_from: "this page".into(),
                points: c.run.points(),
                images: self.images.get_untracked(),
                config: Some(c.input_config.clone()),
                notes: Vec::new(),
                per_size: c.run.per_size(),
                span_ns: c.run.span_ns(),
                telemetry: None,
            }
        });
        runs.add(view);
    }
}

impl Default for Live {
    fn default() -> Self {
        Self::new()
    }
}
