//! Reading a user's file without holding it in memory: `Blob.slice` in
//! fixed-size chunks, split into lines as they arrive
//! ([`crate::lines::LineSplitter`]), so a raw export of hundreds of MB is read with one chunk and
//! one line in memory at a time, and every chunk read yields to the event
//! loop (the page stays responsive). Each line keeps its byte offset, so a
//! gallery image can be read again later from just its line
//! ([`read_range`]). Opened files stay reachable through [`keep_file`] (the
//! browser holds their bytes on disk, not us).

pub use crate::lines::{Line, LineSplitter};
use std::cell::RefCell;
use std::collections::HashMap;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

/// Bytes read per slice.
pub const CHUNK: usize = 4 << 20;

/// Bytes `start..end` of a blob (a `File` is a blob).
pub async fn read_range(blob: &web_sys::Blob, start: u64, end: u64) -> Result<Vec<u8>, String> {
    let part = blob
        .slice_with_f64_and_f64(start as f64, end as f64)
        .map_err(|e| format!("cannot slice the file: {e:?}"))?;
    let buf = JsFuture::from(part.array_buffer())
        .await
        .map_err(|e| format!("cannot read the file: {e:?}"))?;
    Ok(js_sys::Uint8Array::new(&buf).to_vec())
}

/// Reads a blob line by line, one chunk at a time.
pub struct FileLines {
    blob: web_sys::Blob,
    size: u64,
    pos: u64,
    chunk: usize,
    splitter: LineSplitter,
    done: bool,
}

impl FileLines {
    /// A reader of `blob` in slices of `chunk` bytes.
    pub fn new(blob: &web_sys::Blob, chunk: usize) -> Self {
        FileLines {
            blob: blob.clone(),
            size: blob.size() as u64,
            pos: 0,
            chunk: chunk.max(1),
            splitter: LineSplitter::new(),
            done: false,
        }
    }

    /// Bytes read so far.
    pub fn position(&self) -> u64 {
        self.pos
    }

    /// Size of the blob.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// The next line, `None` at the end.
    pub async fn next_line(&mut self) -> Result<Option<Line>, String> {
        loop {
            if let Some(line) = self.splitter.next_line() {
                return Ok(Some(line));
            }
            if self.pos >= self.size {
                if self.done {
                    return Ok(None);
                }
                self.done = true;
                return Ok(self.splitter.finish());
            }
            let end = (self.pos + self.chunk as u64).min(self.size);
            let bytes = read_range(&self.blob, self.pos, end).await?;
            self.pos = end;
            self.splitter.push(&bytes);
        }
    }
}

thread_local! {
    static FILES: RefCell<HashMap<u32, web_sys::File>> = RefCell::new(HashMap::new());
    static NEXT_ID: RefCell<u32> = const { RefCell::new(1) };
}

/// Keep an opened file reachable by id (for reading gallery images later).
pub fn keep_file(file: &web_sys::File) -> u32 {
    let id = NEXT_ID.with(|n| {
        let mut n = n.borrow_mut();
        *n += 1;
        *n - 1
    });
    FILES.with(|f| f.borrow_mut().insert(id, file.clone()));
    id
}

/// The file kept under `id`.
pub fn kept_file(id: u32) -> Option<web_sys::File> {
    FILES.with(|f| f.borrow().get(&id).cloned())
}

/// Forget the file kept under `id`.
pub fn drop_file(id: u32) {
    FILES.with(|f| f.borrow_mut().remove(&id));
}

/// Files of a file input or a drop, as a list.
pub fn file_list(list: Option<web_sys::FileList>) -> Vec<web_sys::File> {
    let Some(list) = list else { return Vec::new() };
    (0..list.length())
        .filter_map(|i| list.item(i))
        .filter_map(|f| f.dyn_into().ok())
        .collect()
}
