//! Turns a mail server's refusal into a [`DiagnosisCode`] and explains a code in plain
//! words, naming the provider's own settings pages.
//!
//! The rules and texts are data: `shared/data/diagnoses.toml`, turned into JSON at build
//! time (`build_diagnoses.rs`) and read once here. Rules match families, not single
//! strings: IMAP response codes (RFC 5530, `[AUTHENTICATIONFAILED]`), POP3 response codes
//! (RFC 2449/3206, `[SYS/TEMP]`), SMTP enhanced status codes (RFC 3463, `5.7.8`, `5.7.*`),
//! SMTP reply codes (`421`, `4*`) and case-insensitive text patterns with `*` wildcards.
//! Rules are tried in file order, the first match wins; rules for a named provider come
//! before generic ones (a test checks the file keeps that order).
//!
//! Invariant: no I/O, no clock, no regex engine; everything here runs in the browser too.

use std::collections::HashMap;
use std::sync::LazyLock;

use serde::{Deserialize, Serialize};

use crate::api::{
    Diagnosis, DiagnosisCode, Lang, Link, Protocol, Provider, ProviderStatus, StepKind, StepTopic,
};

/// How much of a reply [`explain`] passes on to the user.
const REPLY_SHOW_LIMIT: usize = 500;

/// The step of a conversation a reply answered.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    /// The first words of the server after connecting.
    Greeting,
    /// The answer to STARTTLS / STLS.
    Starttls,
    /// The answer to LOGIN / AUTHENTICATE / USER+PASS / AUTH.
    Auth,
    /// IMAP SELECT INBOX, POP3 STAT.
    Mailbox,
    /// SMTP MAIL FROM.
    Sender,
    /// Anything else (capabilities, logout).
    Other,
}

impl From<StepKind> for Stage {
    fn from(step: StepKind) -> Self {
        match step {
            StepKind::Greeting => Self::Greeting,
            StepKind::Starttls => Self::Starttls,
            StepKind::Auth => Self::Auth,
            StepKind::Mailbox => Self::Mailbox,
            StepKind::Sender => Self::Sender,
            StepKind::Resolve
            | StepKind::Connect
            | StepKind::Tls
            | StepKind::Ehlo
            | StepKind::Capabilities
            | StepKind::Logout => Self::Other,
        }
    }
}

/// A server's refusal and what was going on when it came.
#[derive(Clone, Copy, Debug)]
pub struct ReplyContext<'a> {
    /// The protocol spoken.
    pub protocol: Protocol,
    /// The step the reply answered.
    pub stage: Stage,
    /// The server's reply, as received (several lines joined with `\n` are fine).
    pub reply: &'a str,
    /// The provider behind the server, when known.
    pub provider: Option<&'a Provider>,
}

/// Classifies a failure reply. Call it only for replies that ended a step unsuccessfully
/// (a `NO`/`BAD`/`BYE`, `-ERR`, 4xx/5xx, or a greeting that is not the expected one).
///
/// Never fails: a reply no rule knows is `auth_failed` at the auth stage and
/// `protocol_error` elsewhere.
pub fn classify_reply(ctx: &ReplyContext<'_>) -> DiagnosisCode {
    let reply = Reply::new(ctx.reply);
    let file = data();
    file.rule
        .iter()
        .find(|rule| rule.matches(file, ctx, &reply))
        .map_or_else(|| fallback(ctx.stage), |rule| rule.code)
}

/// The code for a reply no rule matches (the data file ends with catch-alls, so this only
/// runs if the data is missing).
fn fallback(stage: Stage) -> DiagnosisCode {
    match stage {
        Stage::Auth => DiagnosisCode::AuthFailed,
        _ => DiagnosisCode::ProtocolError,
    }
}

/// Explains `code` in `lang`: what is wrong, what to do, with the provider's own pages.
///
/// `server_reply` is passed on trimmed and shortened, control characters removed.
pub fn explain(
    code: DiagnosisCode,
    lang: Lang,
    provider: Option<&Provider>,
    server_reply: Option<String>,
) -> Diagnosis {
    let vars = Vars { lang, provider };
    let file = data();
    let texts = file.codes.get(&code);
    let over =
        texts.and_then(|t| provider.and_then(|p| file.ids(p).find_map(|id| t.provider.get(id))));
    let pick = |own: Option<&[LocalText]>, general: Option<&[LocalText]>| -> String {
        own.unwrap_or_default()
            .iter()
            .chain(general.unwrap_or_default())
            .find_map(|v| render(v.get(lang), &vars))
            .unwrap_or_else(|| code.as_str().replace('_', " "))
    };
    let message = pick(
        over.map(|o| o.message.as_slice()),
        texts.map(|t| t.message.as_slice()),
    );
    let advice = pick(
        over.map(|o| o.advice.as_slice()),
        texts.map(|t| t.advice.as_slice()),
    );
    let topics = over
        .and_then(|o| o.links.as_deref())
        .or(texts.map(|t| t.links.as_slice()))
        .unwrap_or_default();
    Diagnosis {
        code,
        message,
        advice,
        server_reply: server_reply.as_deref().and_then(clean_reply),
        links: provider.map(|p| links(p, topics, lang)).unwrap_or_default(),
        cert_names: Vec::new(),
    }
}

