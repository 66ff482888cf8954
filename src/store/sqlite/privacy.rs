//! Privacy (issue 13): purging a delivered campaign's signers while keeping its counts,
//! the files a campaign wrote, forgetting one person everywhere with a tombstone, and
//! scrubbing deleted rows out of the file and its write-ahead log.

use std::collections::{BTreeMap, HashSet};

use rusqlite::{params, OptionalExtension};

use super::delivery_reads::POSTCODE_KEY;
use super::SqliteStore;
use crate::domain::privacy::tombstone;
use crate::domain::signer::person_key;
use crate::error::{Error, Result};
use crate::model::{
    CampaignFile, FileKind, Forgotten, NewSignature, PersonKey, PersonMatch, PurgedSigners, Scrub,
    SignatureCounts,
};
use crate::store::tombstones::{new_key, Tombstones};
use crate::store::Breakdown;

/// One row that matches a person: (campaign id, signature id, its dedupe key, name, postcode).
type Row = (i64, i64, String, String, Option<String>);

fn counts(r: &rusqlite::Row<'_>, first: usize) -> rusqlite::Result<SignatureCounts> {
    Ok(SignatureCounts {
        total: r.get(first)?,
        paper: r.get(first + 1)?,
        online: r.get(first + 2)?,
        private: r.get(first + 3)?,
    })
}

/// Every tombstone key with its id.
fn keys(conn: &rusqlite::Connection) -> Result<Vec<(i64, [u8; 32])>> {
    let mut stmt = conn.prepare_cached("SELECT id, key FROM tombstone_keys ORDER BY id")?;
    let rows = stmt.query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, Vec<u8>>(1)?)))?;
    let mut out = Vec::new();
    for row in rows {
        let (id, key) = row?;
        if let Ok(key) = <[u8; 32]>::try_from(key.as_slice()) {
            out.push((id, key));
        }
    }
    Ok(out)
}

/// Every tombstone, for an import to check its rows against (nothing read but one empty
/// table when nobody was ever forgotten).
pub(super) fn load_tombstones(conn: &rusqlite::Connection) -> Result<Tombstones> {
    let keys = keys(conn)?;
    if keys.is_empty() {
        return Ok(Tombstones::default());
    }
    let mut stmt = conn.prepare_cached("SELECT hash FROM forgotten")?;
    let mut hashes = HashSet::new();
    for hash in stmt.query_map([], |r| r.get::<_, Vec<u8>>(0))? {
        if let Ok(hash) = <[u8; 32]>::try_from(hash?.as_slice()) {
            hashes.insert(hash);
        }
    }
    Ok(Tombstones::new(
        keys.into_iter().map(|(_, k)| k).collect(),
        hashes,
    ))
}

/// When `dedupe_key` was forgotten, if it was.
fn forgotten_since(conn: &rusqlite::Connection, dedupe_key: &str) -> Result<Option<String>> {
    let mut stmt =
        conn.prepare_cached("SELECT forgotten_at FROM forgotten WHERE key_id = ?1 AND hash = ?2")?;
    for (id, key) in keys(conn)? {
        let hash = tombstone(&key, dedupe_key);
        if let Some(at) = stmt
            .query_row(params![id, hash.as_slice()], |r| r.get::<_, String>(0))
            .optional()?
        {
            return Ok(Some(at));
        }
    }
    Ok(None)
}

