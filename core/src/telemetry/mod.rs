//! Telemetry beside the client's view: GPU figures from DCGM exporters and
//! every series of the server's own `/metrics`, scraped through the
//! profiling phase (the scraper itself lives in the native crate).
//!
//! [`prometheus`] reads and writes the text exposition format; [`dcgm`]
//! picks the per-GPU readings out of a scrape; [`gpu`] and [`server`] fold
//! scrapes, one at a time, into a run's figures; [`report`] turns them into
//! the energy metrics of the run's summary (energy per image and per
//! megapixel, images per kWh, power in flight against idle) and the summary
//! JSON and CSV parts; [`table`] the rows of the "GPU Telemetry" table;
//! [`timeline`] the series the viewer plots.

pub mod dcgm;
pub mod gpu;
pub mod prometheus;
pub mod report;
pub mod server;
pub mod table;
pub mod timeline;

use serde::{Deserialize, Serialize};

/// Which end of the profiling phase a boundary scrape marks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Edge {
    /// Just before the first profiling request.
    Start,
    /// Just after the last one ended.
    End,
}

/// When and where a scrape was made and whether it failed: the head of
/// every line of both telemetry exports.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScrapeHead {
    /// When the scrape was answered (epoch ns, the records' timeline).
    pub timestamp_ns: u64,
    /// The URL scraped.
    pub endpoint: String,
    /// The client's requests in flight at that moment.
    pub in_flight: u32,
    /// Set on the scrapes just before and just after the profiling phase.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub edge: Option<Edge>,
    /// Why the scrape failed (a gap in the series).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// How scraping one endpoint went.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct EndpointStatus {
    /// The URL scraped.
    pub url: String,
    /// Scrapes answered with a valid exposition.
    pub ok: u64,
    /// Scrapes that failed (each a gap in the series).
    pub failed: u64,
    /// The first failure's reason.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_error: Option<String>,
}

impl EndpointStatus {
    fn find_or_add<'a>(list: &'a mut Vec<EndpointStatus>, url: &str) -> &'a mut EndpointStatus {
        let i = match list.iter().position(|e| e.url == url) {
            Some(i) => i,
            None => {
                list.push(EndpointStatus {
                    url: url.to_owned(),
                    ..Default::default()
                });
                list.len() - 1
            }
        };
        &mut list[i]
    }

    /// Count the scrape `head` describes; whether it succeeded.
    fn tally(list: &mut Vec<EndpointStatus>, head: &ScrapeHead) -> bool {
        let status = Self::find_or_add(list, &head.endpoint);
        match &head.error {
            None => status.ok += 1,
            Some(e) => {
                status.failed += 1;
                status.first_error.get_or_insert_with(|| e.clone());
            }
        }
        head.error.is_none()
    }
}

/// Average, smallest and largest of a series' samples.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Spread {
    /// Mean of the samples.
    pub avg: f64,
    /// Smallest sample.
    pub min: f64,
    /// Largest sample.
    pub max: f64,
}

/// Running count, sum, min and max.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct SpreadAcc {
    n: u64,
    sum: f64,
    min: f64,
    max: f64,
}

impl SpreadAcc {
    pub(crate) fn add(&mut self, v: f64) {
        if !v.is_finite() {
            return;
        }
        if self.n == 0 {
            (self.min, self.max) = (v, v);
        }
        self.n += 1;
        self.sum += v;
        self.min = self.min.min(v);
        self.max = self.max.max(v);
    }

    pub(crate) fn count(&self) -> u64 {
        self.n
    }

    pub(crate) fn finish(&self) -> Option<Spread> {
        (self.n > 0).then(|| Spread {
            avg: self.sum / self.n as f64,
            min: self.min,
            max: self.max,
        })
    }
}

/// `http://host:port/metrics` from what a user types: `http://` added when
/// there is no scheme, `/metrics` when there is no path (as AIPerf does).
pub fn metrics_url(spec: &str) -> Result<String, String> {
    let s = spec.trim();
    if s.is_empty() {
        return Err("empty telemetry URL".into());
    }
    let with_scheme = if s.contains("://") {
        s.to_owned()
    } else {
        format!("http://{s}")
    };
    let (scheme, rest) = with_scheme.split_once("://").unwrap_or(("http", s));
    if scheme != "http" && scheme != "https" {
        return Err(format!(
            "telemetry URL {spec:?}: only http:// and https:// can be scraped"
        ));
    }
    let host_end = rest.find(['/', '?']).unwrap_or(rest.len());
    if host_end == 0 || rest[..host_end].contains(char::is_whitespace) {
        return Err(format!("telemetry URL {spec:?} has no host"));
    }
    let path = &rest[host_end..];
    if path.is_empty() || path == "/" {
        Ok(format!("{scheme}://{}/metrics", &rest[..host_end]))
    } else {
        Ok(format!("{scheme}://{rest}"))
    }
}

/// JSON numbers that may be `NaN` or infinite: written as the strings
/// `"NaN"`, `"+Inf"`, `"-Inf"` (JSON has no such numbers), read back from
/// either form.
pub mod json_f64 {
    use serde::{Deserialize, Deserializer, Serializer};

    /// Write a finite value as a number, others as Prometheus writes them.
    pub fn serialize<S: Serializer>(v: &f64, s: S) -> Result<S::Ok, S::Error> {
        if v.is_finite() {
            s.serialize_f64(*v)
        } else {
            s.serialize_str(&super::prometheus::value_text(*v))
        }
    }

    /// Read a number, or one of the strings written for non-finite values.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Either {
            Number(f64),
            Text(String),
        }
        match Either::deserialize(d)? {
            Either::Number(v) => Ok(v),
            Either::Text(t) => super::prometheus::parse_value(&t)
                .map_err(|_| serde::de::Error::custom(format!("{t:?} is not a number"))),
        }
    }
}

#[cfg(test)]
mod tests;
