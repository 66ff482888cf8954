//! Bulk import: one transaction for the whole file, so an import that fails or is killed
//! leaves the database as it was, and every row it adds shows at once when it commits.
//!
//! What makes it fast, measured on the benchmark's realistic files (emails in random
//! order, see `benches/import.rs`):
//! - Rows go into `signatures` in file order (entry order, what export shows), appended
//!   with ids of our own, and their keys into `signature_keys` (migration 5) in key
//!   order: one sorted merge per run of keys instead of a random descent of a unique
//!   index per row, which cost most of an import (about 6 µs a row on a million
//!   signers, against about 2 µs sorted).
//! - Duplicates are found in memory: a set of the 64-bit hashes of every key the
//!   campaign holds (taken once the import proves large enough to repay reading them)
//!   says a key is certainly new; only a hit (a duplicate, or rarely a collision) is
//!   compared in full, with the keys of this run in memory or with `signature_keys`.
//! - Triggers are off on this connection for the length of the import: the keys and the
//!   counts they would maintain row by row are written here in bulk, in the same
//!   transaction.
//!
//! Memory stays bounded: keys wait in memory only until a run of [`RUN_KEYS`] is
//! merged; what grows with the campaign is the hash set (8 bytes and some slack a key).

use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hasher};

use rayon::slice::ParallelSliceMut;
use rusqlite::config::DbConfig;
use rusqlite::{params, Connection, OptionalExtension, Statement};

use super::SqliteStore as Store;
use crate::error::{Error, Result};
use crate::model::{NewSignature, Source};
use crate::store::{ImportDefaults, ImportOutcome};

/// Page cache during an import (KiB, negative as SQLite wants): enough for the pages
/// being appended to and the path of the sorted merge, which is all an import touches
/// (64 MB measured no faster, and 50 MB more at the peak).
const IMPORT_CACHE_KIB: i64 = -16_384;
const NORMAL_CACHE_KIB: i64 = -2_000;

/// Keys kept in memory before they are merged into `signature_keys` in one sorted pass:
/// larger runs mean fewer passes over the campaign's keys, smaller ones less memory
/// (about 70 bytes a key here).
pub const RUN_KEYS: usize = 1 << 19;

/// A sheet id the file names that was never printed for this campaign (a sheet from
/// another campaign, an export from elsewhere): its rows are kept, the id with them as
/// provenance, and the caller says so once per id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownSheet {
    pub sheet_id: String,
    /// Rows added with this sheet id.
    pub rows: u64,
}

/// The hashes in the sets are already well mixed: hashing them again is waste.
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

type Hashed = BuildHasherDefault<PassThrough>;

/// The 64-bit hash of a dedupe key's bytes (rustc-hash: fast, and a collision only costs
/// an exact comparison).
fn key_hash(key: &[u8]) -> u64 {
    let mut h = rustc_hash::FxHasher::default();
    h.write(key);
    h.finish()
}

/// Keys added since the last merge, with the ids of their rows, findable by hash.
#[derive(Default)]
struct Run {
    /// The keys, one after another.
    text: String,
    keys: Vec<RunKey>,
    /// Hash -> index in `keys` of the first key with that hash.
    by_hash: HashMap<u64, u32, Hashed>,
    /// Indexes of keys whose hash another key of the run had first (a collision).
    collided: Vec<u32>,
}

/// A key of a run: where its text is, and its first bytes to sort by without reading it.
#[derive(Clone, Copy)]
struct RunKey {
    /// The first 8 bytes, big-endian, zero-padded: keys never hold a zero byte (control
    /// characters are refused), so this orders like the bytes themselves.
    prefix: u64,
    start: u32,
    len: u32,
    id: i64,
}

impl Run {
    fn text_of(&self, k: &RunKey) -> &str {
        &self.text[k.start as usize..(k.start + k.len) as usize]
    }

    fn key(&self, i: u32) -> &str {
        self.text_of(&self.keys[i as usize])
    }

    fn contains(&self, key: &str, hash: u64) -> bool {
        match self.by_hash.get(&hash) {
            None => false,
            Some(&i) => self.key(i) == key || self.collided.iter().any(|&j| self.key(j) == key),
        }
    }

