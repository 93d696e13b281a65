//! Telemetry figures from known scrapes: energy from the counter (with a
//! reset) or integrated power, power in flight against idle, server
//! counters and gauges, histogram quantiles, and the energy metrics.

use super::dcgm::{readings, GpuReading, GpuScrape};
use super::gpu::{EnergySource, GpuAccumulator};
use super::prometheus::parse;
use super::report::{energy_metrics, ENERGY_PER_IMAGE, IMAGES_PER_KWH};
use super::server::{quantile, samples, ServerAccumulator, ServerScrape};
use super::*;
use crate::metrics::{self, MetricSummary, MetricValue, Summary};
use crate::stats::Stats;

fn head(t_s: f64, endpoint: &str, in_flight: u32, error: Option<&str>) -> ScrapeHead {
    ScrapeHead {
        timestamp_ns: (t_s * 1e9) as u64,
        endpoint: endpoint.into(),
        in_flight,
        edge: None,
        error: error.map(str::to_owned),
    }
}

fn scrape(t_s: f64, in_flight: u32, gpus: Vec<GpuReading>) -> GpuScrape {
    GpuScrape {
        head: head(t_s, "http://dcgm:9400/metrics", in_flight, None),
        gpus,
    }
}

fn failed(t_s: f64) -> GpuScrape {
    GpuScrape {
        head: head(t_s, "http://dcgm:9400/metrics", 0, Some("timed out")),
        gpus: vec![],
    }
}

fn reading(power: f64, energy_mj: Option<f64>) -> GpuReading {
    GpuReading {
        gpu: "0".into(),
        uuid: Some("GPU-1".into()),
        power_w: Some(power),
        energy_mj,
        ..GpuReading::default()
    }
}

#[test]
fn dcgm_readings_by_gpu_label() {
    let text = r#"# TYPE DCGM_FI_DEV_POWER_USAGE gauge
DCGM_FI_DEV_POWER_USAGE{gpu="0",UUID="GPU-a",device="nvidia0",modelName="NVIDIA H100 80GB HBM3",Hostname="n1"} 612.5
DCGM_FI_DEV_POWER_USAGE{gpu="1",UUID="GPU-b",device="nvidia1",modelName="NVIDIA H100 80GB HBM3",Hostname="n1"} 71
# TYPE DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION counter
DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION{gpu="0",UUID="GPU-a",Hostname="n1"} 123456789
DCGM_FI_DEV_GPU_UTIL{gpu="1",UUID="GPU-b",Hostname="n1"} NaN
DCGM_FI_DEV_XID_ERRORS{gpu="1",UUID="GPU-b",Hostname="n1"} 79
DCGM_FI_DEV_DEC_UTIL{gpu="2",UUID="GPU-c"} 0
"#;
    let r = readings(&parse(text).unwrap());
    assert_eq!(r.len(), 2, "a GPU with no field of ours is not listed");
    assert_eq!(r[0].display_name(), "n1:0");
    assert_eq!(r[0].model_name.as_deref(), Some("NVIDIA H100 80GB HBM3"));
    assert_eq!(r[0].power_w, Some(612.5));
    assert_eq!(r[0].energy_mj, Some(123456789.0));
    assert_eq!(r[1].gpu_util_pct, None, "NaN counts as absent");
    assert_eq!(r[1].xid_errors, Some(79.0));
}

#[test]
fn energy_from_counter_across_a_reset() {
    let mut acc = GpuAccumulator::new();
    acc.add(&scrape(0.0, 0, vec![reading(100.0, Some(5_000_000.0))]));
    acc.add(&scrape(1.0, 1, vec![reading(500.0, Some(5_400_000.0))]));
    acc.add(&scrape(2.0, 1, vec![reading(500.0, Some(200_000.0))])); // reset
    acc.add(&scrape(3.0, 0, vec![reading(100.0, Some(300_000.0))]));
    let s = acc.finish();
    let g = &s.gpus[0];
    assert_eq!(g.energy_source, Some(EnergySource::Counter));
    assert_eq!(g.energy_counter_resets, 1);
    assert!(
        (g.energy_j.unwrap() - 700.0).abs() < 1e-9,
        "{:?}",
        g.energy_j
    );
    assert_eq!(g.power_in_flight_w, Some(500.0));
    assert_eq!(g.power_idle_w, Some(100.0));
    assert_eq!(g.power_w.unwrap().max, 500.0);
    assert_eq!(s.span_s, 3.0);
    assert_eq!(s.energy_j, g.energy_j);
}

