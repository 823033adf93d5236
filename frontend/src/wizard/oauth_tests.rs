//! Unit tests of the sign-in with the provider: choices offered, message filtering, the
//! start URL, taking outcomes in, and what reaches the host app.

use mailsetup_shared::api::{CheckResponse, Diagnosis, DiagnosisCode, Lang, ProviderStatus};
use mailsetup_shared::oauth::{OAuthGrant, OAuthOutcome, OAuthProvider, OAuthSasl};
use mailsetup_shared::secret::{Password, Token};

use super::tests::{gmail, side};
use super::*;

fn google() -> OAuthProvider {
    OAuthProvider {
        id: "gmail".into(),
        name: "Google".into(),
        sasl: OAuthSasl::Xoauth2,
    }
}

/// A wizard for a Gmail address whose operator configured a Google client.
fn gmail_with_sign_in() -> Wizard {
    let mut w = Wizard::new();
    w.set_email("alice@gmail.com".into());
    w.set_provider(gmail());
    w.set_oauth_providers(vec![google()]);
    w
}

fn grant() -> OAuthGrant {
    OAuthGrant {
        provider: "gmail".into(),
        access_token: Token::new("ya29.access"),
        refresh_token: Some(Token::new("1//refresh")),
        expires_at: Some(1_800_000_000),
        scopes: vec!["https://mail.google.com/".into()],
    }
}

fn outcome(ok: bool) -> OAuthOutcome {
    OAuthOutcome {
        provider: "gmail".into(),
        email: "alice@gmail.com".into(),
        check: Some(CheckResponse {
            ok,
            incoming: Some(side(ok, (!ok).then_some(DiagnosisCode::ProtocolDisabled))),
            outgoing: Some(side(true, None)),
        }),
        error: None,
        grant: Some(grant()),
    }
}

fn denied() -> OAuthOutcome {
    OAuthOutcome {
        check: None,
        grant: None,
        error: Some(Diagnosis {
            code: DiagnosisCode::AuthFailed,
            message: "You did not allow access.".into(),
            advice: "Sign in again and allow access.".into(),
            server_reply: None,
            links: vec![],
            cert_names: vec![],
        }),
        ..outcome(false)
    }
}

fn message(o: &OAuthOutcome) -> String {
    serde_json::json!({ "type": "mailsetup:oauth", "outcome": o }).to_string()
}

#[test]
fn without_a_configured_client_nothing_changes() {
    let mut w = Wizard::new();
    w.set_email("alice@gmail.com".into());
    w.set_provider(gmail());
    assert_eq!(w.oauth_offer(), None);
    let ch = w.choices();
    assert_eq!(ch.sign_in, None);
    assert!(ch.checklist && ch.password_path && !ch.blocked_warning);
    // Another provider's client is no offer for this one.
    w.set_oauth_providers(vec![OAuthProvider {
        id: "outlook".into(),
        ..google()
    }]);
    assert_eq!(w.oauth_offer(), None);
}

#[test]
fn sign_in_is_offered_first_and_the_checklist_second() {
    let w = gmail_with_sign_in();
    let ch = w.choices();
    assert_eq!(ch.sign_in, Some(google()));
    assert!(
        ch.checklist,
        "the app-password steps stay as the second way"
    );
    assert!(ch.password_path);
    assert!(!ch.blocked_warning);
}

#[test]
fn a_provider_the_host_does_not_allow_offers_no_sign_in() {
    let mut w = gmail_with_sign_in();
    w.allowed_providers = vec!["yandex".into()];
    assert_eq!(w.oauth_offer(), None);
}

#[test]
fn for_an_oauth_only_provider_sign_in_replaces_the_dead_end() {
    let mut p = gmail();
    p.id = "outlook".into();
    p.status = ProviderStatus::OauthOnly;
    p.steps.clear();
    let mut w = Wizard::new();
    w.set_email("bob@outlook.com".into());
    w.set_provider(p);
    let before = w.choices();
    assert!(before.blocked_warning && before.password_path && before.sign_in.is_none());
    w.set_oauth_providers(vec![OAuthProvider {
        id: "outlook".into(),
        name: "Microsoft".into(),
        sasl: OAuthSasl::Xoauth2,
    }]);
    let after = w.choices();
    assert_eq!(after.sign_in.map(|o| o.name), Some("Microsoft".into()));
    assert!(!after.blocked_warning, "no dead end when sign-in works");
    assert!(!after.password_path, "no password path that cannot work");
    assert!(!after.checklist);
}

