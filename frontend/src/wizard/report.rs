//! The wizard's outputs: the verified settings for the host app and the redacted report
//! for IT.

use mailsetup_shared::api::{Protocol, Security, SideReport};
use mailsetup_shared::oauth::OAuthGrant;
use serde::Serialize;

use super::{AuthKind, Wizard};

/// The settings that passed the check, handed to the host app.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Verified {
    /// The mailbox address.
    pub email: String,
    /// The login name.
    pub username: String,
    /// Provider id, when known.
    pub provider: Option<String>,
    /// The incoming server.
    pub incoming: VerifiedServer,
    /// The outgoing server.
    pub outgoing: VerifiedServer,
    /// How the check logged in: `password` or `oauth2`.
    pub auth: AuthKind,
    /// The password, only when the host app is allowed to receive it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
    /// The sign-in's tokens (access and refresh token, expiry, scopes, provider), only when
    /// the host app is allowed to receive them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub grant: Option<OAuthGrant>,
}

/// One verified server.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct VerifiedServer {
    /// `imap`, `pop3` or `smtp`.
    pub protocol: Protocol,
    /// Host name.
    pub host: String,
    /// Port.
    pub port: u16,
    /// TLS mode.
    pub security: Security,
}

impl VerifiedServer {
    fn of(report: &SideReport) -> Self {
        Self {
            protocol: report.protocol,
            host: report.host.clone(),
            port: report.port,
            security: report.security,
        }
    }
}

impl Wizard {
    /// The verified settings for the host app, after a successful check. The secret (the
    /// password, or the sign-in's tokens) only `with_credentials`: the host opted in.
    pub fn verified(&self, with_credentials: bool) -> Option<Verified> {
        let out = self.outcome.as_ref()?;
        if !out.ok {
            return None;
        }
        if self.signed_in() {
            // The sign-in checked the provider's servers with the address as login.
            return Some(Verified {
                email: self.email.trim().to_owned(),
                username: self.email.trim().to_owned(),
                provider: self.provider.as_ref().map(|p| p.id.clone()),
                incoming: VerifiedServer::of(out.incoming.as_ref()?),
                outgoing: VerifiedServer::of(out.outgoing.as_ref()?),
                auth: AuthKind::Oauth2,
                password: None,
                grant: with_credentials.then(|| self.grant.clone()).flatten(),
            });
        }
        let req = self.check_request();
        let inc = req.incoming?;
        let outg = req.outgoing?;
        Some(Verified {
            email: req.email,
            username: self.login(),
            provider: self.provider.as_ref().map(|p| p.id.clone()),
            incoming: VerifiedServer {
                protocol: inc.protocol.into(),
                host: inc.host,
                port: inc.port,
                security: inc.security,
            },
            outgoing: VerifiedServer {
                protocol: Protocol::Smtp,
                host: outg.host,
                port: outg.port,
                security: outg.security,
            },
            auth: AuthKind::Password,
            password: with_credentials.then(|| self.password.expose().to_owned()),
            grant: None,
        })
    }

    /// A plain-text report for IT: what was tried and what the servers answered. It never
    /// contains the password.
    pub fn report(&self) -> String {
        let mut r = String::new();
        r.push_str("mailsetup connection report\n");
        r.push_str(&format!("Address: {}\n", self.email.trim()));
        r.push_str(&format!("Login name: {}\n", self.login()));
        r.push_str(&format!(
            "Provider: {}\n",
            self.provider
                .as_ref()
                .map_or("unknown", |p| p.name.as_str())
        ));
        if self.signed_in() {
            r.push_str("Sign-in: OAuth 2.0 with the provider (tokens not included)\n");
        } else {
            r.push_str("Password: [not included]\n");
        }
        // A sign-in's servers are in its sides below, not in the form.
        let req = self.check_request();
        let form = !self.signed_in();
        if let Some(i) = req.incoming.as_ref().filter(|_| form) {
            let p: Protocol = i.protocol.into();
            r.push_str(&format!(
                "Incoming: {} {}:{} ({})\n",
                p.label(),
                i.host,
                i.port,
                i.security.as_str()
            ));
        }
        if let Some(o) = req.outgoing.as_ref().filter(|_| form) {
            r.push_str(&format!(
                "Outgoing: SMTP {}:{} ({})\n",
                o.host,
                o.port,
                o.security.as_str()
            ));
        }
        if let Some(out) = &self.outcome {
            r.push_str(&format!(
                "Result: {}\n",
                if out.ok { "OK" } else { "FAILED" }
            ));
            for (name, side) in [("Incoming", &out.incoming), ("Outgoing", &out.outgoing)] {
                if let Some(s) = side {
                    report_side(&mut r, name, s, self.password.expose());
                }
            }
        } else {
            r.push_str("Result: not checked\n");
        }
        r
    }
}

fn report_side(r: &mut String, name: &str, s: &SideReport, secret: &str) {
    r.push_str(&format!(
        "\n[{name}] {} {}:{} {} -> {}\n",
        s.protocol.label(),
        s.host,
        s.port,
        s.security.as_str(),
        if s.ok { "ok" } else { "failed" }
    ));
    for st in &s.steps {
        r.push_str(&format!(
            "  {} {} {} ms{}\n",
            if st.ok { "ok  " } else { "FAIL" },
            st.step.as_str(),
            st.ms,
            st.detail
                .as_deref()
                .map(|d| format!(": {}", redact(d, secret)))
                .unwrap_or_default()
        ));
    }
    if let Some(t) = &s.tls {
        r.push_str(&format!(
            "  TLS: {} {}; certificate for {}; issuer {}; expires {}\n",
            t.version,
            t.cipher,
            t.names.join(", "),
            t.issuer,
            t.not_after
        ));
    }
    if let Some(d) = &s.diagnosis {
        r.push_str(&format!(
            "  Diagnosis: {} -- {}\n",
            d.code.as_str(),
            d.message
        ));
        if let Some(reply) = &d.server_reply {
            r.push_str(&format!("  Server said: {}\n", redact(reply, secret)));
        }
    }
}

/// Removes the secret from a text, should a server ever echo it.
fn redact(text: &str, secret: &str) -> String {
    if secret.trim().len() < 3 {
        return text.to_owned();
    }
    text.replace(secret, "[redacted]")
        .replace(secret.trim(), "[redacted]")
}
