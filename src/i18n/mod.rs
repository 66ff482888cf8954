//! The catalog: every word of the documents and emails a person reads (share texts,
//! invitations, campaign templates, paper forms, delivery letters), one TOML file of
//! `key = "text"` per language, with `{placeholders}` filled by [`fill`] (one pass, so
//! a value holding `{title}` stays as written) and counted messages chosen by each
//! language's plural rule ([`count`]). A test checks that every key exists in every
//! language with the same placeholders.
//!
//! Adding a language: copy `en.toml` to `xx.toml` and translate it, add one line to
//! `CATALOGS` and the `Xx => "xx"` value to `model::Lang` (and its plural rule to
//! [`plural_form`] if it is not one/other). The terminal's own status and error lines
//! are English and not in the catalog yet; `ui` keeps them in one place for that step.

use std::collections::HashMap;
use std::sync::OnceLock;

use crate::model::Lang;

/// Every catalog, by language code. English is the reference and the fallback.
const CATALOGS: &[(&str, &str)] = &[
    ("en", include_str!("en.toml")),
    ("es", include_str!("es.toml")),
];

type Catalog = HashMap<String, String>;

fn catalogs() -> &'static HashMap<&'static str, Catalog> {
    static CATALOGS_PARSED: OnceLock<HashMap<&'static str, Catalog>> = OnceLock::new();
    CATALOGS_PARSED.get_or_init(|| {
        CATALOGS
            .iter()
            .map(|(code, text)| {
                // The files are compiled in and checked by the tests below, so a parse
                // error is a bug in this crate, not bad input.
                let catalog: Catalog = toml::from_str(text)
                    .unwrap_or_else(|e| panic!("message catalog {code}.toml is invalid: {e}"));
                (*code, catalog)
            })
            .collect()
    })
}

/// The raw text of `key` in `lang`, falling back to English.
pub fn text(lang: Lang, key: &str) -> &'static str {
    let all = catalogs();
    all.get(lang.as_str())
        .and_then(|c| c.get(key))
        .or_else(|| all.get("en").and_then(|c| c.get(key)))
        .map(String::as_str)
        .unwrap_or_else(|| panic!("message {key:?} is missing from the catalogs"))
}

/// The text of `key` in `lang` with each `{name}` replaced by its value.
///
/// Values are inserted in one pass, so a value that itself contains `{title}` (a petition
/// about templates, say) is left as written.
pub fn t(lang: Lang, key: &str, args: &[(&str, &str)]) -> String {
    fill(text(lang, key), args)
}

/// "1 person" / "12 people": the plural form of a counted message (`KEY.one`,
/// `KEY.other`, and for languages that have them `KEY.few`, `KEY.many`, ...), chosen by
/// the language's rule; a form the catalog lacks falls back to `KEY.other`.
pub fn count(lang: Lang, key: &str, n: i64) -> String {
    let form = plural_form(lang, n);
    let chosen = format!("{key}.{form}");
    let key = if has(lang, &chosen) {
        chosen
    } else {
        format!("{key}.other")
    };
    t(lang, &key, &[("count", &n.to_string())])
}

/// The CLDR plural category of `n` in `lang` (for whole numbers). English and Spanish:
/// `one` for 1, `other` for the rest. A language with more forms (Polish's `few`,
/// `many`; Arabic's six) adds its rule here and its keys to its catalog.
pub fn plural_form(lang: Lang, n: i64) -> &'static str {
    match lang {
        Lang::En | Lang::Es => {
            if n == 1 {
                "one"
            } else {
                "other"
            }
        }
    }
}

/// Whether `lang`'s catalog (or English's) has `key`.
fn has(lang: Lang, key: &str) -> bool {
    let all = catalogs();
    [lang.as_str(), "en"]
        .iter()
        .any(|code| all.get(code).is_some_and(|c| c.contains_key(key)))
}

/// `template` with each `{name}` replaced by its value, in one pass: a value that itself
/// holds `{title}` is left as written; an unknown `{name}` stays as it is.
pub fn fill(template: &str, args: &[(&str, &str)]) -> String {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        match after.find('}') {
            Some(close) => {
                let name = &after[..close];
                match args.iter().find(|(k, _)| *k == name) {
                    Some((_, value)) => out.push_str(value),
                    None => out.push_str(&rest[open..open + close + 2]),
                }
                rest = &after[close + 1..];
            }
            None => {
                out.push_str(&rest[open..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    fn placeholders(text: &str) -> BTreeSet<String> {
        let mut out = BTreeSet::new();
        let mut rest = text;
        while let Some(open) = rest.find('{') {
            let after = &rest[open + 1..];
            match after.find('}') {
                Some(close) => {
                    out.insert(after[..close].to_string());
                    rest = &after[close + 1..];
                }
                None => break,
            }
        }
        out
    }

    #[test]
    fn every_key_exists_in_every_language_with_the_same_placeholders() {
        let all = catalogs();
        let en = &all["en"];
        for (code, catalog) in all {
            let keys: BTreeSet<_> = catalog.keys().collect();
            let reference: BTreeSet<_> = en.keys().collect();
            assert_eq!(keys, reference, "keys of {code}.toml differ from en.toml");
            for (key, text) in catalog {
                assert!(!text.trim().is_empty(), "{code}.toml: {key} is empty");
                assert_eq!(
                    placeholders(text),
                    placeholders(&en[key]),
                    "{code}.toml: {key} has different placeholders"
                );
            }
        }
        // Every language the tool offers has a catalog.
        for lang in [Lang::En, Lang::Es] {
            assert!(all.contains_key(lang.as_str()), "no catalog for {lang}");
        }
    }

    #[test]
    fn fills_placeholders_once() {
        assert_eq!(
            fill(
                "Sign {title} for {who}",
                &[("title", "{who}"), ("who", "us")]
            ),
            "Sign {who} for us"
        );
        assert_eq!(fill("{unknown} stays", &[]), "{unknown} stays");
        assert_eq!(count(Lang::Es, "delivery.signatures", 1), "1 persona");
        assert_eq!(count(Lang::En, "delivery.signatures", 3), "3 people");
        assert_eq!(count(Lang::En, "delivery.signatures", 0), "0 people");
        assert_eq!(plural_form(Lang::Es, 2), "other");
    }
}
