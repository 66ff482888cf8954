//! SQLite storage: opening, migrations and typed queries returning model values.
//! Nothing here prints.

mod admins;
mod busy;
mod campaigns;
mod deliveries;
mod delivery_reads;
mod import;
pub mod migrations;
mod sheets;
mod signatures;

use std::path::{Path, PathBuf};

use rusqlite::{Connection, Transaction, TransactionBehavior};

pub use busy::{
    busy_timeout, describe as describe_wait, on_busy, parse_timeout as parse_busy_timeout,
    set_busy_timeout, Wait, DEFAULT_TIMEOUT as DEFAULT_BUSY_TIMEOUT,
};
pub(crate) use busy::{database as busy_database, gave_up_after};
pub use campaigns::CampaignUpdate;
pub use deliveries::NewDelivery;
pub use import::{key_hash, Import, ImportCounts, Rejected, RowOutcome, SeenKeys};
pub use sheets::sheet_prefix;
pub use signatures::NewSignature;

use crate::error::{Error, Result};
use crate::fsutil;

pub struct Store {
    conn: Connection,
    path: Option<PathBuf>,
}

impl Store {
    /// Opens (creating if needed) the database at `path`, private to the user, and
    /// migrates it to the latest schema.
    pub fn open(path: &Path) -> Result<Store> {
        Self::open_at_version(path, migrations::LATEST)
    }

    /// Opens and migrates only up to `version`: for tests of old databases.
    pub fn open_at_version(path: &Path, version: i64) -> Result<Store> {
        if let Some(parent) = path.parent() {
            fsutil::create_private_dir(parent)?;
        }
        if path.exists() {
            // A database copied in with looser permissions is narrowed: it holds signers.
            // Best effort: a file we do not own still opens.
            if let Ok(file) = std::fs::File::open(path) {
                let _ = fsutil::narrow(&file);
            }
        } else {
            // Create the file ourselves so it is 0600 from its first byte (SQLite gives
            // its WAL and shared-memory files the database file's mode).
            fsutil::create_private_file(path).map_err(|source| Error::OpenDatabase {
                path: path.display().to_string(),
                reason: source.to_string(),
            })?;
        }
        let mut conn = Connection::open(path).map_err(|source| Error::OpenDatabase {
            path: path.display().to_string(),
            reason: source.to_string(),
        })?;
        busy::install(&conn, path)?;
        configure(&conn).map_err(|source| match source {
            Error::Sqlite(e) => Error::OpenDatabase {
                path: path.display().to_string(),
                reason: e.to_string(),
            },
            other => other,
        })?;
        conn.set_transaction_behavior(TransactionBehavior::Immediate);
        migrations::migrate_to(&mut conn, &path.display().to_string(), version)?;
        Ok(Store {
            conn,
            path: Some(path.to_path_buf()),
        })
    }

    /// A fresh database in memory, for tests.
    pub fn open_in_memory() -> Result<Store> {
        let mut conn = Connection::open_in_memory()?;
        configure(&conn)?;
        conn.set_transaction_behavior(TransactionBehavior::Immediate);
        migrations::migrate_to(&mut conn, ":memory:", migrations::LATEST)?;
        Ok(Store { conn, path: None })
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

fn configure(conn: &Connection) -> Result<()> {
    conn.pragma_update(None, "foreign_keys", "ON")?;
    // WAL, where the database stays: readers never wait for a writer and a writer never
    // waits for readers, so `list`, `show` or a delivery run during an import, and typed
    // entry only waits for the import's commit.
    let _mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    Ok(())
}

/// Current UTC time as ISO 8601 (`2026-11-26T10:00:00Z`).
pub fn now() -> String {
    let now = time::OffsetDateTime::now_utc()
        .replace_nanosecond(0)
        .unwrap_or_else(|_| time::OffsetDateTime::now_utc());
    now.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}
