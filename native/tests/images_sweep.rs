//! A 2 × 2 sweep (concurrency × size) against an in-process server: four
//! artifact directories, each a complete run with its point's settings, and
//! a sweep summary (JSON, CSV, console table) whose rows equal the
//! per-point summaries.

mod common;
mod imgtest;

use axum::routing::post;
use axum::{Json, Router};
use common::*;
use imgperf_core::images::{parse_size, ImageFormat};
use imgtest::*;
use serde_json::{json, Value};

async fn generate(Json(body): Json<Value>) -> Json<Value> {
    let (w, h) = parse_size(body["size"].as_str().unwrap_or("8x8")).unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    Json(json!({"created": 1, "data": [{"b64_json": b64(&encode(ImageFormat::Png, w, h))}]}))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_by_two_sweep_writes_four_runs_and_a_matching_summary() {
    let url = serve(Router::new().route("/v1/images/generations", post(generate))).await;
    let dir = workdir();
    let args = tutorial_args(
        &url,
        &[
            "--request-count",
            "4",
            // `=` form: the helper would merge two `--sweep FLAG VALUE` pairs.
            "--sweep=concurrency=1,2",
            "--sweep=size=32x32,48x48",
            "--goodput",
            "request_latency:5000",
        ],
    );
    let out = imgperf_async(dir.path(), &args).await;
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    let root = run_dir(dir.path());
    assert!(root.ends_with("black-forest-labs_FLUX.1-dev-openai-image_generation-sweep"));
    let names = [
        "concurrency1-size32x32",
        "concurrency1-size48x48",
        "concurrency2-size32x32",
        "concurrency2-size48x48",
    ];
    let mut listed: Vec<String> = std::fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    listed.sort();
    let mut want: Vec<String> = names.iter().map(|s| s.to_string()).collect();
    want.extend(["sweep_summary.csv".into(), "sweep_summary.json".into()]);
    want.sort();
    assert_eq!(listed, want);

    let sweep = json_file(&root.join("sweep_summary.json"));
    let points = sweep["points"].as_array().unwrap();
    assert_eq!(points.len(), 4);
    assert_eq!(sweep["was_cancelled"], false);
    let csv = std::fs::read_to_string(root.join("sweep_summary.csv")).unwrap();
    let csv: Vec<Vec<String>> = csv
        .lines()
        .map(|l| l.split(',').map(String::from).collect())
        .collect();
    assert_eq!(csv.len(), 5);
    for (i, name) in names.iter().enumerate() {
        let run = root.join(name);
        let point = &points[i];
        assert_eq!(point["artifact_dir"], *name);
        let (conc, size) = (1 + i as u64 / 2, ["32x32", "48x48"][i % 2]);
        assert_eq!(
            point["parameters"],
            json!({"concurrency": conc, "size": size})
        );
        // The point ran with its settings.
        let inputs = json_file(&run.join("inputs.json"));
        assert_eq!(inputs["data"][0]["payloads"][0]["size"], size);
        let summary = json_file(&run.join("profile_export_imgperf.json"));
        assert_eq!(summary["input_config"]["loadgen"]["concurrency"], conc);
        assert_eq!(summary["request_count"]["avg"], 4.0);
        let side = if size == "32x32" { 32 } else { 48 };
        assert_eq!(
            summary["output_images"],
            json!([{"format": "png", "width": side, "height": side, "count": 4}])
        );
        // The sweep row is the point's summary, metric for metric.
        let metrics = point["metrics"].as_object().unwrap();
        let in_summary: Vec<&String> = summary
            .as_object()
            .unwrap()
            .iter()
            .filter(|(_, v)| v.get("unit").is_some())
            .map(|(k, _)| k)
            .collect();
        assert_eq!(metrics.keys().collect::<Vec<_>>(), in_summary);
        for (tag, value) in metrics {
            assert_eq!(value, &summary[tag], "{name}: {tag}");
        }
        assert!(metrics.contains_key("goodput"));
        // The CSV row: parameters, then the same numbers at 2 decimals.
        let row = &csv[i + 1];
        assert_eq!(row[..2], [conc.to_string(), size.to_string()]);
        for (col, cell) in csv[0].iter().zip(row).skip(2) {
            let (tag, stat) = match col.rsplit_once('_') {
                Some((t, s)) if ["avg", "p50", "p90", "p99"].contains(&s) => (t, s),
                _ => (col.as_str(), "avg"),
            };
            let v = summary[tag][stat]
                .as_f64()
                .unwrap_or_else(|| panic!("{tag} {stat}"));
            assert_eq!(cell, &format!("{v:.2}"), "{name}: {col}");
        }
    }
    assert!(
        stdout.contains("imgperf | Sweep: throughput vs latency"),
        "{stdout}"
    );
    assert_eq!(stdout.matches("[4/4]").count(), 1, "{stdout}");
}
