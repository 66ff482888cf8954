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

use rusqlite::{params, Connection, OptionalExtension, Statement};
use serde::Serialize;

use super::SqliteStore as Store;
use crate::error::Result;
use crate::model::{NewSignature, Problem, Source};

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
    /// The field and what to do, without the signer's data: safe for stderr.
    pub reason: String,
    /// What the row held there, for the private rejects file only.
    pub value: Option<String>,
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

/// The 64-bit hashes of every dedupe key seen so far: the campaign's, then the file's.
/// A miss proves a key new; a hit must be confirmed against the database.
#[derive(Default)]
pub struct SeenKeys(HashSet64);

impl SeenKeys {
    /// True the first time this hash is offered.
    pub fn first_time(&mut self, hash: u64) -> bool {
        self.0.insert(hash)
    }

    pub fn reserve(&mut self, more: usize) {
        self.0.reserve(more);
    }
}

/// The 64-bit hash of a dedupe key (SipHash with fixed keys: stable within a run).
pub fn key_hash(key: &str) -> u64 {
    let mut h = DefaultHasher::new();
    key.hash(&mut h);
    h.finish()
}

/// An import in progress. Nothing is visible to others until [`Import::commit`];
/// dropping it (an error, a kill) rolls everything back.
pub struct Import<'s> {
    conn: &'s Connection,
    committed: bool,
    campaign_id: i64,
    source: Source,
    entered_by: Option<String>,
    signed_at: String,
    /// `None` once handed to the caller with [`Import::take_seen_keys`].
    seen: Option<SeenKeys>,
    /// Sheet id -> its index in `unknown_sheets` when it was not printed for the campaign.
    sheets: HashMap<String, Option<usize>>,
    unknown_sheets: Vec<UnknownSheet>,
    counts: ImportCounts,
}

/// A sheet id the file names that was never printed for this campaign (a sheet from
/// another campaign, an export from elsewhere): its rows are kept, the id with them as
/// provenance, and the caller says so once per id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownSheet {
    pub sheet_id: String,
    pub rows: u64,
}

impl Store {
    /// Starts importing into `campaign_id`: one write transaction until `commit`.
    pub fn begin_import(
        &mut self,
        campaign_id: i64,
        source: Source,
        entered_by: Option<String>,
    ) -> Result<Import<'_>> {
        let conn = self.conn();
        // The database stays in WAL mode (see `Store::open`): a rollback journal would
        // save the second write of each page at the checkpoint, but lock every reader
        // and writer out for the length of the import.
        conn.pragma_update(None, "cache_size", IMPORT_CACHE_KIB)?;
        // Without these SQLite keeps a statement journal (a temp file holding a copy of
        // every page each INSERT touches, in case that one statement must be undone):
        // the campaign reference is checked at commit and a conflict rolls back the
        // whole import, which is all-or-nothing anyway; any journal left stays in memory.
        conn.pragma_update(None, "temp_store", "MEMORY")?;
        // The campaign reference is checked once below, under the write lock that keeps
        // it from being deleted, instead of once per inserted row.
        conn.pragma_update(None, "foreign_keys", "OFF")?;
        // Waits (and says so) while another process writes, like every writer.
        if let Err(e) = conn.execute_batch("BEGIN IMMEDIATE;") {
            restore(conn);
            return Err(e.into());
        }
        let tx = conn;
        let exists = tx
            .query_row(
                "SELECT 1 FROM campaigns WHERE id = ?1",
                [campaign_id],
                |_| Ok(()),
            )
            .optional()?;
        if exists.is_none() {
            let _ = tx.execute_batch("ROLLBACK");
            restore(tx);
            return Err(crate::error::Error::CampaignNotFound(
                campaign_id.to_string(),
            ));
        }
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
            conn,
            committed: false,
            campaign_id,
            source,
            entered_by,
            signed_at: self.now(),
            seen: Some(SeenKeys(seen)),
            sheets: HashMap::new(),
            unknown_sheets: Vec::new(),
            counts: ImportCounts::default(),
        })
    }
}

