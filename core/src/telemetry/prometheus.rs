//! The Prometheus text exposition format (version 0.0.4, with the quoted
//! UTF-8 names of Prometheus 3): [`parse`] reads a scrape body into
//! [`Family`]s of [`Sample`]s, [`write`] renders one back (the mock's
//! `/metrics` uses it, and the fuzz target checks that what is written
//! parses back to the same thing).
//!
//! Handled: `# HELP` (escapes `\\` and `\n`) and `# TYPE` (counter, gauge,
//! histogram, summary, untyped) lines, other comments, blank lines, CRLF,
//! blanks and tabs between tokens, labels with escaped values (`\\`, `\"`,
//! `\n`) and a trailing comma, values such as `NaN`, `+Inf`, `-Inf` and
//! `1.5e-3`, optional integer millisecond timestamps, histograms
//! (`_bucket` with `le`, `_sum`, `_count`), summaries (`quantile`,
//! `_sum`, `_count`) and counters written with `_total` / `_created`.
//! As Prometheus does, any malformed line fails the whole scrape.

mod lex;
mod write;

pub(crate) use lex::{is_label_name, is_metric_name, parse_value};
use lex::{sample, split_word, unescape_help, Cursor, BLANKS};

pub(crate) use write::value_text;
pub use write::write;

/// What a `# TYPE` line declares.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MetricType {
    /// Only goes up (until a reset).
    Counter,
    /// Goes up and down.
    Gauge,
    /// Cumulative `_bucket`s with `le`, `_sum` and `_count`.
    Histogram,
    /// Quantiles with `quantile`, `_sum` and `_count`.
    Summary,
    /// No `# TYPE` line, or `untyped`.
    Untyped,
}

impl MetricType {
    /// The word used on a `# TYPE` line.
    pub fn name(self) -> &'static str {
        match self {
            MetricType::Counter => "counter",
            MetricType::Gauge => "gauge",
            MetricType::Histogram => "histogram",
            MetricType::Summary => "summary",
            MetricType::Untyped => "untyped",
        }
    }

    fn parse(word: &str) -> Option<MetricType> {
        Some(match word {
            "counter" => MetricType::Counter,
            "gauge" => MetricType::Gauge,
            "histogram" => MetricType::Histogram,
            "summary" => MetricType::Summary,
            "untyped" | "unknown" => MetricType::Untyped,
            _ => return None,
        })
    }

    /// Sample-name suffixes that belong to a family of this type.
    fn suffixes(self) -> &'static [&'static str] {
        match self {
            MetricType::Counter => &["_total", "_created"],
            MetricType::Histogram => &["_bucket", "_sum", "_count", "_created"],
            MetricType::Summary => &["_sum", "_count", "_created"],
            _ => &[],
        }
    }
}

/// One line of values: `name{labels} value [timestamp]`.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    /// The sample's own name (`x_bucket` for a histogram `x`).
    pub name: String,
    /// Labels in the order written.
    pub labels: Vec<(String, String)>,
    /// The value (may be NaN or infinite).
    pub value: f64,
    /// Milliseconds since the epoch, when the exporter gave one.
    pub timestamp_ms: Option<i64>,
}

impl Sample {
    /// The value of label `name`.
    pub fn label(&self, name: &str) -> Option<&str> {
        self.labels
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// A metric family: its `# HELP`, `# TYPE` and samples.
#[derive(Debug, Clone, PartialEq)]
pub struct Family {
    /// The name on the `# TYPE` line (or of its first sample).
    pub name: String,
    /// Declared type (`Untyped` without a `# TYPE` line).
    pub kind: MetricType,
    /// `# HELP` text, unescaped.
    pub help: Option<String>,
    /// Samples in the order written.
    pub samples: Vec<Sample>,
}

/// A whole scrape.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Exposition {
    /// Families in the order they first appear.
    pub families: Vec<Family>,
}

impl Exposition {
    /// The family called `name`.
    pub fn family(&self, name: &str) -> Option<&Family> {
        self.families.iter().find(|f| f.name == name)
    }

