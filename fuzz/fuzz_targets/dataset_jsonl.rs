//! Fuzz the `--input-file` JSONL reader: any bytes give rows or a clear error, never a panic.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(rows) = imgperf_core::dataset::parse_single_turn("fuzz.jsonl", text) {
            for r in rows {
                let _ = r.prompt();
            }
        }
    }
});
