//! One phase of a run (warm-up or profiling): releases the phase's
//! requests on time, queues them client-side while every slot is busy,
//! runs each as its own task, hands finished records to the sink in
//! completion order, and ends on the phase's count, its duration plus
//! grace period, or a stop.

use super::sequence::{Draws, Source};
use super::{Arrivals, Completed, RecordSink, RunPlan};
use crate::job::{self, new_record, Job};
use crate::measure::Expect;
use crate::plan::uuid_from;
use crate::platform::Runtime;
use crate::record::Phase;
use crate::shard::Shard;
use crate::stop::StopSignal;
use crate::transport::{HttpRequest, Method, Transport};
use crate::video::{VideoAsk, VideoOutput};
use futures_channel::oneshot;
use futures_util::future::{select, Either};
use futures_util::stream::{FuturesUnordered, StreamExt};
use rand_chacha::ChaCha8Rng;
use std::collections::VecDeque;
use std::pin::pin;
use std::sync::Arc;

#[derive(Debug, Clone, Copy)]
pub(super) struct Limits {
    pub(super) count: Option<u64>,
    pub(super) duration_ns: Option<u64>,
    pub(super) grace_ns: u64,
}

/// What one phase did.
pub(super) struct PhaseDone {
    /// This shard's requests released.
    pub(super) released: u64,
    /// Of those, cut by the end of the grace period.
    pub(super) cut_by_grace: u64,
    /// Global positions the phase took (its count when complete).
    pub(super) positions: u64,
}

pub(super) struct PhaseRun<'a, T, R> {
    pub(super) plan: RunPlan<'a>,
    pub(super) transport: Arc<T>,
    pub(super) rt: R,
    pub(super) ids: ChaCha8Rng,
    pub(super) draws: Draws,
    pub(super) shard: Shard,
}

/// A released request waiting for a slot.
struct Queued {
    scheduled_ns: u64,
    item: usize,
    /// Global number within the phase.
    session_num: u64,
    cancel_after_ns: Option<u64>,
}

enum Event<C> {
    Done(C),
    Timer,
    Stop(u8),
}

