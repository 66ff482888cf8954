//! The encrypted database (issue 13): `init --encrypt`, `encrypt`, `passphrase`, where the
//! passphrase comes from, and that no signer is readable in the database's files.

use std::path::{Path, PathBuf};

use campaign::keyfile::{KeyFile, Passphrase};
use campaign::store::sqlite::cipher;
use rusqlite::Connection;

use crate::common::{
    backend, error_line, sqlite_only, wait_until_reading_terminal, Backend, Home, Ran,
};

const PASS: &str = "correct horse battery staple";
const NAMES: [&str; 4] = [
    "Nguyễn Thị Minh Khai",
    "محمد الأحمد",
    "李娜",
    "Zacarías Quispe",
];
const EMAILS: [&str; 3] = [
    "khai.nguyen@example.org",
    "mohammed@example.net",
    "zq@example.com",
];

/// A home whose every command gets the passphrase through CAMPAIGN_PASSPHRASE_FILE.
struct Enc {
    home: Home,
    pass_file: PathBuf,
}

impl Enc {
    fn new() -> Enc {
        let home = Home::new();
        let pass_file = home.path().join("pass.txt");
        write_private(&pass_file, &format!("{PASS}\n"));
        Enc { home, pass_file }
    }

    fn raw(&self, args: &[&str]) -> Ran {
        let out = self
            .home
            .cmd(args)
            .env("CAMPAIGN_PASSPHRASE_FILE", &self.pass_file)
            .output()
            .unwrap();
        Ran::from_output(&out)
    }

    fn ok(&self, args: &[&str]) -> String {
        let ran = self.raw(args);
        assert_eq!(ran.status, 0, "{args:?}:\n{}\n{}", ran.stdout, ran.stderr);
        assert!(!ran.stderr.contains("error:"), "{}", ran.stderr);
        ran.stdout
    }

    fn json(&self, args: &[&str]) -> serde_json::Value {
        let mut all = vec!["--json"];
        all.extend_from_slice(args);
        serde_json::from_str(&self.ok(&all)).unwrap()
    }

    fn live_campaign(&self) -> String {
        self.ok(&[
            "account",
            "--name",
            "Ana Reyes",
            "--email",
            "ana@example.org",
        ]);
        self.campaign("Oakland Sanctuary")
    }

    fn campaign(&self, title: &str) -> String {
        let slug = self
            .ok(&[
                "new",
                "--title",
                title,
                "--target",
                "Mayor Barbara Lee",
                "--ask",
                "Declare Oakland a sanctuary city for all immigrants.",
                "--why",
                "Our neighbors should live without fear of deportation.",
                "--location",
                "Oakland, CA",
                "--postcode",
                "94612",
                "--url",
                "https://example.org/oakland",
            ])
            .trim()
            .to_string();
        self.ok(&["review", &slug, "--launch"]);
        slug
    }

    fn import(&self, slug: &str) {
        let csv = self.home.path().join("signers.csv");
        let mut text = String::from("name,email,zip\n");
        for (i, name) in NAMES.iter().enumerate() {
            let email = EMAILS.get(i).copied().unwrap_or("");
            text.push_str(&format!("{name},{email},9461{i}\n"));
        }
        std::fs::write(&csv, text).unwrap();
        self.ok(&["enter-signatures", slug, "--from", csv.to_str().unwrap()]);
    }
}

fn write_private(path: &Path, text: &str) {
    std::fs::write(path, text).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
}

