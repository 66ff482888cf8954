//! Stable ids: what `campaign merge` matches rows by, the same in every database a row
//! reaches. A UUID v7 (RFC 9562): 48 bits of Unix milliseconds, then random bits, so
//! ids made one after another sort one after another and a unique index on them grows
//! at its end. Made where a row is first stored (typed, imported, printed, delivered,
//! created); a merge carries the id along and never makes a new one.

use std::cell::RefCell;

use ring::rand::{SecureRandom, SystemRandom};
pub use uuid::Uuid;

/// Random bytes drawn from the system at once: one draw per ~400 ids, not one per id
/// (`Uuid::now_v7` asks the system for each, a system call that an import of a
/// million rows would feel).
const POOL: usize = 4096;

struct Maker {
    pool: Box<[u8; POOL]>,
    used: usize,
    last_ms: u64,
    /// RFC 9562's 12-bit counter (method 1): ids of one millisecond stay in order.
    counter: u16,
}

thread_local! {
    static MAKER: RefCell<Maker> = RefCell::new(Maker {
        pool: Box::new([0; POOL]),
        used: POOL,
        last_ms: 0,
        counter: 0,
    });
}

impl Maker {
    fn random(&mut self, n: usize) -> &[u8] {
        if self.used + n > POOL {
            SystemRandom::new()
                .fill(&mut self.pool[..])
                .expect("the system's random numbers");
            self.used = 0;
        }
        let bytes = &self.pool[self.used..self.used + n];
        self.used += n;
        bytes
    }

    fn make(&mut self) -> Uuid {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as u64);
        if now > self.last_ms {
            self.last_ms = now;
            // A random start with its top bit clear leaves room to count up.
            let r = self.random(2);
            self.counter = u16::from_be_bytes([r[0], r[1]]) & 0x07ff;
        } else {
            // The same millisecond (or the clock stepped back): count on; past the
            // counter's end, borrow the next millisecond.
            self.counter += 1;
            if self.counter > 0x0fff {
                self.last_ms += 1;
                self.counter = 0;
            }
        }
        let mut bytes = [0u8; 10];
        bytes[..2].copy_from_slice(&self.counter.to_be_bytes());
        let ms = self.last_ms;
        bytes[2..].copy_from_slice(self.random(8));
        uuid::Builder::from_unix_timestamp_millis(ms, &bytes).into_uuid()
    }
}

/// A new id: a UUID v7, after every id this thread made before.
pub fn fresh() -> Uuid {
    MAKER.with(|m| m.borrow_mut().make())
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
        assert!(ids
            .iter()
            .all(|u| u.get_variant() == uuid::Variant::RFC4122));
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
        let start = std::time::Instant::now();
        for _ in 0..n {
            x ^= Uuid::now_v7().as_bytes()[15];
        }
        let theirs = start.elapsed() / n;
        eprintln!("one v7 id: {per:?} (Uuid::now_v7: {theirs:?}) ({x})");
    }
}
