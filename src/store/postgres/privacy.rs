//! Privacy (issue 13) on PostgreSQL, the twin of `sqlite/privacy.rs`: purge with kept
//! tallies, the files a campaign wrote, forgetting a person with a tombstone, and a
//! best-effort VACUUM.

use std::collections::{BTreeMap, HashSet};

use super::delivery_reads::POSTCODE_KEY;
use super::PgStore;
use crate::domain::privacy::tombstone;
use crate::domain::signer::person_key;
use crate::error::{Error, Result};
use crate::model::{
    CampaignFile, FileKind, Forgotten, NewSignature, PersonKey, PersonMatch, PurgedSigners, Scrub,
    SignatureCounts,
};
use crate::store::tombstones::{new_key, Tombstones};

/// (campaign id, signature id, dedupe key, name, postcode).
type Row = (i64, i64, String, String, Option<String>);

fn counts(r: &postgres::Row, first: usize) -> Result<SignatureCounts> {
    Ok(SignatureCounts {
        total: r.try_get(first)?,
        paper: r.try_get(first + 1)?,
        online: r.try_get(first + 2)?,
        private: r.try_get(first + 3)?,
    })
}

fn keys(client: &mut impl postgres::GenericClient) -> Result<Vec<(i64, [u8; 32])>> {
    let rows = client.query("SELECT id, key FROM tombstone_keys_in_use()", &[])?;
    let mut out = Vec::new();
    for r in rows {
        let key: Vec<u8> = r.try_get(1)?;
        if let Ok(key) = <[u8; 32]>::try_from(key.as_slice()) {
            out.push((r.try_get(0)?, key));
        }
    }
    Ok(out)
}

fn forgotten_since(
    client: &mut impl postgres::GenericClient,
    dedupe_key: &str,
) -> Result<Option<String>> {
    for (id, key) in keys(client)? {
        let hash = tombstone(&key, dedupe_key).to_vec();
        if let Some(row) = client.query_opt(
            "SELECT forgotten_at FROM tombstones() WHERE key_id = $1 AND hash = $2",
            &[&id, &hash],
        )? {
            return Ok(Some(row.try_get(0)?));
        }
    }
    Ok(None)
}

/// Refuses new signers for a campaign whose signers were purged.
pub(super) fn refuse_purged_campaign(
    client: &mut impl postgres::GenericClient,
    campaign_id: i64,
) -> Result<()> {
    let row = client.query_opt(
        "SELECT slug, purged_at FROM campaigns WHERE id = $1 AND purged_at IS NOT NULL",
        &[&campaign_id],
    )?;
    match row {
        Some(r) => Err(Error::Purged {
            slug: r.try_get(0)?,
            purged_at: r.try_get(1)?,
            needs: "entering signatures".into(),
        }),
        None => Ok(()),
    }
}

/// Every tombstone, for an import (one empty table read when nobody was forgotten).
pub(super) fn load_tombstones(store: &PgStore) -> Result<Tombstones> {
    let mut client = store.client();
    let keys = keys(&mut *client)?;
    if keys.is_empty() {
        return Ok(Tombstones::default());
    }
    let mut hashes = HashSet::new();
    for r in client.query("SELECT hash FROM tombstones()", &[])? {
        let hash: Vec<u8> = r.try_get(0)?;
        if let Ok(hash) = <[u8; 32]>::try_from(hash.as_slice()) {
            hashes.insert(hash);
        }
    }
    Ok(Tombstones::new(
        keys.into_iter().map(|(_, k)| k).collect(),
        hashes,
    ))
}

fn person_rows(client: &mut impl postgres::GenericClient, person: &PersonKey) -> Result<Vec<Row>> {
    let mut out = Vec::new();
    let mut seen = HashSet::new();
    let row = |r: &postgres::Row| -> Result<Row> {
        Ok((
            r.try_get(0)?,
            r.try_get(1)?,
            r.try_get(2)?,
            r.try_get(3)?,
            r.try_get(4)?,
        ))
    };
    for r in client.query(
        "SELECT campaign_id, id, dedupe_key, name, postcode FROM signatures \
         WHERE dedupe_key = ANY($1) ORDER BY campaign_id, id",
        &[&person.keys],
    )? {
        let r = row(&r)?;
        if seen.insert(r.1) {
            out.push(r);
        }
    }
    if person.by_name {
        // Rows with an email too: compared by the domain's rule, as SQLite does.
        for r in client.query(
            "SELECT campaign_id, id, dedupe_key, name, postcode FROM signatures \
             WHERE postcode IS NOT NULL AND email IS NOT NULL ORDER BY campaign_id, id",
            &[],
        )? {
            let r = row(&r)?;
            if person_key(&r.3, r.4.as_deref()).is_some_and(|k| person.keys.contains(&k))
                && seen.insert(r.1)
            {
                out.push(r);
            }
        }
    }
    Ok(out)
}

