//! Several `campaign` processes on one database: an import holding its transaction while
//! others read, deliver, create and type; many first opens at once; a database from a
//! newer version left untouched.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use expectrl::{Eof, Expect, Session};

use crate::common::Home;

/// The real binary with this home and a cleared environment (like `Home::cmd`), as a
/// plain `std` command so it can run in the background.
fn command(home: &Home, args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_campaign"));
    cmd.env_clear()
        .envs(home.db_envs())
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("CAMPAIGN_HOME", home.path())
        .env("HOME", home.path())
        .env("NO_COLOR", "1")
        .args(args);
    cmd
}

/// True while another process holds the database's write lock (an open import).
pub(crate) fn write_locked(db: &Path) -> bool {
    let conn = rusqlite::Connection::open(db).expect("open the database");
    conn.busy_timeout(Duration::ZERO).unwrap();
    match conn.execute_batch("BEGIN IMMEDIATE; ROLLBACK;") {
        Ok(()) => false,
        Err(e) if e.sqlite_error_code() == Some(rusqlite::ErrorCode::DatabaseBusy) => true,
        Err(e) => panic!("probing the write lock: {e}"),
    }
}

/// Whether process `pid` holds a POSIX lock on `path` (as SQLite's connections do for
/// as long as they are open), from /proc/locks: opening the file here to ask would drop
/// this process's own locks on it.
#[cfg(target_os = "linux")]
fn holds_a_lock(pid: u32, path: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    let inode = format!(":{} ", std::fs::metadata(path).unwrap().ino());
    let pid = format!(" {pid} ");
    std::fs::read_to_string("/proc/locks")
        .unwrap()
        .lines()
        .any(|l| l.contains("POSIX") && l.contains(&pid) && l.contains(&inode))
}

/// Polls `done` every 10 ms for up to 20 s.
fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "timed out waiting until {what}"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Collects a child's pipe on a thread, readable while the child runs.
struct Captured {
    text: Arc<Mutex<Vec<u8>>>,
    thread: Option<JoinHandle<()>>,
}

impl Captured {
    fn new(mut pipe: impl Read + Send + 'static) -> Captured {
        let text = Arc::new(Mutex::new(Vec::new()));
        let sink = Arc::clone(&text);
        let thread = std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = pipe.read(&mut buf) {
                if n == 0 {
                    break;
                }
                sink.lock().unwrap().extend_from_slice(&buf[..n]);
            }
        });
        Captured {
            text,
            thread: Some(thread),
        }
    }

    fn now(&self) -> String {
        String::from_utf8_lossy(&self.text.lock().unwrap()).into_owned()
    }

    /// Everything, once the pipe is closed.
    fn all(&mut self) -> String {
        if let Some(thread) = self.thread.take() {
            thread.join().unwrap();
        }
        self.now()
    }
}

/// `enter-signatures SLUG --from -` fed through a pipe the test keeps open: once the
/// header and some rows are in, the import holds its write transaction until `finish`.
struct LongImport {
    child: Child,
    stdin: Option<ChildStdin>,
    rest: Vec<u8>,
    stdout: Captured,
    stderr: Captured,
}

