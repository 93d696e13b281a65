//! request (in progress).