    fn push(&mut self, key: &str, hash: u64, id: i64) {
        let i = self.keys.len() as u32;
        let mut prefix = [0u8; 8];
        let head = &key.as_bytes()[..key.len().min(8)];
        prefix[..head.len()].copy_from_slice(head);
        self.keys.push(RunKey {
            prefix: u64::from_be_bytes(prefix),
            start: self.text.len() as u32,
            len: key.len() as u32,
            id,
        });
        self.text.push_str(key);
        match self.by_hash.entry(hash) {
            std::collections::hash_map::Entry::Vacant(slot) => {
                slot.insert(i);
            }
            // Another key of the run has this hash (a collision): `contains` compares both.
            std::collections::hash_map::Entry::Occupied(_) => self.collided.push(i),
        }
    }

    /// The keys in byte order (SQLite's BINARY collation, the order of `signature_keys`).
    fn sort(&mut self) {
        let text = self.text.as_str();
        let bytes = |k: &RunKey| &text.as_bytes()[k.start as usize..(k.start + k.len) as usize];
        self.keys.par_sort_unstable_by(|a, b| {
            a.prefix.cmp(&b.prefix).then_with(|| bytes(a).cmp(bytes(b)))
        });
    }

    fn len(&self) -> usize {
        self.keys.len()
    }

    /// Whether the run holds `limit` keys (or as much text as 32-bit offsets allow).
    fn full(&self, limit: usize) -> bool {
        self.keys.len() >= limit || self.text.len() > (u32::MAX / 2) as usize
    }

    fn clear(&mut self) {
        self.text.clear();
        self.keys.clear();
        self.by_hash.clear();
        self.collided.clear();
    }
}

/// An import in progress. Nothing is visible to others until [`SqliteImport::commit`];
/// dropping it (an error, a kill) rolls everything back.
pub struct SqliteImport<'s> {
    conn: &'s Connection,
    finished: bool,
    campaign_id: i64,
    defaults: ImportDefaults,
    /// The id the next added row gets: rows are appended in the order they come.
    next_id: i64,
    /// Signers the campaign had when the import began.
    campaign_rows: u64,
    /// Hashes of every key of the campaign, this import's included, once loaded: a key
    /// whose hash is not here is certainly new.
    seen: Option<HashSet<u64, Hashed>>,
    /// Keys looked up one by one while `seen` was not loaded.
    lookups: u64,
    run: Run,
    /// Keys a run holds before it is merged ([`RUN_KEYS`]; fewer in tests).
    run_limit: usize,
    /// Sheet id -> its index in `unknown_sheets` when it was not printed for the campaign.
    sheets: HashMap<String, Option<usize>>,
    unknown_sheets: Vec<UnknownSheet>,
    added: u64,
    duplicates: u64,
    /// People who asked to be forgotten (`campaign forget`), read under the write lock.
    tombstones: crate::store::tombstones::Tombstones,
    /// Rows left out because their signer asked to be forgotten.
    forgotten: u64,
    paper: u64,
    online: u64,
    private: u64,
}

