//! Round trips: records and raw lines written by `export` read back into the
//! same records (and the same table); summary JSON back into the same rows.

use super::*;
use crate::export::{raw_line, record_line, summary_json, RawResponse, RawText, RunInfo};
use crate::metrics::tests::{err, rec, tutorial};
use crate::metrics::SummaryBuilder;
use crate::table;
use serde_json::json;

const ORIGIN: u64 = 1_760_732_527_000_000_000;

fn shifted(r: &RequestRecord) -> RequestRecord {
    let mut r = r.clone();
    for t in [
        &mut r.credit_issued_ns,
        &mut r.slot_acquired_ns,
        &mut r.request_start_ns,
        &mut r.request_end_ns,
    ] {
        *t += ORIGIN;
    }
    r.first_byte_ns = r.first_byte_ns.map(|t| t + ORIGIN);
    r
}

#[test]
fn record_lines_round_trip_to_the_same_table() {
    let mut failed = rec(3, 50_000_000_000, 4.0, Some(9));
    failed.error = Some(err(500, "HTTPError"));
    let records: Vec<RequestRecord> = tutorial().into_iter().chain([failed]).collect();
    let (mut direct, mut imported) = (SummaryBuilder::new(), SummaryBuilder::new());
    for r in &records {
        direct.add(r);
        let line = parse_line(&record_line(r, ORIGIN)).unwrap();
        assert_eq!(line.kind, LineKind::Records);
        let mut want = shifted(r);
        if !r.is_valid() {
            // A failed request's line carries no bytes or image count.
            (want.response_bytes, want.image_count) = (0, 0);
        }
        assert_eq!(line.record, want);
        imported.add(&line.record);
    }
    let (a, b) = (direct.finish(), imported.finish());
    assert_eq!(table::rows(&a), table::rows(&b));
    assert_eq!(a.error_summary, b.error_summary);
}

#[test]
fn raw_line_gives_prompt_bytes_and_images() {
    let r = rec(1, 2_000, 5.0, Some(7));
    let body = json!({"created": 1, "data": [{"b64_json": "iVBORw0KGgo="}, {"b64_json": "AAAA"}]})
        .to_string();
    let resp = RawResponse {
        perf_ns: 7_000,
        text: RawText::from(body.as_str()),
        content_type: Some("application/json"),
    };
    let payload = json!({"prompt": "a \"cat\"\nin snow", "model": "m"});
    let line = raw_line(&r, ORIGIN, &payload, &[], Some(resp)).to_string();
    let got = parse_line(&line).unwrap();
    assert_eq!(got.kind, LineKind::Raw);
    assert_eq!(got.prompt.as_deref(), Some("a \"cat\"\nin snow"));
    assert_eq!(got.responses[0].text, body);
    assert_eq!(got.record.response_bytes, body.len() as u64);
    assert_eq!(got.record.image_count, 2);
    assert_eq!(got.record.input_sequence_length, None);
    // Measured again as the run would: two items where n = 1 asked for one.
    let out = &got.record.output;
    assert_eq!(out.delivery, Some(crate::output::Delivery::B64Json));
    assert_eq!(out.final_image_ns, Some(ORIGIN + r.request_end_ns));
    assert!(out
        .issues
        .iter()
        .any(|i| i.message.contains("2 images returned")));
    let mut want = shifted(&r);
    (
        want.input_sequence_length,
        want.response_bytes,
        want.image_count,
    ) = (None, body.len() as u64, 2);
    want.output = out.clone();
    assert_eq!(got.record, want);
}

#[test]
fn aiperf_style_line_and_garbage() {
    let line = r#"{"metadata":{"session_num":0,"x_request_id":"a","request_start_ns":10,
        "request_ack_ns":20,"request_end_ns":1000010,"worker_id":"w","benchmark_phase":"profiling"},
        "metrics":{"request_latency":{"value":1.0,"unit":"ms"}},"error":null}"#
        .replace('\n', "");
    let got = parse_line(&line).unwrap();
    assert_eq!(got.record.credit_issued_ns, 10);
    assert_eq!(got.record.slot_acquired_ns, 10);
    assert_eq!(got.record.latency_ms(), 1.0);
    assert!(parse_line("not json").is_err());
    assert!(parse_line(r#"{"metadata":{"request_start_ns":1,"request_end_ns":2}}"#).is_err());
}

#[test]
fn summary_json_round_trip() {
    let mut b = SummaryBuilder::new();
    tutorial().iter().for_each(|r| b.add(r));
    let s = b.finish();
    let info = RunInfo {
        cli_command: "imgperf profile".into(),
        input_config: json!({"loadgen": {"concurrency": 1}}),
        was_cancelled: true,
        wall_origin_ns: ORIGIN,
    };
    let v = summary_json(&s, &info);
    let got = parse_summary(&v).unwrap();
    assert_eq!(table::rows(&got.summary), table::rows(&s));
    assert_eq!(got.summary.request_count, 3);
    assert!(got.was_cancelled);
    assert_eq!(got.input_config["cli_command"], "imgperf profile");
    assert_eq!(got.start_time, v["start_time"].as_str().map(str::to_owned));
    assert!(parse_summary(&json!({"x": 1})).is_err());
    assert!(parse_summary(&json!([1])).is_err());
}

#[test]
fn goodput_metrics_come_back_from_a_summary() {
    let goodput = crate::goodput::Goodput::parse("request_latency:12500").unwrap();
    let mut b = SummaryBuilder::with_goodput(goodput);
    tutorial().iter().for_each(|r| b.add(r));
    let s = b.finish();
    let info = RunInfo {
        cli_command: "imgperf profile".into(),
        input_config: json!({}),
        was_cancelled: false,
        wall_origin_ns: ORIGIN,
    };
    let got = parse_summary(&summary_json(&s, &info)).unwrap();
    for tag in ["good_request_count", "goodput", "slo_attainment"] {
        assert_eq!(got.summary.get(tag), s.get(tag), "{tag}");
        assert!(got.summary.get(tag).is_some(), "{tag}");
    }
}
