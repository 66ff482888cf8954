//! Where the passphrase of an encrypted database comes from: an open descriptor
//! (`--passphrase-fd 3` with `3< file`), a private file (`--passphrase-file`, or
//! `$CAMPAIGN_PASSPHRASE_FILE`), or the terminal (asked twice when it is a new one).
//! Never the command line or an environment variable holding the secret: other programs
//! on the machine can read both.

use std::io::Read;
use std::path::{Path, PathBuf};

use crate::bounded;
use crate::error::{Error, Result};
use crate::keyfile::Passphrase;

/// The longest passphrase read from a descriptor or a file.
const MAX_BYTES: u64 = 1024;
/// The shortest new passphrase.
pub const MIN_CHARS: usize = 12;
/// The variable we refuse to read (its value would be the secret itself).
pub const SECRET_VAR: &str = "CAMPAIGN_PASSPHRASE";

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    Fd(i32),
    File(PathBuf),
    Terminal,
    /// No terminal, no flag: asking is an error naming the flags.
    None,
}

/// Refuses a run with the secret in the environment.
pub fn refuse_secret_in_environment() -> Result<()> {
    if std::env::var_os(SECRET_VAR).is_some_and(|v| !v.is_empty()) {
        return Err(Error::Usage(format!(
            "{SECRET_VAR} is set and was not read: other programs can see environment \
             variables. Put the passphrase in a file (chmod 600) and set \
             CAMPAIGN_PASSPHRASE_FILE to its path, or pass --passphrase-fd"
        )));
    }
    Ok(())
}

/// Reads the passphrase from `source` (`prompt` on a terminal; `confirm` asks it twice).
pub fn read(source: &Source, prompt: &str, confirm: bool) -> Result<Passphrase> {
    let text = match source {
        Source::Fd(fd) => read_fd(*fd)?,
        Source::File(path) => read_file(path)?,
        Source::Terminal => crate::ui::prompt::password(prompt, confirm)?,
        Source::None => unreachable!("the caller reports a missing passphrase"),
    };
    if text.is_empty() {
        return Err(Error::Usage(format!(
            "the passphrase from {} is empty",
            describe(source)
        )));
    }
    Ok(Passphrase::new(text))
}

/// Where the passphrase came from, for messages.
pub fn describe(source: &Source) -> String {
    match source {
        Source::Fd(fd) => format!("descriptor {fd}"),
        Source::File(p) => p.display().to_string(),
        Source::Terminal => "the terminal".into(),
        Source::None => "nowhere".into(),
    }
}

/// A new passphrase must be long enough to resist guessing with the key file in hand.
pub fn check_new(passphrase: &Passphrase) -> Result<()> {
    if passphrase.as_str().chars().count() < MIN_CHARS {
        return Err(Error::Invalid(format!(
            "a passphrase needs at least {MIN_CHARS} characters; a few unrelated words are \
             easiest to remember"
        )));
    }
    Ok(())
}

/// The first line of `bytes`, without its line end.
fn first_line(bytes: Vec<u8>, from: &str) -> Result<String> {
    let text = String::from_utf8(bytes)
        .map_err(|_| Error::Usage(format!("the passphrase in {from} is not UTF-8 text")))?;
    let line = text.split('\n').next().unwrap_or("");
    Ok(line.strip_suffix('\r').unwrap_or(line).to_string())
}

#[cfg(unix)]
fn read_fd(fd: i32) -> Result<String> {
    use std::os::fd::FromRawFd;
    // SAFETY: F_GETFD only asks whether `fd` is open; it changes nothing.
    if fd < 0 || unsafe { libc::fcntl(fd, libc::F_GETFD) } < 0 {
        return Err(Error::Usage(format!(
            "--passphrase-fd {fd}: descriptor {fd} is not open (e.g. `--passphrase-fd 3 3< file`)"
        )));
    }
    // SAFETY: `fd` is open (checked above) and given to us for this one read; the
    // standard streams are not closed afterwards.
    let file = unsafe { std::fs::File::from_raw_fd(fd) };
    let file = std::mem::ManuallyDrop::new(file);
    let mut bytes = Vec::new();
    (&*file)
        .take(MAX_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| Error::Usage(format!("--passphrase-fd {fd}: cannot read it: {e}")))?;
    if fd > 2 {
        drop(std::mem::ManuallyDrop::into_inner(file));
    }
    if bytes.len() as u64 > MAX_BYTES {
        return Err(Error::Usage(format!(
            "--passphrase-fd {fd}: more than {MAX_BYTES} bytes; give only the passphrase"
        )));
    }
    first_line(bytes, &format!("descriptor {fd}"))
}

#[cfg(not(unix))]
fn read_fd(fd: i32) -> Result<String> {
    Err(Error::Usage(format!(
        "--passphrase-fd {fd} works on Unix only; use CAMPAIGN_PASSPHRASE_FILE"
    )))
}

fn read_file(path: &Path) -> Result<String> {
    let shown = path.display();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let meta = std::fs::metadata(path)
            .map_err(|e| Error::Usage(format!("cannot read the passphrase file {shown}: {e}")))?;
        if meta.permissions().mode() & 0o077 != 0 {
            return Err(Error::Usage(format!(
                "the passphrase file {shown} can be read by other users: run `chmod 600 {shown}`"
            )));
        }
    }
    let bytes = bounded::read(path, MAX_BYTES, bounded::Accept::Files)
        .map_err(|e| Error::Usage(format!("cannot read the passphrase file {shown}: {e}")))?;
    first_line(bytes, &shown.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_first_line_without_its_end() {
        assert_eq!(
            first_line(b"secret words\r\nmore".to_vec(), "x").unwrap(),
            "secret words"
        );
        assert_eq!(
            first_line(b"  spaced  \n".to_vec(), "x").unwrap(),
            "  spaced  "
        );
        assert_eq!(first_line(b"no end".to_vec(), "x").unwrap(), "no end");
    }

    #[test]
    fn a_short_new_passphrase_is_refused() {
        assert!(check_new(&Passphrase::new("short".into())).is_err());
        assert!(check_new(&Passphrase::new("twelve chars".into())).is_ok());
    }
}
