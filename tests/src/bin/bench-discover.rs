//! Discovery benchmark on the loopback fixtures (local DNS, local HTTPS/HTTP, Dovecot):
//! for each method's test domain, runs discovery `RUNS` times with the cache off and prints
//! p50 and max of the method's own step time (from the trace) and of the whole discovery.
//!
//! `cargo run --release -p mailsetup-tests --bin bench-discover [RUNS]` (root, like the
//! integration tests, because Dovecot drops privileges). With `BENCH_DUMP=alice@D` it
//! prints that one answer as JSON instead.

use std::time::{Duration, Instant};

use anyhow::Context as _;
use mailsetup_shared::api::Lang;
use mailsetup_tests::discovery::{Fixture, target};
use mailsetup_tests::mail::MailServers;

fn main() -> anyhow::Result<()> {
    let runs: usize = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(30);
    let mail =
        MailServers::start().context("Dovecot (run as root after `cargo xtask setup --tests`)")?;
    let fixture = Fixture::start(&mail)?;
    let settings = {
        let mut s = fixture.settings(Duration::from_secs(8));
        // The production grace period, so "overall" is what a user waits.
        s.grace = mailsetup_proxy::discover::DiscoverSettings::default().grace;
        s
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let discoverer = fixture.discoverer(settings.clone(), Fixture::open_policy())?;
    let cases = [
        ("builtin", "builtin", "builtin.disc.test"),
        ("mx", "mx", "mx.disc.test"),
        ("autoconfig https", "autoconfig", "auto.disc.test"),
        (
            "autoconfig .well-known+redirect",
            "autoconfig",
            "wk.disc.test",
        ),
        ("srv", "srv", "srv.disc.test"),
        ("ispdb", "ispdb", "ispdb.disc.test"),
        ("autoconfig http", "autoconfig", "http.disc.test"),
        ("guess", "guess", "guess.disc.test"),
        ("nothing found", "", "nothing.disc.test"),
    ];
    println!(
        "discovery on loopback fixtures, {runs} runs each, cache off, deadline {} ms, grace {} ms",
        settings.timeout.as_millis(),
        settings.grace.as_millis()
    );
    println!(
        "{:<34} {:>14} {:>14} {:>16} {:>16}",
        "case", "method p50 ms", "method max ms", "overall p50 ms", "overall max ms"
    );
    if let Ok(email) = std::env::var("BENCH_DUMP") {
        // Print one answer instead, e.g. BENCH_DUMP=alice@slow.disc.test.
        let r = rt.block_on(discoverer.discover_uncached(&target(&email), Lang::En));
        println!("{}", serde_json::to_string_pretty(&r)?);
        return Ok(());
    }
    rt.block_on(async {
        // Warm up (first TLS handshakes, resolver sockets).
        for (_, _, domain) in &cases {
            let _ = discoverer
                .discover_uncached(&target(&format!("alice@{domain}")), Lang::En)
                .await;
        }
        for (label, method, domain) in &cases {
            let mut step = Vec::new();
            let mut overall = Vec::new();
            let mut winner = String::new();
            for _ in 0..runs {
                let started = Instant::now();
                let r = discoverer
                    .discover_uncached(&target(&format!("alice@{domain}")), Lang::En)
                    .await;
                overall.push(started.elapsed().as_secs_f64() * 1000.0);
                // The method's time: its slowest successful step (its parallel lookups end
                // with that one).
                let ms = r
                    .trace
                    .iter()
                    .filter(|t| t.method.as_str() == *method && t.ok)
                    .map(|t| t.ms)
                    .max();
                if let Some(ms) = ms {
                    #[allow(clippy::cast_precision_loss)]
                    step.push(ms as f64);
                }
                winner = r
                    .candidates
                    .first()
                    .map(|c| format!("{:?}", c.source).to_lowercase())
                    .unwrap_or_else(|| "none".to_owned());
            }
            let (mp, mm) = stats(&mut step);
            let (op, om) = stats(&mut overall);
            println!(
                "{:<34} {:>14} {:>14} {:>16.1} {:>16.1}   winner: {winner}",
                label,
                mp.map_or("-".to_owned(), |v| format!("{v:.0}")),
                mm.map_or("-".to_owned(), |v| format!("{v:.0}")),
                op.unwrap_or(0.0),
                om.unwrap_or(0.0)
            );
        }
    });
    drop(fixture);
    mail.stop();
    Ok(())
}

/// p50 and max.
fn stats(v: &mut [f64]) -> (Option<f64>, Option<f64>) {
    if v.is_empty() {
        return (None, None);
    }
    v.sort_by(f64::total_cmp);
    (Some(v[v.len() / 2]), v.last().copied())
}
