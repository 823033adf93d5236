//! The flow's state, kept by nobody: `start` seals everything the callback needs (provider,
//! address, PKCE verifier, expiry, the browser binding, how to hand the result back) into
//! the `state` parameter with ChaCha20-Poly1305 under the key from `--secret-key-file`, so
//! any replica holding the same key can finish a flow another one started. A forged or
//! altered `state` does not open; an expired one says so. Single use is the store's
//! (see `flow.rs`), so a replay is refused on every replica.
//!
//! The browser binding: `start` sets a random cookie (HttpOnly, SameSite=Lax) and seals
//! its SHA-256 into `state`; the callback must bring the same cookie.

use std::fmt;
use std::path::Path;

use anyhow::{Context as _, bail};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use mailsetup_shared::api::Lang;
use ring::aead::{Aad, CHACHA20_POLY1305, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use ring::rand::{SecureRandom as _, SystemRandom};
use serde::{Deserialize, Serialize};
use sha2::Digest as _;

/// What `state` is bound to, so a sealed value from another context never opens here.
const AAD: &[u8] = b"mailsetup oauth state v1";

/// The longest `state` accepted (a sealed one is about 400 characters).
const MAX_STATE_LEN: usize = 2048;

/// The key that seals flow state; `Debug` never shows it.
pub struct SealKey(LessSafeKey);

impl fmt::Debug for SealKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SealKey([redacted])")
    }
}

impl SealKey {
    /// The key from `--secret-key-file`: at least 32 bytes of secret, hashed to 32.
    ///
    /// # Errors
    /// When the file cannot be read or is shorter than 32 bytes.
    pub fn from_file(path: &Path) -> anyhow::Result<Self> {
        let bytes = std::fs::read(path)
            .with_context(|| format!("cannot read --secret-key-file {}", path.display()))?;
        let trimmed = bytes.trim_ascii();
        if trimmed.len() < 32 {
            bail!(
                "--secret-key-file {}: {} bytes; give at least 32 random bytes \
                 (for example `head -c 32 /dev/urandom | base64 > FILE`)",
                path.display(),
                trimmed.len()
            );
        }
        Self::from_secret(trimmed)
    }

    /// A key of this process only (no `--secret-key-file`): flows work on one replica.
    ///
    /// # Errors
    /// When the system has no random numbers.
    pub fn random() -> anyhow::Result<Self> {
        Self::from_secret(&random_bytes::<32>()?)
    }

    fn from_secret(secret: &[u8]) -> anyhow::Result<Self> {
        let digest = sha2::Sha256::digest(secret);
        let key = UnboundKey::new(&CHACHA20_POLY1305, &digest)
            .map_err(|_| anyhow::anyhow!("cannot make a ChaCha20-Poly1305 key"))?;
        Ok(Self(LessSafeKey::new(key)))
    }

    /// Seals `state` into a URL-safe string.
    ///
    /// # Errors
    /// When the system has no random numbers.
    pub fn seal(&self, state: &FlowState) -> anyhow::Result<String> {
        let mut data = serde_json::to_vec(state)?;
        let nonce = random_bytes::<NONCE_LEN>()?;
        self.0
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(AAD),
                &mut data,
            )
            .map_err(|_| anyhow::anyhow!("cannot seal the flow state"))?;
        let mut out = nonce.to_vec();
        out.extend_from_slice(&data);
        Ok(URL_SAFE_NO_PAD.encode(out))
    }

    /// Opens a sealed `state`, refusing forged, altered and expired ones.
    ///
    /// # Errors
    /// [`StateError::Invalid`] or [`StateError::Expired`].
    pub fn open(&self, sealed: &str, now: u64) -> Result<FlowState, StateError> {
        if sealed.len() > MAX_STATE_LEN {
            return Err(StateError::Invalid);
        }
        let bytes = URL_SAFE_NO_PAD
            .decode(sealed)
            .map_err(|_| StateError::Invalid)?;
        if bytes.len() <= NONCE_LEN {
            return Err(StateError::Invalid);
        }
        let (nonce, sealed) = bytes.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| StateError::Invalid)?;
        let mut data = sealed.to_vec();
        let plain = self
            .0
            .open_in_place(nonce, Aad::from(AAD), &mut data)
            .map_err(|_| StateError::Invalid)?;
        let state: FlowState = serde_json::from_slice(plain).map_err(|_| StateError::Invalid)?;
        if now >= state.exp {
            return Err(StateError::Expired);
        }
        Ok(state)
    }
}

/// Why a `state` was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StateError {
    /// Forged, altered, from another key, or not ours at all.
    Invalid,
    /// Genuine but past its time.
    Expired,
}

