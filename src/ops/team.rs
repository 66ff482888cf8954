//! The team of a shared PostgreSQL database (`campaign team`): adding a person makes them
//! a login of their own, with a generated password, and gives back the URL to hand over;
//! what they may do is the database's to enforce (see `store::postgres::team`).

use ring::rand::{SecureRandom, SystemRandom};
use serde::Serialize;

use crate::error::{Error, Result};
use crate::model::{NewTeamMember, TeamKind};
use crate::store::{DbLocation, Store};

/// Characters of a generated password: URL-safe (nothing to escape in a URL, a shell or
/// a `.pgpass` line), 64 of them, so each random byte gives one uniformly.
const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// 24 characters of 6 bits: 144 bits.
const PASSWORD_LEN: usize = 24;
const _: () = assert!(PASSWORD_LEN * 6 >= 128);

/// A new random password (144 bits, URL-safe).
pub fn password() -> Result<String> {
    let mut bytes = [0u8; PASSWORD_LEN];
    SystemRandom::new()
        .fill(&mut bytes)
        .map_err(|_| Error::Invalid("the system gave no random numbers".into()))?;
    Ok(bytes
        .iter()
        .map(|b| char::from(ALPHABET[usize::from(b & 63)]))
        .collect())
}

/// What `team add` gives back: the URL holds the password, shown this once.
#[derive(Debug, Serialize)]
pub struct Added {
    pub email: String,
    pub role: TeamKind,
    pub url: String,
    /// The PostgreSQL user (in the URL too).
    #[serde(skip)]
    pub user: String,
}

/// Adds `email` as `role` on `campaigns` (references: slugs or ids; none: every campaign,
/// organizers only) to the team of the database at `location`.
pub fn add(
    store: &mut dyn Store,
    location: &DbLocation,
    email: &str,
    role: TeamKind,
    campaigns: &[String],
) -> Result<Added> {
    let DbLocation::Postgres(target) = location else {
        // The file backend says why, and how to move.
        store.team_list()?;
        return Err(Error::Refused("a team needs a PostgreSQL database".into()));
    };
    let email = email.trim();
    if !crate::domain::email_ok(email) {
        return Err(Error::Usage(format!(
            "{email:?} is not an email address like luis@example.org"
        )));
    }
    if role == TeamKind::Volunteer && campaigns.is_empty() {
        return Err(Error::Usage(
            "a volunteer works on the campaigns they are given: pass --campaign SLUG (repeat \
             for more)"
                .into(),
        ));
    }
    let mut ids = Vec::new();
    for reference in campaigns {
        let id = store.find_campaign(reference)?.id;
        if !ids.contains(&id) {
            ids.push(id);
        }
    }
    let password = password()?;
    let user = store.team_add(&NewTeamMember {
        email,
        role,
        campaigns: (!campaigns.is_empty()).then_some(ids.as_slice()),
        password: &password,
    })?;
    Ok(Added {
        email: email.to_string(),
        role,
        url: target.url_with_login(&user, &password),
        user,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_password_is_long_random_and_url_safe() {
        let a = password().unwrap();
        let b = password().unwrap();
        assert_eq!(a.len(), PASSWORD_LEN);
        assert_ne!(a, b);
        assert!(a
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_'));
    }
}
