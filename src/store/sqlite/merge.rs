//! `campaign merge` on SQLite: a database opened to read from (never created, read-only
//! at the current schema), the stable ids, and a merge as one `BEGIN IMMEDIATE`
//! transaction that adds only what is missing.

use std::path::Path;

use rusqlite::{params, Connection, OpenFlags, OptionalExtension, TransactionBehavior};

use super::campaigns::{campaign_from_row, CAMPAIGN_COLUMNS};
use super::signatures::{signature_from_row, SIGNATURE_COLUMNS};
use super::{busy, cipher, migrations, SqliteStore};
use crate::clock;
use crate::error::{Error, Result};
use crate::model::{Admin, Campaign, CampaignEdit, Delivery, Sheet, SignatureEdit, Translation};
use crate::store::{sheet_seq, MergeIds, MergeWrite, MergedSigner, SignerRow, Store};
use crate::uid::{self, Uuid};

fn blob(uid: Option<Uuid>) -> Option<Vec<u8>> {
    uid.map(|u| u.as_bytes().to_vec())
}

impl SqliteStore {
    /// Opens an existing campaign database to read from (see `store::open_existing`).
    pub fn open_existing(path: &Path) -> Result<SqliteStore> {
        let shown = path.display().to_string();
        match std::fs::metadata(path) {
            Ok(meta) if meta.is_file() => {}
            Ok(_) => {
                return Err(Error::Refused(format!(
                    "{shown} is not a file: name a campaign database (a .db file, or a postgres:// URL)"
                )))
            }
            Err(e) => return Err(Error::Refused(format!("cannot read {shown}: {e}"))),
        }
        let key = cipher::registered(path);
        let key_file = cipher::key_path(path);
        if key.is_none() && key_file.exists() {
            return Err(Error::Locked {
                db: shown,
                key: key_file.display().to_string(),
            });
        }
        let not_campaign = || {
            Error::Invalid(format!(
                "{shown} is not a campaign database (it has no campaigns in a form campaign writes); nothing was read"
            ))
        };
        let mut conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(|e| Error::OpenDatabase {
            path: shown.clone(),
            reason: e.to_string(),
        })?;
        cipher::quiet(&conn);
        if let Some(key) = &key {
            cipher::apply_key(&conn, key)?;
        }
        if !cipher::readable(&conn)? {
            return Err(not_campaign());
        }
        busy::install(&conn, path)?;
        let found = migrations::version(&conn)?;
        migrations::refuse_newer(&shown, found)?;
        let has_campaigns: bool = conn.query_row(
            "SELECT EXISTS (SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = 'campaigns')",
            [],
            |r| r.get(0),
        )?;
        if found == 0 || !has_campaigns {
            return Err(not_campaign());
        }
        if found < migrations::LATEST {
            // Written by an older version: brought up to date as any command would.
            drop(conn);
            return SqliteStore::open(path);
        }
        conn.set_transaction_behavior(TransactionBehavior::Deferred);
        Ok(SqliteStore {
            campaign_columns: super::campaigns::columns(found),
            conn,
            path: Some(path.to_path_buf()),
            clock: clock::system(),
            #[cfg(test)]
            busy: std::cell::Cell::new(0),
        })
    }

    /// The file's device and inode: the same for every path that names it.
    pub fn identity(&self) -> Result<String> {
        match &self.path {
            Some(path) => {
                #[cfg(unix)]
                {
                    use std::os::unix::fs::MetadataExt;
                    let meta = std::fs::metadata(path)?;
                    Ok(format!("sqlite:{}:{}", meta.dev(), meta.ino()))
                }
                #[cfg(not(unix))]
                Ok(format!("sqlite:{}", std::fs::canonicalize(path)?.display()))
            }
            None => Ok(format!("sqlite:memory:{:p}", self)),
        }
    }

    pub fn campaign_by_uid(&self, uid: Uuid) -> Result<Option<Campaign>> {
        Ok(self
            .conn()
            .query_row(
                &format!("SELECT {CAMPAIGN_COLUMNS} FROM campaigns WHERE uid = ?1"),
                [uid.as_bytes().as_slice()],
                campaign_from_row,
            )
            .optional()?)
    }

