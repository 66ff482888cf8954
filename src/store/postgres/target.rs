//! Where a PostgreSQL database is: `postgres://USER:PASSWORD@HOST:PORT/DB?sslmode=...`
//! (`postgresql://` too), read once and shown with its password masked. Pure: reading a
//! URL connects to nothing; the password from `PGPASSWORD` or `~/.pgpass` is looked up
//! only when connecting ([`PgTarget::password`]).

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::error::{Error, Result};

/// How long to wait for the server before saying it does not answer, unless the URL
/// says `connect_timeout=SECONDS`.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// `sslmode`, with PostgreSQL's meanings; see [`PgTarget::sslmode`] for the default.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SslMode {
    /// No TLS.
    Disable,
    /// TLS when the server offers it, else plain (this machine only, see `parse`).
    Prefer,
    /// TLS, the server's certificate not checked (unless `sslrootcert` is given: then as
    /// `VerifyCa`, as libpq does).
    Require,
    /// TLS, the certificate signed by a trusted authority; any host name.
    VerifyCa,
    /// TLS, the certificate signed by a trusted authority and naming the host.
    VerifyFull,
}

impl SslMode {
    fn parse(text: &str) -> Option<SslMode> {
        Some(match text {
            "disable" => SslMode::Disable,
            "prefer" => SslMode::Prefer,
            "require" => SslMode::Require,
            "verify-ca" => SslMode::VerifyCa,
            "verify-full" => SslMode::VerifyFull,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            SslMode::Disable => "disable",
            SslMode::Prefer => "prefer",
            SslMode::Require => "require",
            SslMode::VerifyCa => "verify-ca",
            SslMode::VerifyFull => "verify-full",
        }
    }
}

/// The server: a host name or address, or the folder of a Unix socket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Host {
    Tcp(String),
    Socket(PathBuf),
}

/// A PostgreSQL database URL, read. `Display` and `Debug` never show the password.
#[derive(Clone, PartialEq, Eq)]
pub struct PgTarget {
    scheme: &'static str,
    pub host: Host,
    pub port: u16,
    /// As written in the URL (see [`PgTarget::user`] for the one used).
    url_user: Option<String>,
    url_password: Option<String>,
    /// As written in the URL (the default is the user name, as in libpq).
    url_dbname: Option<String>,
    sslmode: SslMode,
    /// `sslmode=` was written (a default is never shown).
    sslmode_given: bool,
    pub sslrootcert: Option<PathBuf>,
    pub connect_timeout: Duration,
    timeout_given: bool,
    pub application_name: Option<String>,
}

impl fmt::Debug for PgTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PgTarget({self})")
    }
}

/// What a URL part escapes when shown: everything but RFC 3986's unreserved characters
/// (so `ana_lopez` reads as typed).
const SHOWN_AS_IS: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// `postgres://ana:***@db.example.org:5432/campaigns?sslmode=require`: what messages say.
impl fmt::Display for PgTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.write_url(f, None)
    }
}

/// The URL of another user: `login` is (user, password), the password written out.
struct WithLogin<'a>(&'a PgTarget, (&'a str, &'a str));

impl fmt::Display for WithLogin<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.write_url(f, Some(self.1))
    }
}

impl PgTarget {
    /// The same database for `user`, with `password` in the URL (for `campaign team add`
    /// to hand over once): host, port, database and TLS settings kept; this URL's own
    /// user and password never in it.
    pub fn url_with_login(&self, user: &str, password: &str) -> String {
        WithLogin(self, (user, password)).to_string()
    }

    /// The same database for `user`, without a password (what an invitation may say).
    pub fn url_for_user(&self, user: &str) -> String {
        let mut other = self.clone();
        other.url_user = Some(user.to_string());
        other.url_password = None;
        other.to_string()
    }

