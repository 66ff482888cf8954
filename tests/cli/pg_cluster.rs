//! A throwaway PostgreSQL cluster for one test run (or one benchmark): `initdb` into a
//! temporary folder, a server on a free loopback port, stopped and removed when the
//! process exits. Shared by `tests/cli` and `benches/pg.rs` (`#[path]`).
//!
//! `initdb` refuses to run as root: as root, the cluster runs as the `postgres` user
//! (else `nobody`), its folder theirs. The server is a child of a thread that lives as
//! long as the process and gets SIGINT (a fast shutdown) when that thread goes, so a
//! test run that crashes or is killed leaves no server behind; an `atexit` hook stops
//! it and removes its folder on a normal exit, and a later run removes the folders of
//! runs that were killed.

#![allow(dead_code)]

use std::ffi::CString;
use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

/// The superuser of a test cluster (trusted on loopback).
pub const SUPERUSER: &str = "campaign_test";
/// Folders of test clusters start with this, in the temporary folder.
const PREFIX: &str = "campaign-pg-";

pub struct Cluster {
    pub dir: PathBuf,
    pub bin: PathBuf,
    pub port: u16,
    pid: libc::pid_t,
    /// The CA that signed the server's certificate (PEM), for `sslrootcert`.
    pub ca_file: PathBuf,
    admin: Mutex<postgres::Client>,
    next_db: AtomicU64,
}

/// What a cluster is for.
#[derive(Clone, Copy, Default)]
pub struct Options {
    /// Settings for speed over durability (fsync off): tests and benchmarks of the
    /// client, not of the disk.
    pub fast: bool,
}

/// The folder of the newest PostgreSQL server binaries on this machine: the Debian
/// layout (`/usr/lib/postgresql/N/bin`), else `pg_config --bindir`, else `$PATH`.
pub fn find_bin() -> Option<PathBuf> {
    let mut debian: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let version: u32 = e.file_name().to_str()?.parse().ok()?;
            let bin = e.path().join("bin");
            bin.join("postgres").is_file().then_some((version, bin))
        })
        .collect();
    debian.sort();
    if let Some((_, bin)) = debian.pop() {
        return Some(bin);
    }
    if let Ok(out) = Command::new("pg_config").arg("--bindir").output() {
        let bin = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
        if bin.join("postgres").is_file() {
            return Some(bin);
        }
    }
    std::env::var_os("PATH").and_then(|path| {
        std::env::split_paths(&path)
            .find(|dir| dir.join("postgres").is_file() && dir.join("initdb").is_file())
    })
}

/// The account the server runs as: ours, or (as root) `postgres`, else `nobody`.
fn server_account() -> Option<(libc::uid_t, libc::gid_t)> {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        return None;
    }
    for name in ["postgres", "nobody"] {
        let c = CString::new(name).expect("no NUL");
        // SAFETY: getpwnam returns null or a pointer to static storage, read at once.
        unsafe {
            let pw = libc::getpwnam(c.as_ptr());
            if !pw.is_null() {
                return Some(((*pw).pw_uid, (*pw).pw_gid));
            }
        }
    }
    panic!("running as root, and there is no `postgres` or `nobody` user to run PostgreSQL as");
}

fn chown(path: &Path, account: Option<(libc::uid_t, libc::gid_t)>) {
    if let Some((uid, gid)) = account {
        std::os::unix::fs::chown(path, Some(uid), Some(gid))
            .unwrap_or_else(|e| panic!("chown {}: {e}", path.display()));
    }
}