    /// Every sample with its family's type.
    pub fn samples(&self) -> impl Iterator<Item = (&Family, &Sample)> {
        self.families
            .iter()
            .flat_map(|f| f.samples.iter().map(move |s| (f, s)))
    }
}

/// Why a scrape body is not a valid exposition.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct ParseError {
    /// 1-based line number.
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

/// Parse a scrape body.
pub fn parse(text: &str) -> Result<Exposition, ParseError> {
    let mut p = Parser::default();
    for (i, raw) in text.split('\n').enumerate() {
        let line = raw.trim_matches(BLANKS);
        p.line(line).map_err(|message| ParseError {
            line: i + 1,
            message,
        })?;
    }
    Ok(Exposition {
        families: p.families,
    })
}

#[derive(Default)]
struct Parser {
    families: Vec<Family>,
    /// Per family: whether a `# TYPE` line was seen.
    typed: Vec<bool>,
}

impl Parser {
    fn line(&mut self, line: &str) -> Result<(), String> {
        if line.is_empty() {
            return Ok(());
        }
        if let Some(rest) = line.strip_prefix('#') {
            return self.comment(rest.trim_start_matches(BLANKS));
        }
        let sample = sample(line)?;
        self.add(sample)
    }

    fn comment(&mut self, rest: &str) -> Result<(), String> {
        let (word, rest) = split_word(rest);
        if word != "HELP" && word != "TYPE" {
            return Ok(()); // an ordinary comment
        }
        let mut cur = Cursor::new(rest.trim_start_matches(BLANKS));
        let name = cur
            .name(is_metric_name)
            .map_err(|e| format!("# {word}: {e}"))?;
        let text = cur.rest();
        if !text.is_empty() && !text.starts_with(BLANKS) {
            return Err(format!("# {word} {name}: expected a blank after the name"));
        }
        let text = text.trim_start_matches(BLANKS);
        let index = match self.families.iter().position(|f| f.name == name) {
            Some(i) => i,
            None => {
                if word == "TYPE" && self.has_samples_named(&name) {
                    return Err(format!("# TYPE {name} after samples of {name}"));
                }
                self.push(&name, MetricType::Untyped)
            }
        };
        if word == "HELP" {
            let f = &mut self.families[index];
            if f.help.is_some() {
                return Err(format!("second # HELP for {name}"));
            }
            f.help = Some(unescape_help(text));
        } else {
            let kind = MetricType::parse(text)
                .ok_or_else(|| format!("# TYPE {name}: unknown type {text:?}"))?;
            if self.typed[index] {
                return Err(format!("second # TYPE for {name}"));
            }
            if !self.families[index].samples.is_empty() {
                return Err(format!("# TYPE {name} after samples of {name}"));
            }
            self.typed[index] = true;
            self.families[index].kind = kind;
        }
        Ok(())
    }

    fn has_samples_named(&self, name: &str) -> bool {
        self.families
            .iter()
            .any(|f| f.samples.iter().any(|s| s.name == name))
    }

    fn push(&mut self, name: &str, kind: MetricType) -> usize {
        self.families.push(Family {
            name: name.to_owned(),
            kind,
            help: None,
            samples: Vec::new(),
        });
        self.typed.push(false);
        self.families.len() - 1
    }

    /// The family a sample belongs to: one of its own name, else one whose
    /// type allows the sample's suffix, else a new untyped one.
    fn family_for(&mut self, name: &str) -> usize {
        if let Some(i) = self.families.iter().position(|f| f.name == name) {
            return i;
        }
        let by_suffix = self.families.iter().position(|f| {
            f.kind
                .suffixes()
                .iter()
                .any(|suffix| name.strip_suffix(suffix).is_some_and(|base| base == f.name))
        });
        by_suffix.unwrap_or_else(|| self.push(name, MetricType::Untyped))
    }

    fn add(&mut self, s: Sample) -> Result<(), String> {
        let i = self.family_for(&s.name);
        let f = &self.families[i];
        match f.kind {
            MetricType::Histogram if s.name.ends_with("_bucket") && s.name != f.name => {
                let le = s
                    .label("le")
                    .ok_or_else(|| format!("{}: a histogram bucket needs an le label", s.name))?;
                parse_value(le).map_err(|_| format!("{}: le={le:?} is not a number", s.name))?;
            }
            MetricType::Histogram if s.name == f.name => {
                return Err(format!(
                    "histogram {}: samples are {0}_bucket, {0}_sum and {0}_count",
                    f.name
                ));
            }
            MetricType::Summary if s.name == f.name => {
                let q = s
                    .label("quantile")
                    .ok_or_else(|| format!("summary {}: needs a quantile label", s.name))?;
                parse_value(q)
                    .map_err(|_| format!("{}: quantile={q:?} is not a number", s.name))?;
            }
            _ => {}
        }
        self.families[i].samples.push(s);
        Ok(())
    }
}

#[cfg(test)]
mod tests;
