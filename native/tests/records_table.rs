//! One statistics for both front ends: the table rebuilt from a CLI run's
//! `profile_export.jsonl` alone (core's `import` + `SummaryBuilder`, what
//! the browser viewer runs) equals the table the CLI printed, row for row
//! and digit for digit. Two real runs against the mock cover every row:
//! OpenAI dialect streaming partial images with `usage`, faults, a timeout,
//! cancellations and goodput SLOs; SGLang dialect with `url` images
//! (downloads) and its server figures.

mod common;

use common::*;
use imgperf::mock::{Dialect, MockArgs, MockServer};
use imgperf_core::goodput::Goodput;
use imgperf_core::import::parse_line;
use imgperf_core::metrics::SummaryBuilder;
use imgperf_core::table;
use std::path::{Path, PathBuf};

/// Rows of the metrics table printed on stdout: label, then the cells.
fn printed_table(stdout: &str) -> Vec<Vec<String>> {
    stdout
        .lines()
        .skip_while(|l| !l.contains(table::TITLE))
        .skip(1)
        .take_while(|l| l.starts_with(['│', '╞', '├', '┌', '└', '╭', '╰']))
        .filter(|l| l.starts_with('│'))
        .map(|l| {
            l.trim_matches('│')
                .split('┆')
                .map(|c| c.trim().to_owned())
                .collect::<Vec<_>>()
        })
        .filter(|cells| cells[0] != "Metric")
        .collect()
}

/// The table rebuilt from the records file, with the run's SLOs (from the
/// summary JSON's `input_config`, as the viewer reads them).
fn rebuilt_table(run: &Path) -> Vec<Vec<String>> {
    let summary: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(run.join("profile_export_imgperf.json")).unwrap(),
    )
    .unwrap();
    let mut builder = match summary["input_config"]["goodput"].as_str() {
        Some(spec) => SummaryBuilder::with_goodput(Goodput::parse(spec).unwrap()),
        None => SummaryBuilder::new(),
    };
    let records = std::fs::read_to_string(run.join("profile_export.jsonl")).unwrap();
    for line in records.lines() {
        builder.add(&parse_line(line).expect("a record line").record);
    }
    table::rows(&builder.finish())
        .into_iter()
        .map(|r| {
            let mut cells = vec![r.label()];
            cells.extend(r.cells());
            cells
        })
        .collect()
}

fn run_dir(artifacts: &Path) -> PathBuf {
    let dirs: Vec<PathBuf> = std::fs::read_dir(artifacts)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    assert_eq!(dirs.len(), 1, "{dirs:?}");
    dirs[0].clone()
}

async fn profile_and_compare(mock: MockArgs, flags: &[&str], want_rows: &[&str]) {
    let server = MockServer::start(&MockArgs { port: 0, ..mock })
        .await
        .expect("mock starts");
    let dir = workdir();
    let url = server.base_url();
    let mut args = vec![
        "profile",
        "--model",
        "m",
        "--url",
        &url,
        "--synthetic-input-tokens-mean",
        "12",
        "--random-seed",
        "5",
        "--artifact-dir",
        "out",
        "--ui",
        "none",
    ];
    args.extend(flags);
    let out = imgperf_async(dir.path(), &args).await;
    server.shutdown().await;
    let (stdout, stderr) = text(&out);
    assert!(out.status.code().is_some(), "{stderr}");
    let printed = printed_table(&stdout);
    assert!(printed.len() > 10, "{stdout}\n{stderr}");
    let rebuilt = rebuilt_table(&run_dir(&dir.path().join("out")));
    let labels = |t: &[Vec<String>]| t.iter().map(|r| r[0].clone()).collect::<Vec<_>>();
    assert_eq!(labels(&rebuilt), labels(&printed), "same rows, same order");
    for (a, b) in rebuilt.iter().zip(&printed) {
        assert_eq!(a, b, "{}", a[0]);
    }
    for label in want_rows {
        let row = printed.iter().find(|r| r[0] == *label);
        let row = row.unwrap_or_else(|| panic!("no {label} row in\n{stdout}"));
        assert_ne!(row[1], "0.00", "{label}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn records_alone_give_the_printed_table() {
    let openai = MockArgs {
        latency_ms: 30.0,
        slots: 0,
        fault_at: vec![
            "500:3".parse().unwrap(),
            "wrong-size:5".parse().unwrap(),
            "stall:7".parse().unwrap(),
        ],
        stall_s: 3.0,
        ..MockArgs::default()
    };
    let flags = [
        "--streaming",
        "--extra-inputs",
        "partial_images:2",
        "--extra-inputs",
        "size:256x256",
        "--concurrency",
        "3",
        "--request-count",
        "16",
        "--request-timeout-seconds",
        "1.5",
        "--request-cancellation-rate",
        "15",
        "--request-cancellation-delay",
        "0.01",
        "--goodput",
        "request_latency:500 time_to_first_image:500",
    ];
    let rows = [
        "Megapixel Throughput (MP/sec)",
        "Output Image Size (bytes)",
        "Time to First Partial Image (ms)",
        "Gap Between Partial Images (ms)",
        "Server Output Tokens (tokens)",
        "Error Request Count (requests)",
        "Requests with Image Issues (requests)",
        "Timed Out Request Count (requests)",
        "Cancelled Request Count (requests)",
        "Good Request Count (requests)",
    ];
    profile_and_compare(openai, &flags, &rows).await;

    let sglang = MockArgs {
        dialect: Dialect::Sglang,
        latency_ms: 20.0,
        slots: 0,
        ..MockArgs::default()
    };
    let flags = [
        "--extra-inputs",
        "response_format:url",
        "--extra-inputs",
        "size:320x256",
        "--concurrency",
        "2",
        "--request-count",
        "8",
    ];
    let rows = [
        "Megapixel Throughput (MP/sec)",
        "Image Download Time (ms)",
        "Time to First Image (ms)",
        "Server Inference Time (ms)",
        "Server Peak Memory (MB)",
    ];
    profile_and_compare(sglang, &flags, &rows).await;
}
