//! Browser tests (wasm-bindgen-test in headless Chromium): the fetch
//! transport against a local `imgperf serve-mock` (URLs given at build time
//! by scripts/test.sh: `IMGPERF_TEST_MOCK_URL` with CORS,
//! `IMGPERF_TEST_NO_CORS_URL` without), core's runner on the browser
//! runtime, and the streaming file reader.
#![cfg(target_arch = "wasm32")]

use imgperf_core::metrics::SummaryBuilder;
use imgperf_core::plan::{PromptSpec, SamplingStrategy, Workload};
use imgperf_core::platform::Runtime;
use imgperf_core::record::Phase;
use imgperf_core::request::EndpointConfig;
use imgperf_core::runner::{self, Arrivals, Completed, RecordSink, RunPlan, RunSettings};
use imgperf_core::stop::StopSignal;
use imgperf_core::transport::{FailureKind, HttpRequest, Method, Transport};
use imgperf_web::model::body_images;
use imgperf_web::platform::fetch::{FetchTransport, CORS_HINT};
use imgperf_web::platform::files::{read_range, FileLines};
use imgperf_web::platform::runtime::WebRuntime;
use std::sync::Arc;
use wasm_bindgen::JsValue;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

const MOCK: Option<&str> = option_env!("IMGPERF_TEST_MOCK_URL");
const NO_CORS: Option<&str> = option_env!("IMGPERF_TEST_NO_CORS_URL");

fn mock() -> &'static str {
    MOCK.expect(
        "set IMGPERF_TEST_MOCK_URL to an `imgperf serve-mock --cors` URL (scripts/test.sh does)",
    )
}

fn generation(base: &str, size: &str) -> HttpRequest {
    let body = format!(
        r#"{{"prompt":"a red fox","model":"m","n":1,"size":"{size}","response_format":"b64_json"}}"#
    );
    HttpRequest {
        method: Method::Post,
        url: format!("{base}/v1/images/generations"),
        headers: vec![
            ("User-Agent".into(), "imgperf-test".into()),
            ("X-Request-ID".into(), "req-1".into()),
            ("Content-Type".into(), "application/json".into()),
        ],
        body: body.into_bytes().into(),
    }
}

fn transport(max_body: usize) -> FetchTransport {
    FetchTransport::new(WebRuntime::new(), 30.0, max_body)
}

#[wasm_bindgen_test]
async fn fetch_gets_an_image_with_timings_and_chunks() {
    let resp = transport(64 << 20)
        .send(generation(mock(), "96x64"))
        .await
        .expect("a response");
    assert_eq!(resp.status, 200);
    assert_eq!(resp.header("content-type"), Some("application/json"));
    let t = resp.timing;
    let first = t.first_byte_ns.expect("first byte time");
    assert!(t.start_ns <= first && first <= t.end_ns, "{t:?}");
    assert_eq!(resp.chunks.last().map(|c| c.1), Some(resp.body.len()));
    assert!(resp
        .chunks
        .windows(2)
        .all(|w| w[0].0 <= w[1].0 && w[0].1 < w[1].1));
    let images = body_images(std::str::from_utf8(&resp.body).unwrap(), false);
    assert_eq!(images.len(), 1);
    assert_eq!(
        (images[0].format.as_str(), images[0].width, images[0].height),
        ("png", 96, 64)
    );
}

#[wasm_bindgen_test]
async fn fetch_caps_the_body_size() {
    let err = transport(100)
        .send(generation(mock(), "64x64"))
        .await
        .unwrap_err();
    assert_eq!(err.kind, FailureKind::BodyTooLarge);
    assert_eq!(err.status, Some(200));
}

#[wasm_bindgen_test]
async fn fetch_without_cors_or_server_is_the_opaque_error() {
    let base = NO_CORS
        .expect("set IMGPERF_TEST_NO_CORS_URL to an `imgperf serve-mock` URL without --cors");
    for url in [base, "http://127.0.0.1:9"] {
        let err = transport(1 << 20)
            .send(generation(url, "64x64"))
            .await
            .unwrap_err();
        assert_eq!(err.kind, FailureKind::Connect, "{url}");
        assert!(err.message.starts_with(CORS_HINT), "{}", err.message);
        assert_eq!(err.status, None);
    }
}

