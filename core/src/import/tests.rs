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
    r.stale_attempt_ns = r.stale_attempt_ns.map(|t| t + ORIGIN);
    r.upload_end_ns = r.upload_end_ns.map(|t| t + ORIGIN);
    let o = &mut r.output;
    for t in [&mut o.first_image_ns, &mut o.final_image_ns] {
        *t = t.map(|t| t + ORIGIN);
    }
    o.partial_image_ns.iter_mut().for_each(|t| *t += ORIGIN);
    o.download = o.download.map(|(a, b)| (a + ORIGIN, b + ORIGIN));
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

/// Records that between them produce every per-request metric: streamed
/// partial images, downloaded URLs, server figures, image issues, two
/// requested sizes, stale-connection retries, failures with and without an
/// answer, a cancellation, a timeout and a request cut in the queue, and
/// edits (uploaded references, upload time).
fn every_kind() -> Vec<RequestRecord> {
    use crate::images::ImageFormat;
    use crate::output::{Delivery, ImageIssue, ImageMeta, IssueKind};
    let image = |index, w, h, bytes| ImageMeta {
        index,
        format: ImageFormat::Png,
        width: w,
        height: h,
        bytes,
    };
    let mut out = Vec::new();
    for i in 0..12u64 {
        let start = 1_000_000_000 + i * 700_123_457;
        let mut r = rec(i, start, 900.0 + 37.3 * i as f64, Some(5 + i));
        r.credit_issued_ns = start - 1_234_567 * (i % 3);
        r.slot_acquired_ns = start - 234_567 * (i % 2);
        r.worker_id = format!("worker_{}", i % 4);
        if i % 5 == 1 {
            // Sent again after a stale pooled connection.
            r.stale_attempt_ns = Some(start - 3_141_593);
        }
        if i % 4 == 3 {
            // An edit: its uploaded references and upload time.
            let input = |w, h, bytes| crate::reference::InputImageMeta {
                format: ImageFormat::Jpeg,
                width: w,
                height: h,
                bytes,
                sha256: format!("{:016x}", 0x5eed_0000 + i * 7 + bytes),
            };
            r.input_images = vec![input(640, 480, 61_234 + i), input(32, 48, 999)].into();
            r.upload_end_ns = Some(start + 2_718_281 + i);
        }
        let o = &mut r.output;
        o.requested_images = Some(1 + (i % 2) as u32);
        o.requested_size = Some(if i % 3 == 0 { "512x512" } else { "256x256" }.into());
        let side = if i % 3 == 0 { 512 } else { 256 };
        o.images = vec![image(0, side, side, 100_003 + i)];
        o.image_bytes = Some(100_003 + i);
        o.first_image_ns = Some(r.request_end_ns - 3_000_001);
        o.final_image_ns = Some(r.request_end_ns - 1_000_003);
        o.server.inference_time_s = Some(0.1 + 0.0731 * i as f64);
        o.server.peak_memory_mb = Some(20_480.5 + i as f64);
        match i % 4 {
            0 => {
                o.delivery = Some(Delivery::Stream);
                o.stream_requested = true;
                o.partial_image_ns = vec![
                    start + 100_000_007,
                    start + 250_000_011,
                    start + 433_333_333,
                ];
            }
            1 => {
                o.delivery = Some(Delivery::Url);
                o.download = Some((r.request_end_ns - 50_000_000, r.request_end_ns - 1_000_003));
            }
            2 => {
                o.delivery = Some(Delivery::B64Json);
                o.stream_requested = true;
                (o.server.input_tokens, o.server.output_tokens) = (Some(12 + i), Some(4160));
                o.server.total_tokens = Some(4172 + i);
            }
            _ => {
                o.delivery = Some(Delivery::B64Json);
                o.issues = vec![ImageIssue {
                    index: None,
                    kind: IssueKind::CountMismatch,
                    message: "1 image returned, 2 requested".into(),
                }];
            }
        }
        out.push(r);
    }
    let mut failed = rec(12, 9_000_000_000, 40.0, Some(9));
    failed.error = Some(err(500, "HTTPError"));
    failed.output.requested_size = Some("512x512".into());
    failed.output.stream_requested = true;
    let mut timeout = rec(13, 9_100_000_000, 600_000.0, Some(3));
    timeout.error = Some(err(408, "RequestTimeout"));
    timeout.first_byte_ns = None;
    timeout.output.requested_size = Some("256x256".into());
    let mut cancelled = rec(14, 9_200_000_000, 12.5, None);
    cancelled.error = Some(err(499, "RequestCancelled"));
    cancelled.was_cancelled = true;
    let mut queued = rec(15, 9_300_000_000, 0.0, Some(4));
    queued.error = Some(err(499, "RequestCancelled"));
    (queued.was_cancelled, queued.worker_id) = (true, "queue".into());
    out.extend([failed, timeout, cancelled, queued]);
    out
}

