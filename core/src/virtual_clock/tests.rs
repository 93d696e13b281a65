//! Virtual clock tests: sleeps resolve in deadline order at exact times,
//! spawning, the delay transport's slots, and an open loop that never skips
//! against a slow server, with no real time passing.

use super::*;
use crate::schedule::{ArrivalPattern, RateSpec, Schedule};
use crate::transport::Method;
use futures_util::future::{join_all, pending, select};

const MS: u64 = 1_000_000;

fn request() -> HttpRequest {
    HttpRequest {
        method: Method::Post,
        url: "http://virtual/v1/images/generations".into(),
        headers: vec![],
        body: Bytes::new(),
    }
}

#[test]
fn sleeps_resolve_in_deadline_order_at_exact_times() {
    let rt = VirtualRuntime::new();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let sleepers = [(300, 'c'), (100, 'a'), (200, 'b'), (100, 'z')].map(|(at, name)| {
        let (rt2, seen) = (rt.clone(), seen.clone());
        rt.spawn(async move {
            rt2.sleep_until(at * MS).await;
            lock(&seen).push((name, rt2.now_ns() / MS));
        })
    });
    rt.block_on(join_all(sleepers));
    let want = vec![('a', 100), ('z', 100), ('b', 200), ('c', 300)];
    assert_eq!(*lock(&seen), want, "deadline order, ties in sleep order");
    assert_eq!((rt.now_ns(), rt.next_timer_ns()), (300 * MS, None));
}

#[test]
fn spawn_returns_the_output_and_nested_spawns_run() {
    let rt = VirtualRuntime::new();
    let rt2 = rt.clone();
    let out = rt.block_on(async move {
        let inner = rt2.clone();
        let outer = rt2.spawn(async move { inner.spawn(async { 20 }).await + 1 });
        outer.await * 2
    });
    assert_eq!(out, 42);
    assert_eq!(rt.now_ns(), 0, "no timer, no time passes");
}

#[test]
fn past_deadlines_are_ready_and_dropped_sleeps_unregister() {
    let rt = VirtualRuntime::new();
    rt.block_on(rt.sleep_until(5 * MS));
    rt.block_on(rt.sleep_until(0));
    assert_eq!(rt.now_ns(), 5 * MS);
    let (long, short) = (rt.sleep_until(500 * MS), rt.sleep_until(50 * MS));
    rt.block_on(select(pin!(long), pin!(short)));
    assert_eq!((rt.now_ns(), rt.next_timer_ns()), (50 * MS, None));
}

#[test]
fn run_until_drives_by_hand() {
    let rt = VirtualRuntime::new();
    let done = Arc::new(AtomicU64::new(0));
    for at in [100, 300] {
        let (rt2, done) = (rt.clone(), done.clone());
        drop(rt.spawn(async move {
            rt2.sleep_until(at * MS).await;
            done.fetch_add(1, Ordering::SeqCst);
        }));
    }
    rt.run_until(200 * MS);
    assert_eq!((rt.now_ns(), done.load(Ordering::SeqCst)), (200 * MS, 1));
    rt.advance_to(300 * MS);
    rt.run_until_idle();
    assert_eq!(done.load(Ordering::SeqCst), 2);
}

#[test]
#[should_panic(expected = "deadlock")]
fn a_future_that_can_never_finish_panics() {
    VirtualRuntime::new().block_on(pending::<()>());
}

/// Completion times of `n` simultaneous 100 ms requests.
fn ends(slots: usize, n: usize) -> (Vec<u64>, Arc<DelayTransport>) {
    let rt = VirtualRuntime::new();
    let server = Arc::new(DelayTransport::new(&rt, 100 * MS, slots));
    let sends = (0..n).map(|_| {
        let server = server.clone();
        rt.spawn(async move { server.send(request()).await.unwrap() })
    });
    let responses = rt.block_on(join_all(sends));
    assert!(responses
        .iter()
        .all(|r| r.status == 200 && r.body == DELAY_BODY));
    (
        responses.iter().map(|r| r.timing.end_ns / MS).collect(),
        server,
    )
}

#[test]
fn one_slot_serves_simultaneous_requests_one_after_another() {
    let (ends, server) = ends(1, 4);
    assert_eq!(ends, vec![100, 200, 300, 400]);
    assert_eq!(server.arrivals(), vec![0; 4]);
    let starts: Vec<u64> = server
        .served()
        .iter()
        .map(|s| s.service_start_ns / MS)
        .collect();
    assert_eq!(starts, vec![0, 100, 200, 300]);
}

#[test]
fn two_slots_serve_two_at_a_time() {
    assert_eq!(ends(2, 4).0, vec![100, 100, 200, 200]);
}

#[test]
fn an_open_loop_on_absolute_deadlines_never_skips_against_a_slow_server() {
    // 20 req/s against a server that handles 10 req/s: every arrival is
    // still sent on time; the server's queue grows instead.
    let rt = VirtualRuntime::new();
    let server = Arc::new(DelayTransport::new(&rt, 100 * MS, 1));
    let spec = RateSpec {
        rate: 20.0,
        pattern: ArrivalPattern::Constant,
        ramp_duration_s: None,
    };
    let offsets: Vec<u64> = Schedule::new(&spec, 0).unwrap().take(20).collect();
    let (rt2, server2, due) = (rt.clone(), server.clone(), offsets.clone());
    rt.block_on(async move {
        let start = rt2.now_ns();
        let mut sends = Vec::new();
        for offset in due {
            rt2.sleep_until(start + offset).await;
            let server = server2.clone();
            sends.push(rt2.spawn(async move { server.send(request()).await }));
        }
        join_all(sends).await
    });
    assert_eq!(server.arrivals(), offsets);
    let waits: Vec<u64> = server
        .served()
        .iter()
        .map(|s| s.service_start_ns - s.arrival_ns)
        .collect();
    assert_eq!(waits, (0..20).map(|i| i * 50 * MS).collect::<Vec<_>>());
    assert_eq!(rt.now_ns(), 2_000 * MS);
}
