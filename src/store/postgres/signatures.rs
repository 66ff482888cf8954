//! Signature rows: one typed signer (committed at once), and streaming them back (the
//! twin of `sqlite/signatures.rs`).

use postgres::error::SqlState;
use postgres::Row;

use super::{is_code, PgStore};
use crate::error::Result;
use crate::model::{NewSignature, Signature, Source, TeamKind};

pub(super) const SIGNATURE_COLUMNS: &str = "id, campaign_id, name, email, postcode, phone, \
     phone_valid, opt_in, private, source, sheet_id, line, entered_by, signed_at";

/// The highest line of one sheet: one step down `signatures_by_sheet` (`IS NOT
/// DISTINCT FROM` would not use the index, hence two queries).
const LAST_LINE_SQL: &str = "SELECT COALESCE(MAX(line), 0)::bigint FROM signatures \
     WHERE campaign_id = $1 AND sheet_id = $2 AND line IS NOT NULL";
/// The same on no sheet.
const LAST_LINE_NO_SHEET_SQL: &str = "SELECT COALESCE(MAX(line), 0)::bigint FROM signatures \
     WHERE campaign_id = $1 AND sheet_id IS NULL AND line IS NOT NULL";

pub(super) fn signature_from_row(r: &Row) -> Result<Signature> {
    let source: &str = r.try_get(9)?;
    Ok(Signature {
        id: r.try_get(0)?,
        campaign_id: r.try_get(1)?,
        name: r.try_get(2)?,
        email: r.try_get(3)?,
        postcode: r.try_get(4)?,
        phone: r.try_get(5)?,
        phone_valid: r.try_get(6)?,
        opt_in: r.try_get(7)?,
        private: r.try_get(8)?,
        source: if source == "paper" {
            Source::Paper
        } else {
            Source::Online
        },
        sheet_id: r.try_get(10)?,
        line: r.try_get(11)?,
        entered_by: r.try_get(12)?,
        signed_at: r.try_get(13)?,
    })
}

/// The columns a typed signer is stored with after its campaign, in the order of
/// [`typed_values`] (an organizer's insert and a volunteer's share them).
pub(super) const TYPED_COLUMNS: &str = "name, email, postcode, phone, phone_valid, opt_in, \
     private, source, sheet_id, line, entered_by, signed_at, dedupe_key, uid";

/// The values of [`TYPED_COLUMNS`]; `source` is the signer's source or the default.
pub(super) fn typed_values<'a>(
    s: &'a NewSignature,
    source: &'a &'static str,
    signed_at: &'a String,
    uid: &'a uuid::Uuid,
) -> [&'a (dyn postgres::types::ToSql + Sync); 14] {
    [
        &s.name,
        &s.email,
        &s.postcode,
        &s.phone,
        &s.phone_valid,
        &s.opt_in,
        &s.private,
        source,
        &s.sheet_id,
        &s.line,
        &s.entered_by,
        signed_at,
        &s.dedupe_key,
        uid,
    ]
}

/// The source a signer is stored with when it does not say.
pub(super) fn source_of(s: &NewSignature) -> &'static str {
    s.source.unwrap_or(Source::Paper).as_str()
}

impl PgStore {
    /// Saves one signer in its own statement, committed at once. `None` when the
    /// campaign already has a signer with this key, even one typed a moment ago on
    /// another machine: the unique index decides (waiting, at most, for the one
    /// statement of an import that is adding the same key).
    pub fn insert_signature(&mut self, campaign_id: i64, s: &NewSignature) -> Result<Option<i64>> {
        self.refuse_forgotten(s)?;
        // A typed session that outlived a purge (run elsewhere) adds no name to it.
        super::privacy::refuse_purged_campaign(&mut *self.client(), campaign_id)?;
        let signed_at = s.signed_at.clone().unwrap_or_else(|| self.now());
        if self.kind == Some(TeamKind::Volunteer) {
            return self.volunteer_insert(campaign_id, s, &signed_at);
        }
        let (source, uid) = (source_of(s), crate::uid::fresh());
        let mut params: Vec<&(dyn postgres::types::ToSql + Sync)> = vec![&campaign_id];
        params.extend(typed_values(s, &source, &signed_at, &uid));
        let row = self.client().query_opt(
            &format!(
                "INSERT INTO signatures (campaign_id, {TYPED_COLUMNS}) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) \
                 ON CONFLICT (campaign_id, dedupe_key) DO NOTHING RETURNING id"
            ),
            &params,
        )?;
        Ok(row.map(|r| r.try_get(0)).transpose()?)
    }

    /// Replaces a signer's fields; `false` when the new key belongs to another signer.
    pub fn update_signature(&mut self, id: i64, s: &NewSignature) -> Result<bool> {
        self.refuse_forgotten(s)?;
        if self.kind == Some(TeamKind::Volunteer) {
            return self.volunteer_correct(id, s);
        }
        let result = self.client().execute(
            "UPDATE signatures SET name = $2, email = $3, postcode = $4, phone = $5, \
             phone_valid = $6, opt_in = $7, private = $8, sheet_id = $9, line = $10, \
             dedupe_key = $11 WHERE id = $1",
            &[
                &id,
                &s.name,
                &s.email,
                &s.postcode,
                &s.phone,
                &s.phone_valid,
                &s.opt_in,
                &s.private,
                &s.sheet_id,
                &s.line,
                &s.dedupe_key,
            ],
        );
        match result {
            Ok(_) => Ok(true),
            Err(e) if is_code(&e, &SqlState::UNIQUE_VIOLATION) => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    /// The campaign's signer with this key, if any: the earlier entry of a duplicate.
    pub fn find_signature_by_key(&self, campaign_id: i64, key: &str) -> Result<Option<Signature>> {
        if self.kind == Some(TeamKind::Volunteer) {
            return self.volunteer_earlier_entry(campaign_id, key);
        }
        let row = self.client().query_opt(
            &format!(
                "SELECT {SIGNATURE_COLUMNS} FROM signatures WHERE campaign_id = $1 AND dedupe_key = $2"
            ),
            &[&campaign_id, &key],
        )?;
        row.as_ref().map(signature_from_row).transpose()
    }

    /// The highest line entered so far on a sheet (or on no sheet); 0 for none.
    pub fn last_line(&self, campaign_id: i64, sheet_id: Option<&str>) -> Result<i64> {
        if self.kind == Some(TeamKind::Volunteer) {
            return self.volunteer_last_line(campaign_id, sheet_id);
        }
        let row = match sheet_id {
            Some(sheet) => self
                .client()
                .query_one(LAST_LINE_SQL, &[&campaign_id, &sheet])?,
            None => self
                .client()
                .query_one(LAST_LINE_NO_SHEET_SQL, &[&campaign_id])?,
        };
        Ok(row.try_get(0)?)
    }

    /// Every signer of the campaign in entry order, through a cursor.
    pub fn for_each_signature(
        &self,
        campaign_id: i64,
        opted_in_only: bool,
        f: &mut dyn FnMut(Signature) -> Result<()>,
    ) -> Result<()> {
        self.stream(
            &format!(
                "SELECT {SIGNATURE_COLUMNS} FROM signatures \
                 WHERE campaign_id = $1 AND (opt_in OR NOT $2) ORDER BY id"
            ),
            &[&campaign_id, &opted_in_only],
            &mut |row| f(signature_from_row(row)?),
        )
    }
}