    fn write_url(&self, f: &mut fmt::Formatter<'_>, login: Option<(&str, &str)>) -> fmt::Result {
        let enc = |s: &str| percent_encoding::utf8_percent_encode(s, SHOWN_AS_IS).to_string();
        write!(f, "{}://", self.scheme)?;
        if let Some((user, password)) = login {
            write!(f, "{}:{}@", enc(user), enc(password))?;
        } else if let Some(user) = &self.url_user {
            write!(f, "{}", enc(user))?;
            if self.url_password.is_some() {
                f.write_str(":***")?;
            }
            f.write_str("@")?;
        }
        match &self.host {
            Host::Tcp(host) if host.contains(':') => write!(f, "[{host}]:{}", self.port)?,
            Host::Tcp(host) => write!(f, "{host}:{}", self.port)?,
            Host::Socket(_) => {}
        }
        f.write_str("/")?;
        if let Some(db) = &self.url_dbname {
            f.write_str(&enc(db))?;
        }
        let mut params = Vec::new();
        if let Host::Socket(dir) = &self.host {
            params.push(format!("host={}", enc(&dir.to_string_lossy())));
            if self.port != 5432 {
                params.push(format!("port={}", self.port));
            }
        }
        if self.sslmode_given {
            params.push(format!("sslmode={}", self.sslmode.as_str()));
        }
        if let Some(root) = &self.sslrootcert {
            params.push(format!("sslrootcert={}", enc(&root.to_string_lossy())));
        }
        if self.timeout_given {
            params.push(format!(
                "connect_timeout={}",
                self.connect_timeout.as_secs()
            ));
        }
        if let Some(name) = &self.application_name {
            params.push(format!("application_name={}", enc(name)));
        }
        if !params.is_empty() {
            write!(f, "?{}", params.join("&"))?;
        }
        Ok(())
    }
}

fn url_error(why: impl fmt::Display) -> Error {
    Error::Usage(format!(
        "the database URL is not usable ({why}); it looks like \
         postgres://USER@HOST:5432/DATABASE?sslmode=require"
    ))
}

/// The URL parameters we read (libpq's names); any other is refused, so a mistyped
/// `sslmod=` is not silently ignored.
const KNOWN: &str = "sslmode, sslrootcert, connect_timeout, application_name, host, port";

impl PgTarget {
    /// Whether `text` is meant as a PostgreSQL URL (`postgres://`, `postgresql://`, any case).
    pub fn is_url(text: &str) -> bool {
        let lower = text.trim_start().to_ascii_lowercase();
        lower.starts_with("postgres://") || lower.starts_with("postgresql://")
    }

