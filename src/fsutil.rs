//! Private files and directories, and the one way the tool writes a file.
//!
//! Signers may be undocumented: everything written is readable by the user alone (files
//! 0600, directories 0700), and nothing a user mistypes may destroy data. Every file the
//! tool writes goes through [`Files`], which
//! - refuses the database (and its `-wal`, `-shm`, `-journal`), the account file and the
//!   command's own input files, compared by device and inode and by resolved path (so a
//!   symlink, a second hard link, `./` or `..` spellings, or a `-journal` that does not
//!   exist yet all reach the same verdict), with an error naming the path and what it is;
//! - writes a regular file through a private temporary file beside it (0600 from birth),
//!   renamed over the target only by [`OutFile::commit`] and only over a regular file or
//!   nothing: a write error, a full disk or a kill leaves the old file as it was;
//! - writes straight through to a character device or a FIFO (`/dev/stdout`, `/dev/null`,
//!   a named pipe), never replacing or chmodding it, and refuses disks and sockets;
//! - names the path in every I/O error.

use std::fmt;
use std::fs::{self, File, OpenOptions};
use std::io::{self, BufWriter, Write};
use std::path::{Component, Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::error::{Error, Result};

/// Makes files created by this process (SQLite's WAL and journal files included) private
/// even where we do not open them ourselves.
pub fn restrict_umask() {
    #[cfg(unix)]
    // SAFETY: umask only changes this process's file creation mask.
    unsafe {
        libc::umask(0o077);
    }
}

/// Creates `dir` and its missing parents, each new one 0700.
pub fn create_private_dir(dir: &Path) -> io::Result<()> {
    if dir.as_os_str().is_empty() || dir.is_dir() {
        return Ok(());
    }
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(dir)
}

/// Narrows an open regular file to 0600; anything else (a pipe, a device) is left alone.
pub fn narrow(file: &File) -> io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let meta = file.metadata()?;
        if meta.is_file() && meta.permissions().mode() & 0o077 != 0 {
            file.set_permissions(fs::Permissions::from_mode(0o600))?;
        }
    }
    let _ = file;
    Ok(())
}

/// The files SQLite keeps beside a database, and what each is.
const DATABASE_COMPANIONS: [(&str, &str); 6] = [
    ("-wal", "the campaigns database's write-ahead log"),
    ("-shm", "the campaigns database's shared-memory index"),
    ("-journal", "the campaigns database's rollback journal"),
    (".key", "the key file of the encrypted database"),
    (".key.new", "the key file of the encrypted database"),
    (
        ".encrypting",
        "the encrypted copy of the database being made",
    ),
];

/// A path no output may land on, and what it is ("the campaigns database").
#[derive(Debug, Clone)]
struct Guarded {
    path: PathBuf,
    what: String,
}

/// What a command must never write over, and the one way to write a file.
///
/// Built once per run from the paths (database and companions, account file) and the
/// command's own inputs (`--from`, `--picture`, `--invite-file`), so no call site can
/// forget one: see `Paths::files` and `Ctx::files`.
#[derive(Debug, Clone, Default)]
pub struct Files {
    guarded: Vec<Guarded>,
}

impl Files {
    /// Protects nothing yet.
    pub fn new() -> Files {
        Files::default()
    }

    /// Never write over `path` (whether it exists or not), which is `what`.
    pub fn protect(&mut self, path: impl Into<PathBuf>, what: impl Into<String>) {
        self.guarded.push(Guarded {
            path: path.into(),
            what: what.into(),
        });
    }

    /// Protects the database and the `-wal`, `-shm` and `-journal` files SQLite keeps
    /// beside it, named after the path as given and after the file it resolves to.
    pub fn protect_database(&mut self, db: &Path) {
        self.protect(db, "the campaigns database");
        let resolved = resolve(db);
        for base in [db.to_path_buf(), resolved] {
            for (suffix, what) in DATABASE_COMPANIONS {
                let mut name = base.clone().into_os_string();
                name.push(suffix);
                self.protect(PathBuf::from(name), format!("{what} ({suffix})"));
            }
        }
    }

