//! A per-client token-bucket rate limiter with bounded memory, for the API's expensive
//! routes. (tower's `RateLimitLayer` is one global bucket and does not enforce under axum,
//! axum#2634, so the proxy keeps its own.)
//!
//! Clients are keyed by IP address: IPv4 addresses as they are, IPv6 addresses by their
//! /64 network (one household or server usually owns a whole /64), IPv4-mapped IPv6 as IPv4.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv6Addr};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Most clients remembered at once; beyond this, idle and then the oldest entries go.
pub const MAX_CLIENTS: usize = 65_536;

/// Token buckets, one per client, refilled continuously at `per_minute` tokens a minute
/// up to `per_minute` tokens (so a client may spend a minute's worth at once).
#[derive(Debug)]
pub struct RateLimiter {
    per_minute: u32,
    max_clients: usize,
    buckets: Mutex<HashMap<IpAddr, Bucket>>,
}

#[derive(Clone, Copy, Debug)]
struct Bucket {
    tokens: f64,
    last: Instant,
}

impl RateLimiter {
    /// A limiter allowing `per_minute` requests a minute per client; 0 allows everything.
    pub fn new(per_minute: u32) -> Self {
        Self::with_capacity(per_minute, MAX_CLIENTS)
    }

    /// Like [`RateLimiter::new`], remembering at most `max_clients` clients.
    pub fn with_capacity(per_minute: u32, max_clients: usize) -> Self {
        Self {
            per_minute,
            max_clients: max_clients.max(1),
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Takes one token for `ip` at `now`; when none is left, says how long until one is.
    pub fn check(&self, ip: IpAddr, now: Instant) -> Result<(), Duration> {
        if self.per_minute == 0 {
            return Ok(());
        }
        let capacity = f64::from(self.per_minute);
        let per_second = capacity / 60.0;
        let key = client_key(ip);
        let mut buckets = match self.buckets.lock() {
            Ok(b) => b,
            // A panic while holding the lock cannot leave a bucket half-written.
            Err(poisoned) => poisoned.into_inner(),
        };
        if !buckets.contains_key(&key) && buckets.len() >= self.max_clients {
            self.evict(&mut buckets, now);
        }
        let bucket = buckets.entry(key).or_insert(Bucket {
            tokens: capacity,
            last: now,
        });
        let elapsed = now.saturating_duration_since(bucket.last).as_secs_f64();
        bucket.tokens = (bucket.tokens + elapsed * per_second).min(capacity);
        bucket.last = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Ok(())
        } else {
            let wait = (1.0 - bucket.tokens) / per_second;
            Err(Duration::from_secs_f64(wait))
        }
    }

    /// How many clients are remembered now.
    pub fn len(&self) -> usize {
        self.buckets
            .lock()
            .map_or_else(|p| p.into_inner().len(), |b| b.len())
    }

    /// Whether no client is remembered.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Frees room: first every bucket that has refilled (it behaves like a new one), then,
    /// if that is not enough, the older half. Amortised O(1) per request.
    fn evict(&self, buckets: &mut HashMap<IpAddr, Bucket>, now: Instant) {
        let full_after = Duration::from_secs(60);
        buckets.retain(|_, b| now.saturating_duration_since(b.last) < full_after);
        if buckets.len() < self.max_clients {
            return;
        }
        let mut lasts: Vec<Instant> = buckets.values().map(|b| b.last).collect();
        let middle = lasts.len() / 2;
        let (_, cut, _) = lasts.select_nth_unstable(middle);
        let cut = *cut;
        buckets.retain(|_, b| b.last > cut);
        if buckets.len() >= self.max_clients {
            // All remembered at the same instant: start over rather than grow.
            buckets.clear();
        }
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

    #[test]
    fn allows_a_minutes_worth_then_refuses_with_the_wait() {
        let limiter = RateLimiter::new(3);
        let t0 = Instant::now();
        for _ in 0..3 {
            limiter.check(ip("192.0.2.1"), t0).unwrap();
        }
        let wait = limiter.check(ip("192.0.2.1"), t0).unwrap_err();
        assert_eq!(wait.as_secs(), 20);
        // Other clients have their own bucket.
        limiter.check(ip("192.0.2.2"), t0).unwrap();
        // One token comes back after 20 s.
        limiter
            .check(ip("192.0.2.1"), t0 + Duration::from_secs(20))
            .unwrap();
        assert!(
            limiter
                .check(ip("192.0.2.1"), t0 + Duration::from_secs(21))
                .is_err()
        );
    }

    #[test]
    fn zero_means_no_limit() {
        let limiter = RateLimiter::new(0);
        let t0 = Instant::now();
        for _ in 0..1000 {
            limiter.check(ip("192.0.2.1"), t0).unwrap();
        }
        assert!(limiter.is_empty());
    }

    #[test]
    fn ipv6_clients_are_counted_per_64_and_mapped_v4_as_v4() {
        let limiter = RateLimiter::new(1);
        let t0 = Instant::now();
        limiter.check(ip("2001:db8:1:2::1"), t0).unwrap();
        assert!(limiter.check(ip("2001:db8:1:2:ffff::9"), t0).is_err());
        limiter.check(ip("2001:db8:1:3::1"), t0).unwrap();
        limiter.check(ip("198.51.100.7"), t0).unwrap();
        assert!(limiter.check(ip("::ffff:198.51.100.7"), t0).is_err());
    }

    #[test]
    fn memory_stays_bounded() {
        let limiter = RateLimiter::with_capacity(5, 100);
        let t0 = Instant::now();
        for i in 0..10_000u32 {
            let now = t0 + Duration::from_millis(u64::from(i));
            limiter.check(IpAddr::V4(i.into()), now).unwrap();
            assert!(limiter.len() <= 100);
        }
        // A client seen just now is still remembered (its bucket is not reset).
        let last = IpAddr::V4(9_999u32.into());
        let now = t0 + Duration::from_millis(10_000);
        for _ in 0..4 {
            limiter.check(last, now).unwrap();
        }
        assert!(limiter.check(last, now).is_err());
    }
}
