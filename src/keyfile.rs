//! The key file of an encrypted database (`campaigns.db.key`): a random 32-byte data key
//! (the SQLCipher key, for the life of the database) wrapped with ChaCha20-Poly1305 under
//! a key derived from the passphrase by Argon2id. Changing the passphrase re-wraps the
//! data key; no page of the database is re-encrypted. No I/O here: the caller reads and
//! writes the bytes (through `bounded` and `fsutil::Files`).

use std::fmt;
use std::sync::Arc;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use ring::aead::{Aad, LessSafeKey, Nonce, UnboundKey, CHACHA20_POLY1305};
use ring::rand::{SecureRandom, SystemRandom};
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

/// The format this version writes and reads.
pub const FORMAT: u32 = 1;
/// The largest key file we read.
pub const MAX_BYTES: u64 = 4096;

/// The SQLCipher key of one database. Cheap to clone; wiped when the last copy goes.
#[derive(Clone)]
pub struct DataKey(Arc<Zeroizing<[u8; 32]>>);

impl DataKey {
    /// A new random key.
    pub fn random() -> Result<DataKey, KeyFileError> {
        let mut key = Zeroizing::new([0u8; 32]);
        SystemRandom::new()
            .fill(&mut key[..])
            .map_err(|_| KeyFileError::Random)?;
        Ok(DataKey(Arc::new(key)))
    }

    pub fn bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// SQLCipher's raw-key form, `x'<64 hex digits>'`: used as given, no PBKDF2.
    pub fn sqlcipher_raw(&self) -> Zeroizing<String> {
        let mut text = Zeroizing::new(String::with_capacity(67));
        text.push_str("x'");
        for b in self.0.iter() {
            text.push(char::from(b"0123456789abcdef"[usize::from(b >> 4)]));
            text.push(char::from(b"0123456789abcdef"[usize::from(b & 15)]));
        }
        text.push('\'');
        text
    }
}

impl fmt::Debug for DataKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("DataKey(…)")
    }
}

/// A passphrase, wiped when dropped.
pub struct Passphrase(Zeroizing<String>);

impl Passphrase {
    pub fn new(text: String) -> Passphrase {
        Passphrase(Zeroizing::new(text))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Passphrase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Passphrase(…)")
    }
}

/// Argon2id parameters (RFC 9106's second recommended set, one lane).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KdfParams {
    pub memory_kib: u32,
    pub iterations: u32,
    pub lanes: u32,
}

impl Default for KdfParams {
    fn default() -> Self {
        KdfParams {
            memory_kib: 64 * 1024,
            iterations: 3,
            lanes: 1,
        }
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum KeyFileError {
    #[error("wrong passphrase")]
    WrongPassphrase,
    #[error("it is damaged or not a campaign key file ({0})")]
    Damaged(String),
    #[error("it was written by a newer version of campaign (format {0}); upgrade campaign")]
    Newer(u32),
    #[error("its key derivation settings are out of range ({0})")]
    Params(String),
    #[error("the system's random number generator failed")]
    Random,
}

/// The file as stored (TOML).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct KeyFile {
    pub format: u32,
    pub kdf: String,
    pub kdf_memory_kib: u32,
    pub kdf_iterations: u32,
    pub kdf_lanes: u32,
    pub salt: String,
    pub aead: String,
    pub nonce: String,
    pub wrapped_key: String,
}

const HEADER: &str = "\
# This file unlocks the campaign database beside it with your passphrase.
# Without it NOBODY can open the database again, not even you: keep a copy
# apart from this computer (a USB stick in a safe place). Alone, without the
# passphrase, it is useless.
";

impl KeyFile {
    /// Wraps `key` under `passphrase` with a new salt and nonce.
    pub fn seal(
        key: &DataKey,
        passphrase: &Passphrase,
        params: KdfParams,
    ) -> Result<KeyFile, KeyFileError> {
        let rng = SystemRandom::new();
        let mut salt = [0u8; 16];
        let mut nonce = [0u8; 12];
        rng.fill(&mut salt).map_err(|_| KeyFileError::Random)?;
        rng.fill(&mut nonce).map_err(|_| KeyFileError::Random)?;
        let mut file = KeyFile {
            format: FORMAT,
            kdf: "argon2id".into(),
            kdf_memory_kib: params.memory_kib,
            kdf_iterations: params.iterations,
            kdf_lanes: params.lanes,
            salt: B64.encode(salt),
            aead: "chacha20-poly1305".into(),
            nonce: B64.encode(nonce),
            wrapped_key: String::new(),
        };
        let kek = derive(passphrase, &salt, params)?;
        let mut sealed = key.bytes().to_vec();
        kek.seal_in_place_append_tag(
            Nonce::assume_unique_for_key(nonce),
            Aad::from(file.aad()),
            &mut sealed,
        )
        .map_err(|_| KeyFileError::Damaged("cannot seal".into()))?;
        file.wrapped_key = B64.encode(&sealed);
        Ok(file)
    }

