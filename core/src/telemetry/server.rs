//! Server `/metrics` scrapes: the `server_metrics_export.jsonl` line
//! ([`ServerScrape`], every sample of one scrape) and the run's summary of
//! every series ([`ServerAccumulator`], constant memory per series, at most
//! [`MAX_SERIES`]): counters (and histogram/summary `_sum`, `_count`) as
//! delta and rate over the scraped span, counter resets included; gauges
//! (and untyped series, summary quantiles) as avg/min/max/last; histograms
//! also as count, mean and p50/p90/p99 estimated from the bucket deltas.

use std::collections::hash_map::DefaultHasher;
use std::collections::{BTreeMap, HashMap};
use std::hash::{Hash, Hasher};

use serde::{Deserialize, Serialize};

use super::dcgm::is_dcgm;
use super::prometheus::{parse_value, Exposition, MetricType};
use super::{json_f64, EndpointStatus, ScrapeHead, SpreadAcc};

/// One sample of a server scrape.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServerSample {
    /// Sample name (`vllm:e2e_request_latency_seconds_bucket`).
    pub name: String,
    /// Its family's type.
    #[serde(rename = "type")]
    pub kind: MetricType,
    /// Labels.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
    /// Value (`"NaN"`, `"+Inf"`, `"-Inf"` as strings in JSON).
    #[serde(with = "json_f64")]
    pub value: f64,
}

/// One `server_metrics_export.jsonl` line: a scrape of one endpoint.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServerScrape {
    /// When, where, and whether it failed.
    #[serde(flatten)]
    pub head: ScrapeHead,
    /// Every sample (DCGM's families excepted: they are GPU telemetry).
    #[serde(default)]
    pub samples: Vec<ServerSample>,
}

/// The samples of an exposition, DCGM families left out.
pub fn samples(exposition: &Exposition) -> Vec<ServerSample> {
    exposition
        .samples()
        .filter(|(f, _)| !is_dcgm(&f.name))
        .map(|(f, s)| ServerSample {
            name: s.name.clone(),
            kind: f.kind,
            labels: s.labels.iter().cloned().collect(),
            value: s.value,
        })
        .collect()
}

/// A counter-like series over the run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CounterSeries {
    /// Endpoint URL.
    pub endpoint: String,
    /// Sample name.
    pub name: String,
    /// Labels.
    pub labels: BTreeMap<String, String>,
    /// Increase over the span (resets included).
    pub delta: f64,
    /// `delta` per second of the series' span.
    pub rate_per_s: f64,
    /// Times the value went down (a restart).
    pub resets: u32,
}

/// A gauge-like series over the run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GaugeSeries {
    /// Endpoint URL.
    pub endpoint: String,
    /// Sample name.
    pub name: String,
    /// Its family's type (gauge, untyped, or summary for quantiles).
    #[serde(rename = "type")]
    pub kind: MetricType,
    /// Labels.
    pub labels: BTreeMap<String, String>,
    /// Scrapes with a finite value.
    pub samples: u64,
    /// Average over the scrapes.
    pub avg: f64,
    /// Smallest value.
    pub min: f64,
    /// Largest value.
    pub max: f64,
    /// Last value.
    #[serde(with = "json_f64")]
    pub last: f64,
}

/// A histogram (one label set) over the run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HistogramSeries {
    /// Endpoint URL.
    pub endpoint: String,
    /// Family name (without `_bucket`).
    pub name: String,
    /// Labels, `le` left out.
    pub labels: BTreeMap<String, String>,
    /// Observations during the span.
    pub count: f64,
    /// Their mean (`_sum` delta / `_count` delta).
    pub mean: Option<f64>,
    /// Estimated from the bucket deltas (linear within a bucket).
    pub p50: Option<f64>,
    /// Estimated 90th percentile.
    pub p90: Option<f64>,
    /// Estimated 99th percentile.
    pub p99: Option<f64>,
}

