//! The malformed-input matrix: every bad input gets one clear error line and
//! a non-zero exit (never a panic), before any request is sent; inputs that
//! are odd but usable (BOM, blank lines, a 10 MB prompt) run to the end.

mod common;

use common::*;
use std::path::Path;

/// Run `profile` against an address where nothing listens: any error must
/// come from input checking, before a connection is tried.
fn profile_with(dir: &Path, extra: &[&str]) -> std::process::Output {
    imgperf(dir, &tutorial_args("127.0.0.1:9", extra))
}

fn expect_error(out: &std::process::Output, needle: &str) {
    let (stdout, stderr) = text(out);
    assert!(
        !out.status.success(),
        "expected failure, got success:\n{stdout}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
    let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    let msg = lines
        .iter()
        .find(|l| l.contains(needle))
        .unwrap_or_else(|| panic!("no line mentions {needle:?}:\n{stderr}"));
    assert!(msg.len() < 400, "one readable line: {msg}");
}

fn write(dir: &Path, name: &str, bytes: &[u8]) {
    std::fs::write(dir.join(name), bytes).unwrap();
}

#[test]
fn bad_input_files() {
    let dir = workdir();
    let d = dir.path();
    write(d, "empty.jsonl", b"");
    write(d, "blank.jsonl", b"\n   \n\n");
    write(d, "latin1.jsonl", b"{\"text\": \"caf\xe9\"}\n");
    write(d, "array.jsonl", b"{\"text\": \"ok\"}\n[1, 2]\n");
    write(d, "string.jsonl", b"\"just a string\"\n");
    write(d, "notext.jsonl", b"{\"prompt\": \"wrong key\"}\n");
    write(
        d,
        "badsize.jsonl",
        b"{\"text\": \"a\", \"extra\": {\"size\": \"0x0\"}}\n",
    );
    for (file, needle) in [
        ("empty.jsonl", "no prompts"),
        ("blank.jsonl", "no prompts"),
        ("latin1.jsonl", "UTF-8"),
        ("array.jsonl", "array.jsonl:2"),
        ("string.jsonl", "string.jsonl:1"),
        ("notext.jsonl", "notext.jsonl:1"),
        ("badsize.jsonl", "badsize.jsonl:1"),
    ] {
        expect_error(&profile_with(d, &["--input-file", file]), needle);
    }
}

#[test]
fn bad_flag_values() {
    let dir = workdir();
    let d = dir.path();
    for (extra, needle) in [
        (&["--request-count", "0"][..], "--request-count"),
        (&["--request-count", "-1"][..], "--request-count"),
        (&["--concurrency", "0"][..], "--concurrency"),
        (&["--request-rate", "0"][..], "--request-rate"),
        (&["--request-rate", "-5"][..], "--request-rate"),
        (
            &["--request-rate", "5", "--request-rate-mode", "bursty"][..],
            "bursty",
        ),
        (
            &["--request-timeout-seconds", "0"][..],
            "--request-timeout-seconds",
        ),
        (&["--export-level", "everything"][..], "everything"),
        (&["--extra-inputs", "size:512X512"][..], "512x512"),
        (&["--extra-inputs", "size:0x0"][..], "0x0"),
        (&["--extra-inputs", "size:abc"][..], "abc"),
        (&["--custom-dataset-type", "multi_turn"][..], "multi_turn"),
        (&["--dataset-sampling-strategy", "lottery"][..], "lottery"),
        (&["-H", "no colon here"][..], "--header"),
        (&["--url", "ftp://x"][..], "--url"),
    ] {
        expect_error(&profile_with(d, extra), needle);
    }
    // A single-value flag given twice.
    let mut args = tutorial_args("127.0.0.1:9", &[]);
    args.extend(["--concurrency", "2"]);
    expect_error(&imgperf(d, &args), "--concurrency");
}

#[test]
fn odd_but_usable_inputs_run() {
    let dir = workdir();
    let d = dir.path();
    write(
        d,
        "bom.jsonl",
        b"\xef\xbb\xbf{\"text\": \"a fox\"}\n\n{\"text\": \"a hen\"}\n\n",
    );
    let prompt = "a watercolor fox in the snow ".repeat(10 * 1024 * 1024 / 29);
    write(
        d,
        "huge.jsonl",
        format!("{{\"text\": \"{prompt}\"}}\n").as_bytes(),
    );
    for file in ["bom.jsonl", "huge.jsonl"] {
        let args = [
            "profile",
            "--mock",
            "--mock-latency-ms",
            "1",
            "--input-file",
            file,
            "--request-count",
            "2",
            "--ui",
            "none",
        ];
        let out = imgperf(d, &args);
        let (stdout, stderr) = text(&out);
        assert!(out.status.success(), "{file}:\n{stdout}\n{stderr}");
        assert!(
            stdout.contains("Image Generation Metrics"),
            "{file}: {stdout}"
        );
    }
}
