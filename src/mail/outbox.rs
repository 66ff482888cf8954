//! The outbox: every email waits here as a private `.eml` file (with a `.json` beside it
//! saying who it is for and what it is about) until it is sent. Sent messages move to the
//! sent folder; a failed one stays, with a `.reason` file saying why. Nothing here prints.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::transport::Mailer;
use crate::bounded::{self, Accept};
use crate::error::{Error, Result};
use crate::fsutil::{self, Files};
use crate::paths::Paths;
use crate::render::mail::{Mail, MailInfo, MailKind};

/// A message in the outbox (or the sent folder).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Queued {
    /// File stem shared by the `.eml`, `.json` and `.reason` files.
    pub id: String,
    /// The `.eml` file.
    pub file: PathBuf,
    #[serde(flatten)]
    pub info: MailInfo,
    /// When it was queued (UTC, ISO 8601).
    pub queued_at: String,
    /// Why the last attempt to send it failed.
    pub failure: Option<String>,
}

/// What `.json` holds beside each `.eml`.
#[derive(Debug, Serialize, Deserialize)]
struct Meta {
    #[serde(flatten)]
    info: MailInfo,
    queued_at: String,
}

/// The result of sending everything waiting.
#[derive(Debug, Default, Serialize)]
pub struct SendReport {
    /// Sent messages, now in the sent folder.
    pub sent: Vec<Queued>,
    /// Messages still waiting, each with its failure.
    pub failed: Vec<Queued>,
}

/// The largest `.eml` sent (mail servers refuse far smaller ones; this only bounds memory).
pub const MAX_EMAIL_FILE: u64 = 200 * 1024 * 1024;

/// The outbox and sent folders.
#[derive(Debug, Clone)]
pub struct Outbox {
    pending: PathBuf,
    sent: PathBuf,
    /// Every file goes through it: never over the database or the command's inputs.
    files: Files,
}

impl Outbox {
    pub fn new(paths: &Paths) -> Outbox {
        Outbox {
            files: paths.files().clone(),
            ..Outbox::with_dirs(paths.outbox_dir(), paths.sent_dir())
        }
    }

    pub fn with_dirs(pending: PathBuf, sent: PathBuf) -> Outbox {
        Outbox {
            pending,
            sent,
            files: Files::new(),
        }
    }

    /// Writes `mail` into the outbox as a private `.eml` file.
    pub fn queue(&self, mail: &Mail) -> Result<Queued> {
        fsutil::create_private_dir(&self.pending)?;
        let queued_at = crate::clock::now();
        let id = self.new_id(&queued_at, &mail.info);
        let file = self.pending.join(format!("{id}.eml"));
        self.files.write(&file, &mail.to_bytes())?;
        let meta = Meta {
            info: mail.info.clone(),
            queued_at: queued_at.clone(),
        };
        let json = serde_json::to_vec_pretty(&meta).map_err(std::io::Error::other)?;
        self.files
            .write(&self.pending.join(format!("{id}.json")), &json)?;
        Ok(Queued {
            id,
            file,
            info: mail.info.clone(),
            queued_at,
            failure: None,
        })
    }

    /// A file stem no other message uses: time, kind and recipient, readable in a listing.
    fn new_id(&self, queued_at: &str, info: &MailInfo) -> String {
        let stamp: String = queued_at.chars().filter(|c| c.is_ascii_digit()).collect();
        let kind = match info.kind {
            MailKind::Invitation => "invitation",
            MailKind::AdminInvitation => "admin",
            MailKind::Delivery => "delivery",
        };
        let to: String = info
            .to
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
            .collect();
        let base = format!("{stamp}-{kind}-{to}");
        let taken = |id: &str| {
            self.pending.join(format!("{id}.eml")).exists()
                || self.sent.join(format!("{id}.eml")).exists()
        };
        let mut id = base.clone();
        let mut n = 2;
        while taken(&id) {
            id = format!("{base}-{n}");
            n += 1;
        }
        id
    }

    /// Messages waiting, oldest first, each with the reason of its last failure.
    pub fn list(&self) -> Result<Vec<Queued>> {
        read_dir(&self.pending)
    }

