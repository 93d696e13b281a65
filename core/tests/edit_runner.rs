//! An edit run on virtual time: every request of an entry sends the
//! entry's one multipart body with its boundary in the Content-Type, the
//! records carry the input images and their metrics, the exports describe
//! the file parts, and an exported record reads back the same.

use bytes::Bytes;
use imgperf_core::edit::edit_workload;
use imgperf_core::endpoint::EndpointKind;
use imgperf_core::import::parse_line;
use imgperf_core::job::ExportLines;
use imgperf_core::metrics::{self, record_metrics, SummaryBuilder};
use imgperf_core::plan::{PromptSpec, SamplingStrategy};
use imgperf_core::reference::{ReferenceImage, References};
use imgperf_core::request::EndpointConfig;
use imgperf_core::runner::{self, Arrivals, Completed, RecordSink, RunPlan, RunSettings};
use imgperf_core::stop::StopSignal;
use imgperf_core::virtual_clock::{DelayTransport, VirtualRuntime};
use serde_json::Value;
use std::sync::Arc;

const MS: u64 = 1_000_000;

struct Sink(Vec<Completed>);

impl RecordSink for Sink {
    fn accept(&mut self, done: Completed) {
        self.0.push(done)
    }
}

/// A PNG of `w`×`h` as far as a header check goes.
fn png(w: u32, h: u32) -> Bytes {
    let mut b = vec![0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A];
    b.extend_from_slice(&13u32.to_be_bytes());
    b.extend_from_slice(b"IHDR");
    b.extend_from_slice(&w.to_be_bytes());
    b.extend_from_slice(&h.to_be_bytes());
    b.extend_from_slice(&[8, 2, 0, 0, 0, 0, 0, 0, 0]);
    b.extend(std::iter::repeat_n(7u8, 1000));
    b.extend_from_slice(&[0, 0, 0, 0, b'I', b'E', b'N', b'D', 0xAE, 0x42, 0x60, 0x82]);
    Bytes::from(b)
}

#[test]
fn edit_requests_share_their_entrys_body_and_records_carry_the_inputs() {
    let rt = VirtualRuntime::new();
    let server = Arc::new(DelayTransport::new(&rt, 100 * MS, 4));
    let endpoint = EndpointConfig {
        urls: vec!["http://127.0.0.1:1".into()],
        endpoint_path: EndpointKind::ImageEdit.default_path().into(),
        model: "m".into(),
        api_key: Some("sk-secret".into()),
        headers: vec![],
        extra_inputs: Default::default(),
        streaming: false,
        kind: EndpointKind::ImageEdit,
    };
    let prompts: Vec<PromptSpec> = ["make it night", "add snow"]
        .iter()
        .map(|p| PromptSpec {
            prompt: p.to_string(),
            extra: None,
        })
        .collect();
    let img = |w, h, src: &str| Arc::new(ReferenceImage::from_bytes(png(w, h), src).unwrap());
    let refs = vec![
        References {
            images: vec![img(640, 480, "a.png")],
            mask: None,
        },
        References {
            images: vec![img(100, 100, "b.png"), img(200, 50, "c.png")],
            mask: None,
        },
    ];
    let workload = edit_workload(&prompts, &refs, &endpoint, None, 5, false);
    let settings = RunSettings {
        concurrency: Some(2),
        concurrency_ramp: vec![],
        request_count: Some(4),
        duration_ns: None,
        grace_period_ns: 0,
        warmup_request_count: 0,
        warmup_duration_ns: None,
        cancellation: None,
        sampling: SamplingStrategy::Sequential,
        seed: 1,
        id_seed: 2,
        export: ExportLines {
            records: true,
            raw: true,
        },
        validate_images: Default::default(),
        video: Default::default(),
    };
    let plan = RunPlan {
        endpoint: &endpoint,
        workload: &workload,
        settings: &settings,
    };
    let mut sink = Sink(vec![]);
    rt.block_on(runner::run(
        plan,
        Arrivals::Closed,
        server.clone(),
        rt.clone(),
        &mut sink,
        &StopSignal::new(),
    ));
    assert_eq!(server.served().len(), 4);
    assert!(server
        .served()
        .iter()
        .all(|s| s.url == "http://127.0.0.1:1/v1/images/edits"));

    let mut done = sink.0;
    done.sort_by_key(|c| c.record.session_num);
    let second = &done[1].record;
    assert_eq!(second.input_images.len(), 2);
    assert_eq!(
        (second.input_images[1].width, second.input_images[1].height),
        (200, 50)
    );
    let m: Vec<(&str, f64)> = record_metrics(second)
        .into_iter()
        .map(|(d, v)| (d.tag, v))
        .collect();
    let get = |tag: &str| m.iter().find(|(t, _)| *t == tag).map(|(_, v)| *v);
    assert_eq!(get("input_image_count"), Some(2.0));
    assert_eq!(get("input_image_bytes"), Some(2.0 * png(1, 1).len() as f64));
    assert_eq!(get("input_megapixels"), Some(0.02));
    assert_eq!(
        get("http_req_sending"),
        Some(0.0),
        "virtual uploads are instant"
    );
    assert_eq!(get("input_sequence_length"), None, "no tokenizer given");

    // The raw line: multipart Content-Type with the entry's boundary, the
    // key redacted, the payload's text fields and file descriptions.
    let raw: Value = serde_json::from_slice(&done[0].raw_line.as_ref().unwrap().to_vec()).unwrap();
    let headers = raw["request_headers"].as_object().unwrap();
    let ct = headers["Content-Type"].as_str().unwrap();
    assert_eq!(ct, &*workload.items[0].content_type);
    assert!(ct.starts_with("multipart/form-data; boundary=imgperf-"));
    assert_eq!(headers["Authorization"], "<redacted>");
    assert_eq!(raw["payload"]["prompt"], "make it night");
    assert_eq!(raw["payload"]["files"][0]["name"], "image");
    assert_eq!(raw["payload"]["files"][0]["width"], 640);
    let raw_again: Value =
        serde_json::from_slice(&done[2].raw_line.as_ref().unwrap().to_vec()).unwrap();
    assert_eq!(raw_again["payload"], raw["payload"], "entry 0 again");

    // The record line carries input_images and reads back the same.
    let line = done[1].record_line.as_ref().unwrap();
    let v: Value = serde_json::from_str(line).unwrap();
    assert_eq!(v["input_images"][0]["format"], "png");
    assert_eq!(v["input_images"][0]["sha256"].as_str().unwrap().len(), 16);
    let back = parse_line(line).unwrap().record;
    assert_eq!(back.input_images, second.input_images);
    assert_eq!(back.upload_ms(), Some(0.0));
    let raw_back = parse_line(&done[1].raw_line.as_ref().unwrap().to_string()).unwrap();
    assert_eq!(raw_back.record.input_images, second.input_images);

    let mut b = SummaryBuilder::new();
    done.iter().for_each(|c| b.add(&c.record));
    let s = b.finish();
    let stats = |tag: &str| match &s.get(tag).unwrap().value {
        metrics::MetricValue::Distribution(st) => *st,
        other => panic!("{other:?}"),
    };
    assert_eq!(stats("input_image_count").avg, 1.5);
    assert_eq!(stats("input_megapixels").max, 0.3072);
}
