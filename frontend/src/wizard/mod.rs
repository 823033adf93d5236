//! The wizard's state and step transitions as a plain struct, free of any browser API, so
//! the flow is unit-tested natively (`cargo test -p mailsetup-frontend`).
//!
//! Invariant: the password lives only in [`Password`]; [`Wizard::report`] and the
//! [`Verified`] settings without permission never contain it.

use mailsetup_shared::api::{
    CheckResponse, IncomingProtocol, Protocol, Provider, ProviderStatus, Security, StepReport,
};
use mailsetup_shared::oauth::{OAuthGrant, OAuthProvider};
use mailsetup_shared::secret::Password;
use serde::{Deserialize, Serialize};

use crate::rules;

mod check;
mod discovery;
mod oauth;
mod report;
mod saved;
mod servers;

pub use check::{LiveState, Side};
pub use discovery::candidate_forms;
pub use oauth::{
    AuthKind, Choices, Mode, NARROW_VIEWPORT, SignIn, first_mode, parse_message, popup_features,
    start_url, welcome_message, when_blocked,
};
pub use report::{Verified, VerifiedServer};
pub use saved::Saved;

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
    /// Every screen in order: the stepper always shows all of them, so its length never
    /// changes under the user.
    pub const ALL: [Step; 6] = [
        Self::Address,
        Self::Prepare,
        Self::Password,
        Self::Servers,
        Self::Test,
        Self::Result,
    ];

    /// The step with this stable name (history entries and saved state use it).
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == name)
    }

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
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
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
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
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
    /// The domain looks like a typo of a known one: asked once before going on.
    Typo(String),
}

/// How the stepper shows one screen.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mark {
    /// Passed.
    Done,
    /// The screen shown.
    Current,
    /// Still ahead.
    Upcoming,
    /// Not needed for this address (no preparation).
    Skipped,
    /// The check failed: the result screen says why.
    Failed,
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
    /// `mailsetup:verified` was sent for the current result (it is sent once per result).
    pub verified_sent: bool,
    /// The server refused the password: the password step says so, and continuing from it
    /// runs the check again at once.
    pub password_refused: bool,
    /// The address for which the "did you mean" question was asked (asked once).
    pub typo_asked: Option<String>,
    /// Providers the operator configured a sign-in (OAuth) client for.
    pub oauth_providers: Vec<OAuthProvider>,
    /// Where a sign-in with the provider stands.
    pub sign_in: SignIn,
    /// How the last check logged in.
    pub auth: AuthKind,
    /// The tokens of the last successful sign-in (never saved).
    grant: Option<OAuthGrant>,
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
            verified_sent: false,
            password_refused: false,
            typo_asked: None,
            oauth_providers: Vec::new(),
            sign_in: SignIn::Idle,
            auth: AuthKind::Password,
            grant: None,
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
            self.sign_in = SignIn::Idle;
            self.servers_edited = false;
            self.ticks.clear();
            match &after {
                Some(d) => self.guess_servers(d),
                None => self.source = Source::None,
            }
        }
        if matches!(
            self.blocker,
            Some(Blocker::Email | Blocker::NotAllowed | Blocker::Typo(_))
        ) {
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

    /// Whether the provider needs a preparation screen (its checklist, an honest warning,
    /// or the sign-in with the provider).
    pub fn needs_prepare(&self) -> bool {
        self.provider.as_ref().is_some_and(|p| {
            !p.steps.is_empty()
                || matches!(p.status, ProviderStatus::OauthOnly | ProviderStatus::Broken)
        }) || self.sign_in_flow()
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

    /// The fixed stepper: every screen with how it is shown. Its length never changes; a
    /// preparation step that is not needed is marked skipped, a failed check failed.
    pub fn stepper(&self) -> Vec<(Step, Mark)> {
        let current = Step::ALL.iter().position(|s| *s == self.step).unwrap_or(0);
        let failed = self.outcome.as_ref().is_some_and(|o| !o.ok);
        Step::ALL
            .iter()
            .enumerate()
            .map(|(i, s)| {
                let mark = if *s == Step::Prepare && !self.needs_prepare() && i != current {
                    Mark::Skipped
                } else if i == current {
                    if *s == Step::Result && failed {
                        Mark::Failed
                    } else {
                        Mark::Current
                    }
                } else if i < current {
                    Mark::Done
                } else {
                    Mark::Upcoming
                };
                (*s, mark)
            })
            .collect()
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
                } else if self.typo_asked.as_deref() != Some(self.email.trim()) {
                    rules::suggestion(&self.email).map(Blocker::Typo)
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
            if let Blocker::Typo(_) = b {
                // Asked once: the next Continue goes on with the address as typed.
                self.typo_asked = Some(self.email.trim().to_owned());
            }
            self.blocker = Some(b);
            return false;
        }
        self.blocker = None;
        if self.step == Step::Test || self.step == Step::Result {
            return false;
        }
        if self.step == Step::Password && self.password_refused {
            // A new password after a refused login: check again at once.
            self.password_refused = false;
            self.start_check();
            self.step = Step::Test;
            return true;
        }
        if self.step == Step::Servers && self.password.expose().trim().is_empty() {
            // The password is never kept (a reload forgets it): ask for it first.
            self.step = Step::Password;
            self.blocker = Some(Blocker::NoPassword);
            return true;
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
        self.password_refused = false;
        self.step = self.back_target();
    }

    /// The screen [`Wizard::back`] leads to.
    pub fn back_target(&self) -> Step {
        match self.step {
            // A sign-in's result came from the provider's servers, not the form.
            Step::Result if self.signed_in() => Step::Prepare,
            Step::Result | Step::Test => Step::Servers,
            s => {
                let steps = self.steps();
                let i = steps.iter().position(|x| *x == s).unwrap_or(0);
                steps[i.saturating_sub(1)]
            }
        }
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
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod oauth_tests;
