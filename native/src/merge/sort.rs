//! Lines sorted by a `u64` key in bounded memory (an external merge sort):
//! lines are gathered into runs of at most `run_bytes`, each run is sorted
//! and, when there is more than one, written to an anonymous temporary
//! file; the runs are then merged through a heap holding one line per run.
//! Equal keys keep the order in which lines were pushed, so the result is
//! the stable sort of the input.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::fs::File;
use std::io::{self, BufRead, BufReader, BufWriter, Seek, SeekFrom, Write};

/// A line with its sort key and push order.
type Keyed = (u64, u64, String);

/// Gathers lines, then yields them sorted by key.
pub struct ExternalSort {
    run_bytes: usize,
    buffer: Vec<Keyed>,
    buffered: usize,
    runs: Vec<File>,
    pushed: u64,
}

impl ExternalSort {
    /// A sort that keeps about `run_bytes` of lines in memory.
    pub fn new(run_bytes: usize) -> Self {
        ExternalSort {
            run_bytes,
            buffer: Vec::new(),
            buffered: 0,
            runs: Vec::new(),
            pushed: 0,
        }
    }

    /// Add a line (without its newline).
    pub fn push(&mut self, key: u64, line: String) -> io::Result<()> {
        self.buffered += line.len() + 48;
        self.buffer.push((key, self.pushed, line));
        self.pushed += 1;
        if self.buffered >= self.run_bytes {
            self.spill()?;
        }
        Ok(())
    }

    fn spill(&mut self) -> io::Result<()> {
        self.buffer.sort_unstable_by_key(|(k, seq, _)| (*k, *seq));
        let mut file = tempfile::tempfile()?;
        {
            let mut w = BufWriter::with_capacity(1 << 20, &mut file);
            for (key, seq, line) in self.buffer.drain(..) {
                writeln!(w, "{key} {seq} {line}")?;
            }
            w.flush()?;
        }
        file.seek(SeekFrom::Start(0))?;
        self.runs.push(file);
        self.buffered = 0;
        Ok(())
    }

    /// Runs written to temporary files (0 when everything fit in memory).
    pub fn spilled_runs(&self) -> usize {
        self.runs.len()
    }

    /// The lines, sorted by (key, push order).
    pub fn finish(mut self) -> io::Result<Sorted> {
        if self.runs.is_empty() {
            self.buffer.sort_unstable_by_key(|(k, seq, _)| (*k, *seq));
            return Ok(Sorted::Memory(self.buffer.into_iter()));
        }
        if !self.buffer.is_empty() {
            self.spill()?;
        }
        let mut readers: Vec<BufReader<File>> = self
            .runs
            .into_iter()
            .map(|f| BufReader::with_capacity(256 << 10, f))
            .collect();
        let mut heap = BinaryHeap::new();
        for (i, r) in readers.iter_mut().enumerate() {
            if let Some((key, seq, line)) = read_run_line(r)? {
                heap.push(Reverse((key, seq, i, line)));
            }
        }
        Ok(Sorted::Files { readers, heap })
    }
}

fn read_run_line(r: &mut BufReader<File>) -> io::Result<Option<Keyed>> {
    let mut text = String::new();
    if r.read_line(&mut text)? == 0 {
        return Ok(None);
    }
    if text.ends_with('\n') {
        text.pop();
    }
    let bad = || io::Error::new(io::ErrorKind::InvalidData, "corrupt sort run");
    let mut parts = text.splitn(3, ' ');
    let key = parts.next().and_then(|k| k.parse().ok()).ok_or_else(bad)?;
    let seq = parts.next().and_then(|k| k.parse().ok()).ok_or_else(bad)?;
    let line = parts.next().ok_or_else(bad)?.to_owned();
    Ok(Some((key, seq, line)))
}

/// Heap entry: key, push order, run, line.
type Head = Reverse<(u64, u64, usize, String)>;

/// The sorted lines.
pub enum Sorted {
    /// Everything fit in one run.
    Memory(std::vec::IntoIter<Keyed>),
    /// Runs on disk, merged.
    Files {
        /// One reader per run.
        readers: Vec<BufReader<File>>,
        /// The next line of each run.
        heap: BinaryHeap<Head>,
    },
}

impl Iterator for Sorted {
    type Item = io::Result<String>;

    fn next(&mut self) -> Option<io::Result<String>> {
        match self {
            Sorted::Memory(it) => it.next().map(|(_, _, line)| Ok(line)),
            Sorted::Files { readers, heap } => {
                let Reverse((_, _, run, line)) = heap.pop()?;
                match read_run_line(&mut readers[run]) {
                    Ok(Some((key, seq, next))) => heap.push(Reverse((key, seq, run, next))),
                    Ok(None) => {}
                    Err(e) => return Some(Err(e)),
                }
                Some(Ok(line))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sorted(run_bytes: usize, input: &[(u64, &str)]) -> (Vec<String>, usize) {
        let mut s = ExternalSort::new(run_bytes);
        for (k, l) in input {
            s.push(*k, l.to_string()).unwrap();
        }
        let runs = s.spilled_runs();
        (s.finish().unwrap().map(Result::unwrap).collect(), runs)
    }

    #[test]
    fn stable_in_memory_and_on_disk() {
        let input: Vec<(u64, String)> = (0..500u64)
            .map(|i| ((i * 7919) % 97, format!("line {i} with spaces")))
            .collect();
        let refs: Vec<(u64, &str)> = input.iter().map(|(k, l)| (*k, l.as_str())).collect();
        let mut want = input.clone();
        want.sort_by_key(|(k, _)| *k); // stable
        let want: Vec<String> = want.into_iter().map(|(_, l)| l).collect();
        let (memory, runs) = sorted(1 << 30, &refs);
        assert_eq!(runs, 0);
        assert_eq!(memory, want);
        let (disk, runs) = sorted(2_000, &refs);
        assert!(runs > 10, "{runs} runs");
        assert_eq!(disk, want);
        assert!(sorted(100, &[]).0.is_empty());
    }
}