fn companion(db: &Path, suffix: &str) -> PathBuf {
    let mut name = db.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

/// Every file beside the database whose name starts with the database's.
fn database_files(db: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    ["", "-wal", "-shm", "-journal"]
        .iter()
        .map(|s| companion(db, s))
        .filter(|p| p.exists())
        .map(|p| {
            let bytes = std::fs::read(&p).unwrap();
            (p, bytes)
        })
        .collect()
}

/// A connection of this test process on the encrypted database, keyed like the binary's.
fn keyed(db: &Path) -> Connection {
    let file = KeyFile::parse(&std::fs::read(cipher::key_path(db)).unwrap()).unwrap();
    let key = file.open(&Passphrase::new(PASS.into())).unwrap();
    let conn = Connection::open(db).unwrap();
    cipher::apply_key(&conn, &key).unwrap();
    conn
}

#[test]
fn an_encrypted_database_has_no_signer_name_or_email_in_its_db_wal_or_shm() {
    if sqlite_only("SQLCipher encrypts a local file") {
        return;
    }
    let enc = Enc::new();
    let db = enc.home.db();
    let ran = enc.raw(&["init", "--encrypt"]);
    assert_eq!(ran.status, 0, "{}", ran.stderr);
    assert!(ran.stderr.contains("campaigns.db.key"), "{}", ran.stderr);
    let slug = enc.live_campaign();
    // A reader of our own holds a snapshot from before the import: the import's pages
    // stay in the write-ahead log (no checkpoint can move them) and the log stays on disk.
    let reader = keyed(&db);
    reader.execute_batch("BEGIN").unwrap();
    let _: i64 = reader
        .query_row("SELECT count(*) FROM signatures", [], |r| r.get(0))
        .unwrap();
    enc.import(&slug);
    let files = database_files(&db);
    let wal = files
        .iter()
        .find(|(p, _)| p.to_string_lossy().ends_with("-wal"))
        .expect("the write-ahead log is there");
    assert!(
        wal.1.len() > 32 + 2 * (24 + 4096),
        "the log holds frames: {} bytes",
        wal.1.len()
    );
    assert!(files
        .iter()
        .any(|(p, _)| p.to_string_lossy().ends_with("-shm")));
    for (path, bytes) in &files {
        assert!(!bytes.starts_with(b"SQLite format 3"), "{}", path.display());
        for needle in NAMES
            .iter()
            .chain(&EMAILS)
            .chain(&["Oakland Sanctuary", "Ana Reyes"])
        {
            assert!(
                !contains(bytes, needle),
                "{needle:?} readable in {}",
                path.display()
            );
        }
    }
    drop(reader);
    // Everything is there for whoever has the passphrase.
    let out = enc.ok(&["export", &slug, "--format", "jsonl"]);
    for name in NAMES {
        assert!(out.contains(name), "{out}");
    }
    // The key file is private and holds neither the passphrase nor the data key in clear.
    let key_file = cipher::key_path(&db);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&key_file).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }
    assert!(!contains(&std::fs::read(&key_file).unwrap(), PASS));
}

#[test]
fn a_wrong_passphrase_fails_clearly_and_writes_nothing() {
    if sqlite_only("SQLCipher encrypts a local file") {
        return;
    }
    let enc = Enc::new();
    enc.ok(&["init", "--encrypt"]);
    let slug = enc.live_campaign();
    let db = enc.home.db();
    let snapshot = || {
        let mut all: Vec<(PathBuf, Vec<u8>, std::time::SystemTime)> = Vec::new();
        for entry in std::fs::read_dir(enc.home.path()).unwrap() {
            let p = entry.unwrap().path();
            if p.is_file() {
                let m = std::fs::metadata(&p).unwrap().modified().unwrap();
                all.push((p.clone(), std::fs::read(&p).unwrap(), m));
            }
        }
        all.sort();
        all
    };
    let wrong = enc.home.path().join("wrong.txt");
    write_private(&wrong, "correct horse battery stapler\n");
    let before = snapshot();
    for args in [
        vec!["list"],
        vec!["show", slug.as_str()],
        vec!["export", slug.as_str()],
        vec!["passphrase", "--new-passphrase-file", "/nonexistent"],
    ] {
        let start = std::time::Instant::now();
        let out = enc
            .home
            .cmd(&args)
            .env("CAMPAIGN_PASSPHRASE_FILE", &wrong)
            .output()
            .unwrap();
        let ran = Ran::from_output(&out);
        let took = start.elapsed();
        assert_eq!(ran.status, 1, "{args:?}: {}", ran.stderr);
        assert!(
            error_line(&ran.stderr).starts_with("wrong passphrase for "),
            "{}",
            ran.stderr
        );
        assert!(ran.stderr.contains("nothing was changed"), "{}", ran.stderr);
        assert!(ran.stdout.is_empty());
        // Not a timed assertion of the suite's speed: the bound, with room.
        assert!(took.as_secs() < 10, "{took:?}");
    }
    let after = snapshot();
    let names = |s: &[(PathBuf, Vec<u8>, std::time::SystemTime)]| {
        s.iter().map(|(p, ..)| p.clone()).collect::<Vec<_>>()
    };
    assert_eq!(names(&before), names(&after), "files came or went");
    for (b, a) in before.iter().zip(&after) {
        assert!(b == a, "a wrong passphrase changed {}", b.0.display());
    }
    assert!(
        !companion(&db, "-wal").exists(),
        "no write-ahead log was created"
    );
}