    /// The same data key under a new passphrase (new salt and nonce).
    pub fn rewrap(&self, key: &DataKey, passphrase: &Passphrase) -> Result<KeyFile, KeyFileError> {
        KeyFile::seal(key, passphrase, self.params())
    }

    pub fn params(&self) -> KdfParams {
        KdfParams {
            memory_kib: self.kdf_memory_kib,
            iterations: self.kdf_iterations,
            lanes: self.kdf_lanes,
        }
    }

    pub fn parse(bytes: &[u8]) -> Result<KeyFile, KeyFileError> {
        let text = std::str::from_utf8(bytes)
            .map_err(|_| KeyFileError::Damaged("not UTF-8 text".into()))?;
        // The format first, so a newer file says so rather than "damaged".
        #[derive(Deserialize)]
        struct Version {
            format: u32,
        }
        let version: Version =
            toml::from_str(text).map_err(|e| KeyFileError::Damaged(e.message().to_string()))?;
        if version.format > FORMAT {
            return Err(KeyFileError::Newer(version.format));
        }
        let file: KeyFile =
            toml::from_str(text).map_err(|e| KeyFileError::Damaged(e.message().to_string()))?;
        if file.format != FORMAT || file.kdf != "argon2id" || file.aead != "chacha20-poly1305" {
            return Err(KeyFileError::Damaged("unknown format or algorithm".into()));
        }
        check_params(file.params())?;
        Ok(file)
    }

    pub fn to_toml(&self) -> String {
        let body = toml::to_string(self).expect("a key file always serializes");
        format!("{HEADER}{body}")
    }

    /// Unwraps the data key: a wrong passphrase and an edited file both fail here.
    pub fn open(&self, passphrase: &Passphrase) -> Result<DataKey, KeyFileError> {
        let salt = decode(&self.salt, "salt")?;
        let nonce: [u8; 12] = decode(&self.nonce, "nonce")?
            .try_into()
            .map_err(|_| KeyFileError::Damaged("nonce".into()))?;
        let mut sealed = decode(&self.wrapped_key, "wrapped_key")?;
        if sealed.len() != 32 + CHACHA20_POLY1305.tag_len() || salt.len() < 16 {
            return Err(KeyFileError::Damaged("lengths".into()));
        }
        let kek = derive(passphrase, &salt, self.params())?;
        let opened = kek
            .open_in_place(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(self.aad()),
                &mut sealed,
            )
            .map_err(|_| KeyFileError::WrongPassphrase)?;
        let mut key = Zeroizing::new([0u8; 32]);
        key.copy_from_slice(opened);
        zeroize::Zeroize::zeroize(&mut sealed);
        Ok(DataKey(Arc::new(key)))
    }

