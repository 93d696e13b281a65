//! The mock's video jobs: what each asked, a state machine driven by the
//! clock (queued until its generation slot starts, in progress while it
//! holds the slot, then completed, or failed or stuck by a fault), the job
//! store behind `/v1/videos/{id}`, and the MP4 cache.

use std::sync::{Arc, Mutex};

use anyhow::Context as _;
use bytes::Bytes;
use tokio::sync::OnceCell;
use tokio::time::Instant;

use super::super::bounded::Bounded;
use super::super::faults::FaultKind;
use super::super::latency::Served;
use super::super::picture::{render, ImageCache};
use super::encode;
use image::imageops::{self, FilterType};

/// Jobs remembered; the oldest is forgotten past this.
const STORE_ENTRIES: usize = 10_000;
/// MP4s kept; the oldest is forgotten past this.
const CACHE_ENTRIES: usize = 32;

/// What a job makes.
#[derive(Debug, Clone)]
pub(crate) struct Spec {
    pub model: String,
    /// `size` as the job reports it (as asked, or the dialect's default).
    pub size_label: String,
    /// `seconds` as the job reports it (a string, as SGLang and OpenAI echo it).
    pub seconds_label: String,
    /// The MP4's dimensions, frames and rate.
    pub key: Key,
}

/// Which MP4: size, frames, rate (in thousandths) and picture variant, or
/// for an image-to-video job the digest of its decoded reference (0 for none).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct Key {
    pub width: u32,
    pub height: u32,
    pub frames: u32,
    pub fps_milli: u32,
    pub variant: u32,
    pub reference: u64,
}

/// Where a job stands at some instant.
#[derive(Debug, Clone)]
pub(crate) enum Stage {
    Queued,
    InProgress { progress: u32 },
    Completed { served: Served },
    Failed { progress: u32 },
}

/// One submitted job.
pub(crate) struct Job {
    pub id: String,
    pub spec: Spec,
    pub fault: Option<FaultKind>,
    pub created_unix: u64,
    /// Set when its generation slot starts.
    served: Mutex<Option<Served>>,
    polls: Mutex<u32>,
}

impl Job {
    pub(crate) fn new(id: String, spec: Spec, fault: Option<FaultKind>, created_unix: u64) -> Job {
        Job {
            id,
            spec,
            fault,
            created_unix,
            served: Mutex::new(None),
            polls: Mutex::new(0),
        }
    }

    pub(crate) fn start(&self, served: Served) {
        *self.served.lock().unwrap_or_else(|e| e.into_inner()) = Some(served);
    }

    /// Count a status poll; its number (1-based).
    pub(crate) fn poll(&self) -> u32 {
        let mut n = self.polls.lock().unwrap_or_else(|e| e.into_inner());
        *n += 1;
        *n
    }

    /// The stage at `now`: progress grows with the slot's time (99 while
    /// "encoding", the last 2%); a `failed` fault ends the job at half its
    /// time, a `stuck` one freezes it at 50% for ever.
    pub(crate) fn stage(&self, now: Instant) -> Stage {
        let Some(s) = *self.served.lock().unwrap_or_else(|e| e.into_inner()) else {
            return Stage::Queued;
        };
        let total = (s.end - s.start).as_secs_f64();
        let done = if now <= s.start {
            0.0
        } else if total > 0.0 {
            ((now - s.start).as_secs_f64() / total).min(1.0)
        } else {
            1.0
        };
        match self.fault {
            Some(FaultKind::Failed) if done >= 0.5 => Stage::Failed { progress: 50 },
            Some(FaultKind::Stuck) => Stage::InProgress {
                progress: (done * 100.0).min(50.0) as u32,
            },
            _ if done >= 1.0 => Stage::Completed { served: s },
            _ if done >= 0.98 => Stage::InProgress { progress: 99 },
            _ => Stage::InProgress {
                progress: (done * 100.0) as u32,
            },
        }
    }
}

/// Jobs by id, the oldest forgotten past [`STORE_ENTRIES`].
pub(crate) struct Jobs(Bounded<String, Arc<Job>>);

impl Default for Jobs {
    fn default() -> Self {
        Jobs(Bounded::new(STORE_ENTRIES))
    }
}

impl Jobs {
    pub(crate) fn insert(&self, job: Arc<Job>) {
        self.0.insert(job.id.clone(), job);
    }

    pub(crate) fn get(&self, id: &str) -> Option<Arc<Job>> {
        self.0.get(id)
    }
}

/// Encoded MP4s, shared by all jobs: same prompt, seed, size, frames and
/// rate (or same reference), same file, encoded once.
pub(crate) struct Cache(Bounded<Key, Arc<OnceCell<Bytes>>>);

impl Default for Cache {
    fn default() -> Self {
        Cache(Bounded::new(CACHE_ENTRIES))
    }
}

impl Cache {
    /// The MP4 of `key`, encoded on first use on the blocking pool; an
    /// image-to-video key's reference comes from `images` (remembered there
    /// at submit).
    pub(crate) async fn get(&self, key: Key, images: &ImageCache) -> anyhow::Result<Bytes> {
        let reference = match key.reference {
            0 => None,
            digest => Some(images.reference(digest)?),
        };
        let cell = self.0.get_or_insert_with(key, Default::default);
        let bytes = cell
            .get_or_try_init(|| async move {
                let fps = f64::from(key.fps_milli) / 1000.0;
                let task = tokio::task::spawn_blocking(move || {
                    let (w, h) = (key.width, key.height);
                    let picture = match reference {
                        Some(img) => imageops::resize(&*img, w, h, FilterType::Triangle),
                        None => render(w, h, key.variant, 0),
                    };
                    encode::mp4(w, h, key.frames, fps, &picture)
                });
                anyhow::Ok(Bytes::from(task.await.context("MP4 encoder task failed")?))
            })
            .await?;
        Ok(bytes.clone())
    }
}
