//! `profile_export_raw.jsonl` lines, kept in parts: the small JSON around a
//! response and the response text itself, shared with the received body
//! (a [`Bytes`] handle, not a copy) and escaped only as it is written. A
//! 3 MB body thus costs no second buffer while it waits for the writer, and
//! [`RawLine::write_to`] hands its unescaped runs straight to the writer.

use std::io::{self, Write};

use bytes::Bytes;
use serde_json::Value;

use super::{erased, escape, Entries, Metadata};
use crate::record::RequestRecord;

/// Text known to be UTF-8, held as shared bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawText(Bytes);

impl RawText {
    /// A response body as text: shared as is when it is UTF-8 (checked with
    /// SIMD), else copied with each bad sequence replaced by U+FFFD.
    pub fn from_body(body: Bytes) -> RawText {
        match simdutf8::basic::from_utf8(&body) {
            Ok(_) => RawText(body),
            Err(_) => RawText(Bytes::from(
                String::from_utf8_lossy(&body).into_owned().into_bytes(),
            )),
        }
    }

    /// Length in bytes.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether the text is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl From<&str> for RawText {
    fn from(s: &str) -> RawText {
        RawText(Bytes::copy_from_slice(s.as_bytes()))
    }
}

/// One response (or SSE event) of a raw export line.
#[derive(Debug, Clone, PartialEq)]
pub struct RawResponse<'a> {
    /// Monotonic ns when it was received.
    pub perf_ns: u64,
    /// The body (or event data) as text.
    pub text: RawText,
    /// `Content-Type` of the response, if known.
    pub content_type: Option<&'a str>,
}

#[derive(Debug, Clone, PartialEq)]
enum Part {
    /// Serialised JSON, written as is.
    Json(Vec<u8>),
    /// A response text, written as a JSON string literal.
    Text(RawText),
}

/// One raw export line (without its newline), ready to write.
#[derive(Debug, Clone, PartialEq)]
pub struct RawLine {
    parts: Vec<Part>,
}

impl RawLine {
    /// Write the line (no newline). Long unescaped runs of a response text
    /// go to `w` directly, so a `BufWriter` passes them through uncopied.
    pub fn write_to<W: Write + ?Sized>(&self, w: &mut W) -> io::Result<()> {
        for part in &self.parts {
            match part {
                Part::Json(b) => w.write_all(b)?,
                Part::Text(t) => escape::write_json_string(w, &t.0)?,
            }
        }
        Ok(())
    }

    /// The response texts (bodies or stream events), in order, without
    /// writing the line: what a gallery needs of a finished request.
    pub fn response_texts(&self) -> impl Iterator<Item = &str> {
        self.parts.iter().filter_map(|p| match p {
            // A `RawText` is UTF-8 (checked or replaced when made).
            Part::Text(t) => std::str::from_utf8(&t.0).ok(),
            Part::Json(_) => None,
        })
    }

    /// The whole line as bytes.
    pub fn to_vec(&self) -> Vec<u8> {
        let text: usize = self
            .parts
            .iter()
            .map(|p| match p {
                Part::Json(b) => b.len(),
                Part::Text(t) => t.len() + t.len() / 16 + 2,
            })
            .sum();
        let mut out = Vec::with_capacity(text);
        self.write_to(&mut out)
            .expect("writing to a Vec cannot fail");
        out
    }
}

impl std::fmt::Display for RawLine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Every part is UTF-8 (serde_json output, or a checked `RawText`).
        f.write_str(&String::from_utf8_lossy(&self.to_vec()))
    }
}

/// One `profile_export_raw.jsonl` line: metadata, the request payload and
/// headers, and the response body as a string.
pub fn raw_line(
    rec: &RequestRecord,
    wall_origin_ns: u64,
    payload: &Value,
    request_headers: &[(String, String)],
    response: Option<RawResponse>,
) -> RawLine {
    let responses: Vec<RawResponse> = response.into_iter().collect();
    raw_line_responses(rec, wall_origin_ns, payload, request_headers, responses)
}

