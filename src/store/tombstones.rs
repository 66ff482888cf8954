//! The tombstones of people who asked to be forgotten, loaded once by an import (both
//! backends): a row whose keys hash to one of them is left out, counted, and never
//! written anywhere (not even the rejects file).

use std::collections::HashSet;

use ring::hmac;

use crate::domain::signer::person_key;
use crate::model::NewSignature;

/// Every tombstone of the database with the keys they were made under. Empty (the usual
/// case) costs an import nothing: no hash is computed.
#[derive(Default)]
pub struct Tombstones {
    /// Each key set up once (an HMAC key's setup costs as much as hashing a short key).
    keys: Vec<hmac::Key>,
    hashes: HashSet<[u8; 32]>,
}

impl std::fmt::Debug for Tombstones {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Tombstones({} keys, {} hashes)",
            self.keys.len(),
            self.hashes.len()
        )
    }
}

impl Tombstones {
    pub fn new(keys: Vec<[u8; 32]>, hashes: HashSet<[u8; 32]>) -> Tombstones {
        Tombstones {
            keys: keys
                .iter()
                .map(|k| hmac::Key::new(hmac::HMAC_SHA256, k))
                .collect(),
            hashes,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.hashes.is_empty()
    }

    /// Whether `dedupe_key` was forgotten (under any key the database holds).
    pub fn holds(&self, dedupe_key: &str) -> bool {
        !self.is_empty()
            && self.keys.iter().any(|k| {
                let tag = hmac::sign(k, dedupe_key.as_bytes());
                <[u8; 32]>::try_from(tag.as_ref()).is_ok_and(|h| self.hashes.contains(&h))
            })
    }

    /// Whether this signer asked to be forgotten (by email, or by name and postcode).
    /// The same keys as `domain::privacy::forget_keys`, without copying the row's own.
    pub fn forgets(&self, s: &NewSignature) -> bool {
        self.forgets_signer(
            &s.dedupe_key,
            &s.name,
            s.email.is_some(),
            s.postcode.as_deref(),
        )
    }

    /// [`Tombstones::forgets`] for a signer given by its parts (a merge's stored rows).
    pub fn forgets_signer(
        &self,
        dedupe_key: &str,
        name: &str,
        has_email: bool,
        postcode: Option<&str>,
    ) -> bool {
        if self.is_empty() {
            return false;
        }
        if self.holds(dedupe_key) {
            return true;
        }
        // Only a row with an email has a second key (without one, its key is this one).
        has_email && person_key(name, postcode).is_some_and(|k| self.holds(&k))
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
