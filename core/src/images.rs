//! images (in progress).
