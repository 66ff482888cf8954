//! The SQLite backend: one private file, opened in WAL mode, migrated on open, every
//! write transaction `BEGIN IMMEDIATE`. The SQL and its column lists live here, once;
//! [`crate::store::Store`] is implemented over them in `store_impl.rs`. Nothing here
//! prints.

mod admins;
pub(crate) mod busy;
mod campaigns;
pub mod cipher;
mod deliveries;
mod delivery_reads;
pub(crate) mod import;
mod merge;
pub mod migrations;
mod privacy;
mod sheets;
mod signatures;
mod signer_edits;
mod store_impl;
mod translations;

use std::path::{Path, PathBuf};

use rusqlite::{Connection, Transaction, TransactionBehavior};

pub use import::{SqliteImport, UnknownSheet};

use crate::clock::{self, Clock};
use crate::error::{Error, Result};
use crate::fsutil;

pub struct SqliteStore {
    conn: Connection,
    path: Option<PathBuf>,
    /// Stamps rows (created, edited, delivered, signed): given by the caller.
    clock: Clock,
    /// The campaign columns this file's schema has (an old schema, opened by a test
    /// with `open_at_version`, has no retention columns yet).
    campaign_columns: &'static str,
    /// Unit tests: how many coming signer saves and lookups find the database busy.
    #[cfg(test)]
    busy: std::cell::Cell<u32>,
}

impl SqliteStore {
    /// Opens (creating if needed) the database at `path`, private to the user, and
    /// migrates it to the latest schema.
    pub fn open(path: &Path) -> Result<SqliteStore> {
        Self::open_at_version(path, migrations::LATEST)
    }

    /// Opens and migrates only up to `version`: for tests of old databases.
    ///
    /// Safe with other processes opening the same file at the same moment: the file is
    /// created once and never truncated, and the migrations run under the write lock.
    pub fn open_at_version(path: &Path, version: i64) -> Result<SqliteStore> {
        let shown = path.display().to_string();
        let cannot_open = |reason: String| Error::OpenDatabase {
            path: shown.clone(),
            reason,
        };
        // An encrypted database opens only with its key, unlocked by the caller: without
        // it, nothing is created or written.
        let key = cipher::registered(path);
        let key_file = cipher::key_path(path);
        if key.is_none() && key_file.exists() {
            return Err(Error::Locked {
                db: shown.clone(),
                key: key_file.display().to_string(),
            });
        }
        if let Some(parent) = path.parent() {
            fsutil::create_private_dir(parent)?;
        }
        create_private(path).map_err(|e| cannot_open(e.to_string()))?;
        let mut conn = Connection::open(path).map_err(|e| cannot_open(e.to_string()))?;
        cipher::quiet(&conn);
        if let Some(key) = &key {
            cipher::apply_key(&conn, key)?;
        }
        if !cipher::readable(&conn)? {
            let key = key_file.display().to_string();
            if cipher::suffixed(path, ".encrypting").exists() {
                return Err(Error::Refused(format!(
                    "an encryption of {shown} was interrupted: run `campaign encrypt` again to finish it"
                )));
            }
            return Err(match key_file.exists() {
                true => Error::KeyMismatch { db: shown, key },
                false => Error::NotADatabase { db: shown, key },
            });
        }
        // A busy database is waited on (and says so), not a reason to give another path.
        let at_open = |e: rusqlite::Error| match Error::from(e) {
            Error::Sqlite(e) => cannot_open(e.to_string()),
            other => other,
        };
        busy::install(&conn, path).map_err(at_open)?;
        conn.set_transaction_behavior(TransactionBehavior::Immediate);
        conn.pragma_update(None, "foreign_keys", "ON")
            .map_err(at_open)?;
        // Before anything that writes (the journal mode, the migrations): a database
        // from a newer version is refused with its bytes untouched.
        let found = migrations::version(&conn).map_err(|e| match e {
            Error::Sqlite(e) => cannot_open(e.to_string()),
            other => other,
        })?;
        migrations::refuse_newer(&shown, found)?;
        use_wal(&conn).map_err(at_open)?;
        migrations::migrate_to(&mut conn, &shown, version)?;
        let campaign_columns = campaigns::columns(migrations::version(&conn)?);
        Ok(SqliteStore {
            conn,
            path: Some(path.to_path_buf()),
            clock: clock::system(),
            campaign_columns,
            #[cfg(test)]
            busy: std::cell::Cell::new(0),
        })
    }

    /// A fresh database in memory, for tests.
    pub fn open_in_memory() -> Result<SqliteStore> {
        let mut conn = Connection::open_in_memory()?;
        conn.set_transaction_behavior(TransactionBehavior::Immediate);
        conn.pragma_update(None, "foreign_keys", "ON")?;
        migrations::migrate_to(&mut conn, ":memory:", migrations::LATEST)?;
        Ok(SqliteStore {
            conn,
            path: None,
            clock: clock::system(),
            campaign_columns: campaigns::columns(migrations::LATEST),
            #[cfg(test)]
            busy: std::cell::Cell::new(0),
        })
    }

    /// The same store, stamping rows with `clock` (a fixed time in tests).
    pub fn with_clock(mut self, clock: Clock) -> SqliteStore {
        self.clock = clock;
        self
    }

    /// Unit tests: the next `n` signer saves and lookups fail as on a database another
    /// process holds for longer than we wait.
    #[cfg(test)]
    pub(crate) fn make_busy(&self, n: u32) {
        self.busy.set(n);
    }

