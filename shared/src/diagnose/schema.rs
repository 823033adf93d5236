//! The rule data's consistency check ([`RuleFile::validate`], run by `check_data` and the
//! tests): ids unique, provider rules first, no rule matching everything, status patterns
//! well formed, every code explained in both languages with known placeholders.

#[allow(clippy::wildcard_imports)]
use super::*;

impl RuleFile {
    pub(super) fn validate(&self) -> Result<(), String> {
        let mut problems = Vec::new();
        let mut seen_generic = false;
        let mut ids = std::collections::HashSet::new();
        for rule in &self.rule {
            if !ids.insert(rule.id.as_str()) {
                problems.push(format!("rule {}: duplicate id", rule.id));
            }
            if rule.provider.is_empty() {
                seen_generic = true;
            } else if seen_generic {
                problems.push(format!(
                    "rule {}: provider rules must come before generic ones",
                    rule.id
                ));
            }
            if !rule.has_matcher() && rule.stage.is_empty() && rule.provider_status.is_empty() {
                problems.push(format!("rule {}: matches everything", rule.id));
            }
            for p in rule.text.iter().chain(&rule.unless) {
                if glob_pieces(p).1.iter().all(String::is_empty) {
                    problems.push(format!("rule {}: empty text pattern {p:?}", rule.id));
                }
            }
            for s in &rule.status {
                let ok = s.split('.').enumerate().all(|(i, part)| {
                    (part == "*" && i > 0)
                        || (!part.is_empty() && part.bytes().all(|b| b.is_ascii_digit()))
                }) && matches!(s.as_bytes().first(), Some(b'2' | b'4' | b'5'));
                if !ok {
                    problems.push(format!("rule {}: bad status pattern {s:?}", rule.id));
                }
            }
            for r in &rule.reply {
                let digits = r.strip_suffix('*').unwrap_or(r);
                if digits.is_empty()
                    || digits.len() > 3
                    || !digits.bytes().all(|b| b.is_ascii_digit())
                    || (digits.len() < 3 && !r.ends_with('*'))
                {
                    problems.push(format!("rule {}: bad reply pattern {r:?}", rule.id));
                }
            }
        }
        for code in DiagnosisCode::ALL {
            let Some(texts) = self.codes.get(&code) else {
                problems.push(format!("code {}: no texts", code.as_str()));
                continue;
            };
            let mut all: Vec<(&str, &LocalText)> = Vec::new();
            all.extend(texts.message.iter().map(|t| ("message", t)));
            all.extend(texts.advice.iter().map(|t| ("advice", t)));
            for (id, over) in &texts.provider {
                if over.message.is_empty() && over.advice.is_empty() && over.links.is_none() {
                    problems.push(format!("code {}: provider {id} has nothing", code.as_str()));
                }
                all.extend(over.message.iter().map(|t| ("message", t)));
                all.extend(over.advice.iter().map(|t| ("advice", t)));
            }
            for (field, t) in all {
                for (lang, s) in [("en", &t.en), ("ru", &t.ru)] {
                    if s.trim().is_empty() {
                        problems.push(format!("code {}: empty {field}.{lang}", code.as_str()));
                    }
                    for name in placeholders(s) {
                        if !PLACEHOLDERS.contains(&name) {
                            problems.push(format!(
                                "code {}: unknown placeholder {{{name}}} in {field}.{lang}",
                                code.as_str()
                            ));
                        }
                    }
                }
            }
            for (field, list) in [("message", &texts.message), ("advice", &texts.advice)] {
                let last_is_plain = list.last().is_some_and(|t| {
                    placeholders(&t.en).is_empty() && placeholders(&t.ru).is_empty()
                });
                if !last_is_plain {
                    problems.push(format!(
                        "code {}: the last {field} must have no placeholders",
                        code.as_str()
                    ));
                }
            }
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(problems.join("\n"))
        }
    }
}
