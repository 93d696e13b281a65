//! plan (in progress).
