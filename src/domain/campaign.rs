//! Rules for a campaign's text: what is required, and what a reviewer should fix.

use serde::Serialize;

use crate::model::{
    Campaign, CampaignDraft, CampaignUpdate, FieldChange, Lang, Scope, Translation,
};

/// Titles longer than this still work, but get cut off in shares and on paper.
pub const TITLE_SOFT_MAX: usize = 80;

/// Shorter than this, a target, ask or why rarely says enough.
const SHORT_TEXT: usize = 10;

/// A required field that is empty, named by the flag that fills it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MissingField {
    pub field: &'static str,
    pub flag: &'static str,
}

/// The required fields `draft` lacks, in the order `new` asks for them.
pub fn missing_fields(draft: &CampaignDraft) -> Vec<MissingField> {
    let mut missing = Vec::new();
    for (value, field, flag) in [
        (&draft.title, "title", "--title"),
        (&draft.target, "target", "--target"),
        (&draft.ask, "ask", "--ask"),
        (&draft.why, "why", "--why"),
    ] {
        if value.trim().is_empty() {
            missing.push(MissingField { field, flag });
        }
    }
    match draft.scope {
        None => missing.push(MissingField {
            field: "where",
            flag: "--location PLACE, --national or --global",
        }),
        Some(Scope::Local)
            if draft
                .location
                .as_deref()
                .is_none_or(|l| l.trim().is_empty()) =>
        {
            missing.push(MissingField {
                field: "location",
                flag: "--location",
            })
        }
        _ => {}
    }
    missing
}

/// Checks a campaign URL: absolute http(s).
pub fn validate_url(url: &str) -> Result<(), String> {
    let lower = url.to_ascii_lowercase();
    let rest = lower
        .strip_prefix("https://")
        .or_else(|| lower.strip_prefix("http://"))
        .ok_or_else(|| format!("--url {url:?} must start with https:// (or http://)"))?;
    let host = rest.split(['/', '?', '#']).next().unwrap_or("");
    if host.is_empty() || !host.contains('.') || url.chars().any(char::is_whitespace) {
        return Err(format!(
            "--url {url:?} is not a web address like https://example.org/petition"
        ));
    }
    Ok(())
}

pub fn validate_goal(goal: i64) -> Result<(), String> {
    if goal <= 0 {
        return Err(format!(
            "--goal {goal} must be a positive number of signatures"
        ));
    }
    Ok(())
}

/// Whether a title should be shortened (it still works).
pub fn title_too_long(title: &str) -> bool {
    title.chars().count() > TITLE_SOFT_MAX
}

/// Something a reviewer should fix before launching.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReviewWarning {
    pub field: &'static str,
    pub message: String,
}

/// A language the campaign is used in (the organizer's, or one it has a translation
/// for) without the petition's full text in it: documents and share texts in that
/// language would print those fields in the campaign's own language.
pub fn translation_warnings(
    campaign: &Campaign,
    used: &[Lang],
    translations: &[Translation],
) -> Vec<ReviewWarning> {
    let mut langs: Vec<Lang> = used
        .iter()
        .copied()
        .chain(translations.iter().filter_map(|t| t.lang))
        .filter(|l| *l != campaign.lang)
        .collect();
    langs.sort_by_key(|l| l.as_str());
    langs.dedup();
    langs
        .into_iter()
        .filter_map(|lang| {
            let missing = translations
                .iter()
                .find(|t| t.lang == Some(lang))
                .map_or_else(|| vec!["title", "target", "ask", "why"], Translation::missing);
            (!missing.is_empty()).then(|| ReviewWarning {
                field: "translation",
                message: format!(
                    "no {lang} text for the {}: documents and share texts in {lang} print it in {}; add it with `campaign edit {} --in {lang} {}`",
                    missing.join(", "),
                    campaign.lang,
                    campaign.slug,
                    missing
                        .iter()
                        .map(|m| format!("--{m} ..."))
                        .collect::<Vec<_>>()
                        .join(" ")
                ),
            })
        })
        .collect()
}

