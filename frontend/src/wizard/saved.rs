//! The flow's non-secret state as kept in the browser's `sessionStorage`, so a reload (a
//! phone reloading the tab after the provider's app-password page) does not start over.
//!
//! Invariant: [`Saved`] has no field for the password or any token; it is rebuilt from
//! the wizard field by field, never by copying the whole struct.

use mailsetup_shared::api::{IncomingProtocol, Provider};
use serde::{Deserialize, Serialize};

use super::{ServerForm, Source, Step, Wizard};

/// The version of the saved shape; another version is ignored.
const VERSION: u32 = 1;

/// What survives a reload.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Saved {
    /// The shape's version.
    pub v: u32,
    /// The screen's stable name (`Step::as_str`).
    pub step: String,
    /// The address as typed.
    pub email: String,
    /// The recognised provider.
    pub provider: Option<Provider>,
    /// Where the servers came from.
    pub source: Source,
    /// The ticked preparation steps.
    pub ticks: Vec<bool>,
    /// IMAP or POP3.
    pub incoming_protocol: IncomingProtocol,
    /// The incoming server.
    pub incoming: ServerForm,
    /// The outgoing server.
    pub outgoing: ServerForm,
    /// The login name (empty: the address).
    pub username: String,
    /// The user changed a server field.
    pub servers_edited: bool,
}

impl Wizard {
    /// The state to keep across a reload. A running check or a result is kept as the
    /// servers step: the password is not kept, so a check can never resume by itself.
    pub fn saved(&self) -> Saved {
        let step = match self.step {
            Step::Test | Step::Result => Step::Servers,
            s => s,
        };
        Saved {
            v: VERSION,
            step: step.as_str().to_owned(),
            email: self.email.clone(),
            provider: self.provider.clone(),
            source: self.source.clone(),
            ticks: self.ticks.clone(),
            incoming_protocol: self.incoming_protocol,
            incoming: self.incoming.clone(),
            outgoing: self.outgoing.clone(),
            username: self.username.clone(),
            servers_edited: self.servers_edited,
        }
    }

    /// Takes back a saved state (from an earlier load of the same page). Returns whether
    /// it was used: another version or an unknown step is ignored.
    pub fn restore(&mut self, s: Saved) -> bool {
        let Some(step) = Step::from_name(&s.step) else {
            return false;
        };
        if s.v != VERSION {
            return false;
        }
        self.email = s.email;
        self.provider = s.provider;
        self.source = s.source;
        self.ticks = s.ticks;
        if let Some(p) = &self.provider {
            self.ticks.resize(p.steps.len(), false);
        }
        self.incoming_protocol = s.incoming_protocol;
        self.incoming = s.incoming;
        self.outgoing = s.outgoing;
        self.username = s.username;
        self.servers_edited = s.servers_edited;
        self.outcome = None;
        self.restore_step(step);
        true
    }
}