#[test]
fn a_provider_without_steps_gets_the_prepare_screen_for_its_sign_in() {
    let mut p = gmail();
    p.steps.clear();
    p.status = ProviderStatus::Works;
    let mut w = Wizard::new();
    w.set_email("alice@gmail.com".into());
    w.set_provider(p);
    assert!(!w.needs_prepare());
    w.set_oauth_providers(vec![google()]);
    assert!(w.needs_prepare());
    assert!(w.advance());
    assert_eq!(w.step, Step::Prepare);
}

#[test]
fn messages_are_taken_only_from_the_own_origin_and_the_own_popup() {
    // As the browser side takes them: the origin and window first, then the decoding.
    let accept_message = |origin: &str, own: &str, from_popup: bool, data: &str| {
        welcome_message(origin, own, from_popup)
            .then(|| parse_message(data))
            .flatten()
    };
    let own = "https://mail-setup.example.com";
    let good = message(&outcome(true));
    assert_eq!(
        accept_message(own, own, true, &good).map(|o| o.email),
        Some("alice@gmail.com".into())
    );
    assert_eq!(
        accept_message("https://evil.example", own, true, &good),
        None
    );
    assert_eq!(
        accept_message("https://mail-setup.example.com.evil.net", own, true, &good),
        None
    );
    assert_eq!(
        accept_message(own, own, false, &good),
        None,
        "not our popup"
    );
    let other_type = good.replace("mailsetup:oauth", "mailsetup:verified");
    assert_eq!(accept_message(own, own, true, &other_type), None);
    assert_eq!(accept_message(own, own, true, "\"hello\""), None);
    assert_eq!(accept_message(own, own, true, "null"), None);
    // What a same-tab redirect leaves in sessionStorage is the message itself.
    assert!(parse_message(&good).is_some());
    let bare = serde_json::to_string(&outcome(true)).unwrap_or_default();
    assert_eq!(
        parse_message(&bare),
        None,
        "an outcome without its envelope"
    );
}

#[test]
fn the_start_url_names_provider_address_mode_language_and_opt_in() {
    let enc = |s: &str| {
        s.replace('@', "%40")
            .replace('/', "%2F")
            .replace('?', "%3F")
    };
    assert_eq!(
        start_url(
            "gmail",
            " alice@gmail.com ",
            Mode::Popup,
            None,
            false,
            Lang::En,
            enc
        ),
        "/api/v1/oauth/gmail/start?email=alice%40gmail.com&mode=popup&locale=en"
    );
    assert_eq!(
        start_url(
            "gmail",
            "alice@gmail.com",
            Mode::Redirect,
            Some("/?embed=1"),
            true,
            Lang::Ru,
            enc
        ),
        "/api/v1/oauth/gmail/start?email=alice%40gmail.com&mode=redirect&locale=ru\
         &return_to=%2F%3Fembed=1&credentials=true"
    );
    // A popup never names a page to return to.
    assert!(
        !start_url(
            "gmail",
            "a@gmail.com",
            Mode::Popup,
            Some("/"),
            true,
            Lang::En,
            enc
        )
        .contains("return_to")
    );
}

#[test]
fn popups_on_desktops_same_tab_on_phones_and_when_blocked() {
    assert_eq!(first_mode(1280.0, false), Mode::Popup);
    assert_eq!(first_mode(390.0, false), Mode::Redirect);
    assert_eq!(
        first_mode(390.0, true),
        Mode::Popup,
        "a frame cannot show the provider"
    );
    assert_eq!(when_blocked(false), Some(Mode::Redirect));
    assert_eq!(when_blocked(true), None);
    assert_eq!(
        popup_features(100.0, 50.0, 1280.0, 900.0),
        "popup=yes,width=520,height=680,left=480,top=160"
    );
}

#[test]
fn a_popup_result_is_taken_only_while_waiting_and_for_this_address() {
    let mut w = gmail_with_sign_in();
    assert!(!w.take_sign_in(outcome(true), true), "nothing was started");
    w.start_sign_in();
    let mut other = outcome(true);
    other.email = "mallory@gmail.com".into();
    assert!(!w.take_sign_in(other, true));
    let mut other = outcome(true);
    other.provider = "yandex".into();
    assert!(!w.take_sign_in(other, true));
    assert_eq!(w.sign_in, SignIn::Waiting);
    assert!(w.take_sign_in(outcome(true), true));
    assert_eq!(w.step, Step::Result);
    assert_eq!(w.auth, AuthKind::Oauth2);
    assert!(w.signed_in());
    assert_eq!(w.sign_in, SignIn::Idle);
}

