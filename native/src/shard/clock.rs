//! How far the server's clock is from ours, estimated from the `Date`
//! headers of its responses (where it sends any), so a merged run can say
//! how well its shards' clocks agreed.
//!
//! A `Date` of second `D` was written while the server's clock read
//! `[D, D + 1 s)`, at a moment between our sending the request (`sent`) and
//! our reading the response head (`received`). So the offset (server −
//! ours) lies in `(D − received, D + 1 s − sent)`. Each response narrows
//! the interval; over responses spread across second boundaries it shrinks
//! towards the round-trip time. A response that contradicts the interval
//! (a clock step) restarts it.

use crate::runtime::TokioRuntime;
use imgperf_core::platform::{MaybeSend, Runtime};
use imgperf_core::transport::{HttpRequest, HttpResponse, Transport, TransportFailure};
use serde::{Deserialize, Serialize};
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::UNIX_EPOCH;

const SECOND: i128 = 1_000_000_000;

/// The estimate: server clock − this machine's clock.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ClockOffset {
    /// Middle of the interval, in ms.
    pub offset_ms: f64,
    /// Half its width, in ms: the offset is within ± this.
    pub uncertainty_ms: f64,
    /// Responses with a `Date` header.
    pub samples: u64,
}

#[derive(Debug, Default)]
struct Bounds {
    /// (low, high) in ns.
    interval: Option<(i128, i128)>,
    samples: u64,
}

/// Accumulates `Date` header observations.
#[derive(Debug, Default)]
pub struct ServerClock(Mutex<Bounds>);

impl ServerClock {
    /// One response: its `Date` value, and when (epoch ns) the request was
    /// sent and the response head read. Unparseable dates are ignored.
    pub fn observe(&self, date: &str, sent_ns: u64, received_ns: u64) {
        let Ok(t) = httpdate::parse_http_date(date) else {
            return;
        };
        let Ok(d) = t.duration_since(UNIX_EPOCH) else {
            return;
        };
        let d = d.as_nanos() as i128;
        let (lo, hi) = (d - received_ns as i128, d + SECOND - sent_ns as i128);
        let mut b = self.0.lock().unwrap_or_else(|e| e.into_inner());
        b.samples += 1;
        b.interval = match b.interval {
            Some((a, z)) if lo.max(a) <= hi.min(z) => Some((lo.max(a), hi.min(z))),
            _ => Some((lo, hi)),
        };
    }

    /// The estimate so far (`None` without any `Date`).
    pub fn estimate(&self) -> Option<ClockOffset> {
        let b = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let (lo, hi) = b.interval?;
        Some(ClockOffset {
            offset_ms: (lo + hi) as f64 / 2e6,
            uncertainty_ms: (hi - lo) as f64 / 2e6,
            samples: b.samples,
        })
    }
}

/// A transport that tells a [`ServerClock`] about every response's `Date`.
#[derive(Debug, Clone)]
pub struct DatedTransport<T> {
    inner: T,
    rt: TokioRuntime,
    clock: Arc<ServerClock>,
}

impl<T> DatedTransport<T> {
    /// Wrap `inner`, whose times are on `rt`'s clock.
    pub fn new(inner: T, rt: TokioRuntime, clock: Arc<ServerClock>) -> Self {
        DatedTransport { inner, rt, clock }
    }
}

impl<T: Transport> Transport for DatedTransport<T> {
    fn send(
        &self,
        request: HttpRequest,
    ) -> impl Future<Output = Result<HttpResponse, TransportFailure>> + MaybeSend {
        let sent = self.inner.send(request);
        async move {
            let result = sent.await;
            if let Ok(resp) = &result {
                if let Some(date) = resp.header("date") {
                    let origin = self.rt.wall_origin_ns();
                    let t = resp.timing;
                    let received = t.first_byte_ns.unwrap_or(t.end_ns);
                    self.clock
                        .observe(date, origin + t.start_ns, origin + received);
                }
            }
            result
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const D: u64 = 1_748_779_200_000_000_000; // Sun, 01 Jun 2025 12:00:00 GMT
    const MS: u64 = 1_000_000;

    #[test]
    fn dates_narrow_the_offset() {
        let c = ServerClock::default();
        assert_eq!(c.estimate(), None);
        // Our clock is 250 ms behind the server's; 2 ms round trips.
        let ours = |server: u64| server - 250 * MS;
        for server in [
            D + 100 * MS,
            D + 990 * MS,
            D + 1_000 * MS + 3 * MS,
            D + 2_400 * MS,
        ] {
            let date = httpdate::fmt_http_date(
                UNIX_EPOCH
                    + std::time::Duration::from_nanos(server / 1_000_000_000 * 1_000_000_000),
            );
            c.observe(&date, ours(server) - MS, ours(server) + MS);
        }
        let e = c.estimate().unwrap();
        assert_eq!(e.samples, 4);
        assert!((e.offset_ms - 250.0).abs() <= e.uncertainty_ms, "{e:?}");
        assert!(e.uncertainty_ms <= 10.0, "{e:?}");
        c.observe("not a date", 0, 0);
        assert_eq!(c.estimate().unwrap().samples, 4);
    }
}
