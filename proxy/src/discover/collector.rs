//! The [`Collector`]: what the discovery methods found so far, shared by all of them so
//! partial results survive the deadline; the steps in progress (cut short ones are
//! reported as timed out); when the best answer can no longer be beaten.

use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use mailsetup_shared::api::{Candidate, Protocol, Provider, Server, Text};

use super::{Answer, METHODS, Method, Trace};

/// Why pending steps were cut short.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Cut {
    /// Every method finished; nothing is pending.
    None,
    /// The winner was known and the grace period ended.
    Settled,
    /// The deadline passed.
    Deadline,
}

/// What the methods found so far; shared by all of them, so partial results survive the
/// deadline.
#[derive(Debug)]
pub(super) struct Collector {
    inner: Mutex<Inner>,
    changed: tokio::sync::watch::Sender<()>,
}

#[derive(Debug, Default)]
struct Inner {
    entries: Vec<Trace>,
    pending: Vec<(u64, Method, String, Instant)>,
    next_id: u64,
    found: Vec<(Method, Candidate)>,
    provider: Option<(Method, Provider)>,
    finished: [bool; METHODS],
}

/// A step in progress, ended with [`Collector::end`]; a step never ended is reported as
/// cut short.
#[derive(Debug)]
#[must_use]
pub(super) struct Step(u64);

impl Collector {
    pub(super) fn new() -> Self {
        let (changed, _) = tokio::sync::watch::channel(());
        let inner = Inner::default();
        Self {
            inner: Mutex::new(inner),
            changed,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A receiver told of every change (a candidate, a finished method).
    pub(super) fn changes(&self) -> tokio::sync::watch::Receiver<()> {
        self.changed.subscribe()
    }

    pub(super) fn begin(&self, method: Method, target: impl Into<String>) -> Step {
        let mut g = self.lock();
        let id = g.next_id;
        g.next_id += 1;
        g.pending.push((id, method, target.into(), Instant::now()));
        Step(id)
    }

    pub(super) fn end(&self, step: Step, ok: bool, detail: Text) {
        let mut g = self.lock();
        if let Some(i) = g.pending.iter().position(|p| p.0 == step.0) {
            let (_, method, target, started) = g.pending.remove(i);
            g.entries.push(Trace {
                method: method.source().into(),
                target,
                ok,
                ms: ms(started.elapsed()),
                detail: Some(detail),
            });
        }
    }

    /// Ends every pending step of `method` (a method that stopped its own steps early).
    pub(super) fn abandon(&self, method: Method, detail: &Text) {
        let mut g = self.lock();
        let (stopped, kept): (Vec<_>, Vec<_>) = g.pending.drain(..).partition(|p| p.1 == method);
        g.pending = kept;
        for (_, method, target, started) in stopped {
            g.entries.push(Trace {
                method: method.source().into(),
                target,
                ok: false,
                ms: ms(started.elapsed()),
                detail: Some(detail.clone()),
            });
        }
    }

    /// Records a whole step at once (for instant ones).
    pub(super) fn record(&self, method: Method, target: impl Into<String>, ok: bool, detail: Text) {
        let step = self.begin(method, target);
        self.end(step, ok, detail);
    }

    pub(super) fn add(&self, method: Method, incoming: Server, outgoing: Server) {
        let candidate = Candidate {
            incoming,
            outgoing,
            source: method.source(),
            confidence: method.confidence(),
        };
        self.lock().found.push((method, candidate));
    }

    pub(super) fn set_provider(&self, method: Method, provider: Provider) {
        let mut g = self.lock();
        if g.provider.as_ref().is_none_or(|(m, _)| method < *m) {
            g.provider = Some((method, provider));
        }
    }

    pub(super) fn finish(&self, method: Method) {
        self.lock().finished[method as usize] = true;
        self.changed.send_replace(());
    }

    /// Whether the best answer so far can no longer be beaten.
    /// The winning method, once it can no longer be beaten.
    pub(super) fn settled_on(&self) -> Option<Method> {
        let g = self.lock();
        let best = g.found.iter().map(|(m, _)| *m).min()?;
        g.finished[..best as usize]
            .iter()
            .all(|f| *f)
            .then_some(best)
    }

    pub(super) fn into_answer(self, domain: String, cut: Cut, deadline: Duration) -> Answer {
        let mut inner = self
            .inner
            .into_inner()
            .unwrap_or_else(PoisonError::into_inner);
        for (_, method, target, started) in inner.pending.drain(..) {
            let detail = match cut {
                Cut::Deadline => Text::new(
                    format!(
                        "timed out: still running at the discovery deadline ({} ms)",
                        deadline.as_millis()
                    ),
                    format!(
                        "время вышло: ещё шло к сроку всего поиска ({} мс)",
                        deadline.as_millis()
                    ),
                ),
                Cut::Settled | Cut::None => Text::new(
                    "stopped: a better-ranked answer was already found",
                    "остановлено: уже найден ответ надёжнее",
                ),
            };
            inner.entries.push(Trace {
                method: method.source().into(),
                target,
                ok: false,
                ms: ms(started.elapsed()),
                detail: Some(detail),
            });
        }
        inner.found.sort_by_key(|(m, _)| *m);
        let mut candidates: Vec<Candidate> = Vec::new();
        for (_, c) in inner.found {
            if !candidates
                .iter()
                .any(|k| k.incoming == c.incoming && k.outgoing == c.outgoing)
            {
                candidates.push(c);
            }
        }
        Answer {
            domain,
            provider: inner.provider.map(|(_, p)| p),
            candidates,
            trace: inner.entries,
        }
    }
}

pub(super) fn ms(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// Adds a provider's servers as candidates: each incoming server with the first outgoing
/// one. Returns how many were added.
pub(super) fn add_provider(c: &Collector, method: Method, p: &Provider) -> usize {
    let incoming: Vec<Server> = p
        .servers
        .iter()
        .filter(|s| s.protocol != Protocol::Smtp)
        .cloned()
        .collect();
    let outgoing: Vec<Server> = p.servers_for(Protocol::Smtp).cloned().collect();
    pair(c, method, &incoming, &outgoing)
}

/// Adds each incoming server (in order) paired with the first outgoing one. IMAP servers
/// come before POP3 ones. Returns how many were added.
pub(super) fn pair(
    c: &Collector,
    method: Method,
    incoming: &[Server],
    outgoing: &[Server],
) -> usize {
    let Some(out) = outgoing.first() else {
        return 0;
    };
    let mut ordered: Vec<&Server> = incoming
        .iter()
        .filter(|s| s.protocol == Protocol::Imap)
        .collect();
    ordered.extend(incoming.iter().filter(|s| s.protocol == Protocol::Pop3));
    for s in &ordered {
        c.add(method, (*s).clone(), out.clone());
    }
    ordered.len()
}
