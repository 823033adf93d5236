//! The wizard's state and step transitions as a plain struct, free of any browser API, so
//! the flow is unit-tested natively (`cargo test -p mailsetup-frontend`).
//!
//! Invariant: the password lives only in [`Password`]; [`Wizard::report`] and the
//! [`Verified`] settings without permission never contain it.

use mailsetup_shared::api::{
    CheckRequest, CheckResponse, DiagnosisCode, IncomingProtocol, IncomingTarget, OutgoingTarget,
    Protocol, Provider, ProviderStatus, Security, SideReport, StepKind, StepReport, UsernameForm,
};
use mailsetup_shared::secret::Password;
use serde::Serialize;

use crate::rules;

/// One screen of the wizard.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Step {
    /// The email address.
    Address,
    /// The provider's preparation checklist.
    Prepare,
    /// The (app) password.
    Password,
    /// Incoming and outgoing servers.
    Servers,
    /// The live check.
    Test,
    /// Success summary or diagnosis.
    Result,
}

impl Step {
    /// A stable name, used in `data-step` attributes and tests.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Address => "address",
            Self::Prepare => "prepare",
            Self::Password => "password",
            Self::Servers => "servers",
            Self::Test => "test",
            Self::Result => "result",
        }
    }
}

/// Where the server settings came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Source {
    /// Nothing known yet.
    None,
    /// The provider knowledge base.
    Provider,
    /// Server discovery (autoconfig, SRV, MX...), with the method and confidence.
    Discovered(String),
    /// `imap.<domain>` / `smtp.<domain>` guesses.
    Guessed,
}

/// One server as the form holds it (the port is text so any typing can be shown).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServerForm {
    /// Host name.
    pub host: String,
    /// Port, as typed.
    pub port: String,
    /// TLS mode.
    pub security: Security,
}

impl ServerForm {
    fn new(host: impl Into<String>, port: u16, security: Security) -> Self {
        Self {
            host: host.into(),
            port: port.to_string(),
            security,
        }
    }
}

/// The usual port for a protocol and TLS mode.
pub fn default_port(protocol: Protocol, security: Security) -> u16 {
    match (protocol, security) {
        (Protocol::Imap, Security::Tls) => 993,
        (Protocol::Imap, _) => 143,
        (Protocol::Pop3, Security::Tls) => 995,
        (Protocol::Pop3, _) => 110,
        (Protocol::Smtp, Security::Tls) => 465,
        (Protocol::Smtp, _) => 587,
    }
}

/// A field of the servers form, for per-field errors.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Field {
    /// Incoming host.
    IncomingHost,
    /// Incoming port.
    IncomingPort,
    /// Outgoing host.
    OutgoingHost,
    /// Outgoing port.
    OutgoingPort,
}

/// Why the wizard cannot go on from the current step.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Blocker {
    /// The address does not parse.
    Email,
    /// Not every preparation step is ticked.
    Unticked,
    /// No password yet.
    NoPassword,
    /// A server field is wrong.
    Server(Field),
    /// The host app does not allow this provider (or unknown domains).
    NotAllowed,
}

/// One side of a check.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Side {
    /// IMAP or POP3.
    Incoming,
    /// SMTP.
    Outgoing,
}

impl Side {
    /// The side named in a live step event (`incoming` / `outgoing`).
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "incoming" => Some(Self::Incoming),
            "outgoing" => Some(Self::Outgoing),
            _ => None,
        }
    }

    /// The stable name, as the proxy and `data-testid`s spell it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Incoming => "incoming",
            Self::Outgoing => "outgoing",
        }
    }
}

/// Where one side of a running check stands, from the steps seen so far.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LiveState {
    /// No step has finished yet.
    Waiting,
    /// Some steps finished, more to come.
    Running,
    /// The side signed out after every step passed.
    Passed,
    /// The side stopped at this failed step.
    Failed(StepKind),
}

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
    /// The password, only when the host app is allowed to receive it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
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

