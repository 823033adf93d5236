//! Failed-login limits per account: after `--max-failed-logins` refused logins for one
//! account within `--failed-login-window`, further checks of that account are refused
//! before any connection, so that a user (or an attacker) retrying passwords through the
//! proxy does not get the mailbox locked by its provider.
//!
//! An account is the login name and the mail domain, lowercased; only a SHA-256 of that is
//! kept, never the name itself. Which account a key means ([`LoginGuard::key`]) is kept
//! apart from where failures are counted: the [`Store`] (in memory, or Redis shared by
//! every replica) only sees an opaque key, so the limit holds across replicas.

use std::time::Duration;

use sha2::Digest as _;

use crate::store::{MemoryStore, SharedStore, StoreError};

/// One account's identity, hashed.
pub type AccountKey = [u8; 32];

/// Why a check of an account may not run now.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum GuardError {
    /// Too many failures lately; a check is accepted again after this wait.
    #[error("too many failed logins; wait {0:?}")]
    Locked(Duration),
    /// The failures cannot be counted (the shared store is unreachable).
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The failed-login guard.
#[derive(Debug)]
pub struct LoginGuard {
    max: u32,
    window: Duration,
    store: SharedStore,
}

impl LoginGuard {
    /// A guard allowing `max` failures per `window` (`max == 0`: no limit), counted in
    /// memory.
    pub fn new(max: u32, window: Duration) -> Self {
        Self::with_store(max, window, std::sync::Arc::new(MemoryStore::new()))
    }

    /// Like [`LoginGuard::new`], counting in `store`.
    pub fn with_store(max: u32, window: Duration, store: SharedStore) -> Self {
        Self { max, window, store }
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

    /// The store key of an account: `guard:` and the hash in hex.
    fn store_key(key: &AccountKey) -> String {
        let mut s = String::with_capacity(6 + 64);
        s.push_str("guard:");
        for b in key {
            s.push_str(&format!("{b:02x}"));
        }
        s
    }

    /// `Err(Locked(wait))` when the account had too many failures lately; `wait` is how
    /// long until the oldest of them is forgotten. `Err(Store)` when that cannot be known.
    pub async fn check(&self, key: &AccountKey) -> Result<(), GuardError> {
        if self.max == 0 {
            return Ok(());
        }
        let events = self
            .store
            .events(&Self::store_key(key), self.window)
            .await?;
        if events.count >= self.max {
            return Err(GuardError::Locked(
                self.window.saturating_sub(events.oldest_age),
            ));
        }
        Ok(())
    }

    /// Records the outcome of a login: a failure counts, a success forgets the failures.
    pub async fn record(&self, key: &AccountKey, failed: bool) -> Result<(), StoreError> {
        if self.max == 0 {
            return Ok(());
        }
        let key = Self::store_key(key);
        if failed {
            self.store.add_event(&key, self.window, self.max).await
        } else {
            self.store.clear_events(&key).await
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[tokio::test(start_paused = true)]
    async fn locks_after_max_failures_and_a_success_unlocks() {
        let g = LoginGuard::new(2, Duration::from_secs(60));
        let a = LoginGuard::key("Alice@Example.com", "alice@example.com");
        let b = LoginGuard::key("bob@example.com", "bob@example.com");
        assert_eq!(a, LoginGuard::key("alice@example.com", "x@EXAMPLE.com"));
        assert!(g.check(&a).await.is_ok());
        g.record(&a, true).await.unwrap();
        assert!(g.check(&a).await.is_ok());
        tokio::time::advance(Duration::from_secs(5)).await;
        g.record(&a, true).await.unwrap();
        let Err(GuardError::Locked(wait)) = g.check(&a).await else {
            panic!("not locked");
        };
        assert_eq!(wait, Duration::from_secs(55));
        assert!(g.check(&b).await.is_ok());
        g.record(&a, false).await.unwrap();
        assert!(g.check(&a).await.is_ok());
    }

    #[tokio::test(start_paused = true)]
    async fn failures_are_forgotten_after_the_window() {
        let g = LoginGuard::new(1, Duration::from_secs(10));
        let a = LoginGuard::key("a", "a@b.c");
        g.record(&a, true).await.unwrap();
        assert!(g.check(&a).await.is_err());
        tokio::time::advance(Duration::from_secs(10)).await;
        assert!(g.check(&a).await.is_ok());
        let off = LoginGuard::new(0, Duration::from_secs(60));
        off.record(&a, true).await.unwrap();
        assert!(off.check(&a).await.is_ok());
    }
}
