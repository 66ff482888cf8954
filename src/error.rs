//! Typed errors of the library. Commands add `anyhow` context; `report_error` prints them.

use std::io;

/// Exit status for success.
pub const EXIT_OK: u8 = 0;
/// Exit status for a failure (bad data, refused action, failed delivery, ...).
pub const EXIT_FAILURE: u8 = 1;
/// Exit status for a usage error: a bad or missing flag (clap uses 2 too).
pub const EXIT_USAGE: u8 = 2;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A value is needed, there is no terminal to ask on, and no flag gave it.
    #[error("missing {what}: pass {flag} ({why})")]
    MissingInput {
        what: String,
        flag: String,
        why: &'static str,
    },
    #[error("{0}")]
    Usage(String),
    #[error("no campaign {0:?}: see `campaign list` for slugs and ids")]
    CampaignNotFound(String),
    #[error("{0}")]
    Invalid(String),
    #[error("{0}")]
    Refused(String),
    #[error(
        "the database {path} was written by a newer version of campaign (schema {found}, this binary knows up to {known}); upgrade campaign to open it"
    )]
    DatabaseTooNew {
        path: String,
        found: i64,
        known: i64,
    },
    #[error("cannot open the database {path}: {reason} (pass another file with --db, or set CAMPAIGN_HOME)")]
    OpenDatabase { path: String, reason: String },
    /// No connection to a PostgreSQL server (`target` is shown with its password masked).
    #[error("cannot connect to the database {target}: {reason}")]
    Connect { target: String, reason: String },
    /// Another process held the database's write lock for longer than we wait.
    #[error(
        "the database {path} is still busy{}: another campaign process (an import?) is writing to it, \
         and this command's change was not saved. Let that process finish (or stop it), then run the \
         command again; to wait longer, set CAMPAIGN_BUSY_TIMEOUT to a number of seconds (e.g. 1800)",
        waited
            .filter(|w| w.as_millis() >= 500)
            .map(|w| format!(" after {}", crate::store::describe_wait(w)))
            .unwrap_or_default()
    )]
    Busy {
        path: String,
        /// How long we waited before giving up, when we did.
        waited: Option<std::time::Duration>,
    },
    #[error(
        "wrong passphrase for {db} (key file {key}); nothing was changed. Try again, or the new \
         one if you changed it with `campaign passphrase`"
    )]
    WrongPassphrase { db: String, key: String },
    #[error("cannot use the key file {key}: {reason}; nothing was changed")]
    KeyFile { key: String, reason: String },
    #[error("the database {db} is encrypted (its key file is {key}): it needs its passphrase")]
    Locked { db: String, key: String },
    #[error(
        "{key} does not unlock {db}: it belongs to another database, or {db} was replaced by a \
         copy that is not encrypted; nothing was changed"
    )]
    KeyMismatch { db: String, key: String },
    #[error(
        "{db} cannot be read: it is encrypted and its key file {key} is missing (put your copy \
         of the key file back there; without it the data cannot be read), or it is not a \
         campaign database"
    )]
    NotADatabase { db: String, key: String },
    #[error("no organizer account yet: run `campaign account --name \"Your Name\" --email you@example.org` first")]
    NoAccount,
    /// One email could not be sent; it stays in the outbox with the reason.
    #[error("could not send the email to {to}: {reason} (it stays in the outbox; retry with `campaign outbox --send`)")]
    NotSent { to: String, reason: String },
    /// Some emails of a batch could not be sent.
    #[error("{failed} of {total} emails could not be sent; they stay in the outbox with the reason (see `campaign outbox`)")]
    SomeNotSent { failed: usize, total: usize },
    /// Some campaigns of a batch could not be delivered (the others were): each with
    /// why, printed by `report_error` before this line.
    #[error("{} of {} failed (the others were delivered)", failures.len(), crate::ui::plural(*total as u64, "campaign", "campaigns"))]
    CampaignsFailed {
        /// (campaign, why) for each failure.
        failures: Vec<(String, String)>,
        total: usize,
    },
    #[error(transparent)]
    Sqlite(rusqlite::Error),
    /// A PostgreSQL server refused a request or the connection broke; the message never
    /// quotes a row (see `store::postgres`).
    #[error("the PostgreSQL server: {0}")]
    Postgres(String),
    #[error(transparent)]
    Io(#[from] io::Error),
    /// The campaign's signers were purged: what needs their names cannot be done.
    #[error(
        "{slug} was purged on {}: its signers' names and contacts were deleted, so {needs} is \
         not possible; its counts and deliveries are kept (`campaign show {slug}`)",
        purged_at.get(..10).unwrap_or(purged_at)
    )]
    Purged {
        slug: String,
        purged_at: String,
        needs: String,
    },
    /// This person asked to be removed from every campaign (`campaign forget`).
    #[error("this person asked on {} to be removed from your campaigns: not saved", since.get(..10).unwrap_or(since))]
    Forgotten { since: String },
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Every SQLite error comes through here: a busy database becomes [`Error::Busy`], with
/// what happened and what to do, wherever in the store it was met.
impl From<rusqlite::Error> for Error {
    fn from(e: rusqlite::Error) -> Self {
        if e.sqlite_error_code() == Some(rusqlite::ErrorCode::DatabaseBusy) {
            return Error::Busy {
                path: crate::store::busy_database(),
                waited: crate::store::gave_up_after(),
            };
        }
        Error::Sqlite(e)
    }
}

/// True when the root cause is a write to a closed pipe.
pub fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| {
        cause
            .downcast_ref::<io::Error>()
            .is_some_and(|e| e.kind() == io::ErrorKind::BrokenPipe)
            || cause.downcast_ref::<Error>().is_some_and(
                |e| matches!(e, Error::Io(io) if io.kind() == io::ErrorKind::BrokenPipe),
            )
    })
}

/// Maps an error to the documented exit code.
pub fn exit_code(err: &anyhow::Error) -> u8 {
    for cause in err.chain() {
        if let Some(e) = cause.downcast_ref::<Error>() {
            return match e {
                Error::MissingInput { .. } | Error::Usage(_) => EXIT_USAGE,
                _ => EXIT_FAILURE,
            };
        }
    }
    EXIT_FAILURE
}