/// What to fix in `campaign` before (or after) launching it.
pub fn review_warnings(campaign: &Campaign) -> Vec<ReviewWarning> {
    let mut warnings = Vec::new();
    let mut warn =
        |field: &'static str, message: String| warnings.push(ReviewWarning { field, message });
    if title_too_long(&campaign.title) {
        warn(
            "title",
            format!(
                "the title is {} characters; under {TITLE_SOFT_MAX} reads best in shares and on paper",
                campaign.title.chars().count()
            ),
        );
    }
    for (field, value, flag) in [
        ("title", &campaign.title, "--title"),
        ("target", &campaign.target, "--target"),
        ("ask", &campaign.ask, "--ask"),
        ("why", &campaign.why, "--why"),
    ] {
        let len = value.trim().chars().count();
        if len == 0 {
            warn(
                field,
                format!("the {field} is empty: set it with `campaign edit SLUG {flag} ...`"),
            );
        } else if field != "title" && len < SHORT_TEXT {
            warn(field, format!("the {field} is very short ({len} characters): say more with `campaign edit SLUG {flag} ...`"));
        }
    }
    if campaign.picture_mime.is_none() {
        warn("picture", "no picture: petitions with one get shared more; add one with `campaign review SLUG --picture FILE`".into());
    }
    if campaign.url.is_none() {
        warn("url", "no URL: people cannot sign online or share a link; add one with `campaign edit SLUG --url ...`".into());
    }
    warnings
}

/// The fields `update` changes in `current`: (column, old value, new value), only those
/// that differ. The store records each in the edit history.
pub fn changes(update: &CampaignUpdate, current: &Campaign) -> Vec<FieldChange> {
    let mut out = Vec::new();
    let mut push = |field: &'static str, old: Option<String>, new: Option<String>| {
        if old != new {
            out.push(FieldChange { field, old, new });
        }
    };
    if let Some(v) = &update.title {
        push("title", Some(current.title.clone()), Some(v.clone()));
    }
    if let Some(v) = &update.target {
        push("target", Some(current.target.clone()), Some(v.clone()));
    }
    if let Some(v) = &update.ask {
        push("ask", Some(current.ask.clone()), Some(v.clone()));
    }
    if let Some(v) = &update.why {
        push("why", Some(current.why.clone()), Some(v.clone()));
    }
    if let Some(v) = update.scope {
        push(
            "scope",
            Some(current.scope.to_string()),
            Some(v.to_string()),
        );
    }
    if let Some(v) = &update.location {
        push("location", current.location.clone(), v.clone());
    }
    if let Some(v) = &update.postcode {
        push("postcode", current.postcode.clone(), v.clone());
    }
    if let Some(v) = &update.country {
        push("country", current.country.clone(), v.clone());
    }
    if let Some(v) = &update.goal {
        push(
            "goal",
            current.goal.map(|g| g.to_string()),
            v.map(|g| g.to_string()),
        );
    }
    if let Some(v) = &update.url {
        push("url", current.url.clone(), v.clone());
    }
    if let Some(v) = update.lang {
        push("lang", Some(current.lang.to_string()), Some(v.to_string()));
    }
    if let Some(v) = &update.retain {
        push("retain", current.retain.clone(), v.clone());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_fields_name_their_flags() {
        let draft = CampaignDraft {
            title: "T".into(),
            scope: Some(Scope::Local),
            ..Default::default()
        };
        let flags: Vec<_> = missing_fields(&draft).iter().map(|m| m.flag).collect();
        assert_eq!(flags, ["--target", "--ask", "--why", "--location"]);
        let global = CampaignDraft {
            title: "T".into(),
            target: "x".into(),
            ask: "y".into(),
            why: "z".into(),
            scope: Some(Scope::Global),
            ..Default::default()
        };
        assert!(missing_fields(&global).is_empty());
    }

    #[test]
    fn a_used_language_without_a_full_translation_is_warned_about() {
        let campaign = crate::render::mail::tests::campaign(Lang::En);
        assert!(translation_warnings(&campaign, &[Lang::En], &[]).is_empty());
        let none = translation_warnings(&campaign, &[Lang::Es], &[]);
        assert_eq!(none.len(), 1);
        assert!(none[0]
            .message
            .contains("no es text for the title, target, ask, why"));
        let partial = Translation {
            lang: Some(Lang::Es),
            title: Some("T".into()),
            ask: Some("A".into()),
            ..Default::default()
        };
        // A translation makes its language a used one, even if the account's is not.
        let w = translation_warnings(&campaign, &[], std::slice::from_ref(&partial));
        assert!(
            w[0].message.contains("no es text for the target, why"),
            "{w:?}"
        );
        let full = Translation {
            target: Some("X".into()),
            why: Some("Y".into()),
            ..partial
        };
        assert!(translation_warnings(&campaign, &[Lang::Es], &[full]).is_empty());
    }

    #[test]
    fn urls_must_be_web_addresses() {
        assert!(validate_url("https://example.org/p").is_ok());
        assert!(validate_url("example.org").is_err());
        assert!(validate_url("https://localhost").is_err());
        assert!(validate_goal(0).is_err());
    }
}
