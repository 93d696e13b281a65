//! The browser form's server presets (core's `presets`) as the servers
//! see them: each preset's path, response format and usual size, sent by
//! `imgperf profile` to the mock in that server's dialect, are accepted
//! (no error), and no preset sends `quality`.

mod common;

use common::*;
use imgperf::mock::{Dialect, MockArgs, MockServer};
use imgperf_core::presets::{extra_inputs, PRESETS};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_preset_is_accepted_by_its_server() {
    for p in &PRESETS {
        let dialect = match p.id {
            "sglang" => Dialect::Sglang,
            "vllm-omni" => Dialect::VllmOmni,
            _ => Dialect::Openai,
        };
        let server = MockServer::start(&MockArgs {
            port: 0,
            dialect,
            latency_ms: 1.0,
            slots: 0,
            image_variants: 1,
            ..MockArgs::default()
        })
        .await
        .expect("mock starts");
        let dir = workdir();
        let url = server.base_url();
        let extras = extra_inputs(p);
        let mut args = vec![
            "profile",
            "--model",
            p.model,
            "--url",
            &url,
            "--endpoint",
            p.path,
            "--synthetic-input-tokens-mean",
            "8",
            "--request-count",
            "2",
            "--export-level",
            "raw",
            "--artifact-dir",
            "out",
            "--ui",
            "none",
        ];
        for e in &extras {
            args.extend(["--extra-inputs", e.as_str()]);
        }
        let out = imgperf_async(dir.path(), &args).await;
        server.shutdown().await;
        let (stdout, stderr) = text(&out);
        assert!(out.status.success(), "{}: {stdout}\n{stderr}", p.id);
        let run = std::fs::read_dir(dir.path().join("out"))
            .unwrap()
            .next()
            .unwrap()
            .unwrap()
            .path();
        for raw in jsonl(&run.join("profile_export_raw.jsonl")) {
            assert!(raw["error"].is_null(), "{}: {}", p.id, raw["error"]);
            assert!(raw["payload"].get("quality").is_none(), "{}", p.id);
            assert_eq!(raw["payload"]["size"], p.sizes[0], "{}", p.id);
            match p.response_format {
                "" => assert!(raw["payload"].get("response_format").is_none(), "{}", p.id),
                f => assert_eq!(raw["payload"]["response_format"], f, "{}", p.id),
            }
        }
    }
}