    pub fn merge_ids(&self, campaign_id: i64) -> Result<MergeIds> {
        let conn = self.conn();
        let campaign: Option<Option<Vec<u8>>> = conn
            .query_row(
                "SELECT uid FROM campaigns WHERE id = ?1",
                [campaign_id],
                |r| r.get(0),
            )
            .optional()?;
        let mut stmt =
            conn.prepare("SELECT sheet_id, uid FROM sheets WHERE campaign_id = ?1 ORDER BY seq")?;
        let sheets = stmt
            .query_map([campaign_id], |r| {
                Ok((r.get::<_, String>(0)?, uid::from_blob(r.get(1)?)))
            })?
            .collect::<rusqlite::Result<_>>()?;
        let mut stmt =
            conn.prepare("SELECT id, uid FROM deliveries WHERE campaign_id = ?1 ORDER BY id")?;
        let deliveries = stmt
            .query_map([campaign_id], |r| {
                Ok((r.get::<_, i64>(0)?, uid::from_blob(r.get(1)?)))
            })?
            .collect::<rusqlite::Result<_>>()?;
        Ok(MergeIds {
            campaign: uid::from_blob(campaign.flatten()),
            sheets,
            deliveries,
        })
    }

    pub fn for_each_signer_row(
        &self,
        campaign_id: i64,
        f: &mut dyn FnMut(SignerRow) -> Result<()>,
    ) -> Result<()> {
        let mut stmt = self.conn().prepare_cached(&format!(
            "SELECT {SIGNATURE_COLUMNS}, dedupe_key, uid FROM signatures WHERE campaign_id = ?1 ORDER BY id"
        ))?;
        let mut rows = stmt.query([campaign_id])?;
        while let Some(r) = rows.next()? {
            f(SignerRow {
                signature: signature_from_row(r)?,
                dedupe_key: r.get(14)?,
                uid: uid::from_blob(r.get(15)?),
            })?;
        }
        Ok(())
    }

    /// Starts a merge: `BEGIN IMMEDIATE` (waiting, and saying so, while another process
    /// writes) until `commit`; dropped before, it is rolled back.
    pub fn begin_merge(&mut self) -> Result<SqliteMerge<'_>> {
        self.conn().execute_batch("BEGIN IMMEDIATE")?;
        Ok(SqliteMerge {
            store: self,
            done: false,
        })
    }
}

/// A merge in progress on SQLite.
pub struct SqliteMerge<'s> {
    store: &'s SqliteStore,
    done: bool,
}

impl SqliteMerge<'_> {
    fn conn(&self) -> &Connection {
        self.store.conn()
    }

    fn add_signature(&self, campaign_id: i64, row: &SignerRow) -> Result<MergedSigner> {
        let conn = self.conn();
        if let Some(uid) = row.uid {
            let here: Option<i64> = conn
                .prepare_cached("SELECT id FROM signatures WHERE uid = ?1")?
                .query_row([uid.as_bytes().as_slice()], |r| r.get(0))
                .optional()?;
            if let Some(id) = here {
                return Ok(MergedSigner::Already(id));
            }
        }
        let s = &row.signature;
        let uid = row.uid.unwrap_or_else(uid::fresh);
        // A key already in the campaign is ignored by the `signature_keys_unique` trigger.
        let added = conn
            .prepare_cached(
                "INSERT INTO signatures (campaign_id, name, email, postcode, phone, phone_valid, opt_in, \
                 private, source, sheet_id, line, entered_by, signed_at, dedupe_key, uid) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)",
            )?
            .execute(params![
                campaign_id,
                s.name,
                s.email,
                s.postcode,
                s.phone,
                s.phone_valid,
                s.opt_in,
                s.private,
                s.source.as_str(),
                s.sheet_id,
                s.line,
                s.entered_by,
                s.signed_at,
                row.dedupe_key,
                uid.as_bytes().as_slice(),
            ])?;
        Ok(match added {
            1 => MergedSigner::Added(conn.last_insert_rowid()),
            _ => MergedSigner::Duplicate,
        })
    }
}

