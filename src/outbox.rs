//! The outbox: every email waits here as a private `.eml` file (with a `.json` beside it
//! saying who it is for and what it is about) until it is sent. Sent messages move to the
//! sent folder; a failed one stays, with a `.reason` file saying why. Nothing here prints.

use std::path::{Path, PathBuf};
use std::time::Duration;

use std::cell::RefCell;
use std::io;

use lettre::address::Envelope;
use lettre::transport::smtp::authentication::{Credentials, DEFAULT_MECHANISMS};
use lettre::transport::smtp::client::{SmtpConnection, TlsParameters};
use lettre::transport::smtp::extension::ClientId;
use lettre::Address;
use serde::{Deserialize, Serialize};

use crate::bounded::{self, Accept};
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

/// How long to wait for the server to accept the connection or answer, per step of each
/// message, unless the SMTP URL says `?timeout=SECONDS`.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// The largest `.eml` sent (mail servers refuse far smaller ones; this only bounds memory).
pub const MAX_EMAIL_FILE: u64 = 200 * 1024 * 1024;

/// How the connection to the server is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Security {
    /// `smtps://`: TLS from the first byte.
    Tls,
    /// `smtp://...?tls=required`: STARTTLS, or nothing is sent.
    StartTlsRequired,
    /// `smtp://` to a server on another machine: STARTTLS when the server offers it. A
    /// password is then sent only once the connection is encrypted.
    StartTlsIfOffered,
    /// No TLS: `smtp://` to this machine (loopback), or `?tls=none`, which the URL must
    /// say explicitly to send a password to another machine in clear text.
    None,
}

/// An SMTP URL, read: where, how protected, who logs in, how long to wait.
/// `smtps://user:pass@host:465`, `smtp://user:pass@host:587`, `smtp://host:25?tls=none`,
/// `...?timeout=30`.
#[derive(Clone, PartialEq)]
pub struct SmtpSettings {
    pub host: String,
    pub port: u16,
    pub security: Security,
    /// `?tls=none` given: the organizer accepts clear text.
    pub clear_text_ok: bool,
    pub user: Option<String>,
    password: Option<String>,
    /// The name to greet the server with (the URL's path), else this machine's name.
    pub hello: Option<String>,
    pub timeout: Duration,
}

impl std::fmt::Debug for SmtpSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpSettings")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("security", &self.security)
            .field("clear_text_ok", &self.clear_text_ok)
            .field("user", &self.user)
            .field("password", &self.password.as_ref().map(|_| "***"))
            .field("timeout", &self.timeout)
            .finish()
    }
}

fn url_error(why: impl std::fmt::Display) -> Error {
    Error::Invalid(format!(
        "the SMTP URL is not usable ({why}); it looks like smtps://user:password@smtp.example.org:465"
    ))
}

impl SmtpSettings {
    /// Reads an SMTP URL. Pure: nothing connects.
    pub fn parse(text: &str) -> Result<SmtpSettings> {
        let url = url::Url::parse(text.trim()).map_err(url_error)?;
        let host = match url.host() {
            Some(url::Host::Ipv6(ip)) => ip.to_string(),
            Some(host) => host.to_string(),
            None => return Err(url_error("no server name")),
        };
        let mut tls: Option<String> = None;
        let mut timeout = DEFAULT_TIMEOUT;
        for (key, value) in url.query_pairs() {
            match key.as_ref() {
                "tls" => tls = Some(value.to_ascii_lowercase()),
                "timeout" => {
                    let secs: u64 = value
                        .parse()
                        .ok()
                        .filter(|s| (1..=600).contains(s))
                        .ok_or_else(|| {
                            url_error(format!(
                                "timeout={value}: give the seconds to wait, 1 to 600"
                            ))
                        })?;
                    timeout = Duration::from_secs(secs);
                }
                other => {
                    return Err(url_error(format!(
                        "unknown parameter {other:?}; known are tls=required|opportunistic|none and timeout=SECONDS"
                    )))
                }
            }
        }
        let decode = |s: &str| {
            percent_encoding::percent_decode_str(s)
                .decode_utf8()
                .map(|s| s.into_owned())
                .map_err(|_| url_error("the user name or password is not UTF-8 once decoded"))
        };
        let user = match url.username() {
            "" => None,
            u => Some(decode(u)?),
        };
        let password = url.password().map(decode).transpose()?;
        if password.is_some() && user.is_none() {
            return Err(url_error("a password without a user name"));
        }
        let loopback = is_loopback_host(&host);
        let (security, clear_text_ok, default_port) = match (url.scheme(), tls.as_deref()) {
            ("smtps", None) => (Security::Tls, false, 465),
            ("smtps", Some(t)) => {
                return Err(url_error(format!(
                    "smtps:// is always TLS: drop ?tls={t}, or use smtp://"
                )))
            }
            ("smtp", Some("required")) => (Security::StartTlsRequired, false, 587),
            ("smtp", Some("none")) => (Security::None, true, 25),
            // On this machine nothing crosses a network, and local relays often offer
            // STARTTLS with a certificate nobody can check: plain, as always.
            ("smtp", None) if loopback => (Security::None, false, 25),
            ("smtp", None) => (Security::StartTlsIfOffered, false, 25),
            ("smtp", Some("opportunistic")) => (Security::StartTlsIfOffered, false, 587),
            ("smtp", Some(t)) => {
                return Err(url_error(format!(
                    "tls={t}: use tls=required, tls=opportunistic or tls=none"
                )))
            }
            (scheme, _) => {
                return Err(url_error(format!(
                    "{scheme}:// is not SMTP: use smtps:// or smtp://"
                )))
            }
        };
        let hello = Some(url.path().trim_matches('/'))
            .filter(|p| !p.is_empty())
            .map(str::to_string);
        Ok(SmtpSettings {
            port: url.port().unwrap_or(default_port),
            host,
            security,
            clear_text_ok,
            user,
            password,
            hello,
            timeout,
        })
    }