    /// Deletes the waiting messages `unwanted` picks (e.g. the invitation of an admin who
    /// was removed before it went out). Returns how many.
    pub fn discard(&self, mut unwanted: impl FnMut(&MailInfo) -> bool) -> Result<usize> {
        let mut discarded = 0;
        for item in self.list()? {
            if unwanted(&item.info) {
                for ext in ["eml", "json", "reason"] {
                    match std::fs::remove_file(self.pending.join(format!("{}.{ext}", item.id))) {
                        Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e.into()),
                        _ => {}
                    }
                }
                discarded += 1;
            }
        }
        Ok(discarded)
    }

    /// Messages sent, oldest first.
    pub fn list_sent(&self) -> Result<Vec<Queued>> {
        read_dir(&self.sent)
    }

    /// Sends one waiting message. On success it moves to the sent folder; on failure it
    /// stays, with the reason written beside it.
    ///
    /// Two processes sending from one outbox (`outbox --send` twice, or beside `share
    /// --send`) never send a message twice: each send holds the outbox's send lock, and a
    /// message another process sent while this one waited is taken as sent.
    pub fn send(&self, mailer: &Mailer, item: &Queued) -> Result<Queued> {
        let _lock = self.lock_for_sending()?;
        if !item.file.exists() {
            let sent_file = self.sent.join(format!("{}.eml", item.id));
            if sent_file.exists() {
                return Ok(Queued {
                    file: sent_file,
                    failure: None,
                    ..item.clone()
                });
            }
            return Err(Error::NotSent {
                to: item.info.to.clone(),
                reason: "it is no longer in the outbox".into(),
            });
        }
        // Bounded: the outbox is ours, but a file put there by hand must not fill memory.
        let bytes = bounded::read(&item.file, MAX_EMAIL_FILE, Accept::Files)
            .map_err(|e| Error::Invalid(format!("cannot send {}: {e}", item.file.display())))?;
        let reason_file = self.pending.join(format!("{}.reason", item.id));
        match mailer.send_raw(&item.info, &bytes) {
            Ok(()) => {
                fsutil::create_private_dir(&self.sent)?;
                let sent_file = self.sent.join(format!("{}.eml", item.id));
                self.files.rename(&item.file, &sent_file)?;
                let json = self.pending.join(format!("{}.json", item.id));
                if json.exists() {
                    self.files
                        .rename(&json, &self.sent.join(format!("{}.json", item.id)))?;
                }
                if reason_file.exists() {
                    std::fs::remove_file(&reason_file)?;
                }
                Ok(Queued {
                    file: sent_file,
                    failure: None,
                    ..item.clone()
                })
            }
            Err(reason) => {
                self.files.write(&reason_file, reason.as_bytes())?;
                Err(Error::NotSent {
                    to: item.info.to.clone(),
                    reason,
                })
            }
        }
    }

    /// Waits for (and holds, until dropped) the lock that makes one message go out once.
    /// The wait is bounded: the holder sends one message, within the SMTP timeouts.
    fn lock_for_sending(&self) -> Result<std::fs::File> {
        fsutil::create_private_dir(&self.pending)?;
        let mut options = std::fs::OpenOptions::new();
        options.create(true).append(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let file = options.open(self.pending.join(".send.lock"))?;
        #[cfg(unix)]
        {
            use std::os::unix::io::AsRawFd;
            // SAFETY: flock on a descriptor owned by `file`, which outlives the lock.
            if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX) } != 0 {
                return Err(std::io::Error::last_os_error().into());
            }
        }
        Ok(file)
    }

    /// Sends everything waiting; failures stay in the outbox with their reasons.
    /// `progress` hears of each message before it goes (number, total, the message).
    pub fn send_all(
        &self,
        mailer: &Mailer,
        mut progress: impl FnMut(usize, usize, &Queued),
    ) -> Result<SendReport> {
        let mut report = SendReport::default();
        let waiting = self.list()?;
        let total = waiting.len();
        for (n, item) in waiting.into_iter().enumerate() {
            if !mailer.is_down() {
                progress(n + 1, total, &item);
            }
            match self.send(mailer, &item) {
                Ok(sent) => report.sent.push(sent),
                Err(Error::NotSent { reason, .. }) => report.failed.push(Queued {
                    failure: Some(reason),
                    ..item
                }),
                Err(other) => return Err(other),
            }
        }
        Ok(report)
    }

    /// Queues `mail` and sends it at once; if sending fails it stays in the outbox with
    /// the reason, and the error says so.
    pub fn send_now(&self, mailer: &Mailer, mail: &Mail) -> Result<Queued> {
        let queued = self.queue(mail)?;
        self.send(mailer, &queued)
    }
}

