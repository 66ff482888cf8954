//! Sending one message through one SMTP server, as the SMTP URL (see `smtp_url`) says.

use std::cell::RefCell;
use std::io;

use lettre::address::Envelope;
use lettre::transport::smtp::authentication::{Credentials, DEFAULT_MECHANISMS};
use lettre::transport::smtp::client::{SmtpConnection, TlsParameters};
use lettre::transport::smtp::extension::ClientId;
use lettre::Address;

use super::smtp_url::{url_error, Security, SmtpSettings};
use crate::config::Account;
use crate::error::{Error, Result};
use crate::render::mail::MailInfo;

/// The environment variable that overrides the account's SMTP URL.
pub const SMTP_URL_ENV: &str = "CAMPAIGN_SMTP_URL";

/// Sends through one SMTP server, one connection per message, every step bounded by the
/// timeout. Built on lettre's `SmtpConnection` rather than its transport, so that nothing
/// is authenticated before the connection is known to be encrypted (lettre's
/// opportunistic mode logs in in clear text when the server offers no STARTTLS).
///
/// Once the server itself fails (silence, refused connection, TLS, login), the messages
/// after it are not tried: they would fail the same way, each after a full timeout.
pub struct Mailer {
    settings: SmtpSettings,
    tls: Option<TlsParameters>,
    hello: ClientId,
    server_down: RefCell<Option<String>>,
}

impl Mailer {
    pub fn from_url(url: &str) -> Result<Mailer> {
        let settings = SmtpSettings::parse(url)?;
        let tls = match settings.security {
            Security::None => None,
            _ => Some(TlsParameters::new(settings.host.clone()).map_err(url_error)?),
        };
        let hello = settings
            .hello
            .clone()
            .map(ClientId::Domain)
            .unwrap_or_default();
        Ok(Mailer {
            settings,
            tls,
            hello,
            server_down: RefCell::new(None),
        })
    }

    pub fn settings(&self) -> &SmtpSettings {
        &self.settings
    }

    /// Whether the server already failed (the next messages will not be tried).
    pub fn is_down(&self) -> bool {
        self.server_down.borrow().is_some()
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

    /// A failure of the server itself, in words; later messages will not try it.
    fn server_failed(&self, e: &lettre::transport::smtp::Error) -> String {
        let server = self.settings.server();
        let reason = match io_kind(e) {
            Some(io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock) => format!(
                "the server at {server} did not answer in {} s (check the host and port, or wait longer with ?timeout=SECONDS in the SMTP URL)",
                self.settings.timeout.as_secs()
            ),
            Some(io::ErrorKind::ConnectionRefused) => format!(
                "nothing answers at {server} (connection refused): check the host and port in the SMTP URL"
            ),
            _ if e.is_tls() => format!("TLS with the server at {server} failed: {e}"),
            _ if e.is_permanent() || e.is_transient() => {
                format!("the server at {server} refused: {e}")
            }
            _ => format!("the server at {server}: {e}"),
        };
        self.down(reason)
    }

    fn down(&self, reason: String) -> String {
        *self.server_down.borrow_mut() = Some(reason.clone());
        reason
    }

    fn refuse(&self, conn: &mut SmtpConnection, reason: String) -> String {
        let _ = conn.quit();
        self.down(reason)
    }

    fn connect(&self) -> std::result::Result<SmtpConnection, String> {
        let s = &self.settings;
        let wrapper = match s.security {
            Security::Tls => self.tls.as_ref(),
            _ => None,
        };
        let mut conn = SmtpConnection::connect(
            (s.host.as_str(), s.port),
            Some(s.timeout),
            &self.hello,
            wrapper,
            None,
        )
        .map_err(|e| self.server_failed(&e))?;
        match (s.security, &self.tls) {
            (Security::StartTlsRequired, Some(tls)) => {
                if !conn.can_starttls() {
                    return Err(self.refuse(
                        &mut conn,
                        format!(
                            "the server at {} does not offer STARTTLS, which ?tls=required asks for: nothing was sent",
                            s.server()
                        ),
                    ));
                }
                conn.starttls(tls, &self.hello)
                    .map_err(|e| self.server_failed(&e))?;
            }
            (Security::StartTlsIfOffered, Some(tls)) if conn.can_starttls() => {
                conn.starttls(tls, &self.hello)
                    .map_err(|e| self.server_failed(&e))?;
            }
            _ => {}
        }
        if let (Some(user), Some(password)) = (&s.user, &s.password) {
            // The one place a password leaves this machine: never in clear text to
            // another machine unless the URL says so.
            if let Err(reason) = s.may_send_password(conn.is_encrypted()) {
                return Err(self.refuse(&mut conn, reason));
            }
            let credentials = Credentials::new(user.clone(), password.clone());
            conn.auth(DEFAULT_MECHANISMS, &credentials)
                .map_err(|e| self.server_failed(&e))?;
        }
        Ok(conn)
    }

    pub(super) fn send_raw(
        &self,
        info: &MailInfo,
        bytes: &[u8],
    ) -> std::result::Result<(), String> {
        if let Some(reason) = self.server_down.borrow().as_ref() {
            return Err(format!("not tried, as the message before failed: {reason}"));
        }
        let parse = |a: &str| {
            a.parse::<Address>()
                .map_err(|e| format!("bad address {a:?}: {e}"))
        };
        let envelope = Envelope::new(Some(parse(&info.from)?), vec![parse(&info.to)?])
            .map_err(|e| e.to_string())?;
        let mut conn = self.connect()?;
        match conn.send(&envelope, bytes) {
            Ok(_) => {
                let _ = conn.quit();
                Ok(())
            }
            // Silence or a dropped connection mid-message: the server, not this message.
            Err(e) if io_kind(&e).is_some() => Err(self.server_failed(&e)),
            Err(e) => {
                let _ = conn.quit();
                Err(format!(
                    "the server at {} refused this message: {e}",
                    self.settings.server()
                ))
            }
        }
    }
}

/// The I/O error kind under a lettre error, if it is one.
fn io_kind(e: &lettre::transport::smtp::Error) -> Option<io::ErrorKind> {
    let mut source = std::error::Error::source(e);
    while let Some(err) = source {
        if let Some(io) = err.downcast_ref::<io::Error>() {
            return Some(io.kind());
        }
        source = err.source();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::mail::MailKind;

    #[test]
    fn a_server_that_accepts_and_never_answers_times_out_and_later_messages_wait() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let held = std::thread::spawn(move || listener.accept().map(|(s, _)| s));
        let mailer = Mailer::from_url(&format!("smtp://127.0.0.1:{port}?timeout=1")).unwrap();
        let info = MailInfo {
            kind: MailKind::Invitation,
            from: "ana@example.org".into(),
            to: "b@y.org".into(),
            subject: "s".into(),
            campaign: None,
        };
        let first = mailer
            .send_raw(&info, b"Subject: s\r\n\r\nhi\r\n")
            .unwrap_err();
        assert!(first.contains("did not answer in 1 s"), "{first}");
        assert!(mailer.is_down());
        let second = mailer.send_raw(&info, b"x").unwrap_err();
        assert!(second.starts_with("not tried"), "{second}");
        drop(held.join());
    }
}
