//! The step recorder of one side ([`SideRun`]): each step is started, then ended as done
//! (with a detail in the request's language, or the server's own words) or as failed; the
//! recorder times it, takes the secret out of its detail, sends it to the live listener
//! and keeps it for the report, which [`SideRun::finish`] builds with the diagnosis.

use std::time::Instant;

use mailsetup_shared::api::{
    Lang, Provider, Side, SideReport, StepEvent, StepKind, StepReport, Text, TlsInfo,
};

use super::failure::{Failure, GREETING, unclean_logout};
use super::net::{Conn, clean_text};
use super::request::{Creds, Target};
use super::{Checker, Events, Limits, diag, elapsed_ms, redact, sasl};
use crate::i18n::verbatim;

/// The running record of one side.
pub(super) struct SideRun<'a> {
    pub(super) checker: &'a Checker,
    pub(super) target: &'a Target,
    pub(super) provider: Option<&'a Provider>,
    pub(super) steps: Vec<StepReport>,
    pub(super) current: Option<(StepKind, Instant)>,
    pub(super) tls: Option<TlsInfo>,
    pub(super) capabilities: Vec<String>,
    pub(super) tag: u32,
    pub(super) events: Option<(Events, Side)>,
    /// Takes the secret out of every server text before it is recorded.
    pub(super) redactor: &'a redact::Redactor,
    /// The language step details are written in.
    pub(super) lang: Lang,
}

impl<'a> SideRun<'a> {
    pub(super) fn new(
        checker: &'a Checker,
        target: &'a Target,
        provider: Option<&'a Provider>,
        redactor: &'a redact::Redactor,
        lang: Lang,
    ) -> Self {
        Self {
            checker,
            target,
            provider,
            redactor,
            lang,
            steps: Vec::new(),
            current: None,
            tls: None,
            capabilities: Vec::new(),
            tag: 0,
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

    /// Starts the greeting step and reads the server's first line (IMAP, POP3).
    pub(super) async fn read_greeting(&mut self, conn: &mut Conn) -> Result<String, Failure> {
        self.start(StepKind::Greeting);
        conn.read_line()
            .await
            .map_err(|e| self.fail(Failure::net(e, GREETING)))
    }

    /// Ends the current step as done, with `detail` in the request's language.
    pub(super) fn done(&mut self, detail: Text) {
        self.close_current(true, Some(detail));
    }

    /// Ends the current step as done, quoting the server (its words are not translated).
    pub(super) fn quote(&mut self, server_words: String) {
        self.done(verbatim(server_words));
    }

    /// Ends the logout step with the server's goodbye, or with why the logout was not
    /// clean: after a successful check that is a remark, not a failure.
    pub(super) fn logout(&mut self, goodbye: Result<String, Failure>) {
        match goodbye {
            Ok(words) => self.quote(clean_text(&words)),
            Err(f) => self.done(unclean_logout(&f)),
        }
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

    /// Classifies a server's refusal with the shared rules.
    pub(super) fn classify(&self, stage: diag::Stage, reply: &str) -> Failure {
        let code = diag::classify_reply(&diag::ReplyContext {
            protocol: self.target.protocol,
            stage,
            reply,
            provider: self.provider,
        });
        Failure::reply(code, reply)
    }

    /// Classifies a refused login: the server's words (with a token server's JSON error)
    /// by the shared rules, then what a refusal means for a token (see [`diag::login`]).
    pub(super) fn refused_login(
        &self,
        creds: &Creds<'_>,
        reply: &str,
        error: Option<&sasl::OAuthError>,
    ) -> Failure {
        let words = match error {
            Some(e) if !e.text.is_empty() => format!("{reply}\n{}", e.text),
            _ => reply.to_owned(),
        };
        let mut f = self.classify(diag::Stage::Auth, &words);
        f.code = diag::login(f.code, creds.token(), error);
        f
    }

    /// The next command tag (IMAP).
    pub(super) fn next_tag(&mut self) -> String {
        self.tag += 1;
        format!("a{}", self.tag)
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
