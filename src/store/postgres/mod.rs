//! The PostgreSQL backend: a database a team shares, behind the same [`Store`] as the
//! SQLite file. One connection per store (the synchronous `postgres` client), tables in
//! their own schema (`campaign`), migrated on open under an advisory lock.
//!
//! Conventions, so a method is added the same way in both backends:
//! - one module per area (campaigns.rs, signatures.rs, sheets.rs, admins.rs,
//!   deliveries.rs, delivery_reads.rs, import.rs), beside its SQLite twin, each an
//!   `impl PgStore` block; `store_impl.rs` maps the trait onto them;
//! - column lists and row readers written once per module (`*_COLUMNS`, `*_from_row`);
//! - parameters as `$1..`, never text pasted into SQL (a column name from a fixed list
//!   is the one exception, as in SQLite);
//! - every write is one statement in autocommit, or one transaction; nothing waits on a
//!   lock longer than one statement of another writer where it can be helped (see
//!   `import.rs` and `sheets.rs`); a lock held longer than the busy timeout is
//!   [`Error::Busy`], as in SQLite;
//! - reads that stream go through [`PgStore::stream`] (a cursor, a chunk at a time), so
//!   memory stays flat and the callback may use the store again;
//! - errors never quote a row: a server error's DETAIL (which names the values of a
//!   violated key) is left out of every message.
//!
//! Nothing here prints.

mod admins;
mod campaigns;
mod deliveries;
mod delivery_reads;
mod import;
mod merge;
pub mod migrations;
mod privacy;
mod sheets;
mod signatures;
mod signer_edits;
mod store_impl;
pub mod target;
mod team;
mod tls;
mod translations;

use std::cell::{Cell, RefCell, RefMut};
use std::sync::Mutex;
use std::time::Duration;

use postgres::error::SqlState;
use postgres::types::ToSql;
use postgres::{Client, Row};

pub use target::{PgTarget, SslMode};

use crate::clock::{self, Clock};
use crate::error::{Error, Result};
use crate::model::TeamKind;

/// The schema that holds campaign's tables in a database it may share with others.
pub const SCHEMA: &str = "campaign";

/// Rows fetched per round trip when streaming.
const CHUNK: usize = 1000;

/// The database the errors name (one CLI process works on one database), masked.
static SHOWN: Mutex<Option<String>> = Mutex::new(None);

/// Who this process is connected as, when it is someone of the team: the user and their
/// role, for the message of a refusal.
static TEAM: Mutex<Option<(String, TeamKind)>> = Mutex::new(None);

fn shown() -> String {
    SHOWN
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .clone()
        .unwrap_or_else(|| "the PostgreSQL database".into())
}

pub struct PgStore {
    client: RefCell<Client>,
    target: PgTarget,
    clock: Clock,
    /// Inside a transaction this store opened (a consistent read, an import): streams
    /// run in it instead of opening their own.
    in_tx: Cell<bool>,
    /// Names cursors uniquely on this connection.
    cursors: Cell<u64>,
    /// What the connection's user is in the team (see `team.rs`): a volunteer's store
    /// adds signers without reading any.
    kind: Option<TeamKind>,
}

impl PgStore {
    /// Connects to `target` and migrates its schema to the latest version.
    pub fn open(target: &PgTarget) -> Result<PgStore> {
        Self::open_at_version(target, migrations::LATEST)
    }

    /// Connects and migrates only up to `version`: for tests of old schemas.
    pub fn open_at_version(target: &PgTarget, version: i64) -> Result<PgStore> {
        *SHOWN.lock().unwrap_or_else(|e| e.into_inner()) = Some(target.to_string());
        let client = connect(target)?;
        let mut store = PgStore {
            client: RefCell::new(client),
            target: target.clone(),
            clock: clock::system(),
            in_tx: Cell::new(false),
            cursors: Cell::new(0),
            kind: None,
        };
        migrations::migrate_to(store.client.get_mut(), &target.to_string(), version)?;
        store.kind = team::detect(store.client.get_mut())?;
        *TEAM.lock().unwrap_or_else(|e| e.into_inner()) = store.kind.map(|k| (target.user(), k));
        Ok(store)
    }

    /// The same store, stamping rows with `clock` (a fixed time in tests).
    pub fn with_clock(mut self, clock: Clock) -> PgStore {
        self.clock = clock;
        self
    }

    /// Where this store is, password masked.
    pub fn target(&self) -> &PgTarget {
        &self.target
    }

