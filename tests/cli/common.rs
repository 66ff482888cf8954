//! Test helpers: an isolated home per test and a builder for the real binary.
//!
//! `Home::run(args)` in the style of casey/just's tests: say what the run must give
//! (status, stdout, stderr) and it checks all three; a success expects an empty stderr
//! unless the test says what stderr may hold. Every spawn of the binary goes through
//! [`isolate`]: a cleared environment, so an inherited `CAMPAIGN_DB` or `CAMPAIGN_HOME`
//! can never point a test at a real database.
//!
//! The backend switch: the same tests are compiled twice, as `cli` (SQLite files) and
//! as `cli_pg` (PostgreSQL: `tests/cli_pg.rs` includes this crate). In `cli_pg` every
//! `Home` gets a fresh database of one throwaway cluster per run (`pg_cluster.rs`),
//! copied from a template migrated once, and every spawn of the binary gets its URL in
//! `CAMPAIGN_DB`. A test about the SQLite file itself returns early there through
//! [`sqlite_only`], which says why.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use assert_cmd::Command;
use tempfile::TempDir;

use crate::pg_cluster::{self, Cluster};

/// Which database the suite runs against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// The backend of this test crate: PostgreSQL in `cli_pg` (when this machine has a
/// server; else SQLite again, said loudly once), SQLite in `cli`.
pub fn backend() -> Backend {
    if on_pg_crate() && cluster().is_some() {
        Backend::Postgres
    } else {
        Backend::Sqlite
    }
}

/// True (and the reason noted) when this run is on PostgreSQL: a test about the SQLite
/// file (its bytes, permissions, WAL, locks) starts with `if sqlite_only("...") { return; }`.
pub fn sqlite_only(why: &str) -> bool {
    let skip = backend() == Backend::Postgres;
    if skip {
        pg_cluster::shout(&format!("  (SQLite only: {why})"));
    }
    skip
}

fn on_pg_crate() -> bool {
    env!("CARGO_CRATE_NAME") == "cli_pg"
}

/// The run's cluster and its migrated template, started on first use (in `cli_pg`).
/// A cluster that fails to start fails every test that needs it, with the reason.
pub fn cluster() -> Option<&'static (Cluster, String)> {
    type Started = Result<Option<(Cluster, String)>, String>;
    static CLUSTER: OnceLock<Started> = OnceLock::new();
    if !on_pg_crate() {
        return None;
    }
    let started = CLUSTER.get_or_init(|| {
        let cluster = match Cluster::start(pg_cluster::Options { fast: true }) {
            Ok(c) => c,
            Err(e) if pg_cluster::find_bin().is_none() => {
                pg_cluster::shout(&format!(
                    "\n*** NOT TESTED ON POSTGRESQL: {e}; the cli_pg suite runs on SQLite \
                         again (install the Debian package postgresql) ***\n"
                ));
                return Ok(None);
            }
            Err(e) => return Err(format!("the PostgreSQL test cluster did not start: {e}")),
        };
        // The schema, made once by the binary itself (its own migrations), then
        // copied for each test.
        let template = cluster.create_db(None);
        let home = tempfile::tempdir().expect("temp dir");
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_campaign"));
        isolate(&mut cmd, home.path());
        let out = cmd
            .env("CAMPAIGN_DB", cluster.url(&template))
            .arg("list")
            .output()
            .expect("run campaign");
        if !out.status.success() {
            return Err(format!(
                "migrating the template: {}\n{}",
                String::from_utf8_lossy(&out.stderr),
                cluster.log()
            ));
        }
        Ok(Some((cluster, template)))
    });
    match started {
        Ok(started) => started.as_ref(),
        Err(e) => panic!("{e}"),
    }
}

/// A private CAMPAIGN_HOME that disappears with the test (and, on PostgreSQL, its own
/// database, dropped with it).
pub struct Home {
    pub dir: TempDir,
    /// The database's name on the test cluster (PostgreSQL only).
    pub pg_db: Option<String>,
}

impl Drop for Home {
    fn drop(&mut self) {
        if let (Some(db), Some((cluster, _))) = (&self.pg_db, cluster()) {
            cluster.drop_db(db);
        }
    }
}

impl Home {
    pub fn new() -> Home {
        let pg_db = match (backend(), cluster()) {
            (Backend::Postgres, Some((cluster, template))) => {
                Some(cluster.create_db(Some(template)))
            }
            _ => None,
        };
        Home {
            dir: tempfile::tempdir().expect("temp dir"),
            pg_db,
        }
    }

    /// A home whose database (on PostgreSQL) is empty: no schema until a command makes it.
    pub fn fresh() -> Home {
        let pg_db = match (backend(), cluster()) {
            (Backend::Postgres, Some((cluster, _))) => Some(cluster.create_db(None)),
            _ => None,
        };
        Home {
            dir: tempfile::tempdir().expect("temp dir"),
            pg_db,
        }
    }

