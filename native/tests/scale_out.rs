//! Scale-out end to end: N `imgperf profile --shard auto` processes, told
//! their part through the variables Kubernetes and Slurm set, against one
//! mock with its truth log, and one unsharded process with the same seed.
//! For every arrival mode: the union of the shards' requests (number,
//! scheduled offset from `--start-at`, dataset entry) is the single
//! process's; the server saw every request exactly once; `imgperf merge`
//! reports exactly the summary of all records at once. Merge refuses
//! missing, duplicate and mixed shards.

mod common;

use common::*;
use imgperf::mock::{MockArgs, MockServer};
use imgperf_core::export::{add_image_report, summary_json, RunInfo};
use imgperf_core::import::{exact_record, Requested};
use imgperf_core::metrics::SummaryBuilder;
use serde_json::Value;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

const SHARDS: u32 = 3;
const ENGINE_VARS: [&str; 4] = [
    "JOB_COMPLETION_INDEX",
    "IMGPERF_SHARDS",
    "SLURM_PROCID",
    "SLURM_NTASKS",
];

fn prompts(dir: &Path) {
    let rows: String = (0..12)
        .map(|i| {
            format!(
                "{{\"text\": \"prompt number {i}\", \"timestamp\": {}}}\n",
                (i * 7) % 12 * 9
            )
        })
        .collect();
    std::fs::write(dir.join("prompts.jsonl"), rows).unwrap();
}

fn args(url: &str, art: &str, mode: &[&str], shard: bool) -> Vec<String> {
    let mut v: Vec<String> = [
        "profile",
        "--model",
        "m",
        "--tokenizer",
        "gpt2",
        "--url",
        url,
        "--input-file",
        "prompts.jsonl",
        "--extra-inputs",
        "size:64x64",
        "--random-seed",
        "7",
        "--dataset-sampling-strategy",
        "shuffle",
        "--ui",
        "none",
        "--artifact-dir",
        art,
    ]
    .map(String::from)
    .to_vec();
    v.extend(mode.iter().map(|s| s.to_string()));
    if shard {
        v.extend(["--shard".to_owned(), "auto".to_owned()]);
    }
    v
}

fn spawn(cwd: &Path, args: &[String], env: &[(&str, String)]) -> Child {
    let mut c = Command::new(bin());
    c.args(args).current_dir(cwd).env_remove("IMGPERF_API_KEY");
    for v in ENGINE_VARS {
        c.env_remove(v);
    }
    c.envs(env.iter().map(|(k, v)| (*k, v)))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start imgperf")
}

fn finish(child: Child, what: &str) {
    let out = child.wait_with_output().unwrap();
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{what} failed:\n{stdout}\n{stderr}");
}

/// The one run directory under `art` whose name contains `part`.
fn run_dir(art: &Path, part: &str) -> PathBuf {
    let found: Vec<PathBuf> = std::fs::read_dir(art)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.file_name().unwrap().to_string_lossy().contains(part))
        .collect();
    assert_eq!(found.len(), 1, "{part} in {}: {found:?}", art.display());
    found[0].clone()
}