impl Import<'_> {
    /// Counts and stores one row (`row` is its number in the file): a valid new signer
    /// is inserted, a duplicate counted, a bad row rejected.
    pub fn add(
        &mut self,
        row: u64,
        signer: std::result::Result<NewSignature, Problem>,
    ) -> Result<RowOutcome> {
        let before = self.counts;
        let mut outcome = None;
        self.add_all([(row, signer)], |r| outcome = Some(RowOutcome::Rejected(r)))?;
        Ok(
            outcome.unwrap_or(if self.counts.duplicates > before.duplicates {
                RowOutcome::Duplicate
            } else {
                RowOutcome::Added
            }),
        )
    }

    /// [`Import::add`] for many rows with one prepared statement; `rejected` hears about
    /// each row not imported.
    pub fn add_all<I, F>(&mut self, rows: I, rejected: F) -> Result<()>
    where
        I: IntoIterator<Item = (u64, std::result::Result<NewSignature, Problem>)>,
        F: FnMut(Rejected),
    {
        self.add_rows(rows.into_iter().map(|(row, s)| (row, s, None)), rejected)
    }

    /// Hands the set of seen key hashes to the caller, who can then check rows on another
    /// thread (in file order) and pass the answer to [`Import::add_all_checked`].
    pub fn take_seen_keys(&mut self) -> SeenKeys {
        self.seen.take().unwrap_or_default()
    }

    /// Like [`Import::add_all`], each row with `SeenKeys::first_time` of its key hash.
    pub fn add_all_checked<I, F>(&mut self, rows: I, rejected: F) -> Result<()>
    where
        I: IntoIterator<Item = (u64, std::result::Result<NewSignature, Problem>, bool)>,
        F: FnMut(Rejected),
    {
        self.add_rows(
            rows.into_iter()
                .map(|(row, s, first)| (row, s, Some(first))),
            rejected,
        )
    }

    fn add_rows<I, F>(&mut self, rows: I, mut rejected: F) -> Result<()>
    where
        I: Iterator<
            Item = (
                u64,
                std::result::Result<NewSignature, Problem>,
                Option<bool>,
            ),
        >,
        F: FnMut(Rejected),
    {
        let Import {
            conn: tx,
            campaign_id,
            source,
            entered_by,
            signed_at,
            seen,
            sheets,
            unknown_sheets,
            counts,
            ..
        } = self;
        let mut insert_one = tx.prepare_cached(&insert_sql(1))?;
        let mut insert_many = tx.prepare_cached(&insert_sql(CHUNK))?;
        let defaults = Defaults {
            campaign_id: *campaign_id,
            source: *source,
            entered_by: entered_by.as_deref(),
            signed_at,
        };
        let mut pending: Vec<NewSignature> = Vec::with_capacity(CHUNK);
        let mut exists =
            tx.prepare("SELECT 1 FROM signatures WHERE campaign_id = ?1 AND dedupe_key = ?2")?;
        for (row, signer, first_time) in rows {
            counts.read += 1;
            let signer = match signer {
                Ok(s) => s,
                Err(problem) => {
                    counts.rejected += 1;
                    rejected(Rejected {
                        row,
                        reason: problem.to_string(),
                        value: problem.value,
                    });
                    continue;
                }
            };
            if let Some(sheet) = &signer.sheet_id {
                let unknown = match sheets.get(sheet) {
                    Some(unknown) => *unknown,
                    None => {
                        let printed = tx
                            .query_row(
                                "SELECT 1 FROM sheets WHERE campaign_id = ?1 AND sheet_id = ?2",
                                params![*campaign_id, sheet],
                                |_| Ok(()),
                            )
                            .optional()?
                            .is_some();
                        let unknown = (!printed).then(|| {
                            unknown_sheets.push(UnknownSheet {
                                sheet_id: sheet.clone(),
                                rows: 0,
                            });
                            unknown_sheets.len() - 1
                        });
                        sheets.insert(sheet.clone(), unknown);
                        unknown
                    }
                };
                if let Some(i) = unknown {
                    unknown_sheets[i].rows += 1;
                }
            }
            // A hash already seen is a duplicate only if the full key is in the database
            // (rows waiting to be inserted go in first, so the check sees them).
            let first_time = match (first_time, seen.as_mut()) {
                (Some(first), _) => first,
                (None, Some(seen)) => seen.first_time(key_hash(&signer.dedupe_key)),
                // The set was handed out: only the database can tell.
                (None, None) => false,
            };
            if !first_time {
                flush(&mut pending, &mut insert_one, &mut insert_many, &defaults)?;
                if exists.exists(params![*campaign_id, signer.dedupe_key])? {
                    counts.duplicates += 1;
                    continue;
                }
            }
            pending.push(signer);
            if pending.len() == CHUNK {
                flush(&mut pending, &mut insert_one, &mut insert_many, &defaults)?;
            }
            counts.added += 1;
        }
        flush(&mut pending, &mut insert_one, &mut insert_many, &defaults)?;
        Ok(())
    }

    pub fn counts(&self) -> ImportCounts {
        self.counts
    }

    /// Sheet ids in the file that were never printed for this campaign, in file order.
    pub fn unknown_sheets(&self) -> &[UnknownSheet] {
        &self.unknown_sheets
    }

    /// Makes every added row visible at once.
    pub fn commit(mut self) -> Result<ImportCounts> {
        self.conn.execute_batch("COMMIT")?;
        self.committed = true;
        Ok(self.counts)
    }
}

