//! Inviting friends to sign (`share --invite`, `--invite-file`): reading a contacts file,
//! and one personal invitation per new address, written to the outbox or sent.

use std::collections::HashSet;
use std::path::Path;

use serde::Serialize;

use crate::bounded::{self, Accept};
use crate::domain::signer::Column;
use crate::error::Error;
use crate::mail::{Posted, Postman};
use crate::model::{Campaign, Lang};
use crate::render::mail::{self, Friend, MailKind};

/// What `share --invite` did, address by address.
#[derive(Debug, Default, Serialize)]
pub struct InviteReport {
    /// Invitations written to the outbox (or sent), with their .eml files.
    pub written: Vec<Posted>,
    /// Addresses given more than once (invited once).
    pub duplicates: Vec<String>,
    /// Addresses already invited to this campaign earlier (not invited again).
    pub already_invited: Vec<String>,
    /// Entries that are not email addresses.
    pub invalid: Vec<Invalid>,
}

#[derive(Debug, Serialize)]
pub struct Invalid {
    pub value: String,
    pub reason: String,
}

/// What every invitation says: the campaign, its language and link, and the
/// organizer's own words (`--message`).
pub struct Letter<'a> {
    pub campaign: &'a Campaign,
    pub lang: Lang,
    pub link: &'a str,
    pub message: Option<&'a str>,
}

/// Writes (or sends, as `postman` does) one invitation per new valid address of
/// `contacts`: an address given twice is invited once, one invited to this campaign
/// before (in the outbox or sent) not again, and what is not an address is skipped;
/// `sending(n, to)` hears of each send before it happens (it can take a while).
pub fn invite(
    postman: &Postman,
    letter: &Letter<'_>,
    contacts: Vec<Friend>,
    sending: &mut dyn FnMut(usize, &str),
) -> anyhow::Result<InviteReport> {
    let campaign = letter.campaign;
    let outbox = postman.outbox();
    let mut earlier: HashSet<String> = HashSet::new();
    for item in outbox.list()?.into_iter().chain(outbox.list_sent()?) {
        if item.info.kind == MailKind::Invitation
            && item.info.campaign.as_deref() == Some(campaign.slug.as_str())
        {
            earlier.insert(item.info.to.to_lowercase());
        }
    }

    let mut report = InviteReport::default();
    let mut seen: HashSet<String> = HashSet::new();
    for friend in contacts {
        let email = friend.email.trim().to_string();
        if !crate::domain::email_ok(&email) {
            report.invalid.push(Invalid {
                reason: if email.is_empty() {
                    "no email address".into()
                } else {
                    "not an email address like ana@example.org".into()
                },
                value: match &friend.name {
                    Some(name) => format!("{name} <{email}>"),
                    None => email,
                },
            });
            continue;
        }
        let key = email.to_lowercase();
        if !seen.insert(key.clone()) {
            report.duplicates.push(email);
            continue;
        }
        if earlier.contains(&key) {
            report.already_invited.push(email);
            continue;
        }
        let friend = Friend {
            name: friend.name,
            email,
        };
        let built = mail::friend_invitation(
            &postman.sender,
            campaign,
            letter.lang,
            &friend,
            letter.link,
            letter.message,
        )?;
        if postman.sends_now() {
            sending(report.written.len() + 1, &friend.email);
        }
        report.written.push(postman.post(&built)?);
    }
    Ok(report)
}

/// The largest contacts file read (a list of 100,000 friends is about 5 MB).
const MAX_CONTACTS_FILE: u64 = 50 * 1024 * 1024;

/// Friends from a CSV with a header row: `email` (or `correo`, ...) and optionally `name`
/// (or `nombre`, ...) columns, in any order and case, named as for `enter-signatures`. Read through a limit (a pipe such as
/// `<(grep ...)` is fine, a device is not); a name that cannot go into an email header
/// (a line break, a control character) is refused with its row, before anything is written.
pub fn read_contacts(path: &Path) -> anyhow::Result<Vec<Friend>> {
    let cannot = |e: &dyn std::fmt::Display| {
        Error::Invalid(format!(
            "--invite-file {}: cannot read it ({e})",
            path.display()
        ))
    };
    let file =
        bounded::open(path, MAX_CONTACTS_FILE, Accept::FilesAndPipes).map_err(|e| cannot(&e))?;
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(file);
    let headers = reader.headers().map_err(|e| cannot(&e))?.clone();
    // The same header names as `enter-signatures --from` (the domain's one list).
    let column = |wanted: &dyn Fn(Column) -> bool| {
        headers
            .iter()
            .position(|h| Column::from_header(h).is_some_and(wanted))
    };
    let email_col = column(&|c| c == Column::Email).ok_or_else(|| {
        Error::Invalid(format!(
            "--invite-file {}: no `email` column; the first row must name the columns, e.g. `name,email`",
            path.display()
        ))
    })?;
    let name_col = column(&|c| matches!(c, Column::Name | Column::NameOrFirst));
    let mut friends = Vec::new();
    // Row 1 is the header, as in `enter-signatures --from`.
    for (row, record) in (2u64..).zip(reader.records()) {
        let record = record.map_err(|e| cannot(&e))?;
        let email = record.get(email_col).unwrap_or("").to_string();
        let name = name_col
            .and_then(|i| record.get(i))
            .map(str::trim)
            .filter(|n| !n.is_empty())
            .map(str::to_string);
        if email.is_empty() && name.is_none() {
            continue;
        }
        for (what, value) in [("name", name.as_deref()), ("email", Some(email.as_str()))] {
            let Some(value) = value else { continue };
            if let Some(c) = value.chars().find(|c| c.is_control()) {
                let problem = if c == '\n' || c == '\r' {
                    "a line break (a quoted cell spanning lines)".to_string()
                } else {
                    format!("a control character ({c:?})")
                };
                return Err(Error::Invalid(format!(
                    "--invite-file {} row {row}: the {what} has {problem}, which an email cannot carry: \
                     put it on one line in the file and run the command again (nothing was written)",
                    path.display()
                ))
                .into());
            }
        }
        friends.push(Friend { name, email });
    }
    Ok(friends)
}