/// (number, offset from the start, entry) of each request; no offset in a closed loop.
fn requests(dir: &Path, start_ns: u64, closed: bool) -> Vec<(u64, Option<u64>, String)> {
    let mut v: Vec<_> = jsonl(&dir.join("profile_export.jsonl"))
        .iter()
        .map(|r| {
            let m = &r["metadata"];
            let credit = m["credit_issued_ns"].as_u64().unwrap();
            (
                m["session_num"].as_u64().unwrap(),
                (!closed).then(|| credit - start_ns),
                m["conversation_id"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    v.sort();
    v
}

/// The summary JSON of `lines` fed in this order, without `input_config`.
fn summary_of(lines: &[String], dir: &Path, goodput: Option<&str>) -> Value {
    let inputs: Value =
        serde_json::from_slice(&std::fs::read(dir.join("inputs.json")).unwrap()).unwrap();
    let requested = Requested::from_inputs(&inputs).unwrap();
    let mut b = match goodput {
        Some(g) => SummaryBuilder::with_goodput(imgperf_core::goodput::Goodput::parse(g).unwrap()),
        None => SummaryBuilder::new(),
    };
    for l in lines {
        b.add(&exact_record(l, &requested).unwrap());
    }
    let info = RunInfo {
        cli_command: String::new(),
        input_config: Value::Null,
        was_cancelled: false,
        wall_origin_ns: 0,
    };
    let mut v = summary_json(&b.finish(), &info);
    add_image_report(&mut v, &b.report());
    without_config(v)
}

/// A summary JSON without what its records cannot give back: the
/// configuration, and the telemetry scraped beside the requests.
fn without_config(mut v: Value) -> Value {
    let o = v.as_object_mut().unwrap();
    for key in ["input_config", "server_metrics", "gpu_telemetry"] {
        o.remove(key);
    }
    v
}

fn read_json(path: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

fn lines(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect()
}

async fn truth_ids(log: &Path, expected: usize) -> HashMap<String, usize> {
    let mut ids = HashMap::new();
    for _ in 0..40 {
        ids.clear();
        for l in jsonl(log) {
            if l["path"] == "/v1/images/generations" {
                *ids.entry(l["request_id"].as_str().unwrap().to_owned())
                    .or_insert(0) += 1;
            }
        }
        if ids.values().sum::<usize>() >= expected {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    ids
}

/// One mode: shards (engine `slurm` or Kubernetes) and a single process.
async fn mode(
    name: &str,
    mode: &[&str],
    slurm: bool,
    goodput: Option<&str>,
) -> (tempfile::TempDir, PathBuf) {
    let dir = workdir();
    prompts(dir.path());
    let log = dir.path().join("truth.jsonl");
    let server = MockServer::start(&MockArgs {
        port: 0,
        latency_ms: 3.0,
        slots: 0,
        truth_log: Some(log.clone()),
        ..MockArgs::default()
    })
    .await
    .unwrap();
    let url = server.base_url();
    let start = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis()
        + 1500;
    let start_at = format!("{}.{:03}", start / 1000, start % 1000);
    let mut mode: Vec<&str> = mode.to_vec();
    mode.extend(["--start-at", &start_at]);
    if let Some(g) = goodput {
        mode.extend(["--goodput", g]);
    }
    let cwd = dir.path();
    let mut children = Vec::new();
    for i in 0..SHARDS {
        let env = if slurm {
            [
                ("SLURM_PROCID", i.to_string()),
                ("SLURM_NTASKS", SHARDS.to_string()),
            ]
        } else {
            [
                ("JOB_COMPLETION_INDEX", i.to_string()),
                ("IMGPERF_SHARDS", SHARDS.to_string()),
            ]
        };
        children.push(spawn(cwd, &args(&url, "shards", &mode, true), &env));
    }
    children.push(spawn(cwd, &args(&url, "single", &mode, false), &[]));
    let name_owned = name.to_owned();
    tokio::task::spawn_blocking(move || {
        for (i, c) in children.into_iter().enumerate() {
            finish(c, &format!("{name_owned} process {i}"));
        }
    })
    .await
    .unwrap();

    let art = cwd.join("shards");
    let single = run_dir(&cwd.join("single"), "");
    let closed = name == "closed";
    let mut union = Vec::new();
    let mut ids = Vec::new();
    let mut start_ns = None;
    for i in 0..SHARDS {
        let d = run_dir(&art, &format!("-shard{i}of{SHARDS}"));
        let m = read_json(&d.join("shard_manifest.json"));
        assert_eq!(m["shard"]["index"], i, "{name}");
        assert_eq!(
            m["shard"]["engine"],
            if slurm { "slurm" } else { "kubernetes" }
        );
        let at = m["start_at_ns"].as_u64().unwrap();
        assert_eq!(*start_ns.get_or_insert(at), at);
        union.extend(requests(&d, at, closed));
        for r in jsonl(&d.join("profile_export.jsonl")) {
            assert_eq!(r["metadata"]["shard_index"], i);
            assert!(r["error"].is_null(), "{name}: {r}");
            ids.push(r["metadata"]["x_request_id"].as_str().unwrap().to_owned());
        }
        // The viewer tells each shard apart from the merge, from records or summary alike.
        let own_json = read_json(&d.join("profile_export_imgperf.json"));
        let part = imgperf_core::shard::part_of_config(&own_json["input_config"]);
        assert_eq!(part, Some(format!("shard {i}")));
        // Each shard's own summary is what its exported lines give (real data round trip).
        let own = summary_of(&lines(&d.join("profile_export.jsonl")), &d, goodput);
        assert_eq!(
            own,
            without_config(read_json(&d.join("profile_export_imgperf.json"))),
            "{name} shard {i}"
        );
    }
    union.sort();
    let expected = requests(&single, start_ns.unwrap(), closed);
    assert_eq!(expected.len(), 12, "{name}");
    assert_eq!(
        union, expected,
        "{name}: the shards together send the single process's requests"
    );
    for r in jsonl(&single.join("profile_export.jsonl")) {
        ids.push(r["metadata"]["x_request_id"].as_str().unwrap().to_owned());
    }
    let seen = truth_ids(&log, ids.len()).await;
    assert_eq!(
        seen.len(),
        ids.len(),
        "{name}: truth log has exactly the requests sent"
    );
    for id in &ids {
        assert_eq!(
            seen.get(id),
            Some(&1),
            "{name}: {id} seen once by the server"
        );
    }
    server.shutdown().await;

    // Merge, and compare with every record summarised at once in time order.
    let out = imgperf_async(cwd, &["merge", "shards", "--raw"]).await;
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{name} merge: {stdout}\n{stderr}");
    assert!(stdout.contains("Merged 3 of 3 shards."), "{stdout}");
    let merged: Vec<PathBuf> = std::fs::read_dir(&art)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| !p.to_string_lossy().contains("-shard"))
        .collect();
    assert_eq!(merged.len(), 1, "{merged:?}");
    let merged = merged[0].clone();
    let mut all: Vec<(u64, u32, usize, String)> = Vec::new();
    for i in 0..SHARDS {
        let d = run_dir(&art, &format!("-shard{i}of{SHARDS}"));
        for (n, l) in lines(&d.join("profile_export.jsonl"))
            .into_iter()
            .enumerate()
        {
            let v: Value = serde_json::from_str(&l).unwrap();
            all.push((v["metadata"]["request_end_ns"].as_u64().unwrap(), i, n, l));
        }
    }
    all.sort();
    let at_once: Vec<String> = all.into_iter().map(|t| t.3).collect();
    assert_eq!(
        lines(&merged.join("profile_export.jsonl")),
        at_once,
        "{name}"
    );
    // Raw exports, when the shards wrote them, are concatenated in shard order.
    let raw = lines(&merged.join("profile_export_raw.jsonl"));
    let raw_expected = if mode.contains(&"raw") { 12 } else { 0 };
    assert_eq!(raw.len(), raw_expected, "{name}");
    let merged_json = read_json(&merged.join("profile_export_imgperf.json"));
    assert_eq!(
        without_config(merged_json.clone()),
        summary_of(&at_once, &merged, goodput),
        "{name}"
    );
    assert_eq!(merged_json["request_count"]["avg"], 12.0);
    let cfg = &merged_json["input_config"];
    let part = imgperf_core::shard::part_of_config(cfg);
    assert_eq!(part.as_deref(), Some("merged"));
    assert_eq!(cfg["scale_out"]["merged"], serde_json::json!([0, 1, 2]));
    assert!(!cfg["cli_command"].as_str().unwrap().contains("--shard"));
    // The viewer's reader opens the merged summary like any other.
    imgperf_core::import::parse_summary(&merged_json).unwrap();
    (dir, art)
}

async fn merge_fails(cwd: &Path, args: &[&str], expect: &str) {
    let out = imgperf_async(cwd, args).await;
    let (stdout, stderr) = text(&out);
    assert!(!out.status.success(), "{args:?} should fail: {stdout}");
    assert!(stderr.contains(expect), "{args:?}: {stderr}");
}

/// Merge refuses missing, duplicate and mixed shards, and an output it would overwrite.
async fn refusals(a: &Path, b: &Path) {
    let s = |art: &Path, i: u32| {
        run_dir(art, &format!("-shard{i}of{SHARDS}"))
            .to_string_lossy()
            .into_owned()
    };
    let (a0, a1, a2, b0) = (s(a, 0), s(a, 1), s(a, 2), s(b, 0));
    let cwd = a.parent().unwrap();
    merge_fails(
        cwd,
        &["merge", &a0, &a1],
        "shard 2 of 3 missing (found 0, 1)",
    )
    .await;
    merge_fails(
        cwd,
        &["merge", &a0, &a1, &a2, &a0],
        "shard 0 of 3 appears twice",
    )
    .await;
    merge_fails(
        cwd,
        &["merge", &a0, &a1, &a2, &b0],
        "belong to 2 different benchmarks",
    )
    .await;
    merge_fails(cwd, &["merge", "shards"], "already exists and is not empty").await;
    merge_fails(cwd, &["merge", "nowhere"], "nowhere is not a directory").await;
    let out = imgperf_async(cwd, &["merge", &a0, &a2, "--allow-partial", "-o", "part"]).await;
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stderr}");
    assert!(stdout.contains("PARTIAL: shard 1 missing"), "{stdout}");
    let v = read_json(&cwd.join("part/profile_export_imgperf.json"));
    assert_eq!(
        v["input_config"]["scale_out"]["missing"],
        serde_json::json!([1])
    );
    assert_eq!(v["request_count"]["avg"], 8.0);

    // A merge started before the last shard is done waits for it.
    std::fs::create_dir(cwd.join("late")).unwrap();
    let args: Vec<String> = ["merge", "--wait", "20", "-o", "waited", &a0, &a1, "late"]
        .map(String::from)
        .to_vec();
    let merge = spawn(cwd, &args, &[]);
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    // Copied aside, then renamed in: the shard appears whole, as a finished one does.
    let copied = Command::new("cp")
        .args(["-r", &a2, "staging"])
        .current_dir(cwd)
        .status()
        .unwrap();
    assert!(copied.success());
    std::fs::rename(cwd.join("staging"), cwd.join("late/shard2")).unwrap();
    tokio::task::spawn_blocking(move || finish(merge, "merge --wait"))
        .await
        .unwrap();
    let v = read_json(&cwd.join("waited/profile_export_imgperf.json"));
    assert_eq!(v["request_count"]["avg"], 12.0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shards_add_up_to_the_single_run_in_every_mode() {
    let rate = ["--request-rate", "150", "--request-count", "12"];
    let with = |extra: &[&'static str]| -> Vec<&'static str> {
        rate.iter().chain(extra).copied().collect()
    };
    let constant = with(&["--request-rate-mode", "constant"]);
    let (_a, a) = mode("constant", &constant, false, Some("request_latency:10000")).await;
    let poisson = with(&["--request-rate-mode", "poisson"]);
    let (_b, b) = mode("poisson", &poisson, true, None).await;
    refusals(&a, &b).await;
    let gamma = with(&[
        "--request-rate-mode",
        "gamma",
        "--arrival-smoothness",
        "0.5",
    ]);
    mode("gamma", &gamma, false, None).await;
    let burst = [
        "--request-rate-mode",
        "concurrency_burst",
        "--request-rate",
        "1",
        "--concurrency",
        "6",
        "--request-count",
        "12",
    ];
    mode("burst", &burst, true, None).await;
    let ramp = with(&[
        "--request-rate-mode",
        "poisson",
        "--request-rate-ramp-duration",
        "0.05",
    ]);
    mode("ramp", &ramp, false, None).await;
    mode("fixed", &["--fixed-schedule"], true, None).await;
    let closed = [
        "--concurrency",
        "3",
        "--request-count",
        "12",
        "--export-level",
        "raw",
    ];
    mode("closed", &closed, true, None).await;
}
