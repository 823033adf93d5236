//! "Sign in with the provider" (OAuth 2.0) in the wizard, free of browser APIs: which
//! providers offer it, the choices the preparation screen shows, the start URL, which
//! messages from the sign-in window are accepted, and taking a sign-in's outcome in.
//!
//! The browser side (popup, same-tab redirect, listeners) is `crate::oauth`.
//!
//! Invariant: the grant (tokens) lives only in [`Wizard::grant`], never in [`super::Saved`],
//! and reaches the host app only through [`Wizard::verified`] when it opted in.

use mailsetup_shared::api::{API_PREFIX, Diagnosis, Lang};
use mailsetup_shared::oauth::{
    OAUTH_MESSAGE_TYPE, OAuthGrant, OAuthMessage, OAuthOutcome, OAuthProvider,
};
use serde::Serialize;

use super::{Step, Wizard};

/// How the last check logged in (`auth` of `mailsetup:verified`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AuthKind {
    /// A password or app password typed into the wizard.
    #[default]
    Password,
    /// A sign-in with the provider (OAuth 2.0).
    Oauth2,
}

/// Where a sign-in with the provider stands.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum SignIn {
    /// Not started (or taken in).
    #[default]
    Idle,
    /// The sign-in window is open.
    Waiting,
    /// The tab is on its way to the provider's sign-in page (same-tab redirect).
    Redirecting,
    /// The sign-in window was closed before a result came; a late result still counts.
    Closed,
    /// The browser refused to open the sign-in window.
    Blocked,
    /// The flow stopped before a check: denied consent, wrong account... (the proxy's
    /// diagnosis, in plain words).
    Failed(Diagnosis),
}

/// How the sign-in page is opened.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// A popup window (desktop).
    Popup,
    /// The same tab (phones, or popups blocked), coming back to the wizard afterwards.
    Redirect,
}

impl Mode {
    /// The `mode` query value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Popup => "popup",
            Self::Redirect => "redirect",
        }
    }
}

/// Below this viewport width the sign-in page opens in the same tab: phones show a popup as
/// a new tab anyway, and users lose their way between tabs.
pub const NARROW_VIEWPORT: f64 = 600.0;

/// The popup's size.
pub const POPUP_SIZE: (i32, i32) = (520, 680);

/// The mode to try first: a popup unless the viewport is narrow. In embed mode always a
/// popup: the provider's pages refuse to be shown in a frame.
pub fn first_mode(viewport_width: f64, embed: bool) -> Mode {
    if !embed && viewport_width < NARROW_VIEWPORT {
        Mode::Redirect
    } else {
        Mode::Popup
    }
}

/// What to do when `window.open` gave no window: the same tab, except inside a host page's
/// frame (there the user is told to allow popups and try again).
pub fn when_blocked(embed: bool) -> Option<Mode> {
    (!embed).then_some(Mode::Redirect)
}

/// `features` for `window.open`: the popup's size, centred over the wizard's window.
pub fn popup_features(screen_x: f64, screen_y: f64, outer_w: f64, outer_h: f64) -> String {
    let (w, h) = POPUP_SIZE;
    // Whole pixels: formatting a float would bring the float printer into the wasm.
    let left = (screen_x + (outer_w - f64::from(w)) / 2.0).max(0.0).round() as i32;
    let top = (screen_y + (outer_h - f64::from(h)) / 2.0).max(0.0).round() as i32;
    format!("popup=yes,width={w},height={h},left={left},top={top}")
}

/// `GET /api/v1/oauth/{provider}/start?...`. `encode` is the URL component encoder (the
/// browser's `encodeURIComponent`). `return_to` (the wizard's path and query) only in
/// redirect mode; `lang` makes the proxy's words (the callback page, the diagnoses) the
/// wizard's language.
pub fn start_url(
    provider: &str,
    email: &str,
    mode: Mode,
    return_to: Option<&str>,
    credentials: bool,
    lang: Lang,
    encode: impl Fn(&str) -> String,
) -> String {
    let mut url = format!(
        "{API_PREFIX}/oauth/{}/start?email={}&mode={}&locale={}",
        encode(provider),
        encode(email.trim()),
        mode.as_str(),
        lang.code()
    );
    if let (Mode::Redirect, Some(r)) = (mode, return_to) {
        url.push_str("&return_to=");
        url.push_str(&encode(r));
    }
    if credentials {
        url.push_str("&credentials=true");
    }
    url
}

/// Whether a `message` event may carry a sign-in's outcome: it comes from the proxy's own
/// origin (`own_origin`, the wizard's) and from the sign-in window this wizard opened
/// (`from_popup`). Anything else (another page's messages, the host's) is ignored before it
/// is decoded; [`parse_message`] then takes only an [`OAuthMessage`].
pub fn welcome_message(origin: &str, own_origin: &str, from_popup: bool) -> bool {
    origin == own_origin && from_popup
}