    /// Every field but the nonce and the sealed key: editing one makes the unwrap fail.
    fn aad(&self) -> Vec<u8> {
        format!(
            "campaign key file v1\0{}\0{}\0{}\0{}\0{}\0{}\0{}",
            self.format,
            self.kdf,
            self.kdf_memory_kib,
            self.kdf_iterations,
            self.kdf_lanes,
            self.salt,
            self.aead
        )
        .into_bytes()
    }
}

fn decode(text: &str, what: &str) -> Result<Vec<u8>, KeyFileError> {
    B64.decode(text)
        .map_err(|_| KeyFileError::Damaged(format!("{what} is not base64")))
}

/// A hostile or mistyped file must not exhaust the machine, nor weaken the key.
fn check_params(p: KdfParams) -> Result<(), KeyFileError> {
    if p.memory_kib < 19 * 1024 || p.memory_kib > 1024 * 1024 {
        return Err(KeyFileError::Params(format!(
            "kdf_memory_kib {} is not between 19456 and 1048576",
            p.memory_kib
        )));
    }
    if p.iterations == 0 || p.iterations > 100 {
        return Err(KeyFileError::Params(format!(
            "kdf_iterations {} is not between 1 and 100",
            p.iterations
        )));
    }
    if p.lanes == 0 || p.lanes > 16 {
        return Err(KeyFileError::Params(format!(
            "kdf_lanes {} is not between 1 and 16",
            p.lanes
        )));
    }
    Ok(())
}

fn derive(
    passphrase: &Passphrase,
    salt: &[u8],
    params: KdfParams,
) -> Result<LessSafeKey, KeyFileError> {
    check_params(params)?;
    let argon = argon2::Argon2::new(
        argon2::Algorithm::Argon2id,
        argon2::Version::V0x13,
        argon2::Params::new(params.memory_kib, params.iterations, params.lanes, Some(32))
            .map_err(|e| KeyFileError::Params(e.to_string()))?,
    );
    let mut kek = Zeroizing::new([0u8; 32]);
    argon
        .hash_password_into(passphrase.as_str().as_bytes(), salt, &mut kek[..])
        .map_err(|e| KeyFileError::Params(e.to_string()))?;
    let unbound = UnboundKey::new(&CHACHA20_POLY1305, &kek[..])
        .map_err(|_| KeyFileError::Damaged("key length".into()))?;
    Ok(LessSafeKey::new(unbound))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pass(s: &str) -> Passphrase {
        Passphrase::new(s.into())
    }

    #[test]
    fn round_trip_and_wrong_passphrase() {
        let key = DataKey::random().unwrap();
        let file =
            KeyFile::seal(&key, &pass("correct horse battery"), KdfParams::default()).unwrap();
        let parsed = KeyFile::parse(file.to_toml().as_bytes()).unwrap();
        assert_eq!(parsed, file);
        let back = parsed.open(&pass("correct horse battery")).unwrap();
        assert_eq!(back.bytes(), key.bytes());
        assert_eq!(
            parsed.open(&pass("correct horse batterY")).unwrap_err(),
            KeyFileError::WrongPassphrase
        );
        // The secret never shows in the file or in debug output.
        assert!(!file.to_toml().contains("correct horse"));
        assert_eq!(format!("{key:?}"), "DataKey(…)");
        let raw = key.sqlcipher_raw();
        assert_eq!(raw.len(), 67);
        assert!(raw.starts_with("x'") && raw.ends_with('\''));
    }

    #[test]
    fn rewrap_keeps_the_key_and_changes_salt_and_nonce() {
        let key = DataKey::random().unwrap();
        let old = KeyFile::seal(&key, &pass("first passphrase"), KdfParams::default()).unwrap();
        let new = old.rewrap(&key, &pass("second passphrase")).unwrap();
        assert_ne!(old.salt, new.salt);
        assert_ne!(old.nonce, new.nonce);
        assert_eq!(
            new.open(&pass("second passphrase")).unwrap().bytes(),
            key.bytes()
        );
        assert!(new.open(&pass("first passphrase")).is_err());
    }

    #[test]
    fn tampered_params_fail_to_unwrap() {
        let key = DataKey::random().unwrap();
        let file = KeyFile::seal(&key, &pass("a passphrase here"), KdfParams::default()).unwrap();
        let mut edited = file.clone();
        edited.kdf_iterations = 4;
        assert!(edited.open(&pass("a passphrase here")).is_err());
    }

    #[test]
    fn newer_format_and_huge_memory_are_refused() {
        let key = DataKey::random().unwrap();
        let file = KeyFile::seal(&key, &pass("a passphrase here"), KdfParams::default()).unwrap();
        let newer = file.to_toml().replace("format = 1", "format = 2");
        assert_eq!(
            KeyFile::parse(newer.as_bytes()).unwrap_err(),
            KeyFileError::Newer(2)
        );
        let huge = file
            .to_toml()
            .replace("kdf_memory_kib = 65536", "kdf_memory_kib = 4000000000");
        assert!(matches!(
            KeyFile::parse(huge.as_bytes()),
            Err(KeyFileError::Params(_))
        ));
        assert!(matches!(
            KeyFile::parse(b"\xff\xfe"),
            Err(KeyFileError::Damaged(_))
        ));
    }
}
