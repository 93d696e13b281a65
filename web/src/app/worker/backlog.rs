//! Work that can wait: each finished request's raw export line turned into
//! a blob, and its images into gallery posts. It is queued by the sink and
//! done one request per task of its own while the runner waits, so it
//! never runs ahead of a send that is due.

use super::gallery::Gallery;
use crate::app::platform::dom::LineStore;
use crate::app::platform::runtime::sleep_ms;
use imgperf_core::export::RawLine;
use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::Rc;

/// One finished request's deferred work.
pub struct Item {
    /// Its raw export line (sharing the received body).
    pub raw: RawLine,
    /// Succeeded: its images go to the gallery.
    pub valid: bool,
    /// The request's prompt.
    pub prompt: String,
    /// The request's latency.
    pub latency_ms: f64,
    /// An edit's first input image, shown beside its outputs.
    pub input: Option<super::edit::InputPreview>,
}

struct Inner {
    queue: VecDeque<Item>,
    running: bool,
    raw: LineStore,
    gallery: Gallery,
}

/// The queue, and what it builds.
#[derive(Clone)]
pub struct Backlog(Rc<RefCell<Inner>>);

impl Backlog {
    /// An empty backlog posting images through `gallery`.
    pub fn new(gallery: Gallery) -> Self {
        Backlog(Rc::new(RefCell::new(Inner {
            queue: VecDeque::new(),
            running: false,
            raw: LineStore::new(),
            gallery,
        })))
    }

    /// Queue `item`; it is done in a later task.
    pub fn push(&self, item: Item) {
        let start = {
            let mut b = self.0.borrow_mut();
            b.queue.push_back(item);
            !std::mem::replace(&mut b.running, true)
        };
        if start {
            let this = self.clone();
            wasm_bindgen_futures::spawn_local(async move { this.work().await });
        }
    }

    async fn work(self) {
        loop {
            // A task of its own for each item (after the runner's).
            sleep_ms(0.0).await;
            let Some(item) = self.0.borrow_mut().queue.pop_front() else {
                self.0.borrow_mut().running = false;
                return;
            };
            let mut b = self.0.borrow_mut();
            b.raw.push_bytes(&item.raw.to_vec());
            if item.valid {
                let body = item.raw.response_texts().last();
                b.gallery
                    .add(body, item.prompt, item.latency_ms, item.input.as_ref());
            }
        }
    }

    /// Wait until everything queued is done; the raw export as one blob.
    pub async fn finish(&self) -> web_sys::Blob {
        while self.0.borrow().running {
            sleep_ms(1.0).await;
        }
        let mut gallery = std::mem::replace(&mut self.0.borrow_mut().gallery, Gallery::new());
        gallery.settle().await;
        self.0.borrow().raw.to_blob()
    }
}
