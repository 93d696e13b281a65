//! synthetic (in progress).
