//! Rendering an [`Exposition`] as Prometheus text (what the mock's
//! `/metrics` serves): `# HELP` and `# TYPE` before each family's samples,
//! names quoted when they are not legacy names, label values escaped,
//! values in the shortest form that parses back to the same number.

use super::{is_label_name, is_metric_name, Exposition, MetricType};
use std::fmt::Write;

/// The exposition as text (one family after the other, `\n` line ends).
pub fn write(exposition: &Exposition) -> String {
    let mut out = String::new();
    for f in &exposition.families {
        let name = name_text(&f.name);
        if let Some(help) = &f.help {
            let help = help.replace('\\', "\\\\").replace('\n', "\\n");
            let _ = writeln!(out, "# HELP {name} {help}");
        }
        if f.kind != MetricType::Untyped || (f.help.is_none() && f.samples.is_empty()) {
            let _ = writeln!(out, "# TYPE {name} {}", f.kind.name());
        }
        for s in &f.samples {
            let mut items: Vec<String> = Vec::new();
            let legacy = is_metric_name(&s.name);
            if legacy {
                out.push_str(&s.name);
            } else {
                items.push(quote(&s.name));
            }
            for (k, v) in &s.labels {
                let key = if is_label_name(k) {
                    k.clone()
                } else {
                    quote(k)
                };
                items.push(format!("{key}={}", quote(v)));
            }
            if !items.is_empty() {
                let _ = write!(out, "{{{}}}", items.join(","));
            }
            let _ = write!(out, " {}", value_text(s.value));
            if let Some(t) = s.timestamp_ms {
                let _ = write!(out, " {t}");
            }
            out.push('\n');
        }
    }
    out
}

fn name_text(name: &str) -> String {
    if is_metric_name(name) {
        name.to_owned()
    } else {
        quote(name)
    }
}

fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// `NaN`, `+Inf`, `-Inf`, or the shortest round-tripping decimal.
pub(crate) fn value_text(v: f64) -> String {
    if v.is_nan() {
        "NaN".into()
    } else if v == f64::INFINITY {
        "+Inf".into()
    } else if v == f64::NEG_INFINITY {
        "-Inf".into()
    } else {
        format!("{v:?}")
    }
}