    /// The same protections except for `path`: for the one writer that owns it (the
    /// account file is written by `account`, never by an `--out`).
    pub fn allowing(&self, path: &Path) -> Files {
        let allowed = resolve(path);
        Files {
            guarded: self
                .guarded
                .iter()
                .filter(|g| resolve(&g.path) != allowed)
                .cloned()
                .collect(),
        }
    }

    /// Refuses `target` when it is (or would become) one of the protected files: the
    /// same device and inode (through symlinks and hard links), or the same resolved
    /// path for files that do not exist right now.
    pub fn check(&self, target: &Path) -> Result<()> {
        let resolved = resolve(target);
        let id = identity(target);
        for g in &self.guarded {
            let same = (id.is_some() && id == identity(&g.path)) || resolve(&g.path) == resolved;
            if same {
                let also = if g.path == target {
                    String::new()
                } else {
                    format!(" ({})", g.path.display())
                };
                return Err(Error::Usage(format!(
                    "refusing to write {}: that is {}{also}, and writing there would destroy it; \
                     choose another file",
                    target.display(),
                    g.what
                )));
            }
        }
        Ok(())
    }

    /// Opens `target` for writing. A regular file (or nothing) is replaced at
    /// [`OutFile::commit`]; a device or FIFO is written straight through.
    pub fn create(&self, target: &Path) -> Result<OutFile> {
        self.open(target, Commit::Replace)
    }

    /// Like [`Files::create`], but the commit never replaces anything: when `target` is
    /// taken, the file gets the first free numbered name (`x.pdf`, `x-2.pdf`, `x-3.pdf`).
    pub fn create_new(&self, target: &Path) -> Result<OutFile> {
        self.open(target, Commit::Numbered)
    }

    /// Writes `bytes` to `target` in one go (see [`Files::create`]).
    pub fn write(&self, target: &Path, bytes: &[u8]) -> Result<Committed> {
        let mut out = self.create(target)?;
        out.write_all(bytes)?;
        out.commit()
    }

    /// Moves `from` to `to` (same file system), refusing protected paths and anything
    /// but a regular file or nothing at `to`.
    pub fn rename(&self, from: &Path, to: &Path) -> Result<()> {
        self.check(to)?;
        if let Ok(meta) = fs::symlink_metadata(to) {
            if !meta.is_file() {
                return Err(not_regular(to));
            }
        }
        if let Some(dir) = to.parent() {
            create_private_dir(dir).map_err(|e| named(e, "cannot create the folder", dir))?;
        }
        fs::rename(from, to).map_err(|e| named(e, "cannot move", from))?;
        Ok(())
    }