impl<T: Transport, R: Runtime> PhaseRun<'_, T, R> {
    fn cap_at(&self, elapsed_ns: u64) -> usize {
        let s = self.plan.settings;
        let base = s.concurrency.unwrap_or(usize::MAX);
        match s
            .concurrency_ramp
            .iter()
            .rev()
            .find(|(t, _)| *t <= elapsed_ns)
        {
            Some((_, c)) => (*c).min(base),
            None => s.concurrency_ramp.first().map(|(_, c)| *c).unwrap_or(base),
        }
    }

    fn job(&mut self, q: &Queued, phase: Phase, worker: usize, now: u64) -> Job {
        let p = self.plan;
        let item = &p.workload.items[q.item];
        let request_id = uuid_from(&mut self.ids);
        let url = p.endpoint.url_for(q.session_num);
        let headers = p
            .endpoint
            .headers_with_type(&request_id, &request_id, &item.content_type);
        let mut record = new_record(
            q.session_num,
            phase,
            &item.conversation_id,
            &request_id,
            &url,
            item.isl,
            worker,
            q.scheduled_ns,
            now,
        );
        record.output = Expect::from_payload(&item.payload).output();
        record.shard_index = self.shard.is_split().then(|| self.shard.index());
        let video = p.endpoint.kind.is_video().then_some(p.settings.video);
        if video.is_some() {
            record.output = Default::default();
            record.output.video = Some(Box::new(VideoOutput {
                ask: VideoAsk::from_payload(&item.payload),
                ..VideoOutput::default()
            }));
        }
        record.input_images = item.inputs.clone();
        let base_url =
            p.endpoint.urls[(q.session_num % p.endpoint.urls.len() as u64) as usize].clone();
        let cancel_after_ns = q.cancel_after_ns;
        Job {
            record,
            request: HttpRequest {
                method: Method::Post,
                url,
                headers,
                body: item.body.clone(),
            },
            payload: item.payload.clone(),
            export: p.settings.export,
            wall_origin_ns: self.rt.wall_origin_ns(),
            cancel_after_ns,
            base_url,
            validate: p.settings.validate_images,
            video,
        }
    }

    /// Record a request that will never complete (queued at the end, or abandoned).
    fn cut(&self, job: &Job, now: u64, message: &str) -> Completed {
        let mut rec = job.record.clone();
        rec.request_end_ns = now.max(rec.request_start_ns);
        rec.was_cancelled = true;
        rec.error = Some(job::cancelled(message));
        job::finish(
            rec,
            &job.request.headers,
            &job.payload,
            job.export,
            job.wall_origin_ns,
            None,
        )
    }

    /// Release the phase's next request, global number `i`.
    fn release(&mut self, i: u64, row: Option<usize>, scheduled_ns: u64) -> Queued {
        let item = row.unwrap_or_else(|| self.draws.row(i));
        Queued {
            scheduled_ns,
            item,
            session_num: i,
            cancel_after_ns: self.draws.cancel_after(i),
        }
    }

    pub(super) async fn run<S: RecordSink>(
        &mut self,
        phase: Phase,
        arrivals: Arrivals,
        limits: Limits,
        start_at: Option<u64>,
        sink: &mut S,
        stop: &StopSignal,
    ) -> PhaseDone {
        let spawner = self.rt.clone();
        let start = start_at.unwrap_or_else(|| self.rt.now_ns());
        let issue_end = limits.duration_ns.map(|d| start + d);
        // Grace ends after the duration, or after a stop request (level 1).
        let mut grace_end = issue_end.map(|e| e + limits.grace_ns);
        // The count is global: this shard releases its requests below it.
        let count = limits.count.unwrap_or(u64::MAX);
        let mut source = Source::of(arrivals, self.shard);
        let mut next_global = 0;
        let mut tasks = FuturesUnordered::new();
        // A slot holds its job and the sender whose drop halts the job's task.
        let mut slots: Vec<Option<(Job, oneshot::Sender<()>)>> = Vec::new();
        let mut queue: VecDeque<Queued> = VecDeque::new();
        let (mut released, mut cut_by_grace, mut seen_stop) = (0u64, 0u64, stop.level());
        loop {
            let now = self.rt.now_ns();
            let issuing = seen_stop == 0 && issue_end.is_none_or(|e| now < e);
            let in_flight = slots.iter().filter(|s| s.is_some()).count();
            let cap = self.cap_at(now - start);
            if issuing {
                match &mut source {
                    Source::Closed => {
                        while self.shard.global(released) < count && in_flight + queue.len() < cap {
                            let i = self.shard.global(released);
                            queue.push_back(self.release(i, None, now));
                            released += 1;
                            next_global = i + 1;
                        }
                    }
                    Source::Timed(it) => {
                        while let Some(&(i, row, offset)) = it.peek() {
                            if i >= count || start + offset > now {
                                break;
                            }
                            it.next();
                            queue.push_back(self.release(i, row, start + offset));
                            released += 1;
                            next_global = i + 1;
                        }
                    }
                }
            } else {
                let message = if seen_stop > 0 {
                    "run stopped before a slot was free"
                } else {
                    "benchmark duration ended before a slot was free"
                };
                while let Some(q) = queue.pop_front() {
                    let job = self.job(&q, phase, usize::MAX, now);
                    sink.accept(self.cut(&job, now, message));
                }
            }
            // Launch queued requests while slots are free.
            let mut busy = in_flight;
            while busy < cap {
                let Some(q) = queue.pop_front() else { break };
                let worker = slots.iter().position(Option::is_none).unwrap_or_else(|| {
                    slots.push(None);
                    slots.len() - 1
                });
                let job = self.job(&q, phase, worker, self.rt.now_ns());
                let (halt_tx, halt) = oneshot::channel();
                slots[worker] = Some((job.clone(), halt_tx));
                sink.issued(phase);
                tasks.push(spawner.spawn(job::execute_until_halted(
                    self.transport.clone(),
                    self.rt.clone(),
                    job,
                    halt,
                )));
                busy += 1;
            }
            let next_due = match &mut source {
                Source::Timed(it) if issuing => it
                    .peek()
                    .filter(|(i, _, _)| *i < count)
                    .map(|(_, _, o)| start + o),
                _ => None,
            };
            let more = issuing
                && match source {
                    Source::Closed => self.shard.global(released) < count,
                    Source::Timed(_) => next_due.is_some(),
                };
            if tasks.is_empty() && queue.is_empty() && !more {
                break;
            }
            if !issuing && grace_end.is_some_and(|g| now >= g) {
                let message = if seen_stop > 0 {
                    "in flight when the grace period after the stop request ended"
                } else {
                    "in flight when the grace period ended"
                };
                cut_by_grace += self.abandon(&mut slots, sink, message);
                break;
            }
            let mut wake = next_due;
            let mut consider = |t: Option<u64>| {
                if let Some(t) = t {
                    wake = Some(wake.map_or(t, |w: u64| w.min(t)));
                }
            };
            consider(if issuing { issue_end } else { grace_end });
            if !queue.is_empty() || matches!(source, Source::Closed) {
                consider(
                    self.plan
                        .settings
                        .concurrency_ramp
                        .iter()
                        .map(|(t, _)| start + t)
                        .find(|t| *t > now),
                );
            }
            let rt = self.rt.clone();
            let timer = async move {
                match wake {
                    Some(t) => rt.sleep_until(t).await,
                    None => std::future::pending().await,
                }
            };
            let next_done = async {
                if tasks.is_empty() {
                    std::future::pending().await
                } else {
                    tasks.next().await
                }
            };
            let event = match select(
                pin!(next_done),
                pin!(select(pin!(timer), stop.above(seen_stop))),
            )
            .await
            {
                Either::Left((Some(done), _)) => Event::Done(done),
                Either::Left((None, _)) => Event::Timer,
                Either::Right((Either::Left(_), _)) => Event::Timer,
                Either::Right((Either::Right((level, _)), _)) => Event::Stop(level),
            };
            match event {
                Event::Done(done) => {
                    if let Some(slot) =
                        worker_index(&done.record.worker_id).and_then(|w| slots.get_mut(w))
                    {
                        *slot = None;
                    }
                    sink.accept(done);
                }
                Event::Timer => {}
                Event::Stop(level) => {
                    seen_stop = level;
                    let stop_grace = self.rt.now_ns() + limits.grace_ns;
                    grace_end = Some(grace_end.map_or(stop_grace, |g| g.min(stop_grace)));
                    if level >= 2 {
                        self.abandon(
                            &mut slots,
                            sink,
                            "run stopped (Ctrl-C) before the response arrived",
                        );
                        let now = self.rt.now_ns();
                        while let Some(q) = queue.pop_front() {
                            let job = self.job(&q, phase, usize::MAX, now);
                            sink.accept(self.cut(&job, now, "run stopped before a slot was free"));
                        }
                        break;
                    }
                }
            }
        }
        let complete = limits
            .count
            .is_some_and(|c| released == self.shard.share(c));
        PhaseDone {
            released,
            cut_by_grace,
            positions: if complete { count } else { next_global },
        }
    }

    /// Record every in-flight request as cancelled; returns how many.
    fn abandon<S: RecordSink>(
        &self,
        slots: &mut [Option<(Job, oneshot::Sender<()>)>],
        sink: &mut S,
        message: &str,
    ) -> u64 {
        let now = self.rt.now_ns();
        let mut n = 0;
        for slot in slots.iter_mut() {
            // Dropping the sender halts the job's task (no more polls).
            if let Some((job, _halt)) = slot.take() {
                sink.accept(self.cut(&job, now, message));
                n += 1;
            }
        }
        n
    }
}

fn worker_index(worker_id: &str) -> Option<usize> {
    worker_id.rsplit('_').next().and_then(|n| n.parse().ok())
}
