//! The browser side of core's platform traits, and the few browser calls the
//! pages need: the clock and timers ([`runtime`]), fetch ([`fetch`]), reading
//! files in slices ([`files`]), files from URLs ([`remote`]), downloads,
//! object URLs and static assets ([`dom`]), the tokenizer, loaded when
//! needed ([`tokens`]), and encoding pictures with a canvas ([`canvas`]).

pub mod canvas;
pub mod dom;
pub mod fetch;
pub mod files;
pub mod remote;
pub mod runtime;
pub mod tokens;