    /// A home on a SQLite file whatever the suite's backend: a volunteer's laptop, to
    /// merge into (or from) the suite's database.
    pub fn laptop() -> Home {
        Home {
            dir: tempfile::tempdir().expect("temp dir"),
            pg_db: None,
        }
    }

    /// The database every command of this home uses: `--db`'s value.
    pub fn db_arg(&self) -> String {
        match (&self.pg_db, cluster()) {
            (Some(db), Some((cluster, _))) => cluster.url(db),
            _ => self.db().display().to_string(),
        }
    }

    /// This home's database, opened (and migrated) as the binary opens it.
    pub fn store(&self) -> Box<dyn campaign::store::Store> {
        let location = campaign::store::DbLocation::parse(self.db_arg().as_ref()).expect("db");
        campaign::store::open(&location).expect("open the store")
    }

    /// Runs one statement straight on this home's database, as an older version (or
    /// another program) could have written: `sqlite` with `?1..`, or `pg` with `$1..`
    /// (search path: campaign's schema), each parameter text.
    pub fn sql(&self, sqlite: &str, pg: &str, params: &[&str]) {
        match (&self.pg_db, cluster()) {
            (Some(db), Some((cluster, _))) => {
                let mut client = cluster.client(db);
                client.batch_execute("SET search_path = campaign").unwrap();
                let params: Vec<&(dyn postgres::types::ToSql + Sync)> = params
                    .iter()
                    .map(|p| p as &(dyn postgres::types::ToSql + Sync))
                    .collect();
                client
                    .execute(pg, &params)
                    .unwrap_or_else(|e| panic!("{pg}: {e}"));
            }
            _ => {
                rusqlite::Connection::open(self.db())
                    .unwrap()
                    .execute(sqlite, rusqlite::params_from_iter(params))
                    .unwrap_or_else(|e| panic!("{sqlite}: {e}"));
            }
        }
    }

    /// True while another connection to this home's PostgreSQL database is inside an
    /// import's transaction, with rows staged.
    pub fn pg_staging_an_import(&self) -> bool {
        let (Some(db), Some((cluster, _))) = (&self.pg_db, cluster()) else {
            return false;
        };
        let staging: i64 = cluster
            .client(db)
            .query_one(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() \
                 AND pid <> pg_backend_pid() AND xact_start IS NOT NULL \
                 AND query LIKE 'COPY import_rows%'",
                &[],
            )
            .unwrap()
            .get(0);
        staging > 0
    }

    /// The environment for this home's database, for a command built by hand (after
    /// its `env_clear`): `CAMPAIGN_DB` on PostgreSQL, nothing on SQLite.
    pub fn db_envs(&self) -> Vec<(&'static str, String)> {
        match self.pg_db {
            Some(_) => vec![("CAMPAIGN_DB", self.db_arg())],
            None => Vec::new(),
        }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn db(&self) -> PathBuf {
        self.path().join("campaigns.db")
    }

    /// `campaign ARGS...` with this home, no terminal and no inherited settings.
    pub fn cmd<I, S>(&self, args: I) -> Command
    where
        I: IntoIterator<Item = S>,
        S: AsRef<std::ffi::OsStr>,
    {
        let mut cmd = Command::from_std(self.std_cmd());
        cmd.args(args);
        cmd
    }

    /// The binary as a plain `std::process::Command` (for pseudo-terminals, pipes and
    /// children to kill), isolated like [`Home::cmd`].
    pub fn std_cmd(&self) -> std::process::Command {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_campaign"));
        isolate(&mut cmd, self.path());
        cmd.envs(self.db_envs());
        cmd
    }

    /// `campaign ARGS...`, checked when the returned [`Run`] is run (or dropped).
    pub fn run<I, S>(&self, args: I) -> Run
    where
        I: IntoIterator<Item = S>,
        S: AsRef<std::ffi::OsStr>,
    {
        Run {
            cmd: Some(self.cmd(args)),
            status: 0,
            stdout: None,
            stdout_contains: Vec::new(),
            stderr: None,
            stderr_contains: Vec::new(),
            stdin: None,
        }
    }

    /// Runs a command that must succeed and returns its stdout. Its stderr may hold
    /// status lines and warnings, never an error.
    pub fn ok<I, S>(&self, args: I) -> String
    where
        I: IntoIterator<Item = S>,
        S: AsRef<std::ffi::OsStr>,
    {
        let out = self.cmd(args).output().expect("run");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            out.status.success(),
            "command failed ({}):\nstdout: {}\nstderr: {stderr}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
        );
        assert!(
            !stderr.lines().any(|l| l.starts_with("error:")),
            "a success printed an error:\n{stderr}"
        );
        String::from_utf8(out.stdout).expect("utf-8 stdout")
    }

