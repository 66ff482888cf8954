//! What time it is, given to the store by its caller: the store never reads the clock
//! itself, so tests can fix the time and every backend stamps rows the same way.

use std::sync::Arc;

/// Gives the current time as ISO 8601 in UTC (`2026-11-26T10:00:00Z`).
pub type Clock = Arc<dyn Fn() -> String + Send + Sync>;

/// The system clock.
pub fn system() -> Clock {
    Arc::new(now)
}

/// A clock that always says `at` (for tests).
pub fn fixed(at: &str) -> Clock {
    let at = at.to_string();
    Arc::new(move || at.clone())
}

/// Current UTC time as ISO 8601 (`2026-11-26T10:00:00Z`), to the second.
pub fn now() -> String {
    let now = time::OffsetDateTime::now_utc()
        .replace_nanosecond(0)
        .unwrap_or_else(|_| time::OffsetDateTime::now_utc());
    now.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}
