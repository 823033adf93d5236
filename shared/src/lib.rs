//! Everything the mailsetup proxy and front end agree on, with no I/O: the JSON API types,
//! the provider knowledge base and the validation both sides run.
//!
//! Invariant: this crate opens no sockets, reads no files and reads no clock, so it builds
//! for `wasm32-unknown-unknown` and its functions are pure and table-tested.

#![warn(missing_docs)]

#[macro_use]
mod wire;

pub mod api;
mod chars;
pub mod diagnose;
pub mod email;
pub mod idn;
pub mod oauth;
pub mod providers;
pub mod secret;
pub mod validate;