    pub fn schema_version(&self) -> Result<i64> {
        migrations::version(&mut self.client())
    }

    /// The time now, from the caller's clock.
    pub(crate) fn now(&self) -> String {
        (self.clock)()
    }

    /// The connection, for one statement at a time. Never held across a callback.
    pub(crate) fn client(&self) -> RefMut<'_, Client> {
        self.client.borrow_mut()
    }

    /// Runs `f` in one REPEATABLE READ, read-only transaction: every query it makes sees
    /// the same snapshot while others write.
    pub(crate) fn read_consistently<T>(&self, f: impl FnOnce(&PgStore) -> Result<T>) -> Result<T> {
        if self.in_tx.get() {
            return f(self);
        }
        self.client()
            .batch_execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")?;
        self.in_tx.set(true);
        let result = f(self);
        self.in_tx.set(false);
        let end = if result.is_ok() { "COMMIT" } else { "ROLLBACK" };
        let ended = self.client().batch_execute(end);
        let value = result?;
        ended?;
        Ok(value)
    }

    /// Streams the rows of `query` through a cursor, [`CHUNK`] rows a round trip, to
    /// `each`: memory stays flat, and `each` may use the store (the connection is not
    /// held while it runs). Outside a transaction, one read-only snapshot is opened for
    /// the length of the stream.
    pub(crate) fn stream(
        &self,
        query: &str,
        params: &[&(dyn ToSql + Sync)],
        each: &mut dyn FnMut(&Row) -> Result<()>,
    ) -> Result<()> {
        self.read_consistently(|store| {
            let n = store.cursors.get() + 1;
            store.cursors.set(n);
            let cursor = format!("campaign_rows_{n}");
            store.client().execute(
                &format!("DECLARE {cursor} NO SCROLL CURSOR FOR {query}"),
                params,
            )?;
            let fetch = format!("FETCH {CHUNK} FROM {cursor}");
            loop {
                let rows = store.client().query(&fetch, &[])?;
                for row in &rows {
                    each(row)?;
                }
                if rows.len() < CHUNK {
                    break;
                }
            }
            store.client().batch_execute(&format!("CLOSE {cursor}"))?;
            Ok(())
        })
    }
}

/// Connects, with `target`'s TLS mode and password, within its connect timeout.
fn connect(target: &PgTarget) -> Result<Client> {
    let (password, password_note) = target.password();
    let mut config = postgres::Config::new();
    match &target.host {
        target::Host::Tcp(host) => config.host(host),
        target::Host::Socket(dir) => config.host_path(dir),
    };
    config
        .port(target.port)
        .user(&target.user())
        .dbname(&target.dbname())
        .application_name(target.application_name.as_deref().unwrap_or("campaign"))
        .connect_timeout(target.connect_timeout)
        .ssl_mode(match target.sslmode() {
            SslMode::Disable => postgres::config::SslMode::Disable,
            SslMode::Prefer => postgres::config::SslMode::Prefer,
            SslMode::Require | SslMode::VerifyCa | SslMode::VerifyFull => {
                postgres::config::SslMode::Require
            }
        })
        // Sent with the login: no round trip of its own. A row lock held longer than
        // the busy timeout (CAMPAIGN_BUSY_TIMEOUT) is an error, as in SQLite.
        .options(&format!(
            "-c search_path={SCHEMA} -c lock_timeout={}",
            crate::store::sqlite::busy::timeout().as_millis().max(1)
        ));
    if let Some(password) = &password {
        config.password(password);
    }
    let tls = tls::connector(target)?;
    let cannot = |reason: String| Error::Connect {
        target: target.to_string(),
        reason,
    };
    // The client's timeout covers reaching the server, not a server (or something
    // else on that port) that accepts and then says nothing: wait here, bounded.
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(config.connect(tls));
    });
    let wait = target.connect_timeout + Duration::from_secs(1);
    match rx.recv_timeout(wait) {
        Ok(Ok(client)) => Ok(client),
        Ok(Err(e)) => Err(cannot(connect_reason(target, &e, password_note))),
        Err(_) => Err(cannot(format!(
            "no answer from {} within {} (is it a PostgreSQL server? connect_timeout=SECONDS \
             in the URL waits longer)",
            target.server(),
            crate::store::describe_wait(target.connect_timeout)
        ))),
    }
}