    /// Reads a URL. Errors never quote it (it may hold a password).
    pub fn parse(text: &str) -> Result<PgTarget> {
        let url = url::Url::parse(text.trim()).map_err(url_error)?;
        let scheme = match url.scheme() {
            "postgres" => "postgres",
            "postgresql" => "postgresql",
            _ => return Err(url_error("it must start with postgres:// or postgresql://")),
        };
        let decode = |s: &str, what: &str| {
            percent_encoding::percent_decode_str(s)
                .decode_utf8()
                .map(|s| s.into_owned())
                .map_err(|_| url_error(format!("the {what} is not UTF-8 once decoded")))
        };
        let url_user = match url.username() {
            "" => None,
            u => Some(decode(u, "user name")?),
        };
        let url_password = url.password().map(|p| decode(p, "password")).transpose()?;
        if url_password.is_some() && url_user.is_none() {
            return Err(url_error("a password without a user name"));
        }
        let mut host = match url.host() {
            Some(url::Host::Ipv6(ip)) => Some(Host::Tcp(ip.to_string())),
            Some(url::Host::Ipv4(ip)) => Some(Host::Tcp(ip.to_string())),
            Some(url::Host::Domain(name)) if !name.is_empty() => {
                let name = decode(name, "host name")?;
                Some(if name.starts_with('/') {
                    Host::Socket(PathBuf::from(name))
                } else {
                    Host::Tcp(name)
                })
            }
            _ => None,
        };
        let mut port = url.port();
        let path = url.path().trim_start_matches('/');
        if path.contains('/') {
            return Err(url_error("the database name cannot hold a '/'"));
        }
        let url_dbname = match path {
            "" => None,
            db => Some(decode(db, "database name")?),
        };
        let mut sslmode = None;
        let mut sslrootcert = None;
        let mut connect_timeout = None;
        let mut application_name = None;
        for (key, value) in url.query_pairs() {
            match key.as_ref() {
                "sslmode" => {
                    sslmode = Some(SslMode::parse(&value.to_ascii_lowercase()).ok_or_else(|| {
                        url_error(format!(
                            "sslmode={value}: use disable, prefer, require, verify-ca or verify-full"
                        ))
                    })?)
                }
                "sslrootcert" => sslrootcert = Some(PathBuf::from(value.as_ref())),
                "connect_timeout" => {
                    let secs: u64 = value
                        .trim()
                        .parse()
                        .ok()
                        .filter(|s| (1..=600).contains(s))
                        .ok_or_else(|| {
                            url_error(format!(
                                "connect_timeout={value}: give the seconds to wait, 1 to 600"
                            ))
                        })?;
                    connect_timeout = Some(Duration::from_secs(secs));
                }
                "application_name" => application_name = Some(value.into_owned()),
                "host" if value.starts_with('/') => {
                    host = Some(Host::Socket(PathBuf::from(value.as_ref())))
                }
                "host" if !value.is_empty() && !value.contains(',') => {
                    host = Some(Host::Tcp(value.into_owned()))
                }
                "host" => {
                    return Err(url_error(
                        "host= takes one server name, or the folder of its Unix socket",
                    ))
                }
                "port" => {
                    port = Some(value.trim().parse().map_err(|_| {
                        url_error(format!("port={value} is not a port number"))
                    })?)
                }
                "password" => {
                    return Err(url_error(
                        "give the password as postgres://USER:PASSWORD@HOST/DB, or in \
                         PGPASSWORD or ~/.pgpass, not as a parameter",
                    ))
                }
                other => {
                    return Err(url_error(format!(
                        "unknown parameter {other:?}; known are {KNOWN}"
                    )))
                }
            }
        }
        let host = host.unwrap_or_else(default_socket);
        let local = match &host {
            Host::Socket(_) => true,
            Host::Tcp(name) => is_loopback_host(name),
        };
        let sslmode_given = sslmode.is_some();
        // Another machine: the connection carries signers (and maybe a password), so it
        // is encrypted unless the URL says `sslmode=disable`. libpq's `prefer` would fall
        // back to clear text without a word; here it means `require` there.
        let sslmode = match (sslmode, local) {
            (None, true) => SslMode::Prefer,
            (None, false) | (Some(SslMode::Prefer), false) => SslMode::Require,
            (Some(SslMode::Require), _) if sslrootcert.is_some() => SslMode::VerifyCa,
            (Some(mode), _) => mode,
        };
        Ok(PgTarget {
            scheme,
            host,
            port: port.unwrap_or(5432),
            url_user,
            url_password,
            url_dbname,
            sslmode,
            sslmode_given,
            sslrootcert,
            timeout_given: connect_timeout.is_some(),
            connect_timeout: connect_timeout.unwrap_or(DEFAULT_CONNECT_TIMEOUT),
            application_name,
        })
    }

    /// The TLS mode used (after the defaults: see `parse`).
    pub fn sslmode(&self) -> SslMode {
        self.sslmode
    }

    /// `host:port` (or the socket), for messages.
    pub fn server(&self) -> String {
        match &self.host {
            Host::Tcp(host) if host.contains(':') => format!("[{host}]:{}", self.port),
            Host::Tcp(host) => format!("{host}:{}", self.port),
            Host::Socket(dir) => {
                format!("the Unix socket {}/.s.PGSQL.{}", dir.display(), self.port)
            }
        }
    }

    /// The user to log in as: the URL's, else `$PGUSER`, else this account's name (as
    /// libpq does).
    pub fn user(&self) -> String {
        self.url_user
            .clone()
            .or_else(|| env_text("PGUSER"))
            .or_else(os_user)
            .unwrap_or_else(|| "postgres".into())
    }

    /// The database: the URL's, else the user name (as libpq does).
    pub fn dbname(&self) -> String {
        self.url_dbname.clone().unwrap_or_else(|| self.user())
    }

    /// The password: the URL's, else `$PGPASSWORD`, else the first matching line of the
    /// password file (`$PGPASSFILE`, else `~/.pgpass`). A password file that others may
    /// read is not used, as libpq does; the returned note says so, for an error message.
    pub fn password(&self) -> (Option<String>, Option<String>) {
        if let Some(p) = &self.url_password {
            return (Some(p.clone()), None);
        }
        if let Some(p) = std::env::var_os("PGPASSWORD").filter(|p| !p.is_empty()) {
            return (Some(p.to_string_lossy().into_owned()), None);
        }
        let Some(file) = pgpass_file() else {
            return (None, None);
        };
        let host = match &self.host {
            Host::Tcp(h) => h.clone(),
            // libpq matches socket connections against `localhost`.
            Host::Socket(_) => "localhost".into(),
        };
        match read_pgpass(&file) {
            Ok(Some(text)) => (
                pgpass_lookup(&text, &host, self.port, &self.dbname(), &self.user()),
                None,
            ),
            Ok(None) => (None, None),
            Err(note) => (None, Some(note)),
        }
    }

