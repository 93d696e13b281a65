//! Where a run's per-request values go while it lasts: an anonymous
//! temporary file (removed by the OS even if imgperf dies), written in
//! blocks with a small index in memory, so the summary's exact statistics
//! cost no memory that grows with the run.

use imgperf_core::metrics::Spill;
use std::fs::File;
use std::io::{self, BufReader, Read, Seek, SeekFrom, Write};
use std::sync::Mutex;

/// Blocks of values in a temporary file.
pub struct FileSpill {
    file: Mutex<File>,
    /// (column, byte offset, values) of each block, in write order.
    blocks: Vec<(usize, u64, usize)>,
    end: u64,
}

impl FileSpill {
    /// A new, empty spill file in the system's temporary directory.
    pub fn new() -> io::Result<FileSpill> {
        Ok(FileSpill {
            file: Mutex::new(tempfile::tempfile()?),
            blocks: Vec::new(),
            end: 0,
        })
    }
}

impl Spill for FileSpill {
    fn store(&mut self, column: usize, values: &[f64]) -> io::Result<()> {
        let bytes: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
        let file = self.file.get_mut().unwrap_or_else(|e| e.into_inner());
        file.seek(SeekFrom::Start(self.end))?;
        file.write_all(&bytes)?;
        self.blocks.push((column, self.end, values.len()));
        self.end += bytes.len() as u64;
        Ok(())
    }

    fn load(&self, column: usize) -> io::Result<Vec<f64>> {
        let mut file = self.file.lock().unwrap_or_else(|e| e.into_inner());
        let mut out = Vec::new();
        let mut buf = Vec::new();
        for &(_, offset, n) in self.blocks.iter().filter(|b| b.0 == column) {
            file.seek(SeekFrom::Start(offset))?;
            buf.resize(n * 8, 0);
            BufReader::new(&mut *file).read_exact(&mut buf)?;
            out.extend(
                buf.chunks_exact(8)
                    .map(|b| f64::from_le_bytes(b.try_into().expect("8-byte chunk"))),
            );
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_come_back_per_column_in_order() {
        let mut s = FileSpill::new().unwrap();
        s.store(3, &[1.0, 2.5]).unwrap();
        s.store(0, &[f64::MAX]).unwrap();
        s.store(3, &[-0.0, 1e-300, 7.25]).unwrap();
        assert_eq!(s.load(3).unwrap(), vec![1.0, 2.5, -0.0, 1e-300, 7.25]);
        assert_eq!(s.load(0).unwrap(), vec![f64::MAX]);
        assert!(s.load(9).unwrap().is_empty());
    }
}
