//! The wizard around a check: starting, live steps, the result, the fix a diagnosis leads
//! to, history moves that never re-run a check, and sending the verified result once.

use mailsetup_shared::api::{CheckResponse, DiagnosisCode, StepKind, StepReport};
use mailsetup_shared::secret::Password;

use super::{Step, Wizard};

/// One side of a check: the shared wire type, from the request to the stream.
pub use mailsetup_shared::api::Side;

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

impl Wizard {
    /// A new check starts: forget the steps of the previous one.
    pub fn start_check(&mut self) {
        self.live_incoming.clear();
        self.live_outgoing.clear();
        self.outcome = None;
        self.verified_sent = false;
        self.auth = super::AuthKind::Password;
        self.grant = None;
    }

    /// Follows a diagnosis's fix: goes to the step where it is fixed. A refused password
    /// is cleared (it is known to be wrong) and the next Continue checks again at once.
    pub fn fix(&mut self, code: DiagnosisCode) {
        let step = self.fix_step(code);
        self.go_to(step);
        if code == DiagnosisCode::AuthFailed && self.step == Step::Password {
            self.password = Password::default();
            self.password_refused = true;
        }
    }

    /// Shows the step a history entry (Back/Forward) names, as far as the flow allows:
    /// a check is never re-run by history (the test screen becomes the servers), a result
    /// needs an outcome, and a screen this address does not have becomes the one before.
    /// Returns the step shown.
    pub fn restore_step(&mut self, step: Step) -> Step {
        self.blocker = None;
        self.password_refused = false;
        self.live_incoming.clear();
        self.live_outgoing.clear();
        let step = match step {
            Step::Test => Step::Servers,
            Step::Result if self.outcome.is_none() => Step::Servers,
            Step::Prepare if !self.needs_prepare() => Step::Address,
            s => s,
        };
        self.step = step;
        step
    }

    /// Whether `mailsetup:verified` should be sent now: true once per verified result.
    pub fn take_verified_send(&mut self) -> bool {
        let ok = self.outcome.as_ref().is_some_and(|o| o.ok);
        if !ok || self.verified_sent {
            return false;
        }
        self.verified_sent = true;
        true
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
        self.verified_sent = false;
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
        if self.signed_in() {
            // The servers and the login came from the provider: every fix is signing in
            // again (after the provider's steps, such as turning IMAP on).
            return Step::Prepare;
        }
        match code {
            D::AuthFailed => Step::Password,
            D::AppPasswordRequired
            | D::ProtocolDisabled
            | D::WebLoginRequired
            | D::AccountDisabled
            | D::OauthRequired
            | D::OauthTokenRejected
            | D::OauthScopeMissing
            | D::OauthDenied
            | D::OauthAccountMismatch
            | D::OauthStateInvalid
            | D::OauthStateExpired
            | D::OauthExchangeFailed
            | D::OauthProviderError => prepare_or_password,
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
            | D::ProtocolError
            | D::StoreUnavailable => Step::Test,
            D::SenderRejected => Step::Address,
        }
    }
}
