//! Saved signers corrected or removed later (`campaign signer edit|remove`), each change
//! recorded in `signature_edits` (migration 4) in the same transaction.

use rusqlite::{params, OptionalExtension};

use super::signatures::{signature_from_row, SIGNATURE_COLUMNS};
use super::SqliteStore;
use crate::error::Result;
use crate::model::{FieldChange, NewSignature, Signature, SignatureEdit, SignerEdited};

impl SqliteStore {
    /// Signer `id` of the campaign.
    pub fn signature(&self, campaign_id: i64, id: i64) -> Result<Option<Signature>> {
        let mut stmt = self.conn().prepare_cached(&format!(
            "SELECT {SIGNATURE_COLUMNS} FROM signatures WHERE campaign_id = ?1 AND id = ?2"
        ))?;
        Ok(stmt
            .query_row(params![campaign_id, id], signature_from_row)
            .optional()?)
    }

    /// The signers entered at `line` of `sheet_id` (one, unless two files named the same
    /// line), in entry order: an index lookup (`signatures_by_sheet`).
    pub fn signatures_at(
        &self,
        campaign_id: i64,
        sheet_id: &str,
        line: i64,
    ) -> Result<Vec<Signature>> {
        let mut stmt = self.conn().prepare_cached(&format!(
            "SELECT {SIGNATURE_COLUMNS} FROM signatures \
             WHERE campaign_id = ?1 AND sheet_id = ?2 AND line = ?3 ORDER BY id"
        ))?;
        let rows = stmt.query_map(params![campaign_id, sheet_id, line], signature_from_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Replaces `old`'s fields with `new` and records `changes`, at once, only if the
    /// row is still as `old` says: two organizers editing the same signer never
    /// silently undo each other.
    pub fn edit_signature(
        &mut self,
        old: &Signature,
        new: &NewSignature,
        changes: &[FieldChange],
        edited_by: Option<&str>,
    ) -> Result<SignerEdited> {
        let ts = self.now();
        let tx = self.conn_mut().transaction()?;
        let updated = tx.execute(
            "UPDATE signatures SET name = ?3, email = ?4, postcode = ?5, phone = ?6, phone_valid = ?7, \
             opt_in = ?8, private = ?9, dedupe_key = ?10 WHERE campaign_id = ?1 AND id = ?2 \
             AND name IS ?11 AND email IS ?12 AND postcode IS ?13 AND phone IS ?14 \
             AND opt_in IS ?15 AND private IS ?16",
            params![
                old.campaign_id,
                old.id,
                new.name,
                new.email,
                new.postcode,
                new.phone,
                new.phone_valid,
                new.opt_in,
                new.private,
                new.dedupe_key,
                old.name,
                old.email,
                old.postcode,
                old.phone,
                old.opt_in,
                old.private,
            ],
        );
        match updated {
            Ok(1) => {}
            Ok(_) => return Ok(SignerEdited::ChangedMeanwhile),
            Err(rusqlite::Error::SqliteFailure(e, _))
                if e.code == rusqlite::ErrorCode::ConstraintViolation =>
            {
                return Ok(SignerEdited::KeyTaken);
            }
            Err(e) => return Err(e.into()),
        }
        for FieldChange {
            field,
            old: before,
            new: after,
        } in changes
        {
            tx.execute(
                "INSERT INTO signature_edits (campaign_id, signature_id, sheet_id, line, action, field, \
                 old_value, new_value, edited_by, edited_at) VALUES (?1, ?2, ?3, ?4, 'edit', ?5, ?6, ?7, ?8, ?9)",
                params![old.campaign_id, old.id, old.sheet_id, old.line, field, before, after, edited_by, ts],
            )?;
        }
        tx.commit()?;
        Ok(SignerEdited::Saved)
    }

    /// Removes signer `s` and records where it was, by whom and when (not its data).
    /// `false` when it was already gone.
    pub fn remove_signature(&mut self, s: &Signature, edited_by: Option<&str>) -> Result<bool> {
        let ts = self.now();
        let tx = self.conn_mut().transaction()?;
        let removed = tx.execute(
            "DELETE FROM signatures WHERE campaign_id = ?1 AND id = ?2",
            params![s.campaign_id, s.id],
        )?;
        if removed == 1 {
            tx.execute(
                "INSERT INTO signature_edits (campaign_id, signature_id, sheet_id, line, action, edited_by, edited_at) \
                 VALUES (?1, ?2, ?3, ?4, 'remove', ?5, ?6)",
                params![s.campaign_id, s.id, s.sheet_id, s.line, edited_by, ts],
            )?;
        }
        tx.commit()?;
        Ok(removed == 1)
    }

    /// Every signer edit and removal of the campaign, oldest first.
    pub fn signature_edits(&self, campaign_id: i64) -> Result<Vec<SignatureEdit>> {
        let mut stmt = self.conn().prepare(
            "SELECT signature_id, sheet_id, line, action, field, old_value, new_value, edited_by, edited_at \
             FROM signature_edits WHERE campaign_id = ?1 ORDER BY id",
        )?;
        let rows = stmt.query_map([campaign_id], |r| {
            Ok(SignatureEdit {
                signature_id: r.get(0)?,
                sheet_id: r.get(1)?,
                line: r.get(2)?,
                action: r.get(3)?,
                field: r.get(4)?,
                old_value: r.get(5)?,
                new_value: r.get(6)?,
                edited_by: r.get(7)?,
                edited_at: r.get(8)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{CampaignDraft, Scope};

    fn store_with_signer() -> (SqliteStore, Signature) {
        let mut store = SqliteStore::open_in_memory().unwrap();
        let draft = CampaignDraft {
            title: "t".into(),
            scope: Some(Scope::Global),
            ..Default::default()
        };
        let c = store.insert_campaign(&draft, "t", None).unwrap();
        for (name, email) in [("Ana", "ana@x.org"), ("Li", "li@x.org")] {
            let s = NewSignature {
                name: name.into(),
                email: Some(email.into()),
                sheet_id: Some("OAK-0001".into()),
                line: Some(if name == "Ana" { 5 } else { 6 }),
                dedupe_key: email.into(),
                ..Default::default()
            };
            store.insert_signature(c.id, &s).unwrap().unwrap();
        }
        let ana = store.signatures_at(c.id, "OAK-0001", 5).unwrap().remove(0);
        (store, ana)
    }

    #[test]
    fn an_edit_is_recorded_with_the_change_and_refused_on_a_taken_key() {
        let (mut store, ana) = store_with_signer();
        let new = NewSignature {
            name: "Ana López".into(),
            email: Some("ana@x.org".into()),
            dedupe_key: "ana@x.org".into(),
            ..Default::default()
        };
        let change = FieldChange {
            field: "name",
            old: Some("Ana".into()),
            new: Some("Ana López".into()),
        };
        assert_eq!(
            store
                .edit_signature(&ana, &new, &[change], Some("me@x.org"))
                .unwrap(),
            SignerEdited::Saved
        );
        // From the row as it was before that edit: refused, nothing undone.
        assert_eq!(
            store.edit_signature(&ana, &new, &[], None).unwrap(),
            SignerEdited::ChangedMeanwhile
        );
        assert_eq!(
            store
                .signature(ana.campaign_id, ana.id)
                .unwrap()
                .unwrap()
                .name,
            "Ana López"
        );
        let ana = store.signature(ana.campaign_id, ana.id).unwrap().unwrap();
        let taken = NewSignature {
            dedupe_key: "li@x.org".into(),
            ..new
        };
        assert_eq!(
            store.edit_signature(&ana, &taken, &[], None).unwrap(),
            SignerEdited::KeyTaken
        );
        let edits = store.signature_edits(ana.campaign_id).unwrap();
        assert_eq!(edits.len(), 1);
        assert_eq!(
            (
                edits[0].action.as_str(),
                edits[0].field.as_deref(),
                edits[0].line
            ),
            ("edit", Some("name"), Some(5))
        );
    }

    #[test]
    fn a_removal_keeps_where_the_row_was_and_not_its_data() {
        let (mut store, ana) = store_with_signer();
        assert!(store.remove_signature(&ana, Some("me@x.org")).unwrap());
        assert!(!store.remove_signature(&ana, None).unwrap(), "already gone");
        assert!(store.signature(ana.campaign_id, ana.id).unwrap().is_none());
        let edits = store.signature_edits(ana.campaign_id).unwrap();
        assert_eq!(edits.len(), 1);
        assert_eq!(edits[0].action, "remove");
        assert_eq!(edits[0].sheet_id.as_deref(), Some("OAK-0001"));
        assert_eq!(
            (edits[0].old_value.as_deref(), edits[0].new_value.as_deref()),
            (None, None)
        );
    }
}