/// Why a connection failed, for a person: what the server said, or what to check.
fn connect_reason(target: &PgTarget, e: &postgres::Error, password_note: Option<String>) -> String {
    let server = target.server();
    let note = password_note.map(|n| format!(" ({n})")).unwrap_or_default();
    if let Some(db) = e.as_db_error() {
        let code = db.code();
        return if *code == SqlState::INVALID_PASSWORD {
            format!(
                "the server at {server} refused the password of user {:?}{note}",
                target.user()
            )
        } else if *code == SqlState::INVALID_CATALOG_NAME {
            format!(
                "there is no database {:?} at {server}: create it first (e.g. `createdb {}`); \
                 campaign creates its own tables in it",
                target.dbname(),
                target.dbname()
            )
        } else if *code == SqlState::INVALID_AUTHORIZATION_SPECIFICATION {
            format!(
                "the server at {server} does not let this connection in: {}{note}",
                db.message()
            )
        } else {
            format!("the server at {server} said: {}{note}", db.message())
        };
    }
    let chain = describe(e);
    if chain.contains("password missing") {
        return format!(
            "the server at {server} asks for a password: put it in the URL \
             (postgres://USER:PASSWORD@...), in PGPASSWORD, or in ~/.pgpass{note}"
        );
    }
    let refused = std::error::Error::source(e)
        .and_then(|s| s.downcast_ref::<std::io::Error>())
        .is_some_and(|io| io.kind() == std::io::ErrorKind::ConnectionRefused);
    if refused {
        return format!("nothing answers at {server} (is the server running, on that port?)");
    }
    format!("{server}: {chain}")
}

/// An error and its causes on one line, without a server error's DETAIL (it quotes the
/// values of a violated key: a signer's email).
fn describe(e: &postgres::Error) -> String {
    if let Some(db) = e.as_db_error() {
        let mut text = db.message().to_string();
        if let Some(hint) = db.hint() {
            text.push_str(&format!(" ({hint})"));
        }
        return text;
    }
    let mut text = e.to_string();
    let mut cause = std::error::Error::source(e);
    while let Some(c) = cause {
        let more = c.to_string();
        if !text.contains(&more) {
            text.push_str(&format!(": {more}"));
        }
        cause = c.source();
    }
    text
}

/// True when `e` is the server saying `code`.
pub(crate) fn is_code(e: &postgres::Error, code: &SqlState) -> bool {
    e.code() == Some(code)
}

/// Every PostgreSQL error comes through here: a lock held past the busy timeout, a
/// deadlock or a serialization failure becomes [`Error::Busy`] (what happened and what
/// to do), anything else [`Error::Postgres`] without the row's values.
impl From<postgres::Error> for Error {
    fn from(e: postgres::Error) -> Self {
        let code = e.code();
        if code == Some(&SqlState::LOCK_NOT_AVAILABLE) {
            return Error::Busy {
                path: shown(),
                waited: Some(crate::store::sqlite::busy::timeout()),
            };
        }
        if code == Some(&SqlState::T_R_DEADLOCK_DETECTED)
            || code == Some(&SqlState::T_R_SERIALIZATION_FAILURE)
        {
            return Error::Busy {
                path: shown(),
                waited: None,
            };
        }
        if code == Some(&SqlState::INSUFFICIENT_PRIVILEGE) {
            return Error::Refused(refusal(&describe(&e)));
        }
        if e.is_closed() {
            return Error::Postgres(format!(
                "the connection to {} was lost ({}): nothing after the last saved change was kept",
                shown(),
                describe(&e)
            ));
        }
        Error::Postgres(describe(&e))
    }
}

/// The database said no (SQLSTATE 42501): what it said, and what this user is.
fn refusal(said: &str) -> String {
    let team = TEAM.lock().unwrap_or_else(|e| e.into_inner()).clone();
    match team {
        Some((user, TeamKind::Volunteer)) => format!(
            "the database refused this ({said}): you are connected as {user}, a volunteer of \
             the team, who may add signatures to their campaigns but not read, export or \
             deliver them. Ask an organizer"
        ),
        Some((user, TeamKind::Organizer)) => format!(
            "the database refused this ({said}): you are connected as {user}, an organizer of \
             the team, who may work only on their campaigns (and not manage the team). Ask \
             the team's manager (the owner of campaign's tables)"
        ),
        None => format!(
            "the database refused this ({said}): the PostgreSQL user of this connection lacks \
             that right. Ask whoever manages the database"
        ),
    }
}
