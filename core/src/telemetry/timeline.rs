//! Telemetry as time series for plots: per GPU its power and utilization,
//! per server endpoint its queue and running-request gauges, each point
//! stamped with the scrape's epoch ns (the records' timeline), a failed
//! scrape leaving a gap (`None`). Built from the export lines, one at a time.

use super::dcgm::GpuScrape;
use super::server::ServerScrape;
use super::table::QUEUE_GAUGES;

/// One plotted quantity over time.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Track {
    /// Legend text (`node1:0`, `vllm:num_requests_waiting`).
    pub name: String,
    /// `(epoch ns, value)`; `None` marks a gap (a failed scrape).
    pub points: Vec<(u64, Option<f64>)>,
}

/// The tracks of one run.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Timeline {
    /// GPU power, W, one track per GPU.
    pub power: Vec<Track>,
    /// GPU utilization, %, one track per GPU.
    pub utilization: Vec<Track>,
    /// Queue and running-request gauges of the server, one track per series.
    pub queue: Vec<Track>,
    /// First and last scrape (epoch ns).
    pub span: Option<(u64, u64)>,
}

/// Most points kept per track (later scrapes thin out the series by half).
pub const MAX_POINTS: usize = 20_000;

fn track<'a>(tracks: &'a mut Vec<Track>, name: &str) -> &'a mut Track {
    let i = match tracks.iter().position(|t| t.name == name) {
        Some(i) => i,
        None => {
            tracks.push(Track {
                name: name.to_owned(),
                points: Vec::new(),
            });
            tracks.len() - 1
        }
    };
    &mut tracks[i]
}

fn push(t: &mut Track, at: u64, v: Option<f64>) {
    if t.points.len() >= MAX_POINTS {
        let mut keep = false;
        t.points.retain(|_| {
            keep = !keep;
            keep
        });
    }
    t.points.push((at, v.filter(|v| v.is_finite())));
}

/// A gap at `at` in every track of `endpoint`.
fn gap(tracks: &mut [Track], endpoint: &str, at: u64) {
    let prefix = format!("{endpoint} ");
    for t in tracks.iter_mut().filter(|t| t.name.starts_with(&prefix)) {
        push(t, at, None);
    }
}

impl Timeline {
    /// Nothing yet.
    pub fn new() -> Self {
        Self::default()
    }

    fn widen(&mut self, t: u64) {
        self.span = Some(self.span.map_or((t, t), |(a, b)| (a.min(t), b.max(t))));
    }

    /// Add one DCGM scrape (a failed one is a gap in every GPU of its endpoint).
    pub fn add_gpu(&mut self, s: &GpuScrape) {
        let (h, at) = (&s.head, s.head.timestamp_ns);
        self.widen(at);
        if h.error.is_some() {
            gap(&mut self.power, &h.endpoint, at);
            gap(&mut self.utilization, &h.endpoint, at);
            return;
        }
        for g in &s.gpus {
            let name = format!("{} {}", h.endpoint, g.display_name());
            let util = g.gpu_util_pct.or(g.gr_engine_active.map(|r| r * 100.0));
            push(track(&mut self.power, &name), at, g.power_w);
            push(track(&mut self.utilization, &name), at, util);
        }
    }

    /// Add one server scrape: its known queue and running gauges.
    pub fn add_server(&mut self, s: &ServerScrape) {
        let (h, at) = (&s.head, s.head.timestamp_ns);
        self.widen(at);
        if h.error.is_some() {
            gap(&mut self.queue, &h.endpoint, at);
            return;
        }
        for sample in &s.samples {
            if QUEUE_GAUGES.iter().any(|(n, _)| *n == sample.name) {
                let labels: Vec<String> = sample
                    .labels
                    .iter()
                    .filter(|(k, _)| k.as_str() != "model_name" && k.as_str() != "engine")
                    .map(|(k, v)| format!("{k}={v}"))
                    .collect();
                let mut name = format!("{} {}", h.endpoint, sample.name);
                if !labels.is_empty() {
                    name = format!("{name}{{{}}}", labels.join(","));
                }
                push(track(&mut self.queue, &name), at, Some(sample.value));
            }
        }
    }

    /// Whether there is anything to plot.
    pub fn is_empty(&self) -> bool {
        self.power.is_empty() && self.utilization.is_empty() && self.queue.is_empty()
    }

    /// Short legend names: the endpoint dropped when there is only one.
    pub fn short_names(&mut self) {
        for tracks in [&mut self.power, &mut self.utilization, &mut self.queue] {
            let endpoints: Vec<&str> = tracks
                .iter()
                .filter_map(|t| t.name.split_once(' ').map(|(e, _)| e))
                .collect();
            let one = endpoints.windows(2).all(|w| w[0] == w[1]);
            if one {
                for t in tracks.iter_mut() {
                    if let Some((_, rest)) = t.name.split_once(' ') {
                        t.name = rest.to_owned();
                    }
                }
            }
        }
    }
}
