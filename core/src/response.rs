//! response (in progress).
