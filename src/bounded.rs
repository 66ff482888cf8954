//! Reading files the tool takes whole (a picture, the account file, a contacts CSV, an
//! email to send) through a limit, so a wrong path (`/dev/zero`, a huge file, a named pipe
//! nobody writes to) is refused with a clear reason instead of eating all memory or hanging.
//!
//! The kind of file is checked before it is opened and again on the open handle (the path
//! may change in between); where pipes are refused it is opened non-blocking, so a FIFO
//! swapped in never makes it wait for a writer. Then at most `limit + 1` bytes are ever
//! read, whatever size the file claims.

use std::fs::File;
use std::io::{self, Read};
use std::path::Path;

/// Which kinds of file a caller takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Accept {
    /// Regular files only.
    Files,
    /// Regular files, and pipes (`<(grep ...)`, a named pipe someone writes into).
    FilesAndPipes,
}

/// "10 MB", "1.5 MB", "512 KB".
pub fn size_text(bytes: u64) -> String {
    const MB: u64 = 1024 * 1024;
    if bytes >= MB {
        let mb = bytes as f64 / MB as f64;
        if bytes % MB == 0 {
            format!("{} MB", bytes / MB)
        } else {
            format!("{mb:.1} MB")
        }
    } else {
        format!("{} KB", bytes.div_ceil(1024))
    }
}

fn refused(reason: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, reason)
}

fn check_kind(meta: &std::fs::Metadata, accept: Accept) -> io::Result<()> {
    let kind = meta.file_type();
    if kind.is_file() {
        return Ok(());
    }
    if kind.is_dir() {
        return Err(refused("it is a folder, not a file".into()));
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if kind.is_fifo() {
            if accept == Accept::FilesAndPipes {
                return Ok(());
            }
            return Err(refused("it is a named pipe, not a file".into()));
        }
        if kind.is_char_device() || kind.is_block_device() {
            return Err(refused(
                "it is a device (like /dev/zero), not a file".into(),
            ));
        }
        if kind.is_socket() {
            return Err(refused("it is a socket, not a file".into()));
        }
    }
    Err(refused("it is not a regular file".into()))
}

fn check_size(meta: &std::fs::Metadata, limit: u64) -> io::Result<()> {
    if meta.is_file() && meta.len() > limit {
        return Err(refused(format!(
            "it is {}; the limit is {}",
            size_text(meta.len()),
            size_text(limit)
        )));
    }
    Ok(())
}

/// A reader that fails (instead of going on) once more than `limit` bytes came through.
pub struct Limited<R> {
    inner: io::Take<R>,
    limit: u64,
    read: u64,
}

impl<R: Read> Read for Limited<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read += n as u64;
        if self.read > self.limit {
            return Err(refused(format!(
                "it is more than {} (the limit)",
                size_text(self.limit)
            )));
        }
        Ok(n)
    }
}

impl<R: Read> Limited<R> {
    pub fn new(inner: R, limit: u64) -> Self {
        Limited {
            inner: inner.take(limit.saturating_add(1)),
            limit,
            read: 0,
        }
    }
}

/// Opens `path` for reading if it is a kind of file `accept` takes and not larger than
/// `limit`; the reader refuses to go past `limit` bytes. Errors say why (not found keeps
/// its `NotFound` kind).
pub fn open(path: &Path, limit: u64, accept: Accept) -> io::Result<Limited<File>> {
    // Before opening: opening a device can have effects of its own.
    let meta = std::fs::metadata(path)?;
    check_kind(&meta, accept)?;
    check_size(&meta, limit)?;

    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    // Where pipes are refused, open non-blocking: if the path became a FIFO since the
    // first look, the open returns at once (and the check below refuses it) instead of
    // waiting for a writer. Where they are taken, opening one waits for its writer, as
    // with any program reading a named pipe.
    let nonblocking = cfg!(unix) && accept == Accept::Files;
    #[cfg(unix)]
    if nonblocking {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NONBLOCK);
    }
    let file = options.open(path)?;
    // The path may have changed since the first look: check what was opened.
    let meta = file.metadata()?;
    check_kind(&meta, accept)?;
    check_size(&meta, limit)?;
    #[cfg(unix)]
    if nonblocking {
        use std::os::unix::io::AsRawFd;
        // A regular file: blocking reads again (no effect on files, but plain).
        // SAFETY: fcntl on a descriptor this function owns, with valid flag arguments.
        unsafe {
            let fd = file.as_raw_fd();
            let flags = libc::fcntl(fd, libc::F_GETFL);
            if flags >= 0 {
                libc::fcntl(fd, libc::F_SETFL, flags & !libc::O_NONBLOCK);
            }
        }
    }
    Ok(Limited::new(file, limit))
}

