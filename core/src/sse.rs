//! Server-sent events, as the WHATWG spec reads them: lines end with LF,
//! CRLF or CR; `event:` names the event, `data:` lines accumulate (joined
//! with `\n`), a line starting with `:` is a comment, a blank line
//! dispatches. A last event not followed by a blank line is still taken
//! (servers that close the stream right after it). Each event keeps the
//! body offset where it ended, so the transport's chunk arrival times
//! ([`crate::transport::HttpResponse::arrival_ns`]) date it. Data of a
//! one-line event is a slice of the body: a multi-MB `b64_json` is not copied.

use std::borrow::Cow;

/// One dispatched event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SseEvent<'a> {
    /// The `event:` field, if any.
    pub event: Option<Cow<'a, str>>,
    /// The `data:` lines, joined with `\n`.
    pub data: Cow<'a, str>,
    /// Body offset just past the event's last byte (its blank line).
    pub end: usize,
}

impl SseEvent<'_> {
    /// `data: [DONE]`, the end-of-stream marker some servers send.
    pub fn is_done(&self) -> bool {
        self.data.trim() == "[DONE]"
    }
}

/// Whether a body looks like an event stream (for servers that send one
/// without `Content-Type: text/event-stream`).
pub fn looks_like_sse(body: &[u8]) -> bool {
    let b = body.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(body);
    let b = &b[b.iter().take_while(|c| c.is_ascii_whitespace()).count()..];
    [&b"event:"[..], b"data:", b":", b"id:", b"retry:"]
        .iter()
        .any(|p| b.starts_with(p))
}

fn text(line: &[u8]) -> Cow<'_, str> {
    String::from_utf8_lossy(line)
}

struct Pending<'a> {
    event: Option<Cow<'a, str>>,
    /// Data lines so far: one borrowed line, or an owned join.
    data: Option<Cow<'a, str>>,
}

impl<'a> Pending<'a> {
    fn new() -> Self {
        Pending {
            event: None,
            data: None,
        }
    }

    fn push_data(&mut self, v: Cow<'a, str>) {
        self.data = Some(match self.data.take() {
            None => v,
            Some(prev) => {
                let mut s = prev.into_owned();
                s.push('\n');
                s.push_str(&v);
                Cow::Owned(s)
            }
        });
    }

    fn dispatch(&mut self, end: usize, out: &mut Vec<SseEvent<'a>>) {
        let event = self.event.take();
        if let Some(data) = self.data.take() {
            out.push(SseEvent { event, data, end });
        }
    }
}

/// Every event of a complete event-stream body, in order.
pub fn parse(body: &[u8]) -> Vec<SseEvent<'_>> {
    let mut out = Vec::new();
    let mut pending = Pending::new();
    let mut pos = if body.starts_with(b"\xEF\xBB\xBF") {
        3
    } else {
        0
    };
    while pos < body.len() {
        let rest = &body[pos..];
        let (line, next) = match memchr::memchr2(b'\n', b'\r', rest) {
            Some(i) => {
                let crlf = rest[i] == b'\r' && rest.get(i + 1) == Some(&b'\n');
                (&rest[..i], pos + i + if crlf { 2 } else { 1 })
            }
            None => (rest, body.len()),
        };
        pos = next;
        if line.is_empty() {
            pending.dispatch(pos, &mut out);
            continue;
        }
        if line[0] == b':' {
            continue;
        }
        let (name, value) = match memchr::memchr(b':', line) {
            Some(i) => {
                let v = &line[i + 1..];
                (&line[..i], v.strip_prefix(b" ").unwrap_or(v))
            }
            None => (line, &b""[..]),
        };
        match name {
            b"event" => pending.event = Some(text(value)),
            b"data" => pending.push_data(text(value)),
            _ => {} // id, retry, unknown fields
        }
    }
    pending.dispatch(body.len(), &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_with_names_data_and_offsets() {
        let body = b"event: image_generation.partial_image\ndata: {\"a\":1}\n\n\
            : keep-alive\n\nevent: image_generation.completed\r\ndata: {\"b\":2}\r\n\r\n\
            data: [DONE]\n\n";
        let ev = parse(body);
        assert_eq!(ev.len(), 3);
        assert_eq!(
            ev[0].event.as_deref(),
            Some("image_generation.partial_image")
        );
        assert_eq!(ev[0].data, "{\"a\":1}");
        assert!(matches!(ev[0].data, Cow::Borrowed(_)));
        assert_eq!(
            &body[..ev[0].end],
            &b"event: image_generation.partial_image\ndata: {\"a\":1}\n\n"[..]
        );
        assert_eq!(ev[1].event.as_deref(), Some("image_generation.completed"));
        assert_eq!(ev[1].data, "{\"b\":2}");
        assert!(ev[2].is_done() && ev[2].event.is_none());
        assert_eq!(ev[2].end, body.len());
    }

    #[test]
    fn multi_line_data_cr_endings_and_unterminated_last_event() {
        let ev = parse(
            b"\xEF\xBB\xBFdata:one\rdata:  two\r\rid: 5\nretry: 10\ndata\n\nevent: x\ndata: last",
        );
        assert_eq!(ev.len(), 3);
        assert_eq!(ev[0].data, "one\n two");
        assert_eq!(ev[1].data, "");
        assert_eq!(
            (ev[2].event.as_deref(), ev[2].data.as_ref()),
            (Some("x"), "last")
        );
        // An event name without data dispatches nothing and does not leak.
        let ev = parse(b"event: a\n\ndata: b\n\n");
        assert_eq!((ev.len(), ev[0].event.clone()), (1, None));
    }

    #[test]
    fn sniffs_streams() {
        assert!(looks_like_sse(b"event: x\ndata: y\n\n"));
        assert!(looks_like_sse(b"\n\ndata: y\n\n"));
        assert!(looks_like_sse(b": hello\n"));
        assert!(!looks_like_sse(b"{\"data\":[]}"));
        assert!(!looks_like_sse(b""));
    }
}