    /// `host:port`, for messages.
    pub fn server(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }

    /// Whether the server runs on this machine (nothing crosses a network).
    pub fn is_loopback(&self) -> bool {
        is_loopback_host(&self.host)
    }

    /// Whether the password may be sent on a connection that is (or is not) encrypted:
    /// always when encrypted or on loopback; in clear text to another machine only when
    /// the URL says `?tls=none`. The refusal says why and what to do.
    pub fn may_send_password(&self, encrypted: bool) -> std::result::Result<(), String> {
        if self.user.is_none() || encrypted || self.clear_text_ok || self.is_loopback() {
            return Ok(());
        }
        Err(format!(
            "the server at {} does not offer STARTTLS, so your password would cross the network \
             in clear text: nothing was sent. Use smtps:// (usually port 465) if the server has it, \
             or add ?tls=none to the SMTP URL to send in clear text anyway",
            self.server()
        ))
    }
}

/// `localhost` or a loopback address, as written in the URL (no DNS lookup: a name that
/// merely resolves to 127.0.0.1 is not trusted as local).
fn is_loopback_host(host: &str) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

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

    fn send_raw(&self, info: &MailInfo, bytes: &[u8]) -> std::result::Result<(), String> {
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

    fn parse(url: &str) -> SmtpSettings {
        SmtpSettings::parse(url).unwrap_or_else(|e| panic!("{url}: {e}"))
    }

    #[test]
    fn smtp_urls_read_into_security_ports_and_timeouts() {
        let s = parse("smtps://ana%40x.org:p%40ss@smtp.example.org");
        assert_eq!(
            (s.security, s.port, s.user.as_deref()),
            (Security::Tls, 465, Some("ana@x.org"))
        );
        assert_eq!(s.password.as_deref(), Some("p@ss"));
        assert_eq!(s.timeout, DEFAULT_TIMEOUT);
        assert!(!format!("{s:?}").contains("p@ss"), "no password in Debug");

        let s = parse("smtp://ana:pw@smtp.example.org:587");
        assert_eq!((s.security, s.port), (Security::StartTlsIfOffered, 587));
        let s = parse("smtp://smtp.example.org");
        assert_eq!((s.security, s.port), (Security::StartTlsIfOffered, 25));
        let s = parse("smtp://ana:pw@smtp.example.org?tls=required&timeout=3");
        assert_eq!(
            (s.security, s.port, s.timeout),
            (Security::StartTlsRequired, 587, Duration::from_secs(3))
        );
        let s = parse("smtp://ana:pw@smtp.example.org?tls=none");
        assert!(s.security == Security::None && s.clear_text_ok);
        // A relay on this machine stays plain: nothing crosses a network.
        for local in [
            "smtp://127.0.0.1:2525",
            "smtp://localhost",
            "smtp://[::1]:25",
        ] {
            assert_eq!(parse(local).security, Security::None, "{local}");
            assert!(parse(local).is_loopback(), "{local}");
        }
        assert_eq!(parse("smtp://[::1]:25").server(), "[::1]:25");
        let s = parse("smtp://mail.example.org/campaign.example.org");
        assert_eq!(s.hello.as_deref(), Some("campaign.example.org"));

        for bad in [
            "smtp://host?tls=nonee",
            "smtp://host?timeout=0",
            "smtp://host?timeout=ten",
            "smtp://host?tiemout=5",
            "smtps://host?tls=none",
            "http://host",
            "smtp://:pw@host",
            "not a url",
        ] {
            assert!(SmtpSettings::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_password_crosses_a_network_only_encrypted_or_when_the_url_says_so() {
        let remote = parse("smtp://ana:pw@192.0.2.1:587");
        assert!(remote.may_send_password(true).is_ok());
        let refused = remote.may_send_password(false).unwrap_err();
        assert!(refused.contains("does not offer STARTTLS"), "{refused}");
        assert!(refused.contains("?tls=none"), "{refused}");
        assert!(refused.contains("192.0.2.1:587"), "{refused}");
        // A name that resolves to this machine is not trusted as local: only what is written.
        assert!(parse("smtp://ana:pw@mail.localhost.example.org")
            .may_send_password(false)
            .is_err());
        assert!(parse("smtp://ana:pw@192.0.2.1?tls=none")
            .may_send_password(false)
            .is_ok());
        assert!(parse("smtp://ana:pw@127.0.0.1")
            .may_send_password(false)
            .is_ok());
        assert!(
            parse("smtp://192.0.2.1").may_send_password(false).is_ok(),
            "no password"
        );
    }

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