/// Refuses new signers for a campaign whose signers were purged.
pub(super) fn refuse_purged_campaign(conn: &rusqlite::Connection, campaign_id: i64) -> Result<()> {
    let purged: Option<(String, String)> = conn
        .prepare_cached(
            "SELECT slug, purged_at FROM campaigns WHERE id = ?1 AND purged_at IS NOT NULL",
        )?
        .query_row([campaign_id], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    match purged {
        Some((slug, purged_at)) => Err(Error::Purged {
            slug,
            purged_at,
            needs: "entering signatures".into(),
        }),
        None => Ok(()),
    }
}

impl SqliteStore {
    /// Counts per day signed, live rows plus the tallies a purge kept, in day order.
    pub fn signature_counts_by_day(
        &self,
        campaign_id: i64,
    ) -> Result<Vec<(String, SignatureCounts)>> {
        let mut stmt = self.conn().prepare_cached(
            "SELECT d, SUM(t), SUM(p), SUM(o), SUM(v) FROM ( \
                SELECT substr(signed_at, 1, 10) AS d, COUNT(*) AS t, \
                    COALESCE(SUM(source = 'paper'), 0) AS p, COALESCE(SUM(source = 'online'), 0) AS o, \
                    COALESCE(SUM(private), 0) AS v \
                FROM signatures WHERE campaign_id = ?1 GROUP BY d \
                UNION ALL SELECT day, total, paper, online, private \
                FROM purged_counts_by_day WHERE campaign_id = ?1) \
             GROUP BY d ORDER BY d",
        )?;
        let rows = stmt.query_map([campaign_id], |r| Ok((r.get(0)?, counts(r, 1)?)))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// One write transaction: tallies per postcode and per day from the signers, then
    /// deletes them (and what the signer history kept of their fields) and sets
    /// `purged_at`. The campaign's total stays as it was.
    pub fn purge_signers(&mut self, campaign_id: i64) -> Result<PurgedSigners> {
        let now = self.now();
        let conn = self.conn_mut();
        // Deleted cells are overwritten with zeros, not left in the page.
        conn.pragma_update(None, "secure_delete", "ON")?;
        let tx = conn.transaction()?;
        let before: Option<SignatureCounts> = tx
            .query_row(
                "SELECT total, paper, online, private FROM signature_counts WHERE campaign_id = ?1",
                [campaign_id],
                |r| counts(r, 0),
            )
            .optional()?;
        tx.execute(
            &format!(
                "INSERT INTO purged_counts_by_postcode (campaign_id, postcode_key, total, paper, online, private) \
                 SELECT ?1, {POSTCODE_KEY} AS k, COUNT(*), COALESCE(SUM(source = 'paper'), 0), \
                        COALESCE(SUM(source = 'online'), 0), COALESCE(SUM(private), 0) \
                 FROM signatures WHERE campaign_id = ?1 GROUP BY k \
                 ON CONFLICT (campaign_id, postcode_key) DO UPDATE SET total = total + excluded.total, \
                    paper = paper + excluded.paper, online = online + excluded.online, \
                    private = private + excluded.private"
            ),
            [campaign_id],
        )?;
        tx.execute(
            "INSERT INTO purged_counts_by_day (campaign_id, day, total, paper, online, private) \
             SELECT ?1, substr(signed_at, 1, 10) AS d, COUNT(*), COALESCE(SUM(source = 'paper'), 0), \
                    COALESCE(SUM(source = 'online'), 0), COALESCE(SUM(private), 0) \
             FROM signatures WHERE campaign_id = ?1 GROUP BY d \
             ON CONFLICT (campaign_id, day) DO UPDATE SET total = total + excluded.total, \
                paper = paper + excluded.paper, online = online + excluded.online, \
                private = private + excluded.private",
            [campaign_id],
        )?;
        let signers = tx.execute(
            "DELETE FROM signatures WHERE campaign_id = ?1",
            [campaign_id],
        )?;
        // The delete's triggers counted the rows down: the total is what the campaign keeps.
        if let Some(c) = before {
            tx.execute(
                "UPDATE signature_counts SET total = ?2, paper = ?3, online = ?4, private = ?5 \
                 WHERE campaign_id = ?1",
                params![campaign_id, c.total, c.paper, c.online, c.private],
            )?;
        }
        // Corrections keep old and new values (names, emails): not after a purge.
        tx.execute(
            "UPDATE signature_edits SET old_value = NULL, new_value = NULL \
             WHERE campaign_id = ?1 AND (old_value IS NOT NULL OR new_value IS NOT NULL)",
            [campaign_id],
        )?;
        tx.execute(
            "UPDATE campaigns SET purged_at = COALESCE(purged_at, ?2) WHERE id = ?1",
            params![campaign_id, now],
        )?;
        let purged_at: String = tx.query_row(
            "SELECT purged_at FROM campaigns WHERE id = ?1",
            [campaign_id],
            |r| r.get(0),
        )?;
        tx.commit()?;
        Ok(PurgedSigners {
            signers: signers as u64,
            purged_at,
        })
    }

    /// Rewrites the file without the deleted rows' pages (VACUUM, its copy held in
    /// memory: temporary files are never encrypted) and empties the write-ahead log.
    /// Never inside a transaction.
    pub fn scrub(&mut self) -> Result<Scrub> {
        let conn = self.conn();
        conn.pragma_update(None, "secure_delete", "ON")?;
        conn.pragma_update(None, "temp_store", "MEMORY")?;
        let vacuumed = conn.execute_batch("VACUUM");
        let _ = conn.pragma_update(None, "temp_store", "DEFAULT");
        vacuumed?;
        let (busy, _log, _done): (i64, i64, i64) =
            conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?))
            })?;
        if busy != 0 {
            return Ok(Scrub {
                complete: false,
                note: Some(
                    "another campaign process is reading the database: run the same command again \
                     after it ends to finish removing names from the write-ahead log"
                        .into(),
                ),
            });
        }
        Ok(Scrub {
            complete: true,
            note: None,
        })
    }

    pub fn record_campaign_file(
        &mut self,
        campaign_id: i64,
        kind: FileKind,
        path: &str,
        sha256: Option<&str>,
    ) -> Result<()> {
        let now = self.now();
        self.conn().execute(
            "INSERT INTO campaign_files (campaign_id, kind, path, sha256, written_at) \
             VALUES (?1, ?2, ?3, ?4, ?5)",
            params![campaign_id, kind.as_str(), path, sha256, now],
        )?;
        Ok(())
    }

    pub fn campaign_files(&self, campaign_id: i64) -> Result<Vec<CampaignFile>> {
        let mut stmt = self.conn().prepare_cached(
            "SELECT kind, path, sha256, written_at FROM campaign_files WHERE campaign_id = ?1 ORDER BY id",
        )?;
        let rows = stmt.query_map([campaign_id], |r| {
            let kind: String = r.get(0)?;
            Ok(CampaignFile {
                kind: if kind == "export" {
                    FileKind::Export
                } else {
                    FileKind::Rejects
                },
                path: r.get(1)?,
                sha256: r.get(2)?,
                written_at: r.get(3)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Every row of every campaign that is this person.
    fn person_rows(conn: &rusqlite::Connection, person: &PersonKey) -> Result<Vec<Row>> {
        let mut out: Vec<Row> = Vec::new();
        let mut seen = HashSet::new();
        let mut by_key = conn.prepare_cached(
            "SELECT s.campaign_id, s.id, s.dedupe_key, s.name, s.postcode FROM signature_keys k \
             JOIN signatures s ON s.id = k.signature_id \
             WHERE k.campaign_id = ?1 AND k.dedupe_key = ?2",
        )?;
        let ids: Vec<i64> = conn
            .prepare_cached("SELECT id FROM campaigns ORDER BY id")?
            .query_map([], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        for id in ids {
            for key in &person.keys {
                let rows = by_key.query_map(params![id, key], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
                })?;
                for row in rows {
                    let row: Row = row?;
                    if seen.insert(row.1) {
                        out.push(row);
                    }
                }
            }
        }
        if person.by_name {
            // Rows with an email too, whose name and postcode are this person's: compared
            // by the domain's own rule (SQL's upper() knows only ASCII), over every row
            // with a postcode. Forgetting is rare; correctness beats an index here.
            let mut stmt = conn.prepare_cached(
                "SELECT campaign_id, id, dedupe_key, name, postcode FROM signatures \
                 WHERE postcode IS NOT NULL AND email IS NOT NULL",
            )?;
            let rows = stmt.query_map([], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
            })?;
            for row in rows {
                let row: Row = row?;
                if person_key(&row.3, row.4.as_deref()).is_some_and(|k| person.keys.contains(&k))
                    && seen.insert(row.1)
                {
                    out.push(row);
                }
            }
        }
        Ok(out)
    }

    /// Where this person appears, per campaign (reads only).
    pub fn find_person(&self, person: &PersonKey) -> Result<Vec<PersonMatch>> {
        let rows = Self::person_rows(self.conn(), person)?;
        matches(self.conn(), &rows)
    }

    /// Deletes the person from every campaign and records the tombstones of every key
    /// they had, in one write transaction.
    pub fn forget_person(&mut self, person: &PersonKey) -> Result<Forgotten> {
        let now = self.now();
        let conn = self.conn_mut();
        conn.pragma_update(None, "secure_delete", "ON")?;
        let tx = conn.transaction()?;
        let rows = Self::person_rows(&tx, person)?;
        let found = matches(&tx, &rows)?;
        let mut keys = person.keys.clone();
        for (_, id, key, name, postcode) in &rows {
            keys.push(key.clone());
            keys.extend(person_key(name, postcode.as_deref()));
            tx.execute("DELETE FROM signatures WHERE id = ?1", [id])?;
            tx.execute(
                "UPDATE signature_edits SET old_value = NULL, new_value = NULL WHERE signature_id = ?1",
                [id],
            )?;
        }
        keys.sort();
        keys.dedup();
        let existing = super::privacy::keys(&tx)?;
        let (key_id, key) = match existing.last() {
            Some(k) => *k,
            None => {
                let key = new_key()?;
                tx.execute(
                    "INSERT INTO tombstone_keys (key, created_at) VALUES (?1, ?2)",
                    params![key.as_slice(), now],
                )?;
                (tx.last_insert_rowid(), key)
            }
        };
        let mut tombstones = 0;
        for k in &keys {
            if forgotten_since(&tx, k)?.is_some() {
                continue;
            }
            tombstones += tx.execute(
                "INSERT OR IGNORE INTO forgotten (key_id, hash, forgotten_at) VALUES (?1, ?2, ?3)",
                params![key_id, tombstone(&key, k).as_slice(), now],
            )? as u64;
        }
        tx.commit()?;
        Ok(Forgotten {
            rows: rows.len() as u64,
            campaigns: found.len() as u64,
            tombstones,
        })
    }

    /// Whether `dedupe_key` belongs to someone who asked to be forgotten.
    pub fn is_forgotten(&self, dedupe_key: &str) -> Result<bool> {
        Ok(forgotten_since(self.conn(), dedupe_key)?.is_some())
    }

    /// Refuses a signer who asked to be forgotten (typed entry, corrections).
    pub(super) fn refuse_forgotten(&self, s: &NewSignature) -> Result<()> {
        for key in crate::domain::privacy::forget_keys(s) {
            if let Some(since) = forgotten_since(self.conn(), &key)? {
                return Err(Error::Forgotten { since });
            }
        }
        Ok(())
    }

    /// Counts per postcode key and per day from one pass over the campaign's signers
    /// (two GROUP BYs sort a million rows twice: seconds, for `show --json`), plus the
    /// tallies a purge kept. Keys and order as `signature_counts_by_postcode` and
    /// `signature_counts_by_day` give them (byte order, as SQLite's).
    pub fn signature_breakdown(&self, campaign_id: i64) -> Result<Breakdown> {
        fn add(to: &mut BTreeMap<String, SignatureCounts>, key: &str, c: SignatureCounts) {
            let slot = match to.get_mut(key) {
                Some(slot) => slot,
                None => to.entry(key.to_owned()).or_default(),
            };
            slot.total += c.total;
            slot.paper += c.paper;
            slot.online += c.online;
            slot.private += c.private;
        }
        fn text<'r>(r: &'r rusqlite::Row<'_>, i: usize) -> rusqlite::Result<&'r str> {
            r.get_ref(i)?.as_str().map_err(|e| {
                rusqlite::Error::FromSqlConversionFailure(i, rusqlite::types::Type::Text, e.into())
            })
        }
        let (mut by_postcode, mut by_day) = (BTreeMap::new(), BTreeMap::new());
        // A read (DEFERRED): an import holding the write lock must not make it wait.
        let tx = self.read_transaction()?;
        {
            let mut stmt = tx.prepare_cached(&format!(
                "SELECT {POSTCODE_KEY}, substr(signed_at, 1, 10), source = 'paper', \
                 source = 'online', private FROM signatures WHERE campaign_id = ?1"
            ))?;
            let mut rows = stmt.query([campaign_id])?;
            while let Some(r) = rows.next()? {
                let one = SignatureCounts {
                    total: 1,
                    paper: r.get(2)?,
                    online: r.get(3)?,
                    private: r.get(4)?,
                };
                add(&mut by_postcode, text(r, 0)?, one);
                add(&mut by_day, text(r, 1)?, one);
            }
            for (table, to) in [
                ("purged_counts_by_postcode", &mut by_postcode),
                ("purged_counts_by_day", &mut by_day),
            ] {
                let key = if table.ends_with("postcode") {
                    "postcode_key"
                } else {
                    "day"
                };
                let mut stmt = tx.prepare_cached(&format!(
                    "SELECT {key}, total, paper, online, private FROM {table} WHERE campaign_id = ?1"
                ))?;
                let mut rows = stmt.query([campaign_id])?;
                while let Some(r) = rows.next()? {
                    add(to, text(r, 0)?, counts(r, 1)?);
                }
            }
        }
        tx.finish()?;
        Ok(Breakdown {
            by_postcode: by_postcode.into_iter().collect(),
            by_day: by_day.into_iter().collect(),
        })
    }
}

/// Rows grouped per campaign, with its slug, in campaign order.
fn matches(conn: &rusqlite::Connection, rows: &[Row]) -> Result<Vec<PersonMatch>> {
    let mut per: BTreeMap<i64, u64> = BTreeMap::new();
    for row in rows {
        *per.entry(row.0).or_default() += 1;
    }
    let mut out = Vec::new();
    for (campaign_id, n) in per {
        let slug: String = conn.query_row(
            "SELECT slug FROM campaigns WHERE id = ?1",
            [campaign_id],
            |r| r.get(0),
        )?;
        out.push(PersonMatch {
            campaign_id,
            slug,
            rows: n,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod breakdown_tests {
    use crate::model::{CampaignDraft, NewSignature, Scope, Source};
    use crate::store::sqlite::SqliteStore;

    /// One pass gives what the two GROUP BY queries give, before and after a purge.
    #[test]
    fn one_pass_breakdown_equals_the_grouped_queries() {
        let mut store = SqliteStore::open_in_memory().unwrap();
        let draft = CampaignDraft {
            title: "t".into(),
            scope: Some(Scope::Global),
            ..Default::default()
        };
        let c = store.insert_campaign(&draft, "t", None).unwrap();
        for (i, (postcode, day, source, private)) in [
            (Some("94612"), "2026-11-01", Source::Paper, false),
            (Some(" 94612\t"), "2026-11-01", Source::Online, true),
            (None, "2026-11-02", Source::Online, false),
            (Some("94607"), "2026-10-31", Source::Paper, true),
            (Some("Ñuñoa"), "2026-11-02", Source::Paper, false),
        ]
        .into_iter()
        .enumerate()
        {
            let s = NewSignature {
                name: format!("Signer {i}"),
                email: Some(format!("s{i}@example.org")),
                postcode: postcode.map(str::to_owned),
                source: Some(source),
                private,
                signed_at: Some(format!("{day}T10:00:00Z")),
                dedupe_key: format!("s{i}@example.org"),
                ..Default::default()
            };
            store.insert_signature(c.id, &s).unwrap();
        }
        let check = |store: &SqliteStore| {
            let b = store.signature_breakdown(c.id).unwrap();
            assert_eq!(
                b.by_postcode,
                store.signature_counts_by_postcode(c.id).unwrap()
            );
            assert_eq!(b.by_day, store.signature_counts_by_day(c.id).unwrap());
            b
        };
        let before = check(&store);
        assert_eq!(before.by_day.len(), 3);
        store.purge_signers(c.id).unwrap();
        assert_eq!(check(&store), before);
    }
}
