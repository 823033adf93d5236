//! Failed-login limits per account: after `--max-failed-logins` refused logins for one
//! account within `--failed-login-window`, further checks of that account are refused
//! before any connection, so that a user (or an attacker) retrying passwords through the
//! proxy does not get the mailbox locked by its provider.
//!
//! An account is the login name and the mail domain, lowercased; only a SHA-256 of that is
//! kept, never the name itself. Memory is bounded: old entries are pruned and the table
//! holds at most [`MAX_ACCOUNTS`] accounts.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use sha2::Digest as _;

/// Most accounts remembered at once.
pub const MAX_ACCOUNTS: usize = 100_000;

/// One account's identity, hashed.
pub type AccountKey = [u8; 32];

/// The failed-login table.
#[derive(Debug)]
pub struct LoginGuard {
    max: u32,
    window: Duration,
    failures: Mutex<HashMap<AccountKey, VecDeque<Instant>>>,
}

impl LoginGuard {
    /// A guard allowing `max` failures per `window` (`max == 0`: no limit).
    pub fn new(max: u32, window: Duration) -> Self {
        Self {
            max,
            window,
            failures: Mutex::new(HashMap::new()),
        }
    }

    /// The key of the account `username` at the domain of `email`.
    pub fn key(username: &str, email: &str) -> AccountKey {
        let domain = email.rsplit_once('@').map_or("", |(_, d)| d);
        let mut h = sha2::Sha256::new();
        h.update(username.trim().to_lowercase().as_bytes());
        h.update([0]);
        h.update(domain.trim().to_lowercase().as_bytes());
        h.finalize().into()
    }

    /// `Err(wait)` when the account had too many failures lately; `wait` is how long until
    /// the oldest of them is forgotten.
    pub fn check(&self, key: &AccountKey) -> Result<(), Duration> {
        if self.max == 0 {
            return Ok(());
        }
        let now = Instant::now();
        let Ok(mut table) = self.failures.lock() else {
            return Ok(());
        };
        let Some(times) = table.get_mut(key) else {
            return Ok(());
        };
        while times
            .front()
            .is_some_and(|t| now.duration_since(*t) >= self.window)
        {
            times.pop_front();
        }
        if times.len() >= self.max as usize {
            let oldest = times.front().copied().unwrap_or(now);
            return Err(self.window.saturating_sub(now.duration_since(oldest)));
        }
        Ok(())
    }

    /// Records the outcome of a login: a failure counts, a success forgets the failures.
    pub fn record(&self, key: &AccountKey, failed: bool) {
        if self.max == 0 {
            return;
        }
        let now = Instant::now();
        let Ok(mut table) = self.failures.lock() else {
            return;
        };
        if !failed {
            table.remove(key);
            return;
        }
        if table.len() >= MAX_ACCOUNTS && !table.contains_key(key) {
            let window = self.window;
            table.retain(|_, t| {
                t.back()
                    .is_some_and(|last| now.duration_since(*last) < window)
            });
            if table.len() >= MAX_ACCOUNTS {
                table.clear();
            }
        }
        let times = table.entry(*key).or_default();
        times.push_back(now);
        while times.len() > self.max as usize {
            times.pop_front();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locks_after_max_failures_and_a_success_unlocks() {
        let g = LoginGuard::new(2, Duration::from_secs(60));
        let a = LoginGuard::key("Alice@Example.com", "alice@example.com");
        let b = LoginGuard::key("bob@example.com", "bob@example.com");
        assert_eq!(a, LoginGuard::key("alice@example.com", "x@EXAMPLE.com"));
        assert!(g.check(&a).is_ok());
        g.record(&a, true);
        assert!(g.check(&a).is_ok());
        g.record(&a, true);
        let wait = g.check(&a).unwrap_err();
        assert!(wait <= Duration::from_secs(60) && wait > Duration::from_secs(50));
        assert!(g.check(&b).is_ok());
        g.record(&a, false);
        assert!(g.check(&a).is_ok());
    }

    #[test]
    fn failures_are_forgotten_after_the_window() {
        let g = LoginGuard::new(1, Duration::from_millis(0));
        let a = LoginGuard::key("a", "a@b.c");
        g.record(&a, true);
        assert!(g.check(&a).is_ok());
        let off = LoginGuard::new(0, Duration::from_secs(60));
        off.record(&a, true);
        assert!(off.check(&a).is_ok());
    }
}
