//! TLS for discovery: a strict client configuration for HTTPS fetches (web PKI roots plus
//! the operator's extra CAs), and a recording one for guessing probes that completes the
//! handshake whatever the certificate, but notes its names and whether it verified, so the
//! trace can say which certificate names matched.

use std::sync::{Arc, Mutex, PoisonError};

use anyhow::Context as _;
use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, SignatureScheme};

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

    /// A configuration for one probe that accepts any certificate and records it in the
    /// returned slot.
    pub fn recording(&self) -> anyhow::Result<(Arc<ClientConfig>, SeenSlot)> {
        let seen = Arc::new(Mutex::new(None));
        let recorder = Recorder {
            inner: self.verifier.clone(),
            seen: seen.clone(),
        };
        let config = ClientConfig::builder_with_provider(self.provider.clone())
            .with_safe_default_protocol_versions()
            .context("TLS versions")?
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(recorder))
            .with_no_client_auth();
        Ok((Arc::new(config), seen))
    }
}

/// Where a recording configuration puts what it saw.
pub type SeenSlot = Arc<Mutex<Option<Seen>>>;

/// What a probe learnt about the server's certificate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Seen {
    /// DNS names and IP addresses in the certificate's subject alternative names.
    pub names: Vec<String>,
    /// `Ok` when it verified for the host name asked for, else why not.
    pub verdict: Result<(), String>,
}

#[derive(Debug)]
struct Recorder {
    inner: Arc<WebPkiServerVerifier>,
    seen: Arc<Mutex<Option<Seen>>>,
}

impl ServerCertVerifier for Recorder {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let verdict = self
            .inner
            .verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
            .map(|_| ())
            .map_err(|e| e.to_string());
        let seen = Seen {
            names: cert_names(end_entity),
            verdict,
        };
        *self.seen.lock().unwrap_or_else(PoisonError::into_inner) = Some(seen);
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}

/// The subject alternative names of a DER certificate (DNS names and IP addresses).
fn cert_names(der: &CertificateDer<'_>) -> Vec<String> {
    crate::check::tls::cert_names(der.as_ref())
}

/// The server name for a host (DNS name or IP literal).
pub fn server_name(host: &str) -> Result<ServerName<'static>, String> {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    ServerName::try_from(bare.to_owned()).map_err(|e| format!("bad TLS server name {host}: {e}"))
}