/// The whole wizard.
#[derive(Clone, Debug)]
pub struct Wizard {
    /// The screen shown.
    pub step: Step,
    /// The address as typed.
    pub email: String,
    /// The recognised provider.
    pub provider: Option<Provider>,
    /// Where the servers came from.
    pub source: Source,
    /// Preparation ticks, one per provider step.
    pub ticks: Vec<bool>,
    /// The (app) password.
    pub password: Password,
    /// IMAP or POP3.
    pub incoming_protocol: IncomingProtocol,
    /// The incoming server.
    pub incoming: ServerForm,
    /// The outgoing server.
    pub outgoing: ServerForm,
    /// The login name; empty means the address.
    pub username: String,
    /// The last check's answer.
    pub outcome: Option<CheckResponse>,
    /// The last error that blocked going on, shown under the step.
    pub blocker: Option<Blocker>,
    /// Provider ids the host allows (empty: all).
    pub allowed_providers: Vec<String>,
    /// The user changed a server field: discovery must not overwrite it.
    pub servers_edited: bool,
    /// Steps of the running check finished so far, incoming side.
    pub live_incoming: Vec<StepReport>,
    /// Steps of the running check finished so far, outgoing side.
    pub live_outgoing: Vec<StepReport>,
}

impl Default for Wizard {
    fn default() -> Self {
        Self::new()
    }
}

impl Wizard {
    /// A fresh wizard on the address step.
    pub fn new() -> Self {
        Self {
            step: Step::Address,
            email: String::new(),
            provider: None,
            source: Source::None,
            ticks: Vec::new(),
            password: Password::default(),
            incoming_protocol: IncomingProtocol::Imap,
            incoming: ServerForm::new("", 993, Security::Tls),
            outgoing: ServerForm::new("", 465, Security::Tls),
            username: String::new(),
            outcome: None,
            blocker: None,
            allowed_providers: Vec::new(),
            servers_edited: false,
            live_incoming: Vec::new(),
            live_outgoing: Vec::new(),
        }
    }

    /// The domain of the typed address, lowercased, when it has one.
    pub fn domain(&self) -> Option<String> {
        let (_, d) = self.email.trim().rsplit_once('@')?;
        let d = d.trim().trim_end_matches('.').to_lowercase();
        (d.contains('.') && !d.ends_with('.')).then_some(d)
    }

    /// Sets the address; a new domain forgets the provider and guesses servers.
    pub fn set_email(&mut self, email: String) {
        let before = self.domain();
        self.email = email;
        let after = self.domain();
        if before != after {
            self.provider = None;
            self.servers_edited = false;
            self.ticks.clear();
            match &after {
                Some(d) => self.guess_servers(d),
                None => self.source = Source::None,
            }
        }
        if matches!(self.blocker, Some(Blocker::Email | Blocker::NotAllowed)) {
            self.blocker = None;
        }
    }

    fn guess_servers(&mut self, domain: &str) {
        self.source = Source::Guessed;
        self.incoming_protocol = IncomingProtocol::Imap;
        self.incoming = ServerForm::new(format!("imap.{domain}"), 993, Security::Tls);
        self.outgoing = ServerForm::new(format!("smtp.{domain}"), 465, Security::Tls);
        self.username.clear();
    }

    /// Whether the host app allows this provider (an empty allow-list allows all).
    pub fn provider_allowed(&self, id: &str) -> bool {
        self.allowed_providers.is_empty() || self.allowed_providers.iter().any(|a| a == id)
    }

    /// Whether the host app allows the current address: its provider must be listed, and
    /// an unknown domain needs `other` in the list.
    pub fn address_allowed(&self) -> bool {
        match &self.provider {
            Some(p) => self.provider_allowed(&p.id),
            None => self.provider_allowed("other"),
        }
    }

    /// Applies a provider from the knowledge base (when it is for the current domain).
    pub fn set_provider(&mut self, provider: Provider) {
        let imap = provider.servers_for(Protocol::Imap).next().cloned();
        let pop = provider.servers_for(Protocol::Pop3).next().cloned();
        let smtp = provider.servers_for(Protocol::Smtp).next().cloned();
        if let Some(s) = imap.as_ref().or(pop.as_ref()) {
            self.incoming_protocol = if s.protocol == Protocol::Pop3 {
                IncomingProtocol::Pop3
            } else {
                IncomingProtocol::Imap
            };
            self.incoming = ServerForm::new(s.host.clone(), s.port, s.security);
            self.username = match s.username {
                UsernameForm::Email => String::new(),
                UsernameForm::LocalPart => UsernameForm::LocalPart.apply(self.email.trim()),
            };
        }
        if let Some(s) = smtp {
            self.outgoing = ServerForm::new(s.host, s.port, s.security);
        }
        self.ticks = vec![false; provider.steps.len()];
        self.source = Source::Provider;
        self.provider = Some(provider);
    }

