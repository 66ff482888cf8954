//! The outbox: every email waits here as a private `.eml` file (with a `.json` beside it
//! saying who it is for and what it is about) until it is sent. Sent messages move to the
//! sent folder; a failed one stays, with a `.reason` file saying why. Nothing here prints.

use std::path::{Path, PathBuf};
use std::time::Duration;

use lettre::address::Envelope;
use lettre::{Address, SmtpTransport, Transport};
use serde::{Deserialize, Serialize};

use crate::config::Account;
use crate::error::{Error, Result};
use crate::fsutil::{self, Files};
use crate::paths::Paths;
use crate::render::mail::{Mail, MailInfo, MailKind, Sender};

/// The environment variable that overrides the account's SMTP URL.
pub const SMTP_URL_ENV: &str = "CAMPAIGN_SMTP_URL";

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

/// An SMTP connection setting (lettre URL form: `smtp://host:25`, `smtps://user:pass@host`,
/// `smtp://host:587?tls=required`), TLS through rustls.
pub struct Mailer {
    transport: SmtpTransport,
}

impl Mailer {
    pub fn from_url(url: &str) -> Result<Mailer> {
        let transport = SmtpTransport::from_url(url)
            .map_err(|e| {
                Error::Invalid(format!(
                    "the SMTP URL is not usable ({e}); it looks like smtps://user:password@smtp.example.org:465"
                ))
            })?
            // Bounded: a server that never answers must not hang the organizer's terminal.
            .timeout(Some(Duration::from_secs(30)))
            .build();
        Ok(Mailer { transport })
    }

    /// The configured server: `$CAMPAIGN_SMTP_URL` when set (it overrides the account, for
    /// a one-off relay), else the account's `smtp_url`.
    pub fn configured(account: &Account) -> Result<Mailer> {
        let from_env = std::env::var(SMTP_URL_ENV)
            .ok()
            .filter(|v| !v.trim().is_empty());
        match from_env.or_else(|| account.smtp_url.clone()) {
            Some(url) => Mailer::from_url(url.trim()),
            None => Err(Error::Usage(format!(
                "no SMTP server to send through: set one with `campaign account --smtp-url smtps://user:password@smtp.example.org:465` (or ${SMTP_URL_ENV}); without --send, emails wait in the outbox"
            ))),
        }
    }

    fn send_raw(&self, info: &MailInfo, bytes: &[u8]) -> std::result::Result<(), String> {
        let parse = |a: &str| {
            a.parse::<Address>()
                .map_err(|e| format!("bad address {a:?}: {e}"))
        };
        let envelope = Envelope::new(Some(parse(&info.from)?), vec![parse(&info.to)?])
            .map_err(|e| e.to_string())?;
        self.transport
            .send_raw(&envelope, bytes)
            .map(|_| ())
            .map_err(|e| e.to_string())
    }
}

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
        let queued_at = crate::store::now();
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
    pub fn send(&self, mailer: &Mailer, item: &Queued) -> Result<Queued> {
        let bytes = std::fs::read(&item.file)?;
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

    /// Sends everything waiting; failures stay in the outbox with their reasons.
    pub fn send_all(&self, mailer: &Mailer) -> Result<SendReport> {
        let mut report = SendReport::default();
        for item in self.list()? {
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

/// What became of one message a command wrote.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Posted {
    pub to: String,
    /// The `.eml` file: in the outbox, or in the sent folder once sent.
    pub file: PathBuf,
    pub sent: bool,
    /// Why sending failed (the message stays in the outbox).
    pub failure: Option<String>,
}

/// Mail from the organizer: who sends, the outbox, and with `--send` the SMTP server.
/// Made before anything is written, so a missing account or server setting costs nothing.
pub struct Postman {
    pub sender: Sender,
    mailer: Option<Mailer>,
    outbox: Outbox,
}

impl Postman {
    pub fn new(paths: &Paths, account: &Account, send_now: bool) -> Result<Postman> {
        let sender = Sender::from_account(account)?;
        let mailer = if send_now {
            Some(Mailer::configured(account)?)
        } else {
            None
        };
        Ok(Postman {
            sender,
            mailer,
            outbox: Outbox::new(paths),
        })
    }

    /// Whether messages go out at once (`--send`) or wait in the outbox.
    pub fn sends_now(&self) -> bool {
        self.mailer.is_some()
    }

    pub fn outbox(&self) -> &Outbox {
        &self.outbox
    }

    /// Queues `mail` and, with `--send`, sends it at once. A failed send is not an error
    /// here: the message stays in the outbox and `Posted::failure` says why.
    pub fn post(&self, mail: &Mail) -> Result<Posted> {
        let queued = self.outbox.queue(mail)?;
        let to = mail.info.to.clone();
        let Some(mailer) = &self.mailer else {
            return Ok(Posted {
                to,
                file: queued.file,
                sent: false,
                failure: None,
            });
        };
        match self.outbox.send(mailer, &queued) {
            Ok(sent) => Ok(Posted {
                to,
                file: sent.file,
                sent: true,
                failure: None,
            }),
            Err(Error::NotSent { reason, .. }) => Ok(Posted {
                to,
                file: queued.file,
                sent: false,
                failure: Some(reason),
            }),
            Err(other) => Err(other),
        }
    }
}

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
        let meta: Meta = std::fs::read(&meta_path)
            .map_err(Error::from)
            .and_then(|bytes| {
                serde_json::from_slice(&bytes).map_err(|e| {
                    Error::Invalid(format!(
                        "cannot read {}: {e}; remove it and its .eml, or fix it",
                        meta_path.display()
                    ))
                })
            })?;
        let failure = std::fs::read_to_string(dir.join(format!("{id}.reason")))
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
    use crate::render::mail::{delivery_email_with, Friend};

    #[test]
    fn delivery_email_waits_and_keeps_its_reason_when_sending_fails() {
        let dir = tempfile::tempdir().unwrap();
        let outbox = Outbox::with_dirs(dir.path().join("outbox"), dir.path().join("sent"));
        let mail = delivery_email_with(
            &sender(),
            &campaign(Lang::En),
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