/// Classifies `ctx` and explains the result, quoting the reply: the usual one-call use.
pub fn diagnose(ctx: &ReplyContext<'_>, lang: Lang) -> Diagnosis {
    explain(
        classify_reply(ctx),
        lang,
        ctx.provider,
        Some(ctx.reply.to_owned()),
    )
}

/// Checks that the embedded rule data parses and is consistent: every code has English
/// and Russian texts that always render, placeholders are known, provider rules come
/// first. Tests call it; the proxy may call it at start-up.
pub fn check_data() -> Result<(), String> {
    let file = parse(RULES_JSON)?;
    file.validate()
}

/// The rule data, generated from `data/diagnoses.toml` by the build script.
const RULES_JSON: &str = include_str!(concat!(env!("OUT_DIR"), "/diagnoses.json"));

fn data() -> &'static RuleFile {
    static DATA: LazyLock<RuleFile> = LazyLock::new(|| parse(RULES_JSON).unwrap_or_default());
    &DATA
}

fn parse(json: &str) -> Result<RuleFile, String> {
    serde_json::from_str(json).map_err(|e| format!("diagnoses.toml: {e}"))
}

/// The whole data file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleFile {
    /// Classification rules, in order.
    #[serde(default)]
    rule: Vec<Rule>,
    /// Texts per code.
    #[serde(default)]
    codes: HashMap<DiagnosisCode, CodeTexts>,
    /// Provider id -> the id whose rules and texts it shares (`yandex360` -> `yandex`).
    #[serde(default)]
    family: HashMap<String, String>,
}

impl RuleFile {
    /// The provider's id and, if it has one, its family's.
    fn ids<'a>(&'a self, provider: &'a Provider) -> impl Iterator<Item = &'a str> {
        std::iter::once(provider.id.as_str())
            .chain(self.family.get(&provider.id).map(String::as_str))
    }
}

/// One classification rule: every condition present must hold; within a list, any
/// entry may match.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Rule {
    /// A short name, for people reading the file and for test messages.
    id: String,
    /// The verdict.
    code: DiagnosisCode,
    /// Provider ids the rule is for; empty for every provider and for none.
    #[serde(default)]
    provider: Vec<String>,
    /// Provider statuses the rule is for (the provider must be known).
    #[serde(default)]
    provider_status: Vec<ProviderStatus>,
    /// Protocols the rule is for; empty for all.
    #[serde(default)]
    protocol: Vec<Protocol>,
    /// Stages the rule is for; empty for all.
    #[serde(default)]
    stage: Vec<Stage>,
    /// Case-insensitive text patterns: `*` matches anything, a leading `^` anchors at
    /// the start, `\*` and `\^` are literal.
    #[serde(default)]
    text: Vec<String>,
    /// Text patterns that must all be absent.
    #[serde(default)]
    unless: Vec<String>,
    /// Bracketed response codes (IMAP `[ALERT]`, POP3 `[SYS/TEMP]`); `X*` matches a prefix.
    #[serde(default)]
    bracket: Vec<String>,
    /// SMTP enhanced status codes (`5.7.8`); `5.7.*` matches a family.
    #[serde(default)]
    status: Vec<String>,
    /// SMTP reply codes at the start of a line (`421`); `4*` matches a class.
    #[serde(default)]
    reply: Vec<String>,
}

impl Rule {
    fn matches(&self, file: &RuleFile, ctx: &ReplyContext<'_>, reply: &Reply) -> bool {
        let provider_ok = self.provider.is_empty()
            || ctx
                .provider
                .is_some_and(|p| file.ids(p).any(|id| self.provider.iter().any(|r| r == id)));
        let status_ok = self.provider_status.is_empty()
            || ctx
                .provider
                .is_some_and(|p| self.provider_status.contains(&p.status));
        provider_ok
            && status_ok
            && (self.protocol.is_empty() || self.protocol.contains(&ctx.protocol))
            && (self.stage.is_empty() || self.stage.contains(&ctx.stage))
            && (self.text.is_empty() || self.text.iter().any(|p| glob(p, &reply.lower)))
            && !self.unless.iter().any(|p| glob(p, &reply.lower))
            && (self.bracket.is_empty()
                || self
                    .bracket
                    .iter()
                    .any(|p| reply.brackets.iter().any(|b| prefix_match(p, b))))
            && (self.status.is_empty()
                || self
                    .status
                    .iter()
                    .any(|p| reply.statuses.iter().any(|s| prefix_match(p, s))))
            && (self.reply.is_empty()
                || self
                    .reply
                    .iter()
                    .any(|p| reply.codes.iter().any(|c| prefix_match(p, c))))
    }

