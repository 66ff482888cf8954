//! Bulk import: one transaction for the whole file, so an import that fails or is killed
//! leaves the database as it was.
//!
//! Speed comes from deduplicating in memory: the campaign's existing keys are hashed
//! once into a set of 64-bit hashes (8 bytes a signer), each new row is checked against
//! it, and only a hash hit (a duplicate, or rarely a collision) asks the database to
//! compare the full key. Inserts go through one cached statement with a larger page
//! cache for the length of the transaction.

use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasherDefault, DefaultHasher, Hash, Hasher};

use rusqlite::{params, OptionalExtension, Transaction};
use serde::Serialize;

use super::{now, Store};
use crate::domain::signer::Problem;
use crate::error::Result;
use crate::model::Source;
use crate::store::NewSignature;

/// Page cache during an import (KiB, negative as SQLite wants): big enough that the
/// index pages being updated stay in memory, small enough for a modest laptop.
const IMPORT_CACHE_KIB: i64 = -65_536;
const NORMAL_CACHE_KIB: i64 = -2_000;

/// What an import did, row by row summed up.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct ImportCounts {
    /// Data rows read (the header is not counted).
    pub read: u64,
    pub added: u64,
    /// Rows whose signer was already in the campaign or earlier in the file.
    pub duplicates: u64,
    pub rejected: u64,
}

/// A row that was not imported, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Rejected {
    /// Row number in the file as a spreadsheet shows it (the header is row 1).
    pub row: u64,
    pub reason: String,
}

/// What became of one row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RowOutcome {
    Added,
    Duplicate,
    Rejected(Rejected),
}

/// The hashes in the dedupe set are already well mixed: hashing them again is waste.
#[derive(Default)]
struct PassThrough(u64);

impl Hasher for PassThrough {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = (self.0 << 8) | u64::from(*b);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

type HashSet64 = HashSet<u64, BuildHasherDefault<PassThrough>>;

/// The 64-bit hash of a dedupe key (SipHash with fixed keys: stable within a run).
pub fn key_hash(key: &str) -> u64 {
    let mut h = DefaultHasher::new();
    key.hash(&mut h);
    h.finish()
}

/// An import in progress. Nothing is visible to others until [`Import::commit`];
/// dropping it (an error, a kill) rolls everything back.
pub struct Import<'s> {
    tx: Transaction<'s>,
    campaign_id: i64,
    source: Source,
    entered_by: Option<String>,
    signed_at: String,
    seen: HashSet64,
    sheets: HashMap<String, bool>,
    counts: ImportCounts,
}

impl Store {
    /// Starts importing into `campaign_id`: one write transaction until `commit`.
    pub fn begin_import(
        &mut self,
        campaign_id: i64,
        source: Source,
        entered_by: Option<String>,
    ) -> Result<Import<'_>> {
        self.conn()
            .pragma_update(None, "cache_size", IMPORT_CACHE_KIB)?;
        let tx = self
            .conn_mut()
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let mut seen = HashSet64::default();
        {
            let mut stmt =
                tx.prepare("SELECT dedupe_key FROM signatures WHERE campaign_id = ?1")?;
            let mut rows = stmt.query([campaign_id])?;
            while let Some(row) = rows.next()? {
                let key = row.get_ref(0)?.as_str().map_err(rusqlite::Error::from)?;
                seen.insert(key_hash(key));
            }
        }
        Ok(Import {
            tx,
            campaign_id,
            source,
            entered_by,
            signed_at: now(),
            seen,
            sheets: HashMap::new(),
            counts: ImportCounts::default(),
        })
    }
}