/// How the callback page hands the result back.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// `postMessage` to the window that opened the popup.
    Popup,
    /// `sessionStorage`, then back to `return_to` in the same tab.
    Redirect,
}

/// Everything the callback needs, sealed into `state`. Its `Debug` hides the verifier.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FlowState {
    /// A random id: the key of the single-use mark in the store.
    pub id: String,
    /// The provider id.
    pub provider: String,
    /// The address typed.
    pub email: String,
    /// The PKCE code verifier.
    pub verifier: String,
    /// SHA-256 (base64url) of the browser-binding cookie.
    pub browser: String,
    /// Expiry, seconds since the Unix epoch.
    pub exp: u64,
    /// Popup or same-tab redirect.
    pub mode: Mode,
    /// Where a same-tab flow returns (a path on the proxy's own origin).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub return_to: Option<String>,
    /// Whether the result may carry the grant (tokens) for the host.
    pub credentials: bool,
    /// The language of the page that started the flow.
    pub lang: Lang,
}

impl fmt::Debug for FlowState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FlowState")
            .field("id", &self.id)
            .field("provider", &self.provider)
            .field("exp", &self.exp)
            .field("mode", &self.mode)
            .finish_non_exhaustive()
    }
}

/// `n` random bytes from the system.
///
/// # Errors
/// When the system has no random numbers.
pub fn random_bytes<const N: usize>() -> anyhow::Result<[u8; N]> {
    let mut out = [0u8; N];
    SystemRandom::new()
        .fill(&mut out)
        .map_err(|_| anyhow::anyhow!("no random numbers from the system"))?;
    Ok(out)
}

/// A random URL-safe token of 32 bytes (cookie values, flow ids, PKCE verifiers: 43
/// characters, within RFC 7636's 43-128).
///
/// # Errors
/// When the system has no random numbers.
pub fn random_token() -> anyhow::Result<String> {
    Ok(URL_SAFE_NO_PAD.encode(random_bytes::<32>()?))
}

/// base64url(SHA-256(`text`)): the PKCE S256 challenge of a verifier, the browser binding
/// of a cookie.
pub fn s256(text: &str) -> String {
    URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(text.as_bytes()))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn state(exp: u64) -> FlowState {
        FlowState {
            id: "id".into(),
            provider: "gmail".into(),
            email: "a@gmail.com".into(),
            verifier: "v".repeat(43),
            browser: s256("cookie"),
            exp,
            mode: Mode::Popup,
            return_to: None,
            credentials: false,
            lang: Lang::Ru,
        }
    }

    #[test]
    fn sealed_state_opens_only_with_its_key_unaltered_and_in_time() {
        let key = SealKey::random().unwrap();
        let sealed = key.seal(&state(100)).unwrap();
        assert!(!sealed.contains("gmail") && !sealed.contains('+') && !sealed.contains('/'));
        assert_eq!(key.open(&sealed, 99).unwrap(), state(100));
        assert_eq!(key.open(&sealed, 100), Err(StateError::Expired));
        assert_eq!(
            SealKey::random().unwrap().open(&sealed, 99),
            Err(StateError::Invalid)
        );
        let mut bytes = URL_SAFE_NO_PAD.decode(&sealed).unwrap();
        let last = bytes.len() - 20;
        bytes[last] ^= 1;
        assert_eq!(
            key.open(&URL_SAFE_NO_PAD.encode(bytes), 99),
            Err(StateError::Invalid)
        );
        for junk in ["", "x", "!!!", &"A".repeat(5000)] {
            assert_eq!(key.open(junk, 0), Err(StateError::Invalid));
        }
        assert!(!format!("{:?}", state(1)).contains("vvvv"));
        assert!(!format!("{key:?}").is_empty());
    }

    #[test]
    fn the_same_key_file_opens_on_every_replica_and_short_files_are_refused() {
        let dir = std::env::temp_dir().join(format!("mailsetup-seal-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("key");
        std::fs::write(&file, "0123456789abcdef0123456789abcdef\n").unwrap();
        let a = SealKey::from_file(&file).unwrap();
        let b = SealKey::from_file(&file).unwrap();
        assert_eq!(b.open(&a.seal(&state(5)).unwrap(), 1).unwrap(), state(5));
        std::fs::write(&file, "short").unwrap();
        let err = SealKey::from_file(&file).unwrap_err().to_string();
        assert!(err.contains("at least 32"), "{err}");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn pkce_s256_is_base64url_of_sha256_without_padding() {
        // SHA-256("abc") = ba7816bf...f20015ad (FIPS 180-2 example), in base64url.
        assert_eq!(s256("abc"), "ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa0");
        assert_eq!(random_token().unwrap().len(), 43);
    }
}
