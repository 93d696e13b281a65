//! Fuzz the SSE parser (streamed partial images): any bytes give events, never a panic.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = imgperf_core::sse::looks_like_sse(data);
    for event in imgperf_core::sse::parse(data) {
        let _ = event.is_done();
    }
});
