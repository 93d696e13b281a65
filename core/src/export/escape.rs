//! Fast JSON string escaping for multi-MB response bodies in raw exports.
//! Base64 needs no escaping, so whole 32-byte blocks are checked at once (a
//! loop the compiler vectorises) and copied in one go; only the rare bytes
//! that JSON requires escaped (`"`, `\`, controls) take the slow path. The
//! output equals serde_json's.

/// Whether JSON requires `b` escaped inside a string.
#[inline]
fn needs_escape(b: u8) -> bool {
    b < 0x20 || b == b'"' || b == b'\\'
}

/// Append `s` as a JSON string literal (with quotes) to `out`.
pub(crate) fn push_json_string(out: &mut Vec<u8>, s: &str) {
    const BLOCK: usize = 32;
    let b = s.as_bytes();
    out.reserve(b.len() + 2);
    out.push(b'"');
    let (mut i, mut run) = (0, 0);
    while i < b.len() {
        if i + BLOCK <= b.len()
            && !b[i..i + BLOCK]
                .iter()
                .fold(false, |acc, &c| acc | needs_escape(c))
        {
            i += BLOCK;
            continue;
        }
        let c = b[i];
        if needs_escape(c) {
            out.extend_from_slice(&b[run..i]);
            match c {
                b'"' => out.extend_from_slice(b"\\\""),
                b'\\' => out.extend_from_slice(b"\\\\"),
                b'\n' => out.extend_from_slice(b"\\n"),
                b'\r' => out.extend_from_slice(b"\\r"),
                b'\t' => out.extend_from_slice(b"\\t"),
                0x08 => out.extend_from_slice(b"\\b"),
                0x0c => out.extend_from_slice(b"\\f"),
                _ => {
                    const HEX: &[u8; 16] = b"0123456789abcdef";
                    out.extend_from_slice(&[
                        b'\\',
                        b'u',
                        b'0',
                        b'0',
                        HEX[(c >> 4) as usize],
                        HEX[(c & 15) as usize],
                    ]);
                }
            }
            run = i + 1;
        }
        i += 1;
    }
    out.extend_from_slice(&b[run..]);
    out.push(b'"');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ours(s: &str) -> String {
        let mut v = Vec::new();
        push_json_string(&mut v, s);
        String::from_utf8(v).unwrap()
    }

    #[test]
    fn equals_serde_json_on_every_byte_class() {
        let mut all = String::new();
        for c in (0u32..0x80).chain([0xe9, 0x4e2d, 0x1f600]) {
            all.push(char::from_u32(c).unwrap());
        }
        let body = format!(
            r#"{{"data":[{{"b64_json":"{}"}}],"note":"a\"b\\c"}}"#,
            "iVBORw0KGgo".repeat(50)
        );
        for s in [
            "",
            "\"",
            "plain",
            all.as_str(),
            body.as_str(),
            &all.repeat(3),
            &"x".repeat(31),
            &"y".repeat(65),
        ] {
            assert_eq!(ours(s), serde_json::to_string(s).unwrap(), "{s:?}");
        }
    }
}