    pub fn json<I, S>(&self, args: I) -> serde_json::Value
    where
        I: IntoIterator<Item = S>,
        S: AsRef<std::ffi::OsStr>,
    {
        let out = self.ok(args);
        serde_json::from_str(&out).unwrap_or_else(|e| panic!("not JSON ({e}): {out}"))
    }

    /// Sets up the organizer account Ana Reyes.
    pub fn account(&self) {
        self.ok([
            "account",
            "--name",
            "Ana Reyes",
            "--email",
            "ana@example.org",
            "--organization",
            "Oakland Sanctuary Coalition",
        ]);
    }

    /// An account and a live local campaign; returns its slug.
    pub fn live_campaign(&self, title: &str) -> String {
        self.account();
        let slug = self
            .ok([
                "new",
                "--title",
                title,
                "--target",
                "Mayor Barbara Lee and the Oakland City Council",
                "--ask",
                "Declare Oakland a sanctuary city for all immigrants.",
                "--why",
                "Our neighbors should live without fear of deportation.",
                "--location",
                "Oakland, CA",
                "--postcode",
                "94612",
                "--goal",
                "500",
                "--url",
                "https://example.org/oakland",
            ])
            .trim()
            .to_string();
        self.ok(["review", &slug, "--launch"]);
        slug
    }
}

/// The one environment every spawn of the binary gets: cleared, then only what it needs
/// (a `PATH` for $EDITOR and friends, the home, no colors).
pub fn isolate(cmd: &mut std::process::Command, home: &Path) {
    cmd.env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("CAMPAIGN_HOME", home)
        .env("NO_COLOR", "1")
        .env("HOME", home);
}

/// One run of the binary and what it must give. Checked by [`Run::go`], or when dropped.
#[must_use = "a Run checks nothing until .go() (or drop)"]
pub struct Run {
    cmd: Option<Command>,
    status: i32,
    stdout: Option<String>,
    stdout_contains: Vec<String>,
    /// `Some` when stderr is said: exactly this.
    stderr: Option<String>,
    stderr_contains: Vec<String>,
    stdin: Option<Vec<u8>>,
}

