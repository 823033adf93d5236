//! The one integration-test binary, one module per area (one link step for all).

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod api;
mod harness;