    /// Deletes the regular file `target` (a purge removing a delivery PDF, an email, a
    /// rejects file). Refuses protected paths; never follows a symlink (the link's target
    /// may be anything) and never removes a folder or device. `false` when nothing was
    /// there.
    pub fn remove(&self, target: &Path) -> Result<bool> {
        self.check(target)?;
        match fs::symlink_metadata(target) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(false),
            Err(e) => return Err(named(e, "cannot read", target).into()),
            Ok(meta) if !meta.is_file() => return Err(not_regular(target)),
            Ok(_) => {}
        }
        match fs::remove_file(target) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(false),
            Err(e) => return Err(named(e, "cannot remove", target).into()),
        }
        if let Some(dir) = target.parent() {
            // The removal survives a crash: the folder entry is on disk.
            if let Ok(d) = File::open(dir) {
                let _ = d.sync_all();
            }
        }
        Ok(true)
    }

    /// Standard output as an [`OutFile`], refused when it was redirected onto a protected
    /// file (`>> campaigns.db`).
    pub fn stdout(&self) -> Result<OutFile> {
        #[cfg(target_os = "linux")]
        self.check(Path::new("/proc/self/fd/1"))?;
        Ok(OutFile::direct(
            std_stream(1)?,
            Path::new("standard output"),
        ))
    }

    fn open(&self, target: &Path, how: Commit) -> Result<OutFile> {
        if target.as_os_str().is_empty() {
            return Err(Error::Usage("an empty path is not a file name".into()));
        }
        if names_a_folder(target) {
            return Err(Error::Usage(format!(
                "{} names a folder (it ends in /): give a file name",
                target.display()
            )));
        }
        self.check(target)?;
        // A new file (numbered) never goes into an existing device or FIFO.
        if how == Commit::Replace {
            if let Some(file) = open_stream(target)? {
                return Ok(OutFile::direct(file, target));
            }
        }
        let resolved = resolve(target);
        let existing = fs::symlink_metadata(&resolved).ok();
        if let Some(meta) = existing.filter(|_| how == Commit::Replace) {
            if meta.is_dir() {
                return Err(Error::Usage(format!(
                    "{} is a folder: give a file name inside it",
                    target.display()
                )));
            }
            if !meta.is_file() {
                return Err(not_regular(target));
            }
        }
        let (Some(dir), Some(name)) = (resolved.parent(), resolved.file_name()) else {
            return Err(Error::Usage(format!(
                "{} is not a file name",
                target.display()
            )));
        };
        create_private_dir(dir).map_err(|e| named(e, "cannot create the folder", dir))?;
        let name = name.to_string_lossy();
        sweep_partials_named(dir, Some(&partial_stem(&name)));
        // Hidden, named for the target and this process (so a killed run's leftover is
        // recognized and swept), and 0600 from birth. Dropped = deleted.
        let temp = tempfile::Builder::new()
            .prefix(&format!(".{}.{}.", partial_stem(&name), std::process::id()))
            .suffix(".partial")
            .rand_bytes(6)
            .tempfile_in(dir)
            .map_err(|e| named(e, "cannot create a file in", dir))?;
        let (file, temp) = temp.into_parts();
        let shown = std::path::absolute(target).unwrap_or_else(|_| target.to_path_buf());
        Ok(OutFile {
            writer: Some(BufWriter::with_capacity(1 << 16, file)),
            temp: Some(temp),
            target: resolved,
            shown,
            how,
            hash: None,
            bytes: 0,
            files: self.clone(),
        })
    }
}

/// How an [`OutFile`] lands on its path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Commit {
    /// Over a regular file or nothing.
    Replace,
    /// Never over anything: the first free numbered name.
    Numbered,
}

/// A file being written. Nothing shows at its path until [`OutFile::commit`]; dropped
/// uncommitted, its temporary file is deleted and the old file (if any) is untouched.
/// (A device or FIFO is written straight through: what was written has gone.)
pub struct OutFile {
    writer: Option<BufWriter<File>>,
    /// The temporary file; `None` when writing straight through to a device or FIFO.
    temp: Option<tempfile::TempPath>,
    /// Where the file lands, resolved through symlinks.
    target: PathBuf,
    /// The path as given (made absolute), for messages and records.
    shown: PathBuf,
    how: Commit,
    hash: Option<Sha256>,
    bytes: u64,
    files: Files,
}

/// What [`OutFile::commit`] wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Committed {
    /// The file written: absolute, and numbered when [`Files::create_new`] had to.
    pub path: PathBuf,
    /// SHA-256 of the bytes written (hex), with [`OutFile::hashing`].
    pub sha256: Option<String>,
    pub bytes: u64,
    /// False when the bytes went straight to a device or FIFO.
    pub regular: bool,
}

/// The most numbered names tried before giving up.
const MAX_NUMBERED: u32 = 10_000;

