//! The one bounded map with expiring entries behind every table of the in-process store
//! (failed-login events, rate-limit buckets, cached discoveries): at most `max` keys,
//! whatever clients send. Room for a new key is made by dropping expired entries first,
//! then the older half by last use, so recent clients are never forgotten for old ones.
//! Amortised O(1) per insert.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard, PoisonError};

use tokio::time::Instant;

/// What the table needs to know of an entry to evict it.
pub(super) trait Expiring {
    /// Whether the entry means nothing any more at `now` (its window or TTL has passed).
    fn expired(&self, now: Instant) -> bool;
    /// When it was last written: the older half goes first when expiry frees too little.
    fn last_used(&self) -> Instant;
}

/// A bounded map from string keys to expiring entries, behind one mutex.
#[derive(Debug)]
pub(super) struct Table<V> {
    max: usize,
    map: Mutex<HashMap<String, V>>,
}

impl<V: Expiring> Table<V> {
    /// A table holding at most `max` keys (at least one).
    pub(super) fn new(max: usize) -> Self {
        Self {
            max: max.max(1),
            map: Mutex::new(HashMap::new()),
        }
    }

    /// How many keys it holds.
    pub(super) fn len(&self) -> usize {
        self.lock().len()
    }

    /// The locked map, to read or change entries; [`Table::entry`] adds one.
    pub(super) fn lock(&self) -> MutexGuard<'_, HashMap<String, V>> {
        // Every table is consistent between statements, so a panic elsewhere cannot leave
        // one half-written.
        self.map.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The entry under `key` in the locked `map`, made with `new` if absent (after making
    /// room for it).
    pub(super) fn entry<'m>(
        &self,
        map: &'m mut HashMap<String, V>,
        key: &str,
        now: Instant,
        new: impl FnOnce() -> V,
    ) -> &'m mut V {
        if map.len() >= self.max && !map.contains_key(key) {
            self.make_room(map, now);
        }
        map.entry(key.to_owned()).or_insert_with(new)
    }

    fn make_room(&self, map: &mut HashMap<String, V>, now: Instant) {
        map.retain(|_, v| !v.expired(now));
        if map.len() < self.max {
            return;
        }
        let mut lasts: Vec<Instant> = map.values().map(Expiring::last_used).collect();
        let middle = lasts.len() / 2;
        let (_, cut, _) = lasts.select_nth_unstable(middle);
        let cut = *cut;
        map.retain(|_, v| v.last_used() >= cut);
        if map.len() >= self.max {
            // All written at the same instant: start over rather than grow.
            map.clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[derive(Debug)]
    struct E {
        at: Instant,
        until: Instant,
    }

    impl Expiring for E {
        fn expired(&self, now: Instant) -> bool {
            now >= self.until
        }
        fn last_used(&self) -> Instant {
            self.at
        }
    }

    #[tokio::test(start_paused = true)]
    async fn expired_entries_go_first_then_the_older_half() {
        let table = Table::new(4);
        let put = |key: &str, ttl: u64| {
            let now = Instant::now();
            let mut map = table.lock();
            table.entry(&mut map, key, now, || E {
                at: now,
                until: now + Duration::from_secs(ttl),
            });
        };
        put("short", 1);
        for key in ["a", "b", "c"] {
            tokio::time::advance(Duration::from_millis(10)).await;
            put(key, 60);
        }
        tokio::time::advance(Duration::from_secs(2)).await;
        put("d", 60);
        // Only the expired entry made room.
        let mut keys: Vec<String> = table.lock().keys().cloned().collect();
        keys.sort();
        assert_eq!(keys, ["a", "b", "c", "d"]);
        tokio::time::advance(Duration::from_millis(10)).await;
        put("e", 60);
        // Nothing expired: the older half by last use (a, b) went.
        let mut keys: Vec<String> = table.lock().keys().cloned().collect();
        keys.sort();
        assert_eq!(keys, ["c", "d", "e"]);
        for i in 0..1000 {
            put(&i.to_string(), 60);
            assert!(table.len() <= 4);
        }
    }
}
