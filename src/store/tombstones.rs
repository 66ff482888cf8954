//! The tombstones of people who asked to be forgotten, loaded once by an import (both
//! backends): a row whose keys hash to one of them is left out, counted, and never
//! written anywhere (not even the rejects file).

use std::collections::HashSet;

use crate::domain::privacy::{forget_keys, tombstone};
use crate::model::NewSignature;

/// Every tombstone of the database with the keys they were made under. Empty (the usual
/// case) costs an import nothing: no hash is computed.
#[derive(Debug, Default)]
pub struct Tombstones {
    keys: Vec<[u8; 32]>,
    hashes: HashSet<[u8; 32]>,
}

impl Tombstones {
    pub fn new(keys: Vec<[u8; 32]>, hashes: HashSet<[u8; 32]>) -> Tombstones {
        Tombstones { keys, hashes }
    }

    pub fn is_empty(&self) -> bool {
        self.hashes.is_empty()
    }

    /// Whether `dedupe_key` was forgotten (under any key the database holds).
    pub fn holds(&self, dedupe_key: &str) -> bool {
        !self.is_empty()
            && self
                .keys
                .iter()
                .any(|k| self.hashes.contains(&tombstone(k, dedupe_key)))
    }

    /// Whether this signer asked to be forgotten (by email, or by name and postcode).
    pub fn forgets(&self, s: &NewSignature) -> bool {
        !self.is_empty() && forget_keys(s).iter().any(|k| self.holds(k))
    }
}

/// A 32-byte key for new tombstones, from the system's random source.
pub(crate) fn new_key() -> crate::error::Result<[u8; 32]> {
    use ring::rand::SecureRandom;
    let mut key = [0u8; 32];
    ring::rand::SystemRandom::new()
        .fill(&mut key)
        .map_err(|_| crate::error::Error::Invalid("no random numbers from the system".into()))?;
    Ok(key)
}
