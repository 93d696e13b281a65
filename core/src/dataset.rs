//! Input files: `--input-file` with `--custom-dataset-type single_turn`.
//!
//! A single_turn file is JSON Lines, one prompt per line, as in the reference
//! tool: `{"text": "a red fox"}` or `{"texts": ["a red fox", "in snow"]}`,
//! with optional `extra` (an object merged into the request body),
//! optional `timestamp` or `delay` in milliseconds for fixed schedules, and
//! optional reference images for edits: `image` (one string) or `images` (a
//! list), each a path, an http(s) URL or a `data:` URI, plus an optional
//! `mask` (loaded by [`crate::reference`]).
//! Unknown keys are ignored. Parsing works on text already in memory, so the
//! browser and the CLI share it; every error names the source and the line.

use serde_json::{Map, Value};

/// One prompt (one row of a single_turn file).
#[derive(Debug, Clone, PartialEq)]
pub struct DatasetEntry {
    /// 1-based line of the row in its file (what errors name).
    pub line: usize,
    /// The texts of the turn; at least one, none empty.
    pub texts: Vec<String>,
    /// Fields merged into the request body for this prompt (size, seed, ...).
    pub extra: Option<Map<String, Value>>,
    /// When to send the request, in ms from the start of a fixed schedule.
    pub timestamp_ms: Option<f64>,
    /// How long to wait before sending the request, in ms.
    pub delay_ms: Option<f64>,
    /// Reference images (`image` or `images`): paths, URLs or `data:` URIs, as written.
    pub images: Vec<String>,
    /// Optional `mask` image for an edit, as written.
    pub mask: Option<String>,
}

impl DatasetEntry {
    /// The prompt sent to the server: the texts joined with a space, as the
    /// reference tool joins the texts of one turn.
    pub fn prompt(&self) -> String {
        self.texts.join(" ")
    }
}

/// The `--custom-dataset-type` values of the reference tool.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DatasetType {
    /// One prompt per line (supported).
    SingleTurn,
    /// Conversations of several turns (not supported yet).
    MultiTurn,
    /// Prompts drawn from pools of files (not supported yet).
    RandomPool,
    /// Mooncake trace replay (not supported yet).
    MooncakeTrace,
}

impl DatasetType {
    /// Every value, in the order the reference tool lists them.
    pub const ALL: [DatasetType; 4] = [
        DatasetType::SingleTurn,
        DatasetType::MultiTurn,
        DatasetType::RandomPool,
        DatasetType::MooncakeTrace,
    ];

    /// The command-line spelling, e.g. `single_turn`.
    pub fn as_str(self) -> &'static str {
        match self {
            DatasetType::SingleTurn => "single_turn",
            DatasetType::MultiTurn => "multi_turn",
            DatasetType::RandomPool => "random_pool",
            DatasetType::MooncakeTrace => "mooncake_trace",
        }
    }
}

impl std::fmt::Display for DatasetType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

const ROW_HINT: &str = r#"each line must be a JSON object like {"text": "a red fox"}"#;

/// Why an input file or dataset type was rejected. Each message is one line
/// naming the file and line, the problem, and what to do.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum DatasetError {
    /// A line is not valid JSON.
    #[error("{file}:{line}: invalid JSON ({detail}); {hint}", hint = ROW_HINT)]
    InvalidJson {
        /// File name.
        file: String,
        /// 1-based line number.
        line: usize,
        /// The parser's message.
        detail: String,
    },
    /// A line is valid JSON but not an object.
    #[error("{file}:{line}: found {found}, not an object; {hint}", hint = ROW_HINT)]
    NotAnObject {
        /// File name.
        file: String,
        /// 1-based line number.
        line: usize,
        /// What was found, e.g. "an array".
        found: String,
    },
    /// A field has the wrong type or value, or text/texts are missing or both present.
    #[error("{file}:{line}: {problem}; {hint}", hint = ROW_HINT)]
    InvalidRow {
        /// File name.
        file: String,
        /// 1-based line number.
        line: usize,
        /// What is wrong with the row.
        problem: String,
    },
    /// The file has no rows at all.
    #[error(
        "{file} contains no prompts; add one JSON object per line, like {{\"text\": \"a red fox\"}}"
    )]
    Empty {
        /// File name.
        file: String,
    },
    /// A dataset type of the reference tool that imgperf does not read yet.
    #[error(
        "--custom-dataset-type {0} is not supported yet; use single_turn \
         (one JSON object per line, like {{\"text\": \"a red fox\"}})"
    )]
    UnsupportedType(DatasetType),
    /// Not a dataset type at all.
    #[error(
        "unknown --custom-dataset-type {0:?}; valid values: single_turn, multi_turn, \
         random_pool, mooncake_trace (only single_turn is supported so far)"
    )]
    UnknownType(String),
}

