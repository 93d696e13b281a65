//! The mock's latency model and generation slots.
//!
//! A request's service time comes from its size, steps and `n` (or a fixed
//! `--latency-ms`), with seeded jitter. Requests then wait FIFO for one of
//! `--slots` slots (per GPU with `--gpus`); with `--max-batch` above 1 a
//! free slot takes several queued requests at once and serves them
//! together. Queueing and busy time are reported to [`Load`] for `/metrics`.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{mpsc, oneshot, Mutex};
use tokio::time::Instant;

use super::args::MockArgs;
use super::faults::{unit, STREAM_JITTER};
use super::gpus::Load;

/// Pixels of the reference size the step time is given for (1024x1024).
const REFERENCE_PIXELS: f64 = 1024.0 * 1024.0;

/// What a request asks the model to do, as far as timing goes.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Work {
    pub width: u32,
    pub height: u32,
    pub steps: Option<u32>,
    pub n: usize,
    /// Pixels of an edit's input images (0 for a generation).
    pub input_pixels: u64,
}

/// Service time of a request.
#[derive(Debug, Clone)]
pub(crate) struct Model {
    fixed: Option<Duration>,
    step_ms: f64,
    overhead_ms: f64,
    steps: u32,
    jitter: f64,
    speedup: f64,
    seed: u64,
    video_step_ms: f64,
    video_overhead_ms: f64,
    video_steps: u32,
}

impl Model {
    pub(crate) fn new(args: &MockArgs) -> Model {
        Model {
            fixed: (!args.latency_ms.is_nan())
                .then(|| Duration::from_secs_f64(args.latency_ms / 1000.0)),
            step_ms: args.step_ms,
            overhead_ms: args.overhead_ms,
            steps: args.steps,
            jitter: args.jitter,
            speedup: args.speedup,
            seed: args.seed,
            video_step_ms: args.video_step_ms,
            video_overhead_ms: args.video_overhead_ms,
            video_steps: args.video_steps,
        }
    }

    /// Service time of video job number `seq`: overhead + steps × step time
    /// × (frames × W·H + input pixels)/1024², with the same jitter and
    /// speedup as images.
    pub(crate) fn video_service(
        &self,
        width: u32,
        height: u32,
        frames: u32,
        input_pixels: u64,
        steps: Option<u32>,
        seq: u64,
    ) -> Duration {
        if let Some(fixed) = self.fixed {
            return fixed;
        }
        let steps = f64::from(steps.unwrap_or(self.video_steps));
        // An image-to-video job's reference counts as much as one more frame of its pixels.
        let scale = (f64::from(width) * f64::from(height) * f64::from(frames)
            + input_pixels as f64)
            / REFERENCE_PIXELS;
        let ms = self.video_overhead_ms + steps * self.video_step_ms * scale;
        Duration::from_secs_f64((ms * self.jitter_factor(seq) / self.speedup).max(0.0) / 1000.0)
    }

    fn jitter_factor(&self, seq: u64) -> f64 {
        if self.jitter > 0.0 {
            (1.0 + self.jitter * normal(self.seed, seq)).clamp(0.05, 3.0)
        } else {
            1.0
        }
    }

    /// Service time of request number `seq` (the jitter draw's index).
    pub(crate) fn service(&self, work: &Work, seq: u64) -> Duration {
        if let Some(fixed) = self.fixed {
            return fixed;
        }
        let steps = f64::from(work.steps.unwrap_or(self.steps));
        let pixels = f64::from(work.width) * f64::from(work.height) + work.input_pixels as f64;
        let scale = pixels / REFERENCE_PIXELS;
        let ms = (self.overhead_ms + steps * self.step_ms * scale) * work.n as f64;
        Duration::from_secs_f64((ms * self.jitter_factor(seq) / self.speedup).max(0.0) / 1000.0)
    }

    /// One line for the start-up banner.
    pub(crate) fn describe(&self) -> String {
        match self.fixed {
            Some(d) => format!("fixed {} ms per request", d.as_secs_f64() * 1000.0),
            None => {
                let at = |w: f64, h: f64| {
                    let ms = self.overhead_ms
                        + f64::from(self.steps) * self.step_ms * w * h / REFERENCE_PIXELS;
                    ms / self.speedup / 1000.0
                };
                format!(
                    "model: {:.2} s at 1024x1024 and {:.2} s at 512x512 for {} steps (speedup {})",
                    at(1024.0, 1024.0),
                    at(512.0, 512.0),
                    self.steps,
                    self.speedup
                )
            }
        }
    }
}

/// A standard normal draw (Box-Muller) for request `seq`.
fn normal(seed: u64, seq: u64) -> f64 {
    let u1 = unit(seed, STREAM_JITTER, seq.wrapping_mul(2)).max(1e-12);
    let u2 = unit(seed, STREAM_JITTER, seq.wrapping_mul(2) + 1);
    (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
}

/// When a request held its slot.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Served {
    pub start: Instant,
    pub end: Instant,
    /// Requests served together (1 without batching).
    pub batch: usize,
}

struct Job {
    service: Duration,
    reply: oneshot::Sender<Served>,
}

/// The generation slots and their FIFO queue.
pub(crate) struct Slots {
    queue: Option<mpsc::UnboundedSender<Job>>,
    load: Arc<Load>,
}