/// A raw line with several responses: one per event of a streamed (SSE)
/// response, as AIPerf writes them.
pub fn raw_line_responses(
    rec: &RequestRecord,
    wall_origin_ns: u64,
    payload: &Value,
    request_headers: &[(String, String)],
    responses: Vec<RawResponse>,
) -> RawLine {
    // Assembled field by field, in AIPerf's order.
    let mut parts = Vec::with_capacity(2 * responses.len() + 1);
    let mut buf = Vec::with_capacity(1024);
    let field = |buf: &mut Vec<u8>, name: &str, value: &dyn erased::Json| {
        buf.extend_from_slice(name.as_bytes());
        value.write(buf);
    };
    field(
        &mut buf,
        "{\"metadata\":",
        &Metadata::new(rec, wall_origin_ns),
    );
    field(&mut buf, ",\"start_perf_ns\":", &rec.request_start_ns);
    field(&mut buf, ",\"payload\":", payload);
    field(&mut buf, ",\"request_headers\":", &Entries(request_headers));
    field(&mut buf, ",\"status\":", &rec.status);
    buf.extend_from_slice(b",\"responses\":[");
    for (i, r) in responses.into_iter().enumerate() {
        if i > 0 {
            buf.push(b',');
        }
        field(&mut buf, "{\"perf_ns\":", &r.perf_ns);
        buf.extend_from_slice(b",\"text\":");
        parts.push(Part::Json(std::mem::take(&mut buf)));
        parts.push(Part::Text(r.text));
        field(&mut buf, ",\"content_type\":", &r.content_type);
        buf.push(b'}');
    }
    field(&mut buf, "],\"error\":", &rec.error.as_ref());
    buf.push(b'}');
    parts.push(Part::Json(buf));
    RawLine { parts }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::tests::rec;
    use serde_json::json;

    #[test]
    fn a_utf8_body_is_shared_and_a_bad_one_replaced() {
        let body = Bytes::from(r#"{"data":[{"b64_json":"iVBOR"}]}"#);
        let text = RawText::from_body(body.clone());
        assert_eq!(text.0.as_ptr(), body.as_ptr(), "shared, not copied");
        let bad = RawText::from_body(Bytes::from_static(b"ok \xff\xfe end"));
        assert_eq!(&bad.0[..], "ok \u{fffd}\u{fffd} end".as_bytes());
    }

    #[test]
    fn written_line_is_one_json_object_with_the_texts_escaped() {
        let body = "{\"data\":[{\"b64_json\":\"QUJD\"}]}\n\t\u{1}é";
        let events = [("data: {\"a\":1}", 5), ("[DONE]", 9)];
        let responses = events
            .iter()
            .map(|(t, at)| RawResponse {
                perf_ns: *at,
                text: RawText::from(*t),
                content_type: Some("text/event-stream"),
            })
            .chain(std::iter::once(RawResponse {
                perf_ns: 11,
                text: RawText::from_body(Bytes::from(body)),
                content_type: None,
            }))
            .collect();
        let line = raw_line_responses(
            &rec(1, 2, 3.0, Some(4)),
            0,
            &json!({"n": 1}),
            &[],
            responses,
        );
        let mut streamed = Vec::new();
        line.write_to(&mut std::io::BufWriter::with_capacity(4, &mut streamed))
            .unwrap();
        assert_eq!(streamed, line.to_vec());
        let v: Value = serde_json::from_slice(&streamed).unwrap();
        let texts: Vec<&str> = (0..3)
            .map(|i| v["responses"][i]["text"].as_str().unwrap())
            .collect();
        assert_eq!(texts, vec!["data: {\"a\":1}", "[DONE]", body]);
        assert_eq!(line.response_texts().collect::<Vec<_>>(), texts);
        assert_eq!(v["responses"][2]["perf_ns"], 11);
        assert_eq!(v["payload"], json!({"n": 1}));
        assert_eq!(line.to_string().as_bytes(), &streamed[..]);
    }
}
