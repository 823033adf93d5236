use super::*;

#[test]
fn accept_language_picks_preferred_known_language() {
    assert_eq!(
        Lang::from_accept_language("ru-RU,ru;q=0.9,en;q=0.8"),
        Lang::Ru
    );
    assert_eq!(
        Lang::from_accept_language("en-US,en;q=0.9,ru;q=0.8"),
        Lang::En
    );
    assert_eq!(Lang::from_accept_language("de-DE,ru;q=0.5"), Lang::Ru);
    assert_eq!(Lang::from_accept_language("de-DE"), Lang::En);
    assert_eq!(Lang::from_accept_language(""), Lang::En);
    assert_eq!(Lang::from_accept_language("en;q=0.2, ru;q=0.7"), Lang::Ru);
}

#[test]
fn diagnosis_codes_serialize_as_their_names() {
    for code in DiagnosisCode::ALL {
        let json = serde_json::to_string(&code).unwrap();
        assert_eq!(json, format!("\"{}\"", code.as_str()));
    }
}

#[test]
fn check_request_parses_the_documented_shape_and_rejects_unknown_fields() {
    let req: CheckRequest = serde_json::from_str(
        r#"{"email":"alice@example.com","password":"abcd efgh ijkl mnop",
            "incoming":{"protocol":"imap","host":"imap.example.com","port":993,"security":"tls"},
            "outgoing":{"host":"smtp.example.com","port":465,"security":"tls"}}"#,
    )
    .unwrap();
    assert_eq!(req.incoming.unwrap().protocol, IncomingProtocol::Imap);
    assert!(req.username.is_none());
    assert!(
        serde_json::from_str::<CheckRequest>(r#"{"email":"a@b.c","password":"x","bogus":1}"#)
            .is_err()
    );
}

/// `TraceEntry.method` and `Candidate.source` are contracts: exactly these names, and a
/// trace entry reads back as the typed method.
#[test]
fn discovery_methods_keep_their_wire_names() {
    assert_eq!(
        serde_json::to_string(&CandidateSource::ALL).unwrap(),
        r#"["builtin","mx","srv","autoconfig","ispdb","autodiscover","guess"]"#
    );
    assert_eq!(
        serde_json::to_string(&TraceMethod::ALL).unwrap(),
        r#"["builtin","mx","srv","autoconfig","ispdb","autodiscover","guess","cache"]"#
    );
    for source in CandidateSource::ALL {
        assert_eq!(TraceMethod::from(source).as_str(), source.as_str());
    }
    let json = r#"{"method":"cache","target":"example.com","ok":true,"ms":3,"detail":null}"#;
    let entry: TraceEntry = serde_json::from_str(json).unwrap();
    assert_eq!(entry.method, TraceMethod::Cache);
    assert_eq!(serde_json::to_string(&entry).unwrap(), json);
    assert!(serde_json::from_str::<TraceEntry>(&json.replace("cache", "Cache")).is_err());
}

#[test]
fn username_form_applies() {
    assert_eq!(UsernameForm::Email.apply("a@b.c"), "a@b.c");
    assert_eq!(UsernameForm::LocalPart.apply("a@b.c"), "a");
}

#[test]
fn wire_enums_derive_every_string_form_from_one_list() {
    for side in Side::ALL {
        let json = serde_json::to_string(&side).unwrap();
        assert_eq!(json, format!("\"{side}\""));
        assert_eq!(Side::from_wire(side.as_str()), Some(side));
    }
    assert_eq!(Side::ALL, [Side::Incoming, Side::Outgoing]);
    assert_eq!(StreamEvent::Step.as_str(), "step");
    assert_eq!(StreamEvent::Result.as_str(), "result");
    assert_eq!(
        StepKind::from_wire("capabilities"),
        Some(StepKind::Capabilities)
    );
    assert_eq!(StepKind::from_wire("Capabilities"), None);
    assert_eq!(ErrorCode::StoreUnavailable.as_str(), "store_unavailable");
    assert_eq!(UsernameForm::default(), UsernameForm::Email);
    assert_eq!(UsernameForm::LocalPart.as_str(), "local_part");
    assert_eq!(Lang::Ru.code(), "ru");
    assert_eq!(
        TraceMethod::from(CandidateSource::Autodiscover).as_str(),
        CandidateSource::Autodiscover.as_str()
    );
    assert_eq!(
        DiagnosisCode::OauthScopeMissing.as_str(),
        "oauth_scope_missing"
    );
    assert!(Confidence::High > Confidence::Low);
}

