//! `imgperf publish` (the binary) over real CLI runs against the embedded
//! mock: a run with a raw export and a sweep become a site whose
//! `runs.json` lists them, with the summaries and records as written,
//! JPEG thumbnails of the images, the raw export only with `--raw`, and the
//! browser app (here a stand-in folder: the browser tests publish with the
//! real one); bad inputs and an existing folder get clear errors.

mod common;

use common::*;
use imgperf_core::site::{GalleryEntry, SiteIndex};
use std::path::{Path, PathBuf};

/// A stand-in for `trunk build --release`'s dist/.
fn fake_app(dir: &Path) -> PathBuf {
    let app = dir.join("dist");
    std::fs::create_dir_all(app.join("gpt2")).unwrap();
    std::fs::write(
        app.join("index.html"),
        "<!DOCTYPE html><html><head><title>imgperf</title></head><body></body></html>",
    )
    .unwrap();
    for f in [
        "worker.js",
        "imgperf-web.js",
        "imgperf-web_bg.wasm",
        "gpt2/tokenizer.json",
    ] {
        std::fs::write(app.join(f), f).unwrap();
    }
    app
}

fn profile(cwd: &Path, extra: &[&str]) {
    let mut args = vec![
        "profile",
        "--mock",
        "--mock-latency-ms",
        "5",
        "--synthetic-input-tokens-mean",
        "10",
        "--extra-inputs",
        "size:96x64",
        "--random-seed",
        "3",
        "--ui",
        "none",
    ];
    args.extend(extra);
    let out = imgperf(cwd, &args);
    assert!(out.status.success(), "{:?}", text(&out));
}

fn only_subdir(dir: &Path) -> PathBuf {
    let d: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(d.len(), 1, "{d:?}");
    d[0].clone()
}

#[test]
fn a_run_and_a_sweep_become_a_site() {
    let work = workdir();
    let w = work.path();
    profile(
        w,
        &[
            "--artifact-dir",
            "a",
            "--concurrency",
            "2",
            "--request-count",
            "5",
            "--export-level",
            "raw",
        ],
    );
    profile(
        w,
        &[
            "--artifact-dir",
            "s",
            "--request-count",
            "3",
            "--sweep",
            "concurrency=1,2",
            "--export-level",
            "raw",
        ],
    );
    let run = only_subdir(&w.join("a"));
    let sweep = only_subdir(&w.join("s"));
    let app = fake_app(w);
    let site = w.join("site");
    let args = |extra: &[&str]| {
        let mut v: Vec<String> = vec![
            "publish".into(),
            run.display().to_string(),
            sweep.display().to_string(),
        ];
        v.extend([
            "-o".into(),
            site.display().to_string(),
            "--web-app".into(),
            app.display().to_string(),
        ]);
        v.extend(extra.iter().map(|s| s.to_string()));
        v
    };
    let run_cli = |a: Vec<String>| {
        let refs: Vec<&str> = a.iter().map(String::as_str).collect();
        imgperf(w, &refs)
    };
    let out = run_cli(args(&["--max-images", "4", "--title", "Team runs"]));
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains("Published 3 runs and 1 sweeps"), "{stdout}");

    let index: SiteIndex =
        serde_json::from_slice(&std::fs::read(site.join("runs.json")).unwrap()).unwrap();
    assert_eq!(index.title.as_deref(), Some("Team runs"));
    assert_eq!(index.runs.len(), 3);
    let first = &index.runs[0];
    assert_eq!(first.name, run.file_name().unwrap().to_string_lossy());
    assert_eq!(
        (first.request_count, first.error_count, first.image_count),
        (5, 0, 5)
    );
    assert!(
        first
            .label
            .starts_with("mock-image-model · concurrency 2 · "),
        "{}",
        first.label
    );
    // Summary and records as the CLI wrote them; no raw export without --raw.
    for (published, original) in [
        (&first.files.summary, "profile_export_imgperf.json"),
        (&first.files.records, "profile_export.jsonl"),
        (&first.files.csv, "profile_export_imgperf.csv"),
    ] {
        let p = site.join(published.as_ref().unwrap());
        assert_eq!(
            std::fs::read(p).unwrap(),
            std::fs::read(run.join(original)).unwrap()
        );
    }
    assert!(first.files.raw.is_none());
    let gallery: Vec<GalleryEntry> = serde_json::from_slice(
        &std::fs::read(site.join(first.files.images.as_ref().unwrap())).unwrap(),
    )
    .unwrap();
    assert_eq!(gallery.len(), 4, "--max-images");
    for g in &gallery {
        assert_eq!((g.width, g.height, g.format.as_str()), (96, 64, "png"));
        assert!(g.full.is_none());
        let thumb = image::open(site.join(&g.src)).unwrap();
        assert_eq!((thumb.width(), thumb.height()), (96, 64), "never enlarged");
        assert_eq!(
            image::ImageFormat::from_path(site.join(&g.src)).unwrap(),
            image::ImageFormat::Jpeg
        );
        assert!(!g.prompt.is_empty() && g.latency_ms > 0.0);
    }
    // The sweep's points are runs of their own, linked from the sweep.
    assert_eq!(index.sweeps.len(), 1);
    let sw = &index.sweeps[0];
    assert_eq!(
        sw.points,
        [index.runs[1].name.clone(), index.runs[2].name.clone()]
    );
    assert!(sw.points[0].ends_with("-concurrency1"), "{:?}", sw.points);
    assert_eq!(index.runs[1].sweep.as_deref(), Some(sw.name.as_str()));
    assert_eq!(index.runs[2].parameters.as_ref().unwrap()["concurrency"], 2);
    assert!(site.join(&sw.summary).is_file());
    // The app, marked as a site, with the binary's own GPT-2 tokenizer.
    let html = std::fs::read_to_string(site.join("index.html")).unwrap();
    assert!(
        html.contains(r#"<meta name="imgperf-site" content="runs.json" />"#),
        "{html}"
    );
    assert!(html.contains("<title>Team runs</title>"));
    assert!(site.join("worker.js").is_file());
    assert!(
        std::fs::metadata(site.join("gpt2/tokenizer.json"))
            .unwrap()
            .len()
            > 1_000_000
    );

    // An existing site is replaced only with --force; --raw and full images.
    let again = run_cli(args(&[]));
    assert!(!again.status.success());
    assert!(
        text(&again)
            .1
            .contains("already holds a published site: pass --force"),
        "{:?}",
        text(&again)
    );
    let forced = run_cli(args(&[
        "--force",
        "--raw",
        "--images",
        "full",
        "--max-images",
        "1",
    ]));
    assert!(forced.status.success(), "{:?}", text(&forced));
    let index: SiteIndex =
        serde_json::from_slice(&std::fs::read(site.join("runs.json")).unwrap()).unwrap();
    let raw = index.runs[0]
        .files
        .raw
        .as_ref()
        .expect("--raw publishes the raw export");
    assert_eq!(
        std::fs::read(site.join(raw)).unwrap(),
        std::fs::read(run.join("profile_export_raw.jsonl")).unwrap()
    );
    let gallery: Vec<GalleryEntry> = serde_json::from_slice(
        &std::fs::read(site.join(index.runs[0].files.images.as_ref().unwrap())).unwrap(),
    )
    .unwrap();
    let full = site.join(gallery[0].full.as_ref().unwrap());
    assert_eq!(
        image::ImageFormat::from_path(&full).unwrap(),
        image::ImageFormat::Png
    );
    assert_eq!(std::fs::metadata(full).unwrap().len(), gallery[0].bytes);
}

