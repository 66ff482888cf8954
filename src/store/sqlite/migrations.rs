//! Versioned schema migrations. Each runs in its own transaction and bumps
//! `PRAGMA user_version`. Never edit a migration once it has landed: add a new one.

use rusqlite::{Connection, TransactionBehavior};

use crate::error::{Error, Result};

/// Migration `i` moves the schema from version `i` to `i + 1`.
pub const MIGRATIONS: &[&str] = &[
    // 1: campaigns, their edit history and admins.
    r#"
    CREATE TABLE campaigns (
        id            INTEGER PRIMARY KEY,
        slug          TEXT NOT NULL UNIQUE,
        title         TEXT NOT NULL,
        target        TEXT NOT NULL,
        ask           TEXT NOT NULL,
        why           TEXT NOT NULL,
        scope         TEXT NOT NULL CHECK (scope IN ('local', 'national', 'global')),
        location      TEXT,
        postcode      TEXT,
        country       TEXT,
        goal          INTEGER CHECK (goal IS NULL OR goal > 0),
        url           TEXT,
        lang          TEXT NOT NULL DEFAULT 'en',
        status        TEXT NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'live', 'offline')),
        picture       BLOB,
        picture_mime  TEXT,
        owner_email   TEXT,
        created_at    TEXT NOT NULL,
        updated_at    TEXT NOT NULL
    );
    CREATE TABLE campaign_edits (
        id           INTEGER PRIMARY KEY,
        campaign_id  INTEGER NOT NULL REFERENCES campaigns(id) ON DELETE CASCADE,
        field        TEXT NOT NULL,
        old_value    TEXT,
        new_value    TEXT,
        edited_by    TEXT,
        edited_at    TEXT NOT NULL
    );
    CREATE INDEX campaign_edits_by_campaign ON campaign_edits(campaign_id, id);
    CREATE TABLE admins (
        campaign_id   INTEGER NOT NULL REFERENCES campaigns(id) ON DELETE CASCADE,
        email         TEXT NOT NULL COLLATE NOCASE,
        status        TEXT NOT NULL DEFAULT 'invited' CHECK (status IN ('invited', 'active')),
        invited_by    TEXT,
        invited_at    TEXT NOT NULL,
        activated_at  TEXT,
        PRIMARY KEY (campaign_id, email)
    );
    "#,
    // 2: paper sheets, signatures and deliveries.
    r#"
    CREATE TABLE sheets (
        sheet_id     TEXT PRIMARY KEY,
        campaign_id  INTEGER NOT NULL REFERENCES campaigns(id) ON DELETE CASCADE,
        seq          INTEGER NOT NULL,
        lines        INTEGER NOT NULL,
        printed_at   TEXT NOT NULL
    );
    CREATE INDEX sheets_by_campaign ON sheets(campaign_id, seq);
    CREATE TABLE signatures (
        id           INTEGER PRIMARY KEY,
        campaign_id  INTEGER NOT NULL REFERENCES campaigns(id) ON DELETE CASCADE,
        name         TEXT NOT NULL,
        email        TEXT,
        postcode     TEXT,
        phone        TEXT,
        phone_valid  INTEGER NOT NULL DEFAULT 1,
        opt_in       INTEGER NOT NULL DEFAULT 0,
        private      INTEGER NOT NULL DEFAULT 0,
        source       TEXT NOT NULL CHECK (source IN ('paper', 'online')),
        sheet_id     TEXT,
        line         INTEGER,
        entered_by   TEXT,
        signed_at    TEXT NOT NULL,
        -- normalized email, or name+postcode when there is no email: one signer, one row
        dedupe_key   TEXT NOT NULL
    );
    CREATE UNIQUE INDEX signatures_dedupe ON signatures(campaign_id, dedupe_key);
    -- a campaign's signers in entry order (export, delivery) without sorting them all
    CREATE INDEX signatures_by_campaign ON signatures(campaign_id);
    CREATE TABLE deliveries (
        id               INTEGER PRIMARY KEY,
        campaign_id      INTEGER NOT NULL REFERENCES campaigns(id) ON DELETE CASCADE,
        delivered_at     TEXT NOT NULL,
        show_level       TEXT NOT NULL,
        included_fields  TEXT NOT NULL DEFAULT '',
        recipient        TEXT,
        file             TEXT NOT NULL,
        file_sha256      TEXT NOT NULL,
        signatures       INTEGER NOT NULL
    );
    CREATE INDEX deliveries_by_campaign ON deliveries(campaign_id, id);
    "#,
    // 3: the next line of a sheet at every entry prompt, without scanning the campaign.
    // Partial: rows without a line number (online imports) cost no index work.
    r#"
    CREATE INDEX signatures_by_sheet ON signatures(campaign_id, sheet_id, line) WHERE line IS NOT NULL;
    "#,
    // 4: each campaign's counts, so `list` and `show` read one row instead of counting
    // millions. Triggers keep them exact in the transaction that changes a signature,
    // whoever writes it. An import turns triggers off on its own connection and adds
    // its totals itself before it commits (see `store::sqlite::import`).
    r#"
    CREATE TABLE signature_counts (
        campaign_id  INTEGER PRIMARY KEY REFERENCES campaigns(id) ON DELETE CASCADE,
        total        INTEGER NOT NULL DEFAULT 0,
        paper        INTEGER NOT NULL DEFAULT 0,
        online       INTEGER NOT NULL DEFAULT 0,
        private      INTEGER NOT NULL DEFAULT 0
    );
    INSERT INTO signature_counts (campaign_id, total, paper, online, private)
        SELECT campaign_id, COUNT(*), SUM(source = 'paper'), SUM(source = 'online'), SUM(private)
        FROM signatures GROUP BY campaign_id;
    CREATE TRIGGER signature_counts_insert AFTER INSERT ON signatures BEGIN
        INSERT INTO signature_counts (campaign_id, total, paper, online, private)
        VALUES (NEW.campaign_id, 1, NEW.source = 'paper', NEW.source = 'online', NEW.private)
        ON CONFLICT (campaign_id) DO UPDATE SET
            total = total + 1, paper = paper + excluded.paper,
            online = online + excluded.online, private = private + excluded.private;
    END;
    CREATE TRIGGER signature_counts_delete AFTER DELETE ON signatures BEGIN
        UPDATE signature_counts SET
            total = total - 1, paper = paper - (OLD.source = 'paper'),
            online = online - (OLD.source = 'online'), private = private - OLD.private
        WHERE campaign_id = OLD.campaign_id;
    END;
    CREATE TRIGGER signature_counts_update AFTER UPDATE OF campaign_id, source, private ON signatures
    BEGIN
        UPDATE signature_counts SET
            total = total - 1, paper = paper - (OLD.source = 'paper'),
            online = online - (OLD.source = 'online'), private = private - OLD.private
        WHERE campaign_id = OLD.campaign_id;
        INSERT INTO signature_counts (campaign_id, total, paper, online, private)
        VALUES (NEW.campaign_id, 1, NEW.source = 'paper', NEW.source = 'online', NEW.private)
        ON CONFLICT (campaign_id) DO UPDATE SET
            total = total + 1, paper = paper + excluded.paper,
            online = online + excluded.online, private = private + excluded.private;
    END;
    "#,
    // 5: one signer, one row, kept in a table of its own instead of a unique index on
    // `signatures`. An index is updated in the order rows are inserted, so an import in
    // file order (which is entry order, what export shows) scattered its keys at random
    // over the index, the largest cost of an import; a table of keys is filled by the
    // import in key order, as one sorted merge. Triggers keep it exact for every other
    // writer: a signer already in is ignored on insert (as `INSERT OR IGNORE` was), and an
    // update onto another signer's key fails as the unique index did.
    r#"
    CREATE TABLE signature_keys (
        campaign_id   INTEGER NOT NULL,
        dedupe_key    TEXT NOT NULL,
        signature_id  INTEGER NOT NULL,
        PRIMARY KEY (campaign_id, dedupe_key)
    ) WITHOUT ROWID;
    INSERT INTO signature_keys (campaign_id, dedupe_key, signature_id)
        SELECT campaign_id, dedupe_key, id FROM signatures ORDER BY campaign_id, dedupe_key;
    DROP INDEX signatures_dedupe;
    CREATE TRIGGER signature_keys_unique BEFORE INSERT ON signatures
    WHEN EXISTS (SELECT 1 FROM signature_keys
                 WHERE campaign_id = NEW.campaign_id AND dedupe_key = NEW.dedupe_key)
    BEGIN
        SELECT RAISE(IGNORE);
    END;
    CREATE TRIGGER signature_keys_insert AFTER INSERT ON signatures BEGIN
        INSERT INTO signature_keys (campaign_id, dedupe_key, signature_id)
        VALUES (NEW.campaign_id, NEW.dedupe_key, NEW.id);
    END;
    CREATE TRIGGER signature_keys_unique_update BEFORE UPDATE OF campaign_id, dedupe_key ON signatures
    WHEN (NEW.campaign_id IS NOT OLD.campaign_id OR NEW.dedupe_key IS NOT OLD.dedupe_key)
     AND EXISTS (SELECT 1 FROM signature_keys
                 WHERE campaign_id = NEW.campaign_id AND dedupe_key = NEW.dedupe_key)
    BEGIN
        SELECT RAISE(ABORT, 'UNIQUE constraint failed: signatures.campaign_id, signatures.dedupe_key');
    END;
    CREATE TRIGGER signature_keys_update AFTER UPDATE OF id, campaign_id, dedupe_key ON signatures
    BEGIN
        UPDATE signature_keys
        SET campaign_id = NEW.campaign_id, dedupe_key = NEW.dedupe_key, signature_id = NEW.id
        WHERE campaign_id = OLD.campaign_id AND dedupe_key = OLD.dedupe_key;
    END;
    CREATE TRIGGER signature_keys_delete AFTER DELETE ON signatures BEGIN
        DELETE FROM signature_keys
        WHERE campaign_id = OLD.campaign_id AND dedupe_key = OLD.dedupe_key;
    END;
    "#,
    // 6: the history of signers corrected or removed after they were saved (`campaign
    // signer edit|remove`). No foreign key to signatures: a removal's record outlives the
    // row. Where the row was (sheet, line) is kept; a removed signer's data is not.
    r#"
    CREATE TABLE signature_edits (
        id            INTEGER PRIMARY KEY,
        campaign_id   INTEGER NOT NULL REFERENCES campaigns(id) ON DELETE CASCADE,
        signature_id  INTEGER NOT NULL,
        sheet_id      TEXT,
        line          INTEGER,
        action        TEXT NOT NULL CHECK (action IN ('edit', 'remove')),
        field         TEXT,
        old_value     TEXT,
        new_value     TEXT,
        edited_by     TEXT,
        edited_at     TEXT NOT NULL
    );
    CREATE INDEX signature_edits_by_campaign ON signature_edits(campaign_id, id);
    "#,
    // 7: the petition's own text in other languages (`campaign edit SLUG --in es ...`).
    // A field left NULL falls back to the campaign's own.
    r#"
    CREATE TABLE campaign_texts (
        campaign_id  INTEGER NOT NULL REFERENCES campaigns(id) ON DELETE CASCADE,
        lang         TEXT NOT NULL,
        title        TEXT,
        target       TEXT,
        ask          TEXT,
        why          TEXT,
        updated_at   TEXT NOT NULL,
        PRIMARY KEY (campaign_id, lang)
    );
    "#,
    // 8: merge ids (`campaign merge`): a stable id for every campaign, sheet, signature and
    // delivery, the same in every database a row is merged into. New rows get a UUID v7
    // from the binary (`crate::uid`); rows older than this migration get 16 random
    // bytes (SQL cannot make a v7), and so does any row a writer inserts without one
    // (the triggers: an older tool's rows, rows written by hand). Depends on nothing but
    // migrations 1 to 7.
    r#"
    ALTER TABLE campaigns ADD COLUMN uid BLOB;
    UPDATE campaigns SET uid = randomblob(16);
    CREATE UNIQUE INDEX campaigns_by_uid ON campaigns(uid);
    CREATE TRIGGER campaigns_uid AFTER INSERT ON campaigns WHEN NEW.uid IS NULL BEGIN
        UPDATE campaigns SET uid = randomblob(16) WHERE id = NEW.id;
    END;
    ALTER TABLE sheets ADD COLUMN uid BLOB;
    UPDATE sheets SET uid = randomblob(16);
    CREATE UNIQUE INDEX sheets_by_uid ON sheets(uid);
    CREATE TRIGGER sheets_uid AFTER INSERT ON sheets WHEN NEW.uid IS NULL BEGIN
        UPDATE sheets SET uid = randomblob(16) WHERE sheet_id = NEW.sheet_id;
    END;
    ALTER TABLE signatures ADD COLUMN uid BLOB;
    UPDATE signatures SET uid = randomblob(16);
    CREATE UNIQUE INDEX signatures_by_uid ON signatures(uid);
    CREATE TRIGGER signatures_uid AFTER INSERT ON signatures WHEN NEW.uid IS NULL BEGIN
        UPDATE signatures SET uid = randomblob(16) WHERE id = NEW.id;
    END;
    ALTER TABLE deliveries ADD COLUMN uid BLOB;
    UPDATE deliveries SET uid = randomblob(16);
    CREATE UNIQUE INDEX deliveries_by_uid ON deliveries(uid);
    CREATE TRIGGER deliveries_uid AFTER INSERT ON deliveries WHEN NEW.uid IS NULL BEGIN
        UPDATE deliveries SET uid = randomblob(16) WHERE id = NEW.id;
    END;
    "#,
    // 9: privacy (issue 13). A campaign's retention period and when it was purged; the
    // counts per postcode and per day a purge keeps once the signers are deleted (the
    // total stays in `signature_counts`); the files a campaign wrote that carry signers'
    // data (removed or listed at a purge); tombstones of people who asked to be
    // forgotten: HMAC-SHA256 of their keys under a random key kept here, so no email or
    // name stays and the file still recognizes them wherever it is copied.
    r#"
    ALTER TABLE campaigns ADD COLUMN retain TEXT;
    ALTER TABLE campaigns ADD COLUMN purged_at TEXT;
    CREATE TABLE purged_counts_by_postcode (
        campaign_id   INTEGER NOT NULL REFERENCES campaigns(id) ON DELETE CASCADE,
        postcode_key  TEXT NOT NULL,
        total         INTEGER NOT NULL,
        paper         INTEGER NOT NULL,
        online        INTEGER NOT NULL,
        private       INTEGER NOT NULL,
        PRIMARY KEY (campaign_id, postcode_key)
    ) WITHOUT ROWID;
    CREATE TABLE purged_counts_by_day (
        campaign_id   INTEGER NOT NULL REFERENCES campaigns(id) ON DELETE CASCADE,
        day           TEXT NOT NULL,
        total         INTEGER NOT NULL,
        paper         INTEGER NOT NULL,
        online        INTEGER NOT NULL,
        private       INTEGER NOT NULL,
        PRIMARY KEY (campaign_id, day)
    ) WITHOUT ROWID;
    CREATE TABLE campaign_files (
        id           INTEGER PRIMARY KEY,
        campaign_id  INTEGER NOT NULL REFERENCES campaigns(id) ON DELETE CASCADE,
        kind         TEXT NOT NULL CHECK (kind IN ('rejects', 'export')),
        path         TEXT NOT NULL,
        sha256       TEXT,
        written_at   TEXT NOT NULL
    );
    CREATE INDEX campaign_files_by_campaign ON campaign_files(campaign_id, id);
    CREATE TABLE tombstone_keys (
        id          INTEGER PRIMARY KEY,
        key         BLOB NOT NULL CHECK (length(key) = 32),
        created_at  TEXT NOT NULL
    );
    CREATE TABLE forgotten (
        key_id        INTEGER NOT NULL REFERENCES tombstone_keys(id),
        hash          BLOB NOT NULL CHECK (length(hash) = 32),
        forgotten_at  TEXT NOT NULL,
        PRIMARY KEY (key_id, hash)
    ) WITHOUT ROWID;
    "#,
];

