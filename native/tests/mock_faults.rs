//! Faults, CORS and the truth log of the mock on a real server: every fault
//! kind at its configured rate over 200 requests (and exactly where the
//! truth log says it was injected), `--fault-at` schedules, CORS modes and
//! the SGLang 500 trap, and one ordered truth line per request.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use base64::Engine as _;
use imgperf::mock::{CorsMode, Dialect, MockArgs, MockServer};
use imgperf_core::images::probe;
use serde_json::{json, Value};

fn base() -> MockArgs {
    MockArgs {
        port: 0,
        latency_ms: 0.0,
        slots: 0,
        ..MockArgs::default()
    }
}

fn truth(path: &std::path::Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect()
}

/// What the client saw of one 64x64 request.
async fn classify(client: &reqwest::Client, url: &str, id: &str) -> String {
    let t = Instant::now();
    let resp = client
        .post(url)
        .header("content-type", "application/json")
        .header("x-request-id", id)
        .body(json!({"prompt": id, "size": "64x64"}).to_string())
        .send()
        .await
        .expect("response head");
    let status = resp.status().as_u16();
    let retry = resp.headers().get("retry-after").is_some();
    let plain = resp.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/plain");
    let Ok(body) = resp.bytes().await else {
        return "drop".into();
    };
    match status {
        429 if retry => return "429".into(),
        500 if plain => return "500".into(),
        200 => {}
        s => return s.to_string(),
    }
    let Ok(v) = serde_json::from_slice::<Value>(&body) else {
        return "malformed-json".into();
    };
    let Ok(img) = base64::engine::general_purpose::STANDARD
        .decode(v["data"][0]["b64_json"].as_str().unwrap_or_default())
    else {
        return "truncated-b64".into();
    };
    let info = probe(&img).expect("an image");
    if (info.width, info.height) != (64, 64) {
        return "wrong-size".into();
    }
    if t.elapsed() >= Duration::from_millis(250) {
        return "stall".into();
    }
    "ok".into()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_fault_at_its_rate_over_200_requests() {
    let kinds = [
        "400",
        "422",
        "429",
        "500",
        "503",
        "stall",
        "drop",
        "malformed-json",
        "truncated-b64",
        "wrong-size",
    ];
    let rate = 0.07;
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("truth.jsonl");
    let server = MockServer::start(&MockArgs {
        faults: kinds
            .iter()
            .map(|k| format!("{k}:{rate}").parse().unwrap())
            .collect(),
        stall_s: 0.3,
        seed: 11,
        truth_log: Some(log.clone()),
        ..base()
    })
    .await
    .unwrap();
    let url = format!("{}/v1/images/generations", server.base_url());
    let client = reqwest::Client::new();
    let n = 200;
    let mut seen: HashMap<String, String> = HashMap::new();
    for chunk in (0..n).collect::<Vec<_>>().chunks(10) {
        let got = futures_util::future::join_all(chunk.iter().map(|i| {
            let id = format!("req-{i}");
            let (client, url) = (&client, &url);
            async move { (id.clone(), classify(client, url, &id).await) }
        }))
        .await;
        seen.extend(got);
    }
    server.shutdown().await;

    let lines = truth(&log);
    assert_eq!(lines.len(), n);
    let mut counts: HashMap<&str, usize> = HashMap::new();
    for line in &lines {
        let id = line["request_id"].as_str().unwrap();
        let injected = line["fault"].as_str().unwrap_or("ok");
        assert_eq!(seen[id], injected, "{line}");
        *counts.entry(seen[id].as_str()).or_default() += 1;
    }
    // Binomial(200, 0.07): mean 14, sd 3.6; allow 3.3 sd.
    for kind in kinds {
        let c = *counts.get(kind).unwrap_or(&0) as f64;
        assert!((c - 14.0).abs() <= 12.0, "{kind}: {c} of 200 ({counts:?})");
    }
    let ok = *counts.get("ok").unwrap_or(&0) as f64;
    assert!((ok - 60.0).abs() <= 22.0, "{counts:?}");
}

#[tokio::test]
async fn fault_schedule_hits_exactly_the_named_requests() {
    let server = MockServer::start(&MockArgs {
        dialect: Dialect::Sglang,
        fault_at: vec!["500:2".parse().unwrap(), "429:4-5".parse().unwrap()],
        retry_after_s: 7,
        ..base()
    })
    .await
    .unwrap();
    let client = reqwest::Client::new();
    let url = format!("{}/v1/images/generations", server.base_url());
    let mut statuses = vec![];
    for i in 1..=6 {
        let resp = client
            .post(&url)
            .header("content-type", "application/json")
            .body(
                json!({"prompt": "p", "size": "32x32", "response_format": "b64_json"}).to_string(),
            )
            .send()
            .await
            .unwrap();
        statuses.push(resp.status().as_u16());
        if i == 4 {
            assert_eq!(resp.headers()["retry-after"], "7");
            assert_eq!(resp.headers()["retry-after-ms"], "7000");
            let body: Value = serde_json::from_slice(&resp.bytes().await.unwrap()).unwrap();
            assert!(body["detail"].as_str().unwrap().contains("429"), "{body}");
        } else if i == 2 {
            assert_eq!(resp.text().await.unwrap(), "Internal Server Error");
        }
    }
    assert_eq!(statuses, [200, 500, 200, 429, 429, 200]);
    server.shutdown().await;
}

async fn cors_server(cors: CorsMode, trap: bool) -> MockServer {
    MockServer::start(&MockArgs {
        cors,
        cors_trap: trap,
        fault_at: vec!["500:2".parse().unwrap()],
        ..base()
    })
    .await
    .unwrap()
}

async fn preflight(server: &MockServer) -> reqwest::Response {
    reqwest::Client::new()
        .request(
            reqwest::Method::OPTIONS,
            format!("{}/v1/images/generations", server.base_url()),
        )
        .header("origin", "http://app.test")
        .header("access-control-request-method", "POST")
        .header(
            "access-control-request-headers",
            "content-type,x-request-id",
        )
        .send()
        .await
        .unwrap()
}

async fn generate(server: &MockServer) -> reqwest::Response {
    reqwest::Client::new()
        .post(format!("{}/v1/images/generations", server.base_url()))
        .header("origin", "http://app.test")
        .header("content-type", "application/json")
        .body(r#"{"prompt":"p","size":"32x32"}"#)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn cors_off_any_echo_and_the_sglang_trap() {
    let off = cors_server(CorsMode::Off, false).await;
    assert_eq!(preflight(&off).await.status().as_u16(), 405);
    assert!(generate(&off)
        .await
        .headers()
        .get("access-control-allow-origin")
        .is_none());

    let any = cors_server(CorsMode::Any, false).await;
    let p = preflight(&any).await;
    assert_eq!(p.status().as_u16(), 204);
    assert_eq!(p.headers()["access-control-allow-origin"], "*");
    assert_eq!(
        p.headers()["access-control-allow-headers"],
        "content-type,x-request-id"
    );
    assert!(p.headers()["access-control-allow-methods"]
        .to_str()
        .unwrap()
        .contains("POST"));
    let ok = generate(&any).await;
    assert_eq!(ok.headers()["access-control-allow-origin"], "*");
    assert!(ok.headers()["access-control-expose-headers"]
        .to_str()
        .unwrap()
        .contains("retry-after"));
    let failed = generate(&any).await;
    assert_eq!(failed.status().as_u16(), 500);
    assert_eq!(
        failed.headers()["access-control-allow-origin"],
        "*",
        "no trap: 500 has CORS"
    );

    let echo = cors_server(CorsMode::Echo, false).await;
    let p = preflight(&echo).await;
    assert_eq!(
        p.headers()["access-control-allow-origin"],
        "http://app.test"
    );
    assert_eq!(p.headers()["access-control-allow-credentials"], "true");
    let ok = generate(&echo).await;
    assert_eq!(
        ok.headers()["access-control-allow-origin"],
        "http://app.test"
    );
    assert_eq!(ok.headers()["vary"], "origin");

    let trap = cors_server(CorsMode::Any, true).await;
    assert_eq!(
        generate(&trap).await.headers()["access-control-allow-origin"],
        "*"
    );
    let failed = generate(&trap).await;
    assert_eq!(failed.status().as_u16(), 500);
    assert!(
        failed
            .headers()
            .get("access-control-allow-origin")
            .is_none(),
        "the trap"
    );
    assert_eq!(trap.requests_seen(), 2, "preflights are not image requests");
    for s in [off, any, echo, trap] {
        s.shutdown().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn truth_log_has_one_ordered_line_per_request() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("truth.jsonl");
    let server = MockServer::start(&MockArgs {
        latency_ms: 30.0,
        slots: 1,
        fault_at: vec!["drop:3".parse().unwrap()],
        truth_log: Some(log.clone()),
        ..base()
    })
    .await
    .unwrap();
    let client = reqwest::Client::new();
    let url = format!("{}/v1/images/generations", server.base_url());
    let sent = futures_util::future::join_all((0..5).map(|i| {
        let req = client
            .post(&url)
            .header("x-request-id", format!("id-{i}"))
            .header("x-correlation-id", "corr")
            .header("content-type", "application/json")
            .body(json!({"prompt": "p", "size": "256x256"}).to_string());
        async move {
            let resp = req.send().await.unwrap();
            resp.bytes().await.map(|b| b.len()).ok()
        }
    }))
    .await;
    reqwest::get(format!("{}/health", server.base_url()))
        .await
        .unwrap();
    server.shutdown().await;

    let lines = truth(&log);
    assert_eq!(lines.len(), 6, "5 generations and 1 health check");
    let gens: Vec<&Value> = lines.iter().filter(|l| l["seq"].is_u64()).collect();
    assert_eq!(gens.len(), 5);
    let mut starts = vec![];
    for l in &gens {
        let t = |k: &str| l[k].as_u64().unwrap_or_else(|| panic!("{k} in {l}"));
        let (arrival, start, end, written) = (
            t("arrival_ns"),
            t("service_start_ns"),
            t("service_end_ns"),
            t("written_ns"),
        );
        assert!(arrival <= start && start <= end && end <= written, "{l}");
        assert!(end - start >= 29_000_000, "30 ms of service: {l}");
        assert_eq!(l["correlation_id"], "corr");
        let i: usize = l["request_id"].as_str().unwrap()[3..].parse().unwrap();
        if l["fault"] == "drop" {
            assert_eq!(l["outcome"], "aborted");
            assert!(sent[i].is_none(), "the client saw the drop");
        } else {
            assert_eq!(
                (&l["outcome"], &l["status"]),
                (&json!("complete"), &json!(200))
            );
            assert_eq!(l["bytes"].as_u64().unwrap() as usize, sent[i].unwrap());
        }
        starts.push((start, end));
    }
    starts.sort_unstable();
    for w in starts.windows(2) {
        assert!(
            w[0].1 <= w[1].0,
            "one slot: services never overlap {starts:?}"
        );
    }
    let health = lines.iter().find(|l| l["path"] == "/health").unwrap();
    assert_eq!(
        (&health["status"], &health["seq"]),
        (&json!(200), &Value::Null)
    );
}