/// Parse a `--custom-dataset-type` value (case-insensitive, `-` accepted for
/// `_`). Only `single_turn` is accepted; the other types of the reference tool
/// give a "not supported yet" error.
pub fn parse_dataset_type(s: &str) -> Result<DatasetType, DatasetError> {
    let norm = s.trim().to_ascii_lowercase().replace('-', "_");
    match DatasetType::ALL.into_iter().find(|t| t.as_str() == norm) {
        Some(DatasetType::SingleTurn) => Ok(DatasetType::SingleTurn),
        Some(other) => Err(DatasetError::UnsupportedType(other)),
        None => Err(DatasetError::UnknownType(s.to_string())),
    }
}

/// Parse a single_turn JSON Lines file. `source` names the file in errors.
/// Blank lines are skipped and a leading UTF-8 BOM is ignored.
pub fn parse_single_turn(source: &str, content: &str) -> Result<Vec<DatasetEntry>, DatasetError> {
    let content = content.strip_prefix('\u{feff}').unwrap_or(content);
    let mut entries = Vec::new();
    for (index, raw) in content.lines().enumerate() {
        let line = index + 1;
        let text = raw.trim();
        if text.is_empty() {
            continue;
        }
        let row = RowCtx { source, line };
        let value: Value = serde_json::from_str(text).map_err(|e| row.json_error(&e))?;
        let Value::Object(obj) = value else {
            return Err(DatasetError::NotAnObject {
                file: source.to_string(),
                line,
                found: describe(&value).to_string(),
            });
        };
        entries.push(row.entry(obj)?);
    }
    if entries.is_empty() {
        return Err(DatasetError::Empty {
            file: source.to_string(),
        });
    }
    Ok(entries)
}

/// Where a row came from, for error messages.
struct RowCtx<'a> {
    source: &'a str,
    line: usize,
}

