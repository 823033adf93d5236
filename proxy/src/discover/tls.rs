//! TLS for discovery: a strict client configuration for HTTPS fetches (web PKI roots plus
//! the operator's extra CAs), and a recording one for guessing probes that completes the
//! handshake whatever the certificate, but notes its names and whether it verified, so the
//! trace can say which certificate names matched.

use std::sync::Arc;

use anyhow::Context as _;
use rustls::ClientConfig;
use rustls::client::WebPkiServerVerifier;
use rustls::crypto::CryptoProvider;

use crate::check::tls::RecordingVerifier;

/// The TLS configurations discovery uses.
#[derive(Clone, Debug)]
pub struct Tls {
    provider: Arc<CryptoProvider>,
    verifier: Arc<WebPkiServerVerifier>,
    /// Verifies certificates fully: for HTTPS fetches.
    pub strict: Arc<ClientConfig>,
}

impl Tls {
    /// Web PKI roots plus the certificates in each PEM file of `extra_ca`.
    pub fn new(extra_ca: &[std::path::PathBuf]) -> anyhow::Result<Self> {
        // The same trust set as the checks.
        let (provider, verifier) = crate::check::tls::trust(extra_ca)?;
        let strict = ClientConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .context("TLS versions")?
            .with_webpki_verifier(verifier.clone())
            .with_no_client_auth();
        Ok(Self {
            provider,
            verifier,
            strict: Arc::new(strict),
        })
    }

    /// A configuration for one probe that accepts any certificate, and the verifier that
    /// records what it saw (see [`Seen::from_verifier`]).
    pub fn recording(&self) -> anyhow::Result<(Arc<ClientConfig>, Arc<RecordingVerifier>)> {
        let recorder = Arc::new(RecordingVerifier::new(self.verifier.clone(), true));
        let config = ClientConfig::builder_with_provider(self.provider.clone())
            .with_safe_default_protocol_versions()
            .context("TLS versions")?
            .dangerous()
            .with_custom_certificate_verifier(recorder.clone())
            .with_no_client_auth();
        Ok((Arc::new(config), recorder))
    }
}

/// What a probe learnt about the server's certificate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Seen {
    /// DNS names and IP addresses in the certificate's subject alternative names.
    pub names: Vec<String>,
    /// `Ok` when it verified for the host name asked for, else why not.
    pub verdict: Result<(), String>,
}

impl Seen {
    /// What `verifier` saw in the last handshake, if it got to a certificate.
    pub(crate) fn from_verifier(verifier: &RecordingVerifier) -> Option<Self> {
        verifier.seen().map(|(der, verdict)| Self {
            names: crate::check::tls::cert_names(der.as_ref()),
            verdict: verdict.map_err(|e| e.to_string()),
        })
    }
}

/// The server name for a host (DNS name or IP literal).
pub use crate::check::tls::server_name;
