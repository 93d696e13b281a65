//! The mock's latency model on a real server: FIFO slots, steps and size,
//! `n`, speedup, seeded jitter, dynamic batching and the warm-up gate.
//! Exact service times are read from SGLang's `inference_time_s`; wall
//! times are checked with a tolerance for this shared 2-core machine.

use std::time::{Duration, Instant};

use imgperf::mock::{Dialect, MockArgs, MockServer};
use serde_json::{json, Value};

fn base(latency_ms: f64) -> MockArgs {
    MockArgs {
        port: 0,
        latency_ms,
        ..MockArgs::default()
    }
}

/// Posts a generation; returns the body and when it was fully read.
async fn gen(client: &reqwest::Client, server: &MockServer, body: Value) -> (Value, Instant) {
    let resp = client
        .post(format!("{}/v1/images/generations", server.base_url()))
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .expect("sent");
    assert_eq!(resp.status().as_u16(), 200);
    let bytes = resp.bytes().await.expect("body");
    (
        serde_json::from_slice(&bytes).expect("JSON"),
        Instant::now(),
    )
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Finish times (ms after `t0`) of `k` concurrent small requests, sorted.
async fn finishes(server: &MockServer, k: usize) -> Vec<f64> {
    let client = reqwest::Client::new();
    // Warm the image cache and the connection pool first.
    gen(&client, server, json!({"prompt": "p", "size": "32x32"})).await;
    let t0 = Instant::now();
    let all = futures_util::future::join_all(
        (0..k).map(|_| gen(&client, server, json!({"prompt": "p", "size": "32x32"}))),
    )
    .await;
    let mut out: Vec<f64> = all.iter().map(|(_, t)| ms(*t - t0)).collect();
    out.sort_by(f64::total_cmp);
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_slot_serves_concurrent_requests_one_after_another() {
    let server = MockServer::start(&base(100.0)).await.unwrap();
    let done = finishes(&server, 4).await;
    for (i, t) in done.iter().enumerate() {
        let want = 100.0 * (i + 1) as f64;
        assert!(
            *t >= want - 2.0 && *t < want + 60.0,
            "request {i} finished at {t:.1} ms, want ~{want} ms: {done:?}"
        );
    }
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_slots_serve_two_at_a_time() {
    let server = MockServer::start(&MockArgs {
        slots: 2,
        ..base(100.0)
    })
    .await
    .unwrap();
    let done = finishes(&server, 4).await;
    for (t, want) in done.iter().zip([100.0, 100.0, 200.0, 200.0]) {
        assert!(*t >= want - 2.0 && *t < want + 60.0, "{done:?}");
    }
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn steps_size_and_n_set_the_service_time() {
    // 10 ms per step at 1024x1024, 20 ms per image of overhead, 10 steps.
    let server = MockServer::start(&MockArgs {
        dialect: Dialect::Sglang,
        step_ms: 10.0,
        overhead_ms: 20.0,
        steps: 10,
        jitter: 0.0,
        ..base(MockArgs::MODEL_LATENCY)
    })
    .await
    .unwrap();
    let client = reqwest::Client::new();
    let cases = [
        (json!({"size": "1024x1024"}), 120.0),
        (
            json!({"size": "1024x1024", "num_inference_steps": 30}),
            320.0,
        ),
        (json!({"size": "512x512"}), 45.0),
        (json!({"size": "512x512", "num_inference_steps": 40}), 120.0),
        (json!({"size": "1024x512", "n": 2}), 140.0),
        (json!({"width": 2048, "height": 1024}), 220.0),
    ];
    for (mut req, want_ms) in cases {
        req["prompt"] = json!("a lighthouse");
        let t = Instant::now();
        let (body, end) = gen(&client, &server, req.clone()).await;
        let reported = body["inference_time_s"].as_f64().unwrap() * 1000.0;
        assert!((reported - want_ms).abs() < 0.2, "{req}: {reported} ms");
        let wall = ms(end - t);
        assert!(wall >= want_ms - 1.0, "{req}: answered after {wall} ms");
    }
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flux_defaults_with_speedup_and_seeded_jitter() {
    let args = |seed| MockArgs {
        dialect: Dialect::Sglang,
        speedup: 100.0,
        jitter: 0.05,
        seed,
        ..base(MockArgs::MODEL_LATENCY)
    };
    let times = |server: MockServer| async move {
        let client = reqwest::Client::new();
        let mut v = vec![];
        for _ in 0..6 {
            let (b, _) = gen(&client, &server, json!({"prompt": "p", "size": "64x64"})).await;
            v.push(b["inference_time_s"].as_f64().unwrap());
        }
        server.shutdown().await;
        v
    };
    let a = times(MockServer::start(&args(1)).await.unwrap()).await;
    let b = times(MockServer::start(&args(1)).await.unwrap()).await;
    let c = times(MockServer::start(&args(2)).await.unwrap()).await;
    assert_eq!(a, b, "same seed, same service times");
    assert_ne!(a, c, "another seed, other jitter");
    // FLUX.1-dev: 200 ms + 28 x 130 ms x (64x64 / 1024x1024) = 214.2 ms, / 100.
    for t in &a {
        assert!((t * 1000.0 - 2.142).abs() < 2.142 * 0.25, "{a:?}");
    }
    assert!(a.windows(2).any(|w| w[0] != w[1]), "jitter varies: {a:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dynamic_batching_serves_queued_requests_together() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("truth.jsonl");
    let server = MockServer::start(&MockArgs {
        max_batch: 4,
        batch_window_ms: 40.0,
        batch_cost: 0.5,
        truth_log: Some(log.clone()),
        ..base(100.0)
    })
    .await
    .unwrap();
    let done = finishes(&server, 4).await;
    // One batch of 4: 100 x (1 + 3 x 0.5) = 250 ms after at most the window.
    assert!(
        done[0] >= 248.0 && done[3] < 250.0 + 40.0 + 60.0,
        "{done:?}"
    );
    assert!(done[3] - done[0] < 30.0, "finished together: {done:?}");
    server.shutdown().await;
    let lines: Vec<Value> = std::fs::read_to_string(&log)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let batches: Vec<u64> = lines.iter().filter_map(|l| l["batch"].as_u64()).collect();
    assert_eq!(
        batches.iter().filter(|b| **b == 4).count(),
        4,
        "{batches:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn warm_up_gate_holds_generations_but_not_health() {
    let t0 = Instant::now();
    let server = MockServer::start(&MockArgs {
        warmup_s: 0.6,
        ..base(0.0)
    })
    .await
    .unwrap();
    let health = reqwest::get(format!("{}/health", server.base_url()))
        .await
        .unwrap();
    assert_eq!(health.status().as_u16(), 200);
    assert!(ms(t0.elapsed()) < 400.0, "health answered at once");
    let (_, end) = gen(
        &reqwest::Client::new(),
        &server,
        json!({"prompt": "p", "size": "32x32"}),
    )
    .await;
    assert!(ms(end - t0) >= 600.0, "generation waited for the warm-up");
    server.shutdown().await;
}