impl Import<'_> {
    /// Counts and stores one row (`row` is its number in the file): a valid new signer
    /// is inserted, a duplicate counted, a bad row or unknown sheet rejected.
    pub fn add(
        &mut self,
        row: u64,
        signer: std::result::Result<NewSignature, Problem>,
    ) -> Result<RowOutcome> {
        self.counts.read += 1;
        let signer = match signer {
            Ok(s) => s,
            Err(problem) => return Ok(self.reject(row, problem.to_string())),
        };
        if let Some(sheet) = &signer.sheet_id {
            if !self.sheet_known(sheet)? {
                return Ok(self.reject(
                    row,
                    format!(
                        "sheet: {sheet} was never printed for this campaign (check the sheet id)"
                    ),
                ));
            }
        }
        let hash = key_hash(&signer.dedupe_key);
        if !self.seen.insert(hash) && self.key_exists(&signer.dedupe_key)? {
            self.counts.duplicates += 1;
            return Ok(RowOutcome::Duplicate);
        }
        let mut stmt = self.tx.prepare_cached(
            "INSERT INTO signatures (campaign_id, name, email, postcode, phone, phone_valid, opt_in, private, \
             source, sheet_id, line, entered_by, signed_at, dedupe_key) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
        )?;
        stmt.execute(params![
            self.campaign_id,
            signer.name,
            signer.email,
            signer.postcode,
            signer.phone,
            signer.phone_valid,
            signer.opt_in,
            signer.private,
            signer.source.unwrap_or(self.source).as_str(),
            signer.sheet_id,
            signer.line,
            signer.entered_by.as_ref().or(self.entered_by.as_ref()),
            self.signed_at,
            signer.dedupe_key,
        ])?;
        self.counts.added += 1;
        Ok(RowOutcome::Added)
    }

    pub fn counts(&self) -> ImportCounts {
        self.counts
    }

    /// Makes every added row visible at once.
    pub fn commit(self) -> Result<ImportCounts> {
        let counts = self.counts;
        // Back to the everyday cache (a failed import ends the process anyway).
        self.tx
            .pragma_update(None, "cache_size", NORMAL_CACHE_KIB)?;
        self.tx.commit()?;
        Ok(counts)
    }

    fn reject(&mut self, row: u64, reason: String) -> RowOutcome {
        self.counts.rejected += 1;
        RowOutcome::Rejected(Rejected { row, reason })
    }

    fn sheet_known(&mut self, sheet: &str) -> Result<bool> {
        if let Some(known) = self.sheets.get(sheet) {
            return Ok(*known);
        }
        let known = self
            .tx
            .query_row(
                "SELECT 1 FROM sheets WHERE campaign_id = ?1 AND sheet_id = upper(trim(?2))",
                params![self.campaign_id, sheet],
                |_| Ok(()),
            )
            .optional()?
            .is_some();
        self.sheets.insert(sheet.to_string(), known);
        Ok(known)
    }

    fn key_exists(&self, key: &str) -> Result<bool> {
        let mut stmt = self.tx.prepare_cached(
            "SELECT 1 FROM signatures WHERE campaign_id = ?1 AND dedupe_key = ?2",
        )?;
        Ok(stmt.exists(params![self.campaign_id, key])?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::signer::{validate, RawSigner, Region};
    use crate::model::{CampaignDraft, Scope};

    fn signer(name: &str, email: &str) -> NewSignature {
        let raw = RawSigner {
            name: name.into(),
            email,
            postcode: "94612",
            ..Default::default()
        };
        validate(&raw, Region::default()).unwrap()
    }

    fn store_with_campaign() -> (Store, i64) {
        let mut store = Store::open_in_memory().unwrap();
        let draft = CampaignDraft {
            title: "t".into(),
            scope: Some(Scope::Global),
            ..Default::default()
        };
        let id = store.insert_campaign(&draft, "oakland", None).unwrap().id;
        (store, id)
    }

    fn count(store: &Store, campaign_id: i64) -> i64 {
        store.signature_counts(campaign_id).unwrap().total
    }

    #[test]
    fn dedupes_against_the_database_and_the_file() {
        let (mut store, id) = store_with_campaign();
        store
            .insert_signature(id, &signer("Ana", "ana@example.org"))
            .unwrap();
        let mut import = store.begin_import(id, Source::Online, None).unwrap();
        assert_eq!(
            import.add(2, Ok(signer("Ana R", " ANA@example.org"))).unwrap(),
            RowOutcome::Duplicate
        );
        assert_eq!(
            import.add(3, Ok(signer("李娜", "li@example.org"))).unwrap(),
            RowOutcome::Added
        );
        assert_eq!(
            import.add(4, Ok(signer("Li Na", "LI@example.org"))).unwrap(),
            RowOutcome::Duplicate
        );
        let mut sheeted = signer("Bo", "bo@example.org");
        sheeted.sheet_id = Some("OAK-0042".into());
        assert!(matches!(
            import.add(5, Ok(sheeted)).unwrap(),
            RowOutcome::Rejected(Rejected { row: 5, .. })
        ));
        let counts = import.commit().unwrap();
        assert_eq!(
            counts,
            ImportCounts {
                read: 4,
                added: 1,
                duplicates: 2,
                rejected: 1
            }
        );
        assert_eq!(count(&store, id), 2);
    }

    #[test]
    fn a_hash_hit_that_is_not_a_duplicate_is_still_added() {
        let (mut store, id) = store_with_campaign();
        let mut import = store.begin_import(id, Source::Online, None).unwrap();
        // Pretend another key already had this row's hash: the database check decides.
        let s = signer("Ana", "ana@example.org");
        import.seen.insert(key_hash(&s.dedupe_key));
        assert_eq!(import.add(2, Ok(s)).unwrap(), RowOutcome::Added);
        import.commit().unwrap();
        assert_eq!(count(&store, id), 1);
    }

    #[test]
    fn an_import_not_committed_leaves_nothing() {
        let (mut store, id) = store_with_campaign();
        {
            let mut import = store.begin_import(id, Source::Online, None).unwrap();
            import.add(2, Ok(signer("Ana", "ana@example.org"))).unwrap();
        }
        assert_eq!(count(&store, id), 0);
    }
}
