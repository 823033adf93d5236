//! The per-domain answer cache with a time to live, kept in the [`Store`](crate::store::Store):
//! in memory (bounded), or in Redis so that an answer found by one replica is served by
//! every other. Answers hold servers, never anything about a user (usernames are a form,
//! not a value), so they can be shared. A store that cannot be reached is a miss, and a
//! failed write is dropped: discovery then simply runs uncached.

use std::sync::Arc;
use std::time::Duration;

use mailsetup_shared::api::DiscoverResponse;

use crate::store::{Capacity, MemoryStore, SharedStore};

/// A TTL cache of discovery answers by domain.
#[derive(Debug)]
pub struct Cache {
    ttl: Duration,
    store: SharedStore,
}

impl Cache {
    /// A cache in memory keeping answers `ttl` long, at most `capacity` domains; `ttl`
    /// zero: off.
    pub fn new(ttl: Duration, capacity: usize) -> Self {
        let store = MemoryStore::with_capacity(Capacity {
            events: 1,
            buckets: 1,
            values: capacity,
        });
        Self::with_store(ttl, Arc::new(store))
    }

    /// A cache keeping answers `ttl` long in `store`.
    pub fn with_store(ttl: Duration, store: SharedStore) -> Self {
        Self { ttl, store }
    }

    fn key(domain: &str) -> String {
        format!("discover:{domain}")
    }

    /// The fresh answer for `domain`, with its age.
    pub async fn get(&self, domain: &str) -> Option<(DiscoverResponse, Duration)> {
        if self.ttl.is_zero() {
            return None;
        }
        let (bytes, left) = self.store.get(&Self::key(domain)).await.ok()??;
        let answer: DiscoverResponse = serde_json::from_slice(&bytes).ok()?;
        // An answer for another domain (a corrupt or foreign entry) is no answer.
        if answer.domain != domain {
            return None;
        }
        Some((answer, self.ttl.saturating_sub(left)))
    }

    /// Stores the answer for `domain`.
    pub async fn put(&self, domain: &str, answer: &DiscoverResponse) {
        if self.ttl.is_zero() {
            return;
        }
        let Ok(bytes) = serde_json::to_vec(answer) else {
            return;
        };
        if let Err(err) = self.store.put(&Self::key(domain), &bytes, self.ttl).await {
            tracing::debug!(%err, "discovery answer not cached");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(domain: &str) -> DiscoverResponse {
        DiscoverResponse {
            domain: domain.to_owned(),
            provider: None,
            candidates: Vec::new(),
            trace: Vec::new(),
        }
    }

    #[tokio::test(start_paused = true)]
    async fn bounded_and_expiring() {
        let c = Cache::new(Duration::from_secs(60), 2);
        c.put("a", &answer("a")).await;
        tokio::time::advance(Duration::from_secs(1)).await;
        c.put("b", &answer("b")).await;
        c.put("c", &answer("c")).await;
        assert!(
            c.get("a").await.is_none(),
            "the oldest is dropped when full"
        );
        let (hit, age) = c.get("b").await.unwrap_or_else(|| panic!("b is cached"));
        assert_eq!((hit.domain.as_str(), age), ("b", Duration::ZERO));
        tokio::time::advance(Duration::from_secs(30)).await;
        assert_eq!(
            c.get("c").await.map(|(r, age)| (r.domain, age)),
            Some(("c".to_owned(), Duration::from_secs(30)))
        );
        tokio::time::advance(Duration::from_secs(30)).await;
        assert!(c.get("c").await.is_none());
        let off = Cache::new(Duration::ZERO, 10);
        off.put("a", &answer("a")).await;
        assert!(off.get("a").await.is_none());
    }
}
