//! `campaign merge` on PostgreSQL: a database opened to read from (never given a schema,
//! every transaction read-only), the stable ids, and a merge as one transaction that
//! adds only what is missing. Sheets merged in move the prefix's counter past their
//! numbers, so a sheet printed here later never takes one of their ids.

use std::cell::{Cell, RefCell};

use postgres::binary_copy::BinaryCopyInWriter;
use postgres::types::Type;

use super::campaigns::{campaign_from_row, CAMPAIGN_COLUMNS};
use super::signatures::{signature_from_row, SIGNATURE_COLUMNS};
use super::{connect, migrations, PgStore, PgTarget, SHOWN};
use crate::clock;
use crate::error::{Error, Result};
use crate::model::{Admin, Campaign, CampaignEdit, Delivery, Sheet, SignatureEdit, Translation};
use crate::store::{sheet_seq, MergeIds, MergeWrite, MergedSigner, SignerRow, Store};
use crate::uid::{self, Uuid};

/// Incoming signers, a batch at a time: one COPY and one statement per batch, however
/// far the server is.
const STAGE: &str = "CREATE TEMP TABLE merge_rows (
        ord bigint NOT NULL, uid uuid NOT NULL, name text NOT NULL, email text, postcode text,
        phone text, phone_valid boolean NOT NULL, opt_in boolean NOT NULL,
        private boolean NOT NULL, source text NOT NULL, sheet_id text, line bigint,
        entered_by text, signed_at text NOT NULL, dedupe_key text COLLATE \"C\" NOT NULL
    ) ON COMMIT DROP";

const STAGE_COPY: &str = "COPY merge_rows (ord, uid, name, email, postcode, phone, phone_valid, \
     opt_in, private, source, sheet_id, line, entered_by, signed_at, dedupe_key) FROM STDIN (FORMAT binary)";

const STAGE_TYPES: [Type; 15] = [
    Type::INT8,
    Type::UUID,
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
];

/// Adds the staged signers not here by id, in order, a key already in the campaign
/// left out; then says per row: here before (its id), added (its new id), or neither
/// (a duplicate). The outer query reads `signatures` as it was before the insert.
const STAGE_INSERT: &str = "WITH added AS (
        INSERT INTO signatures (campaign_id, name, email, postcode, phone, phone_valid, opt_in,
            private, source, sheet_id, line, entered_by, signed_at, dedupe_key, uid)
        SELECT $1, name, email, postcode, phone, phone_valid, opt_in, private, source, sheet_id,
            line, entered_by, signed_at, dedupe_key, uid
        FROM merge_rows m
        WHERE NOT EXISTS (SELECT 1 FROM signatures s WHERE s.uid = m.uid)
        ORDER BY ord
        ON CONFLICT (campaign_id, dedupe_key) DO NOTHING
        RETURNING id, uid
    )
    SELECT m.ord, s.id, a.id FROM merge_rows m
    LEFT JOIN signatures s ON s.uid = m.uid
    LEFT JOIN added a ON a.uid = m.uid
    ORDER BY m.ord";

/// Held (for one transaction) by whoever merges into this database: "merge" in ASCII.
const MERGE_LOCK: i64 = 0x006d_6572_6765;

impl PgStore {
    /// Connects to an existing campaign database to read from (see
    /// `store::open_existing`): one without campaign's tables is refused, not created.
    pub fn open_existing(target: &PgTarget) -> Result<PgStore> {
        *SHOWN.lock().unwrap_or_else(|e| e.into_inner()) = Some(target.to_string());
        let mut client = connect(target)?;
        let shown = target.to_string();
        let found = migrations::version(&mut client)?;
        migrations::refuse_newer(&shown, found)?;
        if found == 0 {
            return Err(Error::Invalid(format!(
                "{shown} is not a campaign database (it has no campaign tables); nothing was read"
            )));
        }
        if found < migrations::LATEST {
            migrations::migrate_to(&mut client, &shown, migrations::LATEST)?;
        }
        // Read from, never written.
        client.batch_execute("SET default_transaction_read_only = on")?;
        let kind = super::team::detect(&mut client)?;
        Ok(PgStore {
            kind,
            client: RefCell::new(client),
            target: target.clone(),
            clock: clock::system(),
            in_tx: Cell::new(false),
            cursors: Cell::new(0),
        })
    }