impl MergeWrite for SqliteMerge<'_> {
    fn store(&self) -> &dyn Store {
        self.store
    }

    fn sheet_owner(&self, sheet_id: &str) -> Result<Option<(i64, Option<Uuid>)>> {
        Ok(self
            .conn()
            .query_row(
                "SELECT campaign_id, uid FROM sheets WHERE sheet_id = ?1",
                [sheet_id],
                |r| Ok((r.get(0)?, uid::from_blob(r.get(1)?))),
            )
            .optional()?)
    }

    fn add_campaign(
        &mut self,
        uid: Uuid,
        c: &Campaign,
        picture: Option<&(Vec<u8>, String)>,
    ) -> Result<Option<i64>> {
        let added = self.conn().execute(
            "INSERT INTO campaigns (slug, title, target, ask, why, scope, location, postcode, country, goal, \
             url, lang, status, picture, picture_mime, owner_email, created_at, updated_at, uid) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19) \
             ON CONFLICT (slug) DO NOTHING",
            params![
                c.slug,
                c.title,
                c.target,
                c.ask,
                c.why,
                c.scope.as_str(),
                c.location,
                c.postcode,
                c.country,
                c.goal,
                c.url,
                c.lang.as_str(),
                c.status.as_str(),
                picture.map(|p| p.0.as_slice()),
                picture.map(|p| p.1.as_str()),
                c.owner_email,
                c.created_at,
                c.updated_at,
                uid.as_bytes().as_slice(),
            ],
        )?;
        Ok((added == 1).then(|| self.conn().last_insert_rowid()))
    }

    fn add_translation(&mut self, campaign_id: i64, t: &Translation) -> Result<bool> {
        let Some(lang) = t.lang else {
            return Ok(false);
        };
        let added = self.conn().execute(
            "INSERT INTO campaign_texts (campaign_id, lang, title, target, ask, why, updated_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT DO NOTHING",
            params![
                campaign_id,
                lang.as_str(),
                t.title,
                t.target,
                t.ask,
                t.why,
                self.store.now()
            ],
        )?;
        Ok(added == 1)
    }

    fn add_admin(&mut self, campaign_id: i64, a: &Admin) -> Result<bool> {
        let added = self.conn().execute(
            "INSERT INTO admins (campaign_id, email, status, invited_by, invited_at, activated_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT DO NOTHING",
            params![
                campaign_id,
                a.email,
                a.status.as_str(),
                a.invited_by,
                a.invited_at,
                a.activated_at
            ],
        )?;
        Ok(added == 1)
    }

    fn add_sheet(&mut self, campaign_id: i64, uid: Option<Uuid>, s: &Sheet) -> Result<bool> {
        let added = self.conn().execute(
            "INSERT INTO sheets (sheet_id, campaign_id, seq, lines, printed_at, uid) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT DO NOTHING",
            params![
                s.sheet_id,
                campaign_id,
                sheet_seq(&s.sheet_id),
                s.lines,
                s.printed_at,
                blob(uid)
            ],
        )?;
        Ok(added == 1)
    }

    fn add_signatures(
        &mut self,
        campaign_id: i64,
        rows: &[SignerRow],
    ) -> Result<Vec<MergedSigner>> {
        rows.iter()
            .map(|row| self.add_signature(campaign_id, row))
            .collect()
    }

    fn add_delivery(&mut self, campaign_id: i64, uid: Option<Uuid>, d: &Delivery) -> Result<bool> {
        let added = self.conn().execute(
            "INSERT INTO deliveries (campaign_id, delivered_at, show_level, included_fields, recipient, \
             file, file_sha256, signatures, uid) \
             SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9 \
             WHERE ?9 IS NULL OR NOT EXISTS (SELECT 1 FROM deliveries WHERE uid = ?9)",
            params![
                campaign_id,
                d.delivered_at,
                d.show_level,
                d.included_fields.join(","),
                d.recipient,
                d.file,
                d.file_sha256,
                d.signatures,
                blob(uid)
            ],
        )?;
        Ok(added == 1)
    }

    fn add_campaign_edit(&mut self, campaign_id: i64, e: &CampaignEdit) -> Result<bool> {
        let added = self.conn().prepare_cached(
            "INSERT INTO campaign_edits (campaign_id, field, old_value, new_value, edited_by, edited_at) \
             SELECT ?1, ?2, ?3, ?4, ?5, ?6 WHERE NOT EXISTS (SELECT 1 FROM campaign_edits \
             WHERE campaign_id = ?1 AND field = ?2 AND old_value IS ?3 AND new_value IS ?4 \
             AND edited_by IS ?5 AND edited_at = ?6)",
        )?
        .execute(params![campaign_id, e.field, e.old_value, e.new_value, e.edited_by, e.edited_at])?;
        Ok(added == 1)
    }

    fn add_signature_edit(&mut self, campaign_id: i64, e: &SignatureEdit) -> Result<bool> {
        let added = self.conn().prepare_cached(
            "INSERT INTO signature_edits (campaign_id, signature_id, sheet_id, line, action, field, \
             old_value, new_value, edited_by, edited_at) \
             SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10 WHERE NOT EXISTS (SELECT 1 FROM signature_edits \
             WHERE campaign_id = ?1 AND sheet_id IS ?3 AND line IS ?4 AND action = ?5 AND field IS ?6 \
             AND old_value IS ?7 AND new_value IS ?8 AND edited_by IS ?9 AND edited_at = ?10)",
        )?
        .execute(params![
            campaign_id,
            e.signature_id,
            e.sheet_id,
            e.line,
            e.action,
            e.field,
            e.old_value,
            e.new_value,
            e.edited_by,
            e.edited_at
        ])?;
        Ok(added == 1)
    }

    fn commit(mut self: Box<Self>) -> Result<()> {
        self.conn().execute_batch("COMMIT")?;
        self.done = true;
        Ok(())
    }
}