#[test]
fn the_passphrase_comes_from_a_descriptor_or_a_private_file_never_the_environment() {
    if sqlite_only("SQLCipher encrypts a local file") {
        return;
    }
    let enc = Enc::new();
    enc.ok(&["init", "--encrypt"]);
    let home = &enc.home;
    // A descriptor: `--passphrase-fd 3 3< pass.txt`.
    let mut cmd = home.std_cmd();
    cmd.args(["--passphrase-fd", "3", "list"]);
    let pass = std::fs::File::open(&enc.pass_file).unwrap();
    #[cfg(unix)]
    unsafe {
        use std::os::fd::AsRawFd;
        use std::os::unix::process::CommandExt;
        let fd = pass.as_raw_fd();
        cmd.pre_exec(move || {
            // `3< pass.txt`: a copy of the file on descriptor 3, kept across exec.
            if fd != 3 && libc::dup2(fd, 3) < 0 {
                return Err(std::io::Error::last_os_error());
            }
            if libc::fcntl(3, libc::F_SETFD, 0) < 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let ran = Ran::from_output(&cmd.output().unwrap());
    assert_eq!(ran.status, 0, "{}", ran.stderr);
    // A descriptor that is not open. Closed in the child explicitly: a descriptor another
    // test thread opens at the same moment (a pseudo-terminal) can be inherited as 7.
    let mut closed = home.std_cmd();
    closed.args(["--passphrase-fd", "7", "list"]);
    #[cfg(unix)]
    unsafe {
        use std::os::unix::process::CommandExt;
        closed.pre_exec(|| {
            libc::close(7);
            Ok(())
        });
    }
    let ran = Ran::from_output(&closed.output().unwrap());
    assert_eq!(ran.status, 2, "{}", ran.stderr);
    assert!(
        ran.stderr.contains("descriptor 7 is not open"),
        "{}",
        ran.stderr
    );
    // A file others can read is refused.
    let open = home.path().join("open.txt");
    std::fs::write(&open, format!("{PASS}\n")).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o644)).unwrap();
    }
    let ran = Ran::from_output(
        &home
            .cmd(["list"])
            .env("CAMPAIGN_PASSPHRASE_FILE", &open)
            .output()
            .unwrap(),
    );
    assert_eq!(ran.status, 2, "{}", ran.stderr);
    assert!(ran.stderr.contains("chmod 600"), "{}", ran.stderr);
    // The secret itself in the environment is refused, not read.
    let ran = Ran::from_output(
        &home
            .cmd(["list"])
            .env("CAMPAIGN_PASSPHRASE", PASS)
            .output()
            .unwrap(),
    );
    assert_eq!(ran.status, 2, "{}", ran.stderr);
    assert!(
        ran.stderr
            .contains("CAMPAIGN_PASSPHRASE is set and was not read"),
        "{}",
        ran.stderr
    );
    // No source and no terminal: the flags to pass.
    let ran = Ran::from_output(&home.cmd(["list"]).output().unwrap());
    assert_eq!(ran.status, 2, "{}", ran.stderr);
    assert!(
        ran.stderr
            .contains("--passphrase-fd or CAMPAIGN_PASSPHRASE_FILE"),
        "{}",
        ran.stderr
    );
    // A new passphrase must be long enough.
    let other = Home::new();
    let short = other.path().join("short.txt");
    write_private(&short, "short\n");
    let ran = Ran::from_output(
        &other
            .cmd(["init", "--encrypt"])
            .env("CAMPAIGN_PASSPHRASE_FILE", &short)
            .output()
            .unwrap(),
    );
    assert_eq!(ran.status, 1, "{}", ran.stderr);
    assert!(
        ran.stderr.contains("at least 12 characters"),
        "{}",
        ran.stderr
    );
    assert!(!other.db().exists() && !cipher::key_path(&other.db()).exists());
}