#[test]
fn a_step_event_names_its_side() {
    let ev = StepEvent {
        side: Side::Outgoing,
        step: StepReport {
            step: StepKind::Ehlo,
            ok: true,
            ms: 3,
            detail: None,
        },
    };
    let json = serde_json::to_string(&ev).unwrap();
    assert_eq!(
        json,
        r#"{"side":"outgoing","step":{"step":"ehlo","ok":true,"ms":3,"detail":null}}"#
    );
    assert_eq!(serde_json::from_str::<StepEvent>(&json).unwrap(), ev);
}

#[test]
fn a_check_logs_in_with_exactly_one_credential() {
    let parse = |json: &str| serde_json::from_str::<CheckRequest>(json).unwrap();
    let pw = parse(r#"{"email":"a@b.c","password":"pw"}"#);
    assert!(matches!(pw.credential(), Some(Credential::Password(p)) if p.expose() == "pw"));
    let pw = parse(r#"{"email":"a@b.c","auth":{"method":"password","password":"pw"}}"#);
    assert!(matches!(pw.credential(), Some(Credential::Password(p)) if p.expose() == "pw"));
    let tok = parse(r#"{"email":"a@b.c","auth":{"method":"oauth2","access_token":"ya29.x"}}"#);
    assert!(matches!(
        tok.credential(),
        Some(Credential::OAuth2 { token, sasl: None }) if token.expose() == "ya29.x"
    ));
    assert_eq!(tok.credential().unwrap().secret(), "ya29.x");
    let tok = parse(
        r#"{"email":"a@b.c","auth":{"method":"oauth2","access_token":"t","sasl":"oauthbearer"}}"#,
    );
    assert!(matches!(
        tok.credential(),
        Some(Credential::OAuth2 {
            sasl: Some(OAuthSasl::Oauthbearer),
            ..
        })
    ));
    // Neither, or both.
    assert_eq!(parse(r#"{"email":"a@b.c"}"#).credential(), None);
    let both =
        parse(r#"{"email":"a@b.c","password":"pw","auth":{"method":"oauth2","access_token":"t"}}"#);
    assert_eq!(both.credential(), None);
    assert!(
        serde_json::from_str::<CheckRequest>(
            r#"{"email":"a@b.c","auth":{"method":"oauth2","access_token":"t","sasl":"plain"}}"#
        )
        .is_err()
    );
    // Secrets never show in Debug.
    let dbg = format!("{both:?}");
    assert!(!dbg.contains("pw\"") && !dbg.contains("\"t\""), "{dbg}");
    assert!(dbg.contains("Token([redacted])"), "{dbg}");
    let sasl = parse(
        r#"{"email":"a@b.c","auth":{"method":"oauth2","access_token":"t","sasl":"xoauth2"}}"#,
    );
    assert_eq!(
        format!("{:?}", sasl.auth.unwrap()),
        "Oauth2 { access_token: Token([redacted]), sasl: Xoauth2 }"
    );
}

/// The wire names are the variants' names in snake_case, so the OpenAPI schemas (built
/// from `rename_all`) name the same values as serde.
#[test]
fn wire_names_are_the_snake_case_variant_names() {
    fn check<T: std::fmt::Debug + Copy>(all: &[T], name: impl Fn(T) -> &'static str) {
        for v in all {
            let debug = format!("{v:?}");
            let mut snake = String::new();
            for (i, c) in debug.chars().enumerate() {
                if c.is_ascii_uppercase() && i > 0 {
                    snake.push('_');
                }
                snake.push(c.to_ascii_lowercase());
            }
            assert_eq!(name(*v), snake);
        }
    }
    check(&Protocol::ALL, Protocol::as_str);
    check(&IncomingProtocol::ALL, IncomingProtocol::as_str);
    check(&Security::ALL, Security::as_str);
    check(&UsernameForm::ALL, UsernameForm::as_str);
    check(&Lang::ALL, Lang::as_str);
    check(&ErrorCode::ALL, ErrorCode::as_str);
    check(&Side::ALL, Side::as_str);
    check(&StepKind::ALL, StepKind::as_str);
    check(&DiagnosisCode::ALL, DiagnosisCode::as_str);
    check(&OAuthSasl::ALL, OAuthSasl::as_str);
    check(&StreamEvent::ALL, StreamEvent::as_str);
    check(&ProviderStatus::ALL, ProviderStatus::as_str);
    check(&StepTopic::ALL, StepTopic::as_str);
    check(&Charset::ALL, Charset::as_str);
    check(&Confidence::ALL, Confidence::as_str);
    check(&CandidateSource::ALL, CandidateSource::as_str);
    check(&TraceMethod::ALL, TraceMethod::as_str);
}
