//! TLS for checks: rustls with the ring provider, the web PKI roots plus the operator's
//! `--extra-ca` files, a verifier that remembers the server's certificate so that failures
//! still report what the certificate says, and the mapping of rustls errors to diagnoses.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Context as _;
use mailsetup_shared::api::{DiagnosisCode, Text, TlsInfo};
use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, DigitallySignedStruct, RootCertStore, SignatureScheme};
use sha2::Digest as _;
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;

/// The trust anchors and crypto provider every check uses; built once at start-up.
#[derive(Debug)]
pub struct TlsSettings {
    provider: Arc<CryptoProvider>,
    verifier: Arc<WebPkiServerVerifier>,
}

impl TlsSettings {
    /// The web PKI roots plus every certificate in the PEM files `extra_ca`.
    pub fn new(extra_ca: &[PathBuf]) -> anyhow::Result<Self> {
        let (provider, verifier) = trust(extra_ca)?;
        Ok(Self { provider, verifier })
    }
}

/// The crypto provider (ring) and a web PKI verifier trusting the web roots plus every
/// certificate in the PEM files `extra_ca`: the one trust set of checks and discovery.
pub fn trust(
    extra_ca: &[PathBuf],
) -> anyhow::Result<(Arc<CryptoProvider>, Arc<WebPkiServerVerifier>)> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut roots = RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    for path in extra_ca {
        let mut n = 0;
        for cert in CertificateDer::pem_file_iter(path)
            .with_context(|| format!("cannot read CA file {}", path.display()))?
        {
            let cert = cert.with_context(|| format!("bad PEM in {}", path.display()))?;
            roots
                .add(cert)
                .with_context(|| format!("bad CA certificate in {}", path.display()))?;
            n += 1;
        }
        if n == 0 {
            anyhow::bail!("no certificate in CA file {}", path.display());
        }
    }
    let verifier = WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
        .build()
        .context("cannot build the certificate verifier")?;
    Ok((provider, verifier))
}

/// A TLS handshake that did not work out, already classified.
#[derive(Debug)]
pub struct TlsFailure {
    /// The diagnosis.
    pub code: DiagnosisCode,
    /// What happened, for the step's detail.
    pub detail: Text,
    /// What the server's certificate says, when one was received.
    pub cert: Option<TlsInfo>,
}

/// Makes a TLS session over `tcp` for `host`, within `timeout`. On success, also returns
/// what the session and certificate look like.
pub async fn handshake(
    settings: &TlsSettings,
    tcp: TcpStream,
    host: &str,
    timeout: Duration,
) -> Result<(TlsStream<TcpStream>, TlsInfo), TlsFailure> {
    let name = server_name(host).map_err(|detail| TlsFailure {
        code: DiagnosisCode::TlsFailed,
        detail,
        cert: None,
    })?;
    let recorder = Arc::new(RecordingVerifier::new(settings.verifier.clone(), false));
    let config = rustls::ClientConfig::builder_with_provider(settings.provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|err| TlsFailure {
            code: DiagnosisCode::TlsFailed,
            detail: Text::new(err.to_string(), format!("TLS не настраивается: {err}")),
            cert: None,
        })?
        .dangerous()
        .with_custom_certificate_verifier(recorder.clone())
        .with_no_client_auth();
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let result = tokio::time::timeout(timeout, connector.connect(name, tcp)).await;
    let seen_info = || recorder.seen().and_then(|(der, _)| cert_info(&der));
    match result {
        Err(_) => Err(TlsFailure {
            code: DiagnosisCode::ServerTimeout,
            detail: Text::new(
                format!("the TLS handshake with {host} timed out after {timeout:?}"),
                format!(
                    "TLS-рукопожатие с {host} не завершилось за {}",
                    crate::i18n::duration(timeout).ru
                ),
            ),
            cert: seen_info(),
        }),
        Ok(Err(err)) => {
            let cert = seen_info();
            let (code, detail) = classify_io(&err, host, cert.as_ref());
            Err(TlsFailure { code, detail, cert })
        }
        Ok(Ok(stream)) => {
            let (_, conn) = stream.get_ref();
            let mut info = conn
                .peer_certificates()
                .and_then(|c| c.first())
                .and_then(|der| cert_info(der))
                .unwrap_or_else(empty_info);
            info.version = match conn.protocol_version() {
                Some(rustls::ProtocolVersion::TLSv1_3) => "TLSv1.3".to_owned(),
                Some(rustls::ProtocolVersion::TLSv1_2) => "TLSv1.2".to_owned(),
                Some(v) => format!("{v:?}"),
                None => String::new(),
            };
            info.cipher = conn
                .negotiated_cipher_suite()
                .map(|s| format!("{:?}", s.suite()))
                .unwrap_or_default();
            Ok((stream, info))
        }
    }
}

