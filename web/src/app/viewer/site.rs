//! Results opened by link: a published site's runs and sweeps (its
//! `runs.json`, read when `index.html` carries core's `SITE_META`), and
//! files on any host (`#/open?url=`). Following a [`Route`] loads what it
//! names (each run file through the same reader as a file picked by hand,
//! the gallery from the site's thumbnails) and selects it.

use super::load::{load_file, Loaded};
use crate::app::platform::remote::{fetch_file, fetch_json};
use crate::model::{GalleryImage, ImageSource, SweepView};
use crate::route::Route;
use crate::store::Runs;
use imgperf_core::import::parse_sweep_summary;
use imgperf_core::site::{GalleryEntry, SiteIndex, SiteRun, SITE_META};
use leptos::prelude::*;
use serde_json::Value;

/// The published site this app belongs to, if any, and its runs loaded so far.
#[derive(Debug, Clone, Copy)]
pub struct Site {
    /// `runs.json`, once read.
    pub index: RwSignal<Option<SiteIndex>>,
    /// `(site run name, run id)` of the runs loaded.
    loaded: RwSignal<Vec<(String, u32)>>,
}

/// Where feedback goes: a status line and errors.
#[derive(Debug, Clone, Copy)]
pub struct Feedback {
    pub status: RwSignal<String>,
    pub errors: RwSignal<Vec<String>>,
}

impl Feedback {
    fn error(&self, e: String) {
        self.errors.update(|v| v.push(e));
    }
}

/// The index's path, when this page is a published site.
pub fn site_index_path() -> Option<String> {
    let doc = web_sys::window()?.document()?;
    let meta = doc
        .query_selector(&format!("meta[name=\"{SITE_META}\"]"))
        .ok()??;
    meta.get_attribute("content")
}

impl Site {
    /// No site yet.
    pub fn new() -> Self {
        Site {
            index: RwSignal::new(None),
            loaded: RwSignal::new(Vec::new()),
        }
    }

    /// Read the site's index, if this page is one.
    pub async fn load_index(self, fb: Feedback) {
        let Some(path) = site_index_path() else {
            return;
        };
        match fetch_json::<SiteIndex>(&path).await {
            Ok(index) => self.index.set(Some(index)),
            Err(e) => fb.error(format!(
                "This published site's index could not be read: {e}"
            )),
        }
    }

    fn run(&self, name: &str) -> Option<SiteRun> {
        self.index.with_untracked(|i| {
            i.as_ref()
                .and_then(|i| i.runs.iter().find(|r| r.name == name).cloned())
        })
    }

    /// The id of the site's run `name`, loading it first if needed.
    async fn ensure(self, name: &str, runs: Runs, fb: Feedback) -> Option<u32> {
        if let Some(id) = self
            .loaded
            .with_untracked(|l| l.iter().find(|(n, _)| n == name).map(|(_, id)| *id))
        {
            return Some(id);
        }
        let Some(run) = self.run(name) else {
            fb.error(format!(
                "No run named {name:?} in this site: pick one from the list."
            ));
            return None;
        };
        let files = [&run.files.summary, &run.files.records];
        let mut id = None;
        for url in files.into_iter().flatten() {
            fb.status.set(format!("Loading {url}…"));
            match open_url(url, runs, fb).await {
                Some(Opened::Run(i)) => id = Some(i),
                Some(Opened::Sweep) | None => {}
            }
        }
        let id = id?;
        let images = match &run.files.images {
            Some(url) => fetch_json::<Vec<GalleryEntry>>(url)
                .await
                .unwrap_or_else(|e| {
                    fb.error(e);
                    Vec::new()
                }),
            None => Vec::new(),
        };
        runs.list.update(|l| {
            if let Some(v) = l.iter_mut().find(|v| v.id == id) {
                v.label = run.label.clone();
                v.images = images.into_iter().map(gallery_image).collect();
            }
        });
        self.loaded.update(|l| l.push((name.to_owned(), id)));
        Some(id)
    }

    /// Load what `route` names and show it.
    pub async fn follow(self, route: Route, runs: Runs, fb: Feedback) {
        fb.errors.set(Vec::new());
        match route {
            Route::ShowRun(name) => {
                if let Some(id) = self.ensure(&name, runs, fb).await {
                    runs.sweep.set(None);
                    runs.selected.set(vec![id]);
                }
            }
            Route::Compare(names) => {
                let mut ids = Vec::new();
                for n in &names {
                    ids.extend(self.ensure(n, runs, fb).await);
                }
                runs.sweep.set(None);
                runs.selected.set(ids);
            }
            Route::Sweep(name) => self.show_sweep(&name, runs, fb).await,
            Route::Open(urls) => {
                if urls.is_empty() {
                    fb.error("#/open needs ?url=<address of a summary JSON or export>".into());
                }
                for u in &urls {
                    open_url(u, runs, fb).await;
                }
            }
            Route::Home | Route::Run | Route::Viewer => {}
        }
        fb.status.set(String::new());
    }

    async fn show_sweep(self, name: &str, runs: Runs, fb: Feedback) {
        let Some(sweep) = self.index.with_untracked(|i| {
            i.as_ref()
                .and_then(|i| i.sweeps.iter().find(|s| s.name == name).cloned())
        }) else {
            return fb.error(format!("No sweep named {name:?} in this site."));
        };
        match fetch_json::<Value>(&sweep.summary)
            .await
            .and_then(|j| parse_sweep_summary(&j).map_err(|e| format!("{}: {e}", sweep.summary)))
        {
            Ok(points) => {
                let names = sweep.points.iter().cloned().map(Some).collect();
                runs.selected.set(Vec::new());
                runs.sweep.set(Some(SweepView {
                    label: sweep.label.clone(),
                    points,
                    runs: names,
                }));
            }
            Err(e) => fb.error(e),
        }
    }
}

impl Default for Site {
    fn default() -> Self {
        Self::new()
    }
}

fn gallery_image(g: GalleryEntry) -> GalleryImage {
    GalleryImage {
        source: ImageSource::Url {
            src: g.src,
            full: g.full,
        },
        prompt: g.prompt,
        latency_ms: g.latency_ms,
        width: g.width,
        height: g.height,
        format: g.format,
        bytes: g.bytes,
        input: None,
    }
}

/// What opening a URL gave.
pub enum Opened {
    /// A run (id).
    Run(u32),
    /// A sweep, now shown.
    Sweep,
}

/// Fetch `url` and open it as a file would be opened.
pub async fn open_url(url: &str, runs: Runs, fb: Feedback) -> Option<Opened> {
    fb.status.set(format!("Loading {url}…"));
    let file = match fetch_file(url).await {
        Ok(f) => f,
        Err(e) => {
            fb.error(e);
            return None;
        }
    };
    let progress = |share: f64| {
        fb.status
            .set(format!("Reading {url}: {:.0}%", share * 100.0))
    };
    match load_file(&file, runs.next_id(), progress).await {
        Ok(Loaded::Run(view)) => Some(Opened::Run(runs.add(*view))),
        Ok(Loaded::Sweep(sweep)) => {
            runs.sweep.set(Some(sweep));
            Some(Opened::Sweep)
        }
        Err(e) => {
            fb.error(e);
            None
        }
    }
}