    /// Unit tests: `Err(Busy)` while [`SqliteStore::make_busy`] says so.
    #[cfg(test)]
    pub(crate) fn injected_busy(&self) -> Result<()> {
        let left = self.busy.get();
        if left == 0 {
            return Ok(());
        }
        self.busy.set(left - 1);
        Err(Error::Busy {
            path: ":memory:".into(),
            waited: None,
        })
    }

    /// The time now, from the caller's clock.
    pub(crate) fn now(&self) -> String {
        (self.clock)()
    }

    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    pub fn schema_version(&self) -> Result<i64> {
        migrations::version(&self.conn)
    }

    /// The raw connection, for store modules.
    pub(crate) fn conn(&self) -> &Connection {
        &self.conn
    }

    pub(crate) fn conn_mut(&mut self) -> &mut Connection {
        &mut self.conn
    }

    /// A read-only transaction: one snapshot for several queries, taking no lock that
    /// keeps a writer (an import) waiting or waits on one. Every other transaction is
    /// `BEGIN IMMEDIATE` (see `open_at_version`): a write transaction that began as a
    /// read could not wait for the lock and would fail at once.
    pub(crate) fn read_transaction(&self) -> Result<Transaction<'_>> {
        Ok(Transaction::new_unchecked(
            &self.conn,
            TransactionBehavior::Deferred,
        )?)
    }
}

/// Creates the database file 0600 from its first byte (SQLite gives its WAL and
/// shared-memory files the database file's mode), or narrows one copied in with looser
/// permissions: it holds signers. Never truncates: another process may have created the
/// file a moment ago and be writing its first pages.
///
/// An existing file is never opened here: closing any descriptor of the database drops
/// every lock this process's connections hold on it (POSIX record locks belong to the
/// process), and another process closing its connection would then take itself for the
/// last one and delete the WAL under ours, losing what we write next (a delivery record).
pub(crate) fn create_private(path: &Path) -> std::io::Result<()> {
    // Held from creation to close, so no connection of this process opens the new file
    // while our descriptor of it is open (see above).
    static CREATING: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _creating = CREATING.lock().unwrap_or_else(|e| e.into_inner());
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    match options.open(path) {
        Ok(file) => fsutil::narrow(&file),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            narrow_by_path(path);
            Ok(())
        }
        Err(e) => Err(e),
    }
}

/// Best effort: a file we do not own still opens.
fn narrow_by_path(path: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if let Ok(meta) = std::fs::metadata(path) {
            if meta.is_file() && meta.permissions().mode() & 0o077 != 0 {
                let _ = std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600));
            }
        }
    }
    let _ = path;
}

/// Puts the database in WAL mode, where it stays: readers never wait for a writer and a
/// writer never waits for readers, so `list`, `show` or a delivery run during an import
/// and typed entry only waits for the import's commit. The switch is a write, and waits
/// like one when several processes open a fresh database at once.
fn use_wal(conn: &Connection) -> rusqlite::Result<()> {
    let mode: String = conn.query_row("PRAGMA journal_mode", [], |r| r.get(0))?;
    if !mode.eq_ignore_ascii_case("wal") {
        // A file system without shared memory keeps the old mode: slower to share, still safe.
        let _mode: String =
            busy::retrying(|| conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0)))?;
    }
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    // After a large import the log is emptied at the next checkpoint; this gives most of
    // its disk space back instead of keeping a file the size of the import.
    conn.pragma_update(None, "journal_size_limit", WAL_SIZE_LIMIT)?;
    Ok(())
}

/// Bytes the WAL file may keep once checkpointed.
const WAL_SIZE_LIMIT: i64 = 64 << 20;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn several_first_opens_at_once_migrate_once_and_keep_every_row() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("fresh.db");
        let threads: Vec<_> = (0..8)
            .map(|i| {
                let db = db.clone();
                std::thread::spawn(move || {
                    let mut store = SqliteStore::open(&db).unwrap();
                    let draft = crate::model::CampaignDraft {
                        title: format!("t{i}"),
                        scope: Some(crate::model::Scope::Global),
                        ..Default::default()
                    };
                    store.insert_campaign(&draft, "same", None).unwrap().slug
                })
            })
            .collect();
        let mut slugs: Vec<String> = threads.into_iter().map(|t| t.join().unwrap()).collect();
        slugs.sort();
        assert_eq!(slugs.len(), 8);
        slugs.dedup();
        assert_eq!(slugs.len(), 8, "every campaign got its own slug");
        let store = SqliteStore::open(&db).unwrap();
        assert_eq!(store.schema_version().unwrap(), migrations::LATEST);
        let mode: String = store
            .conn()
            .query_row("PRAGMA journal_mode", [], |r| r.get(0))
            .unwrap();
        assert_eq!(mode, "wal");
    }

    #[test]
    fn a_newer_database_is_refused_before_its_journal_mode_changes() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("newer.db");
        Connection::open(&db)
            .unwrap()
            .pragma_update(None, "user_version", migrations::LATEST + 1)
            .unwrap();
        let before = std::fs::read(&db).unwrap();
        assert!(matches!(
            SqliteStore::open(&db),
            Err(Error::DatabaseTooNew { found, .. }) if found == migrations::LATEST + 1
        ));
        assert!(std::fs::read(&db).unwrap() == before);
    }
}
