//! Throw-away certificates for the test mail servers: a test CA and one leaf per TLS
//! scenario (good, wrong host, expired, self-signed), made in memory with rcgen.

use std::path::Path;

use anyhow::Context as _;
use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose, date_time_ymd,
};

/// Every name the good certificate is valid for: `localhost` and each scenario address.
pub const GOOD_NAMES: [&str; 13] = [
    "localhost",
    "127.0.0.1",
    "127.0.0.2",
    "127.0.0.3",
    "127.0.0.4",
    "127.0.0.5",
    "127.0.0.6",
    "::1",
    // The discovery tests' guessing domain, so a guess can find a matching certificate.
    "imap.guess.disc.test",
    "smtp.guess.disc.test",
    // The check tests' names, served by their own DNS server: an ASCII one and an
    // international one (`imap.пример.рф`, `smtp.пример.рф`) in the punycode form
    // certificates carry.
    "mail.dns.test",
    "imap.xn--e1afmkfd.xn--p1ai",
    "smtp.xn--e1afmkfd.xn--p1ai",
];

/// The only name on the wrong-host certificate.
pub const WRONG_HOST_NAME: &str = "wrong.example.test";

/// Writes `ca.crt` and `{server,wronghost,expired,selfsigned}.{crt,key}` (PEM) into `dir`.
pub fn write_all(dir: &Path) -> anyhow::Result<()> {
    let ca_key = KeyPair::generate().context("CA key")?;
    let ca_params = ca_params()?;
    let ca_cert = ca_params.self_signed(&ca_key).context("CA certificate")?;
    write(dir, "ca.crt", &ca_cert.pem())?;
    write(dir, "ca.key", &ca_key.serialize_pem())?;
    let issuer = Issuer::new(ca_params, ca_key);

    let good: Vec<String> = GOOD_NAMES.iter().map(|s| (*s).to_owned()).collect();
    let leaf = |names: Vec<String>, cn: &str| -> anyhow::Result<(CertificateParams, KeyPair)> {
        let mut p = CertificateParams::new(names)?;
        p.distinguished_name = dn(cn);
        p.is_ca = IsCa::ExplicitNoCa;
        p.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        p.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        p.not_before = date_time_ymd(2024, 1, 1);
        p.not_after = date_time_ymd(2099, 1, 1);
        Ok((p, KeyPair::generate()?))
    };

    let (p, k) = leaf(good.clone(), "localhost")?;
    write_pair(dir, "server", &p.signed_by(&k, &issuer)?.pem(), &k)?;

    let (p, k) = leaf(vec![WRONG_HOST_NAME.to_owned()], WRONG_HOST_NAME)?;
    write_pair(dir, "wronghost", &p.signed_by(&k, &issuer)?.pem(), &k)?;

    let (mut p, k) = leaf(good.clone(), "localhost")?;
    p.not_before = date_time_ymd(2020, 1, 1);
    p.not_after = date_time_ymd(2020, 1, 2);
    write_pair(dir, "expired", &p.signed_by(&k, &issuer)?.pem(), &k)?;

    // A self-signed end-entity certificate (not a CA), so rustls reports UnknownIssuer.
    let (p, k) = leaf(good, "localhost")?;
    write_pair(dir, "selfsigned", &p.self_signed(&k)?.pem(), &k)?;
    Ok(())
}

fn ca_params() -> anyhow::Result<CertificateParams> {
    let mut ca_params = CertificateParams::new(Vec::<String>::new())?;
    ca_params.distinguished_name = dn("mailsetup Test CA");
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    Ok(ca_params)
}

/// Issues one more leaf from the test CA that [`write_all`] wrote into `dir` (its `ca.key`):
/// writes `{stem}.crt` and `{stem}.key` valid for `names` (the discovery tests' web server).
pub fn issue(dir: &Path, stem: &str, names: &[&str]) -> anyhow::Result<()> {
    let key_pem = std::fs::read_to_string(dir.join("ca.key")).context("read ca.key")?;
    let ca_key = KeyPair::from_pem(&key_pem).context("parse ca.key")?;
    let issuer = Issuer::new(ca_params()?, ca_key);
    let mut p = CertificateParams::new(names.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>())?;
    p.distinguished_name = dn(names.first().copied().unwrap_or("localhost"));
    p.is_ca = IsCa::ExplicitNoCa;
    p.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    p.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    p.not_before = date_time_ymd(2024, 1, 1);
    p.not_after = date_time_ymd(2099, 1, 1);
    let k = KeyPair::generate()?;
    write_pair(dir, stem, &p.signed_by(&k, &issuer)?.pem(), &k)
}

fn dn(cn: &str) -> DistinguishedName {
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, cn);
    dn
}

fn write_pair(dir: &Path, name: &str, cert_pem: &str, key: &KeyPair) -> anyhow::Result<()> {
    write(dir, &format!("{name}.crt"), cert_pem)?;
    write(dir, &format!("{name}.key"), &key.serialize_pem())
}

fn write(dir: &Path, name: &str, content: &str) -> anyhow::Result<()> {
    let path = dir.join(name);
    std::fs::write(&path, content).with_context(|| format!("cannot write {}", path.display()))
}
