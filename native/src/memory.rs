//! Keeping the client's resident memory small: hand the heap freed after
//! setup (the tokenizer's tens of MB) back to the OS before the run starts.
//! Only glibc keeps freed pages resident this way; elsewhere this is a no-op.

/// Return freed heap pages to the OS (glibc `malloc_trim`), on a thread of
/// its own: the walk takes a few ms that the first request should not wait.
pub fn release_freed_heap_soon() {
    let _ = std::thread::Builder::new()
        .name("imgperf-trim".into())
        .spawn(release_freed_heap);
}

/// Return freed heap pages to the OS (glibc `malloc_trim`).
fn release_freed_heap() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: `malloc_trim` only walks glibc's own free lists; it has no
    // preconditions and may be called at any time from any thread.
    unsafe {
        libc::malloc_trim(0);
    }
}
