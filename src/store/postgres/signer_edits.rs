//! Saved signers corrected or removed later (`campaign signer edit|remove`), each change
//! recorded in `signature_edits` (migration 2) in the same transaction (the twin of
//! `sqlite/signer_edits.rs`).

use postgres::error::SqlState;

use super::signatures::{signature_from_row, SIGNATURE_COLUMNS};
use super::{is_code, PgStore};
use crate::error::Result;
use crate::model::{FieldChange, NewSignature, Signature, SignatureEdit, SignerEdited};

impl PgStore {
    /// Signer `id` of the campaign.
    pub fn signature(&self, campaign_id: i64, id: i64) -> Result<Option<Signature>> {
        if self.kind == Some(crate::model::TeamKind::Volunteer) {
            return self.volunteer_own_entry(campaign_id, id);
        }
        let row = self.client().query_opt(
            &format!(
                "SELECT {SIGNATURE_COLUMNS} FROM signatures WHERE campaign_id = $1 AND id = $2"
            ),
            &[&campaign_id, &id],
        )?;
        row.as_ref().map(signature_from_row).transpose()
    }

    /// The signers entered at `line` of `sheet_id`, in entry order (`signatures_by_sheet`).
    pub fn signatures_at(
        &self,
        campaign_id: i64,
        sheet_id: &str,
        line: i64,
    ) -> Result<Vec<Signature>> {
        let rows = self.client().query(
            &format!(
                "SELECT {SIGNATURE_COLUMNS} FROM signatures \
                 WHERE campaign_id = $1 AND sheet_id = $2 AND line = $3 ORDER BY id"
            ),
            &[&campaign_id, &sheet_id, &line],
        )?;
        rows.iter().map(signature_from_row).collect()
    }

    /// The signers added after signer `after_id`, in entry order, through a cursor.
    pub fn for_each_signer_after(
        &self,
        campaign_id: i64,
        after_id: i64,
        f: &mut dyn FnMut(Signature) -> Result<()>,
    ) -> Result<()> {
        // A volunteer reads no signer: typed entry's same-person check then relies on
        // the keys alone (`earlier_entry()`), and this yields none.
        if self.kind == Some(crate::model::TeamKind::Volunteer) {
            return Ok(());
        }
        self.stream(
            &format!(
                "SELECT {SIGNATURE_COLUMNS} FROM signatures \
                 WHERE campaign_id = $1 AND id > $2 ORDER BY id"
            ),
            &[&campaign_id, &after_id],
            &mut |row| f(signature_from_row(row)?),
        )
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
        let mut client = self.client();
        let mut tx = client.transaction()?;
        let updated = tx.execute(
            "UPDATE signatures SET name = $3, email = $4, postcode = $5, phone = $6, phone_valid = $7, \
             opt_in = $8, private = $9, dedupe_key = $10 WHERE campaign_id = $1 AND id = $2 \
             AND name IS NOT DISTINCT FROM $11 AND email IS NOT DISTINCT FROM $12 \
             AND postcode IS NOT DISTINCT FROM $13 AND phone IS NOT DISTINCT FROM $14 \
             AND opt_in = $15 AND private = $16",
            &[
                &old.campaign_id,
                &old.id,
                &new.name,
                &new.email,
                &new.postcode,
                &new.phone,
                &new.phone_valid,
                &new.opt_in,
                &new.private,
                &new.dedupe_key,
                &old.name,
                &old.email,
                &old.postcode,
                &old.phone,
                &old.opt_in,
                &old.private,
            ],
        );
        match updated {
            Ok(1) => {}
            Ok(_) => return Ok(SignerEdited::ChangedMeanwhile),
            Err(e) if is_code(&e, &SqlState::UNIQUE_VIOLATION) => {
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
                 old_value, new_value, edited_by, edited_at) \
                 VALUES ($1, $2, $3, $4, 'edit', $5, $6, $7, $8, $9)",
                &[
                    &old.campaign_id,
                    &old.id,
                    &old.sheet_id,
                    &old.line,
                    field,
                    before,
                    after,
                    &edited_by,
                    &ts,
                ],
            )?;
        }
        tx.commit()?;
        Ok(SignerEdited::Saved)
    }

    /// Removes signer `s` and records where it was, by whom and when (not its data).
    /// `false` when it was already gone.
    pub fn remove_signature(&mut self, s: &Signature, edited_by: Option<&str>) -> Result<bool> {
        let ts = self.now();
        let mut client = self.client();
        let mut tx = client.transaction()?;
        let removed = tx.execute(
            "DELETE FROM signatures WHERE campaign_id = $1 AND id = $2",
            &[&s.campaign_id, &s.id],
        )?;
        if removed == 1 {
            tx.execute(
                "INSERT INTO signature_edits (campaign_id, signature_id, sheet_id, line, action, \
                 edited_by, edited_at) VALUES ($1, $2, $3, $4, 'remove', $5, $6)",
                &[&s.campaign_id, &s.id, &s.sheet_id, &s.line, &edited_by, &ts],
            )?;
        }
        tx.commit()?;
        Ok(removed == 1)
    }

    /// Every signer edit and removal of the campaign, oldest first.
    pub fn signature_edits(&self, campaign_id: i64) -> Result<Vec<SignatureEdit>> {
        let rows = self.client().query(
            "SELECT signature_id, sheet_id, line, action, field, old_value, new_value, edited_by, \
             edited_at FROM signature_edits WHERE campaign_id = $1 ORDER BY id",
            &[&campaign_id],
        )?;
        rows.iter()
            .map(|r| {
                Ok(SignatureEdit {
                    signature_id: r.try_get(0)?,
                    sheet_id: r.try_get(1)?,
                    line: r.try_get(2)?,
                    action: r.try_get(3)?,
                    field: r.try_get(4)?,
                    old_value: r.try_get(5)?,
                    new_value: r.try_get(6)?,
                    edited_by: r.try_get(7)?,
                    edited_at: r.try_get(8)?,
                })
            })
            .collect()
    }
}