#[test]
fn a_late_result_after_the_window_closed_still_counts() {
    let mut w = gmail_with_sign_in();
    w.start_sign_in();
    w.sign_in_closed();
    assert_eq!(w.sign_in, SignIn::Closed);
    assert!(w.take_sign_in(outcome(true), true));
    assert_eq!(w.step, Step::Result);
}

#[test]
fn a_denied_sign_in_stays_on_the_sign_in_screen_with_its_diagnosis() {
    let mut w = gmail_with_sign_in();
    assert!(w.advance());
    w.start_sign_in();
    assert!(w.take_sign_in(denied(), true));
    assert_eq!(w.step, Step::Prepare);
    assert!(matches!(&w.sign_in, SignIn::Failed(d) if d.message == "You did not allow access."));
    assert!(w.grant().is_none());
    // Trying again starts a new wait.
    w.start_sign_in();
    assert_eq!(w.sign_in, SignIn::Waiting);
}

#[test]
fn a_redirect_result_needs_no_wait_but_the_same_address() {
    let mut w = gmail_with_sign_in();
    let mut other = outcome(true);
    other.email = "bob@gmail.com".into();
    assert!(!w.take_sign_in(other, false));
    assert!(w.take_sign_in(outcome(true), false));
    assert_eq!(w.step, Step::Result);
}

#[test]
fn verified_says_oauth2_and_carries_the_grant_only_when_opted_in() {
    let mut w = gmail_with_sign_in();
    w.start_sign_in();
    assert!(w.take_sign_in(outcome(true), true));
    let plain = w.verified(false).expect("verified");
    assert_eq!(plain.auth, AuthKind::Oauth2);
    assert_eq!(plain.grant, None);
    assert_eq!(plain.password, None);
    assert_eq!(plain.incoming.host, "127.0.0.1");
    let json = serde_json::to_string(&plain).unwrap_or_default();
    assert!(json.contains(r#""auth":"oauth2""#), "{json}");
    assert!(
        !json.contains("ya29") && !json.contains("refresh"),
        "{json}"
    );
    let full = w.verified(true).expect("verified");
    let json = serde_json::to_string(&full).unwrap_or_default();
    assert!(json.contains(r#""access_token":"ya29.access""#), "{json}");
    assert!(json.contains(r#""refresh_token":"1//refresh""#), "{json}");
    assert!(json.contains(r#""expires_at":1800000000"#), "{json}");
    assert!(json.contains(r#""provider":"gmail""#), "{json}");
    assert!(!json.contains("password"), "{json}");
    // The tokens are not in the IT report, nor in the state kept for a reload.
    assert!(!w.report().contains("ya29") && !w.report().contains("1//refresh"));
    let saved = serde_json::to_string(&w.saved()).unwrap_or_default();
    assert!(
        !saved.contains("ya29") && !saved.contains("refresh"),
        "{saved}"
    );
}

#[test]
fn a_password_check_says_password_and_forgets_an_earlier_grant() {
    let mut w = gmail_with_sign_in();
    w.start_sign_in();
    assert!(w.take_sign_in(outcome(true), true));
    w.password = Password::new("abcdabcdabcdabcd");
    w.start_check();
    w.finish_check(outcome(true).check.unwrap_or_else(|| unreachable!()));
    let v = w.verified(true).expect("verified");
    assert_eq!(v.auth, AuthKind::Password);
    assert_eq!(v.grant, None);
    assert_eq!(v.password.as_deref(), Some("abcdabcdabcdabcd"));
    assert!(w.grant().is_none());
}

#[test]
fn a_failed_sign_in_check_leads_back_to_signing_in_and_keeps_no_grant() {
    let mut w = gmail_with_sign_in();
    w.start_sign_in();
    assert!(w.take_sign_in(outcome(false), true));
    assert_eq!(w.step, Step::Result);
    assert!(w.grant().is_none(), "no tokens for a failed check");
    assert_eq!(w.verified(true), None);
    for code in [
        DiagnosisCode::ProtocolDisabled,
        DiagnosisCode::AuthFailed,
        DiagnosisCode::ServerTimeout,
        DiagnosisCode::DnsNotFound,
    ] {
        assert_eq!(w.fix_step(code), Step::Prepare, "{code:?}");
    }
    assert_eq!(w.back_target(), Step::Prepare);
    w.fix(DiagnosisCode::ProtocolDisabled);
    assert_eq!(w.step, Step::Prepare);
}

#[test]
fn a_new_address_forgets_the_sign_in_state() {
    let mut w = gmail_with_sign_in();
    w.start_sign_in();
    w.set_email("alice@yandex.ru".into());
    assert_eq!(w.sign_in, SignIn::Idle);
}
