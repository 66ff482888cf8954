//! Waiting on a busy database. Another `campaign` process may hold the write lock for a
//! long time (an import keeps one transaction open until its last row), so every
//! connection waits for it, for minutes rather than seconds, and tells the person why
//! through a notifier the command layer installs (the store itself never prints).
//!
//! SQLite's busy handler is a plain function with no context, so the settings here are
//! process-wide: one CLI process works on one database.

use std::cell::Cell;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, RwLock};
use std::time::{Duration, Instant};

use rusqlite::Connection;

/// How long a connection waits for another process's write lock before giving up: long
/// enough for a large import to finish.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10 * 60);
/// When the person is first told that we wait (a shorter wait goes unremarked).
const NOTICE_AFTER: Duration = Duration::from_secs(1);
/// How often a long wait is mentioned again.
const REMIND_EVERY: Duration = Duration::from_secs(60);

static TIMEOUT_MS: AtomicU64 = AtomicU64::new(DEFAULT_TIMEOUT.as_millis() as u64);
static NOTIFIER: RwLock<Option<fn(&Wait<'_>)>> = RwLock::new(None);
/// The database most recently opened: what the notices and errors name.
static DATABASE: Mutex<Option<PathBuf>> = Mutex::new(None);

thread_local! {
    /// The wait in progress on this thread: when it began, when to speak next.
    static WAITING: Cell<Option<(Instant, Duration)>> = const { Cell::new(None) };
    /// How long the last wait on this thread lasted when it gave up, for the error.
    static GAVE_UP: Cell<Option<Duration>> = const { Cell::new(None) };
}

/// A wait in progress, for the notifier.
#[derive(Debug, Clone, Copy)]
pub struct Wait<'a> {
    pub path: &'a Path,
    pub waited: Duration,
    /// False the first time a wait is mentioned, true for the reminders.
    pub again: bool,
}

/// Installs the function that tells a person a command is waiting for the database.
pub fn on_busy(notify: fn(&Wait<'_>)) {
    *NOTIFIER.write().unwrap_or_else(|e| e.into_inner()) = Some(notify);
}

/// Sets how long to wait for another process before giving up (0: do not wait).
pub fn set_busy_timeout(limit: Duration) {
    TIMEOUT_MS.store(
        limit.as_millis().min(u64::MAX as u128) as u64,
        Ordering::Relaxed,
    );
}

fn busy_timeout() -> Duration {
    Duration::from_millis(TIMEOUT_MS.load(Ordering::Relaxed))
}

/// Reads a timeout in whole seconds, as `CAMPAIGN_BUSY_TIMEOUT` gives it.
pub fn parse_timeout(text: &str) -> Option<Duration> {
    text.trim().parse::<u64>().ok().map(Duration::from_secs)
}

/// The database that notices and errors name.
pub(crate) fn database() -> String {
    DATABASE
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .as_ref()
        .map_or_else(|| "the database".to_string(), |p| p.display().to_string())
}

/// How long the last wait on this thread lasted before it gave up (taken once).
pub(crate) fn gave_up_after() -> Option<Duration> {
    GAVE_UP.with(Cell::take)
}

/// Makes `conn` wait on a busy database (see the module docs).
pub(crate) fn install(conn: &Connection, path: &Path) -> rusqlite::Result<()> {
    *DATABASE.lock().unwrap_or_else(|e| e.into_inner()) = Some(path.to_path_buf());
    conn.busy_handler(Some(handler))
}

/// Called by SQLite while the lock it needs is held elsewhere: `true` to try again.
/// `count` is 0 at the first call of each wait.
fn handler(count: i32) -> bool {
    let now = Instant::now();
    let (start, next_notice) = WAITING.with(|w| match w.get() {
        Some(state) if count > 0 => state,
        _ => {
            let state = (now, NOTICE_AFTER);
            w.set(Some(state));
            state
        }
    });
    let waited = now.duration_since(start);
    let limit = busy_timeout();
    if waited >= limit {
        GAVE_UP.with(|g| g.set(Some(waited)));
        WAITING.with(|w| w.set(None));
        return false;
    }
    if waited >= next_notice {
        WAITING.with(|w| w.set(Some((start, waited + REMIND_EVERY))));
        let notify = *NOTIFIER.read().unwrap_or_else(|e| e.into_inner());
        if let Some(notify) = notify {
            let path = DATABASE.lock().unwrap_or_else(|e| e.into_inner()).clone();
            notify(&Wait {
                path: path.as_deref().unwrap_or(Path::new("the database")),
                waited,
                again: next_notice > NOTICE_AFTER,
            });
        }
    }
    std::thread::sleep(pause(count as usize, limit - waited));
    true
}

/// Runs `f` again while it fails on a busy database, within the same time limit, for
/// the few steps SQLite does not wait on by itself: it never calls the busy handler
/// when a read must become a write (switching a fresh database to WAL does that), since
/// in general waiting there could deadlock.
pub(crate) fn retrying<T>(mut f: impl FnMut() -> rusqlite::Result<T>) -> rusqlite::Result<T> {
    let start = Instant::now();
    let mut count = 0usize;
    loop {
        match f() {
            Err(e) if e.sqlite_error_code() == Some(rusqlite::ErrorCode::DatabaseBusy) => {
                let waited = start.elapsed();
                let limit = busy_timeout();
                if waited >= limit {
                    GAVE_UP.with(|g| g.set(Some(waited)));
                    return Err(e);
                }
                std::thread::sleep(pause(count, limit - waited));
                count += 1;
            }
            other => return other,
        }
    }
}

/// Short steps at first (most waits are a moment), then a steady 50 ms: a released lock
/// is picked up at once, and polling costs nothing measurable.
fn pause(count: usize, left: Duration) -> Duration {
    const STEPS_MS: [u64; 8] = [1, 2, 5, 10, 15, 20, 25, 25];
    let step = Duration::from_millis(STEPS_MS.get(count).copied().unwrap_or(50));
    step.min(left + Duration::from_millis(1))
}

/// "2 s", "10 min", "1 min 30 s": a wait for a person to read.
pub fn describe(d: Duration) -> String {
    let secs = d.as_secs_f64().round() as u64;
    match (secs / 60, secs % 60) {
        (0, s) => format!("{s} s"),
        (m, 0) => format!("{m} min"),
        (m, s) => format!("{m} min {s} s"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_read_as_a_person_says_them() {
        assert_eq!(describe(Duration::from_millis(2_010)), "2 s");
        assert_eq!(describe(DEFAULT_TIMEOUT), "10 min");
        assert_eq!(describe(Duration::from_secs(90)), "1 min 30 s");
        assert_eq!(parse_timeout(" 600 "), Some(Duration::from_secs(600)));
        assert_eq!(parse_timeout("ten"), None);
        assert_eq!(parse_timeout("-1"), None);
    }
}