fn matches(client: &mut impl postgres::GenericClient, rows: &[Row]) -> Result<Vec<PersonMatch>> {
    let mut per: BTreeMap<i64, u64> = BTreeMap::new();
    for r in rows {
        *per.entry(r.0).or_default() += 1;
    }
    let mut out = Vec::new();
    for (campaign_id, n) in per {
        let slug: String = client
            .query_one("SELECT slug FROM campaigns WHERE id = $1", &[&campaign_id])?
            .try_get(0)?;
        out.push(PersonMatch {
            campaign_id,
            slug,
            rows: n,
        });
    }
    Ok(out)
}

impl PgStore {
    pub fn signature_counts_by_day(
        &self,
        campaign_id: i64,
    ) -> Result<Vec<(String, SignatureCounts)>> {
        let rows = self.client().query(
            "SELECT d, sum(t)::bigint, sum(p)::bigint, sum(o)::bigint, sum(v)::bigint FROM ( \
               SELECT substr(signed_at, 1, 10) AS d, count(*) AS t, \
                      count(*) FILTER (WHERE source = 'paper') AS p, \
                      count(*) FILTER (WHERE source = 'online') AS o, \
                      count(*) FILTER (WHERE private) AS v \
               FROM signatures WHERE campaign_id = $1 GROUP BY 1 \
               UNION ALL SELECT day, total, paper, online, private \
               FROM purged_counts_by_day WHERE campaign_id = $1) u \
             GROUP BY d ORDER BY d COLLATE \"C\"",
            &[&campaign_id],
        )?;
        rows.iter()
            .map(|r| Ok((r.try_get(0)?, counts(r, 1)?)))
            .collect()
    }

    /// One transaction (the campaign row locked, so an import into it finishes first):
    /// tallies, then the delete, then the kept total and `purged_at`.
    pub fn purge_signers(&mut self, campaign_id: i64) -> Result<PurgedSigners> {
        let now = self.now();
        let mut client = self.client();
        let mut tx = client.transaction()?;
        tx.query_opt(
            "SELECT 1 FROM campaigns WHERE id = $1 FOR UPDATE",
            &[&campaign_id],
        )?;
        let before = tx
            .query_opt(
                "SELECT total, paper, online, private FROM signature_counts WHERE campaign_id = $1",
                &[&campaign_id],
            )?
            .map(|r| counts(&r, 0))
            .transpose()?;
        tx.execute(
            &format!(
                "INSERT INTO purged_counts_by_postcode (campaign_id, postcode_key, total, paper, online, private) \
                 SELECT $1, {POSTCODE_KEY}, count(*), count(*) FILTER (WHERE source = 'paper'), \
                        count(*) FILTER (WHERE source = 'online'), count(*) FILTER (WHERE private) \
                 FROM signatures WHERE campaign_id = $1 GROUP BY 2 \
                 ON CONFLICT (campaign_id, postcode_key) DO UPDATE SET \
                    total = purged_counts_by_postcode.total + EXCLUDED.total, \
                    paper = purged_counts_by_postcode.paper + EXCLUDED.paper, \
                    online = purged_counts_by_postcode.online + EXCLUDED.online, \
                    private = purged_counts_by_postcode.private + EXCLUDED.private"
            ),
            &[&campaign_id],
        )?;
        tx.execute(
            "INSERT INTO purged_counts_by_day (campaign_id, day, total, paper, online, private) \
             SELECT $1, substr(signed_at, 1, 10), count(*), count(*) FILTER (WHERE source = 'paper'), \
                    count(*) FILTER (WHERE source = 'online'), count(*) FILTER (WHERE private) \
             FROM signatures WHERE campaign_id = $1 GROUP BY 2 \
             ON CONFLICT (campaign_id, day) DO UPDATE SET \
                total = purged_counts_by_day.total + EXCLUDED.total, \
                paper = purged_counts_by_day.paper + EXCLUDED.paper, \
                online = purged_counts_by_day.online + EXCLUDED.online, \
                private = purged_counts_by_day.private + EXCLUDED.private",
            &[&campaign_id],
        )?;
        let signers = tx.execute(
            "DELETE FROM signatures WHERE campaign_id = $1",
            &[&campaign_id],
        )?;
        if let Some(c) = before {
            tx.execute(
                "UPDATE signature_counts SET total = $2, paper = $3, online = $4, private = $5 \
                 WHERE campaign_id = $1",
                &[&campaign_id, &c.total, &c.paper, &c.online, &c.private],
            )?;
        }
        tx.execute(
            "UPDATE signature_edits SET old_value = NULL, new_value = NULL \
             WHERE campaign_id = $1 AND (old_value IS NOT NULL OR new_value IS NOT NULL)",
            &[&campaign_id],
        )?;
        let purged_at: String = tx
            .query_one(
                "UPDATE campaigns SET purged_at = COALESCE(purged_at, $2) WHERE id = $1 RETURNING purged_at",
                &[&campaign_id, &now],
            )?
            .try_get(0)?;
        tx.commit()?;
        Ok(PurgedSigners { signers, purged_at })
    }

