//! The request limits the edge and the handlers share: [`BODY_LIMIT`], and a per-client
//! token-bucket rate limiter for the API's expensive routes. (tower's
//! `RateLimitLayer` is one global bucket and does not enforce under axum, axum#2634, so the
//! proxy keeps its own.) The buckets live in the [`Store`](crate::store::Store): in memory,
//! or in Redis so that every replica draws from the same bucket. When the shared store is
//! unreachable, [`RateLimiter::check_local`] counts in this process alone.
//!
//! Clients are keyed by IP address: IPv4 addresses as they are, IPv6 addresses by their
//! /64 network (one household or server usually owns a whole /64), IPv4-mapped IPv6 as IPv4.

use std::net::{IpAddr, Ipv6Addr};
use std::sync::Arc;
use std::time::Duration;

use crate::store::{MemoryStore, SharedStore, Store as _, StoreError};

/// Largest request body accepted, in bytes. A check request is well under 4 KiB.
pub const BODY_LIMIT: usize = 64 * 1024;

/// How long a bucket takes to refill completely: the limit is per minute.
const PERIOD: Duration = Duration::from_secs(60);

/// Token buckets, one per client, refilled continuously at `per_minute` tokens a minute
/// up to `per_minute` tokens (so a client may spend a minute's worth at once).
#[derive(Debug)]
pub struct RateLimiter {
    per_minute: u32,
    store: SharedStore,
    local: MemoryStore,
}

impl RateLimiter {
    /// A limiter allowing `per_minute` requests a minute per client, counted in memory;
    /// 0 allows everything.
    pub fn new(per_minute: u32) -> Self {
        Self::with_store(per_minute, Arc::new(MemoryStore::new()))
    }

    /// Like [`RateLimiter::new`], counting in `store`.
    pub fn with_store(per_minute: u32, store: SharedStore) -> Self {
        Self {
            per_minute,
            store,
            local: MemoryStore::new(),
        }
    }

    fn key(ip: IpAddr) -> String {
        format!("rate:{}", client_key(ip))
    }

    /// Takes one token for `ip`; `Ok(Some(wait))` when none is left (one is back after
    /// `wait`), `Err` when the store cannot be reached.
    pub async fn check(&self, ip: IpAddr) -> Result<Option<Duration>, StoreError> {
        if self.per_minute == 0 {
            return Ok(None);
        }
        self.store
            .take_token(&Self::key(ip), self.per_minute, PERIOD)
            .await
    }

    /// Like [`RateLimiter::check`], counting in this process only: the fallback while the
    /// shared store is unreachable.
    pub async fn check_local(&self, ip: IpAddr) -> Option<Duration> {
        if self.per_minute == 0 {
            return None;
        }
        self.local
            .take_token(&Self::key(ip), self.per_minute, PERIOD)
            .await
            .unwrap_or(None)
    }
}

/// The key a client is counted under.
pub fn client_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(v4) => IpAddr::V4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let s = v6.segments();
                IpAddr::V6(Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
            }
        },
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[tokio::test(start_paused = true)]
    async fn allows_a_minutes_worth_then_refuses_with_the_wait() {
        let limiter = RateLimiter::new(3);
        for _ in 0..3 {
            assert!(limiter.check(ip("192.0.2.1")).await.unwrap().is_none());
        }
        let wait = limiter.check(ip("192.0.2.1")).await.unwrap().unwrap();
        assert_eq!(wait.as_secs(), 20);
        // Other clients have their own bucket.
        assert!(limiter.check(ip("192.0.2.2")).await.unwrap().is_none());
        // One token comes back after 20 s.
        tokio::time::advance(Duration::from_secs(20)).await;
        assert!(limiter.check(ip("192.0.2.1")).await.unwrap().is_none());
        tokio::time::advance(Duration::from_secs(1)).await;
        assert!(limiter.check(ip("192.0.2.1")).await.unwrap().is_some());
        // The local fallback counts on its own.
        assert!(limiter.check_local(ip("192.0.2.1")).await.is_none());
    }

    #[tokio::test]
    async fn zero_means_no_limit() {
        let limiter = RateLimiter::new(0);
        for _ in 0..1000 {
            assert!(limiter.check(ip("192.0.2.1")).await.unwrap().is_none());
            assert!(limiter.check_local(ip("192.0.2.1")).await.is_none());
        }
        assert!(limiter.local.is_empty());
    }

    #[tokio::test]
    async fn ipv6_clients_are_counted_per_64_and_mapped_v4_as_v4() {
        let limiter = RateLimiter::new(1);
        let ok = |r: Result<Option<Duration>, StoreError>| r.unwrap().is_none();
        assert!(ok(limiter.check(ip("2001:db8:1:2::1")).await));
        assert!(!ok(limiter.check(ip("2001:db8:1:2:ffff::9")).await));
        assert!(ok(limiter.check(ip("2001:db8:1:3::1")).await));
        assert!(ok(limiter.check(ip("198.51.100.7")).await));
        assert!(!ok(limiter.check(ip("::ffff:198.51.100.7")).await));
    }
}