impl Store {
    /// Starts importing into `campaign_id`: one write transaction until `commit`; dropped,
    /// it is rolled back.
    pub fn begin_import(
        &mut self,
        campaign_id: i64,
        defaults: ImportDefaults,
    ) -> Result<SqliteImport<'_>> {
        let conn = self.conn();
        // The database stays in WAL mode (see `Store::open`): a rollback journal would
        // save the second write of each page at the checkpoint, but lock every reader
        // and writer out for the length of the import.
        conn.pragma_update(None, "cache_size", IMPORT_CACHE_KIB)?;
        // A statement journal, if one is ever needed, and the sorter's spills go to files
        // (removed by SQLite as soon as they are open), not to memory.
        conn.pragma_update(None, "temp_store", "FILE")?;
        // The campaign reference is checked once below, under the write lock that keeps
        // it from being deleted, instead of once per inserted row.
        conn.pragma_update(None, "foreign_keys", "OFF")?;
        // The keys and counts the triggers keep row by row are written in bulk here.
        conn.set_db_config(DbConfig::SQLITE_DBCONFIG_ENABLE_TRIGGER, false)?;
        // Waits (and says so) while another process writes, like every writer.
        if let Err(e) = conn.execute_batch("BEGIN IMMEDIATE;") {
            restore(conn);
            return Err(e.into());
        }
        let mut import = SqliteImport {
            conn,
            finished: false,
            campaign_id,
            defaults,
            next_id: 0,
            campaign_rows: 0,
            seen: None,
            lookups: 0,
            run: Run::default(),
            run_limit: RUN_KEYS,
            sheets: HashMap::new(),
            unknown_sheets: Vec::new(),
            added: 0,
            duplicates: 0,
            tombstones: Default::default(),
            forgotten: 0,
            paper: 0,
            online: 0,
            private: 0,
        };
        // Dropping `import` on an error below rolls back and restores the settings.
        let exists = conn
            .query_row(
                "SELECT 1 FROM campaigns WHERE id = ?1",
                [campaign_id],
                |_| Ok(()),
            )
            .optional()?;
        if exists.is_none() {
            return Err(Error::CampaignNotFound(campaign_id.to_string()));
        }
        // Under the write lock: a purge that ended after the command loaded the campaign
        // is seen here, so no name lands in a purged campaign.
        super::privacy::refuse_purged_campaign(conn, campaign_id)?;
        import.tombstones = super::privacy::load_tombstones(conn)?;
        import.next_id =
            conn.query_row("SELECT COALESCE(MAX(id), 0) + 1 FROM signatures", [], |r| {
                r.get(0)
            })?;
        import.campaign_rows = conn
            .query_row(
                "SELECT total FROM signature_counts WHERE campaign_id = ?1",
                [campaign_id],
                |r| r.get::<_, i64>(0),
            )
            .optional()?
            .unwrap_or(0)
            .max(0) as u64;
        if import.campaign_rows == 0 {
            import.seen = Some(HashSet::default());
        }
        Ok(import)
    }
}

/// Rows per multi-row INSERT: fewer statement executions for the same work.
const CHUNK: usize = 32;
/// Parameters shared by every row of a statement, bound once: ?1 campaign, ?2 source,
/// ?3 entered_by, ?4 signed_at (a row's own value, when it has one, wins).
const SHARED: usize = 4;
/// Parameters of each row.
const COLUMNS: usize = 15;

/// `OR ROLLBACK`: a row the schema refuses ends the whole import (all or nothing anyway),
/// so SQLite needs no statement journal to undo half of a multi-row statement.
fn insert_sql(rows: usize) -> String {
    let values: Vec<String> = (0..rows)
        .map(|r| {
            let p = |j: usize| format!("?{}", SHARED + r * COLUMNS + j);
            format!(
                "({}, ?1, {}, {}, {}, {}, {}, {}, {}, COALESCE({}, ?2), {}, {}, COALESCE({}, ?3), COALESCE({}, ?4), {}, {})",
                p(1), p(2), p(3), p(4), p(5), p(6), p(7), p(8), p(9), p(10), p(11), p(12), p(13), p(14), p(15)
            )
        })
        .collect();
    format!(
        "INSERT OR ROLLBACK INTO signatures (id, campaign_id, name, email, postcode, phone, phone_valid, \
         opt_in, private, source, sheet_id, line, entered_by, signed_at, dedupe_key, uid) VALUES {}",
        values.join(", ")
    )
}

/// Keys per multi-row INSERT into `signature_keys`.
const KEY_CHUNK: usize = 64;

fn keys_sql(rows: usize) -> String {
    let values: Vec<String> = (0..rows)
        .map(|r| format!("(?1, ?{}, ?{})", 2 + 2 * r, 3 + 2 * r))
        .collect();
    format!(
        "INSERT OR ROLLBACK INTO signature_keys (campaign_id, dedupe_key, signature_id) VALUES {}",
        values.join(", ")
    )
}

const KEY_EXISTS: &str = "SELECT 1 FROM signature_keys WHERE campaign_id = ?1 AND dedupe_key = ?2";

