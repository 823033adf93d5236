//! What a discovery answer does to the wizard: a known provider is applied as one; else the
//! best candidate fills the server forms ([`candidate_forms`]), unless the user already
//! edited them. Pure, so it is unit-tested natively.

use mailsetup_shared::api::{Candidate, DiscoverResponse, IncomingProtocol, Protocol};

use super::{ServerForm, Wizard};

/// The forms a discovery candidate fills: the incoming protocol and server, the outgoing
/// server, and how it was found (the candidate's source as the API names it).
pub fn candidate_forms(cand: &Candidate) -> ((IncomingProtocol, ServerForm), ServerForm, String) {
    let protocol = if cand.incoming.protocol == Protocol::Pop3 {
        IncomingProtocol::Pop3
    } else {
        IncomingProtocol::Imap
    };
    let form =
        |s: &mailsetup_shared::api::Server| ServerForm::new(s.host.clone(), s.port, s.security);
    (
        (protocol, form(&cand.incoming)),
        form(&cand.outgoing),
        cand.source.as_str().to_owned(),
    )
}

impl Wizard {
    /// Applies a discovery answer: its provider, else its best candidate.
    pub fn apply_discovery(&mut self, answer: DiscoverResponse) {
        if let Some(p) = answer.provider {
            self.set_provider(p);
            return;
        }
        if let Some(cand) = answer.candidates.first() {
            let (incoming, outgoing, how) = candidate_forms(cand);
            self.set_discovered(incoming, Some(outgoing), how);
        }
    }
}

#[cfg(test)]
mod tests {
    use mailsetup_shared::api::{CandidateSource, Confidence, Security, Server, UsernameForm};

    use super::*;
    use crate::wizard::Source;

    fn server(protocol: Protocol, host: &str, port: u16, security: Security) -> Server {
        Server {
            protocol,
            host: host.to_owned(),
            port,
            security,
            username: UsernameForm::Email,
        }
    }

    fn candidate(incoming: Protocol, source: CandidateSource) -> Candidate {
        Candidate {
            incoming: server(incoming, "in.example.org", 995, Security::Tls),
            outgoing: server(Protocol::Smtp, "out.example.org", 587, Security::Starttls),
            source,
            confidence: Confidence::High,
        }
    }

    #[test]
    fn a_candidate_fills_both_forms_and_names_its_source() {
        let ((protocol, incoming), outgoing, how) =
            candidate_forms(&candidate(Protocol::Pop3, CandidateSource::Autoconfig));
        assert_eq!(protocol, IncomingProtocol::Pop3);
        assert_eq!(
            (
                incoming.host.as_str(),
                incoming.port.as_str(),
                incoming.security
            ),
            ("in.example.org", "995", Security::Tls)
        );
        assert_eq!(
            (
                outgoing.host.as_str(),
                outgoing.port.as_str(),
                outgoing.security
            ),
            ("out.example.org", "587", Security::Starttls)
        );
        assert_eq!(how, "autoconfig");
        let ((protocol, _), _, how) =
            candidate_forms(&candidate(Protocol::Imap, CandidateSource::Srv));
        assert_eq!((protocol, how.as_str()), (IncomingProtocol::Imap, "srv"));
    }

    #[test]
    fn the_best_candidate_is_applied_unless_the_user_edited_the_servers() {
        let answer = |source| DiscoverResponse {
            domain: "example.org".to_owned(),
            provider: None,
            candidates: vec![
                candidate(Protocol::Imap, source),
                candidate(Protocol::Pop3, CandidateSource::Guess),
            ],
            trace: Vec::new(),
        };
        let mut w = Wizard::new();
        w.email = "a@example.org".to_owned();
        w.apply_discovery(answer(CandidateSource::Ispdb));
        assert_eq!(w.incoming_protocol, IncomingProtocol::Imap);
        assert_eq!(w.incoming.host, "in.example.org");
        assert_eq!(w.outgoing.port, "587");
        assert_eq!(w.source, Source::Discovered("ispdb".to_owned()));

        let mut edited = Wizard::new();
        edited.servers_edited = true;
        edited.apply_discovery(answer(CandidateSource::Ispdb));
        assert_eq!(edited.incoming.host, Wizard::new().incoming.host);

        let mut nothing = Wizard::new();
        nothing.apply_discovery(DiscoverResponse {
            candidates: Vec::new(),
            ..answer(CandidateSource::Mx)
        });
        assert_eq!(nothing.source, Wizard::new().source);
    }
}
