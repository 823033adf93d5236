//! Failed-login limits per account: after `--max-failed-logins` refused logins for one
//! account within `--failed-login-window`, further checks of that account are refused
//! before any connection, so that a user (or an attacker) retrying passwords through the
//! proxy does not get the mailbox locked by its provider.
//!
//! An account is what identifies the mailbox at the server: the login name together with
//! the server, never a field the client may choose freely (the mail address's domain is
//! not part of it). A login at one server has several keys ([`LoginGuard::keys`]): the
//! login name with the server's name, and with each address that name resolved to (IPv6
//! by /64). A check is refused when any of its keys is over the limit, and a refusal counts
//! on all of them, so neither another spelling of the name nor another name for the same
//! address starts a fresh count. Only a SHA-256 of each key is kept, never the name
//! itself. Which account a key means is kept
//! apart from where failures are counted: the [`Store`] (in memory, or Redis shared by
//! every replica) only sees an opaque key, so the limit holds across replicas.

use std::net::IpAddr;
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

    /// The keys of the login `username` at the server `host`, which resolved to `addrs`
    /// (the port is not part of them: one mailbox, whichever protocol or port).
    pub fn keys(username: &str, host: &str, addrs: &[IpAddr]) -> Vec<AccountKey> {
        let login = username.trim().to_lowercase();
        let host = host
            .trim()
            .trim_end_matches('.')
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_lowercase();
        let mut keys = vec![hash(&login, "host", host.as_bytes())];
        for ip in addrs {
            let key = match crate::limits::client_key(*ip) {
                IpAddr::V4(v4) => hash(&login, "ip", &v4.octets()),
                IpAddr::V6(v6) => hash(&login, "ip", &v6.octets()),
            };
            if !keys.contains(&key) {
                keys.push(key);
            }
        }
        keys
    }

    /// Like [`LoginGuard::check`] for every one of `keys`: locked when any is (the longest
    /// wait).
    pub async fn check_all(&self, keys: &[AccountKey]) -> Result<(), GuardError> {
        let mut wait: Option<Duration> = None;
        for key in keys {
            match self.check(key).await {
                Ok(()) => {}
                Err(GuardError::Locked(w)) => wait = Some(wait.map_or(w, |old| old.max(w))),
                Err(err) => return Err(err),
            }
        }
        wait.map_or(Ok(()), |w| Err(GuardError::Locked(w)))
    }

    /// Records the outcome of a login on every one of `keys`.
    pub async fn record_all(&self, keys: &[AccountKey], failed: bool) -> Result<(), StoreError> {
        for key in keys {
            self.record(key, failed).await?;
        }
        Ok(())
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

/// SHA-256 of the login, the kind of server identity and the identity.
fn hash(login: &str, kind: &str, id: &[u8]) -> AccountKey {
    let mut h = sha2::Sha256::new();
    h.update(login.as_bytes());
    h.update([0]);
    h.update(kind.as_bytes());
    h.update([0]);
    h.update(id);
    h.finalize().into()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[tokio::test(start_paused = true)]
    async fn locks_after_max_failures_and_a_success_unlocks() {
        let g = LoginGuard::new(2, Duration::from_secs(60));
        let a = LoginGuard::keys("Alice@Example.com", "imap.example.com", &[])[0];
        let b = LoginGuard::keys("bob@example.com", "imap.example.com", &[])[0];
        assert_eq!(
            a,
            LoginGuard::keys("alice@example.com", "IMAP.Example.com.", &[])[0]
        );
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
        let a = LoginGuard::keys("a", "b.c", &[])[0];
        g.record(&a, true).await.unwrap();
        assert!(g.check(&a).await.is_err());
        tokio::time::advance(Duration::from_secs(10)).await;
        assert!(g.check(&a).await.is_ok());
        let off = LoginGuard::new(0, Duration::from_secs(60));
        off.record(&a, true).await.unwrap();
        assert!(off.check(&a).await.is_ok());
    }

    #[tokio::test]
    async fn another_name_for_the_same_server_shares_the_count() {
        let g = LoginGuard::new(1, Duration::from_secs(60));
        let ip: IpAddr = "192.0.2.10".parse().unwrap();
        let by_name = LoginGuard::keys("alice", "imap.example.com", &[ip]);
        g.record_all(&by_name, true).await.unwrap();
        // The same address under another name, or as a literal: still refused.
        let alias = LoginGuard::keys("alice", "mail.other.example", &[ip]);
        assert!(g.check_all(&alias).await.is_err());
        let literal = LoginGuard::keys("alice", "192.0.2.10", &[ip]);
        assert!(g.check_all(&literal).await.is_err());
        // The same name resolving elsewhere: still refused.
        let moved = LoginGuard::keys(
            "alice",
            "imap.example.com",
            &["192.0.2.99".parse().unwrap()],
        );
        assert!(g.check_all(&moved).await.is_err());
        // IPv6: the same /64 is the same server.
        let v6a = LoginGuard::keys("bob", "a.example", &["2001:db8::1".parse().unwrap()]);
        let v6b = LoginGuard::keys("bob", "b.example", &["2001:db8::2".parse().unwrap()]);
        g.record_all(&v6a, true).await.unwrap();
        assert!(g.check_all(&v6b).await.is_err());
        // Another login at the same server is not affected.
        let carol = LoginGuard::keys("carol", "imap.example.com", &[ip]);
        assert!(g.check_all(&carol).await.is_ok());
    }
}