#[test]
fn bad_inputs_are_named() {
    let work = workdir();
    let w = work.path();
    let app = fake_app(w);
    std::fs::create_dir_all(w.join("empty")).unwrap();
    std::fs::create_dir_all(w.join("busy")).unwrap();
    std::fs::write(w.join("busy/notes.txt"), "mine").unwrap();
    profile(w, &["--artifact-dir", "a", "--request-count", "2"]);
    let run = only_subdir(&w.join("a")).display().to_string();
    let app = app.display().to_string();
    let cases: [(&[&str], &str); 4] = [
        (&["publish", "empty", "-o", "site"], "empty: no run here"),
        (
            &["publish", "image_prompts.jsonl", "-o", "site"],
            "is a file: pass the run's directory",
        ),
        (
            &["publish", "missing", "-o", "site"],
            "missing: no such directory",
        ),
        (
            &["publish", &run, "-o", "busy", "--web-app", &app],
            "busy is not empty and holds no published site",
        ),
    ];
    for (args, want) in cases {
        let out = imgperf(w, args);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        let (_, stderr) = text(&out);
        assert!(stderr.contains(want), "{args:?}: {stderr}");
    }
    assert_eq!(
        std::fs::read_to_string(w.join("busy/notes.txt")).unwrap(),
        "mine",
        "nothing lost"
    );
    // A folder of runs (an --artifact-dir) publishes each.
    let out = imgperf(w, &["publish", "a", "-o", "site", "--web-app", &app]);
    assert!(out.status.success(), "{:?}", text(&out));
    assert!(text(&out).0.contains("Published 1 runs"));
    // Without --web-app, a binary built without the app says how to get one.
    if !imgperf::publish::webapp::embedded() {
        let out = imgperf(w, &["publish", "a", "-o", "site2"]);
        assert!(
            text(&out).1.contains("built without the browser app"),
            "{:?}",
            text(&out)
        );
    }
}