    /// Applies a discovery candidate (when no provider is known).
    pub fn set_discovered(
        &mut self,
        incoming: (IncomingProtocol, ServerForm),
        outgoing: Option<ServerForm>,
        how: String,
    ) {
        if self.servers_edited || self.provider.is_some() {
            return;
        }
        self.incoming_protocol = incoming.0;
        self.incoming = incoming.1;
        if let Some(o) = outgoing {
            self.outgoing = o;
        }
        self.source = Source::Discovered(how);
    }

    /// Whether the provider needs a preparation screen.
    pub fn needs_prepare(&self) -> bool {
        self.provider.as_ref().is_some_and(|p| {
            !p.steps.is_empty()
                || matches!(p.status, ProviderStatus::OauthOnly | ProviderStatus::Broken)
        })
    }

    /// Whether the provider is known not to accept passwords from apps.
    pub fn provider_blocked(&self) -> bool {
        self.provider
            .as_ref()
            .is_some_and(|p| matches!(p.status, ProviderStatus::OauthOnly | ProviderStatus::Broken))
    }

    /// The screens in order, for the progress bar and back/next.
    pub fn steps(&self) -> Vec<Step> {
        let mut v = vec![Step::Address];
        if self.needs_prepare() {
            v.push(Step::Prepare);
        }
        v.extend([Step::Password, Step::Servers, Step::Test, Step::Result]);
        v
    }

    /// Whether the server form is folded under "Advanced" (known provider).
    pub fn servers_folded(&self) -> bool {
        self.source == Source::Provider
    }

    /// The error of one server field, if any.
    pub fn field_error(&self, field: Field) -> Option<rules::FieldError> {
        match field {
            Field::IncomingHost => rules::host_error(&self.incoming.host),
            Field::IncomingPort => rules::port_error(&self.incoming.port),
            Field::OutgoingHost => rules::host_error(&self.outgoing.host),
            Field::OutgoingPort => rules::port_error(&self.outgoing.port),
        }
    }

    /// Why the current step cannot be left forwards, if it cannot.
    pub fn blocker_here(&self) -> Option<Blocker> {
        match self.step {
            Step::Address => {
                if rules::email_error(&self.email).is_some() {
                    Some(Blocker::Email)
                } else if !self.address_allowed() {
                    Some(Blocker::NotAllowed)
                } else {
                    None
                }
            }
            Step::Prepare => (!self.provider_blocked() && self.ticks.iter().any(|t| !t))
                .then_some(Blocker::Unticked),
            Step::Password => self
                .password
                .expose()
                .trim()
                .is_empty()
                .then_some(Blocker::NoPassword),
            Step::Servers => [
                Field::IncomingHost,
                Field::IncomingPort,
                Field::OutgoingHost,
                Field::OutgoingPort,
            ]
            .into_iter()
            .find(|f| self.field_error(*f).is_some())
            .map(Blocker::Server),
            Step::Test | Step::Result => None,
        }
    }

    /// Goes to the next screen, or records why not. Returns whether it moved.
    pub fn advance(&mut self) -> bool {
        if let Some(b) = self.blocker_here() {
            self.blocker = Some(b);
            return false;
        }
        self.blocker = None;
        if self.step == Step::Test || self.step == Step::Result {
            return false;
        }
        let steps = self.steps();
        let i = steps.iter().position(|s| *s == self.step).unwrap_or(0);
        if let Some(s) = steps.get(i + 1) {
            if *s == Step::Test {
                self.outcome = None;
            }
            self.step = *s;
        }
        true
    }