#[test]
fn encrypt_converts_a_plain_database_keeping_every_row() {
    if sqlite_only("SQLCipher encrypts a local file") {
        return;
    }
    let enc = Enc::new();
    let db = enc.home.db();
    let slug = enc.live_campaign();
    enc.import(&slug);
    let export_before = enc.ok(&["export", &slug, "--format", "jsonl"]);
    let show_before = enc.json(&["show", &slug]);
    let version_before: i64 = Connection::open(&db)
        .unwrap()
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert!(std::fs::read(&db).unwrap().starts_with(b"SQLite format 3"));

    let ran = enc.raw(&["encrypt"]);
    assert_eq!(ran.status, 0, "{}", ran.stderr);
    assert!(ran.stderr.contains("rows in"), "{}", ran.stderr);
    assert!(
        ran.stderr.contains("old plain file's blocks"),
        "{}",
        ran.stderr
    );

    for (path, bytes) in database_files(&db) {
        assert!(!bytes.starts_with(b"SQLite format 3"), "{}", path.display());
        for name in NAMES {
            assert!(!contains(&bytes, name), "{name} in {}", path.display());
        }
    }
    assert!(!companion(&db, ".encrypting").exists());
    assert!(!companion(&db, ".key.new").exists());
    assert_eq!(
        enc.ok(&["export", &slug, "--format", "jsonl"]),
        export_before
    );
    assert_eq!(enc.json(&["show", &slug]), show_before);
    let version: i64 = keyed(&db)
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(version, version_before);
    // Twice is refused, with the way to change the passphrase.
    let ran = enc.raw(&["encrypt"]);
    assert_eq!(ran.status, 1);
    assert!(ran.stderr.contains("already encrypted"), "{}", ran.stderr);
}

#[test]
fn passphrase_rewraps_the_key_and_the_old_passphrase_stops_working() {
    if sqlite_only("SQLCipher encrypts a local file") {
        return;
    }
    let enc = Enc::new();
    enc.ok(&["init", "--encrypt"]);
    let slug = enc.live_campaign();
    let db_before = std::fs::read(enc.home.db()).unwrap();
    let new_file = enc.home.path().join("new.txt");
    write_private(&new_file, "a brand new passphrase\n");
    let ran = enc.raw(&[
        "passphrase",
        "--new-passphrase-file",
        new_file.to_str().unwrap(),
    ]);
    assert_eq!(ran.status, 0, "{}", ran.stderr);
    assert!(ran.stderr.contains("not re-encrypted"), "{}", ran.stderr);
    // The data was not rewritten, only the key file.
    assert!(std::fs::read(enc.home.db()).unwrap() == db_before);
    let ran = enc.raw(&["show", &slug]);
    assert_eq!(ran.status, 1);
    assert!(ran.stderr.contains("wrong passphrase"), "{}", ran.stderr);
    let ran = Ran::from_output(
        &enc.home
            .cmd(["show", &slug])
            .env("CAMPAIGN_PASSPHRASE_FILE", &new_file)
            .output()
            .unwrap(),
    );
    assert_eq!(ran.status, 0, "{}", ran.stderr);
}

#[test]
fn a_missing_key_file_is_named_in_the_error() {
    if sqlite_only("SQLCipher encrypts a local file") {
        return;
    }
    let enc = Enc::new();
    enc.ok(&["init", "--encrypt"]);
    enc.live_campaign();
    let db = enc.home.db();
    let key = cipher::key_path(&db);
    let aside = enc.home.path().join("key-copy");
    std::fs::rename(&key, &aside).unwrap();
    let before = std::fs::read(&db).unwrap();
    let ran = enc.raw(&["list"]);
    assert_eq!(ran.status, 1, "{}", ran.stderr);
    assert!(
        ran.stderr.contains("campaigns.db.key is missing"),
        "{}",
        ran.stderr
    );
    assert!(std::fs::read(&db).unwrap() == before);
    // Put back, it works again.
    std::fs::rename(&aside, &key).unwrap();
    enc.ok(&["list"]);
}