impl SqliteImport<'_> {
    /// Adds valid, normalized rows, in the order they come: a signer already in the
    /// campaign or earlier in the import is counted as a duplicate and left out.
    pub fn add_batch(&mut self, rows: &[NewSignature]) -> Result<()> {
        let conn = self.conn;
        let mut exists = conn.prepare_cached(KEY_EXISTS)?;
        let mut one = Bound::new(conn.prepare_cached(&insert_sql(1))?, 1);
        let mut many = Bound::new(conn.prepare_cached(&insert_sql(CHUNK))?, CHUNK);
        self.bind_shared(&mut one.stmt)?;
        self.bind_shared(&mut many.stmt)?;
        // Rows known to be new, waiting for a full multi-row INSERT (indexes into `rows`).
        let mut pending: Vec<usize> = Vec::with_capacity(CHUNK);
        for (i, s) in rows.iter().enumerate() {
            // No hash at all while nobody was ever forgotten (the import benchmark).
            if !self.tombstones.is_empty() && self.tombstones.forgets(s) {
                self.forgotten += 1;
                continue;
            }
            let key = s.dedupe_key.as_str();
            let hash = key_hash(key.as_bytes());
            if self.is_duplicate(key, hash, &mut exists)? {
                self.duplicates += 1;
                continue;
            }
            self.note_sheet(s)?;
            let id = self.next_id;
            self.next_id += 1;
            self.run.push(key, hash, id);
            if let Some(seen) = self.seen.as_mut() {
                seen.insert(hash);
            }
            self.added += 1;
            match s.source.unwrap_or(self.defaults.source) {
                Source::Paper => self.paper += 1,
                Source::Online => self.online += 1,
            }
            self.private += u64::from(s.private);
            pending.push(i);
            if pending.len() == CHUNK {
                self.insert(&mut many, &pending, rows)?;
                pending.clear();
            }
            if self.run.full(self.run_limit) {
                self.insert_each(&mut one, &pending, rows)?;
                pending.clear();
                self.merge_run()?;
            }
        }
        self.insert_each(&mut one, &pending, rows)?;
        // Enough keys looked up one by one: reading the campaign's once is cheaper now.
        if self.seen.is_none() && self.lookups.saturating_mul(16) > self.campaign_rows {
            self.load_seen()?;
        }
        Ok(())
    }

    /// Whether `key` is already in the campaign or earlier in the import.
    fn is_duplicate(&mut self, key: &str, hash: u64, exists: &mut Statement<'_>) -> Result<bool> {
        if self.run.contains(key, hash) {
            return Ok(true);
        }
        match &self.seen {
            Some(seen) if !seen.contains(&hash) => return Ok(false),
            Some(_) => {}
            None => self.lookups += 1,
        }
        // A hash seen before (or no set yet): the keys merged so far decide.
        Ok(exists.exists(params![self.campaign_id, key])?)
    }

    /// Reads the hashes of every key the campaign holds (and of this run's).
    fn load_seen(&mut self) -> Result<()> {
        let mut seen: HashSet<u64, Hashed> = HashSet::default();
        seen.reserve((self.campaign_rows + self.added) as usize);
        let mut stmt = self
            .conn
            .prepare("SELECT dedupe_key FROM signature_keys WHERE campaign_id = ?1")?;
        let mut keys = stmt.query([self.campaign_id])?;
        while let Some(row) = keys.next()? {
            // The bytes are hashed as they are: no need to check they are UTF-8.
            let key = row.get_ref(0)?.as_bytes().map_err(rusqlite::Error::from)?;
            seen.insert(key_hash(key));
        }
        seen.extend(self.run.by_hash.keys().copied());
        for &i in &self.run.collided {
            seen.insert(key_hash(self.run.key(i).as_bytes()));
        }
        self.seen = Some(seen);
        Ok(())
    }

    /// Counts the row's sheet when it was never printed for the campaign.
    fn note_sheet(&mut self, s: &NewSignature) -> Result<()> {
        let Some(sheet) = &s.sheet_id else {
            return Ok(());
        };
        let unknown = match self.sheets.get(sheet) {
            Some(unknown) => *unknown,
            None => {
                let printed = self
                    .conn
                    .prepare_cached(
                        "SELECT 1 FROM sheets WHERE campaign_id = ?1 AND sheet_id = ?2",
                    )?
                    .exists(params![self.campaign_id, sheet])?;
                let unknown = (!printed).then(|| {
                    self.unknown_sheets.push(UnknownSheet {
                        sheet_id: sheet.clone(),
                        rows: 0,
                    });
                    self.unknown_sheets.len() - 1
                });
                self.sheets.insert(sheet.clone(), unknown);
                unknown
            }
        };
        if let Some(i) = unknown {
            self.unknown_sheets[i].rows += 1;
        }
        Ok(())
    }

    /// Inserts `rows[i]` for each `i` of a full chunk with one statement. The chunk holds
    /// the last rows added, so their ids are the last ones given.
    fn insert(&self, many: &mut Bound<'_>, chunk: &[usize], rows: &[NewSignature]) -> Result<()> {
        let first_id = self.next_id - chunk.len() as i64;
        for (n, &i) in chunk.iter().enumerate() {
            many.row(n, first_id + n as i64, &rows[i])?;
        }
        many.stmt.raw_execute()?;
        Ok(())
    }

    /// Inserts the rows of a partial chunk one by one.
    fn insert_each(
        &self,
        one: &mut Bound<'_>,
        chunk: &[usize],
        rows: &[NewSignature],
    ) -> Result<()> {
        let first_id = self.next_id - chunk.len() as i64;
        for (n, &i) in chunk.iter().enumerate() {
            one.row(0, first_id + n as i64, &rows[i])?;
            one.stmt.raw_execute()?;
        }
        Ok(())
    }

    /// Binds what every row shares (bindings stay across executions).
    fn bind_shared(&self, stmt: &mut Statement<'_>) -> Result<()> {
        let d = &self.defaults;
        stmt.raw_bind_parameter(1, self.campaign_id)?;
        stmt.raw_bind_parameter(2, d.source.as_str())?;
        stmt.raw_bind_parameter(3, d.entered_by.as_deref())?;
        stmt.raw_bind_parameter(4, d.signed_at.as_str())?;
        Ok(())
    }

    /// Merges the run's keys into `signature_keys` in key order, and empties it.
    fn merge_run(&mut self) -> Result<()> {
        if self.run.len() == 0 {
            return Ok(());
        }
        self.run.sort();
        let run = &self.run;
        let mut many = self.conn.prepare_cached(&keys_sql(KEY_CHUNK))?;
        let mut one = self.conn.prepare_cached(&keys_sql(1))?;
        many.raw_bind_parameter(1, self.campaign_id)?;
        one.raw_bind_parameter(1, self.campaign_id)?;
        let mut chunks = run.keys.chunks_exact(KEY_CHUNK);
        for chunk in &mut chunks {
            for (n, k) in chunk.iter().enumerate() {
                many.raw_bind_parameter(2 + 2 * n, run.text_of(k))?;
                many.raw_bind_parameter(3 + 2 * n, k.id)?;
            }
            many.raw_execute()?;
        }
        for k in chunks.remainder() {
            one.raw_bind_parameter(2, run.text_of(k))?;
            one.raw_bind_parameter(3, k.id)?;
            one.raw_execute()?;
        }
        self.run.clear();
        Ok(())
    }

    /// Makes every added row visible at once, with the campaign's counts.
    pub fn commit(mut self) -> Result<ImportOutcome> {
        self.merge_run()?;
        if self.added > 0 {
            self.conn.execute(
                "INSERT INTO signature_counts (campaign_id, total, paper, online, private) \
                 VALUES (?1, ?2, ?3, ?4, ?5) \
                 ON CONFLICT (campaign_id) DO UPDATE SET \
                     total = total + excluded.total, paper = paper + excluded.paper, \
                     online = online + excluded.online, private = private + excluded.private",
                params![
                    self.campaign_id,
                    self.added as i64,
                    self.paper as i64,
                    self.online as i64,
                    self.private as i64
                ],
            )?;
        }
        self.conn.execute_batch("COMMIT")?;
        self.finished = true;
        restore(self.conn);
        Ok(ImportOutcome {
            added: self.added,
            duplicates: self.duplicates,
            forgotten: self.forgotten,
            unknown_sheets: std::mem::take(&mut self.unknown_sheets),
        })
    }
}