    /// Goes one screen back, keeping everything typed. From the result or a cancelled
    /// test it goes back to the servers.
    pub fn back(&mut self) {
        self.blocker = None;
        self.step = match self.step {
            Step::Result | Step::Test => Step::Servers,
            s => {
                let steps = self.steps();
                let i = steps.iter().position(|x| *x == s).unwrap_or(0);
                steps[i.saturating_sub(1)]
            }
        };
    }

    /// Jumps to an earlier screen (the fix for a diagnosis); ignored for hidden screens.
    pub fn go_to(&mut self, step: Step) {
        if self.steps().contains(&step) {
            self.blocker = None;
            if step == Step::Test {
                self.outcome = None;
            }
            self.step = step;
        }
    }

    /// A new check starts: forget the steps of the previous one.
    pub fn start_check(&mut self) {
        self.live_incoming.clear();
        self.live_outgoing.clear();
        self.outcome = None;
    }

    /// A step of the running check finished (from the live stream). Ignored when the
    /// wizard has left the test screen (a late event of a cancelled check).
    pub fn record_step(&mut self, side: Side, step: StepReport) {
        if self.step != Step::Test {
            return;
        }
        match side {
            Side::Incoming => self.live_incoming.push(step),
            Side::Outgoing => self.live_outgoing.push(step),
        }
    }

    /// The steps of one side of the running check finished so far.
    pub fn live_steps(&self, side: Side) -> &[StepReport] {
        match side {
            Side::Incoming => &self.live_incoming,
            Side::Outgoing => &self.live_outgoing,
        }
    }

    /// Where one side of the running check stands: a failed step ends a side, and so
    /// does signing out.
    pub fn live_state(&self, side: Side) -> LiveState {
        match self.live_steps(side).last() {
            None => LiveState::Waiting,
            Some(s) if !s.ok => LiveState::Failed(s.step),
            Some(s) if s.step == StepKind::Logout => LiveState::Passed,
            Some(_) => LiveState::Running,
        }
    }

    /// The check finished: show the result.
    pub fn finish_check(&mut self, response: CheckResponse) {
        self.outcome = Some(response);
        self.step = Step::Result;
    }

    /// The user cancelled the running check.
    pub fn cancel_check(&mut self) {
        self.outcome = None;
        self.live_incoming.clear();
        self.live_outgoing.clear();
        self.step = Step::Servers;
    }

    /// Where a diagnosis is fixed.
    pub fn fix_step(&self, code: DiagnosisCode) -> Step {
        use DiagnosisCode as D;
        let prepare_or_password = if self.needs_prepare() {
            Step::Prepare
        } else {
            Step::Password
        };
        match code {
            D::AuthFailed => Step::Password,
            D::AppPasswordRequired
            | D::ProtocolDisabled
            | D::WebLoginRequired
            | D::AccountDisabled
            | D::OauthRequired => prepare_or_password,
            D::DnsNotFound
            | D::ConnectRefused
            | D::ConnectTimeout
            | D::TlsFailed
            | D::CertExpired
            | D::CertHostnameMismatch
            | D::CertUntrusted
            | D::StarttlsUnavailable
            | D::PlaintextRefused
            | D::WrongProtocol => Step::Servers,
            // The proxy's resolver failed: nothing the user typed is wrong; retry.
            D::DnsFailed
            | D::TooManyConnections
            | D::RateLimitedByServer
            | D::ServerTimeout
            | D::ProtocolError => Step::Test,
            D::SenderRejected => Step::Address,
        }
    }

    /// The login name sent to the servers.
    pub fn login(&self) -> String {
        let u = self.username.trim();
        if u.is_empty() {
            self.email.trim().to_owned()
        } else {
            u.to_owned()
        }
    }

    fn port(form: &ServerForm) -> u16 {
        form.port.trim().parse().unwrap_or(0)
    }

    /// The request for `POST /api/v1/check`.
    pub fn check_request(&self) -> CheckRequest {
        let email = self.email.trim().to_owned();
        let login = self.login();
        CheckRequest {
            username: (login != email).then_some(login),
            email,
            password: self.password.clone(),
            incoming: Some(IncomingTarget {
                protocol: self.incoming_protocol,
                host: self.incoming.host.trim().to_owned(),
                port: Self::port(&self.incoming),
                security: self.incoming.security,
            }),
            outgoing: Some(OutgoingTarget {
                host: self.outgoing.host.trim().to_owned(),
                port: Self::port(&self.outgoing),
                security: self.outgoing.security,
            }),
        }
    }

