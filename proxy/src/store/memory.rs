//! The in-process [`Store`]: one machine, no Redis. Each kind of value has its own bounded
//! table ([`Table`], behind a mutex), so memory stays bounded whatever clients do: beyond a
//! table's capacity, expired entries go first, then the older half.
//!
//! Time is `tokio::time::Instant`, so tests can pause and advance the clock.

use std::collections::VecDeque;
use std::time::Duration;

use tokio::time::Instant;

use super::table::{Expiring, Table};
use super::{Events, Store, StoreError};

/// Most event keys (accounts with failed logins) remembered at once.
pub const MAX_EVENT_KEYS: usize = 100_000;
/// Most token buckets (clients) remembered at once.
pub const MAX_BUCKETS: usize = 65_536;
/// Most values (cached discoveries) kept at once.
pub const MAX_VALUES: usize = 4096;

/// The in-process store.
#[derive(Debug)]
pub struct MemoryStore {
    /// Whether values are kept at all (a capacity of 0 keeps none).
    keeps_values: bool,
    events: Table<EventLog>,
    buckets: Table<Bucket>,
    values: Table<Value>,
}

/// How many entries each table holds at most.
#[derive(Clone, Copy, Debug)]
pub struct Capacity {
    /// Event keys.
    pub events: usize,
    /// Token buckets.
    pub buckets: usize,
    /// Values.
    pub values: usize,
}

#[derive(Debug)]
struct EventLog {
    window: Duration,
    times: VecDeque<Instant>,
}

#[derive(Clone, Copy, Debug)]
struct Bucket {
    tokens: f64,
    last: Instant,
    period: Duration,
}

#[derive(Debug)]
struct Value {
    bytes: Vec<u8>,
    stored: Instant,
    expires: Instant,
}

impl Expiring for EventLog {
    fn expired(&self, now: Instant) -> bool {
        self.times
            .back()
            .is_none_or(|last| now.saturating_duration_since(*last) >= self.window)
    }
    fn last_used(&self) -> Instant {
        self.times.back().copied().unwrap_or_else(Instant::now)
    }
}

impl Expiring for Bucket {
    /// A bucket that has refilled behaves like a new one.
    fn expired(&self, now: Instant) -> bool {
        now.saturating_duration_since(self.last) >= self.period
    }
    fn last_used(&self) -> Instant {
        self.last
    }
}

impl Expiring for Value {
    fn expired(&self, now: Instant) -> bool {
        now >= self.expires
    }
    fn last_used(&self) -> Instant {
        self.stored
    }
}

impl Default for MemoryStore {
    fn default() -> Self {
        Self::new()
    }
}

impl MemoryStore {
    /// A store with the default capacities.
    pub fn new() -> Self {
        Self::with_capacity(Capacity {
            events: MAX_EVENT_KEYS,
            buckets: MAX_BUCKETS,
            values: MAX_VALUES,
        })
    }

    /// A store holding at most `capacity` entries per table.
    pub fn with_capacity(capacity: Capacity) -> Self {
        Self {
            keeps_values: capacity.values > 0,
            events: Table::new(capacity.events),
            buckets: Table::new(capacity.buckets),
            values: Table::new(capacity.values),
        }
    }

    /// How many entries the tables hold: (event keys, buckets, values).
    pub fn len(&self) -> (usize, usize, usize) {
        (self.events.len(), self.buckets.len(), self.values.len())
    }

    /// Whether every table is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == (0, 0, 0)
    }
}

fn prune(log: &mut EventLog, now: Instant) {
    while log
        .times
        .front()
        .is_some_and(|t| now.saturating_duration_since(*t) >= log.window)
    {
        log.times.pop_front();
    }
}

#[async_trait::async_trait]
impl Store for MemoryStore {
    async fn add_event(&self, key: &str, window: Duration, keep: u32) -> Result<(), StoreError> {
        let now = Instant::now();
        let mut table = self.events.lock();
        let log = self.events.entry(&mut table, key, now, || EventLog {
            window,
            times: VecDeque::new(),
        });
        log.window = window;
        prune(log, now);
        log.times.push_back(now);
        while log.times.len() > keep.max(1) as usize {
            log.times.pop_front();
        }
        Ok(())
    }

