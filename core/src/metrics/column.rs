//! Per-request values kept for exact statistics (every percentile is of
//! all the values, as AIPerf's are). In memory by default; given a
//! [`Spill`] (the native CLI passes an anonymous temporary file), each
//! column keeps at most [`BLOCK`] recent values in memory and appends full
//! blocks to the spill, so memory stays flat however long the run. Values
//! come back one column at a time when the summary is built.

use std::borrow::Cow;
use std::fmt;
use std::io;
use std::sync::OnceLock;

/// Values a column holds in memory before a full block is spilled.
pub const BLOCK: usize = 8192;

/// Storage for blocks of values, by column number.
pub trait Spill: Send {
    /// Append `values` to column `column`.
    fn store(&mut self, column: usize, values: &[f64]) -> io::Result<()>;
    /// Every value appended to `column`, in order.
    fn load(&self, column: usize) -> io::Result<Vec<f64>>;
}

#[derive(Debug, Clone, Default)]
struct Column {
    recent: Vec<f64>,
    spilled: u64,
}

/// Numbered columns of values, optionally spilled. Not `Clone`: two
/// builders appending to one spill would mix their values.
#[derive(Default)]
pub(crate) struct Columns {
    columns: Vec<Column>,
    spill: Option<Box<dyn Spill>>,
    /// The first spill error: spilling stops, values stay in memory.
    error: OnceLock<String>,
}

impl fmt::Debug for Columns {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Columns")
            .field("columns", &self.columns.len())
            .field("spill", &self.spill.is_some())
            .field("error", &self.error)
            .finish()
    }
}

impl Columns {
    /// Spill full blocks to `spill` from now on.
    pub(crate) fn spill_to(&mut self, spill: Box<dyn Spill>) {
        self.spill = Some(spill);
    }

    /// Append a value to column `c` (columns are numbered freely; a new
    /// number makes a new column).
    pub(crate) fn push(&mut self, c: usize, v: f64) {
        if c >= self.columns.len() {
            self.columns.resize_with(c + 1, Column::default);
        }
        let col = &mut self.columns[c];
        col.recent.push(v);
        if col.recent.len() < BLOCK || self.error.get().is_some() {
            return;
        }
        let Some(spill) = &mut self.spill else { return };
        match spill.store(c, &col.recent) {
            Ok(()) => {
                col.spilled += col.recent.len() as u64;
                col.recent.clear();
            }
            Err(e) => {
                let _ = self
                    .error
                    .set(format!("cannot spill values to storage: {e}"));
            }
        }
    }

    /// Values in column `c`.
    pub(crate) fn len(&self, c: usize) -> u64 {
        self.columns
            .get(c)
            .map_or(0, |col| col.spilled + col.recent.len() as u64)
    }

    /// Every value of column `c`, in order. A spill that cannot be read
    /// back leaves only the values in memory, and [`Columns::error`] says so.
    pub(crate) fn values(&self, c: usize) -> Cow<'_, [f64]> {
        let Some(col) = self.columns.get(c) else {
            return Cow::Borrowed(&[]);
        };
        if col.spilled == 0 {
            return Cow::Borrowed(&col.recent);
        }
        let Some(spill) = &self.spill else {
            return Cow::Borrowed(&col.recent);
        };
        match spill.load(c) {
            Ok(mut all) => {
                all.extend_from_slice(&col.recent);
                Cow::Owned(all)
            }
            Err(e) => {
                let _ = self
                    .error
                    .set(format!("cannot read spilled values back: {e}"));
                Cow::Borrowed(&col.recent)
            }
        }
    }

    /// Values held in memory, over all columns.
    #[cfg(test)]
    pub(crate) fn in_memory(&self) -> usize {
        self.columns.iter().map(|c| c.recent.len()).sum()
    }

    /// The first spill error of the run, if any.
    pub(crate) fn error(&self) -> Option<&str> {
        self.error.get().map(String::as_str)
    }
}

/// A [`Spill`] in memory, for tests of the spilling path.
#[cfg(test)]
#[derive(Default)]
pub(crate) struct MemorySpill(pub Vec<(usize, Vec<f64>)>);

#[cfg(test)]
impl Spill for MemorySpill {
    fn store(&mut self, column: usize, values: &[f64]) -> io::Result<()> {
        self.0.push((column, values.to_vec()));
        Ok(())
    }
    fn load(&self, column: usize) -> io::Result<Vec<f64>> {
        let blocks = self.0.iter().filter(|(c, _)| *c == column);
        Ok(blocks.flat_map(|(_, v)| v.iter().copied()).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::tests::{err, rec};
    use crate::metrics::SummaryBuilder;

    /// A run long enough to spill several blocks, with two sizes (per-size
    /// columns) and some failures.
    fn records() -> Vec<crate::record::RequestRecord> {
        (0..3 * BLOCK as u64 + 17)
            .map(|n| {
                let mut r = rec(
                    n,
                    n * 1_000_000,
                    100.0 + (n * 7919 % 1000) as f64 / 7.0,
                    Some(n % 13),
                );
                r.output.requested_size =
                    Some(if n % 3 == 0 { "512x512" } else { "1024x1024" }.into());
                if n % 101 == 0 {
                    r.error = Some(err(500, "ServerError"));
                }
                r
            })
            .collect()
    }

    #[test]
    fn spilled_values_give_the_same_summary_and_report() {
        let (mut memory, mut spilled) = (SummaryBuilder::new(), SummaryBuilder::new());
        spilled.spill_to(Box::new(MemorySpill::default()));
        for r in records() {
            memory.add(&r);
            spilled.add(&r);
        }
        assert_eq!(spilled.finish(), memory.finish());
        assert_eq!(spilled.report(), memory.report());
        assert_eq!(spilled.report().per_size.len(), 2);
        assert_eq!(spilled.spill_error(), None);
        // Nothing beyond a block per column stayed in memory.
        assert!(
            spilled.columns_in_memory() <= 30 * BLOCK,
            "{}",
            spilled.columns_in_memory()
        );
        assert!(memory.columns_in_memory() > 3 * BLOCK * 10);
    }

    struct Broken;
    impl Spill for Broken {
        fn store(&mut self, _: usize, _: &[f64]) -> io::Result<()> {
            Err(io::Error::other("disk full"))
        }
        fn load(&self, _: usize) -> io::Result<Vec<f64>> {
            Err(io::Error::other("gone"))
        }
    }

    #[test]
    fn a_failing_spill_keeps_every_value_in_memory_and_says_so() {
        let (mut memory, mut broken) = (SummaryBuilder::new(), SummaryBuilder::new());
        broken.spill_to(Box::new(Broken));
        for r in records() {
            memory.add(&r);
            broken.add(&r);
        }
        assert_eq!(broken.finish(), memory.finish());
        assert!(broken.spill_error().unwrap().contains("disk full"));
    }
}
