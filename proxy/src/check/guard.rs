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
//! itself. Memory is bounded: old entries are pruned and the table holds at most
//! [`MAX_ACCOUNTS`] keys.

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
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
            let key = match crate::serve::client_key(*ip) {
                IpAddr::V4(v4) => hash(&login, "ip", &v4.octets()),
                IpAddr::V6(v6) => hash(&login, "ip", &v6.octets()),
            };
            if !keys.contains(&key) {
                keys.push(key);
            }
        }
        keys
    }

    /// `Err(wait)` when any of `keys` had too many failures lately (the longest wait).
    pub fn check_all(&self, keys: &[AccountKey]) -> Result<(), Duration> {
        let mut wait = None;
        for key in keys {
            if let Err(w) = self.check(key) {
                wait = Some(wait.map_or(w, |old: Duration| old.max(w)));
            }
        }
        wait.map_or(Ok(()), Err)
    }

    /// Records the outcome of a login on every one of `keys`.
    pub fn record_all(&self, keys: &[AccountKey], failed: bool) {
        for key in keys {
            self.record(key, failed);
        }
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
    use super::*;

    #[test]
    fn locks_after_max_failures_and_a_success_unlocks() {
        let g = LoginGuard::new(2, Duration::from_secs(60));
        let a = LoginGuard::keys("Alice@Example.com", "imap.example.com", &[])[0];
        let b = LoginGuard::keys("bob@example.com", "imap.example.com", &[])[0];
        assert_eq!(
            a,
            LoginGuard::keys("alice@example.com", "IMAP.Example.com.", &[])[0]
        );
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
        let a = LoginGuard::keys("a", "b.c", &[])[0];
        g.record(&a, true);
        assert!(g.check(&a).is_ok());
        let off = LoginGuard::new(0, Duration::from_secs(60));
        off.record(&a, true);
        assert!(off.check(&a).is_ok());
    }

    #[test]
    fn another_name_for_the_same_server_shares_the_count() {
        let g = LoginGuard::new(1, Duration::from_secs(60));
        let ip: IpAddr = "192.0.2.10".parse().unwrap();
        let by_name = LoginGuard::keys("alice", "imap.example.com", &[ip]);
        g.record_all(&by_name, true);
        // The same address under another name, or as a literal: still refused.
        let alias = LoginGuard::keys("alice", "mail.other.example", &[ip]);
        assert!(g.check_all(&alias).is_err());
        let literal = LoginGuard::keys("alice", "192.0.2.10", &[ip]);
        assert!(g.check_all(&literal).is_err());
        // The same name resolving elsewhere: still refused.
        let moved = LoginGuard::keys(
            "alice",
            "imap.example.com",
            &["192.0.2.99".parse().unwrap()],
        );
        assert!(g.check_all(&moved).is_err());
        // IPv6: the same /64 is the same server.
        let v6a = LoginGuard::keys("bob", "a.example", &["2001:db8::1".parse().unwrap()]);
        let v6b = LoginGuard::keys("bob", "b.example", &["2001:db8::2".parse().unwrap()]);
        g.record_all(&v6a, true);
        assert!(g.check_all(&v6b).is_err());
        // Another login at the same server is not affected.
        assert!(
            g.check_all(&LoginGuard::keys("carol", "imap.example.com", &[ip]))
                .is_ok()
        );
    }
}