    /// The server (its start time and port) and the database and schema on it.
    pub fn identity(&self) -> Result<String> {
        let row = self.client().query_one(
            "SELECT current_database() || ':' || current_setting('port') || ':' || \
             pg_postmaster_start_time()::text || ':' || current_schema()",
            &[],
        )?;
        Ok(format!("postgres:{}", row.try_get::<_, String>(0)?))
    }

    pub fn campaign_by_uid(&self, uid: Uuid) -> Result<Option<Campaign>> {
        self.client()
            .query_opt(
                &format!("SELECT {CAMPAIGN_COLUMNS} FROM campaigns c WHERE c.uid = $1"),
                &[&uid],
            )?
            .map(|r| campaign_from_row(&r))
            .transpose()
    }

    pub fn merge_ids(&self, campaign_id: i64) -> Result<MergeIds> {
        let mut client = self.client();
        let campaign = client
            .query_opt("SELECT uid FROM campaigns WHERE id = $1", &[&campaign_id])?
            .map(|r| r.try_get::<_, Uuid>(0))
            .transpose()?;
        let sheets = client
            .query(
                "SELECT sheet_id, uid FROM sheets WHERE campaign_id = $1 ORDER BY seq",
                &[&campaign_id],
            )?
            .iter()
            .map(|r| Ok((r.try_get(0)?, Some(r.try_get(1)?))))
            .collect::<Result<_>>()?;
        let deliveries = client
            .query(
                "SELECT id, uid FROM deliveries WHERE campaign_id = $1 ORDER BY id",
                &[&campaign_id],
            )?
            .iter()
            .map(|r| Ok((r.try_get(0)?, Some(r.try_get(1)?))))
            .collect::<Result<_>>()?;
        Ok(MergeIds {
            campaign,
            sheets,
            deliveries,
        })
    }

    pub fn for_each_signer_row(
        &self,
        campaign_id: i64,
        f: &mut dyn FnMut(SignerRow) -> Result<()>,
    ) -> Result<()> {
        self.stream(
            &format!(
                "SELECT {SIGNATURE_COLUMNS}, dedupe_key, uid FROM signatures \
                 WHERE campaign_id = $1 ORDER BY id"
            ),
            &[&campaign_id],
            &mut |r| {
                f(SignerRow {
                    signature: signature_from_row(r)?,
                    dedupe_key: r.try_get(14)?,
                    uid: Some(r.try_get(15)?),
                })
            },
        )
    }

    /// Starts a merge: one transaction until `commit`; dropped before, rolled back.
    pub fn begin_merge(&mut self) -> Result<PgMerge<'_>> {
        // Two merges at once (the same laptop twice) take turns: the second then sees
        // the first's rows and adds nothing, instead of failing on a stable id.
        self.client().batch_execute(&format!(
            "BEGIN; SELECT pg_advisory_xact_lock({MERGE_LOCK})"
        ))?;
        self.in_tx.set(true);
        let merge = PgMerge {
            store: self,
            done: false,
        };
        merge.store.client().batch_execute(STAGE)?;
        Ok(merge)
    }
}

/// A merge in progress on PostgreSQL.
pub struct PgMerge<'s> {
    store: &'s PgStore,
    done: bool,
}