/// Rows per multi-row INSERT: fewer statement executions for the same work.
const CHUNK: usize = 32;
const COLUMNS: usize = 14;

fn insert_sql(rows: usize) -> String {
    let one = format!("({})", vec!["?"; COLUMNS].join(", "));
    format!(
        "INSERT OR ROLLBACK INTO signatures (campaign_id, name, email, postcode, phone, phone_valid, opt_in, private, \
         source, sheet_id, line, entered_by, signed_at, dedupe_key) VALUES {}",
        vec![one; rows].join(", ")
    )
}

/// What every row of one import shares.
struct Defaults<'a> {
    campaign_id: i64,
    source: Source,
    entered_by: Option<&'a str>,
    signed_at: &'a str,
}

fn flush(
    pending: &mut Vec<NewSignature>,
    one: &mut Statement<'_>,
    many: &mut Statement<'_>,
    d: &Defaults<'_>,
) -> Result<()> {
    if pending.len() == CHUNK {
        for (i, s) in pending.iter().enumerate() {
            bind(many, i * COLUMNS, s, d)?;
        }
        many.raw_execute()?;
    } else {
        for s in pending.iter() {
            bind(one, 0, s, d)?;
            one.raw_execute()?;
        }
    }
    pending.clear();
    Ok(())
}

fn bind(stmt: &mut Statement<'_>, base: usize, s: &NewSignature, d: &Defaults<'_>) -> Result<()> {
    stmt.raw_bind_parameter(base + 1, d.campaign_id)?;
    stmt.raw_bind_parameter(base + 2, &s.name)?;
    stmt.raw_bind_parameter(base + 3, &s.email)?;
    stmt.raw_bind_parameter(base + 4, &s.postcode)?;
    stmt.raw_bind_parameter(base + 5, &s.phone)?;
    stmt.raw_bind_parameter(base + 6, s.phone_valid)?;
    stmt.raw_bind_parameter(base + 7, s.opt_in)?;
    stmt.raw_bind_parameter(base + 8, s.private)?;
    stmt.raw_bind_parameter(base + 9, s.source.unwrap_or(d.source).as_str())?;
    stmt.raw_bind_parameter(base + 10, &s.sheet_id)?;
    stmt.raw_bind_parameter(base + 11, s.line)?;
    stmt.raw_bind_parameter(base + 12, s.entered_by.as_deref().or(d.entered_by))?;
    stmt.raw_bind_parameter(base + 13, s.signed_at.as_deref().unwrap_or(d.signed_at))?;
    stmt.raw_bind_parameter(base + 14, &s.dedupe_key)?;
    Ok(())
}