/// Every series of a run's server scrapes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct ServerMetricsSummary {
    /// Each endpoint scraped, with its successes and failures.
    pub endpoints: Vec<EndpointStatus>,
    /// Series seen (all kinds, histogram buckets included).
    pub series: usize,
    /// Samples of series beyond [`MAX_SERIES`], not summarised.
    pub samples_dropped: u64,
    /// Gauges, untyped series and summary quantiles.
    pub gauges: Vec<GaugeSeries>,
    /// Counters and the `_sum`/`_count` of histograms and summaries.
    pub counters: Vec<CounterSeries>,
    /// Histograms.
    pub histograms: Vec<HistogramSeries>,
}

/// Most series summarised per run.
pub const MAX_SERIES: usize = 20_000;

#[derive(Debug, Clone)]
struct SeriesAcc {
    endpoint: usize,
    name: String,
    kind: MetricType,
    labels: BTreeMap<String, String>,
    cumulative: bool,
    level: SpreadAcc,
    first_ns: u64,
    last_ns: u64,
    last: f64,
    delta: f64,
    resets: u32,
    seen: bool,
}

/// Folds server scrapes (in time order per endpoint) into a [`ServerMetricsSummary`].
#[derive(Debug, Clone, Default)]
pub struct ServerAccumulator {
    endpoints: Vec<EndpointStatus>,
    series: Vec<SeriesAcc>,
    /// Series by the hash of endpoint, name and labels (collisions compared).
    index: HashMap<u64, Vec<usize>>,
    dropped: u64,
}

fn series_hash(endpoint: usize, name: &str, labels: &BTreeMap<String, String>) -> u64 {
    let mut h = DefaultHasher::new();
    (endpoint, name, labels).hash(&mut h);
    h.finish()
}

/// Whether a sample only grows: counters, and histogram/summary sums and counts.
fn is_cumulative(kind: MetricType, name: &str) -> bool {
    match kind {
        MetricType::Counter => !name.ends_with("_created"),
        MetricType::Histogram => !name.ends_with("_created"),
        MetricType::Summary => name.ends_with("_sum") || name.ends_with("_count"),
        _ => false,
    }
}

impl ServerAccumulator {
    /// Nothing seen yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Fold one scrape.
    pub fn add(&mut self, scrape: &ServerScrape) {
        let h = &scrape.head;
        if !EndpointStatus::tally(&mut self.endpoints, h) {
            return;
        }
        let ep = self
            .endpoints
            .iter()
            .position(|e| e.url == h.endpoint)
            .unwrap_or(0);
        let t = h.timestamp_ns;
        for s in &scrape.samples {
            let hash = series_hash(ep, &s.name, &s.labels);
            let found = self.index.get(&hash).and_then(|c| {
                c.iter().copied().find(|&i| {
                    let x = &self.series[i];
                    x.endpoint == ep && x.name == s.name && x.labels == s.labels
                })
            });
            let i = match found {
                Some(i) => i,
                None if self.series.len() < MAX_SERIES => {
                    self.series.push(SeriesAcc {
                        endpoint: ep,
                        name: s.name.clone(),
                        kind: s.kind,
                        labels: s.labels.clone(),
                        cumulative: is_cumulative(s.kind, &s.name),
                        level: SpreadAcc::default(),
                        first_ns: t,
                        last_ns: t,
                        last: f64::NAN,
                        delta: 0.0,
                        resets: 0,
                        seen: false,
                    });
                    let i = self.series.len() - 1;
                    self.index.entry(hash).or_default().push(i);
                    i
                }
                None => {
                    self.dropped += 1;
                    continue;
                }
            };
            self.series[i].add(t, s.value);
        }
    }