    /// Whether the server is on this machine (a Unix socket or a loopback address).
    pub fn is_local(&self) -> bool {
        match &self.host {
            Host::Socket(_) => true,
            Host::Tcp(name) => is_loopback_host(name),
        }
    }
}

fn env_text(name: &str) -> Option<String> {
    std::env::var_os(name)
        .filter(|v| !v.is_empty())
        .map(|v| v.to_string_lossy().into_owned())
}

/// This account's login name.
fn os_user() -> Option<String> {
    #[cfg(unix)]
    {
        // SAFETY: getpwuid returns a pointer into static storage or null; the name is
        // copied out at once.
        unsafe {
            let pw = libc::getpwuid(libc::geteuid());
            if !pw.is_null() && !(*pw).pw_name.is_null() {
                let name = std::ffi::CStr::from_ptr((*pw).pw_name);
                return Some(name.to_string_lossy().into_owned());
            }
        }
    }
    env_text("USER").or_else(|| env_text("LOGNAME"))
}

/// Where libpq looks when the URL names no host: `$PGHOST` if it is a folder, else the
/// Debian socket folder, else `/tmp`.
fn default_socket() -> Host {
    if let Some(host) = env_text("PGHOST") {
        return if host.starts_with('/') {
            Host::Socket(host.into())
        } else {
            Host::Tcp(host)
        };
    }
    let debian = Path::new("/var/run/postgresql");
    Host::Socket(if debian.is_dir() {
        debian.to_path_buf()
    } else {
        PathBuf::from("/tmp")
    })
}

/// `localhost` or a loopback address, as written (no DNS lookup).
pub fn is_loopback_host(host: &str) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

fn pgpass_file() -> Option<PathBuf> {
    if let Some(file) = std::env::var_os("PGPASSFILE").filter(|v| !v.is_empty()) {
        return Some(file.into());
    }
    std::env::var_os("HOME")
        .filter(|v| !v.is_empty())
        .map(|home| Path::new(&home).join(".pgpass"))
}

/// The password file's text; `Ok(None)` when there is none; `Err(note)` when it is not
/// used, and why (for the error if the server then asks for a password).
fn read_pgpass(path: &Path) -> std::result::Result<Option<String>, String> {
    let shown = path.display();
    let meta = match std::fs::metadata(path) {
        Ok(meta) => meta,
        Err(_) => return Ok(None),
    };
    if !meta.is_file() {
        return Err(format!("{shown} is not a plain file, so it was not read"));
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if meta.permissions().mode() & 0o077 != 0 {
            return Err(format!(
                "{shown} was not read: others may read it (run `chmod 600 {shown}`)"
            ));
        }
    }
    crate::bounded::read_to_string(path, 1 << 20, crate::bounded::Accept::Files)
        .map(Some)
        .map_err(|e| format!("{shown} could not be read: {e}"))
}

/// The password of the first line matching `host:port:database:user` (`*` matches
/// anything; `\:` and `\\` are a colon and a backslash), libpq's format.
pub fn pgpass_lookup(text: &str, host: &str, port: u16, db: &str, user: &str) -> Option<String> {
    let port = port.to_string();
    for line in text.lines() {
        let line = line.trim_end_matches('\r');
        if line.trim_start().starts_with('#') || line.trim().is_empty() {
            continue;
        }
        let fields = split_pgpass(line);
        let [h, p, d, u, password] = &fields[..] else {
            continue;
        };
        let matches = |field: &str, value: &str| field == "*" || field == value;
        if matches(h, host) && matches(p, &port) && matches(d, db) && matches(u, user) {
            return Some(password.clone());
        }
    }
    None
}