/// The largest `.json` or `.reason` file read beside a message.
const MAX_META_FILE: u64 = 1024 * 1024;

fn read_dir(dir: &Path) -> Result<Vec<Queued>> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e.into()),
    };
    let mut out = Vec::new();
    for entry in entries {
        let path = entry?.path();
        if path.extension().and_then(|e| e.to_str()) != Some("eml") {
            continue;
        }
        let Some(id) = path
            .file_stem()
            .and_then(|s| s.to_str())
            .map(str::to_string)
        else {
            continue;
        };
        let meta_path = dir.join(format!("{id}.json"));
        let meta: Meta = bounded::read(&meta_path, MAX_META_FILE, Accept::Files)
            .map_err(|e| Error::Invalid(format!("cannot read {}: {e}", meta_path.display())))
            .and_then(|bytes| {
                serde_json::from_slice(&bytes).map_err(|e| {
                    Error::Invalid(format!(
                        "cannot read {}: {e}; remove it and its .eml, or fix it",
                        meta_path.display()
                    ))
                })
            })?;
        let failure = bounded::read_to_string(
            &dir.join(format!("{id}.reason")),
            MAX_META_FILE,
            Accept::Files,
        )
        .ok()
        .map(|r| r.trim().to_string())
        .filter(|r| !r.is_empty());
        out.push(Queued {
            id,
            file: path,
            info: meta.info,
            queued_at: meta.queued_at,
            failure,
        });
    }
    out.sort_by(|a, b| (&a.queued_at, &a.id).cmp(&(&b.queued_at, &b.id)));
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Lang;
    use crate::render::mail::tests::{campaign, sender};
    use crate::render::mail::{delivery_email_with, DeliveryText, Friend};

    #[test]
    fn delivery_email_waits_and_keeps_its_reason_when_sending_fails() {
        let dir = tempfile::tempdir().unwrap();
        let outbox = Outbox::with_dirs(dir.path().join("outbox"), dir.path().join("sent"));
        let mail = delivery_email_with(
            &sender(),
            &DeliveryText::of(&campaign(Lang::En), Lang::En),
            "mayor@example.gov",
            12,
            "d.pdf",
            b"%PDF".to_vec(),
        )
        .unwrap();
        // A port nobody listens on: bind, note it, close.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mailer = Mailer::from_url(&format!("smtp://127.0.0.1:{port}")).unwrap();
        let err = outbox.send_now(&mailer, &mail).unwrap_err();
        assert!(matches!(&err, Error::NotSent { to, .. } if to == "mayor@example.gov"));

        let waiting = outbox.list().unwrap();
        assert_eq!(waiting.len(), 1);
        assert_eq!(waiting[0].info.kind, MailKind::Delivery);
        assert!(waiting[0].failure.is_some());
        assert!(outbox.list_sent().unwrap().is_empty());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&waiting[0].file)
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    #[test]
    fn ids_never_collide() {
        let dir = tempfile::tempdir().unwrap();
        let outbox = Outbox::with_dirs(dir.path().join("outbox"), dir.path().join("sent"));
        let friend = Friend {
            name: None,
            email: "b@y.org".into(),
        };
        let mail = crate::render::mail::friend_invitation(
            &sender(),
            &campaign(Lang::Es),
            Lang::Es,
            &friend,
            "https://example.org",
            None,
        )
        .unwrap();
        let a = outbox.queue(&mail).unwrap();
        let b = outbox.queue(&mail).unwrap();
        assert_ne!(a.file, b.file);
        assert_eq!(outbox.list().unwrap().len(), 2);
    }
}