impl Drop for SqliteImport<'_> {
    fn drop(&mut self) {
        if !self.finished {
            let _ = self.conn.execute_batch("ROLLBACK");
            restore(self.conn);
        }
    }
}

/// The backend's side of [`crate::store::Store::begin_import`].
impl crate::store::Import for SqliteImport<'_> {
    fn add_batch(&mut self, rows: &[NewSignature]) -> Result<()> {
        SqliteImport::add_batch(self, rows)
    }

    fn commit(self: Box<Self>) -> Result<ImportOutcome> {
        SqliteImport::commit(*self)
    }
}

/// An INSERT into `signatures` with what each row slot has bound. Bindings stay across
/// executions (and start as NULL), so a value that is NULL again, as most optional
/// fields of an import are row after row, is not bound again.
struct Bound<'c> {
    stmt: rusqlite::CachedStatement<'c>,
    /// Per row slot, the parameters holding something other than NULL (bit = parameter).
    set: Vec<u16>,
}

impl<'c> Bound<'c> {
    fn new(stmt: rusqlite::CachedStatement<'c>, rows: usize) -> Self {
        Bound {
            stmt,
            set: vec![0; rows],
        }
    }

    /// Binds one row's own values into slot `slot` (see [`insert_sql`]).
    fn row(&mut self, slot: usize, id: i64, s: &NewSignature) -> Result<()> {
        let base = SHARED + slot * COLUMNS;
        let set = &mut self.set[slot];
        let stmt = &mut self.stmt;
        let mut put = |j: usize, value: Option<&dyn rusqlite::ToSql>| -> Result<()> {
            let bit = 1u16 << j;
            match value {
                Some(v) => {
                    stmt.raw_bind_parameter(base + j, v)?;
                    *set |= bit;
                }
                None if *set & bit != 0 => {
                    stmt.raw_bind_parameter(base + j, rusqlite::types::Null)?;
                    *set &= !bit;
                }
                None => {}
            }
            Ok(())
        };
        fn some<T: rusqlite::ToSql>(v: &Option<T>) -> Option<&dyn rusqlite::ToSql> {
            v.as_ref().map(|v| v as &dyn rusqlite::ToSql)
        }
        put(1, Some(&id))?;
        put(2, Some(&s.name))?;
        put(3, some(&s.email))?;
        put(4, some(&s.postcode))?;
        put(5, some(&s.phone))?;
        put(6, Some(&s.phone_valid))?;
        put(7, Some(&s.opt_in))?;
        put(8, Some(&s.private))?;
        put(9, some(&s.source.map(Source::as_str)))?;
        put(10, some(&s.sheet_id))?;
        put(11, some(&s.line))?;
        put(12, some(&s.entered_by))?;
        put(13, some(&s.signed_at))?;
        put(14, Some(&s.dedupe_key))?;
        // Every row its own stable id (see `crate::uid`), made as it is stored.
        let uid = crate::uid::fresh();
        put(15, Some(&uid.as_bytes().as_slice()))?;
        Ok(())
    }
}