/// What a checked run gave.
#[derive(Debug)]
pub struct Ran {
    pub status: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Ran {
    /// What a finished process gave, read the one way every test reads it.
    pub fn from_output(out: &std::process::Output) -> Ran {
        Ran {
            status: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    /// The `error: ...` line (the one `report_error` prints).
    pub fn error_line(&self) -> &str {
        error_line(&self.stderr)
    }
}

/// The last `error: ` line of `stderr` (without the prefix), or a panic showing stderr.
pub fn error_line(stderr: &str) -> &str {
    stderr
        .lines()
        .rev()
        .find_map(|l| l.strip_prefix("error: "))
        .unwrap_or_else(|| panic!("no error line in:\n{stderr}"))
}

impl Run {
    /// The exit status expected (0 unless said).
    pub fn status(mut self, status: i32) -> Self {
        self.status = status;
        self
    }

    /// Stdout, exactly.
    pub fn stdout(mut self, text: impl Into<String>) -> Self {
        self.stdout = Some(text.into());
        self
    }

    pub fn stdout_contains(mut self, text: impl Into<String>) -> Self {
        self.stdout_contains.push(text.into());
        self
    }

    /// Stderr, exactly.
    pub fn stderr(mut self, text: impl Into<String>) -> Self {
        self.stderr = Some(text.into());
        self
    }

    /// Stderr holds `text` (and may hold more).
    pub fn stderr_contains(mut self, text: impl Into<String>) -> Self {
        self.stderr_contains.push(text.into());
        self
    }

    /// Runs in `dir` (a relative path in the arguments lands there).
    pub fn current_dir(mut self, dir: &Path) -> Self {
        if let Some(cmd) = self.cmd.as_mut() {
            cmd.current_dir(dir);
        }
        self
    }

    pub fn stdin(mut self, bytes: impl Into<Vec<u8>>) -> Self {
        self.stdin = Some(bytes.into());
        self
    }

    pub fn env(mut self, key: &str, value: impl AsRef<std::ffi::OsStr>) -> Self {
        if let Some(cmd) = self.cmd.as_mut() {
            cmd.env(key, value);
        }
        self
    }

    /// Runs and checks: status, stdout, and stderr (empty on success unless said).
    pub fn go(mut self) -> Ran {
        self.check().expect("ran once")
    }

    fn check(&mut self) -> Option<Ran> {
        let mut cmd = self.cmd.take()?;
        if let Some(stdin) = self.stdin.take() {
            cmd.write_stdin(stdin);
        }
        let out = cmd.output().expect("run");
        String::from_utf8(out.stdout.clone()).expect("utf-8 stdout");
        String::from_utf8(out.stderr.clone()).expect("utf-8 stderr");
        let ran = Ran::from_output(&out);
        let shown = format!(
            "status {}\n--- stdout\n{}--- stderr\n{}",
            ran.status, ran.stdout, ran.stderr
        );
        assert_eq!(ran.status, self.status, "unexpected status:\n{shown}");
        if let Some(stdout) = &self.stdout {
            assert_eq!(&ran.stdout, stdout, "stdout:\n{shown}");
        }
        for text in &self.stdout_contains {
            assert!(
                ran.stdout.contains(text.as_str()),
                "stdout lacks {text:?}:\n{shown}"
            );
        }
        match &self.stderr {
            Some(stderr) => assert_eq!(&ran.stderr, stderr, "stderr:\n{shown}"),
            None if self.status == 0 && self.stderr_contains.is_empty() => {
                assert!(ran.stderr.is_empty(), "a success with stderr:\n{shown}")
            }
            None => {}
        }
        for text in &self.stderr_contains {
            assert!(
                ran.stderr.contains(text.as_str()),
                "stderr lacks {text:?}:\n{shown}"
            );
        }
        Some(ran)
    }
}

impl Drop for Run {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            self.check();
        }
    }
}

/// Every page's text of a PDF, as lopdf extracts it (per glyph, through ToUnicode).
pub fn pdf_text(path: &Path) -> String {
    let doc = lopdf::Document::load(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let pages: Vec<u32> = doc.get_pages().keys().copied().collect();
    doc.extract_text(&pages).expect("text")
}

/// Every ActualText string of every page, in drawing order: how shaped text (Arabic,
/// Hebrew, Devanagari, combining marks) gives its exact characters back.
pub fn pdf_actual_texts(path: &Path) -> Vec<String> {
    let doc = lopdf::Document::load(path).expect("pdf");
    let mut out = Vec::new();
    for (_, id) in doc.get_pages() {
        let content = doc.get_page_content(id);
        let ops = lopdf::content::Content::decode(&content).expect("content ops");
        for op in ops.operations.iter().filter(|op| op.operator == "BDC") {
            let Some(text) = op
                .operands
                .get(1)
                .and_then(|o| o.as_dict().ok())
                .and_then(|d| d.get(b"ActualText").ok())
            else {
                continue;
            };
            let bytes = text.as_str().expect("a string");
            assert_eq!(
                &bytes[..2],
                b"\xFE\xFF",
                "ActualText is UTF-16BE with a BOM"
            );
            let units: Vec<u16> = bytes[2..]
                .chunks(2)
                .map(|c| u16::from_be_bytes([c[0], c[1]]))
                .collect();
            out.push(String::from_utf16(&units).expect("UTF-16"));
        }
    }
    out
}

/// Whether `name` is in a PDF: in its extracted text, or (shaped) in an ActualText,
/// right-to-left names in the drawing order an extractor turns back into reading order.
pub fn pdf_has_name(text: &str, actual: &[String], name: &str) -> bool {
    let rtl = name.chars().any(|c| ('\u{590}'..='\u{8FF}').contains(&c));
    let drawn: String = if rtl {
        name.chars().rev().collect()
    } else {
        name.to_string()
    };
    text.contains(name) || actual.contains(&drawn)
}

/// An `.eml` file, parsed.
pub fn parse_eml(path: &Path) -> mail_parser::Message<'static> {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    mail_parser::MessageParser::default()
        .parse(&bytes[..])
        .expect("a parsable email")
        .into_owned()
}

/// Waits until the process `pid` is blocked reading its terminal, so a line sent next is read.
///
/// A password prompt (console's `read_secure`) prints its text, then switches echo off with
/// `TCSAFLUSH`, which throws away whatever was typed in between: a test that types as soon as it
/// sees the prompt loses the race on a loaded machine and waits forever. Linux's
/// `/proc/PID/syscall` names the system call the process sleeps in (0 = read) and its descriptor.
pub fn wait_until_reading_terminal(pid: i32) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while std::time::Instant::now() < deadline {
        let Ok(call) = std::fs::read_to_string(format!("/proc/{pid}/syscall")) else {
            // No /proc/PID/syscall here (or not readable): the best left is a pause.
            std::thread::sleep(std::time::Duration::from_millis(500));
            return;
        };
        {
            let mut fields = call.split_whitespace();
            if fields.next() == Some("0") {
                let fd = fields
                    .next()
                    .and_then(|fd| i64::from_str_radix(fd.trim_start_matches("0x"), 16).ok());
                let target =
                    fd.and_then(|fd| std::fs::read_link(format!("/proc/{pid}/fd/{fd}")).ok());
                if target.is_some_and(|t| t.starts_with("/dev/pts") || t.starts_with("/dev/tty")) {
                    return;
                }
            }
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    panic!("process {pid} never waited for the terminal");
}
