//! The organizer's account: who "I" am when creating campaigns, signing emails and
//! matching admins. Stored as TOML in the config directory, private to the user.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::bounded::{self, Accept};
use crate::error::{Error, Result};
use crate::fsutil::Files;
use crate::model::Lang;

/// The largest account file read (a real one is well under 1 KB).
pub const MAX_ACCOUNT_FILE: u64 = 1024 * 1024;

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Account {
    pub name: Option<String>,
    pub email: Option<String>,
    pub organization: Option<String>,
    pub lang: Option<Lang>,
    /// ISO 3166 country code used as the default region for phone numbers and ZIPs.
    pub country: Option<String>,
    /// lettre SMTP URL, e.g. `smtps://user:pass@host:465`.
    pub smtp_url: Option<String>,
    pub reply_to: Option<String>,
}

impl Account {
    /// An account is usable once it has a name and an email.
    pub fn is_complete(&self) -> bool {
        self.name.as_deref().is_some_and(|s| !s.trim().is_empty())
            && self.email.as_deref().is_some_and(|s| !s.trim().is_empty())
    }

    pub fn load(path: &Path) -> Result<Account> {
        // Bounded: an account file is a few hundred bytes; a wrong one must not fill memory.
        match bounded::read_to_string(path, MAX_ACCOUNT_FILE, Accept::Files) {
            Ok(text) => toml::from_str(&text).map_err(|e| {
                Error::Invalid(format!(
                    "cannot read the account file {}: {e}",
                    path.display()
                ))
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Account::default()),
            Err(e) => Err(Error::Invalid(format!(
                "cannot read the account file {}: {e}",
                path.display()
            ))),
        }
    }

    /// Writes the account to `path` through `files` (atomically, 0600).
    pub fn save(&self, files: &Files, path: &Path) -> Result<()> {
        let text = toml::to_string_pretty(self)
            .map_err(|e| Error::Invalid(format!("cannot write the account file: {e}")))?;
        files.write(path, text.as_bytes())?;
        Ok(())
    }

    /// The organization named on documents, falling back to the organizer's own name.
    pub fn display_organization(&self) -> String {
        self.organization
            .clone()
            .or_else(|| self.name.clone())
            .unwrap_or_default()
    }
}