/// The outcome in an [`OAuthMessage`] (posted, or left in `sessionStorage` by a same-tab
/// sign-in), when `data` is one.
pub fn parse_message(data: &str) -> Option<OAuthOutcome> {
    let m = serde_json::from_str::<OAuthMessage>(data).ok()?;
    (m.kind == OAUTH_MESSAGE_TYPE).then_some(m.outcome)
}

/// What the preparation screen offers, in order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Choices {
    /// "Sign in with ..." first, when offered.
    pub sign_in: Option<OAuthProvider>,
    /// The provider's own checklist (app password...) after it.
    pub checklist: bool,
    /// Continue on the password path (hidden where only sign-in works and it is offered).
    pub password_path: bool,
    /// The honest "this provider does not accept passwords" warning.
    pub blocked_warning: bool,
}

impl Wizard {
    /// Takes the operator's configured providers (`GET /api/v1/oauth/providers`).
    pub fn set_oauth_providers(&mut self, providers: Vec<OAuthProvider>) {
        self.oauth_providers = providers;
    }

    /// The sign-in offered for the current address: its provider has an OAuth client
    /// configured by the operator, and the host app allows the provider.
    pub fn oauth_offer(&self) -> Option<&OAuthProvider> {
        let p = self.provider.as_ref()?;
        if !self.provider_allowed(&p.id) {
            return None;
        }
        self.oauth_providers.iter().find(|o| o.id == p.id)
    }

    /// The preparation screen's choices: sign-in first where offered, the checklist second
    /// where the provider has one; for a provider that accepts no passwords, a configured
    /// sign-in replaces the dead end.
    pub fn choices(&self) -> Choices {
        let sign_in = self.oauth_offer().cloned();
        let blocked = self.provider_blocked();
        let has_steps = self.provider.as_ref().is_some_and(|p| !p.steps.is_empty());
        Choices {
            checklist: has_steps,
            password_path: !(blocked && sign_in.is_some()),
            blocked_warning: blocked && sign_in.is_none(),
            sign_in,
        }
    }

    /// The user pressed "Sign in with ...": the flow is under way.
    pub fn start_sign_in(&mut self) {
        self.sign_in = SignIn::Waiting;
        self.blocker = None;
    }

    /// The tab goes to the provider's sign-in page and comes back with the result.
    pub fn start_redirect(&mut self) {
        self.sign_in = SignIn::Redirecting;
        self.blocker = None;
    }

    /// The sign-in window was closed without a result (a late result is still taken).
    pub fn sign_in_closed(&mut self) {
        if self.sign_in == SignIn::Waiting {
            self.sign_in = SignIn::Closed;
        }
    }

    /// The browser refused to open the sign-in window.
    pub fn sign_in_blocked(&mut self) {
        self.sign_in = SignIn::Blocked;
    }

    /// Takes a sign-in's outcome in. `expected`: this wizard started a flow that may still
    /// answer (a popup's message); a same-tab redirect's outcome comes to a fresh page, so
    /// it only has to be for the address and provider of the restored flow. Returns whether
    /// it was taken.
    pub fn take_sign_in(&mut self, outcome: OAuthOutcome, expected: bool) -> bool {
        let waiting = matches!(self.sign_in, SignIn::Waiting | SignIn::Closed);
        let same_address = outcome.email.trim().eq_ignore_ascii_case(self.email.trim());
        let same_provider = self
            .provider
            .as_ref()
            .is_some_and(|p| p.id == outcome.provider);
        if (expected && !waiting) || !same_address || !same_provider {
            return false;
        }
        self.blocker = None;
        if let Some(error) = outcome.error {
            self.sign_in = SignIn::Failed(error);
            self.grant = None;
            self.step = Step::Prepare;
            return true;
        }
        let Some(check) = outcome.check else {
            return false;
        };
        self.sign_in = SignIn::Idle;
        self.auth = AuthKind::Oauth2;
        self.grant = if check.ok { outcome.grant } else { None };
        self.live_incoming.clear();
        self.live_outgoing.clear();
        self.outcome = Some(check);
        self.verified_sent = false;
        self.step = Step::Result;
        true
    }

    /// The grant of the last successful sign-in (never saved; for the host app only when
    /// it opted in).
    pub fn grant(&self) -> Option<&OAuthGrant> {
        self.grant.as_ref()
    }

    /// Whether the shown result came from a sign-in with the provider.
    pub fn signed_in(&self) -> bool {
        self.auth == AuthKind::Oauth2 && self.outcome.is_some()
    }

    /// Whether this address's flow involves a sign-in (offered, under way or done), so
    /// the preparation screen, where it is chosen, belongs to the flow.
    pub fn sign_in_flow(&self) -> bool {
        self.oauth_offer().is_some() || self.signed_in() || self.sign_in != SignIn::Idle
    }
}