impl RowCtx<'_> {
    fn invalid(&self, problem: impl Into<String>) -> DatasetError {
        DatasetError::InvalidRow {
            file: self.source.to_string(),
            line: self.line,
            problem: problem.into(),
        }
    }

    fn json_error(&self, e: &serde_json::Error) -> DatasetError {
        // serde_json says "... at line 1 column 12"; the line is always 1 here.
        let full = e.to_string();
        let suffix = format!(" at line {} column {}", e.line(), e.column());
        let detail = match full.strip_suffix(&suffix) {
            Some(msg) => format!("{msg} at column {}", e.column()),
            None => full,
        };
        DatasetError::InvalidJson {
            file: self.source.to_string(),
            line: self.line,
            detail,
        }
    }

    fn entry(&self, obj: Map<String, Value>) -> Result<DatasetEntry, DatasetError> {
        let field = |k: &str| obj.get(k).filter(|v| !v.is_null());
        let texts = match (field("text"), field("texts")) {
            (Some(_), Some(_)) => {
                return Err(self.invalid(r#"has both "text" and "texts"; use one of them"#))
            }
            (None, None) => return Err(self.invalid(r#"has no "text" (or "texts") field"#)),
            (Some(Value::String(s)), None) => vec![self.non_empty("text", s)?],
            (Some(v), None) => {
                return Err(
                    self.invalid(format!(r#""text" must be a string, found {}"#, describe(v)))
                )
            }
            (None, Some(Value::Array(items))) if !items.is_empty() => items
                .iter()
                .map(|item| match item {
                    Value::String(s) => self.non_empty("texts", s),
                    other => Err(self.invalid(format!(
                        r#""texts" must be an array of strings, found {} in it"#,
                        describe(other)
                    ))),
                })
                .collect::<Result<Vec<_>, _>>()?,
            (None, Some(Value::Array(_))) => {
                return Err(self.invalid(r#""texts" is an empty array"#))
            }
            (None, Some(v)) => {
                return Err(self.invalid(format!(
                    r#""texts" must be an array of strings, found {}"#,
                    describe(v)
                )))
            }
        };
        let extra = match field("extra") {
            None => None,
            Some(Value::Object(m)) => {
                if let Some(size) = m.get("size") {
                    crate::request::check_size(size)
                        .map_err(|e| self.invalid(format!(r#""extra": {e}"#)))?;
                }
                Some(m.clone())
            }
            Some(v) => {
                return Err(self.invalid(format!(
                    r#""extra" must be an object like {{"size": "512x512"}}, found {}"#,
                    describe(v)
                )))
            }
        };
        let timestamp_ms = self.millis("timestamp", field("timestamp"))?;
        let delay_ms = self.millis("delay", field("delay"))?;
        if timestamp_ms.is_some() && delay_ms.is_some() {
            return Err(self.invalid(r#"has both "timestamp" and "delay"; use one of them"#));
        }
        let images = self.images(field("image"), field("images"))?;
        let mask = match field("mask") {
            None => None,
            Some(Value::String(s)) if !s.trim().is_empty() => Some(s.trim().to_string()),
            Some(v) => {
                return Err(self.invalid(format!(
                    r#""mask" must be a non-empty string (a path, URL or data: URI), found {}"#,
                    describe(v)
                )))
            }
        };
        if mask.is_some() && images.is_empty() {
            return Err(self.invalid(r#"has a "mask" but no "image"; a mask goes with an image"#));
        }
        Ok(DatasetEntry {
            line: self.line,
            texts,
            extra,
            timestamp_ms,
            delay_ms,
            images,
            mask,
        })
    }

    /// `image` (one string) or `images` (a list of strings), trimmed.
    fn images(
        &self,
        one: Option<&Value>,
        many: Option<&Value>,
    ) -> Result<Vec<String>, DatasetError> {
        const WHAT: &str = "a path, an http(s) URL or a data: URI";
        let item = |key: &str, v: &Value| match v {
            Value::String(s) if !s.trim().is_empty() => Ok(s.trim().to_string()),
            Value::String(_) => Err(self.invalid(format!(r#""{key}" is empty; give {WHAT}"#))),
            other => Err(self.invalid(format!(
                r#""{key}" must be a string ({WHAT}), found {}"#,
                describe(other)
            ))),
        };
        match (one, many) {
            (Some(_), Some(_)) => {
                Err(self.invalid(r#"has both "image" and "images"; use one of them"#))
            }
            (Some(v), None) => Ok(vec![item("image", v)?]),
            (None, Some(Value::Array(list))) if !list.is_empty() => {
                list.iter().map(|v| item("images", v)).collect()
            }
            (None, Some(Value::Array(_))) => Err(self.invalid(r#""images" is an empty array"#)),
            (None, Some(v)) => Err(self.invalid(format!(
                r#""images" must be an array of strings ({WHAT}), found {}"#,
                describe(v)
            ))),
            (None, None) => Ok(Vec::new()),
        }
    }

    fn non_empty(&self, key: &str, s: &str) -> Result<String, DatasetError> {
        if s.trim().is_empty() {
            Err(self.invalid(format!(r#""{key}" is empty; give the prompt text"#)))
        } else {
            Ok(s.to_string())
        }
    }

    fn millis(&self, key: &str, v: Option<&Value>) -> Result<Option<f64>, DatasetError> {
        match v {
            None => Ok(None),
            Some(Value::Number(n)) => match n.as_f64() {
                Some(ms) if ms.is_finite() && ms >= 0.0 => Ok(Some(ms)),
                _ => Err(self.invalid(format!(
                    r#""{key}" must be a number of milliseconds >= 0, found {n}"#
                ))),
            },
            Some(other) => Err(self.invalid(format!(
                r#""{key}" must be a number of milliseconds, found {}"#,
                describe(other)
            ))),
        }
    }
}

/// "a string", "an array", ... for error messages.
fn describe(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests;
