//! Rich records (images, issues, streams, downloads, server figures,
//! failures, cancellations, two sizes) written and read back: the line is
//! reproduced byte for byte and the summary JSON is identical.

use super::*;
use crate::export::{add_image_report, inputs_json, record_line, summary_json, RunInfo};
use crate::goodput::Goodput;
use crate::images::ImageFormat;
use crate::metrics::tests::{err, rec};
use crate::metrics::SummaryBuilder;
use crate::output::IssueKind;
use serde_json::json;

const ORIGIN: u64 = 1_760_732_527_123_456_789;

fn image(index: u32, side: u32) -> ImageMeta {
    ImageMeta {
        index,
        format: ImageFormat::Png,
        width: side,
        height: side,
        bytes: 1_234_567 + u64::from(index),
    }
}

fn records() -> Vec<RequestRecord> {
    let ask = |size: &str, stream: bool| {
        Expect::from_payload(&json!({"prompt": "p", "size": size, "n": 2, "stream": stream}))
            .output()
    };
    let mut out = Vec::new();
    for i in 0..40u64 {
        let start = 3_000_000_000 + i * 987_654_321;
        let mut r = rec(i, start, 1_234.567_891 + i as f64 * 17.3, Some(7 + i % 3));
        r.credit_issued_ns = start - i * 1_003;
        r.slot_acquired_ns = start - i * 501;
        let (size, side, stream) = if i % 2 == 0 {
            ("512x512", 512, false)
        } else {
            ("1024x1024", 1024, true)
        };
        r.conversation_id = format!("entry-{}", i % 4);
        let mut o = ask(size, stream);
        o.delivery = Some(if stream {
            Delivery::Stream
        } else {
            Delivery::B64Json
        });
        o.images = vec![image(0, side), image(1, side)];
        o.image_bytes = Some(2_469_135);
        o.first_image_ns = Some(start + 700_123_457);
        o.final_image_ns = Some(start + 900_000_001 + i);
        if stream {
            o.partial_image_ns = vec![
                start + 100_000_003,
                start + 250_111_111,
                start + 400_999_999,
            ];
        }
        if i % 5 == 0 {
            o.download = Some((start + 600_000_000, start + 650_432_109));
        }
        if i % 7 == 0 {
            o.issues.push(ImageIssue {
                index: Some(1),
                kind: IssueKind::SizeMismatch,
                message: "1x1 returned, 512x512 requested".into(),
            });
        }
        o.server.inference_time_s = Some(0.1 * (i as f64 + 1.0) / 3.0);
        o.server.peak_memory_mb = Some(12_345.678_9 + i as f64 / 7.0);
        o.server.output_tokens = Some(4096 + i);
        r.output = o;
        r.image_count = 2;
        r.shard_index = Some((i % 3) as u32);
        if i % 11 == 3 {
            // Sent again after a stale pooled connection.
            r.stale_attempt_ns = Some(start - 5_000_123);
        }
        match i % 9 {
            4 => r.error = Some(err(500, "HTTPError")),
            6 => {
                r.error = Some(err(499, "RequestCancelled"));
                r.was_cancelled = true;
                r.first_byte_ns = None;
                r.output = ask(size, stream);
            }
            8 => {
                r.worker_id = "queue".into();
                r.error = Some(err(499, "RequestCancelled"));
                r.was_cancelled = true;
                r.output = ask(size, stream);
            }
            _ => {}
        }
        out.push(r);
    }
    out
}

fn requested() -> Requested {
    let entries: Vec<(String, Value)> = (0..4)
        .map(|i| {
            let (size, stream) = if i % 2 == 0 {
                ("512x512", false)
            } else {
                ("1024x1024", true)
            };
            let payload = json!({"prompt": "p", "size": size, "n": 2, "stream": stream});
            (format!("entry-{i}"), payload)
        })
        .collect();
    Requested::from_inputs(&inputs_json(&entries)).unwrap()
}

fn summary(records: &[RequestRecord], origin: u64) -> Value {
    let goodput = Goodput::parse("request_latency:1500 time_to_first_image:700.2").unwrap();
    let mut b = SummaryBuilder::with_goodput(goodput);
    for r in records {
        b.add(r);
    }
    let info = RunInfo {
        cli_command: "imgperf profile".into(),
        input_config: json!({}),
        was_cancelled: false,
        wall_origin_ns: origin,
    };
    let mut v = summary_json(&b.finish(), &info);
    add_image_report(&mut v, &b.report());
    v
}

#[test]
fn lines_come_back_byte_for_byte() {
    let requested = requested();
    for r in records() {
        let line = record_line(&r, ORIGIN);
        let back = exact_record(&line, &requested).unwrap();
        assert_eq!(record_line(&back, 0), line);
        assert_eq!(back.shard_index, r.shard_index);
        assert_eq!(back.output.stream_requested, r.output.stream_requested);
        assert_eq!(back.output.requested_size, r.output.requested_size);
    }
}

#[test]
fn the_summary_of_the_lines_is_the_summary_of_the_records() {
    let requested = requested();
    let records = records();
    let back: Vec<RequestRecord> = records
        .iter()
        .map(|r| exact_record(&record_line(r, ORIGIN), &requested).unwrap())
        .collect();
    let (a, b) = (summary(&records, ORIGIN), summary(&back, 0));
    assert!(a.get("per_size").is_some() && a.get("streaming").is_some());
    assert!(a.get("server_inference_time").is_some() && a.get("goodput").is_some());
    assert_eq!(a, b);
}

#[test]
fn seconds_are_found_for_every_millisecond_value() {
    for i in 0..10_000u32 {
        let s = f64::from(i) * 0.000_731 + 0.1 / 3.0;
        let ms = s * 1e3;
        assert_eq!(seconds_of_ms(ms) * 1e3, ms, "{s}");
    }
}