    /// The figures so far.
    pub fn finish(&self) -> ServerMetricsSummary {
        let url = |i: usize| self.endpoints[i].url.clone();
        let mut out = ServerMetricsSummary {
            endpoints: self.endpoints.clone(),
            series: self.series.len(),
            samples_dropped: self.dropped,
            ..Default::default()
        };
        for s in &self.series {
            if s.kind == MetricType::Histogram && s.name.ends_with("_bucket") {
                continue;
            }
            if s.cumulative {
                let span = s.last_ns.saturating_sub(s.first_ns) as f64 / 1e9;
                out.counters.push(CounterSeries {
                    endpoint: url(s.endpoint),
                    name: s.name.clone(),
                    labels: s.labels.clone(),
                    delta: s.delta,
                    rate_per_s: if span > 0.0 { s.delta / span } else { 0.0 },
                    resets: s.resets,
                });
            } else if let Some(sp) = s.level.finish() {
                out.gauges.push(GaugeSeries {
                    endpoint: url(s.endpoint),
                    name: s.name.clone(),
                    kind: s.kind,
                    labels: s.labels.clone(),
                    samples: s.level.count(),
                    avg: sp.avg,
                    min: sp.min,
                    max: sp.max,
                    last: s.last,
                });
            }
        }
        out.histograms = self.histograms(&out.counters);
        out
    }

    /// Histograms from their bucket, sum and count series.
    fn histograms(&self, counters: &[CounterSeries]) -> Vec<HistogramSeries> {
        type Key = (usize, String, BTreeMap<String, String>);
        let mut groups: Vec<(Key, Vec<(f64, f64)>)> = Vec::new();
        for s in &self.series {
            if s.kind != MetricType::Histogram {
                continue;
            }
            let Some(base) = s.name.strip_suffix("_bucket") else {
                continue;
            };
            let mut labels = s.labels.clone();
            let Some(le) = labels.remove("le").and_then(|v| parse_value(&v).ok()) else {
                continue;
            };
            let key = (s.endpoint, base.to_owned(), labels);
            match groups.iter_mut().find(|(k, _)| *k == key) {
                Some((_, b)) => b.push((le, s.delta)),
                None => groups.push((key, vec![(le, s.delta)])),
            }
        }
        groups
            .into_iter()
            .map(|((ep, name, labels), mut buckets)| {
                buckets.sort_by(|a, b| a.0.total_cmp(&b.0));
                let endpoint = self.endpoints[ep].url.clone();
                let find = |suffix: &str| {
                    counters
                        .iter()
                        .find(|c| {
                            c.endpoint == endpoint
                                && c.labels == labels
                                && c.name.strip_suffix(suffix) == Some(name.as_str())
                        })
                        .map(|c| c.delta)
                };
                let count = find("_count")
                    .or_else(|| buckets.last().map(|b| b.1))
                    .unwrap_or(0.0);
                let mean = find("_sum").filter(|_| count > 0.0).map(|s| s / count);
                let q = |q: f64| quantile(&buckets, q);
                HistogramSeries {
                    endpoint,
                    name,
                    labels,
                    count,
                    mean,
                    p50: q(0.5),
                    p90: q(0.9),
                    p99: q(0.99),
                }
            })
            .collect()
    }
}

/// The `q` quantile from cumulative `(le, count)` buckets, sorted by `le`,
/// interpolating linearly inside a bucket (the first starts at 0); in the
/// `+Inf` bucket, the largest finite bound.
pub fn quantile(buckets: &[(f64, f64)], q: f64) -> Option<f64> {
    let total = buckets.last()?.1;
    if total.is_nan() || total <= 0.0 {
        return None;
    }
    let rank = q * total;
    let mut lower = (0.0f64, 0.0f64);
    for &(le, cum) in buckets {
        if cum >= rank {
            if le.is_infinite() {
                return Some(lower.0);
            }
            let start = if lower.0 == 0.0 && le < 0.0 {
                le
            } else {
                lower.0
            };
            let width = cum - lower.1;
            let share = if width > 0.0 {
                (rank - lower.1) / width
            } else {
                1.0
            };
            return Some(start + (le - start) * share);
        }
        lower = (le, cum);
    }
    Some(lower.0)
}

impl SeriesAcc {
    fn add(&mut self, t: u64, v: f64) {
        self.last_ns = t;
        if self.cumulative {
            if self.seen && v.is_finite() && self.last.is_finite() {
                if v >= self.last {
                    self.delta += v - self.last;
                } else {
                    self.resets += 1;
                    self.delta += v;
                }
            }
        } else if v.is_finite() {
            self.level.add(v);
        }
        self.last = v;
        self.seen = true;
    }
}