impl OutFile {
    fn direct(file: File, shown: &Path) -> OutFile {
        OutFile {
            writer: Some(BufWriter::with_capacity(1 << 16, file)),
            temp: None,
            target: shown.to_path_buf(),
            shown: shown.to_path_buf(),
            how: Commit::Replace,
            hash: None,
            bytes: 0,
            files: Files::new(),
        }
    }

    /// Also computes the SHA-256 of everything written (for delivery records).
    pub fn hashing(mut self) -> OutFile {
        self.hash = Some(Sha256::new());
        self
    }

    /// True when writing straight through to a device or FIFO rather than a file.
    pub fn is_stream(&self) -> bool {
        self.temp.is_none()
    }

    /// The path as given, made absolute.
    pub fn path(&self) -> &Path {
        &self.shown
    }

    /// Puts the file in place (see [`Files::create`] and [`Files::create_new`]).
    pub fn commit(self) -> Result<Committed> {
        self.commit_skipping(|_| false)
    }

    /// Like [`OutFile::commit`]; with [`Files::create_new`], also passes over numbered
    /// names `taken` says are spoken for (e.g. files earlier deliveries recorded, even
    /// if they are gone now).
    pub fn commit_skipping(mut self, taken: impl Fn(&Path) -> bool) -> Result<Committed> {
        let writer = self.writer.take().expect("an output is committed once");
        let file = match writer.into_inner() {
            Ok(file) => file,
            Err(e) => {
                let (error, writer) = e.into_parts();
                // Discard what is still buffered rather than retry it on drop.
                drop(writer.into_parts());
                return Err(named(error, "cannot write", &self.shown).into());
            }
        };
        let sha256 = self.hash.take().map(|h| format!("{:x}", h.finalize()));
        let Some(temp) = self.temp.take() else {
            return Ok(Committed {
                path: self.shown.clone(),
                sha256,
                bytes: self.bytes,
                regular: false,
            });
        };
        // On the disk before the rename: a full disk or a crash must not swap a good
        // file for a short one.
        file.sync_all()
            .map_err(|e| named(e, "cannot write", &self.shown))?;
        drop(file);
        let dir = self.target.parent().map(Path::to_path_buf);
        let committed = |path: PathBuf| Committed {
            path,
            sha256: sha256.clone(),
            bytes: self.bytes,
            regular: true,
        };
        let done = match self.how {
            Commit::Replace => {
                // Only over a regular file or nothing: a folder or device that appeared
                // since the open stays as it is.
                if let Ok(meta) = fs::symlink_metadata(&self.target) {
                    if !meta.is_file() {
                        return Err(not_regular(&self.shown));
                    }
                }
                temp.persist(&self.target)
                    .map_err(|e| named(e.error, "cannot write", &self.shown))?;
                committed(self.shown.clone())
            }
            Commit::Numbered => {
                let name = self
                    .target
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default();
                let mut temp = temp;
                let mut found = None;
                for n in 1..=MAX_NUMBERED {
                    let name = numbered(&name, n);
                    let candidate = self.target.with_file_name(&name);
                    let shown = self.shown.with_file_name(&name);
                    if taken(&candidate) || self.files.check(&candidate).is_err() {
                        continue;
                    }
                    match temp.persist_noclobber(&candidate) {
                        Ok(()) => {
                            found = Some(shown);
                            break;
                        }
                        Err(e) if e.error.kind() == io::ErrorKind::AlreadyExists => temp = e.path,
                        Err(e) => return Err(named(e.error, "cannot write", &shown).into()),
                    }
                }
                let Some(shown) = found else {
                    return Err(Error::Refused(format!(
                        "cannot find a free name for {}: {MAX_NUMBERED} numbered files are there already",
                        self.shown.display()
                    )));
                };
                committed(shown)
            }
        };
        // The rename itself on the disk too (best effort: not every system syncs a folder).
        if let Some(dir) = dir {
            if let Ok(d) = File::open(dir) {
                let _ = d.sync_all();
            }
        }
        Ok(done)
    }
}

