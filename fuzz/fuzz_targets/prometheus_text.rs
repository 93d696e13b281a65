//! Fuzz the Prometheus text parser (scrapes of DCGM exporters and server
//! `/metrics`): any bytes give an exposition or a line-numbered error, never
//! a panic; what parses is written back and must parse to the same thing;
//! the DCGM and server-metrics readers accept whatever parsed.
#![no_main]
use imgperf_core::telemetry::{dcgm, prometheus, server};
use libfuzzer_sys::fuzz_target;

fn same(a: &prometheus::Exposition, b: &prometheus::Exposition) -> bool {
    a.families.len() == b.families.len()
        && a.families.iter().zip(&b.families).all(|(x, y)| {
            x.name == y.name
                && x.kind == y.kind
                && x.help == y.help
                && x.samples.len() == y.samples.len()
                && x.samples.iter().zip(&y.samples).all(|(s, t)| {
                    s.name == t.name
                        && s.labels == t.labels
                        && s.timestamp_ms == t.timestamp_ms
                        && (s.value == t.value || (s.value.is_nan() && t.value.is_nan()))
                })
        })
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match prometheus::parse(text) {
        Ok(e) => {
            let written = prometheus::write(&e);
            let again = prometheus::parse(&written)
                .unwrap_or_else(|err| panic!("written text does not parse: {err}\n{written}"));
            assert!(same(&e, &again), "round trip changed\n{text:?}\n{written}");
            let _ = dcgm::readings(&e);
            let _ = server::samples(&e);
        }
        Err(err) => assert!(err.line >= 1),
    }
});