/// The schema version this binary writes.
pub const LATEST: i64 = MIGRATIONS.len() as i64;

/// The version from which campaigns have `retain` and `purged_at` (found by content, so a
/// renumbering when branches merge cannot make it wrong).
pub fn privacy_version() -> i64 {
    MIGRATIONS
        .iter()
        .position(|m| m.contains("ADD COLUMN purged_at"))
        .map_or(LATEST, |i| i as i64 + 1)
}

pub fn version(conn: &Connection) -> Result<i64> {
    Ok(conn.query_row("PRAGMA user_version", [], |r| r.get(0))?)
}

/// Refuses a database written by a newer version: its schema is unknown here.
pub fn refuse_newer(path: &str, found: i64) -> Result<()> {
    if found > LATEST {
        return Err(Error::DatabaseTooNew {
            path: path.to_string(),
            found,
            known: LATEST,
        });
    }
    Ok(())
}

/// Brings the schema up to `target` (at most [`LATEST`]); refuses a newer database.
///
/// Several processes may open a fresh or old database at once: each migration runs in
/// its own `BEGIN IMMEDIATE` transaction, which waits for the write lock, and re-reads
/// the version under it, so a migration another process has just applied is skipped
/// rather than applied twice.
pub fn migrate_to(conn: &mut Connection, path: &str, target: i64) -> Result<()> {
    let target = target.min(LATEST);
    loop {
        // Up to date (the usual case): no lock taken, so an import elsewhere is no wait.
        let found = version(conn)?;
        refuse_newer(path, found)?;
        if found >= target {
            return Ok(());
        }
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let found = version(&tx)?;
        refuse_newer(path, found)?;
        if found >= target {
            return Ok(());
        }
        let index = usize::try_from(found).map_err(|_| {
            Error::Invalid(format!(
                "the database {path} has schema version {found}, which campaign never writes: is it a campaign database?"
            ))
        })?;
        tx.execute_batch(MIGRATIONS[index])?;
        tx.pragma_update(None, "user_version", found + 1)?;
        tx.commit()?;
    }
}
