//! The parser on the text format's corner cases, and write → parse round trips.

use super::*;

const VLLM: &str = r#"# HELP vllm:num_requests_waiting Number of requests waiting to be processed.
# TYPE vllm:num_requests_waiting gauge
vllm:num_requests_waiting{engine="0",model_name="Qwen/Qwen3-0.6B"} 3.0
# HELP vllm:e2e_request_latency_seconds Histogram of e2e request latency in seconds.
# TYPE vllm:e2e_request_latency_seconds histogram
vllm:e2e_request_latency_seconds_bucket{le="0.3",model_name="m"} 0.0
vllm:e2e_request_latency_seconds_bucket{le="+Inf",model_name="m"} 12.0
vllm:e2e_request_latency_seconds_count{model_name="m"} 12.0
vllm:e2e_request_latency_seconds_sum{model_name="m"} 30.5
# TYPE vllm:generation_tokens counter
vllm:generation_tokens_total{model_name="m"} 1234.0
vllm:generation_tokens_created{model_name="m"} 1.7e9
"#;

#[test]
fn families_types_and_suffixes() {
    let e = parse(VLLM).unwrap();
    let names: Vec<(&str, MetricType, usize)> = e
        .families
        .iter()
        .map(|f| (f.name.as_str(), f.kind, f.samples.len()))
        .collect();
    assert_eq!(
        names,
        [
            ("vllm:num_requests_waiting", MetricType::Gauge, 1),
            ("vllm:e2e_request_latency_seconds", MetricType::Histogram, 4),
            ("vllm:generation_tokens", MetricType::Counter, 2),
        ]
    );
    let waiting = &e.families[0];
    assert_eq!(
        waiting.help.as_deref(),
        Some("Number of requests waiting to be processed.")
    );
    assert_eq!(
        waiting.samples[0].label("model_name"),
        Some("Qwen/Qwen3-0.6B")
    );
    assert_eq!(waiting.samples[0].value, 3.0);
    let inf = &e.families[1].samples[1];
    assert_eq!(inf.label("le"), Some("+Inf"));
    assert_eq!(e.families[2].samples[1].value, 1.7e9);
}

#[test]
fn label_escapes_special_values_and_timestamps() {
    let text = "# HELP m A \\\\ backslash\\nand a line\n\
                # TYPE m gauge\n\
                m{path=\"C:\\\\dir\",quote=\"say \\\"hi\\\"\",nl=\"a\\nb\",} NaN 1712345678901\n\
                m{k=\"+\"} +Inf -5\n\
                m\t{ k = \"-\" }\t-Inf\r\n\
                m{k=\"e\"} 1.5e-3\n\
                # just a comment\n\
                \n";
    let e = parse(text).unwrap();
    let f = &e.families[0];
    assert_eq!(f.help.as_deref(), Some("A \\ backslash\nand a line"));
    let s = &f.samples;
    assert_eq!(s[0].label("path"), Some("C:\\dir"));
    assert_eq!(s[0].label("quote"), Some("say \"hi\""));
    assert_eq!(s[0].label("nl"), Some("a\nb"));
    assert!(s[0].value.is_nan());
    assert_eq!(s[0].timestamp_ms, Some(1712345678901));
    assert_eq!(s[1].value, f64::INFINITY);
    assert_eq!(s[1].timestamp_ms, Some(-5));
    assert_eq!(s[2].value, f64::NEG_INFINITY);
    assert_eq!(s[2].label("k"), Some("-"));
    assert_eq!(s[3].value, 0.0015);
}

#[test]
fn summaries_and_untyped() {
    let text = "# TYPE rpc summary\n\
                rpc{quantile=\"0.5\"} 0.2\n\
                rpc{quantile=\"0.99\"} 1.1\n\
                rpc_sum 17\n\
                rpc_count 40\n\
                loose_metric 7\n";
    let e = parse(text).unwrap();
    assert_eq!(e.families[0].kind, MetricType::Summary);
    assert_eq!(e.families[0].samples.len(), 4);
    assert_eq!(e.family("loose_metric").unwrap().kind, MetricType::Untyped);
}

#[test]
fn quoted_utf8_names() {
    let text = "# TYPE \"gpu.power\" gauge\n{\"gpu.power\", \"gpu.id\"=\"0\"} 250\n";
    let e = parse(text).unwrap();
    let f = e.family("gpu.power").unwrap();
    assert_eq!(f.kind, MetricType::Gauge);
    assert_eq!(f.samples[0].label("gpu.id"), Some("0"));
    assert_eq!(parse(&write(&e)).unwrap(), e);
}

#[test]
fn malformed_lines_fail_with_their_number() {
    for (text, line, needle) in [
        ("ok 1\nbad{ 1\n", 2, "invalid name"),
        ("m{a=\"x\\q\"} 1", 1, "invalid escape"),
        ("m{a=\"x\"} one", 1, "not a number"),
        ("m 1 2 3", 1, "unexpected"),
        ("m 1 1.5", 1, "timestamp"),
        ("m{a=\"1\",a=\"2\"} 1", 1, "twice"),
        ("m{a=\"1} 1", 1, "unterminated"),
        ("m{a=\"1\"", 1, "expected ',' or"),
        ("# TYPE m gauge\n# TYPE m counter", 2, "second # TYPE"),
        ("m 1\n# TYPE m gauge", 2, "after samples"),
        ("# TYPE m histogram\nm_bucket 1", 2, "le label"),
        ("# TYPE m histogram\nm 1", 2, "histogram m"),
        ("# TYPE m summary\nm 1", 2, "quantile"),
        ("# TYPE m weird", 1, "unknown type"),
        ("{a=\"b\"} 1", 1, "without a metric name"),
        ("m", 1, "value"),
        ("0m 1", 1, "invalid name"),
        ("-m 1", 1, "expected a name"),
    ] {
        let err = parse(text).expect_err(text);
        assert_eq!(err.line, line, "{text:?}: {err}");
        assert!(err.message.contains(needle), "{text:?}: {err}");
    }
}

#[test]
fn written_text_parses_back_identically() {
    let e = parse(VLLM).unwrap();
    let again = parse(&write(&e)).unwrap();
    assert_eq!(again, e);
    let special =
        parse("# HELP x ends with \\\\\nx{v=\"\\\"\\n\\\\\"} -0.0 0\nx 1e300\nx 5e-324\n").unwrap();
    assert_eq!(parse(&write(&special)).unwrap(), special);
}
