//! Correcting or removing a saved signer later (`campaign signer edit|remove`): finding
//! the row by sheet and line (`OAK-0007:5`) or by id, and turning the fields given into
//! a validated row and the list of changes the history records.

use crate::domain::signer::{self, RawSigner, Region};
use crate::error::{Error, Result};
use crate::model::{FieldChange, NewSignature, Signature};
use crate::store::Store;

/// Which signer: the sheet and line it was typed from, or its id (online signers).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignerRef {
    At { sheet: String, line: i64 },
    Id(i64),
}

impl SignerRef {
    /// `OAK-0007:5` (any case, `oak-7:5`), or an id (`123`, `#123`).
    pub fn parse(text: &str) -> Result<SignerRef> {
        let text = text.trim();
        let bad = || {
            Error::Usage(format!(
                "{text:?} names no signer: give the sheet and line as printed, like OAK-0007:5, or a signer's id"
            ))
        };
        let digits = text.strip_prefix('#').unwrap_or(text);
        if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
            return digits.parse().map(SignerRef::Id).map_err(|_| bad());
        }
        let (sheet, line) = text.rsplit_once(':').ok_or_else(bad)?;
        let line = line
            .trim()
            .parse::<i64>()
            .ok()
            .filter(|n| *n > 0)
            .ok_or_else(bad)?;
        let sheet = signer::sheet_id(sheet).ok_or_else(bad)?;
        Ok(SignerRef::At { sheet, line })
    }
}

impl std::fmt::Display for SignerRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SignerRef::At { sheet, line } => write!(f, "{sheet}:{line}"),
            SignerRef::Id(id) => write!(f, "signer {id}"),
        }
    }
}

/// The one signer `r` names in the campaign.
pub fn find(store: &dyn Store, campaign_id: i64, r: &SignerRef) -> Result<Signature> {
    let found = match r {
        SignerRef::Id(id) => store.signature(campaign_id, *id)?.into_iter().collect(),
        SignerRef::At { sheet, line } => store.signatures_at(campaign_id, sheet, *line)?,
    };
    let mut found: Vec<Signature> = found;
    match found.len() {
        1 => Ok(found.remove(0)),
        0 => Err(Error::Invalid(format!(
            "no signer at {r} in this campaign (check the sheet id in the footer and the line number)"
        ))),
        n => Err(Error::Invalid(format!(
            "{n} signers were entered at {r}: name one by its id ({})",
            found
                .iter()
                .map(|s| s.id.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ))),
    }
}

/// New values for a signer; `None` keeps a field, an empty text clears it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SignerEdit {
    pub name: Option<String>,
    pub email: Option<String>,
    pub postcode: Option<String>,
    pub phone: Option<String>,
    pub opt_in: Option<bool>,
    pub private: Option<bool>,
}

impl SignerEdit {
    pub fn is_empty(&self) -> bool {
        *self == SignerEdit::default()
    }
}

/// `old` with `edit` applied, checked by the same rules as a typed row (postcodes kept
/// as typed), and the fields that changed. No changes: nothing to save.
pub fn apply(
    old: &Signature,
    edit: &SignerEdit,
    region: Region,
) -> Result<(NewSignature, Vec<FieldChange>)> {
    let keep = |new: &Option<String>, old: &Option<String>| -> String {
        new.clone().or_else(|| old.clone()).unwrap_or_default()
    };
    let yes = |b: bool| if b { "yes" } else { "" };
    let name = edit.name.clone().unwrap_or_else(|| old.name.clone());
    let (email, postcode, phone) = (
        keep(&edit.email, &old.email),
        keep(&edit.postcode, &old.postcode),
        keep(&edit.phone, &old.phone),
    );
    let raw = RawSigner {
        name: name.as_str().into(),
        email: &email,
        postcode: &postcode,
        phone: &phone,
        opt_in: yes(edit.opt_in.unwrap_or(old.opt_in)),
        private: yes(edit.private.unwrap_or(old.private)),
        ..Default::default()
    };
    let new = signer::validate(&raw, region.typed()).map_err(|p| Error::Invalid(p.to_string()))?;
    let flag = |b: bool| Some(if b { "yes" } else { "no" }.to_string());
    let fields: [(&'static str, Option<String>, Option<String>); 6] = [
        ("name", Some(old.name.clone()), Some(new.name.clone())),
        ("email", old.email.clone(), new.email.clone()),
        ("postcode", old.postcode.clone(), new.postcode.clone()),
        ("phone", old.phone.clone(), new.phone.clone()),
        ("opt_in", flag(old.opt_in), flag(new.opt_in)),
        ("private", flag(old.private), flag(new.private)),
    ];
    let changes = fields
        .into_iter()
        .filter(|(_, old, new)| old != new)
        .map(|(field, old, new)| FieldChange { field, old, new })
        .collect();
    Ok((new, changes))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Source;

    #[test]
    fn references_read_sheet_and_line_or_an_id() {
        assert_eq!(
            SignerRef::parse(" oak-7:5 ").unwrap(),
            SignerRef::At {
                sheet: "OAK-0007".into(),
                line: 5
            }
        );
        assert_eq!(SignerRef::parse("#42").unwrap(), SignerRef::Id(42));
        assert_eq!(SignerRef::parse("42").unwrap(), SignerRef::Id(42));
        for bad in ["OAK-0007", "OAK-0007:0", "OAK-0007:x", ":5", "", "#"] {
            assert!(
                matches!(SignerRef::parse(bad), Err(Error::Usage(_))),
                "{bad:?}"
            );
        }
    }

    fn signer() -> Signature {
        Signature {
            id: 7,
            campaign_id: 1,
            name: "Ana Lopez".into(),
            email: Some("ana@example.org".into()),
            postcode: Some("94612".into()),
            phone: Some("+15105550101".into()),
            phone_valid: true,
            opt_in: false,
            private: false,
            source: Source::Paper,
            sheet_id: Some("OAK-0007".into()),
            line: Some(5),
            entered_by: None,
            signed_at: "2026-12-01T10:00:00Z".into(),
        }
    }

    #[test]
    fn only_what_changed_is_listed_and_an_empty_value_clears() {
        let edit = SignerEdit {
            name: Some("Ana López".into()),
            email: Some(String::new()),
            opt_in: Some(true),
            ..Default::default()
        };
        let (new, changes) = apply(&signer(), &edit, Region::us()).unwrap();
        assert_eq!(new.name, "Ana López");
        assert_eq!(new.email, None);
        assert_eq!(new.phone.as_deref(), Some("+15105550101"));
        let fields: Vec<_> = changes.iter().map(|c| c.field).collect();
        assert_eq!(fields, ["name", "email", "opt_in"]);
        // The key follows: without an email, the signer is name + postcode.
        assert_eq!(
            new.dedupe_key,
            signer::dedupe_key("Ana López", None, Some("94612"))
        );
        // Nothing left to reach the signer: refused like a typed row.
        let none = SignerEdit {
            email: Some(String::new()),
            postcode: Some(" ".into()),
            ..Default::default()
        };
        assert!(apply(&signer(), &none, Region::us()).is_err());
        let (_, same) = apply(&signer(), &SignerEdit::default(), Region::us()).unwrap();
        assert!(same.is_empty());
    }
}
