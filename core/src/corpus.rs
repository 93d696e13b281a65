//! corpus (in progress).