impl Drop for SqliteMerge<'_> {
    fn drop(&mut self) {
        if !self.done {
            let _ = self.conn().execute_batch("ROLLBACK");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{CampaignDraft, NewSignature, Scope, Source};
    use crate::store::ImportDefaults;

    fn import(store: &mut SqliteStore, campaign_id: i64, n: usize) -> std::time::Duration {
        let rows: Vec<NewSignature> = (0..n)
            .map(|i| NewSignature {
                name: format!("Signer {i}"),
                email: Some(format!("s{i}@example.org")),
                postcode: Some("94612".into()),
                dedupe_key: format!("e:s{i}@example.org"),
                ..Default::default()
            })
            .collect();
        let start = std::time::Instant::now();
        let mut import = store
            .begin_import(
                campaign_id,
                ImportDefaults {
                    source: Source::Online,
                    entered_by: None,
                    signed_at: "2026-12-01T10:00:00Z".into(),
                },
            )
            .unwrap();
        for chunk in rows.chunks(10_000) {
            import.add_batch(chunk).unwrap();
        }
        assert_eq!(import.commit().unwrap().added, n as u64);
        start.elapsed()
    }

    /// What the stable ids cost an import: 100,000 rows into a file with the uid index,
    /// and without it. Measured, not asserted (no timed tests); run with
    /// `cargo test --lib cost_of_ids_on_an_import -- --ignored --nocapture`.
    #[test]
    #[ignore]
    fn cost_of_ids_on_an_import() {
        let dir = tempfile::tempdir().unwrap();
        for with_index in [true, false, true, false] {
            let db = dir
                .path()
                .join(format!("{with_index}-{}.db", crate::uid::fresh()));
            let mut store = SqliteStore::open(&db).unwrap();
            if !with_index {
                store
                    .conn()
                    .execute_batch("DROP INDEX signatures_by_uid")
                    .unwrap();
            }
            let draft = CampaignDraft {
                title: "t".into(),
                scope: Some(Scope::Global),
                ..Default::default()
            };
            let id = store.insert_campaign(&draft, "t", None).unwrap().id;
            let took = import(&mut store, id, 100_000);
            eprintln!("100k rows, uid index {with_index}: {took:?}");
        }
    }

    #[test]
    fn every_row_gets_its_own_id_and_an_old_row_gets_one_from_the_migration() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("old.db");
        {
            let store = SqliteStore::open_at_version(&db, migrations::LATEST - 1).unwrap();
            store
                .conn()
                .execute_batch(
                    "INSERT INTO campaigns (slug, title, target, ask, why, scope, created_at, updated_at) \
                     VALUES ('old', 't', 't', 'a', 'w', 'global', 'x', 'x');
                     INSERT INTO signatures (campaign_id, name, source, signed_at, dedupe_key) \
                     VALUES (1, 'Ana', 'paper', 'x', 'k1');",
                )
                .unwrap();
        }
        let mut store = SqliteStore::open(&db).unwrap();
        let old = store.merge_ids(1).unwrap().campaign;
        assert!(old.is_some(), "backfilled");
        let draft = CampaignDraft {
            title: "t".into(),
            scope: Some(Scope::Global),
            ..Default::default()
        };
        let new = store.insert_campaign(&draft, "new", None).unwrap();
        let ids = store.merge_ids(new.id).unwrap();
        assert_eq!(ids.campaign.unwrap().get_version_num(), 7);
        import(&mut store, new.id, 3);
        store
            .insert_signature(
                new.id,
                &NewSignature {
                    name: "typed".into(),
                    dedupe_key: "typed".into(),
                    ..Default::default()
                },
            )
            .unwrap();
        // A row written without an id (by hand, by an older tool) gets one too.
        store
            .conn()
            .execute(
                "INSERT INTO signatures (campaign_id, name, source, signed_at, dedupe_key) \
                 VALUES (?1, 'by hand', 'paper', 'x', 'k2')",
                [new.id],
            )
            .unwrap();
        let mut uids = Vec::new();
        for c in [1, new.id] {
            store
                .for_each_signer_row(c, &mut |row| {
                    let uid = row.uid.expect("every signer has an id");
                    // Typed and imported: the binary's v7. Migrated and by hand: 16
                    // random bytes, whose version nibble is anything (7 one time in 16).
                    if c == new.id && row.signature.name != "by hand" {
                        assert_eq!(uid.get_version_num(), 7, "{}", row.signature.name);
                    }
                    uids.push(uid);
                    Ok(())
                })
                .unwrap();
        }
        assert_eq!(uids.len(), 6);
        uids.sort();
        uids.dedup();
        assert_eq!(uids.len(), 6);
    }
}
