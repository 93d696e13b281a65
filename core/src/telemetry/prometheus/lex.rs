//! Lexing one line of the text format: names (bare or quoted), quoted
//! strings with their escapes, `# HELP` text, values and sample lines.

use super::Sample;

/// Blanks between tokens (and `\r` of CRLF line ends, trimmed).
pub(super) const BLANKS: &[char] = &[' ', '\t', '\r'];

/// Legacy metric name: `[a-zA-Z_:][a-zA-Z0-9_:]*`.
pub(crate) fn is_metric_name(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == ':')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
}

/// Legacy label name: `[a-zA-Z_][a-zA-Z0-9_]*`.
pub(crate) fn is_label_name(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// The first blank-separated word and the rest.
pub(super) fn split_word(s: &str) -> (&str, &str) {
    match s.find(BLANKS) {
        Some(i) => (&s[..i], &s[i..]),
        None => (s, ""),
    }
}

/// `\\` → `\`, `\n` → newline; any other backslash stays as written.
pub(super) fn unescape_help(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('\\') => out.push('\\'),
            Some('n') => out.push('\n'),
            Some(other) => {
                out.push('\\');
                out.push(other);
            }
            None => out.push('\\'),
        }
    }
    out
}

/// A float as Prometheus writes them (`NaN`, `+Inf`, `-Inf`, `1e3`, ...).
pub(crate) fn parse_value(s: &str) -> Result<f64, ()> {
    let ok = !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c));
    if !ok {
        return Err(());
    }
    s.parse::<f64>().map_err(|_| ())
}

/// Reads one line left to right.
pub(super) struct Cursor<'a> {
    s: &'a str,
    pos: usize,
}

impl<'a> Cursor<'a> {
    pub(super) fn new(s: &'a str) -> Self {
        Cursor { s, pos: 0 }
    }

    pub(super) fn rest(&self) -> &'a str {
        &self.s[self.pos..]
    }

    pub(super) fn peek(&self) -> Option<char> {
        self.rest().chars().next()
    }

    pub(super) fn skip_blanks(&mut self) {
        let rest = self.rest();
        self.pos += rest.len() - rest.trim_start_matches(BLANKS).len();
    }

    pub(super) fn eat(&mut self, c: char) -> bool {
        if self.peek() == Some(c) {
            self.pos += c.len_utf8();
            true
        } else {
            false
        }
    }

    /// A bare name accepted by `valid`, or a quoted one.
    pub(super) fn name(&mut self, valid: fn(&str) -> bool) -> Result<String, String> {
        if self.peek() == Some('"') {
            let s = self.quoted()?;
            return if s.is_empty() {
                Err("empty quoted name".into())
            } else {
                Ok(s)
            };
        }
        let rest = self.rest();
        let end = rest
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == ':'))
            .unwrap_or(rest.len());
        let name = &rest[..end];
        if !valid(name) {
            return Err(if name.is_empty() {
                format!("expected a name at {:?}", clip(rest))
            } else {
                format!("invalid name {name:?}")
            });
        }
        self.pos += end;
        Ok(name.to_owned())
    }

    /// A `"..."` string with `\\`, `\"` and `\n` escapes.
    pub(super) fn quoted(&mut self) -> Result<String, String> {
        if !self.eat('"') {
            return Err(format!("expected '\"' at {:?}", clip(self.rest())));
        }
        let mut out = String::new();
        let mut chars = self.rest().char_indices();
        while let Some((i, c)) = chars.next() {
            match c {
                '"' => {
                    self.pos += i + 1;
                    return Ok(out);
                }
                '\\' => match chars.next() {
                    Some((_, '\\')) => out.push('\\'),
                    Some((_, '"')) => out.push('"'),
                    Some((_, 'n')) => out.push('\n'),
                    Some((_, other)) => {
                        return Err(format!("invalid escape \\{other} in a string"))
                    }
                    None => break,
                },
                c => out.push(c),
            }
        }
        Err("unterminated string".into())
    }
}

pub(super) fn clip(s: &str) -> &str {
    match s.char_indices().nth(24) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

/// `name{labels} value [timestamp]`, or `{"name", labels} value`.
pub(super) fn sample(line: &str) -> Result<Sample, String> {
    let mut cur = Cursor::new(line);
    let mut name = None;
    if cur.peek() != Some('{') {
        name = Some(cur.name(is_metric_name)?);
        if cur.rest().trim_start_matches(BLANKS).starts_with('{') {
            cur.skip_blanks();
        }
    }
    let mut labels: Vec<(String, String)> = Vec::new();
    if cur.eat('{') {
        loop {
            cur.skip_blanks();
            if cur.eat('}') {
                break;
            }
            let quoted = cur.peek() == Some('"');
            let key = cur.name(is_label_name)?;
            cur.skip_blanks();
            if quoted
                && name.is_none()
                && labels.is_empty()
                && matches!(cur.peek(), Some(',' | '}'))
            {
                // `{"metric.name", ...}`: the first quoted string alone is the name.
                name = Some(key);
            } else {
                if !cur.eat('=') {
                    return Err(format!(
                        "label {key}: expected '=' at {:?}",
                        clip(cur.rest())
                    ));
                }
                cur.skip_blanks();
                let value = cur.quoted().map_err(|e| format!("label {key}: {e}"))?;
                if labels.iter().any(|(k, _)| *k == key) {
                    return Err(format!("label {key} given twice"));
                }
                labels.push((key, value));
            }
            cur.skip_blanks();
            if cur.eat('}') {
                break;
            }
            if !cur.eat(',') {
                return Err(format!("expected ',' or '}}' at {:?}", clip(cur.rest())));
            }
        }
    }
    let name = name.ok_or("a sample without a metric name")?;
    let rest = cur.rest();
    if !rest.starts_with(BLANKS) {
        return Err(format!("{name}: expected a blank before the value"));
    }
    let mut words = rest.split(BLANKS).filter(|w| !w.is_empty());
    let value_text = words.next().ok_or_else(|| format!("{name}: no value"))?;
    let value =
        parse_value(value_text).map_err(|_| format!("{name}: {value_text:?} is not a number"))?;
    let timestamp_ms = match words.next() {
        None => None,
        Some(t) => Some(
            t.parse::<i64>()
                .map_err(|_| format!("{name}: timestamp {t:?} is not whole milliseconds"))?,
        ),
    };
    if let Some(extra) = words.next() {
        return Err(format!("{name}: unexpected {extra:?} after the value"));
    }
    Ok(Sample {
        name,
        labels,
        value,
        timestamp_ms,
    })
}
