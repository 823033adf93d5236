//! The wizard's server settings: from a provider or discovery, the login name, the check
//! request, and protocol or TLS changes that move the port along.

use mailsetup_shared::api::{
    CheckRequest, IncomingProtocol, IncomingTarget, OutgoingTarget, Protocol, Provider, Security,
    UsernameForm,
};

use super::{ServerForm, Source, Wizard, default_port};

impl Wizard {
    /// Applies a provider from the knowledge base (when it is for the current domain).
    pub fn set_provider(&mut self, provider: Provider) {
        let imap = provider.servers_for(Protocol::Imap).next().cloned();
        let pop = provider.servers_for(Protocol::Pop3).next().cloned();
        let smtp = provider.servers_for(Protocol::Smtp).next().cloned();
        if let Some(s) = imap.as_ref().or(pop.as_ref()) {
            self.incoming_protocol = if s.protocol == Protocol::Pop3 {
                IncomingProtocol::Pop3
            } else {
                IncomingProtocol::Imap
            };
            self.incoming = ServerForm::new(s.host.clone(), s.port, s.security);
            self.username = match s.username {
                UsernameForm::Email => String::new(),
                UsernameForm::LocalPart => UsernameForm::LocalPart.apply(self.email.trim()),
            };
        }
        if let Some(s) = smtp {
            self.outgoing = ServerForm::new(s.host, s.port, s.security);
        }
        self.ticks = vec![false; provider.steps.len()];
        self.source = Source::Provider;
        self.provider = Some(provider);
    }

    /// Applies a discovery candidate (when no provider is known).
    pub fn set_discovered(
        &mut self,
        incoming: (IncomingProtocol, ServerForm),
        outgoing: Option<ServerForm>,
        how: String,
    ) {
        if self.servers_edited || self.provider.is_some() {
            return;
        }
        self.incoming_protocol = incoming.0;
        self.incoming = incoming.1;
        if let Some(o) = outgoing {
            self.outgoing = o;
        }
        self.source = Source::Discovered(how);
    }

    /// The login name sent to the servers.
    pub fn login(&self) -> String {
        let u = self.username.trim();
        if u.is_empty() {
            self.email.trim().to_owned()
        } else {
            u.to_owned()
        }
    }

    fn port(form: &ServerForm) -> u16 {
        form.port.trim().parse().unwrap_or(0)
    }

    /// The request for `POST /api/v1/check`.
    pub fn check_request(&self) -> CheckRequest {
        let email = self.email.trim().to_owned();
        let login = self.login();
        CheckRequest {
            username: (login != email).then_some(login),
            email,
            password: Some(self.password.clone()),
            auth: None,
            incoming: Some(IncomingTarget {
                protocol: self.incoming_protocol,
                host: self.incoming.host.trim().to_owned(),
                port: Self::port(&self.incoming),
                security: self.incoming.security,
            }),
            outgoing: Some(OutgoingTarget {
                host: self.outgoing.host.trim().to_owned(),
                port: Self::port(&self.outgoing),
                security: self.outgoing.security,
            }),
        }
    }

    /// Changes the incoming protocol, moving the port along when it was the usual one.
    pub fn set_incoming_protocol(&mut self, p: IncomingProtocol) {
        let old = default_port(self.incoming_protocol.into(), self.incoming.security);
        if Self::port(&self.incoming) == old {
            self.incoming.port = default_port(p.into(), self.incoming.security).to_string();
        }
        if self.incoming_protocol != p && self.source != Source::Provider {
            let host = self.incoming.host.clone();
            let (from, to) = match p {
                IncomingProtocol::Pop3 => ("imap.", "pop."),
                IncomingProtocol::Imap => ("pop.", "imap."),
            };
            if let Some(rest) = host.strip_prefix(from) {
                self.incoming.host = format!("{to}{rest}");
            }
        }
        if self.source == Source::Provider {
            let proto: Protocol = p.into();
            if let Some(s) = self
                .provider
                .as_ref()
                .and_then(|pr| pr.servers_for(proto).next().cloned())
            {
                self.incoming = ServerForm::new(s.host, s.port, s.security);
            }
        }
        self.incoming_protocol = p;
    }

    /// Changes a side's TLS mode, moving the port along when it was the usual one.
    pub fn set_security(&mut self, outgoing: bool, security: Security) {
        let (proto, form) = if outgoing {
            (Protocol::Smtp, &mut self.outgoing)
        } else {
            (self.incoming_protocol.into(), &mut self.incoming)
        };
        if Self::port(form) == default_port(proto, form.security) {
            form.port = default_port(proto, security).to_string();
        }
        form.security = security;
    }
}
