//! The knowledge base against a snapshot of Thunderbird's ISP database (ISPDB, MPL-2.0,
//! kept in tests/data/ispdb/snapshot.json with its source commit): every consumer domain
//! ISPDB maps to a provider we have is in shared/data/providers.toml, and for every such
//! domain our first IMAP (or, where ISPDB lists no IMAP, POP3) server and our first SMTP
//! server are among ISPDB's, unless the provider names a newer source that says otherwise
//! (`ispdb_differs`). No network: the snapshot is data.

use mailsetup_shared::api::{Protocol, Provider};
use serde_json::Value;

const SNAPSHOT: &str = include_str!("../../data/ispdb/snapshot.json");

fn hosts(entry: &Value, key: &str) -> Vec<String> {
    entry[key]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h.as_str().unwrap().to_owned())
        .collect()
}

fn first(p: &Provider, protocol: Protocol) -> Option<&str> {
    p.servers_for(protocol).next().map(|s| s.host.as_str())
}

/// Why `p`'s first servers disagree with one ISPDB entry, or `None` when they agree.
fn disagreement(p: &Provider, entry: &Value) -> Option<String> {
    let (imap, pop3, smtp) = (
        hosts(entry, "imap"),
        hosts(entry, "pop3"),
        hosts(entry, "smtp"),
    );
    let mut why = Vec::new();
    let (incoming, listed) = if imap.is_empty() {
        (first(p, Protocol::Pop3), &pop3)
    } else {
        (first(p, Protocol::Imap), &imap)
    };
    if !listed.is_empty() && !incoming.is_some_and(|h| listed.iter().any(|l| l == h)) {
        why.push(format!("incoming {incoming:?} not in {listed:?}"));
    }
    let ours = first(p, Protocol::Smtp);
    if !smtp.is_empty() && !ours.is_some_and(|h| smtp.iter().any(|l| l == h)) {
        why.push(format!("smtp {ours:?} not in {smtp:?}"));
    }
    (!why.is_empty()).then(|| why.join("; "))
}

#[test]
fn the_snapshot_names_its_source_and_licence() {
    let snap: Value = serde_json::from_str(SNAPSHOT).unwrap();
    assert!(snap["licence"].as_str().unwrap().starts_with("MPL-2.0"));
    assert!(
        snap["source"]
            .as_str()
            .unwrap()
            .starts_with("https://github.com/thunderbird/autoconfig/")
    );
    assert_eq!(snap["commit"].as_str().unwrap().len(), 40);
    assert!(snap["entries"].as_array().unwrap().len() >= 30);
}

#[test]
fn the_knowledge_base_covers_and_agrees_with_ispdb() {
    let snap: Value = serde_json::from_str(SNAPSHOT).unwrap();
    let excluded = snap["excluded"].as_object().unwrap();
    let registry = mailsetup_shared::providers::builtin();
    let (mut overlapping, mut agreeing, mut explained) = (0, 0, Vec::new());
    let mut problems = Vec::new();
    for entry in snap["entries"].as_array().unwrap() {
        let file = entry["file"].as_str().unwrap();
        for domain in entry["domains"].as_array().unwrap() {
            let domain = domain.as_str().unwrap();
            if excluded.contains_key(domain) {
                continue;
            }
            let Some(p) = registry.by_domain(domain) else {
                problems.push(format!("{domain} ({file}): not in the knowledge base"));
                continue;
            };
            overlapping += 1;
            match (disagreement(p, entry), &p.ispdb_differs) {
                (None, _) => agreeing += 1,
                (Some(why), Some(differs)) => {
                    assert!(differs.source.starts_with("https://"), "{}", p.id);
                    explained.push(format!("{domain} ({}): {why}", p.id));
                }
                (Some(why), None) => problems.push(format!(
                    "{domain} ({file}) -> {}: {why}; fix the data or add ispdb_differs",
                    p.id
                )),
            }
        }
    }
    // The figure the issue asks for, printed with `--nocapture`.
    println!(
        "ISPDB agreement: {agreeing} / {overlapping} overlapping domains agree; {} differ \
         with a newer source: {explained:?}",
        explained.len()
    );
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    assert!(overlapping >= 400, "{overlapping}");
    assert_eq!(agreeing + explained.len(), overlapping);
}

#[test]
fn ispdb_differs_is_used_only_where_the_data_really_differs() {
    let snap: Value = serde_json::from_str(SNAPSHOT).unwrap();
    let registry = mailsetup_shared::providers::builtin();
    for p in registry.all().iter().filter(|p| p.ispdb_differs.is_some()) {
        let differs_somewhere = snap["entries"].as_array().unwrap().iter().any(|entry| {
            entry["domains"]
                .as_array()
                .unwrap()
                .iter()
                .any(|d| registry.by_domain(d.as_str().unwrap()).map(|x| &x.id) == Some(&p.id))
                && disagreement(p, entry).is_some()
        });
        assert!(
            differs_somewhere,
            "{}: ispdb_differs but ISPDB agrees",
            p.id
        );
    }
}