impl Slots {
    /// Starts the workers on the current runtime (none when 0 = unlimited).
    pub(crate) fn new(args: &MockArgs, load: Arc<Load>) -> Slots {
        if args.slots == 0 {
            return Slots { queue: None, load };
        }
        let (tx, rx) = mpsc::unbounded_channel::<Job>();
        let rx = Arc::new(Mutex::new(rx));
        let batching = Batching {
            max: args.max_batch.max(1),
            window: Duration::from_secs_f64(args.batch_window_ms / 1000.0),
            cost: args.batch_cost,
        };
        for slot in 0..Load::slot_count(args) {
            tokio::spawn(worker(rx.clone(), batching, slot, load.clone()));
        }
        Slots {
            queue: Some(tx),
            load,
        }
    }

    /// Waits for a slot, holds it for `service` and returns when the service
    /// ended. A request dropped while queued gives its place up; once started
    /// it holds the slot to the end, as a GPU would.
    pub(crate) async fn serve(&self, service: Duration) -> Served {
        let served = self.begin(service).await;
        crate::mock::latency::wait_until(served.end).await;
        served
    }

    /// Waits for a slot and returns when the service starts (the slot stays
    /// busy until `end` whatever the caller does).
    pub(crate) async fn begin(&self, service: Duration) -> Served {
        let now = Instant::now();
        let unqueued = |start: Instant| Served {
            start,
            end: start + service,
            batch: 1,
        };
        let Some(queue) = &self.queue else {
            self.load.unslotted(now, now + service);
            return unqueued(now);
        };
        if service.is_zero() {
            return unqueued(now);
        }
        let _waiting = self.load.queued();
        let (reply, done) = oneshot::channel();
        if queue.send(Job { service, reply }).is_err() {
            return unqueued(now); // workers gone: the runtime is shutting down
        }
        match done.await {
            Ok(served) => served,
            Err(_) => unqueued(Instant::now()),
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Batching {
    max: usize,
    window: Duration,
    cost: f64,
}

async fn worker(
    queue: Arc<Mutex<mpsc::UnboundedReceiver<Job>>>,
    batching: Batching,
    slot: usize,
    load: Arc<Load>,
) {
    loop {
        let mut batch = {
            let mut rx = queue.lock().await;
            let Some(first) = rx.recv().await else {
                return;
            };
            let mut batch = vec![first];
            if batching.max > 1 {
                let deadline = Instant::now() + batching.window;
                while batch.len() < batching.max {
                    match tokio::time::timeout_at(deadline, rx.recv()).await {
                        Ok(Some(job)) => batch.push(job),
                        _ => break,
                    }
                }
            }
            batch
        };
        batch.retain(|job| !job.reply.is_closed());
        if batch.is_empty() {
            continue;
        }
        let longest = batch.iter().map(|j| j.service).max().unwrap_or_default();
        let k = batch.len();
        let time = longest.mul_f64(1.0 + (k - 1) as f64 * batching.cost);
        let start = Instant::now();
        let end = start + time;
        load.busy(slot, start, end, k);
        for job in batch {
            let _ = job.reply.send(Served {
                start,
                end,
                batch: k,
            });
        }
        crate::mock::latency::wait_until(end).await;
    }
}

/// Sleep until `t`, but not at all when `t` has passed: a zero service time
/// must not cost a timer tick (tokio's wheel rounds up to the next millisecond).
pub(crate) async fn wait_until(t: tokio::time::Instant) {
    if tokio::time::Instant::now() < t {
        tokio::time::sleep_until(t).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model(jitter: f64) -> Model {
        Model::new(&MockArgs {
            jitter,
            ..MockArgs::default()
        })
    }

    #[test]
    fn flux_defaults_steps_size_and_n() {
        let m = model(0.0);
        let ms = |w, h, steps, n| {
            m.service(
                &Work {
                    width: w,
                    height: h,
                    steps,
                    n,
                    input_pixels: 0,
                },
                1,
            )
            .as_secs_f64()
                * 1000.0
        };
        assert!((ms(1024, 1024, None, 1) - 3840.0).abs() < 1e-6);
        assert!((ms(1024, 1024, Some(50), 1) - 6700.0).abs() < 1e-6);
        assert!((ms(512, 512, None, 1) - 1110.0).abs() < 1e-6);
        assert!((ms(512, 512, None, 3) - 3330.0).abs() < 1e-6);
    }

    #[test]
    fn jitter_is_seeded_and_about_the_right_size() {
        let m = model(0.05);
        let w = Work {
            width: 1024,
            height: 1024,
            steps: None,
            n: 1,
            input_pixels: 0,
        };
        let xs: Vec<f64> = (0..4000).map(|i| m.service(&w, i).as_secs_f64()).collect();
        let mean = xs.iter().sum::<f64>() / xs.len() as f64;
        let sd = (xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / xs.len() as f64).sqrt();
        assert!((mean - 3.84).abs() < 0.02, "{mean}");
        assert!((sd / mean - 0.05).abs() < 0.005, "{}", sd / mean);
        assert_eq!(m.service(&w, 17), model(0.05).service(&w, 17));
    }
}
