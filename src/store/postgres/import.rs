//! Bulk import into PostgreSQL: one transaction. Rows are streamed with `COPY ... FROM
//! STDIN (FORMAT binary)` into a temporary table, then one `INSERT ... SELECT ... ON
//! CONFLICT DO NOTHING` adds the new signers: all or nothing, and the counts are exact
//! (the rows staged minus the rows the insert added are the duplicates, within the file
//! and against the campaign).
//!
//! Many imports (and volunteers typing) into one campaign at once: the unique index on
//! (campaign, key) decides who has a signer. An insert that meets a key another
//! transaction has just added waits for that transaction, and every import inserts in
//! key order, so two imports never wait on each other in a circle (a deadlock); since
//! the insert is the last statement before the commit, nobody waits longer than one
//! statement of another. Ids follow file order (export lists signers as entered).

use postgres::binary_copy::BinaryCopyInWriter;
use postgres::types::Type;

use super::PgStore;
use crate::error::{Error, Result};
use crate::model::{NewSignature, TeamKind};
use crate::store::{Import, ImportDefaults, ImportOutcome, UnknownSheet};

/// Sorting a million staged rows in memory rather than in temporary files, for the
/// length of the import only.
const IMPORT_WORK_MEM: &str = "64MB";

const STAGE: &str = "CREATE TEMP TABLE import_rows (
        ord bigint NOT NULL, name text NOT NULL, email text, postcode text, phone text,
        phone_valid boolean NOT NULL, opt_in boolean NOT NULL, private boolean NOT NULL,
        source text NOT NULL, sheet_id text, line bigint, entered_by text,
        signed_at text NOT NULL, dedupe_key text COLLATE \"C\" NOT NULL, uid uuid NOT NULL
    ) ON COMMIT DROP";

const COPY: &str = "COPY import_rows (ord, name, email, postcode, phone, phone_valid, opt_in, \
     private, source, sheet_id, line, entered_by, signed_at, dedupe_key, uid) FROM STDIN (FORMAT binary)";

const COPY_TYPES: [Type; 15] = [
    Type::INT8,
    Type::TEXT,
    Type::TEXT,
    Type::TEXT,
    Type::TEXT,
    Type::BOOL,
    Type::BOOL,
    Type::BOOL,
    Type::TEXT,
    Type::TEXT,
    Type::INT8,
    Type::TEXT,
    Type::TEXT,
    Type::TEXT,
    Type::UUID,
];

/// Ids are drawn in file order; the first row of each key, in key order, is inserted.
const INSERT: &str = "WITH numbered AS MATERIALIZED (
        SELECT nextval(pg_get_serial_sequence('signatures', 'id')) AS id, r.*
        FROM (SELECT * FROM import_rows ORDER BY ord) r
    )
    INSERT INTO signatures (id, campaign_id, name, email, postcode, phone, phone_valid, opt_in,
        private, source, sheet_id, line, entered_by, signed_at, dedupe_key, uid)
    SELECT DISTINCT ON (dedupe_key) id, $1, name, email, postcode, phone, phone_valid, opt_in,
        private, source, sheet_id, line, entered_by, signed_at, dedupe_key, uid
    FROM numbered ORDER BY dedupe_key, id
    ON CONFLICT (campaign_id, dedupe_key) DO NOTHING";

/// Sheet ids the rows name that were never printed for the campaign, in file order.
const UNKNOWN_SHEETS: &str = "SELECT sheet_id, count(*) FROM import_rows i
    WHERE sheet_id IS NOT NULL
      AND NOT EXISTS (SELECT 1 FROM sheets s WHERE s.campaign_id = $1 AND s.sheet_id = i.sheet_id)
    GROUP BY sheet_id ORDER BY min(ord)";

/// An import in progress; dropped without `commit`, it is rolled back.
pub struct PgImport<'s> {
    store: &'s mut PgStore,
    campaign_id: i64,
    defaults: ImportDefaults,
    /// Rows staged so far (the next row's `ord` is one more).
    staged: i64,
    any_sheet: bool,
    done: bool,
    /// People who asked to be forgotten, read in the import's transaction.
    tombstones: crate::store::tombstones::Tombstones,
    forgotten: u64,
}

impl PgStore {
    /// Starts an import into `campaign_id`: one transaction until `commit`. The campaign
    /// is held (`FOR KEY SHARE`) so it cannot go away under the import.
    pub fn begin_import(
        &mut self,
        campaign_id: i64,
        defaults: ImportDefaults,
    ) -> Result<PgImport<'_>> {
        let volunteer = self.kind == Some(TeamKind::Volunteer);
        self.client().batch_execute("BEGIN")?;
        let started = (|| -> Result<()> {
            let mut client = self.client();
            // A volunteer may not lock the row (that needs UPDATE): the signers' foreign
            // key holds the campaign once the rows go in.
            let exists = client.query_opt(
                if volunteer {
                    "SELECT 1 FROM campaigns WHERE id = $1"
                } else {
                    "SELECT 1 FROM campaigns WHERE id = $1 FOR KEY SHARE"
                },
                &[&campaign_id],
            )?;
            if exists.is_none() {
                return Err(Error::CampaignNotFound(campaign_id.to_string()));
            }
            // With the campaign held: a purge that ended after the command loaded it is
            // seen here, so no name lands in a purged campaign.
            super::privacy::refuse_purged_campaign(&mut *client, campaign_id)?;
            client.batch_execute(&format!(
                "SET LOCAL work_mem = '{IMPORT_WORK_MEM}'; {STAGE}"
            ))?;
            Ok(())
        })();
        let tombstones = started.and_then(|()| super::privacy::load_tombstones(self));
        let tombstones = match tombstones {
            Ok(t) => t,
            Err(e) => {
                let _ = self.client().batch_execute("ROLLBACK");
                return Err(e);
            }
        };
        Ok(PgImport {
            store: self,
            campaign_id,
            defaults,
            staged: 0,
            any_sheet: false,
            done: false,
            tombstones,
            forgotten: 0,
        })
    }
}