fn split_pgpass(line: &str) -> Vec<String> {
    let mut fields = vec![String::new()];
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                if let Some(next) = chars.next() {
                    fields.last_mut().expect("one field").push(next);
                }
            }
            // The password is the rest of the line, colons and all.
            ':' if fields.len() < 5 => fields.push(String::new()),
            c => fields.last_mut().expect("one field").push(c),
        }
    }
    fields
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_url_is_read_and_shown_without_its_password() {
        let t = PgTarget::parse(
            "postgres://ana:s%3Ecret@db.example.org:6543/campaigns?sslmode=verify-full",
        )
        .unwrap();
        assert_eq!(t.host, Host::Tcp("db.example.org".into()));
        assert_eq!(t.port, 6543);
        assert_eq!(t.user(), "ana");
        assert_eq!(t.dbname(), "campaigns");
        assert_eq!(t.password().0.as_deref(), Some("s>cret"));
        assert_eq!(t.sslmode(), SslMode::VerifyFull);
        let shown = t.to_string();
        assert_eq!(
            shown,
            "postgres://ana:***@db.example.org:6543/campaigns?sslmode=verify-full"
        );
        assert!(!format!("{t:?}").contains("cret"));
    }

    #[test]
    fn another_machine_gets_tls_unless_disable_is_written() {
        let mode = |url: &str| PgTarget::parse(url).unwrap().sslmode();
        assert_eq!(mode("postgres://u@db.example.org/c"), SslMode::Require);
        assert_eq!(
            mode("postgres://u@db.example.org/c?sslmode=prefer"),
            SslMode::Require
        );
        assert_eq!(
            mode("postgres://u@db.example.org/c?sslmode=disable"),
            SslMode::Disable
        );
        assert_eq!(mode("postgres://u@127.0.0.1/c"), SslMode::Prefer);
        assert_eq!(mode("postgresql://u@[::1]:5433/c"), SslMode::Prefer);
        assert_eq!(
            mode("postgres://u@h.example/c?sslmode=require&sslrootcert=/ca.pem"),
            SslMode::VerifyCa
        );
    }

    #[test]
    fn mistakes_are_refused_without_quoting_the_url() {
        for url in [
            "postgres://ana:hunter2@h/c?sslmod=require",
            "postgres://ana:hunter2@h/c?sslmode=on",
            "postgres://ana:hunter2@h/c?connect_timeout=0",
            "postgres://ana:hunter2@h/c?password=x",
            "postgres://:hunter2@h/c",
            "postgres://ana:hunter2@h:99999/c",
            "postgres://ana:hunter2@h/c/d",
        ] {
            let err = PgTarget::parse(url).unwrap_err();
            assert!(matches!(err, Error::Usage(_)), "{url}: {err}");
            assert!(!err.to_string().contains("hunter2"), "{err}");
        }
    }

    #[test]
    fn sockets_and_defaults() {
        let t = PgTarget::parse("postgres:///campaigns?host=/run/pg&port=5433").unwrap();
        assert_eq!(t.host, Host::Socket("/run/pg".into()));
        assert_eq!(t.port, 5433);
        assert!(t.is_local());
        let t = PgTarget::parse("postgresql://%2Frun%2Fpg/campaigns").unwrap();
        assert_eq!(t.host, Host::Socket("/run/pg".into()));
        assert_eq!(
            t.to_string(),
            "postgresql:///campaigns?host=%2Frun%2Fpg",
            "shown as it reads"
        );
    }

    #[test]
    fn the_password_file_is_read_as_libpq_reads_it() {
        let text = "# comment\n\
                    other:5432:*:ana:nope\n\
                    db.example.org:5432:campaigns:ana:first\\:part:and\\\\more\n\
                    *:*:*:ana:fallback\n";
        assert_eq!(
            pgpass_lookup(text, "db.example.org", 5432, "campaigns", "ana").as_deref(),
            Some("first:part:and\\more")
        );
        assert_eq!(
            pgpass_lookup(text, "elsewhere", 1, "x", "ana").as_deref(),
            Some("fallback")
        );
        assert_eq!(pgpass_lookup(text, "elsewhere", 1, "x", "bo"), None);
    }

    #[cfg(unix)]
    #[test]
    fn a_password_file_others_can_read_is_not_used() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("pgpass");
        std::fs::write(&file, "*:*:*:*:secret\n").unwrap();
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
        let note = read_pgpass(&file).unwrap_err();
        assert!(note.contains("chmod 600"), "{note}");
        assert!(!note.contains("secret"));
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
        assert!(read_pgpass(&file).unwrap().is_some());
    }
}
