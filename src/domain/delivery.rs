//! What a delivery document may show about signers. A signer list handed to a public
//! body can become a public record, so the default is the least that proves support.

use serde::Serialize;

use crate::model::{Signature, SignatureCounts, Source};

/// How much of each signer the document shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ShowLevel {
    /// Name and postcode of each signer
    #[default]
    Names,
    /// Initials and postcode of each signer
    Initials,
    /// A table of how many signed per postcode, no names
    Postcodes,
    /// The cover page with the count only
    Count,
}

impl ShowLevel {
    pub fn as_str(self) -> &'static str {
        match self {
            ShowLevel::Names => "names",
            ShowLevel::Initials => "initials",
            ShowLevel::Postcodes => "postcodes",
            ShowLevel::Count => "count",
        }
    }

    pub const ALL: [ShowLevel; 4] = [
        ShowLevel::Names,
        ShowLevel::Initials,
        ShowLevel::Postcodes,
        ShowLevel::Count,
    ];

    /// Whether the document lists signers one by one.
    pub fn lists_signers(self) -> bool {
        matches!(self, ShowLevel::Names | ShowLevel::Initials)
    }
}

/// Contact details that appear only when asked for by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ContactField {
    Email,
    Phone,
}

impl ContactField {
    pub fn as_str(self) -> &'static str {
        match self {
            ContactField::Email => "email",
            ContactField::Phone => "phone",
        }
    }
}

impl std::fmt::Display for ShowLevel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for ShowLevel {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        ShowLevel::ALL
            .into_iter()
            .find(|l| l.as_str() == s)
            .ok_or_else(|| format!("unknown show level {s:?}"))
    }
}

impl std::str::FromStr for ContactField {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        [ContactField::Email, ContactField::Phone]
            .into_iter()
            .find(|c| c.as_str() == s)
            .ok_or_else(|| format!("unknown contact field {s:?}"))
    }
}

/// One line of the signer list, with only what may be shown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShownSigner {
    pub name: String,
    pub postcode: String,
    pub email: Option<String>,
    pub phone: Option<String>,
}

/// What the list shows of `s`, or `None` when it is not listed (private signers, and
/// levels without a list). Private signers are still counted by the caller.
pub fn shown_signer(
    s: &Signature,
    level: ShowLevel,
    include: &[ContactField],
) -> Option<ShownSigner> {
    if s.private || !level.lists_signers() {
        return None;
    }
    let name = match level {
        ShowLevel::Initials => initials(&s.name),
        _ => s.name.clone(),
    };
    Some(ShownSigner {
        name,
        postcode: s.postcode.clone().unwrap_or_default(),
        email: include
            .contains(&ContactField::Email)
            .then(|| s.email.clone())
            .flatten(),
        phone: include
            .contains(&ContactField::Phone)
            .then(|| s.phone.clone())
            .flatten(),
    })
}

/// "José Núñez" -> "J. N."; "李娜" -> "李."; "محمد الأحمد" -> "م. ا.". The first
/// character of each word, never folded to ASCII.
pub fn initials(name: &str) -> String {
    let words: Vec<&str> = name.split_whitespace().collect();
    // Names written without spaces (Chinese, Japanese, Korean): the family name only.
    let initials: Vec<String> = words
        .iter()
        .filter_map(|w| w.chars().next())
        .map(|c| format!("{c}."))
        .collect();
    initials.join(" ")
}

/// The key a signer is grouped by for `--split-by postcode` and the postcode table.
/// Trims exactly what the store's grouping query trims (spaces, tabs, line breaks), so
/// both agree on every signer's group.
pub fn postcode_key(s: &Signature) -> String {
    s.postcode
        .as_deref()
        .map(|p| p.trim_matches(|c| matches!(c, ' ' | '\t' | '\n' | '\r')))
        .unwrap_or("")
        .to_string()
}

/// Adds one signer to `counts`.
pub fn count(counts: &mut SignatureCounts, s: &Signature) {
    counts.total += 1;
    match s.source {
        Source::Paper => counts.paper += 1,
        Source::Online => counts.online += 1,
    }
    if s.private {
        counts.private += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sig(name: &str, private: bool) -> Signature {
        Signature {
            id: 1,
            campaign_id: 1,
            name: name.into(),
            email: Some("a@example.org".into()),
            postcode: Some("94612".into()),
            phone: Some("+15105550100".into()),
            phone_valid: true,
            opt_in: false,
            private,
            source: Source::Paper,
            sheet_id: None,
            line: None,
            entered_by: None,
            signed_at: String::new(),
        }
    }

    #[test]
    fn initials_keep_every_script() {
        assert_eq!(initials("José Núñez"), "J. N.");
        assert_eq!(initials("Ó Súilleabháin"), "Ó. S.");
        assert_eq!(initials("李娜"), "李.");
        assert_eq!(initials("Đặng Văn"), "Đ. V.");
    }

    #[test]
    fn private_signers_are_never_shown() {
        assert!(
            shown_signer(&sig("Ana", true), ShowLevel::Names, &[ContactField::Email]).is_none()
        );
    }

    #[test]
    fn contact_details_only_when_included() {
        let s = sig("Ana", false);
        let plain = shown_signer(&s, ShowLevel::Names, &[]).unwrap();
        assert_eq!((plain.email, plain.phone), (None, None));
        let both = shown_signer(
            &s,
            ShowLevel::Names,
            &[ContactField::Email, ContactField::Phone],
        )
        .unwrap();
        assert!(both.email.is_some() && both.phone.is_some());
        assert!(shown_signer(&s, ShowLevel::Postcodes, &[]).is_none());
        assert!(shown_signer(&s, ShowLevel::Count, &[]).is_none());
    }
}