#[test]
fn energy_integrated_when_no_counter() {
    let mut acc = GpuAccumulator::new();
    for (t, p) in [(0.0, 100.0), (1.0, 300.0), (3.0, 300.0)] {
        acc.add(&scrape(t, 1, vec![reading(p, None)]));
    }
    acc.add(&failed(4.0));
    let s = acc.finish();
    // 200 J over the first second, 600 J over the next two.
    assert_eq!(s.gpus[0].energy_j, Some(800.0));
    assert_eq!(s.energy_source, Some(EnergySource::IntegratedPower));
    assert_eq!(s.endpoints[0].ok, 3);
    assert_eq!(s.endpoints[0].failed, 1);
    assert_eq!(s.endpoints[0].first_error.as_deref(), Some("timed out"));
}

#[test]
fn energy_per_image_per_megapixel_and_per_kwh() {
    let dist = |def, values: &[f64]| MetricSummary {
        def,
        value: MetricValue::Distribution(Stats::from_values(values).unwrap()),
    };
    let summary = Summary {
        metrics: vec![
            dist(metrics::OUTPUT_IMAGE_COUNT, &[1.0, 1.0, 2.0]),
            dist(metrics::OUTPUT_MEGAPIXELS, &[0.25, 0.25, 1.0]),
        ],
        error_summary: Vec::new(),
        request_count: 3,
        error_count: 0,
        cancelled_count: 0,
        benchmark_duration_s: 2.0,
        start_ns: None,
        end_ns: None,
    };
    let (images, mp) = report::images_and_megapixels(&summary);
    assert_eq!((images, mp), (4.0, 1.5));
    let gpu = gpu::GpuTelemetrySummary {
        energy_j: Some(3600.0 * images),
        ..Default::default()
    };
    let m = energy_metrics(&summary, &gpu);
    let get = |tag: &str| match m.iter().find(|x| x.def.tag == tag).map(|x| &x.value) {
        Some(MetricValue::Scalar(v)) => *v,
        _ => panic!("{tag} missing"),
    };
    assert!((get(ENERGY_PER_IMAGE.tag) - 3600.0).abs() < 1e-9);
    assert!((get(IMAGES_PER_KWH.tag) - 1000.0).abs() < 1e-9);
    assert!((get("energy_per_megapixel") - 3600.0 * images / mp).abs() < 1e-6);
}

#[test]
fn server_counters_gauges_and_histograms() {
    let body = |waiting: f64, total: f64, b1: f64, b2: f64, inf: f64, sum: f64| {
        format!(
            "# TYPE q gauge\nq{{model=\"m\"}} {waiting}\n# TYPE reqs counter\nreqs_total {total}\n\
             # TYPE lat histogram\nlat_bucket{{le=\"1\"}} {b1}\nlat_bucket{{le=\"2\"}} {b2}\n\
             lat_bucket{{le=\"+Inf\"}} {inf}\nlat_sum {sum}\nlat_count {inf}\n\
             DCGM_FI_DEV_POWER_USAGE{{gpu=\"0\"}} 100\n"
        )
    };
    let mut acc = ServerAccumulator::new();
    for (t, text) in [
        (0.0, body(0.0, 10.0, 0.0, 0.0, 0.0, 0.0)),
        (1.0, body(4.0, 30.0, 5.0, 8.0, 10.0, 12.0)),
        (2.0, body(2.0, 50.0, 10.0, 18.0, 20.0, 25.0)),
    ] {
        acc.add(&ServerScrape {
            head: head(t, "http://s/metrics", 0, None),
            samples: samples(&parse(&text).unwrap()),
        });
    }
    let s = acc.finish();
    assert!(s.gauges.iter().all(|g| !g.name.starts_with("DCGM")));
    let q = s.gauges.iter().find(|g| g.name == "q").unwrap();
    assert_eq!((q.avg, q.min, q.max, q.last), (2.0, 0.0, 4.0, 2.0));
    let reqs = s.counters.iter().find(|c| c.name == "reqs_total").unwrap();
    assert_eq!((reqs.delta, reqs.rate_per_s), (40.0, 20.0));
    let h = &s.histograms[0];
    assert_eq!(h.name, "lat");
    assert_eq!(h.count, 20.0);
    assert_eq!(h.mean, Some(1.25));
    assert_eq!(h.p50, Some(1.0));
    assert_eq!(h.p90, Some(2.0));
    assert_eq!(h.p99, Some(2.0), "in the +Inf bucket: the largest bound");
}

