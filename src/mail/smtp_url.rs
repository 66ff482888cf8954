//! Reading an SMTP URL (`smtps://user:password@host:465`, `smtp://host:25?tls=none`,
//! `...?timeout=30`): where the server is, how the connection is protected, who logs in
//! and how long to wait. Pure: nothing here connects (see `transport`).

use std::time::Duration;

use crate::error::{Error, Result};

/// How long to wait for the server to accept the connection or answer, per step of each
/// message, unless the SMTP URL says `?timeout=SECONDS`.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

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
    pub(super) password: Option<String>,
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

pub(super) fn url_error(why: impl std::fmt::Display) -> Error {
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