impl Write for OutFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let writer = self.writer.as_mut().expect("writing after commit");
        let n = writer
            .write(buf)
            .map_err(|e| named(e, "cannot write", &self.shown))?;
        if let Some(hash) = &mut self.hash {
            hash.update(&buf[..n]);
        }
        self.bytes += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        match self.writer.as_mut() {
            Some(w) => w.flush().map_err(|e| named(e, "cannot write", &self.shown)),
            None => Ok(()),
        }
    }
}

impl Drop for OutFile {
    fn drop(&mut self) {
        // Uncommitted: what is still buffered is discarded, not written; the temporary
        // file (if any) is deleted by its `TempPath`.
        if let Some(writer) = self.writer.take() {
            drop(writer.into_parts());
        }
    }
}

impl fmt::Debug for OutFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OutFile")
            .field("path", &self.shown)
            .field("stream", &self.is_stream())
            .field("bytes", &self.bytes)
            .finish()
    }
}

/// An I/O error that says which path it is about.
#[derive(Debug)]
struct PathError {
    action: &'static str,
    path: PathBuf,
    source: io::Error,
}

impl fmt::Display for PathError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {}: {}",
            self.action,
            self.path.display(),
            self.source
        )
    }
}

impl std::error::Error for PathError {}

/// `e`, naming `path`, with its kind kept (a closed pipe stays recognizable).
fn named(e: io::Error, action: &'static str, path: &Path) -> io::Error {
    if e.get_ref().is_some_and(|inner| inner.is::<PathError>()) {
        return e;
    }
    io::Error::new(
        e.kind(),
        PathError {
            action,
            path: path.to_path_buf(),
            source: e,
        },
    )
}

/// True when `path` is written as a folder: it ends in a separator (`out/`) or `.`/`..`.
pub fn names_a_folder(path: &Path) -> bool {
    let text = path.as_os_str().as_encoded_bytes();
    text.ends_with(b"/")
        || matches!(
            path.components().next_back(),
            Some(Component::CurDir | Component::ParentDir | Component::RootDir)
        )
}

fn not_regular(path: &Path) -> Error {
    let what = match fs::symlink_metadata(path) {
        Ok(m) if m.file_type().is_symlink() => "a symlink that leads nowhere it can end (a loop)",
        _ => "a disk, a socket or another special file",
    };
    Error::Usage(format!(
        "{} is not a regular file ({what}): refusing to replace it; choose a file name",
        path.display()
    ))
}

/// The paths that name this process's own standard output.
const STDOUT_PATHS: [&str; 3] = ["/dev/stdout", "/dev/fd/1", "/proc/self/fd/1"];

/// True when `path` names this process's own standard output (`--out /dev/stdout`).
pub fn is_stdout(path: &Path) -> bool {
    STDOUT_PATHS.iter().any(|n| path == Path::new(n))
}

/// Opens `target` for writing in place when it is a character device or a FIFO; refuses
/// a disk or a socket; `None` for anything else (a regular file, or nothing yet).
fn open_stream(target: &Path) -> Result<Option<File>> {
    // This process's own stdout and stderr: written where they already go (a pipe, a
    // terminal, a file opened with `>>`), never reopened or replaced.
    for (fd, names) in [
        (1, STDOUT_PATHS),
        (2, ["/dev/stderr", "/dev/fd/2", "/proc/self/fd/2"]),
    ] {
        if names.iter().any(|n| target == Path::new(n)) {
            return Ok(Some(std_stream(fd)?));
        }
    }
    let Ok(meta) = fs::metadata(target) else {
        return Ok(None);
    };
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        let kind = meta.file_type();
        if kind.is_char_device() || kind.is_fifo() {
            // No create, no truncate, no chmod: a device is only written to.
            let file = OpenOptions::new()
                .write(true)
                .open(target)
                .map_err(|e| named(e, "cannot write", target))?;
            return Ok(Some(file));
        }
        if kind.is_block_device() || kind.is_socket() {
            return Err(not_regular(target));
        }
    }
    let _ = meta;
    Ok(None)
}