impl LongImport {
    /// Starts importing `rows` generated signers; returns once the import holds the lock.
    fn start(home: &Home, slug: &str, rows: u64) -> LongImport {
        let mut csv = Vec::new();
        bench_support::write_signers_csv(&mut csv, 7, 50_000, rows).unwrap();
        // The header and about a third of the rows now, the rest at `finish`; at least the
        // megabyte the import reads to choose the encoding before it starts.
        let cut = (csv.len() / 3).max(campaign::ops::import::read::HEAD + 1);
        assert!(
            cut < csv.len(),
            "more rows, please: the first part must pass the sniffed head"
        );
        let cut = cut + csv[cut..].iter().position(|&b| b == b'\n').unwrap() + 1;
        let rest = csv.split_off(cut);
        let mut child = command(home, &["enter-signatures", slug, "--from", "-"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdin = child.stdin.take().unwrap();
        stdin.write_all(&csv).unwrap();
        stdin.flush().unwrap();
        let stdout = Captured::new(child.stdout.take().unwrap());
        let stderr = Captured::new(child.stderr.take().unwrap());
        let db = home.db();
        let mut import = LongImport {
            child,
            stdin: Some(stdin),
            rest,
            stdout,
            stderr,
        };
        wait_until("the import holds the write lock", || {
            if let Some(status) = import.child.try_wait().unwrap() {
                panic!("the import ended early ({status}): {}", import.stderr.now());
            }
            write_locked(&db)
        });
        import
    }

    /// Sends the rest of the file, closes the pipe and waits: (stdout, stderr).
    fn finish(mut self) -> (String, String) {
        let mut stdin = self.stdin.take().unwrap();
        stdin.write_all(&self.rest).unwrap();
        drop(stdin);
        let status = self.child.wait().unwrap();
        let (stdout, stderr) = (self.stdout.all(), self.stderr.all());
        assert!(status.success(), "the import failed: {stderr}");
        (stdout, stderr)
    }
}

impl Drop for LongImport {
    fn drop(&mut self) {
        // A failed assertion must not leave the import waiting on its pipe forever.
        if self.stdin.is_some() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

fn signature_count(home: &Home, slug: &str) -> i64 {
    let mut store = home.store();
    let campaign = store.find_campaign(slug).unwrap();
    let _ = &mut store;
    store.signature_counts(campaign.id).unwrap().total
}

const WAITING: &str = "waiting for another campaign process writing to";

/// Two signers typed in by hand, committed before anything else runs.
fn two_signers(home: &Home, slug: &str) {
    let mut store = home.store();
    let campaign = store.find_campaign(slug).unwrap();
    for (name, email) in [
        ("Nguyễn Thị Minh Khai", "minh@example.org"),
        ("محمد الأحمد", "mohammed@example.org"),
    ] {
        store
            .insert_signature(
                campaign.id,
                &campaign::store::NewSignature {
                    name: name.into(),
                    email: Some(email.into()),
                    postcode: Some("94612".into()),
                    phone_valid: true,
                    dedupe_key: email.into(),
                    ..Default::default()
                },
            )
            .unwrap()
            .unwrap();
    }
}

/// `deliver SLUG --out PDF` in the background; returns once it says it is waiting.
fn waiting_delivery(home: &Home, slug: &str, pdf: &Path) -> (Child, Captured, Captured) {
    let mut deliver = command(home, &["deliver", slug, "--out", pdf.to_str().unwrap()])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let out = Captured::new(deliver.stdout.take().unwrap());
    let err = Captured::new(deliver.stderr.take().unwrap());
    wait_until("deliver says it is waiting", || {
        assert!(
            deliver.try_wait().unwrap().is_none(),
            "deliver ended while the database was busy: {}",
            err.now()
        );
        // The whole notice: it may reach the pipe in more than one write.
        let now = err.now();
        now.find(WAITING).is_some_and(|at| now[at..].contains('\n'))
    });
    (deliver, out, err)
}

#[test]
fn readers_and_a_delivery_work_during_a_long_import() {
    if crate::common::sqlite_only("SQLite has one writer at a time; on PostgreSQL an import blocks nobody (postgres::eight_imports_and_two_typists_at_once...)") {
        return;
    }
    let home = Home::new();
    let slug = home.live_campaign("Oakland Sanctuary");
    two_signers(&home, &slug);

    let import = LongImport::start(&home, &slug, 30_000);

    // Readers answer at once, from what was committed before the import.
    let list = home.json(["list", "--json"]);
    assert_eq!(list[0]["slug"], slug.as_str());
    assert_eq!(list[0]["signatures"]["total"], 2);
    let shown = home.json(["show", &slug, "--json"]);
    assert_eq!(shown["deliveries"].as_array().unwrap().len(), 0);

    // A delivery reads the same snapshot, writes its PDF, then waits to record itself.
    let pdf = home.path().join("delivery.pdf");
    let (mut deliver, mut deliver_out, mut deliver_err) = waiting_delivery(&home, &slug, &pdf);
    let waiting = deliver_err.now();
    assert!(waiting.contains("campaigns.db"), "{waiting}");
    assert!(waiting.contains("an import?"), "{waiting}");

    let (import_out, _) = import.finish();
    assert!(import_out.starts_with("read 30000, added "), "{import_out}");

    let status = deliver.wait().unwrap();
    let (stdout, stderr) = (deliver_out.all(), deliver_err.all());
    assert!(status.success(), "deliver failed: {stderr}");
    assert_eq!(stdout.trim(), pdf.to_str().unwrap());
    assert!(!stderr.contains("error"), "{stderr}");

    let deliveries = home.json(["show", &slug, "--json"])["deliveries"].clone();
    let deliveries = deliveries.as_array().unwrap();
    assert_eq!(deliveries.len(), 1, "the delivery is recorded");
    // What was delivered: the two signers committed when it read, not the import's rows.
    assert_eq!(deliveries[0]["signatures"], 2);
    assert_eq!(deliveries[0]["file"], pdf.to_str().unwrap());
    assert!(signature_count(&home, &slug) > 2_000);
}

#[test]
fn a_delivery_that_waited_is_recorded_when_the_other_process_closes_first() {
    if crate::common::sqlite_only("SQLite has one writer at a time; on PostgreSQL an import blocks nobody (postgres::eight_imports_and_two_typists_at_once...)") {
        return;
    }
    let home = Home::new();
    let slug = home.live_campaign("Oakland Sanctuary");
    two_signers(&home, &slug);
    // This test is the other process: it holds the write lock while deliver waits...
    let other = rusqlite::Connection::open(home.db()).unwrap();
    other.execute_batch("BEGIN IMMEDIATE").unwrap();
    let pdf = home.path().join("delivery.pdf");
    let (mut deliver, mut out, mut err) = waiting_delivery(&home, &slug, &pdf);
    // ... then lets go and closes at once, before deliver's next try. Closing, it checks
    // whether it is the database's last user (it then removes the WAL): deliver's
    // connection must still count, by the lock it holds on the file, or the delivery is
    // written into a removed file. (A process that opens and closes the database file
    // itself silently drops its connections' locks.)
    #[cfg(target_os = "linux")]
    assert!(
        holds_a_lock(deliver.id(), &home.db()),
        "deliver has the database open without its lock"
    );
    other.execute_batch("ROLLBACK").unwrap();
    drop(other);
    let status = deliver.wait().unwrap();
    let (stdout, stderr) = (out.all(), err.all());
    assert!(status.success(), "deliver failed: {stderr}");
    assert_eq!(stdout.trim(), pdf.to_str().unwrap());
    let deliveries = home.json(["show", &slug, "--json"])["deliveries"].clone();
    assert_eq!(
        deliveries.as_array().unwrap().len(),
        1,
        "the delivery is recorded: {deliveries}"
    );
    assert_eq!(deliveries[0]["signatures"], 2);
}

#[test]
fn a_writer_that_gives_up_says_what_happened_and_what_to_do() {
    if crate::common::sqlite_only("SQLite has one writer at a time; on PostgreSQL an import blocks nobody (postgres::eight_imports_and_two_typists_at_once...)") {
        return;
    }
    let home = Home::new();
    let slug = home.live_campaign("Oakland Sanctuary");
    let import = LongImport::start(&home, &slug, 30_000);

    let out: Output = command(&home, &["edit", &slug, "--goal", "900"])
        .env("CAMPAIGN_BUSY_TIMEOUT", "2")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(out.stdout.is_empty());
    assert!(stderr.contains(WAITING), "{stderr}");
    let error = crate::common::error_line(&stderr);
    assert!(error.contains("is still busy after 2 s"), "{error}");
    assert!(error.contains("another campaign process"), "{error}");
    assert!(error.contains("run the command again"), "{error}");
    assert!(error.contains("CAMPAIGN_BUSY_TIMEOUT"), "{error}");
    assert!(!stderr.contains("--db"), "wrong advice: {stderr}");

    import.finish();
    // Nothing half done: the edit was not saved, and now goes through.
    let shown = home.json(["show", &slug, "--json"]);
    assert_eq!(shown["campaign"]["goal"], 500, "{shown}");
    home.ok(["edit", &slug, "--goal", "900"]);
    assert_eq!(
        home.json(["show", &slug, "--json"])["campaign"]["goal"],
        900
    );
}

#[test]
fn ten_new_campaigns_at_once_on_a_fresh_database_all_succeed() {
    // On PostgreSQL an empty database: ten processes migrate it at once.
    let home = Home::fresh();
    home.account();
    assert!(!home.db().exists(), "the database must be fresh");
    let children: Vec<Child> = (0..10)
        .map(|_| {
            command(
                &home,
                &[
                    "new",
                    "--title",
                    "Sanctuary for all",
                    "--target",
                    "Oakland City Council",
                    "--ask",
                    "Declare Oakland a sanctuary city.",
                    "--why",
                    "Our neighbors should live without fear.",
                    "--global",
                ],
            )
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
        })
        .collect();
    let mut slugs = Vec::new();
    for child in children {
        let out = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "a `new` failed: {stderr}");
        slugs.push(String::from_utf8(out.stdout).unwrap().trim().to_string());
    }
    slugs.sort();
    let mut expected: Vec<String> = std::iter::once("sanctuary-for-all".to_string())
        .chain((2..=10).map(|n| format!("sanctuary-for-all-{n}")))
        .collect();
    expected.sort();
    assert_eq!(slugs, expected);

    let list = home.json(["list", "--json"]);
    let mut ids: Vec<i64> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_i64().unwrap())
        .collect();
    ids.sort();
    ids.dedup();
    if crate::common::backend() == crate::common::Backend::Sqlite {
        assert_eq!(ids, (1..=10).collect::<Vec<_>>());
    } else {
        // An identity column's numbers may skip (a slug taken meanwhile), never repeat.
        assert_eq!(ids.len(), 10, "{ids:?}");
    }
    let store = home.store();
    let latest = match crate::common::backend() {
        crate::common::Backend::Sqlite => campaign::store::migrations::LATEST,
        crate::common::Backend::Postgres => campaign::store::postgres::migrations::LATEST,
    };
    assert_eq!(store.schema_version().unwrap(), latest);
    if crate::common::backend() == crate::common::Backend::Sqlite {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(home.db()).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }
}

#[test]
fn a_newer_database_is_refused_before_anything_writes_to_it() {
    if crate::common::sqlite_only(
        "SQLite's user_version; PostgreSQL's: postgres::a_newer_schema_is_refused_untouched",
    ) {
        return;
    }
    let home = Home::new();
    home.account();
    let db = home.db();
    {
        let conn = rusqlite::Connection::open(&db).unwrap();
        conn.execute_batch(
            "CREATE TABLE future (note TEXT); INSERT INTO future VALUES ('made by a later campaign');",
        )
        .unwrap();
        conn.pragma_update(
            None,
            "user_version",
            campaign::store::migrations::LATEST + 5,
        )
        .unwrap();
    }
    let before = std::fs::read(&db).unwrap();

    for args in [
        vec!["list"],
        vec!["show", "1", "--json"],
        vec![
            "new", "--title", "T", "--target", "C", "--ask", "A", "--why", "W", "--global",
        ],
    ] {
        let out = command(&home, &args).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {stderr}");
        assert!(stderr.contains("newer version"), "{args:?}: {stderr}");
        assert!(out.stdout.is_empty(), "{args:?}");
        assert!(
            std::fs::read(&db).unwrap() == before,
            "{args:?} changed the file"
        );
    }
    let conn =
        rusqlite::Connection::open_with_flags(&db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .unwrap();
    let mode: String = conn
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "delete", "the journal mode was changed");
    for suffix in ["-wal", "-journal"] {
        let side = PathBuf::from(format!("{}{suffix}", db.display()));
        assert!(!side.exists(), "{} was created", side.display());
    }
}

#[test]
fn typed_entry_keeps_a_row_typed_while_an_import_holds_the_database() {
    if crate::common::sqlite_only("SQLite has one writer at a time; on PostgreSQL an import blocks nobody (postgres::eight_imports_and_two_typists_at_once...)") {
        return;
    }
    let home = Home::new();
    let slug = home.live_campaign("Oakland Sanctuary");
    let mut store = home.store();
    let c = store.find_campaign(&slug).unwrap();
    store
        .record_sheets(c.id, &campaign::domain::sheets::prefix(&c.slug), 1, 10)
        .unwrap();
    drop(store);

    let mut cmd = command(&home, &["enter-signatures", &slug]);
    // Short, so the store gives up a wait in the test and typed entry must retry it.
    cmd.env("CAMPAIGN_BUSY_TIMEOUT", "2").env("TERM", "dumb");
    let mut p = Session::spawn(cmd).expect("spawn in a pty");
    p.set_expect_timeout(Some(Duration::from_secs(20)));
    p.expect("Sheet id").unwrap();
    p.send_line("OAK-0001").unwrap();
    p.expect("line 1 · ").unwrap();

    // Another volunteer starts an import in another terminal while this one types.
    let import = LongImport::start(&home, &slug, 30_000);
    p.expect("Name: ").unwrap();
    p.send_line("አበበ ቢቂላ").unwrap();
    p.expect("Email: ").unwrap();
    p.send_line("abebe@example.org").unwrap();
    p.expect("ZIP/postcode: ").unwrap();
    p.send_line("94612").unwrap();
    p.expect("Phone: ").unwrap();
    p.send_line("").unwrap();
    p.expect("mailing list? (y/N): ").unwrap();
    p.send("y").unwrap();
    p.expect("show my name? (y/N): ").unwrap();
    p.send("\r").unwrap();

    // The save waits and says so; when the wait runs out the row is kept and retried.
    p.expect(WAITING).unwrap();
    p.expect("your row is kept").unwrap();
    p.expect(WAITING).unwrap();
    import.finish();
    p.expect("saved ✓").unwrap();
    p.expect("line 2 · ").unwrap();
    p.send_line(".").unwrap();
    p.expect("added 1, skipped 0, corrected 0").unwrap();
    p.expect(Eof).unwrap();

    let mut store = home.store();
    let c = store.find_campaign(&slug).unwrap();
    let mut typed = Vec::new();
    store
        .for_each_signer(c.id, &mut |s| {
            if s.email.as_deref() == Some("abebe@example.org") {
                typed.push(s);
            }
            Ok(())
        })
        .unwrap();
    let _ = &mut store;
    assert_eq!(typed.len(), 1, "saved exactly once");
    assert_eq!(typed[0].name, "አበበ ቢቂላ");
    assert_eq!(typed[0].sheet_id.as_deref(), Some("OAK-0001"));
    assert_eq!(typed[0].line, Some(1));
    assert!(typed[0].opt_in);
    assert!(store.signature_counts(c.id).unwrap().total > 400);
}