impl Drop for Import<'_> {
    fn drop(&mut self) {
        if !self.committed {
            let _ = self.conn.execute_batch("ROLLBACK");
        }
        restore(self.conn);
    }
}

/// Back to the everyday settings after an import, committed or not.
fn restore(conn: &Connection) {
    let _ = conn.pragma_update(None, "foreign_keys", "ON");
    let _ = conn.pragma_update(None, "cache_size", NORMAL_CACHE_KIB);
    let _ = conn.pragma_update(None, "temp_store", "DEFAULT");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{CampaignDraft, Scope};

    /// A signer as `domain::signer::validate` would give it (built by hand: the store
    /// does not depend on the domain).
    fn signer(name: &str, email: &str) -> NewSignature {
        let email = email.trim();
        NewSignature {
            name: name.into(),
            email: Some(email.into()),
            postcode: Some("94612".into()),
            phone_valid: true,
            dedupe_key: email.to_lowercase(),
            ..Default::default()
        }
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
            import
                .add(2, Ok(signer("Ana R", " ANA@example.org")))
                .unwrap(),
            RowOutcome::Duplicate
        );
        assert_eq!(
            import.add(3, Ok(signer("李娜", "li@example.org"))).unwrap(),
            RowOutcome::Added
        );
        assert_eq!(
            import
                .add(4, Ok(signer("Li Na", "LI@example.org")))
                .unwrap(),
            RowOutcome::Duplicate
        );
        let bad = Problem {
            field: "email",
            message: "not an email address".into(),
            value: Some("bo@@x".into()),
        };
        assert!(matches!(
            import.add(5, Err(bad)).unwrap(),
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
    fn rows_of_a_sheet_never_printed_here_are_kept_and_the_sheet_named_once() {
        let (mut store, id) = store_with_campaign();
        let mut import = store.begin_import(id, Source::Online, None).unwrap();
        for (row, email) in [(2, "a@example.org"), (3, "b@example.org")] {
            let mut s = signer("Bo", email);
            s.sheet_id = Some("MAK-0001".into());
            s.source = Some(Source::Paper);
            s.line = Some(row as i64);
            s.signed_at = Some("2026-05-01T18:30:00Z".into());
            assert_eq!(import.add(row, Ok(s)).unwrap(), RowOutcome::Added);
        }
        assert_eq!(
            import.unknown_sheets(),
            [UnknownSheet {
                sheet_id: "MAK-0001".into(),
                rows: 2
            }]
        );
        import.commit().unwrap();
        let mut stored = Vec::new();
        store
            .for_each_signature(id, |s| {
                stored.push(s);
                Ok(())
            })
            .unwrap();
        assert_eq!(stored.len(), 2);
        assert_eq!(stored[1].sheet_id.as_deref(), Some("MAK-0001"));
        assert_eq!(stored[1].source, Source::Paper);
        assert_eq!(stored[1].signed_at, "2026-05-01T18:30:00Z");
    }

    #[test]
    fn a_hash_hit_that_is_not_a_duplicate_is_still_added() {
        let (mut store, id) = store_with_campaign();
        let mut import = store.begin_import(id, Source::Online, None).unwrap();
        // A hash hit (as if another key shared this hash): the database check decides.
        let mut seen = import.take_seen_keys();
        let s = signer("Ana", "ana@example.org");
        assert!(seen.first_time(key_hash(&s.dedupe_key)));
        let again = signer("Ana R", "ANA@example.org");
        let mut outcomes = Vec::new();
        import
            .add_all_checked([(2, Ok(s.clone()), false), (3, Ok(again), false)], |r| {
                outcomes.push(r)
            })
            .unwrap();
        assert!(outcomes.is_empty());
        let counts = import.commit().unwrap();
        assert_eq!((counts.added, counts.duplicates), (1, 1));
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
