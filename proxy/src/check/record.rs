//! The step recorder of one side ([`SideRun`]): each step is started, then ended as done
//! (with a detail in the request's language, or the server's own words) or as failed; the
//! recorder times it, takes the secret out of its detail, sends it to the live listener
//! and keeps it for the report, which [`SideRun::finish`] builds with the diagnosis.
//!
//! A protocol session's step is one call of [`SideRun::step`]: the session returns a typed
//! reply (its [`StepDetail`] is the step's detail) or a [`Fault`], which `diag`'s
//! [`Judge`](diag::Judge) turns into the failure.

use std::time::Instant;

use mailsetup_shared::api::{
    Lang, Provider, Side, SideReport, StepEvent, StepKind, StepReport, Text, TlsInfo,
};

use super::failure::{Failure, Fault, unclean_logout};
use super::request::Target;
use super::session::{Quoted, StepDetail};
use super::{Checker, Events, Limits, diag, elapsed_ms, redact};

/// The running record of one side.
pub(super) struct SideRun<'a> {
    pub(super) checker: &'a Checker,
    pub(super) target: &'a Target,
    pub(super) provider: Option<&'a Provider>,
    pub(super) steps: Vec<StepReport>,
    pub(super) current: Option<(StepKind, Instant)>,
    pub(super) tls: Option<TlsInfo>,
    pub(super) capabilities: Vec<String>,
    pub(super) events: Option<(Events, Side)>,
    /// Takes the secret out of every server text before it is recorded.
    pub(super) redactor: &'a redact::Redactor,
    /// The language step details are written in.
    pub(super) lang: Lang,
    /// What the failures are judged by.
    judge: diag::Judge<'a>,
}

impl<'a> SideRun<'a> {
    pub(super) fn new(
        checker: &'a Checker,
        target: &'a Target,
        provider: Option<&'a Provider>,
        redactor: &'a redact::Redactor,
        lang: Lang,
        token: bool,
    ) -> Self {
        Self {
            checker,
            target,
            provider,
            redactor,
            lang,
            judge: diag::Judge {
                protocol: target.protocol,
                provider,
                token,
            },
            steps: Vec::new(),
            current: None,
            tls: None,
            capabilities: Vec::new(),
            events: None,
        }
    }

    pub(super) fn limits(&self) -> Limits {
        self.checker.limits
    }

    /// Starts a step (ending an unfinished one as failed).
    pub(super) fn start(&mut self, step: StepKind) {
        self.close_current(false, None);
        self.current = Some((step, Instant::now()));
    }

    /// One step of a protocol session: starts `step`, awaits the session's `work`, and
    /// ends the step as done with the reply's detail, or as failed with the judged fault.
    pub(super) async fn step<T: StepDetail>(
        &mut self,
        step: StepKind,
        work: impl Future<Output = Result<T, Fault>>,
    ) -> Result<T, Failure> {
        self.start(step);
        match work.await {
            Ok(reply) => {
                self.done(reply.detail());
                Ok(reply)
            }
            Err(fault) => {
                let failure = self.judge.failure(step, fault);
                Err(self.fail(failure))
            }
        }
    }

    /// The logout step: the server's goodbye, or why the logout was not clean; after a
    /// successful check that is a remark, not a failure.
    pub(super) async fn logout(&mut self, work: impl Future<Output = Result<Quoted, Fault>>) {
        self.start(StepKind::Logout);
        match work.await {
            Ok(goodbye) => self.done(goodbye.detail()),
            Err(fault) => {
                let failure = self.judge.failure(StepKind::Logout, fault);
                self.done(unclean_logout(&failure));
            }
        }
    }

    /// Ends the current step as done, with `detail` in the request's language.
    pub(super) fn done(&mut self, detail: Text) {
        self.close_current(true, Some(detail));
    }

    /// Ends the current step as failed and hands the failure on.
    pub(super) fn fail(&mut self, failure: Failure) -> Failure {
        self.close_current(false, Some(failure.detail.clone()));
        failure
    }

    pub(super) fn close_current(&mut self, ok: bool, detail: Option<Text>) {
        if let Some((step, started)) = self.current.take() {
            let detail = detail.map(|d| d.get(self.lang).to_owned());
            self.push_step(StepReport {
                step,
                ok,
                ms: elapsed_ms(started),
                detail,
            });
        }
    }

    /// Records a finished step and tells the live listener, if any. The detail may quote
    /// the server, so the secret is taken out first.
    pub(super) fn push_step(&mut self, mut report: StepReport) {
        report.detail = report.detail.map(|d| self.redactor.text(&d));
        if let Some((tx, side)) = &self.events {
            let _ = tx.send(StepEvent {
                side: *side,
                step: report.clone(),
            });
        }
        self.steps.push(report);
    }

    pub(super) fn finish(mut self, result: Result<(), Failure>, lang: Lang) -> SideReport {
        let diagnosis = match result {
            Ok(()) => {
                self.close_current(true, None);
                None
            }
            Err(failure) => {
                if self.current.is_some() {
                    self.close_current(false, Some(failure.detail.clone()));
                }
                tracing::info!(code = failure.code.as_str(), "check side failed");
                let reply = failure.server_reply.map(|r| self.redactor.text(&r));
                let mut d = diag::explain(failure.code, lang, self.provider, reply);
                d.cert_names = failure.cert_names;
                Some(d)
            }
        };
        SideReport {
            ok: diagnosis.is_none(),
            protocol: self.target.protocol,
            host: self.target.display.clone(),
            port: self.target.port,
            security: self.target.security,
            steps: self.steps,
            diagnosis,
            tls: self.tls,
            capabilities: self
                .capabilities
                .iter()
                .map(|c| self.redactor.text(c))
                .collect(),
        }
    }
}