#[test]
fn every_metric_round_trips_through_record_lines() {
    let goodput = crate::goodput::Goodput::parse(
        "request_latency:1200 time_to_first_image:1100 inter_partial_image_latency:190",
    )
    .unwrap();
    let records = every_kind();
    let mut direct = SummaryBuilder::with_goodput(goodput.clone());
    let mut imported = SummaryBuilder::with_goodput(goodput);
    for r in &records {
        direct.add(r);
        let line = parse_line(&record_line(r, ORIGIN)).unwrap();
        if r.is_valid() {
            let mut want = shifted(r);
            // Only the downloads' duration is exported.
            let start = want.request_start_ns;
            want.output.download = want.output.download.map(|(a, b)| (start, start + b - a));
            assert_eq!(line.record, want, "{}", record_line(r, ORIGIN));
        }
        imported.add(&line.record);
    }
    let (a, b) = (direct.finish(), imported.finish());
    let tags = |s: &Summary| s.metrics.iter().map(|m| m.def.tag).collect::<Vec<_>>();
    let every: Vec<&str> = crate::metrics::DISTRIBUTION_METRICS
        .iter()
        .chain(&crate::metrics::SCALAR_METRICS)
        .chain(&crate::metrics::GOODPUT_METRICS)
        .map(|d| d.tag)
        .collect();
    let mut have = tags(&a);
    have.sort_unstable();
    let mut want = every.clone();
    want.sort_unstable();
    assert_eq!(have, want, "the fixture gives every metric");
    assert_eq!(tags(&a), tags(&b));
    for (x, y) in a.metrics.iter().zip(&b.metrics) {
        assert_eq!(x, y, "{}", x.def.tag);
    }
    let epoch = |t: Option<u64>| t.map(|t| t + ORIGIN);
    let a = Summary {
        start_ns: epoch(a.start_ns),
        end_ns: epoch(a.end_ns),
        ..a
    };
    assert_eq!(a, b);
    let rows = |s: &Summary| table::rows(s).iter().map(|r| r.cells()).collect::<Vec<_>>();
    assert_eq!(rows(&a), rows(&b));
    assert_eq!(direct.report(), imported.report());
    let sizes: Vec<String> = direct
        .report()
        .per_size
        .into_iter()
        .map(|s| s.size)
        .collect();
    assert_eq!(sizes, ["256x256", "512x512", "default"]);
}

#[test]
fn a_sweep_summary_reads_back_per_point() {
    use crate::sweep::{grid, parse_axes, point_name, sweep_json, PointResult};
    let axes = parse_axes(&["concurrency=1,2".into(), "size=256x256".into()]).unwrap();
    let points = grid(&axes);
    let mut b = SummaryBuilder::new();
    tutorial().iter().for_each(|r| b.add(r));
    let s = b.finish();
    let results: Vec<PointResult> = points
        .iter()
        .map(|p| PointResult {
            point: p,
            dir: point_name(&axes, p),
            summary: &s,
            was_cancelled: false,
        })
        .collect();
    let json = sweep_json(&axes, &results);
    assert!(is_sweep_summary(&json));
    let back = parse_sweep_summary(&json).unwrap();
    assert_eq!(back.len(), 2);
    assert_eq!(back[1].name(), "concurrency=2 size=256x256");
    assert_eq!(back[1].artifact_dir, "concurrency2-size256x256");
    assert_eq!(table::rows(&back[0].summary), table::rows(&s));
    assert!(parse_sweep_summary(&json!({"points": []})).is_err());
}
