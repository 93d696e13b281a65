//! Fuzz the `--extra-inputs` parser and value coercion.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let values: Vec<String> = text.split('\n').map(str::to_owned).collect();
        let _ = imgperf_core::request::parse_extra_inputs(&values);
        let _ = imgperf_core::request::coerce_value(text);
        let _ = imgperf_core::request::parse_header(text);
    }
});