/// Every main command on an encrypted database, through the passphrase file.
#[test]
fn every_main_command_works_on_an_encrypted_database() {
    if sqlite_only("SQLCipher encrypts a local file") {
        return;
    }
    let enc = Enc::new();
    enc.ok(&["init", "--encrypt"]);
    let slug = enc.live_campaign();
    enc.import(&slug);
    let more = enc.home.path().join("more.csv");
    std::fs::write(
        &more,
        "name,email,zip\nAmara Okafor,amara@example.org,94607\n",
    )
    .unwrap();
    enc.ok(&[
        "enter-signatures",
        &slug,
        "--from",
        more.to_str().unwrap(),
        "--source",
        "paper",
    ]);
    let list = enc.json(&["list"]);
    assert_eq!(list[0]["slug"], slug.as_str(), "{list}");
    let show = enc.json(&["show", &slug]);
    assert!(show.to_string().contains("\"total\":5"), "{show}");
    enc.ok(&["edit", &slug, "--goal", "900", "--yes"]);
    enc.ok(&["share", &slug]);
    let form = enc.home.path().join("form.pdf");
    enc.ok(&["paper-form", &slug, "--out", form.to_str().unwrap()]);
    let pdf = enc.home.path().join("delivery.pdf");
    enc.ok(&["deliver", &slug, "--out", pdf.to_str().unwrap()]);
    assert!(std::fs::read(&pdf).unwrap().starts_with(b"%PDF"));
    // Several campaigns on lanes, each with its own connection: every one is keyed.
    enc.campaign("Berkeley Sanctuary");
    enc.ok(&["deliver", "--all"]);
    enc.ok(&["offline", &slug]);
    enc.ok(&["online", &slug]);
    enc.ok(&["admins", &slug]);
    enc.ok(&["outbox"]);
    let export = enc.ok(&["export", &slug, "--format", "jsonl"]);
    assert!(
        export.contains("Amara Okafor") && export.contains("李娜"),
        "{export}"
    );
    for (path, bytes) in database_files(&enc.home.db()) {
        assert!(!contains(&bytes, "Amara Okafor"), "{}", path.display());
    }
}

/// On a terminal: a new passphrase is asked twice (never echoed), the current one once.
#[test]
fn on_a_terminal_the_passphrase_is_asked_and_never_echoed() {
    if sqlite_only("SQLCipher encrypts a local file") {
        return;
    }
    use expectrl::{Eof, Expect, Session};
    let home = Home::new();
    let spawn = |args: &[&str]| {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_campaign"));
        cmd.env_clear()
            .env("CAMPAIGN_HOME", home.path())
            .env("HOME", home.path())
            .env("NO_COLOR", "1")
            .env("TERM", "dumb")
            .args(args);
        let mut session = Session::spawn(cmd).expect("spawn in a pty");
        session.set_expect_timeout(Some(std::time::Duration::from_secs(30)));
        session
    };
    // Types a secret once the prompt reads the terminal (a password prompt flushes earlier input).
    let type_secret = |p: &mut expectrl::session::OsSession, line: &str| {
        wait_until_reading_terminal(p.get_process().pid().as_raw());
        p.send_line(line).unwrap();
    };
    let mut p = spawn(&["init", "--encrypt"]);
    p.expect("New passphrase for the campaign database")
        .unwrap();
    type_secret(&mut p, PASS);
    p.expect("Type it again").unwrap();
    type_secret(&mut p, "something else entirely");
    p.expect("did not match").unwrap();
    p.expect("New passphrase for the campaign database")
        .unwrap();
    type_secret(&mut p, PASS);
    p.expect("Type it again").unwrap();
    type_secret(&mut p, PASS);
    let shown = p.expect(Eof).unwrap();
    let shown = String::from_utf8_lossy(shown.as_bytes()).into_owned();
    assert!(shown.contains("Created the encrypted database"), "{shown}");
    assert!(!shown.contains(PASS), "the passphrase was echoed: {shown}");
    assert!(cipher::key_path(&home.db()).exists());

    let mut p = spawn(&["list"]);
    p.expect("Passphrase of the campaign database").unwrap();
    type_secret(&mut p, "not the passphrase at all");
    let shown = p.expect(Eof).unwrap();
    let shown = String::from_utf8_lossy(shown.as_bytes()).into_owned();
    assert!(shown.contains("wrong passphrase for"), "{shown}");

    let mut p = spawn(&["list"]);
    p.expect("Passphrase of the campaign database").unwrap();
    type_secret(&mut p, PASS);
    let shown = p.expect("no campaigns yet").unwrap();
    let shown = String::from_utf8_lossy(shown.as_bytes()).into_owned();
    assert!(!shown.contains(PASS), "the passphrase was echoed: {shown}");
}

#[test]
fn the_encryption_commands_refuse_a_postgresql_database_clearly() {
    if backend() != Backend::Postgres {
        return;
    }
    let home = Home::new();
    home.ok(["list"]);
    for args in [
        &["init", "--encrypt"][..],
        &["encrypt"][..],
        &["passphrase"][..],
    ] {
        home.run(args.iter().copied())
            .status(1)
            .stderr_contains("encryption at rest is for a campaign file on this computer")
            .stderr_contains("sslmode=verify-full")
            .go();
    }
    assert!(
        !cipher::key_path(&home.db()).exists(),
        "no key file written"
    );
}