#[test]
fn quantiles_interpolate_inside_buckets() {
    let b = [(0.5, 10.0), (1.0, 30.0), (f64::INFINITY, 30.0)];
    assert_eq!(quantile(&b, 0.25), Some(0.375));
    assert_eq!(quantile(&b, 0.5), Some(0.625));
    assert_eq!(quantile(&[], 0.5), None);
    assert_eq!(quantile(&[(1.0, 0.0)], 0.5), None);
}

#[test]
fn metrics_urls_as_aiperf_writes_them() {
    assert_eq!(
        metrics_url("localhost:9400").unwrap(),
        "http://localhost:9400/metrics"
    );
    assert_eq!(
        metrics_url("http://node1:9400/").unwrap(),
        "http://node1:9400/metrics"
    );
    assert_eq!(
        metrics_url("node2:9401/metrics").unwrap(),
        "http://node2:9401/metrics"
    );
    assert_eq!(
        metrics_url("https://h/custom?x=1").unwrap(),
        "https://h/custom?x=1"
    );
    assert!(metrics_url("ftp://h").is_err());
    assert!(metrics_url("").is_err());
}

#[test]
fn json_lines_keep_non_finite_values() {
    let s = ServerScrape {
        head: ScrapeHead {
            edge: Some(Edge::Start),
            ..head(1e-9, "e", 0, None)
        },
        samples: samples(&parse("a NaN\nb +Inf\nc -Inf\nd 2.5\n").unwrap()),
    };
    let line = serde_json::to_string(&s).unwrap();
    assert!(line.contains(r#""value":"+Inf""#), "{line}");
    assert!(line.contains(r#""edge":"start""#), "{line}");
    let back: ServerScrape = serde_json::from_str(&line).unwrap();
    assert!(back.samples[0].value.is_nan());
    assert_eq!(back.samples[1..], s.samples[1..]);
}

#[test]
fn timeline_tracks_with_gaps() {
    use super::timeline::Timeline;
    let mut t = Timeline::new();
    let mut g = reading(300.0, None);
    g.gpu_util_pct = Some(50.0);
    t.add_gpu(&scrape(1.0, 1, vec![g]));
    t.add_gpu(&failed(2.0));
    t.add_server(&ServerScrape {
        head: head(3.0, "http://s/metrics", 0, None),
        samples: samples(
            &parse("vllm:num_requests_waiting{model_name=\"m\"} 4\nother 1\n").unwrap(),
        ),
    });
    t.short_names();
    assert_eq!(t.power[0].name, "0");
    assert_eq!(
        t.power[0].points,
        [(1_000_000_000, Some(300.0)), (2_000_000_000, None)]
    );
    assert_eq!(t.utilization[0].points[0].1, Some(50.0));
    assert_eq!(t.queue.len(), 1);
    assert_eq!(t.queue[0].name, "vllm:num_requests_waiting");
    assert_eq!(t.span, Some((1_000_000_000, 3_000_000_000)));
}

#[test]
fn a_gpu_two_exporters_report_counts_once() {
    let mut acc = GpuAccumulator::new();
    for endpoint in ["http://a:9400/metrics", "http://a:9401/metrics"] {
        for (t, e) in [(0.0, 0.0), (1.0, 100_000.0)] {
            acc.add(&GpuScrape {
                head: head(t, endpoint, 0, None),
                gpus: vec![reading(100.0, Some(e))],
            });
        }
    }
    let s = acc.finish();
    assert_eq!(s.gpus.len(), 2, "both rows shown");
    assert_eq!(
        s.gpus[1].duplicate_of.as_deref(),
        Some("http://a:9400/metrics")
    );
    assert_eq!(s.energy_j, Some(100.0), "counted once");
    assert_eq!(s.power_w, Some(100.0));
}
