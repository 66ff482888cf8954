//! Stable ids: what `campaign merge` matches rows by, the same in every database a row
//! reaches. A UUID v7 (RFC 9562): 48 bits of Unix milliseconds, then random bits, so
//! ids made one after another sort one after another and a unique index on them grows
//! at its end. Made where a row is first stored (typed, imported, printed, delivered,
//! created); a merge carries the id along and never makes a new one.

pub use uuid::Uuid;

/// A new id.
pub fn fresh() -> Uuid {
    Uuid::now_v7()
}

/// An id stored as 16 bytes (SQLite); `None` for anything else (a row written by hand).
pub fn from_blob(bytes: Option<Vec<u8>>) -> Option<Uuid> {
    bytes.and_then(|b| Uuid::from_slice(&b).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_v7_distinct_and_in_order() {
        let ids: Vec<Uuid> = (0..10_000).map(|_| fresh()).collect();
        assert!(ids.iter().all(|u| u.get_version_num() == 7));
        assert!(
            ids.windows(2).all(|w| w[0] < w[1]),
            "made in order, sorted in order"
        );
    }

    /// What an id costs an import: measured, not asserted (no timed tests). Run with
    /// `cargo test --lib uid -- --ignored --nocapture`.
    #[test]
    #[ignore]
    fn cost_of_an_id() {
        let n = 1_000_000;
        let start = std::time::Instant::now();
        let mut x = 0u8;
        for _ in 0..n {
            x ^= fresh().as_bytes()[15];
        }
        let per = start.elapsed() / n;
        eprintln!("one v7 id: {per:?} ({x})");
    }
}