/// Reads all of `path` through [`open`]: never more than `limit` bytes in memory.
pub fn read(path: &Path, limit: u64, accept: Accept) -> io::Result<Vec<u8>> {
    let mut reader = open(path, limit, accept)?;
    let hint = std::fs::metadata(path).map_or(0, |m| m.len().min(limit));
    let mut bytes = Vec::with_capacity(hint as usize);
    reader.read_to_end(&mut bytes)?;
    Ok(bytes)
}

/// [`read`] as UTF-8 text.
pub fn read_to_string(path: &Path, limit: u64, accept: Accept) -> io::Result<String> {
    String::from_utf8(read(path, limit, accept)?)
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "it is not UTF-8 text"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_devices_folders_and_big_files_and_reads_small_ones() {
        let dir = tempfile::tempdir().unwrap();
        let small = dir.path().join("small.txt");
        std::fs::write(&small, "hola").unwrap();
        assert_eq!(read(&small, 4, Accept::Files).unwrap(), b"hola");
        let err = read(&small, 3, Accept::Files).unwrap_err();
        assert!(err.to_string().contains("the limit is"), "{err}");

        let err = read(dir.path(), 10, Accept::Files).unwrap_err();
        assert!(err.to_string().contains("folder"), "{err}");
        let err = read(Path::new("/dev/zero"), 10, Accept::FilesAndPipes).unwrap_err();
        assert!(err.to_string().contains("device"), "{err}");
        let missing = read(&dir.path().join("nope"), 10, Accept::Files).unwrap_err();
        assert_eq!(missing.kind(), io::ErrorKind::NotFound);
    }

    #[test]
    fn a_reader_stops_past_the_limit_whatever_the_file_claims() {
        // /dev/zero claims nothing and never ends: the limit alone stops it.
        let zero = File::open("/dev/zero").unwrap();
        let mut bytes = Vec::new();
        let err = Limited::new(zero, 1000)
            .read_to_end(&mut bytes)
            .unwrap_err();
        assert!(err.to_string().contains("more than 1 KB"), "{err}");
        assert!(bytes.len() <= 1001);
    }

    #[cfg(unix)]
    #[test]
    fn a_fifo_is_refused_at_once_or_read_when_taken() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("fifo");
        let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
        // SAFETY: mkfifo with a valid NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        let err = read(&fifo, 10, Accept::Files).unwrap_err();
        assert!(err.to_string().contains("named pipe"), "{err}");
        // Taken, it is read like a file once someone writes into it, through the limit.
        let writer = {
            let fifo = fifo.clone();
            std::thread::spawn(move || std::fs::write(fifo, "name,email\n").unwrap())
        };
        assert_eq!(
            read(&fifo, 100, Accept::FilesAndPipes).unwrap(),
            b"name,email\n"
        );
        writer.join().unwrap();
    }

    #[test]
    fn sizes_read_like_people_say_them() {
        assert_eq!(size_text(10 * 1024 * 1024), "10 MB");
        assert_eq!(size_text(11 * 1024 * 1024 + 100_000), "11.1 MB");
        assert_eq!(size_text(1000), "1 KB");
    }
}
