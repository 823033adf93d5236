//! The bridge from a check's failures to [`mailsetup_shared::api::Diagnosis`]: server
//! replies are classified by the shared rules (`shared/data/diagnoses.toml`, through
//! [`mailsetup_shared::diagnose`]) and every code is explained there too, in the user's
//! language with the provider's own advice. Non-reply failures (DNS, connect, TLS,
//! timeouts, wrong protocol) are classified by the check itself.

pub use mailsetup_shared::diagnose::{ReplyContext, Stage, classify_reply, explain};
