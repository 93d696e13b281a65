//! Fuzz the MP4 box reader (video facts) and the video job object parser.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(f) = imgperf_core::video::mp4::facts(data) {
        assert!(f.duration_s.is_finite() && f.fps.is_finite());
    }
    let _ = imgperf_core::video::status::parse(data);
});
