//! Mail from the organizer: reading the SMTP URL ([`smtp_url`]), sending through the
//! server ([`transport`]), and the outbox every message waits in until it is sent
//! ([`outbox`]). [`Postman`] puts them together for a command that writes mail.
//! The messages themselves are composed in `render::mail`. Nothing here prints.

use std::path::PathBuf;

use serde::Serialize;

use crate::config::Account;
use crate::error::{Error, Result};
use crate::paths::Paths;
use crate::render::mail::{Mail, MailFrom};

pub mod outbox;
pub mod smtp_url;
pub mod transport;

pub use outbox::{Outbox, Queued, SendReport};
pub use transport::Mailer;

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
    pub sender: MailFrom,
    mailer: Option<Mailer>,
    outbox: Outbox,
}

impl Postman {
    pub fn new(paths: &Paths, account: &Account, send_now: bool) -> Result<Postman> {
        let sender = MailFrom::from_account(account)?;
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
