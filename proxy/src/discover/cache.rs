//! The per-domain answer cache: a bounded map with a time to live. Answers hold servers,
//! never anything about a user (usernames are a form, not a value), so they can be shared.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use mailsetup_shared::api::DiscoverResponse;

/// A bounded TTL cache of discovery answers by domain.
#[derive(Debug)]
pub struct Cache {
    ttl: Duration,
    capacity: usize,
    map: Mutex<HashMap<String, (Instant, DiscoverResponse)>>,
}

impl Cache {
    /// A cache keeping answers `ttl` long, at most `capacity` domains; `ttl` zero: off.
    pub fn new(ttl: Duration, capacity: usize) -> Self {
        Self {
            ttl,
            capacity,
            map: Mutex::new(HashMap::new()),
        }
    }

    /// The fresh answer for `domain`, with its age.
    pub fn get(&self, domain: &str) -> Option<(DiscoverResponse, Duration)> {
        if self.ttl.is_zero() {
            return None;
        }
        let mut map = self.map.lock().unwrap_or_else(PoisonError::into_inner);
        let (at, answer) = map.get(domain)?;
        let age = at.elapsed();
        if age >= self.ttl {
            map.remove(domain);
            return None;
        }
        Some((answer.clone(), age))
    }

    /// Stores the answer for `domain`, dropping expired entries, then the oldest, when full.
    pub fn put(&self, domain: &str, answer: &DiscoverResponse) {
        if self.ttl.is_zero() || self.capacity == 0 {
            return;
        }
        let mut map = self.map.lock().unwrap_or_else(PoisonError::into_inner);
        if map.len() >= self.capacity && !map.contains_key(domain) {
            let ttl = self.ttl;
            map.retain(|_, (at, _)| at.elapsed() < ttl);
            if map.len() >= self.capacity
                && let Some(oldest) = map
                    .iter()
                    .min_by_key(|(_, (at, _))| *at)
                    .map(|(k, _)| k.clone())
            {
                map.remove(&oldest);
            }
        }
        map.insert(domain.to_owned(), (Instant::now(), answer.clone()));
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

    #[test]
    fn bounded_and_expiring() {
        let c = Cache::new(Duration::from_secs(60), 2);
        c.put("a", &answer("a"));
        c.put("b", &answer("b"));
        c.put("c", &answer("c"));
        assert!(c.get("a").is_none(), "the oldest is dropped when full");
        assert_eq!(c.get("c").map(|(r, _)| r.domain), Some("c".to_owned()));
        let off = Cache::new(Duration::ZERO, 10);
        off.put("a", &answer("a"));
        assert!(off.get("a").is_none());
        let short = Cache::new(Duration::from_nanos(1), 10);
        short.put("a", &answer("a"));
        std::thread::sleep(Duration::from_millis(2));
        assert!(short.get("a").is_none());
    }
}