/// A new handle on this process's stdout (1) or stderr (2).
// Clones the descriptor for data written as bytes (a PDF to `--out /dev/stdout`); text
// for people still goes through `ui`.
#[allow(clippy::disallowed_methods)]
fn std_stream(fd: i32) -> Result<File> {
    #[cfg(unix)]
    {
        use std::os::fd::AsFd;
        let owned = match fd {
            1 => io::stdout().as_fd().try_clone_to_owned(),
            _ => io::stderr().as_fd().try_clone_to_owned(),
        }?;
        Ok(File::from(owned))
    }
    #[cfg(not(unix))]
    {
        let _ = fd;
        Err(Error::Usage(
            "writing to a standard stream by path needs Unix".into(),
        ))
    }
}

/// Device and inode of the file `path` names (through symlinks), if it exists.
fn identity(path: &Path) -> Option<(u64, u64)> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        fs::metadata(path).ok().map(|m| (m.dev(), m.ino()))
    }
    #[cfg(not(unix))]
    {
        let _ = path;
        None
    }
}

/// `path` made absolute with every symlink resolved, including in the part that does
/// not exist yet (a dangling link is followed to where it points); the missing rest is
/// normalized as it will be once created (`new/../x` is `x`).
pub fn resolve(path: &Path) -> PathBuf {
    resolve_within(path, 0)
}

fn resolve_within(path: &Path, depth: u32) -> PathBuf {
    let abs = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    if let Ok(real) = fs::canonicalize(&abs) {
        return real;
    }
    let parts: Vec<Component<'_>> = abs.components().collect();
    for i in (0..parts.len()).rev() {
        let prefix: PathBuf = parts[..i].iter().collect();
        let Ok(mut out) = fs::canonicalize(&prefix) else {
            continue;
        };
        let rest = &parts[i..];
        if let (Some(Component::Normal(first)), true) = (rest.first(), depth < 40) {
            if let Ok(link) = fs::read_link(out.join(first)) {
                let mut next = out.join(link);
                next.extend(&rest[1..]);
                return resolve_within(&next, depth + 1);
            }
        }
        for part in rest {
            match part {
                Component::ParentDir => {
                    out.pop();
                }
                Component::Normal(name) => out.push(name),
                _ => {}
            }
        }
        return out;
    }
    abs
}

/// `x.pdf` for 1, `x-2.pdf` for 2, ...
fn numbered(name: &str, n: u32) -> String {
    if n <= 1 {
        return name.to_string();
    }
    match name.rsplit_once('.') {
        Some((stem, ext)) if !stem.is_empty() => format!("{stem}-{n}.{ext}"),
        _ => format!("{name}-{n}"),
    }
}

/// The target's name as it appears in its temporary file's name: cut so that the whole
/// temporary name stays within the 255 bytes a file name may have.
fn partial_stem(name: &str) -> String {
    let mut cut = name.len().min(180);
    while !name.is_char_boundary(cut) {
        cut -= 1;
    }
    name[..cut].to_string()
}

/// Deletes temporary files that killed runs left in `dir` (a kill skips the cleanup on
/// drop): `.NAME.PID.RANDOM.partial` whose process is gone. Linux only, where a live
/// process is seen in /proc; elsewhere they stay, obviously named.
pub fn sweep_partials(dir: &Path) {
    sweep_partials_named(dir, None);
}

/// [`sweep_partials`], only for the leftovers of one target name when `stem` is given.
fn sweep_partials_named(dir: &Path, stem: Option<&str>) {
    if !cfg!(target_os = "linux") {
        return;
    }
    let Ok(entries) = fs::read_dir(if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    }) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some((target, pid)) = name.to_str().and_then(partial_pid) else {
            continue;
        };
        if stem.is_some_and(|s| s != target) {
            continue;
        }
        if !Path::new("/proc").join(pid.to_string()).exists() {
            let _ = fs::remove_file(entry.path());
        }
    }
}

