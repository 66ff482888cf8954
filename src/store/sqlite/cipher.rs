//! Encryption at rest (SQLCipher): the data key of an encrypted database, given to every
//! connection this process opens on it, and the conversion of a plain file.
//!
//! The key of a database is registered once per process ([`unlock`], by the command's
//! context after the passphrase unwrapped it); [`super::SqliteStore::open`] looks it up by
//! path, so every connection the backend opens — a command's, the import's, each delivery
//! lane's — is keyed without being handed the key. A database whose key file exists but
//! whose key was not registered is refused before anything is created or written.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use rusqlite::Connection;

use crate::error::{Error, Result};
use crate::fsutil;
use crate::keyfile::DataKey;

/// The keys unlocked in this process, by resolved database path.
static KEYS: Mutex<Vec<(PathBuf, DataKey)>> = Mutex::new(Vec::new());

/// Where the key file of `db` lives: `campaigns.db` → `campaigns.db.key`.
pub fn key_path(db: &Path) -> PathBuf {
    suffixed(db, ".key")
}

/// `db` with `suffix` appended to its file name.
pub fn suffixed(db: &Path, suffix: &str) -> PathBuf {
    let mut name = db.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

/// Gives `key` to every later connection of this process on `db`.
pub fn unlock(db: &Path, key: DataKey) {
    let resolved = fsutil::resolve(db);
    let mut keys = KEYS.lock().unwrap_or_else(|e| e.into_inner());
    keys.retain(|(p, _)| *p != resolved);
    keys.push((resolved, key));
}

/// Forgets the key of `db` (after a failed `init --encrypt`).
pub fn lock(db: &Path) {
    let resolved = fsutil::resolve(db);
    let mut keys = KEYS.lock().unwrap_or_else(|e| e.into_inner());
    keys.retain(|(p, _)| *p != resolved);
}

/// The key registered for `db`, if any.
pub fn registered(db: &Path) -> Option<DataKey> {
    let resolved = fsutil::resolve(db);
    let keys = KEYS.lock().unwrap_or_else(|e| e.into_inner());
    keys.iter()
        .find(|(p, _)| *p == resolved)
        .map(|(_, k)| k.clone())
}

/// The SQLCipher version linked in, or `None` for a plain SQLite (which ignores the
/// pragma and would silently ignore a key too).
pub fn cipher_version(conn: &Connection) -> rusqlite::Result<Option<String>> {
    let mut stmt = conn.prepare("PRAGMA cipher_version")?;
    let mut rows = stmt.query([])?;
    match rows.next()? {
        Some(row) => Ok(Some(row.get(0)?)),
        None => Ok(None),
    }
}

/// Silences SQLCipher's own log (on stderr by default: a wrong key would print "hmac check
/// failed" lines past our sanitized output). Process-wide; our errors say what happened.
pub fn quiet(conn: &Connection) {
    let _ = conn.query_row("PRAGMA cipher_log_level = NONE", [], |_| Ok(()));
}

/// Refuses to go on with a key on a SQLite that would ignore it.
pub fn require_sqlcipher(conn: &Connection) -> Result<String> {
    quiet(conn);
    match cipher_version(conn)? {
        Some(v) if !v.is_empty() => Ok(v),
        _ => Err(Error::Refused(
            "this build of campaign cannot read encrypted databases (SQLite without SQLCipher)"
                .into(),
        )),
    }
}

/// Keys `conn` (schema `main`) with `key`, in SQLCipher's raw form: no SQL text holds it.
pub fn apply_key(conn: &Connection, key: &DataKey) -> Result<()> {
    require_sqlcipher(conn)?;
    let raw = key.sqlcipher_raw();
    // SAFETY: the handle is the live connection's; the name is NUL-terminated; the key
    // pointer and length describe `raw`, which outlives the call (SQLCipher copies it).
    let rc = unsafe {
        rusqlite::ffi::sqlite3_key_v2(
            conn.handle(),
            c"main".as_ptr(),
            raw.as_ptr().cast(),
            raw.len() as std::os::raw::c_int,
        )
    };
    if rc != rusqlite::ffi::SQLITE_OK {
        return Err(Error::Refused(format!(
            "SQLCipher refused the database key (code {rc})"
        )));
    }
    Ok(())
}

/// The first read of a keyed (or unkeyed) connection: `false` when SQLite says the file
/// is not a database (a wrong key, an encrypted file without one, or not ours at all).
pub fn readable(conn: &Connection) -> Result<bool> {
    match conn.query_row("SELECT count(*) FROM sqlite_schema", [], |r| {
        r.get::<_, i64>(0)
    }) {
        Ok(_) => Ok(true),
        Err(e) if e.sqlite_error_code() == Some(rusqlite::ErrorCode::NotADatabase) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

/// Copies the whole plain database of `conn` into a new encrypted file at `target`
/// (created empty and private by the caller), keyed with `key`, schema version included
/// (`sqlcipher_export` does not copy `user_version`).
pub fn export_encrypted(conn: &Connection, target: &Path, key: &DataKey) -> Result<()> {
    require_sqlcipher(conn)?;
    let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    let raw = key.sqlcipher_raw();
    conn.execute(
        "ATTACH DATABASE ?1 AS enc KEY ?2",
        rusqlite::params![target.to_string_lossy(), raw.as_str()],
    )?;
    let copied = (|| -> Result<()> {
        conn.query_row("SELECT sqlcipher_export('enc')", [], |_| Ok(()))?;
        conn.pragma_update(Some("enc"), "user_version", version)?;
        Ok(())
    })();
    let detached = conn.execute("DETACH DATABASE enc", []);
    copied?;
    detached?;
    Ok(())
}

/// What `encrypt` kept: rows per table, checked in the encrypted copy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Encrypted {
    pub tables: Vec<(String, i64)>,
    pub schema_version: i64,
}

impl Encrypted {
    pub fn rows(&self) -> i64 {
        self.tables.iter().map(|(_, n)| n).sum()
    }
}

/// The encrypted copy being made beside `db` (`campaigns.db.encrypting`).
pub fn encrypting_path(db: &Path) -> PathBuf {
    suffixed(db, ".encrypting")
}

/// Unit tests: make [`encrypt_database`] stop after step `n` as a crash would.
#[cfg(test)]
pub(crate) static STOP_AFTER: std::sync::atomic::AtomicU8 = std::sync::atomic::AtomicU8::new(0);

fn stop_after(step: u8) -> Result<()> {
    #[cfg(test)]
    if STOP_AFTER.load(std::sync::atomic::Ordering::SeqCst) == step {
        return Err(Error::Refused(format!("stopped after step {step}")));
    }
    let _ = step;
    Ok(())
}

/// Converts the plain database `db` into an encrypted one under `key`, in place. The
/// caller has written the wrapped key to `<db>.key.new`; `commit_key` moves it to
/// `<db>.key`. Each step leaves a state the next run understands:
///
/// 1. Migrate, then take the file for ourselves: out of WAL (no plain `-wal` may be
///    replayed into the new file) and an exclusive lock held to the end, waiting (with
///    the usual notice) for other campaign processes. A crash: the plain file is fine.
/// 2. `sqlcipher_export` into `<db>.encrypting`. A crash: a stray copy, removed next time.
/// 3. Check the copy with a second, keyed connection: SQLCipher's and SQLite's integrity
///    checks, the schema version, the row count of every table. A difference: the copy is
///    removed and nothing changes.
/// 4. `commit_key` (`.key.new` → `.key`), then the copy replaces the plain file (an atomic
///    rename). A crash between the two: the key file, the plain file and the checked copy
///    are there; commands say the encryption was interrupted and [`finish_encryption`]
///    completes it.
pub fn encrypt_database(
    db: &Path,
    key: &DataKey,
    commit_key: &mut dyn FnMut() -> Result<()>,
) -> Result<Encrypted> {
    let shown = db.display().to_string();
    let copy = encrypting_path(db);
    remove_if_there(&copy)?;
    // 1. The latest schema, then the file to ourselves.
    drop(super::SqliteStore::open(db)?);
    let conn = Connection::open(db)?;
    super::busy::install(&conn, db)?;
    require_sqlcipher(&conn)?;
    let _: String = conn.query_row("PRAGMA locking_mode = EXCLUSIVE", [], |r| r.get(0))?;
    let mode: String =
        super::busy::retrying(|| conn.query_row("PRAGMA journal_mode = DELETE", [], |r| r.get(0)))?;
    if !mode.eq_ignore_ascii_case("delete") {
        return Err(Error::Refused(format!(
            "another campaign process has {shown} open, so it cannot be encrypted now; let it \
             finish (or stop it) and run `campaign encrypt` again; nothing was changed"
        )));
    }
    // The exclusive lock, kept until this connection closes (locking_mode EXCLUSIVE).
    super::busy::retrying(|| conn.execute_batch("BEGIN EXCLUSIVE; COMMIT;"))?;
    if suffixed(db, "-wal").exists() {
        return Err(Error::Refused(format!(
            "{shown} still has a write-ahead log after leaving WAL mode; nothing was changed"
        )));
    }
    stop_after(1)?;
    // 2. The encrypted copy.
    super::create_private(&copy)?;
    let exported = export_encrypted(&conn, &copy, key);
    if let Err(e) = exported {
        let _ = std::fs::remove_file(&copy);
        return Err(e);
    }
    stop_after(2)?;
    // 3. Checked before anything is replaced.
    let kept = match verify_copy(&conn, &copy, key) {
        Ok(kept) => kept,
        Err(e) => {
            let _ = std::fs::remove_file(&copy);
            return Err(e);
        }
    };
    stop_after(3)?;
    // 4. The key, then the file.
    commit_key()?;
    stop_after(4)?;
    replace(&copy, db)?;
    drop(conn);
    Ok(kept)
}

/// Completes an encryption interrupted between its two renames: the key file is in
/// place, the checked copy is beside the plain file. `key` is the unwrapped key.
pub fn finish_encryption(db: &Path, key: &DataKey) -> Result<Encrypted> {
    let copy = encrypting_path(db);
    let shown = copy.display().to_string();
    let conn = Connection::open(&copy)?;
    apply_key(&conn, key)?;
    if !readable(&conn)? {
        return Err(Error::KeyMismatch {
            db: shown,
            key: key_path(db).display().to_string(),
        });
    }
    check_integrity(&conn, &shown)?;
    let tables = table_counts(&conn, "main")?;
    let schema_version = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    drop(conn);
    replace(&copy, db)?;
    Ok(Encrypted {
        tables,
        schema_version,
    })
}

/// Moves the checked copy over the plain file, and the rename onto the disk.
fn replace(copy: &Path, db: &Path) -> Result<()> {
    std::fs::rename(copy, db)?;
    if let Some(dir) = db.parent().filter(|d| !d.as_os_str().is_empty()) {
        if let Ok(d) = std::fs::File::open(dir) {
            let _ = d.sync_all();
        }
    }
    Ok(())
}

fn remove_if_there(path: &Path) -> Result<()> {
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e.into()),
        _ => Ok(()),
    }
}