impl PgImport<'_> {
    fn stage(&mut self, rows: &[NewSignature]) -> Result<()> {
        let d = &self.defaults;
        let mut client = self.store.client();
        let mut writer = BinaryCopyInWriter::new(client.copy_in(COPY)?, &COPY_TYPES);
        for s in rows {
            self.staged += 1;
            self.any_sheet |= s.sheet_id.is_some();
            writer.write(&[
                &self.staged,
                &s.name,
                &s.email,
                &s.postcode,
                &s.phone,
                &s.phone_valid,
                &s.opt_in,
                &s.private,
                &s.source.unwrap_or(d.source).as_str(),
                &s.sheet_id,
                &s.line,
                &s.entered_by.as_deref().or(d.entered_by.as_deref()),
                &s.signed_at.as_deref().unwrap_or(&d.signed_at),
                &s.dedupe_key,
                // Every row its own stable id (see `crate::uid`), made as it is staged.
                &crate::uid::fresh(),
            ])?;
        }
        writer.finish()?;
        Ok(())
    }

    fn finish(&mut self) -> Result<ImportOutcome> {
        let mut client = self.store.client();
        let unknown_sheets = if self.any_sheet {
            client
                .query(UNKNOWN_SHEETS, &[&self.campaign_id])?
                .iter()
                .map(|r| {
                    Ok(UnknownSheet {
                        sheet_id: r.try_get(0)?,
                        rows: r.try_get::<_, i64>(1)? as u64,
                    })
                })
                .collect::<Result<Vec<_>>>()?
        } else {
            Vec::new()
        };
        drop(client);
        let added = if self.store.kind == Some(TeamKind::Volunteer) {
            self.volunteer_insert()?
        } else {
            self.store.client().execute(INSERT, &[&self.campaign_id])?
        };
        let mut client = self.store.client();
        client.batch_execute("COMMIT")?;
        self.done = true;
        Ok(ImportOutcome {
            added,
            duplicates: self.staged as u64 - added,
            forgotten: self.forgotten,
            unknown_sheets,
        })
    }
}

/// A volunteer's insert: no `ON CONFLICT` (its arbiter needs SELECT on the key).
const VOLUNTEER_INSERT: &str = "WITH numbered AS MATERIALIZED (
        SELECT nextval(pg_get_serial_sequence('signatures', 'id')) AS id, r.*
        FROM (SELECT * FROM import_rows ORDER BY ord) r
    )
    INSERT INTO signatures (id, campaign_id, name, email, postcode, phone, phone_valid, opt_in,
        private, source, sheet_id, line, entered_by, signed_at, dedupe_key, uid)
    SELECT DISTINCT ON (dedupe_key) id, $1, name, email, postcode, phone, phone_valid, opt_in,
        private, source, sheet_id, line, entered_by, signed_at, dedupe_key, uid
    FROM numbered ORDER BY dedupe_key, id";

/// The staged rows whose key the campaign has (`known_keys()` answers only for keys given).
const VOLUNTEER_DROP_KNOWN: &str = "DELETE FROM import_rows WHERE dedupe_key IN (
        SELECT known_keys($1, ARRAY(SELECT DISTINCT dedupe_key FROM import_rows)))";

/// Times a volunteer's import starts its insert again after another writer added one of
/// its keys in between (each time, at least one writer has finished).
const VOLUNTEER_TRIES: usize = 50;

impl PgImport<'_> {
    /// Drops the keys the campaign has, then inserts the rest; a key added meanwhile by
    /// someone else (a unique violation) undoes that attempt only, and it starts again.
    fn volunteer_insert(&mut self) -> Result<u64> {
        let mut client = self.store.client();
        for _ in 0..VOLUNTEER_TRIES {
            client.batch_execute("SAVEPOINT volunteer_insert")?;
            client.execute(VOLUNTEER_DROP_KNOWN, &[&self.campaign_id])?;
            match client.execute(VOLUNTEER_INSERT, &[&self.campaign_id]) {
                Ok(added) => {
                    client.batch_execute("RELEASE SAVEPOINT volunteer_insert")?;
                    return Ok(added);
                }
                Err(e) if super::is_code(&e, &postgres::error::SqlState::UNIQUE_VIOLATION) => {
                    client.batch_execute("ROLLBACK TO SAVEPOINT volunteer_insert")?;
                }
                Err(e) => return Err(e.into()),
            }
        }
        Err(Error::Busy {
            path: super::shown(),
            waited: None,
        })
    }
}

impl Import for PgImport<'_> {
    fn add_batch(&mut self, rows: &[NewSignature]) -> Result<()> {
        if rows.is_empty() {
            return Ok(());
        }
        // No hash at all while nobody was ever forgotten (the import benchmark).
        if !self.tombstones.is_empty() {
            let kept: Vec<NewSignature> = rows
                .iter()
                .filter(|s| !self.tombstones.forgets(s))
                .cloned()
                .collect();
            self.forgotten += (rows.len() - kept.len()) as u64;
            return self.stage(&kept);
        }
        self.stage(rows)
    }

    fn commit(mut self: Box<Self>) -> Result<ImportOutcome> {
        self.finish()
    }
}

impl Drop for PgImport<'_> {
    fn drop(&mut self) {
        if !self.done {
            let _ = self.store.client().batch_execute("ROLLBACK");
        }
    }
}