/// The target name and writer's process id, if `name` is one of our temporary files.
fn partial_pid(name: &str) -> Option<(&str, u32)> {
    let rest = name.strip_prefix('.')?.strip_suffix(".partial")?;
    let (rest, _random) = rest.rsplit_once('.')?;
    let (target, pid) = rest.rsplit_once('.')?;
    Some((target, pid.parse().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mode(path: &Path) -> u32 {
        use std::os::unix::fs::PermissionsExt;
        fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    fn leftovers(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".partial"))
            .collect();
        names.sort();
        names
    }

    #[test]
    fn replaces_atomically_and_privately() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("out.csv");
        fs::write(&target, "old").unwrap();
        let files = Files::new();
        let mut out = files.create(&target).unwrap();
        out.write_all(b"new").unwrap();
        // Not there until committed.
        assert_eq!(fs::read(&target).unwrap(), b"old");
        let done = out.commit().unwrap();
        assert_eq!(fs::read(&target).unwrap(), b"new");
        assert_eq!(done.path, target);
        assert_eq!(mode(&target), 0o600);
        assert!(leftovers(dir.path()).is_empty());
    }

    #[test]
    fn dropped_output_changes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("out.csv");
        fs::write(&target, "old").unwrap();
        let mut out = Files::new().create(&target).unwrap();
        out.write_all(&vec![b'x'; 1 << 20]).unwrap();
        drop(out);
        assert_eq!(fs::read(&target).unwrap(), b"old");
        assert!(leftovers(dir.path()).is_empty());
        let fresh = dir.path().join("never.csv");
        drop(Files::new().create(&fresh).unwrap());
        assert!(!fresh.exists());
    }

    #[test]
    fn protected_paths_are_refused_however_they_are_spelled() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("campaigns.db");
        fs::write(&db, "SQLite").unwrap();
        let input = dir.path().join("in.csv");
        fs::write(&input, "name\n").unwrap();
        let mut files = Files::new();
        files.protect_database(&db);
        files.protect(&input, "the CSV file --from imports");
        let link = dir.path().join("link.csv");
        std::os::unix::fs::symlink(&input, &link).unwrap();
        let hard = dir.path().join("hard.csv");
        fs::hard_link(&input, &hard).unwrap();
        let dangling = dir.path().join("dangling");
        std::os::unix::fs::symlink(dir.path().join("campaigns.db-journal"), &dangling).unwrap();
        fs::create_dir(dir.path().join("sub")).unwrap();
        for target in [
            db.clone(),
            dir.path().join("sub/../campaigns.db"),
            dir.path().join("new/../campaigns.db-wal"),
            dir.path().join("campaigns.db-shm"),
            dir.path().join("./campaigns.db-journal"),
            input.clone(),
            link,
            hard,
            dangling,
        ] {
            let err = files.create(&target).unwrap_err().to_string();
            assert!(err.contains("refusing to write"), "{target:?}: {err}");
            assert!(err.contains(&target.display().to_string()), "{err}");
        }
        assert!(!dir.path().join("new").exists());
        assert_eq!(fs::read(&db).unwrap(), b"SQLite");
        assert!(files.create(&dir.path().join("campaigns.csv")).is_ok());
    }

    #[test]
    fn the_owner_of_a_file_may_write_it() {
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("config.toml");
        let mut files = Files::new();
        files.protect(&config, "the account file");
        assert!(files.write(&config, b"x").is_err());
        files
            .allowing(&config)
            .write(&config, b"name = 'Ana'")
            .unwrap();
        assert_eq!(fs::read(&config).unwrap(), b"name = 'Ana'");
    }

    #[test]
    fn a_symlinked_target_keeps_its_link() {
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("real.csv");
        fs::write(&real, "old").unwrap();
        let link = dir.path().join("link.csv");
        std::os::unix::fs::symlink(&real, &link).unwrap();
        Files::new().write(&link, b"new").unwrap();
        assert!(fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink());
        assert_eq!(fs::read(&real).unwrap(), b"new");
    }

    #[test]
    fn numbered_names_never_replace() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("d-2026-12-01.pdf");
        let files = Files::new();
        let mut paths = Vec::new();
        for body in [b"one", b"two", b"six"] {
            let mut out = files.create_new(&target).unwrap().hashing();
            out.write_all(body).unwrap();
            let done = out
                .commit_skipping(|p| p.ends_with("d-2026-12-01-3.pdf"))
                .unwrap();
            assert_eq!(
                done.sha256.as_deref(),
                Some(format!("{:x}", Sha256::digest(body)).as_str())
            );
            paths.push(done.path);
        }
        let names: Vec<_> = paths
            .iter()
            .map(|p| p.file_name().unwrap().to_str().unwrap())
            .collect();
        assert_eq!(
            names,
            [
                "d-2026-12-01.pdf",
                "d-2026-12-01-2.pdf",
                "d-2026-12-01-4.pdf"
            ]
        );
        assert_eq!(fs::read(&paths[0]).unwrap(), b"one");
    }

    #[test]
    fn devices_are_written_through_and_left_alone() {
        let mut out = Files::new().create(Path::new("/dev/null")).unwrap();
        assert!(out.is_stream());
        out.write_all(b"anything").unwrap();
        assert!(!out.commit().unwrap().regular);
        use std::os::unix::fs::FileTypeExt;
        assert!(fs::metadata("/dev/null")
            .unwrap()
            .file_type()
            .is_char_device());
    }

    #[test]
    fn io_errors_name_the_path() {
        let dir = tempfile::tempdir().unwrap();
        let blocker = dir.path().join("file");
        fs::write(&blocker, "x").unwrap();
        let err = Files::new()
            .create(&blocker.join("inside.csv"))
            .unwrap_err()
            .to_string();
        assert!(err.contains(&blocker.display().to_string()), "{err}");
    }

    #[test]
    fn resolve_follows_links_into_missing_paths() {
        let dir = tempfile::tempdir().unwrap();
        let base = fs::canonicalize(dir.path()).unwrap();
        std::os::unix::fs::symlink(base.join("real"), base.join("link")).unwrap();
        assert_eq!(resolve(&base.join("link/x/../y")), base.join("real/y"));
        assert_eq!(resolve(&base.join("a/./b/..")), base.join("a"));
    }

    #[test]
    fn a_path_written_as_a_folder_is_not_made_a_file() {
        let dir = tempfile::tempdir().unwrap();
        for target in ["new/", ".", "..", "a/.."] {
            let path = dir.path().join(target);
            let err = Files::new().create(&path).unwrap_err().to_string();
            assert!(err.contains("folder"), "{target}: {err}");
        }
        assert!(!dir.path().join("new").exists());
        assert!(!names_a_folder(Path::new("new.csv")));
    }

    #[test]
    fn numbering_and_partial_names() {
        assert_eq!(numbered("a.pdf", 1), "a.pdf");
        assert_eq!(numbered("a.pdf", 2), "a-2.pdf");
        assert_eq!(numbered("noext", 3), "noext-3");
        assert_eq!(numbered(".hidden", 2), ".hidden-2");
        assert_eq!(
            partial_pid(".oak-delivery.pdf.123.Ab12Cd.partial"),
            Some(("oak-delivery.pdf", 123))
        );
        assert_eq!(partial_pid("oak.pdf"), None);
        let long = "é".repeat(200);
        assert!(partial_stem(&long).len() <= 180);
    }
}