fn classify_io(err: &std::io::Error, host: &str, cert: Option<&TlsInfo>) -> (DiagnosisCode, Text) {
    let Some(tls) = err
        .get_ref()
        .and_then(|e| e.downcast_ref::<rustls::Error>())
    else {
        let detail = if err.kind() == std::io::ErrorKind::UnexpectedEof {
            Text::new(
                format!(
                    "{host} closed the connection during the TLS handshake (does it speak TLS \
                     on this port?)"
                ),
                format!(
                    "{host} закрыл соединение во время TLS-рукопожатия (говорит ли он на этом \
                     порту по TLS?)"
                ),
            )
        } else {
            Text::new(
                format!("TLS handshake with {host} failed: {err}"),
                format!("TLS-рукопожатие с {host} не удалось: {err}"),
            )
        };
        return (DiagnosisCode::TlsFailed, detail);
    };
    let code = match tls {
        rustls::Error::InvalidCertificate(c) => match c {
            CertificateError::Expired
            | CertificateError::ExpiredContext { .. }
            | CertificateError::NotValidYet
            | CertificateError::NotValidYetContext { .. } => DiagnosisCode::CertExpired,
            CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. } => {
                DiagnosisCode::CertHostnameMismatch
            }
            _ => DiagnosisCode::CertUntrusted,
        },
        rustls::Error::InvalidMessage(_) => {
            return (
                DiagnosisCode::TlsFailed,
                Text::new(
                    format!(
                        "{host} answered with something that is not TLS ({tls}); the port may \
                         expect STARTTLS or no encryption"
                    ),
                    format!(
                        "{host} ответил не по TLS ({tls}); возможно, этот порт ждёт STARTTLS \
                         или работает без шифрования"
                    ),
                ),
            );
        }
        _ => DiagnosisCode::TlsFailed,
    };
    let mut detail = Text::new(
        format!("TLS handshake with {host} failed: {tls}"),
        format!("TLS-рукопожатие с {host} не удалось: {tls}"),
    );
    if code == DiagnosisCode::CertHostnameMismatch
        && let Some(cert) = cert
    {
        let names = cert.names.join(", ");
        detail = Text::new(
            format!("the certificate of {host} is for {names} only"),
            format!("сертификат {host} выдан только для {names}"),
        );
    }
    (code, detail)
}

fn empty_info() -> TlsInfo {
    TlsInfo {
        version: String::new(),
        cipher: String::new(),
        subject: String::new(),
        issuer: String::new(),
        names: Vec::new(),
        not_after: String::new(),
        sha256: String::new(),
    }
}

/// The TLS server name for a host: a DNS name or an IP literal, brackets allowed (`[::1]`).
pub fn server_name(host: &str) -> Result<ServerName<'static>, Text> {
    let bare = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    ServerName::try_from(bare.to_owned()).map_err(|err| {
        Text::new(
            format!("{host} cannot be used as a TLS server name: {err}"),
            format!("{host} не годится как имя сервера для TLS: {err}"),
        )
    })
}

/// The subject alternative names of a DER certificate (DNS names and IP addresses).
pub fn cert_names(der: &[u8]) -> Vec<String> {
    x509_parser::parse_x509_certificate(der)
        .map(|(_, cert)| san_names(&cert))
        .unwrap_or_default()
}

fn san_names(cert: &x509_parser::certificate::X509Certificate<'_>) -> Vec<String> {
    use x509_parser::extensions::GeneralName;
    let mut names = Vec::new();
    if let Ok(Some(san)) = cert.subject_alternative_name() {
        for name in &san.value.general_names {
            match name {
                GeneralName::DNSName(n) => names.push((*n).to_owned()),
                GeneralName::IPAddress(bytes) => {
                    if let Ok(b) = <[u8; 4]>::try_from(*bytes) {
                        names.push(std::net::Ipv4Addr::from(b).to_string());
                    } else if let Ok(b) = <[u8; 16]>::try_from(*bytes) {
                        names.push(std::net::Ipv6Addr::from(b).to_string());
                    }
                }
                _ => {}
            }
        }
    }
    names
}

/// What a DER certificate says: subject, issuer, names, expiry and fingerprint.
pub fn cert_info(der: &[u8]) -> Option<TlsInfo> {
    let (_, cert) = x509_parser::parse_x509_certificate(der).ok()?;
    let mut names = san_names(&cert);
    if names.is_empty()
        && let Some(cn) = cert
            .subject()
            .iter_common_name()
            .next()
            .and_then(|cn| cn.as_str().ok())
    {
        names.push(cn.to_owned());
    }
    let not_after = cert
        .validity()
        .not_after
        .to_datetime()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default();
    let digest = sha2::Sha256::digest(der);
    let sha256 = digest
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(":");
    Some(TlsInfo {
        version: String::new(),
        cipher: String::new(),
        subject: cert.subject().to_string(),
        issuer: cert.issuer().to_string(),
        names,
        not_after,
        sha256,
    })
}

/// Delegates verification to webpki and remembers the end-entity certificate and the
/// verdict, so a failed handshake can still say which names the certificate carries.
/// With `accept_any` (discovery's guessing probes) the handshake goes on whatever the
/// verdict; otherwise the verdict is the verifier's answer (checks).
#[derive(Debug)]
pub(crate) struct RecordingVerifier {
    inner: Arc<WebPkiServerVerifier>,
    accept_any: bool,
    seen: Mutex<Option<Seen>>,
}

/// The end-entity certificate a [`RecordingVerifier`] saw, and whether it verified.
pub(crate) type Seen = (CertificateDer<'static>, Result<(), rustls::Error>);

impl RecordingVerifier {
    pub(crate) fn new(inner: Arc<WebPkiServerVerifier>, accept_any: bool) -> Self {
        Self {
            inner,
            accept_any,
            seen: Mutex::new(None),
        }
    }

    /// What the last handshake showed, if it got as far as a certificate.
    pub(crate) fn seen(&self) -> Option<Seen> {
        self.seen
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }
}

impl ServerCertVerifier for RecordingVerifier {
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
            .map(|_| ());
        *self
            .seen
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) =
            Some((end_entity.clone().into_owned(), verdict.clone()));
        match verdict {
            Err(err) if !self.accept_any => Err(err),
            _ => Ok(ServerCertVerified::assertion()),
        }
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