/// Back to the everyday settings after an import, committed or not.
fn restore(conn: &Connection) {
    let _ = conn.set_db_config(DbConfig::SQLITE_DBCONFIG_ENABLE_TRIGGER, true);
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

    fn defaults() -> ImportDefaults {
        ImportDefaults {
            source: Source::Online,
            entered_by: Some("ana@example.org".into()),
            signed_at: "2026-05-01T18:30:00Z".into(),
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

    /// What the triggers would have kept: every key once, the counts of the rows.
    fn consistent(store: &Store) {
        let conn = store.conn();
        let bad: i64 = conn
            .query_row(
                "SELECT (SELECT COUNT(*) FROM signatures s WHERE NOT EXISTS \
                     (SELECT 1 FROM signature_keys k WHERE k.campaign_id = s.campaign_id \
                      AND k.dedupe_key = s.dedupe_key AND k.signature_id = s.id)) \
                 + (SELECT COUNT(*) FROM signature_keys) - (SELECT COUNT(*) FROM signatures)",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(bad, 0, "signature_keys is not one key a signature");
        let mut stmt = conn
            .prepare(
                "SELECT campaign_id, COUNT(*), SUM(source = 'paper'), SUM(source = 'online'), \
                 SUM(private) FROM signatures GROUP BY campaign_id",
            )
            .unwrap();
        let rows: Vec<(i64, [i64; 4])> = stmt
            .query_map([], |r| {
                Ok((r.get(0)?, [r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?]))
            })
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        for (id, [total, paper, online, private]) in rows {
            let c = store.signature_counts(id).unwrap();
            assert_eq!(
                (c.total, c.paper, c.online, c.private),
                (total, paper, online, private)
            );
        }
    }

    #[test]
    fn dedupes_against_the_database_and_the_file() {
        let (mut store, id) = store_with_campaign();
        store
            .insert_signature(id, &signer("Ana", "ana@example.org"))
            .unwrap();
        let mut import = store.begin_import(id, defaults()).unwrap();
        import
            .add_batch(&[
                signer("Ana R", " ANA@example.org"),
                signer("李娜", "li@example.org"),
            ])
            .unwrap();
        import
            .add_batch(&[
                signer("Li Na", "LI@example.org"),
                signer("Bo", "bo@example.org"),
            ])
            .unwrap();
        let outcome = import.commit().unwrap();
        assert_eq!((outcome.added, outcome.duplicates), (2, 2));
        let mut names = Vec::new();
        store
            .for_each_signature(id, |s| {
                names.push((s.name, s.entered_by, s.signed_at));
                Ok(())
            })
            .unwrap();
        let by = Some("ana@example.org".to_string());
        let at = "2026-05-01T18:30:00Z".to_string();
        assert_eq!(
            names[1..],
            [
                ("李娜".into(), by.clone(), at.clone()),
                ("Bo".into(), by, at)
            ]
        );
        consistent(&store);
        // Typed entry after the import meets the imported signers.
        assert_eq!(
            store
                .insert_signature(id, &signer("Bo", "BO@example.org"))
                .unwrap(),
            None
        );
        assert_eq!(
            store
                .find_signature_by_key(id, "li@example.org")
                .unwrap()
                .unwrap()
                .name,
            "李娜"
        );
    }

    #[test]
    fn rows_keep_file_order_whatever_their_keys_and_runs() {
        let (mut store, id) = store_with_campaign();
        // Keys in reverse order, over several runs and batches, with copies across runs.
        let n = 2_500;
        let rows: Vec<NewSignature> = (0..n)
            .map(|i| signer(&format!("n{i}"), &format!("s{:07}@example.org", n - i)))
            .collect();
        let mut import = store.begin_import(id, defaults()).unwrap();
        import.run_limit = 1_000;
        for batch in rows.chunks(700) {
            import.add_batch(batch).unwrap();
        }
        import.add_batch(&rows[..10]).unwrap();
        import.add_batch(&rows[n - 10..]).unwrap();
        let outcome = import.commit().unwrap();
        assert_eq!((outcome.added, outcome.duplicates), (n as u64, 20));
        let mut i = 0;
        store
            .for_each_signature(id, |s| {
                assert_eq!(s.name, format!("n{i}"));
                i += 1;
                Ok(())
            })
            .unwrap();
        assert_eq!(i, n);
        consistent(&store);
    }

    #[test]
    fn a_large_import_into_a_large_campaign_reads_its_keys_once_and_stays_exact() {
        let (mut store, id) = store_with_campaign();
        let first: Vec<NewSignature> = (0..3_000)
            .map(|i| signer("a", &format!("a{i}@example.org")))
            .collect();
        let mut import = store.begin_import(id, defaults()).unwrap();
        import.add_batch(&first).unwrap();
        import.commit().unwrap();
        // Every other row a signer already in: looked up one by one at first, then
        // against the hashes of the campaign's keys.
        let mut import = store.begin_import(id, defaults()).unwrap();
        assert!(import.seen.is_none());
        for part in 0..6 {
            let batch: Vec<NewSignature> = (0..1_000)
                .map(|i| {
                    let n = part * 1_000 + i;
                    if n % 2 == 0 {
                        signer("old", &format!("A{}@example.org", n / 2))
                    } else {
                        signer("new", &format!("b{n}@example.org"))
                    }
                })
                .collect();
            import.add_batch(&batch).unwrap();
        }
        assert!(import.seen.is_some());
        let outcome = import.commit().unwrap();
        assert_eq!((outcome.added, outcome.duplicates), (3_000, 3_000));
        consistent(&store);
    }

    #[test]
    fn a_hash_collision_is_told_apart_by_the_full_key() {
        let mut run = Run::default();
        run.push("ana@example.org", 7, 1);
        run.push("bo@example.org", 7, 2);
        assert!(run.contains("ana@example.org", 7) && run.contains("bo@example.org", 7));
        assert!(!run.contains("cy@example.org", 7));
        assert!(!run.contains("ana@example.org", 8));
        // And in the store: a hash already seen that is not the same key is added.
        let (mut store, id) = store_with_campaign();
        let mut import = store.begin_import(id, defaults()).unwrap();
        import
            .add_batch(&[signer("Ana", "ana@example.org")])
            .unwrap();
        import.merge_run().unwrap();
        import
            .seen
            .as_mut()
            .unwrap()
            .insert(key_hash(b"bo@example.org"));
        import
            .add_batch(&[
                signer("Bo", "bo@example.org"),
                signer("Ana", "ana@example.org"),
            ])
            .unwrap();
        let outcome = import.commit().unwrap();
        assert_eq!((outcome.added, outcome.duplicates), (2, 1));
        consistent(&store);
    }

    #[test]
    fn rows_of_a_sheet_never_printed_here_are_kept_and_the_sheet_named_once() {
        let (mut store, id) = store_with_campaign();
        let mut import = store.begin_import(id, defaults()).unwrap();
        let rows: Vec<NewSignature> = [(2, "a@example.org"), (3, "b@example.org")]
            .into_iter()
            .map(|(line, email)| {
                let mut s = signer("Bo", email);
                s.sheet_id = Some("MAK-0001".into());
                s.source = Some(Source::Paper);
                s.line = Some(line);
                s.private = line == 3;
                s.signed_at = Some("2026-05-01T18:30:00Z".into());
                s
            })
            .collect();
        import.add_batch(&rows).unwrap();
        let outcome = import.commit().unwrap();
        assert_eq!(
            outcome.unknown_sheets,
            [UnknownSheet {
                sheet_id: "MAK-0001".into(),
                rows: 2
            }]
        );
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
        let counts = store.signature_counts(id).unwrap();
        assert_eq!(
            (counts.total, counts.paper, counts.online, counts.private),
            (2, 2, 0, 1)
        );
        consistent(&store);
    }

    #[test]
    fn an_import_not_committed_leaves_nothing_and_triggers_work_again() {
        let (mut store, id) = store_with_campaign();
        {
            let mut import = store.begin_import(id, defaults()).unwrap();
            import
                .add_batch(&[signer("Ana", "ana@example.org")])
                .unwrap();
        }
        assert_eq!(store.signature_counts(id).unwrap().total, 0);
        store
            .insert_signature(id, &signer("Ana", "ana@example.org"))
            .unwrap()
            .unwrap();
        assert_eq!(store.signature_counts(id).unwrap().total, 1);
        consistent(&store);
        assert!(matches!(
            store.begin_import(id + 1, defaults()),
            Err(Error::CampaignNotFound(_))
        ));
        assert_eq!(
            store
                .insert_signature(id, &signer("Ana", "ANA@example.org"))
                .unwrap(),
            None
        );
        consistent(&store);
    }

    /// Typed entry's corrections go through the triggers: the counts and the keys follow
    /// a changed flag and a changed email, and an email another signer has is refused
    /// with nothing changed (as the unique index did).
    #[test]
    fn corrections_keep_the_counts_and_keys_exact() {
        let (mut store, id) = store_with_campaign();
        let ana = store
            .insert_signature(id, &signer("Ana", "ana@example.org"))
            .unwrap()
            .unwrap();
        store
            .insert_signature(id, &signer("Bo", "bo@example.org"))
            .unwrap()
            .unwrap();
        let mut corrected = signer("Ana", "ana.r@example.org");
        corrected.private = true;
        assert!(store.update_signature(ana, &corrected).unwrap());
        assert_eq!(store.signature_counts(id).unwrap().private, 1);
        consistent(&store);
        assert!(store
            .find_signature_by_key(id, "ana@example.org")
            .unwrap()
            .is_none());
        assert_eq!(
            store
                .find_signature_by_key(id, "ana.r@example.org")
                .unwrap()
                .unwrap()
                .id,
            ana
        );
        assert!(!store
            .update_signature(ana, &signer("Ana", "bo@example.org"))
            .unwrap());
        consistent(&store);
        assert_eq!(store.signature_counts(id).unwrap().total, 2);
    }
}