    /// A plain VACUUM of the signer tables (not FULL: that would lock teammates out).
    /// Dead rows become reusable space; the server's files, WAL, archives and backups
    /// may still hold them.
    pub fn scrub(&mut self) -> Result<Scrub> {
        // One statement at a time: several in one query string run as one transaction,
        // where VACUUM is refused.
        let vacuumed = {
            let mut client = self.client();
            client
                .batch_execute("VACUUM signatures")
                .and_then(|()| client.batch_execute("VACUUM signature_edits"))
        };
        match vacuumed {
            Ok(()) => Ok(Scrub {
                complete: true,
                note: None,
            }),
            Err(e) => Ok(Scrub {
                complete: false,
                note: Some(format!(
                    "the server did not VACUUM the signers' table ({}); the deleted rows stay in \
                     its files until it does (ask its administrator)",
                    e.as_db_error().map_or("no reason given", |d| d.message())
                )),
            }),
        }
    }

    pub fn record_campaign_file(
        &mut self,
        campaign_id: i64,
        kind: FileKind,
        path: &str,
        sha256: Option<&str>,
    ) -> Result<()> {
        let now = self.now();
        self.client().execute(
            "INSERT INTO campaign_files (campaign_id, kind, path, sha256, written_at) \
             VALUES ($1, $2, $3, $4, $5)",
            &[&campaign_id, &kind.as_str(), &path, &sha256, &now],
        )?;
        Ok(())
    }

    pub fn campaign_files(&self, campaign_id: i64) -> Result<Vec<CampaignFile>> {
        let rows = self.client().query(
            "SELECT kind, path, sha256, written_at FROM campaign_files WHERE campaign_id = $1 ORDER BY id",
            &[&campaign_id],
        )?;
        rows.iter()
            .map(|r| {
                let kind: &str = r.try_get(0)?;
                Ok(CampaignFile {
                    kind: if kind == "export" {
                        FileKind::Export
                    } else {
                        FileKind::Rejects
                    },
                    path: r.try_get(1)?,
                    sha256: r.try_get(2)?,
                    written_at: r.try_get(3)?,
                })
            })
            .collect()
    }

    pub fn find_person(&self, person: &PersonKey) -> Result<Vec<PersonMatch>> {
        let mut client = self.client();
        let rows = person_rows(&mut *client, person)?;
        matches(&mut *client, &rows)
    }

    /// One transaction, every campaign row locked first (imports hold theirs shared, so
    /// one running finishes first and one starting after sees the tombstones).
    pub fn forget_person(&mut self, person: &PersonKey) -> Result<Forgotten> {
        let now = self.now();
        let mut client = self.client();
        let mut tx = client.transaction()?;
        tx.execute("SELECT 1 FROM campaigns ORDER BY id FOR UPDATE", &[])?;
        let rows = person_rows(&mut tx, person)?;
        let found = matches(&mut tx, &rows)?;
        let mut all = person.keys.clone();
        for (_, id, key, name, postcode) in &rows {
            all.push(key.clone());
            all.extend(person_key(name, postcode.as_deref()));
            tx.execute("DELETE FROM signatures WHERE id = $1", &[id])?;
            tx.execute(
                "UPDATE signature_edits SET old_value = NULL, new_value = NULL WHERE signature_id = $1",
                &[id],
            )?;
        }
        all.sort();
        all.dedup();
        let existing = keys(&mut tx)?;
        let (key_id, key) = match existing.last() {
            Some(k) => *k,
            None => {
                let key = new_key()?;
                let id: i64 = tx
                    .query_one(
                        "INSERT INTO tombstone_keys (key, created_at) VALUES ($1, $2) RETURNING id",
                        &[&key.to_vec(), &now],
                    )?
                    .try_get(0)?;
                (id, key)
            }
        };
        let mut tombstones = 0;
        for k in &all {
            if forgotten_since(&mut tx, k)?.is_some() {
                continue;
            }
            tombstones += tx.execute(
                "INSERT INTO forgotten (key_id, hash, forgotten_at) VALUES ($1, $2, $3) \
                 ON CONFLICT DO NOTHING",
                &[&key_id, &tombstone(&key, k).to_vec(), &now],
            )?;
        }
        tx.commit()?;
        Ok(Forgotten {
            rows: rows.len() as u64,
            campaigns: found.len() as u64,
            tombstones,
        })
    }

    pub fn is_forgotten(&self, dedupe_key: &str) -> Result<bool> {
        Ok(forgotten_since(&mut *self.client(), dedupe_key)?.is_some())
    }

    pub(super) fn refuse_forgotten(&self, s: &NewSignature) -> Result<()> {
        let mut client = self.client();
        for key in crate::domain::privacy::forget_keys(s) {
            if let Some(since) = forgotten_since(&mut *client, &key)? {
                return Err(Error::Forgotten { since });
            }
        }
        Ok(())
    }
}