#[derive(Default)]
struct Sink {
    issued: u32,
    done: Vec<Completed>,
}

impl RecordSink for Sink {
    fn issued(&mut self, _: Phase) {
        self.issued += 1;
    }
    fn accept(&mut self, done: Completed) {
        self.done.push(done);
    }
}

#[wasm_bindgen_test]
async fn core_runner_runs_on_the_browser_runtime() {
    let endpoint = EndpointConfig {
        urls: vec![mock().to_owned()],
        endpoint_path: "/v1/images/generations".into(),
        model: "mock-image-model".into(),
        api_key: Some("secret".into()),
        headers: Vec::new(),
        extra_inputs: serde_json::from_str(r#"{"size": "64x64"}"#).unwrap(),
        streaming: false,
        kind: Default::default(),
    };
    let prompts: Vec<PromptSpec> = ["a cat", "a dog"]
        .iter()
        .map(|p| PromptSpec {
            prompt: p.to_string(),
            extra: None,
        })
        .collect();
    let workload = Workload::build(&prompts, &endpoint, None, 1);
    let settings = RunSettings {
        concurrency: Some(2),
        concurrency_ramp: Vec::new(),
        request_count: Some(5),
        duration_ns: None,
        grace_period_ns: 10_000_000_000,
        warmup_request_count: 1,
        warmup_duration_ns: None,
        cancellation: None,
        sampling: SamplingStrategy::Sequential,
        seed: 1,
        id_seed: 2,
        export: imgperf_core::job::ExportLines {
            records: true,
            raw: true,
        },
        validate_images: Default::default(),
        video: Default::default(),
    };
    let rt = WebRuntime::new();
    let mut sink = Sink::default();
    let plan = RunPlan {
        endpoint: &endpoint,
        workload: &workload,
        settings: &settings,
    };
    let t0 = rt.now_ns();
    let outcome = runner::run(
        plan,
        Arrivals::Closed,
        Arc::new(transport(64 << 20)),
        rt,
        &mut sink,
        &StopSignal::new(),
    )
    .await;
    assert!(!outcome.was_cancelled);
    assert_eq!((sink.issued, sink.done.len()), (6, 6));
    let mut summary = SummaryBuilder::new();
    for d in &sink.done {
        assert!(d.record.is_valid(), "{:?}", d.record.error);
        assert!(d.record.request_start_ns >= t0);
        let raw = d.raw_line.as_ref().unwrap().to_string();
        assert!(raw.contains(r#""Authorization":"<redacted>""#) && !raw.contains("secret"));
        summary.add(&d.record);
    }
    assert_eq!(summary.finish().request_count, 5, "warm-up kept apart");
}

fn file_of(parts: &[&str]) -> web_sys::File {
    let array = js_sys::Array::new();
    for p in parts {
        array.push(&JsValue::from_str(p));
    }
    web_sys::File::new_with_str_sequence(&array, "export.jsonl").unwrap()
}

#[wasm_bindgen_test]
async fn file_lines_stream_in_small_chunks_with_offsets() {
    let long = "x".repeat(50_000);
    let content = format!("first\r\n{long}\n\nünïcode line\nlast without newline");
    let file = file_of(&[&content[..10], &content[10..]]);
    for chunk in [7, 4096, 1 << 20] {
        let mut lines = FileLines::new(&file, chunk);
        let mut got = Vec::new();
        while let Some(l) = lines.next_line().await.unwrap() {
            got.push((l.offset, String::from_utf8(l.bytes).unwrap()));
        }
        let texts: Vec<&str> = got.iter().map(|(_, t)| t.as_str()).collect();
        assert_eq!(
            texts,
            [
                "first",
                long.as_str(),
                "",
                "ünïcode line",
                "last without newline"
            ],
            "chunk {chunk}"
        );
        assert_eq!(lines.position(), content.len() as u64);
        // Every line can be read back alone from its offset.
        for (offset, text) in &got {
            let back = read_range(&file, *offset, offset + text.len() as u64)
                .await
                .unwrap();
            assert_eq!(back, text.as_bytes());
        }
    }
}