    async fn events(&self, key: &str, window: Duration) -> Result<Events, StoreError> {
        let now = Instant::now();
        let mut table = self.events.lock();
        let Some(log) = table.get_mut(key) else {
            return Ok(Events {
                count: 0,
                oldest_age: Duration::ZERO,
            });
        };
        log.window = window;
        prune(log, now);
        let count = u32::try_from(log.times.len()).unwrap_or(u32::MAX);
        let oldest_age = log
            .times
            .front()
            .map_or(Duration::ZERO, |t| now.saturating_duration_since(*t));
        if count == 0 {
            table.remove(key);
        }
        Ok(Events { count, oldest_age })
    }

    async fn clear_events(&self, key: &str) -> Result<(), StoreError> {
        self.events.lock().remove(key);
        Ok(())
    }

    async fn take_token(
        &self,
        key: &str,
        capacity: u32,
        period: Duration,
    ) -> Result<Option<Duration>, StoreError> {
        let now = Instant::now();
        let cap = f64::from(capacity.max(1));
        let per_second = cap / period.as_secs_f64().max(1e-3);
        let mut buckets = self.buckets.lock();
        let bucket = self.buckets.entry(&mut buckets, key, now, || Bucket {
            tokens: cap,
            last: now,
            period,
        });
        let elapsed = now.saturating_duration_since(bucket.last).as_secs_f64();
        bucket.tokens = (bucket.tokens + elapsed * per_second).min(cap);
        bucket.last = now;
        bucket.period = period;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Ok(None)
        } else {
            Ok(Some(Duration::from_secs_f64(
                (1.0 - bucket.tokens) / per_second,
            )))
        }
    }

    async fn get(&self, key: &str) -> Result<Option<(Vec<u8>, Duration)>, StoreError> {
        let now = Instant::now();
        let mut values = self.values.lock();
        let Some(v) = values.get(key) else {
            return Ok(None);
        };
        if now >= v.expires {
            values.remove(key);
            return Ok(None);
        }
        Ok(Some((v.bytes.clone(), v.expires - now)))
    }

    async fn put(&self, key: &str, value: &[u8], ttl: Duration) -> Result<(), StoreError> {
        if !self.keeps_values || ttl.is_zero() {
            return Ok(());
        }
        let now = Instant::now();
        let fresh = || Value {
            bytes: value.to_vec(),
            stored: now,
            expires: now + ttl,
        };
        let mut values = self.values.lock();
        *self.values.entry(&mut values, key, now, fresh) = fresh();
        Ok(())
    }

    async fn ping(&self) -> Result<(), StoreError> {
        Ok(())
    }

    fn kind(&self) -> &'static str {
        "memory"
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[tokio::test(start_paused = true)]
    async fn buckets_stay_bounded_and_recent_clients_are_kept() {
        let store = MemoryStore::with_capacity(Capacity {
            events: 10,
            buckets: 100,
            values: 10,
        });
        let minute = Duration::from_secs(60);
        for i in 0..10_000u32 {
            tokio::time::advance(Duration::from_millis(1)).await;
            assert!(
                store
                    .take_token(&i.to_string(), 5, minute)
                    .await
                    .unwrap()
                    .is_none()
            );
            assert!(store.len().1 <= 100);
        }
        // A client seen just now is still remembered (its bucket is not reset).
        for _ in 0..4 {
            assert!(store.take_token("9999", 5, minute).await.unwrap().is_none());
        }
        assert!(store.take_token("9999", 5, minute).await.unwrap().is_some());
    }

    #[tokio::test(start_paused = true)]
    async fn event_keys_and_values_stay_bounded() {
        let store = MemoryStore::with_capacity(Capacity {
            events: 10,
            buckets: 10,
            values: 3,
        });
        let window = Duration::from_secs(60);
        for i in 0..1000u32 {
            // Distinct times, so "the oldest" is well defined.
            tokio::time::advance(Duration::from_millis(1)).await;
            store.add_event(&i.to_string(), window, 5).await.unwrap();
            store
                .put(&i.to_string(), b"x", Duration::from_secs(60))
                .await
                .unwrap();
            assert!(store.len().0 <= 10 && store.len().2 <= 3);
        }
        assert!(store.get("999").await.unwrap().is_some());
        assert!(store.get("0").await.unwrap().is_none());
    }
}
