//! Splitting a byte stream that arrives in chunks into lines, each with its
//! byte offset in the stream: the pure half of the streaming file reader
//! (`FileLines` in the app's platform module), testable natively.

/// One line of a file (without its `\n` or `\r\n`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    /// Byte offset of the line's first byte in the file.
    pub offset: u64,
    /// The line's bytes.
    pub bytes: Vec<u8>,
}

/// Splits a byte stream, fed chunk by chunk, into lines with offsets.
#[derive(Debug, Default)]
pub struct LineSplitter {
    buf: Vec<u8>,
    /// File offset of `buf[0]`.
    buf_offset: u64,
    /// Start of the unread part of `buf`.
    start: usize,
    /// `buf[start..scanned]` holds no `\n`.
    scanned: usize,
}

impl LineSplitter {
    /// An empty splitter at offset 0.
    pub fn new() -> Self {
        Self::default()
    }

    /// Append the next chunk of the stream.
    pub fn push(&mut self, chunk: &[u8]) {
        if self.start > 0 {
            self.buf.drain(..self.start);
            self.buf_offset += self.start as u64;
            self.scanned -= self.start;
            self.start = 0;
        }
        self.buf.extend_from_slice(chunk);
    }

    /// The next complete line, if a `\n` has arrived.
    pub fn next_line(&mut self) -> Option<Line> {
        let at = self.buf[self.scanned..].iter().position(|&b| b == b'\n');
        match at {
            None => {
                self.scanned = self.buf.len();
                None
            }
            Some(i) => {
                let end = self.scanned + i;
                let line = self.take(end);
                self.start = end + 1;
                self.scanned = self.start;
                Some(line)
            }
        }
    }

    /// The last line when the stream ended without a `\n` (if not empty).
    pub fn finish(&mut self) -> Option<Line> {
        let end = self.buf.len();
        if end == self.start {
            return None;
        }
        let line = self.take(end);
        self.start = end;
        self.scanned = end;
        Some(line)
    }

    fn take(&self, end: usize) -> Line {
        let mut bytes = &self.buf[self.start..end];
        if bytes.last() == Some(&b'\r') {
            bytes = &bytes[..bytes.len() - 1];
        }
        Line {
            offset: self.buf_offset + self.start as u64,
            bytes: bytes.to_vec(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines_of(chunks: &[&[u8]]) -> Vec<(u64, String)> {
        let mut s = LineSplitter::new();
        let mut out = Vec::new();
        for c in chunks {
            s.push(c);
            while let Some(l) = s.next_line() {
                out.push((l.offset, String::from_utf8(l.bytes).unwrap()));
            }
        }
        out.extend(
            s.finish()
                .map(|l| (l.offset, String::from_utf8(l.bytes).unwrap())),
        );
        out
    }

    #[test]
    fn lines_across_chunks_with_offsets() {
        let got = lines_of(&[b"ab\ncd", b"e\r\n", b"", b"\nlast"]);
        let want = [(0, "ab"), (3, "cde"), (8, ""), (9, "last")];
        let want: Vec<(u64, String)> = want.iter().map(|(o, s)| (*o, s.to_string())).collect();
        assert_eq!(got, want);
        assert_eq!(lines_of(&[b"x\n"]), vec![(0, "x".to_string())]);
        assert!(lines_of(&[]).is_empty());
    }
}
