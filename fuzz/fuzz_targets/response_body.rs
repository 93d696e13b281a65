//! Fuzz the response judge (error shapes, image data) and the image probe.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let status = if data.first().is_some_and(|b| b & 1 == 1) { 200 } else { 500 };
    let _ = imgperf_core::response::analyze(status, data);
    let _ = imgperf_core::images::probe(data);
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = imgperf_core::images::b64_images_in_body(text);
    }
});