/// A command that runs as the server's account, and dies with the thread that spawns it.
fn as_server(program: &Path, account: Option<(libc::uid_t, libc::gid_t)>) -> Command {
    let mut cmd = Command::new(program);
    // SAFETY: only async-signal-safe calls between fork and exec.
    unsafe {
        cmd.pre_exec(move || {
            if let Some((uid, gid)) = account {
                if libc::setgroups(0, std::ptr::null()) != 0
                    || libc::setgid(gid) != 0
                    || libc::setuid(uid) != 0
                {
                    return Err(std::io::Error::last_os_error());
                }
            }
            // After changing user: a change of credentials clears the death signal.
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGINT) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    cmd
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

/// Removes the folders of earlier runs that were killed (their process is gone).
fn sweep(tmp: &Path) {
    for entry in std::fs::read_dir(tmp).into_iter().flatten().flatten() {
        let name = entry.file_name();
        if !name.to_string_lossy().starts_with(PREFIX) {
            continue;
        }
        let owner = std::fs::read_to_string(entry.path().join("owner.pid"))
            .ok()
            .and_then(|t| t.trim().parse::<libc::pid_t>().ok());
        let Some(owner) = owner else { continue };
        // SAFETY: kill with signal 0 only asks whether the process exists.
        let alive = unsafe { libc::kill(owner, 0) } == 0
            || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM);
        if !alive {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

/// A self-signed CA and a server certificate it signs, for `localhost` only (so a test
/// can tell verify-full from verify-ca by connecting to 127.0.0.1).
fn certificates(dir: &Path, account: Option<(libc::uid_t, libc::gid_t)>) -> PathBuf {
    use rcgen::{BasicConstraints, CertificateParams, IsCa, KeyPair};
    let ca_key = KeyPair::generate().expect("CA key");
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "campaign test CA");
    let ca = ca_params.self_signed(&ca_key).expect("CA");
    let key = KeyPair::generate().expect("server key");
    let params = CertificateParams::new(vec!["localhost".to_string()]).expect("server params");
    let cert = params.signed_by(&key, &ca, &ca_key).expect("server cert");
    let write = |name: &str, text: String, mode: u32| {
        let path = dir.join(name);
        std::fs::write(&path, text).expect("write a certificate");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).expect("chmod");
        chown(&path, account);
        path
    };
    write("server.crt", cert.pem(), 0o644);
    write("server.key", key.serialize_pem(), 0o600);
    write("ca.crt", ca.pem(), 0o644)
}

impl Cluster {
    /// Starts a cluster; `Err` says why not (no server binary, `initdb` failed, ...).
    pub fn start(options: Options) -> Result<Cluster, String> {
        let bin = find_bin().ok_or("no PostgreSQL server binary (postgres, initdb) found")?;
        let account = server_account();
        let tmp = if account.is_some() {
            PathBuf::from("/tmp")
        } else {
            std::env::temp_dir()
        };
        sweep(&tmp);
        let dir = tempfile::Builder::new()
            .prefix(PREFIX)
            .tempdir_in(&tmp)
            .map_err(|e| format!("temporary folder: {e}"))?
            .keep();
        std::fs::write(dir.join("owner.pid"), std::process::id().to_string())
            .map_err(|e| e.to_string())?;
        chown(&dir, account);
        let data = dir.join("data");
        let init = as_server(&bin.join("initdb"), account)
            .args(["-D".as_ref(), data.as_os_str()])
            .args([
                "-U",
                SUPERUSER,
                "--auth=trust",
                "-E",
                "UTF8",
                "--locale=C.UTF-8",
                "-N",
            ])
            .stdin(Stdio::null())
            .output()
            .map_err(|e| format!("initdb: {e}"))?;
        if !init.status.success() {
            return Err(format!(
                "initdb failed: {}",
                String::from_utf8_lossy(&init.stderr)
            ));
        }
        // Loopback only. The superuser is trusted; every other role gives its password
        // (tests of passwords create one).
        let hba = format!(
            "local all all trust\n\
             host all {SUPERUSER} 127.0.0.1/32 trust\n\
             host all {SUPERUSER} ::1/128 trust\n\
             hostnossl all tls_only 127.0.0.1/32 reject\n\
             host all all 127.0.0.1/32 scram-sha-256\n\
             host all all ::1/128 scram-sha-256\n"
        );
        std::fs::write(data.join("pg_hba.conf"), hba).map_err(|e| e.to_string())?;
        let ca_file = certificates(&data, account);
        let mut settings = vec![
            "listen_addresses=127.0.0.1".to_string(),
            format!("unix_socket_directories={}", dir.display()),
            "max_connections=300".into(),
            "ssl=on".into(),
            "log_min_messages=warning".into(),
            "log_min_error_statement=panic".into(),
        ];
        if options.fast {
            settings.extend(
                [
                    "fsync=off",
                    "synchronous_commit=off",
                    "full_page_writes=off",
                ]
                .map(String::from),
            );
        }
        let mut last_error = String::new();
        for _attempt in 0..5 {
            let port = free_port();
            let log = std::fs::File::create(dir.join("server.log")).map_err(|e| e.to_string())?;
            chown(&dir.join("server.log"), account);
            let mut cmd = as_server(&bin.join("postgres"), account);
            cmd.arg("-D").arg(&data).arg("-p").arg(port.to_string());
            for s in &settings {
                cmd.arg("-c").arg(s);
            }
            cmd.stdin(Stdio::null())
                .stdout(log.try_clone().map_err(|e| e.to_string())?)
                .stderr(log);
            let pid = spawn_on_keeper(cmd)?;
            register_exit(pid, dir.clone());
            match wait_ready(port, pid) {
                Ok(admin) => {
                    return Ok(Cluster {
                        dir,
                        bin,
                        port,
                        pid,
                        ca_file,
                        admin: Mutex::new(admin),
                        next_db: AtomicU64::new(1),
                    })
                }
                Err(e) => {
                    last_error = format!(
                        "{e}: {}",
                        std::fs::read_to_string(dir.join("server.log")).unwrap_or_default()
                    );
                    stop(pid);
                }
            }
        }
        Err(last_error)
    }

    /// `postgres://campaign_test@127.0.0.1:PORT/DB` (the trusted superuser).
    pub fn url(&self, db: &str) -> String {
        format!("postgres://{SUPERUSER}@127.0.0.1:{}/{db}", self.port)
    }

    /// Runs SQL as the superuser on the `postgres` database.
    pub fn sql(&self, sql: &str) -> Result<(), postgres::Error> {
        self.admin
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .batch_execute(sql)
    }

    /// A client of database `db` as the superuser.
    pub fn client(&self, db: &str) -> postgres::Client {
        postgres::Client::connect(
            &format!(
                "host=127.0.0.1 port={} user={SUPERUSER} dbname={db}",
                self.port
            ),
            postgres::NoTls,
        )
        .expect("connect to the test cluster")
    }

    /// A fresh database (from `template` when given); its name.
    pub fn create_db(&self, template: Option<&str>) -> String {
        let n = self.next_db.fetch_add(1, Ordering::Relaxed);
        let name = format!("t{}_{n}", std::process::id());
        let sql = match template {
            // A file copy is far quicker than the WAL-logged default for a small template.
            Some(t) => format!("CREATE DATABASE {name} TEMPLATE {t} STRATEGY FILE_COPY"),
            None => format!("CREATE DATABASE {name}"),
        };
        if let Err(e) = self.sql(&sql) {
            // A server older than 15 has no STRATEGY.
            let plain = sql.replace(" STRATEGY FILE_COPY", "");
            self.sql(&plain)
                .unwrap_or_else(|e2| panic!("{sql}: {e}; {plain}: {e2}"));
        }
        name
    }

    pub fn drop_db(&self, name: &str) {
        let _ = self.sql(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
    }

    /// The server's log so far (for a failing test's message).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("server.log")).unwrap_or_default()
    }
}

/// Spawns `cmd` on a thread that never ends (the server's death signal follows the
/// thread that forked it, not the process); its pid.
fn spawn_on_keeper(mut cmd: Command) -> Result<libc::pid_t, String> {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::Builder::new()
        .name("postgres-keeper".into())
        .spawn(move || {
            let child = cmd.spawn();
            let failed = child.is_err();
            let _ = tx.send(
                child
                    .map(|c| c.id() as libc::pid_t)
                    .map_err(|e| e.to_string()),
            );
            if failed {
                return;
            }
            loop {
                std::thread::park();
            }
        })
        .map_err(|e| e.to_string())?;
    rx.recv().map_err(|e| e.to_string())?
}

fn wait_ready(port: u16, pid: libc::pid_t) -> Result<postgres::Client, String> {
    let start = Instant::now();
    loop {
        match postgres::Client::connect(
            &format!(
                "host=127.0.0.1 port={port} user={SUPERUSER} dbname=postgres connect_timeout=2"
            ),
            postgres::NoTls,
        ) {
            Ok(client) => return Ok(client),
            Err(e) => {
                let mut status = 0;
                // SAFETY: waitpid on our own child, without blocking.
                if unsafe { libc::waitpid(pid, &mut status, libc::WNOHANG) } == pid {
                    return Err("the server stopped at start".into());
                }
                if start.elapsed() > Duration::from_secs(60) {
                    return Err(format!("the server did not answer within 60 s: {e}"));
                }
                std::thread::sleep(Duration::from_millis(50));
            }
        }
    }
}

/// Stops a server: a fast shutdown, waited for (a few seconds at most).
fn stop(pid: libc::pid_t) {
    // SAFETY: signals and waits for our own child.
    unsafe {
        if libc::kill(pid, libc::SIGINT) != 0 {
            return;
        }
        let start = Instant::now();
        let mut status = 0;
        while libc::waitpid(pid, &mut status, libc::WNOHANG) == 0 {
            if start.elapsed() > Duration::from_secs(20) {
                libc::kill(pid, libc::SIGKILL);
                libc::waitpid(pid, &mut status, 0);
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

/// The clusters to stop and remove at exit.
static AT_EXIT: Mutex<Vec<(libc::pid_t, PathBuf)>> = Mutex::new(Vec::new());

fn register_exit(pid: libc::pid_t, dir: PathBuf) {
    static HOOKED: OnceLock<()> = OnceLock::new();
    HOOKED.get_or_init(|| {
        extern "C" fn at_exit() {
            let clusters = std::mem::take(&mut *AT_EXIT.lock().unwrap_or_else(|e| e.into_inner()));
            for (pid, dir) in clusters {
                stop(pid);
                let _ = std::fs::remove_dir_all(&dir);
            }
        }
        // SAFETY: registers a plain function to run at exit.
        unsafe {
            libc::atexit(at_exit);
        }
    });
    AT_EXIT
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .push((pid, dir));
}

/// Says something on the terminal even while the test harness captures output.
/// (The test harness captures `eprintln!`, not the process's stderr.)
#[allow(clippy::disallowed_methods)]
pub fn shout(text: &str) {
    let _ = writeln!(std::io::stderr(), "{text}");
}
