//! Unit tests of the wizard's state machine.

use super::*;
use mailsetup_shared::api::{
    Diagnosis, PrepStep, Server, SideReport, StepKind, StepReport, StepTopic, Text,
};
use mailsetup_shared::api::{DiagnosisCode, UsernameForm};

pub(super) fn gmail() -> Provider {
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

pub(super) fn side(ok: bool, code: Option<DiagnosisCode>) -> SideReport {
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
    // `"auth":"password"` names the method; no password field and no secret.
    let json = serde_json::to_string(&v).unwrap();
    assert!(json.contains(r#""auth":"password""#), "{json}");
    assert!(!json.contains(r#""password":"#), "{json}");
    assert!(!json.contains("abcdabcd"), "{json}");
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
        assert_eq!(Side::from_wire(s.as_str()), Some(s));
    }
    assert_eq!(Side::from_wire("sideways"), None);
}

fn ok_response() -> CheckResponse {
    CheckResponse {
        ok: true,
        incoming: Some(side(true, None)),
        outgoing: Some(side(true, None)),
    }
}

#[test]
fn the_stepper_keeps_its_length_and_marks_a_failed_result() {
    let mut w = Wizard::new();
    let names = |w: &Wizard| w.stepper().into_iter().map(|(s, _)| s).collect::<Vec<_>>();
    assert_eq!(names(&w), Step::ALL.to_vec());
    w.set_email("alice@example.test".into());
    assert_eq!(w.stepper().len(), 6);
    assert_eq!(w.stepper()[1], (Step::Prepare, Mark::Skipped));
    w.set_email("alice@gmail.com".into());
    w.set_provider(gmail());
    assert_eq!(
        names(&w),
        Step::ALL.to_vec(),
        "a provider does not change the length"
    );
    assert_eq!(w.stepper()[1], (Step::Prepare, Mark::Upcoming));
    assert_eq!(w.stepper()[0], (Step::Address, Mark::Current));
    w.step = Step::Result;
    w.outcome = Some(CheckResponse {
        ok: false,
        incoming: Some(side(false, Some(DiagnosisCode::AuthFailed))),
        outgoing: None,
    });
    assert_eq!(w.stepper()[5], (Step::Result, Mark::Failed));
    assert_eq!(w.stepper()[4], (Step::Test, Mark::Done));
    w.outcome = Some(ok_response());
    assert_eq!(w.stepper()[5], (Step::Result, Mark::Current));
}

#[test]
fn a_likely_typo_is_asked_about_once() {
    let mut w = Wizard::new();
    w.set_email("anna@gmial.com".into());
    assert!(!w.advance());
    assert_eq!(w.blocker, Some(Blocker::Typo("anna@gmail.com".into())));
    assert!(w.advance(), "the second Continue goes on as typed");
    assert_eq!(w.step, Step::Password);
    w.back();
    w.set_email("anna@yandex.ry".into());
    assert!(!w.advance(), "a new address is asked about again");
    assert_eq!(w.blocker, Some(Blocker::Typo("anna@yandex.ru".into())));
    w.set_email("anna@yandex.ru".into());
    assert_eq!(w.blocker, None, "taking the suggestion clears the question");
}

#[test]
fn a_refused_password_is_cleared_and_continue_checks_again_at_once() {
    let mut w = on_test_step();
    w.finish_check(CheckResponse {
        ok: false,
        incoming: Some(side(false, Some(DiagnosisCode::AuthFailed))),
        outgoing: None,
    });
    w.fix(DiagnosisCode::AuthFailed);
    assert_eq!(w.step, Step::Password);
    assert!(
        w.password.expose().is_empty(),
        "the refused password is cleared"
    );
    assert!(w.password_refused);
    assert!(!w.advance(), "an empty password still blocks");
    w.password = Password::new("newpassword1234");
    assert!(w.advance());
    assert_eq!(w.step, Step::Test, "no second servers screen");
    assert!(!w.password_refused);
    assert!(w.outcome.is_none());
}

#[test]
fn other_fixes_keep_the_password() {
    let mut w = on_test_step();
    w.fix(DiagnosisCode::CertUntrusted);
    assert_eq!(w.step, Step::Servers);
    assert_eq!(w.password.expose(), "abcdabcdabcdabcd");
    assert!(!w.password_refused);
}

#[test]
fn saved_state_has_no_password_and_a_check_comes_back_as_the_servers_step() {
    let mut w = Wizard::new();
    w.set_email("alice@gmail.com".into());
    w.set_provider(gmail());
    w.ticks = vec![true, false];
    w.password = Password::new("s3cretpass");
    w.step = Step::Test;
    let saved = w.saved();
    let json = serde_json::to_string(&saved).unwrap();
    assert!(!json.contains("s3cretpass"), "{json}");
    let value: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert!(value.get("password").is_none(), "{json}");
    assert_eq!(saved.step, "servers");
    let back: Saved = serde_json::from_str(&json).unwrap();
    let mut r = Wizard::new();
    assert!(r.restore(back));
    assert_eq!(r.step, Step::Servers);
    assert_eq!(r.email, "alice@gmail.com");
    assert_eq!(r.ticks, vec![true, false]);
    assert_eq!(r.provider.as_ref().map(|p| p.id.as_str()), Some("gmail"));
    assert!(r.password.expose().is_empty());
    // Continue from the servers without a password asks for it first.
    assert!(r.advance());
    assert_eq!(r.step, Step::Password);
    assert_eq!(r.blocker, Some(Blocker::NoPassword));
}

#[test]
fn a_saved_state_of_another_shape_is_ignored() {
    let mut w = Wizard::new();
    let mut s = w.saved();
    s.v = 99;
    assert!(!w.restore(s.clone()));
    s.v = 1;
    s.step = "nowhere".into();
    assert!(!w.restore(s));
    assert_eq!(w.step, Step::Address);
}

#[test]
fn history_never_reruns_a_check() {
    let mut w = on_test_step();
    assert_eq!(w.restore_step(Step::Test), Step::Servers);
    assert_eq!(
        w.restore_step(Step::Result),
        Step::Servers,
        "no outcome yet"
    );
    assert_eq!(
        w.restore_step(Step::Prepare),
        Step::Address,
        "no preparation for this address"
    );
    w.finish_check(ok_response());
    w.restore_step(Step::Servers);
    assert_eq!(w.restore_step(Step::Result), Step::Result);
}

#[test]
fn verified_is_sent_once_per_result() {
    let mut w = on_test_step();
    assert!(!w.take_verified_send(), "nothing verified yet");
    w.finish_check(ok_response());
    assert!(w.take_verified_send());
    assert!(!w.take_verified_send(), "Done twice sends once");
    w.start_check();
    w.finish_check(ok_response());
    assert!(
        w.take_verified_send(),
        "a new verified result is sent again"
    );
}
