//! Shared state: the [`Store`] trait behind the failed-login guard, the per-client rate
//! limit and the discovery cache, with two implementations: [`MemoryStore`] (one process,
//! the default) and [`RedisStore`] (`--redis-url`: every replica behind a load balancer
//! sees the same counts).
//!
//! Keys are opaque strings: callers decide what a key means (a hashed account, a client
//! network, a domain) and the store only keeps it. Every operation is atomic in the store
//! itself (a mutex in memory, one Lua script in Redis), so no replica ever reads, changes
//! and writes back a value another replica changed in between.
//!
//! What happens when the store cannot be reached is decided per feature (see
//! docs/DEPLOY.md): checks are refused with 503 `store_unavailable` rather than run without
//! the lockout guard; discovery runs uncached and is rate limited per replica; provider
//! lookups and the static site never touch the store.

mod memory;
mod redis;
mod table;

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

pub use memory::{Capacity, MemoryStore};
pub use redis::RedisStore;

/// The store could not answer (Redis down, timed out or answering nonsense).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("the shared state store is unavailable: {0}")]
pub struct StoreError(pub String);

/// Recent events under one key (failed logins of one account).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Events {
    /// How many events lie within the window.
    pub count: u32,
    /// How long ago the oldest of them happened.
    pub oldest_age: Duration,
}

/// Shared state with atomic operations on opaque keys.
#[async_trait::async_trait]
pub trait Store: Send + Sync + fmt::Debug {
    /// Records one event under `key`; events older than `window` are forgotten and only
    /// the newest `keep` are kept.
    async fn add_event(&self, key: &str, window: Duration, keep: u32) -> Result<(), StoreError>;

    /// The events under `key` within the last `window`.
    async fn events(&self, key: &str, window: Duration) -> Result<Events, StoreError>;

    /// Forgets every event under `key`.
    async fn clear_events(&self, key: &str) -> Result<(), StoreError>;

    /// Takes one token from the bucket `key`, which holds at most `capacity` tokens and
    /// refills completely in `period` (a missing bucket is full). `Ok(None)`: taken;
    /// `Ok(Some(wait))`: empty, one token is back after `wait`.
    async fn take_token(
        &self,
        key: &str,
        capacity: u32,
        period: Duration,
    ) -> Result<Option<Duration>, StoreError>;

    /// The value under `key` and how long it still lives, if it has not expired.
    async fn get(&self, key: &str) -> Result<Option<(Vec<u8>, Duration)>, StoreError>;

    /// Stores `value` under `key` for `ttl`.
    async fn put(&self, key: &str, value: &[u8], ttl: Duration) -> Result<(), StoreError>;

    /// Whether the store answers now (readiness).
    async fn ping(&self) -> Result<(), StoreError>;

    /// `memory` or `redis`, for logs and metrics.
    fn kind(&self) -> &'static str;
}

/// The store the proxy's parts share.
pub type SharedStore = Arc<dyn Store>;

/// A `--redis-url` value: `redis://` or `rediss://` (TLS). Its `Debug` and `Display` hide
/// any password in it.
#[derive(Clone, PartialEq, Eq)]
pub struct RedisUrl(String);

impl RedisUrl {
    /// Parses and checks the scheme; the rest is checked by the Redis client.
    pub fn parse(text: &str) -> Result<Self, String> {
        let text = text.trim();
        let lower = text.to_ascii_lowercase();
        if !(lower.starts_with("redis://") || lower.starts_with("rediss://")) {
            return Err("a Redis URL starts with redis:// or rediss:// (TLS)".to_owned());
        }
        ::redis::Client::open(text).map_err(|e| format!("not a usable Redis URL: {e}"))?;
        Ok(Self(text.to_owned()))
    }

    /// The URL itself, password included: only for the Redis client.
    pub(crate) fn expose(&self) -> &str {
        &self.0
    }

    /// The URL with any user information replaced by `***`.
    pub fn redacted(&self) -> String {
        match self.0.split_once("://") {
            Some((scheme, rest)) => match rest.rsplit_once('@') {
                Some((_, host)) => format!("{scheme}://***@{host}"),
                None => self.0.clone(),
            },
            None => "[redacted]".to_owned(),
        }
    }
}

impl fmt::Debug for RedisUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RedisUrl({})", self.redacted())
    }
}

impl fmt::Display for RedisUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
    }
}

/// Builds the store the configuration asks for: Redis with `--redis-url`, else memory.
pub fn from_config(
    config: &crate::Config,
    metrics: Arc<crate::metrics::Metrics>,
) -> anyhow::Result<SharedStore> {
    Ok(match &config.redis_url {
        Some(url) => Arc::new(RedisStore::new(url, metrics)?),
        None => Arc::new(MemoryStore::new()),
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn redis_urls_are_checked_and_redacted() {
        let url = RedisUrl::parse("redis://user:s3cret@127.0.0.1:6379/0").unwrap();
        assert_eq!(url.redacted(), "redis://***@127.0.0.1:6379/0");
        assert!(!format!("{url:?} {url}").contains("s3cret"));
        assert_eq!(
            RedisUrl::parse("rediss://cache.example.com")
                .unwrap()
                .redacted(),
            "rediss://cache.example.com"
        );
        assert!(RedisUrl::parse("http://127.0.0.1:6379").is_err());
        assert!(RedisUrl::parse("127.0.0.1:6379").is_err());
    }
}