    /// Changes the incoming protocol, moving the port along when it was the usual one.
    pub fn set_incoming_protocol(&mut self, p: IncomingProtocol) {
        let old = default_port(self.incoming_protocol.into(), self.incoming.security);
        if Self::port(&self.incoming) == old {
            self.incoming.port = default_port(p.into(), self.incoming.security).to_string();
        }
        if self.incoming_protocol != p && self.source != Source::Provider {
            let host = self.incoming.host.clone();
            let (from, to) = match p {
                IncomingProtocol::Pop3 => ("imap.", "pop."),
                IncomingProtocol::Imap => ("pop.", "imap."),
            };
            if let Some(rest) = host.strip_prefix(from) {
                self.incoming.host = format!("{to}{rest}");
            }
        }
        if self.source == Source::Provider {
            let proto: Protocol = p.into();
            if let Some(s) = self
                .provider
                .as_ref()
                .and_then(|pr| pr.servers_for(proto).next().cloned())
            {
                self.incoming = ServerForm::new(s.host, s.port, s.security);
            }
        }
        self.incoming_protocol = p;
    }

    /// Changes a side's TLS mode, moving the port along when it was the usual one.
    pub fn set_security(&mut self, outgoing: bool, security: Security) {
        let (proto, form) = if outgoing {
            (Protocol::Smtp, &mut self.outgoing)
        } else {
            (self.incoming_protocol.into(), &mut self.incoming)
        };
        if Self::port(form) == default_port(proto, form.security) {
            form.port = default_port(proto, security).to_string();
        }
        form.security = security;
    }