    fn has_matcher(&self) -> bool {
        !(self.text.is_empty()
            && self.bracket.is_empty()
            && self.status.is_empty()
            && self.reply.is_empty())
    }
}

/// The texts of one code.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CodeTexts {
    /// What is wrong; the first variant whose placeholders all have values is used.
    message: Vec<LocalText>,
    /// What to do, chosen the same way.
    advice: Vec<LocalText>,
    /// Which of the provider's preparation steps to link, in order.
    #[serde(default)]
    links: Vec<StepTopic>,
    /// Texts for one provider, tried before the general ones.
    #[serde(default)]
    provider: HashMap<String, ProviderTexts>,
}

/// A provider's own texts for a code.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ProviderTexts {
    /// Tried before the code's general messages.
    #[serde(default)]
    message: Vec<LocalText>,
    /// Tried before the code's general advice.
    #[serde(default)]
    advice: Vec<LocalText>,
    /// Replaces the code's links for this provider.
    #[serde(default)]
    links: Option<Vec<StepTopic>>,
}

/// A text in English and Russian.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct LocalText {
    en: String,
    ru: String,
}

impl LocalText {
    fn get(&self, lang: Lang) -> &str {
        match lang {
            Lang::En => &self.en,
            Lang::Ru => &self.ru,
        }
    }
}

/// What placeholders are filled from.
struct Vars<'a> {
    lang: Lang,
    provider: Option<&'a Provider>,
}

/// Every placeholder a text may use.
const PLACEHOLDERS: [&str; 5] = [
    "provider",
    "app_password_url",
    "enable_access_url",
    "two_factor_url",
    "status_note",
];

impl Vars<'_> {
    fn get(&self, name: &str) -> Option<String> {
        let p = self.provider?;
        let step_url = |topic: StepTopic| {
            p.steps
                .iter()
                .filter(|s| s.topic == topic)
                .find_map(|s| s.url.clone())
        };
        match name {
            "provider" => Some(p.display_name(self.lang).to_owned()),
            "app_password_url" => step_url(StepTopic::AppPassword),
            "enable_access_url" => step_url(StepTopic::EnableAccess),
            "two_factor_url" => step_url(StepTopic::TwoFactor),
            "status_note" => p
                .status_note
                .as_ref()
                .map(|t| t.get(self.lang).trim().to_owned())
                .filter(|t| !t.is_empty()),
            _ => None,
        }
    }
}

/// Fills `{name}` placeholders; `None` when one has no value (or is unknown).
fn render(template: &str, vars: &Vars<'_>) -> Option<String> {
    let mut out = String::with_capacity(template.len() + 32);
    let mut rest = template;
    while let Some(start) = rest.find('{') {
        out.push_str(&rest[..start]);
        let after = &rest[start + 1..];
        let end = after.find('}')?;
        out.push_str(&vars.get(&after[..end])?);
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    let out = out.trim().to_owned();
    (!out.is_empty()).then_some(out)
}

/// The placeholder names `template` uses.
fn placeholders(template: &str) -> Vec<&str> {
    let mut names = Vec::new();
    let mut rest = template;
    while let Some(start) = rest.find('{') {
        let after = &rest[start + 1..];
        let Some(end) = after.find('}') else {
            names.push(after);
            break;
        };
        names.push(&after[..end]);
        rest = &after[end + 1..];
    }
    names
}

/// Links to the provider's steps on `topics`, in that order, each URL once.
fn links(provider: &Provider, topics: &[StepTopic], lang: Lang) -> Vec<Link> {
    let mut out: Vec<Link> = Vec::new();
    for topic in topics {
        for step in provider.steps.iter().filter(|s| s.topic == *topic) {
            if let Some(url) = &step.url
                && !out.iter().any(|l| l.url == *url)
            {
                out.push(Link {
                    title: step.title.get(lang).to_owned(),
                    url: url.clone(),
                });
            }
        }
    }
    out
}

/// The reply as shown to the user: printable, trimmed, at most [`REPLY_SHOW_LIMIT`] chars.
fn clean_reply(reply: &str) -> Option<String> {
    let mut out = String::new();
    for (i, c) in reply.trim().chars().enumerate() {
        if i == REPLY_SHOW_LIMIT {
            out.push('…');
            break;
        }
        out.push(match c {
            '\n' => '\n',
            c if c.is_control() => ' ',
            c => c,
        });
    }
    let out = out.trim().to_owned();
    (!out.is_empty()).then_some(out)
}

mod reply;
mod schema;
use reply::{Reply, glob, glob_pieces, prefix_match};

#[cfg(test)]
mod tests;