impl MergeWrite for PgMerge<'_> {
    fn store(&self) -> &dyn Store {
        self.store
    }

    fn sheet_owner(&self, sheet_id: &str) -> Result<Option<(i64, Option<Uuid>)>> {
        self.store
            .client()
            .query_opt(
                "SELECT campaign_id, uid FROM sheets WHERE sheet_id = $1",
                &[&sheet_id],
            )?
            .map(|r| Ok((r.try_get(0)?, Some(r.try_get(1)?))))
            .transpose()
    }

    fn add_campaign(
        &mut self,
        uid: Uuid,
        c: &Campaign,
        picture: Option<&(Vec<u8>, String)>,
    ) -> Result<Option<i64>> {
        let row = self.store.client().query_opt(
            "INSERT INTO campaigns (slug, title, target, ask, why, scope, location, postcode, country, goal, \
             url, lang, status, picture, picture_mime, owner_email, created_at, updated_at, uid) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19) \
             ON CONFLICT (slug) DO NOTHING RETURNING id",
            &[
                &c.slug,
                &c.title,
                &c.target,
                &c.ask,
                &c.why,
                &c.scope.as_str(),
                &c.location,
                &c.postcode,
                &c.country,
                &c.goal,
                &c.url,
                &c.lang.as_str(),
                &c.status.as_str(),
                &picture.map(|p| p.0.as_slice()),
                &picture.map(|p| p.1.as_str()),
                &c.owner_email,
                &c.created_at,
                &c.updated_at,
                &uid,
            ],
        )?;
        Ok(row.map(|r| r.try_get(0)).transpose()?)
    }

    fn add_translation(&mut self, campaign_id: i64, t: &Translation) -> Result<bool> {
        let Some(lang) = t.lang else {
            return Ok(false);
        };
        let added = self.store.client().execute(
            "INSERT INTO campaign_texts (campaign_id, lang, title, target, ask, why, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING",
            &[
                &campaign_id,
                &lang.as_str(),
                &t.title,
                &t.target,
                &t.ask,
                &t.why,
                &self.store.now(),
            ],
        )?;
        Ok(added == 1)
    }

    fn add_admin(&mut self, campaign_id: i64, a: &Admin) -> Result<bool> {
        let added = self.store.client().execute(
            "INSERT INTO admins (campaign_id, email, status, invited_by, invited_at, activated_at) \
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
            &[
                &campaign_id,
                &a.email,
                &a.status.as_str(),
                &a.invited_by,
                &a.invited_at,
                &a.activated_at,
            ],
        )?;
        Ok(added == 1)
    }

    fn add_sheet(&mut self, campaign_id: i64, uid: Option<Uuid>, s: &Sheet) -> Result<bool> {
        let seq = sheet_seq(&s.sheet_id);
        let uid = uid.unwrap_or_else(uid::fresh);
        let mut client = self.store.client();
        let added = client.execute(
            "INSERT INTO sheets (sheet_id, campaign_id, seq, lines, printed_at, uid) \
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
            &[
                &s.sheet_id,
                &campaign_id,
                &seq,
                &s.lines,
                &s.printed_at,
                &uid,
            ],
        )?;
        if added == 1 && seq > 0 {
            if let Some((prefix, _)) = s.sheet_id.rsplit_once('-') {
                client.execute(
                    "INSERT INTO sheet_numbers AS n (prefix, last) VALUES ($1, $2) \
                     ON CONFLICT (prefix) DO UPDATE SET last = GREATEST(n.last, $2)",
                    &[&prefix, &seq],
                )?;
            }
        }
        Ok(added == 1)
    }

    fn add_signatures(
        &mut self,
        campaign_id: i64,
        rows: &[SignerRow],
    ) -> Result<Vec<MergedSigner>> {
        if rows.is_empty() {
            return Ok(Vec::new());
        }
        let mut client = self.store.client();
        client.batch_execute("TRUNCATE merge_rows")?;
        let mut writer = BinaryCopyInWriter::new(client.copy_in(STAGE_COPY)?, &STAGE_TYPES);
        let mut uids = Vec::with_capacity(rows.len());
        for (ord, row) in rows.iter().enumerate() {
            let s = &row.signature;
            // A row without an id (written by hand) gets one here.
            let uid = row.uid.unwrap_or_else(uid::fresh);
            uids.push(uid);
            writer.write(&[
                &(ord as i64),
                &uid,
                &s.name,
                &s.email,
                &s.postcode,
                &s.phone,
                &s.phone_valid,
                &s.opt_in,
                &s.private,
                &s.source.as_str(),
                &s.sheet_id,
                &s.line,
                &s.entered_by,
                &s.signed_at,
                &row.dedupe_key,
            ])?;
        }
        writer.finish()?;
        let mut outcomes = vec![MergedSigner::Duplicate; rows.len()];
        for r in client.query(STAGE_INSERT, &[&campaign_id])? {
            let ord: i64 = r.try_get(0)?;
            let here: Option<i64> = r.try_get(1)?;
            let added: Option<i64> = r.try_get(2)?;
            outcomes[ord as usize] = match (here, added) {
                (Some(id), _) => MergedSigner::Already(id),
                (None, Some(id)) => MergedSigner::Added(id),
                (None, None) => MergedSigner::Duplicate,
            };
        }
        Ok(outcomes)
    }

    fn add_delivery(&mut self, campaign_id: i64, uid: Option<Uuid>, d: &Delivery) -> Result<bool> {
        let uid = uid.unwrap_or_else(uid::fresh);
        let added = self.store.client().execute(
            "INSERT INTO deliveries (campaign_id, delivered_at, show_level, included_fields, recipient, \
             file, file_sha256, signatures, uid) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (uid) DO NOTHING",
            &[
                &campaign_id,
                &d.delivered_at,
                &d.show_level,
                &d.included_fields.join(","),
                &d.recipient,
                &d.file,
                &d.file_sha256,
                &d.signatures,
                &uid,
            ],
        )?;
        Ok(added == 1)
    }

    fn add_campaign_edit(&mut self, campaign_id: i64, e: &CampaignEdit) -> Result<bool> {
        let added = self.store.client().execute(
            "INSERT INTO campaign_edits (campaign_id, field, old_value, new_value, edited_by, edited_at) \
             SELECT $1, $2::text, $3::text, $4::text, $5::text, $6::text WHERE NOT EXISTS (SELECT 1 FROM campaign_edits \
             WHERE campaign_id = $1 AND field = $2 AND old_value IS NOT DISTINCT FROM $3 \
             AND new_value IS NOT DISTINCT FROM $4 AND edited_by IS NOT DISTINCT FROM $5 AND edited_at = $6)",
            &[&campaign_id, &e.field, &e.old_value, &e.new_value, &e.edited_by, &e.edited_at],
        )?;
        Ok(added == 1)
    }

    fn add_signature_edit(&mut self, campaign_id: i64, e: &SignatureEdit) -> Result<bool> {
        let added = self.store.client().execute(
            "INSERT INTO signature_edits (campaign_id, signature_id, sheet_id, line, action, field, \
             old_value, new_value, edited_by, edited_at) \
             SELECT $1, $2, $3::text, $4::bigint, $5::text, $6::text, $7::text, $8::text, $9::text, $10::text \
             WHERE NOT EXISTS (SELECT 1 FROM signature_edits \
             WHERE campaign_id = $1 AND sheet_id IS NOT DISTINCT FROM $3 AND line IS NOT DISTINCT FROM $4 \
             AND action = $5 AND field IS NOT DISTINCT FROM $6 AND old_value IS NOT DISTINCT FROM $7 \
             AND new_value IS NOT DISTINCT FROM $8 AND edited_by IS NOT DISTINCT FROM $9 AND edited_at = $10)",
            &[
                &campaign_id,
                &e.signature_id,
                &e.sheet_id,
                &e.line,
                &e.action,
                &e.field,
                &e.old_value,
                &e.new_value,
                &e.edited_by,
                &e.edited_at,
            ],
        )?;
        Ok(added == 1)
    }

    fn commit(mut self: Box<Self>) -> Result<()> {
        self.store.client().batch_execute("COMMIT")?;
        self.done = true;
        self.store.in_tx.set(false);
        Ok(())
    }
}

impl Drop for PgMerge<'_> {
    fn drop(&mut self) {
        if !self.done {
            let _ = self.store.client().batch_execute("ROLLBACK");
            self.store.in_tx.set(false);
        }
    }
}