    /// The verified settings for the host app, after a successful check.
    pub fn verified(&self, with_password: bool) -> Option<Verified> {
        let out = self.outcome.as_ref()?;
        if !out.ok {
            return None;
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
            password: with_password.then(|| self.password.expose().to_owned()),
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
        r.push_str("Password: [not included]\n");
        let req = self.check_request();
        if let Some(i) = &req.incoming {
            let p: Protocol = i.protocol.into();
            r.push_str(&format!(
                "Incoming: {} {}:{} ({})\n",
                p.label(),
                i.host,
                i.port,
                i.security.as_str()
            ));
        }
        if let Some(o) = &req.outgoing {
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
        let step = serde_json::to_string(&st.step).unwrap_or_default();
        r.push_str(&format!(
            "  {} {} {} ms{}\n",
            if st.ok { "ok  " } else { "FAIL" },
            step.trim_matches('"'),
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

#[cfg(test)]
mod tests {
    use super::*;
    use mailsetup_shared::api::{
        Diagnosis, PrepStep, Server, StepKind, StepReport, StepTopic, Text,
    };

    fn gmail() -> Provider {
        Provider {
            id: "gmail".into(),
            name: "Gmail".into(),
            domains: vec!["gmail.com".into()],
            mx: vec![],
            servers: vec![
                Server {
                    protocol: Protocol::Imap,
                    host: "imap.gmail.com".into(),
                    port: 993,
                    security: Security::Tls,
                    username: UsernameForm::Email,
                },
                Server {
                    protocol: Protocol::Pop3,
                    host: "pop.gmail.com".into(),
                    port: 995,
                    security: Security::Tls,
                    username: UsernameForm::Email,
                },
                Server {
                    protocol: Protocol::Smtp,
                    host: "smtp.gmail.com".into(),
                    port: 465,
                    security: Security::Tls,
                    username: UsernameForm::Email,
                },
            ],
            status: ProviderStatus::NeedsPreparation,
            status_note: None,
            steps: vec![
                PrepStep {
                    topic: StepTopic::TwoFactor,
                    title: Text::new("2FA", "2FA"),
                    body: Text::default(),
                    url: Some(
                        "https://myaccount.google.com/signinoptions/two-step-verification".into(),
                    ),
                },
                PrepStep {
                    topic: StepTopic::AppPassword,
                    title: Text::new("App password", "Пароль приложения"),
                    body: Text::default(),
                    url: Some("https://myaccount.google.com/apppasswords".into()),
                },
            ],
            app_password: None,
            resets: vec![],
            limits: vec![],
            sources: vec![],
            name_ru: None,
            ispdb_differs: None,
        }
    }

    fn side(ok: bool, code: Option<DiagnosisCode>) -> SideReport {
        SideReport {
            ok,
            protocol: Protocol::Imap,
            host: "127.0.0.1".into(),
            port: 993,
            security: Security::Tls,
            steps: vec![StepReport {
                step: StepKind::Auth,
                ok,
                ms: 12,
                detail: Some("NO [AUTHENTICATIONFAILED] s3cretpass rejected".into()),
            }],
            diagnosis: code.map(|code| Diagnosis {
                code,
                message: "Wrong password".into(),
                advice: "Type it again".into(),
                server_reply: Some("NO s3cretpass".into()),
                links: vec![],
                cert_names: vec![],
            }),
            tls: None,
            capabilities: vec![],
        }
    }

    #[test]
    fn unknown_domain_guesses_servers_and_skips_prepare() {
        let mut w = Wizard::new();
        w.set_email("bob@example.org".into());
        assert_eq!(w.incoming.host, "imap.example.org");
        assert_eq!(w.outgoing.host, "smtp.example.org");
        assert_eq!(w.source, Source::Guessed);
        assert!(!w.servers_folded());
        assert!(w.advance());
        assert_eq!(w.step, Step::Password);
        assert_eq!(
            w.steps(),
            vec![
                Step::Address,
                Step::Password,
                Step::Servers,
                Step::Test,
                Step::Result
            ]
        );
    }

    #[test]
    fn invalid_email_blocks_and_typing_clears_the_error() {
        let mut w = Wizard::new();
        w.set_email("bob@".into());
        assert!(!w.advance());
        assert_eq!(w.step, Step::Address);
        assert_eq!(w.blocker, Some(Blocker::Email));
        w.set_email("bob@example.org".into());
        assert_eq!(w.blocker, None);
    }

    #[test]
    fn known_provider_prepares_and_requires_ticks() {
        let mut w = Wizard::new();
        w.set_email("alice@gmail.com".into());
        w.set_provider(gmail());
        assert!(w.servers_folded());
        assert_eq!(w.incoming.host, "imap.gmail.com");
        assert!(w.advance());
        assert_eq!(w.step, Step::Prepare);
        assert!(!w.advance());
        assert_eq!(w.blocker, Some(Blocker::Unticked));
        w.ticks = vec![true, true];
        assert!(w.advance());
        assert_eq!(w.step, Step::Password);
        w.back();
        assert_eq!(w.step, Step::Prepare);
        assert_eq!(w.ticks, vec![true, true], "back keeps the ticks");
    }

    #[test]
    fn changing_the_domain_forgets_the_provider_but_same_domain_keeps_it() {
        let mut w = Wizard::new();
        w.set_email("alice@gmail.com".into());
        w.set_provider(gmail());
        w.set_email("alice2@gmail.com".into());
        assert!(w.provider.is_some());
        w.set_email("alice2@example.org".into());
        assert!(w.provider.is_none());
        assert_eq!(w.incoming.host, "imap.example.org");
    }

    #[test]
    fn full_flow_back_and_forward_keeps_input() {
        let mut w = Wizard::new();
        w.set_email("alice@example.test".into());
        assert!(w.advance());
        assert!(!w.advance(), "empty password blocks");
        assert_eq!(w.blocker, Some(Blocker::NoPassword));
        w.password = Password::new("abcdabcdabcdabcd");
        assert!(w.advance());
        assert_eq!(w.step, Step::Servers);
        w.incoming.host = "127.0.0.1".into();
        w.incoming.port = "notaport".into();
        assert!(!w.advance());
        assert_eq!(w.blocker, Some(Blocker::Server(Field::IncomingPort)));
        w.incoming.port = "10993".into();
        w.outgoing.host = "127.0.0.1".into();
        w.outgoing.port = "10465".into();
        w.back();
        w.back();
        assert_eq!(w.step, Step::Address);
        assert!(w.advance() && w.advance());
        assert_eq!(w.step, Step::Servers);
        assert_eq!(w.incoming.port, "10993");
        assert_eq!(w.password.expose(), "abcdabcdabcdabcd");
        assert!(w.advance());
        assert_eq!(w.step, Step::Test);
        let req = w.check_request();
        assert_eq!(req.incoming.as_ref().map(|i| i.port), Some(10993));
        assert_eq!(req.username, None);
        w.cancel_check();
        assert_eq!(w.step, Step::Servers);
        assert!(w.advance());
        w.finish_check(CheckResponse {
            ok: true,
            incoming: Some(side(true, None)),
            outgoing: Some(side(true, None)),
        });
        assert_eq!(w.step, Step::Result);
        let v = w.verified(false).expect("verified");
        assert_eq!(v.password, None);
        assert_eq!(v.incoming.port, 10993);
        assert!(!serde_json::to_string(&v).unwrap().contains("password"));
        assert_eq!(
            w.verified(true).unwrap().password.as_deref(),
            Some("abcdabcdabcdabcd")
        );
    }

    #[test]
    fn diagnoses_lead_back_to_the_right_step() {
        let mut w = Wizard::new();
        w.set_email("alice@example.test".into());
        assert_eq!(w.fix_step(DiagnosisCode::AuthFailed), Step::Password);
        assert_eq!(w.fix_step(DiagnosisCode::CertUntrusted), Step::Servers);
        assert_eq!(
            w.fix_step(DiagnosisCode::AppPasswordRequired),
            Step::Password
        );
        w.set_email("alice@gmail.com".into());
        w.set_provider(gmail());
        assert_eq!(
            w.fix_step(DiagnosisCode::AppPasswordRequired),
            Step::Prepare
        );
        w.step = Step::Result;
        w.go_to(Step::Password);
        assert_eq!(w.step, Step::Password);
    }

    #[test]
    fn failed_check_report_is_redacted_and_has_no_verified_settings() {
        let mut w = Wizard::new();
        w.set_email("alice@example.test".into());
        w.password = Password::new("s3cretpass");
        w.finish_check(CheckResponse {
            ok: false,
            incoming: Some(side(false, Some(DiagnosisCode::AuthFailed))),
            outgoing: None,
        });
        assert!(w.verified(true).is_none());
        let r = w.report();
        assert!(r.contains("auth_failed"), "{r}");
        assert!(r.contains("imap.example.test:993"), "{r}");
        assert!(!r.contains("s3cretpass"), "{r}");
    }

    #[test]
    fn ports_follow_protocol_and_security_unless_edited() {
        let mut w = Wizard::new();
        w.set_email("a@example.org".into());
        w.set_incoming_protocol(IncomingProtocol::Pop3);
        assert_eq!(w.incoming.port, "995");
        assert_eq!(w.incoming.host, "pop.example.org");
        w.set_security(true, Security::Starttls);
        assert_eq!(w.outgoing.port, "587");
        w.outgoing.port = "2525".into();
        w.set_security(true, Security::Tls);
        assert_eq!(w.outgoing.port, "2525");
    }

    #[test]
    fn allow_list_limits_providers() {
        let mut w = Wizard::new();
        w.allowed_providers = vec!["gmail".into()];
        w.set_email("a@example.org".into());
        assert!(!w.advance());
        assert_eq!(w.blocker, Some(Blocker::NotAllowed));
        w.set_email("a@gmail.com".into());
        w.set_provider(gmail());
        assert!(w.advance());
        w.allowed_providers.push("other".into());
        w.step = Step::Address;
        w.set_email("a@example.org".into());
        assert!(w.advance());
    }

    #[test]
    fn discovery_never_overwrites_edited_servers() {
        let mut w = Wizard::new();
        w.set_email("a@example.org".into());
        let found = || {
            (
                (
                    IncomingProtocol::Imap,
                    ServerForm::new("mail.example.org", 993, Security::Tls),
                ),
                Some(ServerForm::new("mail.example.org", 465, Security::Tls)),
                "srv".to_owned(),
            )
        };
        w.servers_edited = true;
        let (i, o, h) = found();
        w.set_discovered(i, o, h);
        assert_eq!(w.incoming.host, "imap.example.org");
        w.servers_edited = false;
        let (i, o, h) = found();
        w.set_discovered(i, o, h);
        assert_eq!(w.incoming.host, "mail.example.org");
        assert_eq!(w.source, Source::Discovered("srv".into()));
    }

    #[test]
    fn oauth_only_provider_shows_prepare_without_ticks_blocking() {
        let mut p = gmail();
        p.status = ProviderStatus::OauthOnly;
        p.steps.clear();
        let mut w = Wizard::new();
        w.set_email("a@gmail.com".into());
        w.set_provider(p);
        assert!(w.needs_prepare());
        assert!(w.advance());
        assert_eq!(w.step, Step::Prepare);
        assert!(w.advance());
        assert_eq!(w.step, Step::Password);
    }

    fn step(kind: StepKind, ok: bool) -> StepReport {
        StepReport {
            step: kind,
            ok,
            ms: 3,
            detail: None,
        }
    }

    fn on_test_step() -> Wizard {
        let mut w = Wizard::new();
        w.set_email("alice@example.test".into());
        w.password = Password::new("abcdabcdabcdabcd");
        assert!(w.advance() && w.advance() && w.advance());
        assert_eq!(w.step, Step::Test);
        w
    }

    #[test]
    fn live_steps_are_recorded_per_side_and_say_where_each_side_stands() {
        let mut w = on_test_step();
        w.start_check();
        assert_eq!(w.live_state(Side::Incoming), LiveState::Waiting);
        assert_eq!(w.live_state(Side::Outgoing), LiveState::Waiting);
        w.record_step(Side::Incoming, step(StepKind::Resolve, true));
        w.record_step(Side::Outgoing, step(StepKind::Resolve, true));
        w.record_step(Side::Incoming, step(StepKind::Connect, true));
        assert_eq!(w.live_steps(Side::Incoming).len(), 2);
        assert_eq!(w.live_steps(Side::Outgoing).len(), 1);
        assert_eq!(w.live_state(Side::Incoming), LiveState::Running);
        w.record_step(Side::Outgoing, step(StepKind::Auth, false));
        assert_eq!(
            w.live_state(Side::Outgoing),
            LiveState::Failed(StepKind::Auth)
        );
        w.record_step(Side::Incoming, step(StepKind::Auth, true));
        w.record_step(Side::Incoming, step(StepKind::Logout, true));
        assert_eq!(w.live_state(Side::Incoming), LiveState::Passed);
        // A later step after a failed one (a retried login) makes the side run again.
        w.record_step(Side::Outgoing, step(StepKind::Auth, true));
        assert_eq!(w.live_state(Side::Outgoing), LiveState::Running);
        assert_eq!(
            w.live_steps(Side::Incoming)
                .iter()
                .map(|s| s.step)
                .collect::<Vec<_>>(),
            [
                StepKind::Resolve,
                StepKind::Connect,
                StepKind::Auth,
                StepKind::Logout
            ]
        );
    }

    #[test]
    fn a_new_check_or_a_cancel_clears_the_live_steps() {
        let mut w = on_test_step();
        w.start_check();
        w.record_step(Side::Incoming, step(StepKind::Resolve, true));
        w.start_check();
        assert!(w.live_steps(Side::Incoming).is_empty());
        w.record_step(Side::Outgoing, step(StepKind::Resolve, true));
        w.cancel_check();
        assert!(w.live_steps(Side::Outgoing).is_empty());
        // A late event of the cancelled check is dropped: the wizard left the test screen.
        w.record_step(Side::Outgoing, step(StepKind::Connect, true));
        assert!(w.live_steps(Side::Outgoing).is_empty());
        assert_eq!(w.live_state(Side::Outgoing), LiveState::Waiting);
    }

    #[test]
    fn side_names_round_trip() {
        for s in [Side::Incoming, Side::Outgoing] {
            assert_eq!(Side::from_name(s.as_str()), Some(s));
        }
        assert_eq!(Side::from_name("sideways"), None);
    }
}