fn check_integrity(conn: &Connection, shown: &str) -> Result<()> {
    let mut problems = Vec::new();
    {
        let mut stmt = conn.prepare("PRAGMA cipher_integrity_check")?;
        let mut rows = stmt.query([])?;
        while let Some(row) = rows.next()? {
            problems.push(row.get::<_, String>(0)?);
        }
    }
    let ok: String = conn.query_row("PRAGMA integrity_check", [], |r| r.get(0))?;
    if ok != "ok" {
        problems.push(ok);
    }
    if !problems.is_empty() {
        return Err(Error::Refused(format!(
            "the encrypted copy {shown} failed its integrity check ({}); nothing was changed",
            problems.join("; ")
        )));
    }
    Ok(())
}

/// Every table of `schema` with its row count, by name.
fn table_counts(conn: &Connection, schema: &str) -> Result<Vec<(String, i64)>> {
    let names: Vec<String> = conn
        .prepare(&format!(
            "SELECT name FROM {schema}.sqlite_schema WHERE type = 'table' ORDER BY name"
        ))?
        .query_map([], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    let mut counts = Vec::with_capacity(names.len());
    for name in names {
        let quoted = name.replace('"', "\"\"");
        let n: i64 = conn.query_row(
            &format!("SELECT count(*) FROM {schema}.\"{quoted}\""),
            [],
            |r| r.get(0),
        )?;
        counts.push((name, n));
    }
    Ok(counts)
}

fn verify_copy(plain: &Connection, copy: &Path, key: &DataKey) -> Result<Encrypted> {
    let shown = copy.display().to_string();
    let want = table_counts(plain, "main")?;
    let want_version: i64 = plain.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    let enc = Connection::open(copy)?;
    apply_key(&enc, key)?;
    if !readable(&enc)? {
        return Err(Error::Refused(format!(
            "the encrypted copy {shown} cannot be read back; nothing was changed"
        )));
    }
    check_integrity(&enc, &shown)?;
    let got = table_counts(&enc, "main")?;
    let got_version: i64 = enc.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if got != want || got_version != want_version {
        return Err(Error::Refused(format!(
            "the encrypted copy differs from the database (tables {got:?} schema {got_version}, \
             expected {want:?} schema {want_version}); nothing was changed"
        )));
    }
    Ok(Encrypted {
        tables: got,
        schema_version: got_version,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_linked_sqlite_is_sqlcipher() {
        let conn = Connection::open_in_memory().unwrap();
        let version = require_sqlcipher(&conn).unwrap();
        assert!(version.contains("community"), "{version}");
    }

    #[test]
    fn a_keyed_file_has_no_plain_bytes_and_needs_its_key() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("k.db");
        let key = DataKey::random().unwrap();
        {
            let conn = Connection::open(&db).unwrap();
            apply_key(&conn, &key).unwrap();
            conn.execute_batch(
                "CREATE TABLE t (x TEXT); INSERT INTO t VALUES ('Nguyễn Thị Minh Khai');",
            )
            .unwrap();
        }
        let bytes = std::fs::read(&db).unwrap();
        assert!(!bytes.starts_with(b"SQLite format 3"));
        assert!(!bytes
            .windows("Nguyễn".len())
            .any(|w| w == "Nguyễn".as_bytes()));
        let plain = Connection::open(&db).unwrap();
        assert!(!readable(&plain).unwrap());
        let wrong = Connection::open(&db).unwrap();
        apply_key(&wrong, &DataKey::random().unwrap()).unwrap();
        assert!(!readable(&wrong).unwrap());
        let right = Connection::open(&db).unwrap();
        apply_key(&right, &key).unwrap();
        assert!(readable(&right).unwrap());
    }

    #[test]
    fn export_keeps_rows_and_the_schema_version() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("plain.db");
        let out = dir.path().join("enc.db");
        let conn = Connection::open(&db).unwrap();
        conn.execute_batch(
            "CREATE TABLE t (x TEXT); INSERT INTO t VALUES ('a'), ('b'); PRAGMA user_version = 7;",
        )
        .unwrap();
        let key = DataKey::random().unwrap();
        export_encrypted(&conn, &out, &key).unwrap();
        let enc = Connection::open(&out).unwrap();
        apply_key(&enc, &key).unwrap();
        let n: i64 = enc
            .query_row("SELECT count(*) FROM t", [], |r| r.get(0))
            .unwrap();
        assert_eq!(n, 2);
        let v: i64 = enc
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap();
        assert_eq!(v, 7);
    }

    fn plain_with_rows(db: &Path) -> i64 {
        let mut store = super::super::SqliteStore::open(db).unwrap();
        let draft = crate::model::CampaignDraft {
            title: "Oakland Sanctuary".into(),
            scope: Some(crate::model::Scope::Global),
            ..Default::default()
        };
        store.insert_campaign(&draft, "oakland", None).unwrap();
        store.schema_version().unwrap()
    }

    fn campaigns(conn: &Connection) -> i64 {
        conn.query_row("SELECT count(*) FROM campaigns", [], |r| r.get(0))
            .unwrap()
    }

    #[test]
    fn encrypt_recovers_after_a_stop_at_each_step() {
        use std::sync::atomic::Ordering;
        for step in 1..=5u8 {
            let dir = tempfile::tempdir().unwrap();
            let db = dir.path().join("c.db");
            let version = plain_with_rows(&db);
            let key = DataKey::random().unwrap();
            let key_new = suffixed(&db, ".key.new");
            std::fs::write(&key_new, "wrapped").unwrap();
            let mut commit = || Ok(std::fs::rename(&key_new, key_path(&db))?);
            STOP_AFTER.store(step, Ordering::SeqCst);
            let result = encrypt_database(&db, &key, &mut commit);
            STOP_AFTER.store(0, Ordering::SeqCst);
            match step {
                1..=3 => {
                    assert!(result.is_err(), "step {step}");
                    assert!(!key_path(&db).exists());
                    // The plain file is whole and opens as before.
                    let store = super::super::SqliteStore::open(&db).unwrap();
                    assert_eq!(campaigns(store.conn()), 1, "step {step}");
                }
                4 => {
                    assert!(result.is_err());
                    assert!(key_path(&db).exists() && encrypting_path(&db).exists());
                    unlock(&db, key.clone());
                    let err = super::super::SqliteStore::open(&db).err().unwrap();
                    assert!(err.to_string().contains("was interrupted"), "{err}");
                    let done = finish_encryption(&db, &key).unwrap();
                    assert_eq!(done.schema_version, version);
                    let store = super::super::SqliteStore::open(&db).unwrap();
                    assert_eq!(campaigns(store.conn()), 1);
                    lock(&db);
                }
                _ => {
                    let done = result.unwrap();
                    assert!(done.tables.iter().any(|(t, n)| t == "campaigns" && *n == 1));
                    assert!(!encrypting_path(&db).exists());
                    assert!(!std::fs::read(&db).unwrap().starts_with(b"SQLite format 3"));
                    unlock(&db, key.clone());
                    let store = super::super::SqliteStore::open(&db).unwrap();
                    assert_eq!(store.schema_version().unwrap(), version);
                    lock(&db);
                    assert!(matches!(
                        super::super::SqliteStore::open(&db),
                        Err(Error::Locked { .. })
                    ));
                }
            }
        }
    }
}
