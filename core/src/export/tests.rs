//! Unit tests of the export formats.

use super::*;
use crate::metrics::tests::{err, rec, tutorial};
use crate::metrics::SummaryBuilder;

const ORIGIN: u64 = 1_760_732_527_000_000_000;

fn parse(line: &str) -> Value {
    assert!(!line.ends_with('\n'));
    serde_json::from_str(line).unwrap()
}

#[test]
fn record_line_valid() {
    let r = rec(3, 1_000_000_000, 12251.41, Some(7));
    let (start, end) = (ORIGIN + 1_000_000_000, ORIGIN + r.request_end_ns);
    let v = parse(&record_line(&r, ORIGIN));
    let metadata = json!({
        "session_num": 3, "x_request_id": "req-3", "x_correlation_id": "corr-3",
        "conversation_id": "conv-3", "turn_index": 0, "credit_issued_ns": start, "slot_acquired_ns": start,
        "request_start_ns": start, "request_ack_ns": end - 1_000_000,
        "request_end_ns": end, "worker_id": "worker_0", "benchmark_phase": "profiling",
        "was_cancelled": false, "cancellation_time_ns": null,
        "url": "http://localhost:30000/v1/images/generations", "status": 200,
        "connection_retries": 0,
    });
    assert_eq!(v["metadata"], metadata);
    let metrics = json!({
        "request_latency": {"value": 12251.41, "unit": "ms"},
        "input_sequence_length": {"value": 7, "unit": "tokens"},
        "http_req_waiting": {"value": 12250.41, "unit": "ms"},
        "http_req_receiving": {"value": 1.0, "unit": "ms"},
        "response_bytes": {"value": 1000, "unit": "bytes"},
        "output_image_count": {"value": 1, "unit": "images"},
        "schedule_lag": {"value": 0.0, "unit": "ms"},
        "client_queue_time": {"value": 0.0, "unit": "ms"},
        "request_latency_from_scheduled": {"value": 12251.41, "unit": "ms"},
        "image_latency": {"value": 12251.41, "unit": "ms/image"},
    });
    assert_eq!(v["metrics"], metrics);
    assert!(v["metrics"]["input_sequence_length"]["value"].is_u64());
    assert!(v["metrics"]["response_bytes"]["value"].is_u64());
    assert_eq!(v["error"], Value::Null);
    assert_eq!(v.as_object().unwrap().len(), 3);
    // Metrics keep registry order, and `value` before `unit`, in the text.
    let line = record_line(&r, ORIGIN);
    assert!(line.find("request_latency") < line.find("input_sequence_length"));
    assert!(line.contains(r#""input_sequence_length":{"value":7,"unit":"tokens"}"#));
}

#[test]
fn stale_connection_retry_is_exported_and_read_back() {
    // Lost 7 ms on a stale pooled connection, then sent again at 1.007 s.
    let mut r = rec(4, 1_007_000_000, 50.0, Some(7));
    r.credit_issued_ns = 1_000_000_000;
    r.slot_acquired_ns = 1_000_000_000;
    r.stale_attempt_ns = Some(1_000_000_000);
    r.output.server.inference_time_s = Some(0.030);
    let line = record_line(&r, ORIGIN);
    let v = parse(&line);
    assert_eq!(v["metadata"]["connection_retries"], 1);
    assert_eq!(
        v["metadata"]["stale_attempt_start_ns"],
        ORIGIN + 1_000_000_000
    );
    let metric = |tag: &str| v["metrics"][tag]["value"].as_f64().unwrap();
    assert!((metric("stale_connection_time") - 7.0).abs() < 1e-9);
    // The lost time is the client's: in the schedule lag, not the latency.
    assert!((metric("schedule_lag") - 7.0).abs() < 1e-9);
    assert!((metric("request_latency") - 50.0).abs() < 1e-9);
    // Time to first byte (49 ms) less the server's 30 ms of inference.
    assert!((metric("server_queue_overhead") - 19.0).abs() < 1e-9);
    let back = crate::import::parse_line(&line).unwrap().record;
    assert_eq!(back.stale_attempt_ns, Some(ORIGIN + 1_000_000_000));
    assert_eq!(back.connection_retries(), 1);
    let mut b = SummaryBuilder::new();
    b.add(&r);
    b.add(&rec(5, 2_000_000_000, 50.0, Some(7)));
    let s = b.finish();
    assert_eq!(
        s.get("stale_connection_retries").map(|m| &m.value),
        Some(&crate::metrics::MetricValue::Scalar(1.0))
    );
    let rows = crate::table::rows(&s);
    assert!(rows.iter().any(|r| r.def.tag == "stale_connection_retries"));
    // Without a retry the console row is left out; the summary keeps the 0.
    let mut quiet = SummaryBuilder::new();
    quiet.add(&rec(5, 2_000_000_000, 50.0, Some(7)));
    let s = quiet.finish();
    assert!(s.get("stale_connection_retries").is_some());
    assert!(!crate::table::rows(&s)
        .iter()
        .any(|r| r.def.tag == "stale_connection_retries"));
}

#[test]
fn record_line_error_cancelled() {
    let mut r = rec(0, 500, 10.0, Some(9));
    r.error = Some(err(499, "RequestCancellationError"));
    (r.was_cancelled, r.first_byte_ns, r.status) = (true, None, None);
    r.phase = Phase::Warmup;
    let v = parse(&record_line(&r, ORIGIN));
    let md = &v["metadata"];
    assert_eq!(md["request_ack_ns"], Value::Null);
    assert_eq!(md["cancellation_time_ns"], ORIGIN + r.request_end_ns);
    assert_eq!(md["benchmark_phase"], "warmup");
    assert_eq!(md["status"], Value::Null);
    let want = json!({
        "metrics": {"error_isl": {"value": 9, "unit": "tokens"}},
        "error": {"code": 499, "type": "RequestCancellationError",
                  "message": "RequestCancellationError happened"},
    });
    assert_eq!(
        (&v["metrics"], &v["error"]),
        (&want["metrics"], &want["error"])
    );
}

#[test]
fn raw_line_with_image_body() {
    let r = rec(1, 2_000, 5.0, Some(7));
    let b64 = "QUJD".repeat(300_000); // 1.2 MB
    let body = json!({"created": 1, "data": [{"b64_json": b64}]}).to_string();
    let payload = json!({"prompt": "a cat", "model": "m", "n": 1});
    let headers = [("X-Request-ID".to_string(), "req-1".to_string())];
    let content_type = Some("application/json");
    let resp = RawResponse {
        perf_ns: 7_000,
        text: RawText::from(body.as_str()),
        content_type,
    };
    let v = parse(&raw_line(&r, ORIGIN, &payload, &headers, Some(resp)).to_string());
    assert_eq!(v["metadata"]["request_start_ns"], ORIGIN + 2_000);
    assert_eq!(v["start_perf_ns"], 2_000);
    assert_eq!(v["payload"], payload);
    assert_eq!(v["request_headers"], json!({"X-Request-ID": "req-1"}));
    assert_eq!((&v["status"], &v["error"]), (&json!(200), &Value::Null));
    assert_eq!(v["responses"][0]["perf_ns"], 7_000);
    assert_eq!(v["responses"][0]["content_type"], "application/json");
    // What the tutorial's extract_images.py does.
    let text = v["responses"][0]["text"].as_str().unwrap();
    let inner: Value = serde_json::from_str(text).unwrap();
    assert_eq!(inner["data"][0]["b64_json"].as_str().unwrap(), b64);
}

#[test]
fn raw_line_without_response() {
    let mut r = rec(2, 0, 1.0, None);
    r.error = Some(err(500, "HTTPError"));
    let v = parse(&raw_line(&r, 0, &json!({"prompt": "x"}), &[], None).to_string());
    assert_eq!(v["responses"], json!([]));
    assert_eq!(v["request_headers"], json!({}));
    let e = json!({"code": 500, "type": "HTTPError", "message": "HTTPError happened"});
    assert_eq!(v["error"], e);
}

/// The tutorial run plus one cancelled failure.
fn summary() -> Summary {
    let mut b = SummaryBuilder::new();
    tutorial().iter().for_each(|r| b.add(r));
    let mut e = rec(9, 0, 1.0, Some(5));
    (e.error, e.was_cancelled) = (Some(err(500, "HTTPError")), true);
    b.add(&e);
    b.finish()
}

#[test]
fn summary_json_shape() {
    let info = RunInfo {
        cli_command: "imgperf profile -m m".into(),
        input_config: json!({"endpoint": {"type": "image_generation"}}),
        was_cancelled: false,
        wall_origin_ns: 1_760_732_528_000_000_000,
    };
    let v = summary_json(&summary(), &info);
    let lat = &v["request_latency"];
    assert_eq!(format!("{:.2}", lat["p99"].as_f64().unwrap()), "12947.91");
    let stats = "avg min max sum p1 p5 p10 p25 p50 p75 p90 p95 p99 std";
    assert!(stats.split(' ').all(|k| lat[k].is_f64()));
    assert_eq!(
        (lat.as_object().unwrap().len(), &lat["unit"]),
        (15, &json!("ms"))
    );
    let want = json!({
        "request_count": {"unit": "requests", "avg": 3.0},
        "error_request_count": {"unit": "requests", "avg": 1.0},
        "input_config": {"endpoint": {"type": "image_generation"},
                         "cli_command": "imgperf profile -m m"},
        "was_cancelled": false, "cancelled_request_count": 1,
        "error_summary": [{"count": 1, "error_details":
            {"code": 500, "type": "HTTPError", "message": "HTTPError happened"}}],
        "start_time": "2025-10-17T20:22:08.000000",
        "end_time": "2025-10-17T20:22:46.852742",
    });
    for (key, value) in want.as_object().unwrap() {
        assert_eq!(&v[key], value, "{key}");
    }
    assert_eq!(v["error_isl"]["avg"], 5.0);
    let empty = summary_json(&SummaryBuilder::new().finish(), &info);
    assert_eq!(
        (&empty["start_time"], &empty["end_time"]),
        (&Value::Null, &Value::Null)
    );
    assert_eq!(empty["error_summary"], json!([]));
}

#[test]
fn summary_csv_layout() {
    let csv = summary_csv(&summary());
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(
        lines[0],
        "Metric,avg,min,max,sum,p1,p5,p10,p25,p50,p75,p90,p95,p99,std"
    );
    let latency = "Request Latency (ms),12617.58,12251.41,12954.04,37852.74,12259.33,\
        12291.00,12330.59,12449.35,12647.29,12800.67,12892.69,12923.37,12947.91,287.62";
    assert_eq!(lines[1], latency);
    assert!(lines[2].starts_with("Input Sequence Length (tokens),6.67,6.00,7.00,20.00,"));
    let blank = lines.iter().position(|l| l.is_empty()).unwrap();
    assert!(lines[1..blank].iter().all(|l| l.split(',').count() == 15));
    assert_eq!(lines[blank + 1], "Metric,Value");
    assert_eq!(lines[blank + 2], "Request Throughput (requests/sec),0.08");
    assert!(lines.contains(&"Request Count (requests),3.00"));
    assert!(lines.contains(&"Error Request Count (requests),1.00"));
    assert!(csv.ends_with("\n") && !csv.ends_with("\n\n"));
    assert_eq!(csv_field("a,b"), "\"a,b\"");
    assert_eq!(csv_field("say \"hi\", x"), "\"say \"\"hi\"\", x\"");
    assert_eq!(csv_field("plain"), "plain");
}

#[test]
fn inputs_json_shape() {
    let v = inputs_json(&[
        ("s1".into(), json!({"prompt": "a"})),
        ("s2".into(), json!({})),
    ]);
    let first = json!({"session_id": "s1", "payloads": [{"prompt": "a"}]});
    assert_eq!(
        (&v["data"][0], v["data"].as_array().unwrap().len()),
        (&first, 2)
    );
    assert_eq!(inputs_json(&[]), json!({"data": []}));
}

#[test]
fn wall_time_format() {
    let t = 1_760_732_528_939_332_000;
    assert_eq!(format_wall_time(t), "2025-10-17T20:22:08.939332");
    assert_eq!(format_wall_time(t + 499), "2025-10-17T20:22:08.939332");
    assert_eq!(format_wall_time(t + 500), "2025-10-17T20:22:08.939333");
    assert_eq!(
        format_wall_time(t + 60_667_600),
        "2025-10-17T20:22:09.000000"
    );
    assert_eq!(format_wall_time(0), "1970-01-01T00:00:00.000000");
}

#[test]
fn wall_time_parses_back() {
    let t = 1_760_732_528_939_332_000;
    assert_eq!(parse_wall_time("2025-10-17T20:22:08.939332"), Some(t));
    assert_eq!(parse_wall_time("1970-01-01T00:00:00"), Some(0));
    assert_eq!(
        parse_wall_time("2000-03-01T00:00:00.5Z"),
        Some(951_868_800_500_000_000)
    );
    for t in [0u64, 951_782_400_000_000_000, 4_102_444_799_999_999_000] {
        assert_eq!(parse_wall_time(&format_wall_time(t)), Some(t));
    }
    assert_eq!(parse_wall_time("2025-13-01T00:00:00"), None);
    assert_eq!(parse_wall_time("yesterday"), None);
}
