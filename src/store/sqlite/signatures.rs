//! Signature rows: adding one (committed at once), and streaming them back.

use rusqlite::{params, OptionalExtension};

use super::SqliteStore;
use crate::error::Result;
use crate::model::{Signature, Source};

// Plain data lives in `model`, so `domain` and `store` both depend on it and not on
// each other.
pub use crate::model::NewSignature;

/// The highest line of one sheet: a single step down `signatures_by_sheet` (migration 3).
const LAST_LINE_SQL: &str =
    // `line IS NOT NULL` changes nothing for MAX but lets the partial index serve it.
    "SELECT COALESCE(MAX(line), 0) FROM signatures WHERE campaign_id = ?1 AND sheet_id IS ?2 AND line IS NOT NULL";

pub(super) const SIGNATURE_COLUMNS: &str =
    "id, campaign_id, name, email, postcode, phone, phone_valid, opt_in, private, source, sheet_id, line, entered_by, signed_at";

pub(super) fn signature_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Signature> {
    let source: String = r.get(9)?;
    Ok(Signature {
        id: r.get(0)?,
        campaign_id: r.get(1)?,
        name: r.get(2)?,
        email: r.get(3)?,
        postcode: r.get(4)?,
        phone: r.get(5)?,
        phone_valid: r.get(6)?,
        opt_in: r.get(7)?,
        private: r.get(8)?,
        source: if source == "paper" {
            Source::Paper
        } else {
            Source::Online
        },
        sheet_id: r.get(10)?,
        line: r.get(11)?,
        entered_by: r.get(12)?,
        signed_at: r.get(13)?,
    })
}

impl SqliteStore {
    /// Adds one signature in its own transaction. Returns `None` when the campaign already
    /// has a signer with the same dedupe key.
    pub fn insert_signature(&mut self, campaign_id: i64, s: &NewSignature) -> Result<Option<i64>> {
        #[cfg(test)]
        self.injected_busy()?;
        self.refuse_forgotten(s)?;
        // A typed session that outlived a purge (run elsewhere) adds no name to it.
        super::privacy::refuse_purged_campaign(self.conn(), campaign_id)?;
        let changed = self.conn().execute(
            "INSERT OR IGNORE INTO signatures (campaign_id, name, email, postcode, phone, phone_valid, opt_in, private, \
             source, sheet_id, line, entered_by, signed_at, dedupe_key, uid) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)",
            params![
                campaign_id,
                s.name,
                s.email,
                s.postcode,
                s.phone,
                s.phone_valid,
                s.opt_in,
                s.private,
                s.source.unwrap_or(Source::Paper).as_str(),
                s.sheet_id,
                s.line,
                s.entered_by,
                s.signed_at.clone().unwrap_or_else(|| self.now()),
                s.dedupe_key,
                crate::uid::fresh().as_bytes(),
            ],
        )?;
        Ok((changed == 1).then(|| self.conn().last_insert_rowid()))
    }

    /// Calls `f` for every signature of the campaign in entry order, without loading them
    /// all: memory stays flat however many signers there are.
    pub fn for_each_signature<F>(&self, campaign_id: i64, f: F) -> Result<()>
    where
        F: FnMut(Signature) -> Result<()>,
    {
        self.stream_signatures(campaign_id, false, f)
    }
    /// The campaign's signer with this dedupe key, if any: to show a volunteer the
    /// earlier entry of a duplicate.
    pub fn find_signature_by_key(&self, campaign_id: i64, key: &str) -> Result<Option<Signature>> {
        #[cfg(test)]
        self.injected_busy()?;
        // One signer, one key: `signature_keys` (migration 5) holds them.
        let mut stmt = self.conn().prepare_cached(&format!(
            "SELECT {SIGNATURE_COLUMNS} FROM signatures WHERE id = \
             (SELECT signature_id FROM signature_keys WHERE campaign_id = ?1 AND dedupe_key = ?2)"
        ))?;
        Ok(stmt
            .query_row(params![campaign_id, key], signature_from_row)
            .optional()?)
    }

    /// Calls `f` for each signer of the campaign added after signer `after_id` (all of
    /// them from 0), in entry order: a range of the primary key, so reading only what
    /// is new since the last call costs nothing in a large campaign.
    pub fn for_each_signer_after(
        &self,
        campaign_id: i64,
        after_id: i64,
        f: &mut dyn FnMut(Signature) -> Result<()>,
    ) -> Result<()> {
        #[cfg(test)]
        self.injected_busy()?;
        let mut stmt = self.conn().prepare_cached(&format!(
            "SELECT {SIGNATURE_COLUMNS} FROM signatures WHERE id > ?2 AND campaign_id = ?1 ORDER BY id"
        ))?;
        let mut rows = stmt.query(params![campaign_id, after_id])?;
        while let Some(row) = rows.next()? {
            f(signature_from_row(row)?)?;
        }
        Ok(())
    }

