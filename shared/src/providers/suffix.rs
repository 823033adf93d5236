//! The public suffixes a `label.*` domain pattern may stand for.
//!
//! Brands like Outlook.com, Yahoo, AOL and GMX register their name under many country
//! suffixes (`outlook.at`, `hotmail.co.za`, `live.com.ar`, `yahoo.com.tw`). A pattern
//! `outlook.*` in providers.toml matches `outlook.` followed by a *public suffix*, a name
//! under which anybody may register domains, and nothing else: `outlook.evil.com` belongs
//! to whoever owns `evil.com` and must not match. Instead of the whole Public Suffix List
//! (about 10,000 rules, too big for the wasm bundle) the rule is:
//!
//! - one country-code top-level domain: any two ASCII letters (`at`, `de`, `jp`), except
//!   `cm`, `co` and `om`, the usual mistypings of `com` (`outlook.cm` is a typo far more
//!   often than an address);
//! - or a known second-level suffix under a country code, from [`SECOND_LEVEL`]
//!   (`co.uk`, `com.ar`, `ne.jp`...): every entry is a public suffix in the Public Suffix
//!   List, so nobody can own a name between the brand and the country code.
//!
//! Generic top-level domains (`com`, `net`, `org`, `info`...) are never implied: where a
//! brand owns one, providers.toml lists it as an exact domain. Exact domains win over
//! every pattern (see `Registry::by_domain`).

/// Second-level public suffixes under country codes that providers' brands use.
pub const SECOND_LEVEL: &[&str] = &[
    "co.at", "com.ar", "com.au", "com.br", "com.cn", "com.co", "com.gr", "com.hk", "com.mx",
    "com.my", "com.pe", "com.ph", "com.pt", "com.sg", "com.tr", "com.tw", "com.ua", "com.vn",
    "co.id", "co.il", "co.in", "co.jp", "co.kr", "co.nz", "co.th", "co.uk", "co.za", "ne.jp",
    "net.au", "net.br", "org.uk",
];

/// Two-letter top-level domains that are almost always a mistyped `com`.
const TYPO_TLDS: &[&str] = &["cm", "co", "om"];

/// True when `rest` (the part after the brand label, lowercase ASCII, no trailing dot) is a
/// public suffix by the rule above.
pub fn is_public_suffix(rest: &str) -> bool {
    let two_letters = |s: &str| s.len() == 2 && s.bytes().all(|b| b.is_ascii_lowercase());
    if !rest.contains('.') {
        return two_letters(rest) && !TYPO_TLDS.contains(&rest);
    }
    SECOND_LEVEL.contains(&rest)
}

/// The brand label of `name` when the rest of it is a public suffix: `outlook.com.ar` →
/// `outlook`; `outlook.evil.com` → `None`.
pub fn label_under_public_suffix(name: &str) -> Option<&str> {
    let (label, rest) = name.split_once('.')?;
    (!label.is_empty() && is_public_suffix(rest)).then_some(label)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rule_table() {
        let cases = [
            ("outlook.at", Some("outlook")),
            ("hotmail.co.za", Some("hotmail")),
            ("live.com.ar", Some("live")),
            ("yahoo.com.tw", Some("yahoo")),
            ("gmx.ie", Some("gmx")),
            ("outlook.evil.com", None),
            ("outlook.com", None),
            ("outlook.net", None),
            ("outlook.co", None),
            ("yahoo.cm", None),
            ("outlook.co.de", None),
            ("outlook.com.evil", None),
            ("outlook.co.uk.evil.com", None),
            ("outlook.c0", None),
            ("outlook.", None),
            (".de", None),
            ("outlook", None),
        ];
        for (name, want) in cases {
            assert_eq!(label_under_public_suffix(name), want, "{name}");
        }
    }

    #[test]
    fn every_second_level_suffix_is_under_a_country_code() {
        for s in SECOND_LEVEL {
            let (sld, cc) = s.split_once('.').unwrap();
            assert!(!sld.is_empty() && !sld.contains('.'), "{s}");
            assert!(
                cc.len() == 2 && cc.bytes().all(|b| b.is_ascii_lowercase()),
                "{s}"
            );
        }
    }
}