    /// Replaces a signer's fields (a volunteer correcting the row they just entered).
    /// `false` when the new key belongs to another signer of the campaign.
    pub fn update_signature(&mut self, id: i64, s: &NewSignature) -> Result<bool> {
        self.refuse_forgotten(s)?;
        let result = self.conn().execute(
            "UPDATE signatures SET name = ?2, email = ?3, postcode = ?4, phone = ?5, phone_valid = ?6, \
             opt_in = ?7, private = ?8, sheet_id = ?9, line = ?10, dedupe_key = ?11 WHERE id = ?1",
            params![
                id,
                s.name,
                s.email,
                s.postcode,
                s.phone,
                s.phone_valid,
                s.opt_in,
                s.private,
                s.sheet_id,
                s.line,
                s.dedupe_key,
            ],
        );
        match result {
            Ok(_) => Ok(true),
            Err(rusqlite::Error::SqliteFailure(e, _))
                if e.code == rusqlite::ErrorCode::ConstraintViolation =>
            {
                Ok(false)
            }
            Err(e) => Err(e.into()),
        }
    }

    /// The highest line entered so far on a sheet of the campaign, or on no sheet
    /// (`None`); 0 when there is none.
    pub fn last_line(&self, campaign_id: i64, sheet_id: Option<&str>) -> Result<i64> {
        Ok(self
            .conn()
            .prepare_cached(LAST_LINE_SQL)?
            .query_row(params![campaign_id, sheet_id], |r| r.get(0))?)
    }

    /// Like [`SqliteStore::for_each_signature`], only the signers who joined the mailing list.
    pub fn for_each_opted_in<F>(&self, campaign_id: i64, f: F) -> Result<()>
    where
        F: FnMut(Signature) -> Result<()>,
    {
        self.stream_signatures(campaign_id, true, f)
    }

    fn stream_signatures<F>(&self, campaign_id: i64, opted_in_only: bool, mut f: F) -> Result<()>
    where
        F: FnMut(Signature) -> Result<()>,
    {
        let mut stmt = self.conn().prepare_cached(&format!(
            "SELECT {SIGNATURE_COLUMNS} FROM signatures WHERE campaign_id = ?1 AND (opt_in OR NOT ?2) ORDER BY id"
        ))?;
        let mut rows = stmt.query(params![campaign_id, opted_in_only])?;
        while let Some(row) = rows.next()? {
            f(signature_from_row(row)?)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{CampaignDraft, Scope};

    #[test]
    fn the_last_line_of_a_sheet_is_an_index_lookup() {
        let mut store = SqliteStore::open_in_memory().unwrap();
        let draft = CampaignDraft {
            title: "t".into(),
            scope: Some(Scope::Global),
            ..Default::default()
        };
        let id = store.insert_campaign(&draft, "oakland", None).unwrap().id;
        for (sheet, line) in [(Some("OAK-0001"), 1), (Some("OAK-0001"), 2), (None, 7)] {
            let s = NewSignature {
                name: format!("n{line}"),
                postcode: Some("94612".into()),
                sheet_id: sheet.map(Into::into),
                line: Some(line),
                dedupe_key: format!("k{line}"),
                ..Default::default()
            };
            store.insert_signature(id, &s).unwrap().unwrap();
        }
        assert_eq!(store.last_line(id, Some("OAK-0001")).unwrap(), 2);
        assert_eq!(store.last_line(id, None).unwrap(), 7);
        assert_eq!(store.last_line(id, Some("OAK-0002")).unwrap(), 0);
        // Asked at every prompt: must not scan every signer of a large campaign.
        for sheet in [Some("OAK-0001"), None] {
            let plan: Vec<String> = store
                .conn()
                .prepare(&format!("EXPLAIN QUERY PLAN {LAST_LINE_SQL}"))
                .unwrap()
                .query_map(params![id, sheet], |r| r.get::<_, String>(3))
                .unwrap()
                .collect::<rusqlite::Result<_>>()
                .unwrap();
            assert!(
                plan.iter().any(|p| p.contains("signatures_by_sheet")),
                "{sheet:?}: {plan:?}"
            );
        }
    }
}
