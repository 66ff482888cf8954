//! Every file the tool writes: never over the database, the account or an input; an
//! earlier file survives a failed or cut write; devices and FIFOs are written through.

use std::io::Read;
use std::os::unix::fs::FileTypeExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::common::Home;

/// `campaign ARGS...` as a std `Command` (for `pre_exec` and timeouts), with the same
/// isolated environment as `Home::cmd`.
pub(crate) fn std_cmd(home: &Home, args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_campaign"));
    cmd.env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("CAMPAIGN_HOME", home.path())
        .env("HOME", home.path())
        .env("NO_COLOR", "1")
        .args(args);
    cmd
}

/// Runs `cmd` to the end, killing it and failing after `limit`: a hang fails the test
/// instead of the whole suite.
pub(crate) fn run_with_timeout(mut cmd: Command, limit: Duration) -> Output {
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("spawn campaign");
    let drain = |mut pipe: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            let _ = pipe.read_to_end(&mut bytes);
            bytes
        })
    };
    let stdout = drain(Box::new(child.stdout.take().unwrap()));
    let stderr = drain(Box::new(child.stderr.take().unwrap()));
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{cmd:?} still running after {limit:?}: killed (it hung)");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    Output {
        status,
        stdout: stdout.join().unwrap(),
        stderr: stderr.join().unwrap(),
    }
}

const NAMES: [&str; 6] = [
    "Nguyễn Thị Minh Khai",
    "محمد الأحمد",
    "አበበ ቢቂላ",
    "李娜",
    "José Núñez",
    "Wideline Pierre",
];

/// Imports `n` new signers into `slug`, the i-th with postcode `postcode(i)`.
pub(crate) fn import(home: &Home, slug: &str, n: usize, postcode: impl Fn(usize) -> String) {
    let csv = home.path().join(format!("{slug}-signers.csv"));
    let mut text = String::from("name,email,postcode\n");
    // New people each time: numbered on from those already there.
    let first = signature_total(home, slug) as usize;
    for i in first..first + n {
        text.push_str(&format!(
            "\"{} {i}\",s{i}.{slug}@example.org,\"{}\"\n",
            NAMES[i % NAMES.len()],
            postcode(i - first).replace('"', "\"\"")
        ));
    }
    std::fs::write(&csv, text).unwrap();
    home.ok(["enter-signatures", slug, "--from", csv.to_str().unwrap()]);
    std::fs::remove_file(&csv).unwrap();
}

pub(crate) fn signature_total(home: &Home, slug: &str) -> i64 {
    home.json(["show", slug, "--json"])["signatures"]["total"]
        .as_i64()
        .unwrap()
}

fn status_and_stderr(out: &Output) -> (Option<i32>, String) {
    let ran = crate::common::Ran::from_output(out);
    (out.status.code(), ran.stderr)
}

/// Every command that writes a file, aimed at `target`.
fn writers<'a>(slug: &'a str, target: &'a str, input: &'a str) -> Vec<Vec<&'a str>> {
    vec![
        vec!["export", slug, "--out", target],
        vec!["deliver", slug, "--out", target],
        vec!["paper-form", slug, "--out", target],
        vec![
            "enter-signatures",
            slug,
            "--from",
            input,
            "--rejects",
            target,
        ],
    ]
}

#[test]
fn outputs_aimed_at_the_database_or_the_account_are_refused() {
    let home = Home::new();
    let slug = home.live_campaign("Sanctuary for all");
    import(&home, &slug, 20, |i| format!("9460{}", i % 3));
    let db = home.db();
    let config = home.path().join("config.toml");
    let config_before = std::fs::read(&config).unwrap();
    // A batch with one bad row, so the import has rejects to write.
    let input = home.path().join("more.csv");
    std::fs::write(
        &input,
        "name,email\nAna Reyes,ana.r@example.org\nNo Email,\n",
    )
    .unwrap();

    // Another connection holds the database open, so its WAL and shared memory exist.
    let holder = campaign::store::SqliteStore::open(&db).unwrap();
    holder.find_campaign(&slug).unwrap();
    let wal = home.path().join("campaigns.db-wal");
    assert!(
        wal.exists(),
        "the WAL should exist while a connection is open"
    );
    let link = home.path().join("export.csv");
    std::os::unix::fs::symlink(&db, &link).unwrap();
    let hard = home.path().join("copy.db");
    std::fs::hard_link(&db, &hard).unwrap();
    let relative = home.path().join("docs/../campaigns.db");

    let cases: [(PathBuf, &str); 8] = [
        (db.clone(), "the campaigns database"),
        (wal, "write-ahead log"),
        (home.path().join("campaigns.db-shm"), "shared-memory"),
        // Does not exist right now: refused by name.
        (home.path().join("campaigns.db-journal"), "rollback journal"),
        (config.clone(), "your account file"),
        (link, "the campaigns database"),
        (hard, "the campaigns database"),
        (relative, "the campaigns database"),
    ];
    for (target, what) in &cases {
        let t = target.to_str().unwrap();
        for args in writers(&slug, t, input.to_str().unwrap()) {
            let out = home.cmd(&args).output().unwrap();
            let (code, stderr) = status_and_stderr(&out);
            assert_eq!(code, Some(2), "{args:?}: {stderr}");
            assert!(
                stderr.contains("refusing to write") && stderr.contains(t) && stderr.contains(what),
                "{args:?}: {stderr}"
            );
            assert!(out.stdout.is_empty(), "{args:?}");
        }
    }
    drop(holder);
    // Everything still there.
    assert_eq!(signature_total(&home, &slug), 20);
    assert!(home.ok(["list"]).contains(&slug));
    assert_eq!(std::fs::read(&config).unwrap(), config_before);
    assert!(!home.path().join("docs").exists());
    assert!(!home.path().join("campaigns.db-journal").exists());
    assert_eq!(
        home.json(["show", &slug, "--json"])["deliveries"],
        serde_json::json!([])
    );
}

#[test]
fn rejects_naming_the_input_are_refused_even_through_links() {
    let home = Home::new();
    let slug = home.live_campaign("Sanctuary for all");
    let input = home.path().join("signers.csv");
    let mut text = String::from("name,email\n");
    for i in 0..2000 {
        // Every tenth row has no email: a reject.
        if i % 10 == 0 {
            text.push_str(&format!("Nobody {i},\n"));
        } else {
            text.push_str(&format!("{} {i},p{i}@example.org\n", NAMES[i % 6]));
        }
    }
    std::fs::write(&input, &text).unwrap();
    let link = home.path().join("rejects-link.csv");
    std::os::unix::fs::symlink(&input, &link).unwrap();
    let hard = home.path().join("rejects-hard.csv");
    std::fs::hard_link(&input, &hard).unwrap();
    for rejects in [&input, &link, &hard] {
        let out = home
            .cmd([
                "enter-signatures",
                &slug,
                "--from",
                input.to_str().unwrap(),
                "--rejects",
                rejects.to_str().unwrap(),
            ])
            .output()
            .unwrap();
        let (code, stderr) = status_and_stderr(&out);
        assert_eq!(code, Some(2), "{stderr}");
        assert!(
            stderr.contains("refusing to write") && stderr.contains("--from"),
            "{stderr}"
        );
        assert_eq!(std::fs::read_to_string(&input).unwrap(), text);
        assert_eq!(signature_total(&home, &slug), 0);
    }
    // A rejects file of its own works, and is only complete once the import is.
    let rejects = home.path().join("rejects.csv");
    home.ok([
        "enter-signatures",
        &slug,
        "--from",
        input.to_str().unwrap(),
        "--rejects",
        rejects.to_str().unwrap(),
    ]);
    assert_eq!(signature_total(&home, &slug), 1800);
    let listed = std::fs::read_to_string(&rejects).unwrap();
    assert_eq!(listed.lines().count(), 201, "{listed}");
}

/// Runs `campaign ARGS` with files limited to `limit` bytes (a full disk: writes past it
/// fail with EFBIG instead of killing the process).
fn with_file_limit(home: &Home, args: &[&str], limit: u64) -> Output {
    let mut cmd = std_cmd(home, args);
    // SAFETY: only async-signal-safe calls between fork and exec.
    unsafe {
        cmd.pre_exec(move || {
            let lim = libc::rlimit {
                rlim_cur: limit as libc::rlim_t,
                rlim_max: limit as libc::rlim_t,
            };
            if libc::setrlimit(libc::RLIMIT_FSIZE, &lim) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
            Ok(())
        });
    }
    run_with_timeout(cmd, Duration::from_secs(60))
}

fn partials(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".partial"))
        .collect()
}

#[test]
fn a_full_disk_leaves_the_previous_file_intact() {
    let home = Home::new();
    let slug = home.live_campaign("Sanctuary for all");
    import(&home, &slug, 2000, |i| format!("946{:02}", i % 40));
    let dir = home.path().join("exports");
    std::fs::create_dir(&dir).unwrap();

    let csv = dir.join("signers.csv");
    let csv_arg = csv.to_str().unwrap();
    home.ok(["export", &slug, "--out", csv_arg]);
    let before = std::fs::read(&csv).unwrap();
    assert!(before.len() > 100_000, "{} bytes", before.len());
    let out = with_file_limit(
        &home,
        &["export", &slug, "--format", "jsonl", "--out", csv_arg],
        64 * 1024,
    );
    let (code, stderr) = status_and_stderr(&out);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(
        stderr.contains(csv_arg),
        "the error names the file: {stderr}"
    );
    assert_eq!(
        std::fs::read(&csv).unwrap(),
        before,
        "the old export was cut"
    );
    assert_eq!(partials(&dir), Vec::<String>::new());

    // The same for a PDF replacing a file of the organizer's.
    let pdf = dir.join("petition.pdf");
    std::fs::write(&pdf, b"my notes").unwrap();
    let pdf_arg = pdf.to_str().unwrap();
    let out = with_file_limit(&home, &["deliver", &slug, "--out", pdf_arg], 64 * 1024);
    let (code, stderr) = status_and_stderr(&out);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stderr.contains(pdf_arg), "{stderr}");
    assert_eq!(std::fs::read(&pdf).unwrap(), b"my notes");
    assert_eq!(partials(&dir), Vec::<String>::new());
    assert_eq!(
        home.json(["show", &slug, "--json"])["deliveries"],
        serde_json::json!([])
    );
    // With room, it works.
    home.ok(["export", &slug, "--format", "jsonl", "--out", csv_arg]);
    assert_eq!(std::fs::read_to_string(&csv).unwrap().lines().count(), 2000);
}

/// A character device like /dev/full: a private node when this user may make one (so a
/// regression cannot replace the real /dev/full), else /dev/full itself.
fn full_device(home: &Home) -> (PathBuf, bool) {
    let node = home.path().join("full");
    let c = std::ffi::CString::new(node.to_str().unwrap()).unwrap();
    // SAFETY: a plain system call on a path we own.
    let made = unsafe { libc::mknod(c.as_ptr(), libc::S_IFCHR | 0o666, libc::makedev(1, 7)) } == 0;
    if made && std::fs::OpenOptions::new().write(true).open(&node).is_ok() {
        (node, true)
    } else {
        (PathBuf::from("/dev/full"), false)
    }
}

#[test]
fn a_full_device_errors_and_stays_a_device() {
    let home = Home::new();
    let slug = home.live_campaign("Sanctuary for all");
    import(&home, &slug, 50, |_| "94612".into());
    let (device, private) = full_device(&home);
    let d = device.to_str().unwrap();
    let mut commands = vec![vec!["export", &slug, "--out", d]];
    // Delivering to the real /dev/full used to replace it with a PDF: only try that on a
    // private node.
    if private {
        commands.push(vec!["deliver", &slug, "--out", d]);
        commands.push(vec!["paper-form", &slug, "--out", d]);
    }
    for args in commands {
        let out = home.cmd(&args).output().unwrap();
        let (code, stderr) = status_and_stderr(&out);
        assert_eq!(code, Some(1), "{args:?}: {stderr}");
        assert!(
            stderr.contains(d) && stderr.contains("No space left"),
            "{args:?}: {stderr}"
        );
        let meta = std::fs::symlink_metadata(&device).unwrap();
        assert!(meta.file_type().is_char_device(), "{args:?} replaced {d}");
    }
    // Writing to /dev/null is not an error, and leaves it a device.
    home.ok(["export", &slug, "--out", "/dev/null"]);
    assert!(std::fs::metadata("/dev/null")
        .unwrap()
        .file_type()
        .is_char_device());
}

#[test]
fn a_named_pipe_gets_the_bytes_and_stays_a_pipe() {
    let home = Home::new();
    let slug = home.live_campaign("Sanctuary for all");
    import(&home, &slug, 30, |_| "94612".into());
    let fifo = home.path().join("pipe");
    let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    // SAFETY: a plain system call on a path we own.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    for args in [
        vec!["export", slug.as_str(), "--out", fifo.to_str().unwrap()],
        vec!["deliver", slug.as_str(), "--out", fifo.to_str().unwrap()],
    ] {
        let (tx, rx) = std::sync::mpsc::channel();
        let path = fifo.clone();
        // Blocks until the command opens the pipe; left behind (and the test failed)
        // if it never does.
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            let _ = std::fs::File::open(path).and_then(|mut f| f.read_to_end(&mut bytes));
            let _ = tx.send(bytes);
        });
        let out = run_with_timeout(std_cmd(&home, &args), Duration::from_secs(60));
        let (code, stderr) = status_and_stderr(&out);
        assert_eq!(code, Some(0), "{args:?}: {stderr}");
        let got = rx
            .recv_timeout(Duration::from_secs(30))
            .unwrap_or_else(|_| panic!("{args:?}: nothing came through the pipe"));
        if args[0] == "export" {
            let text = String::from_utf8(got).unwrap();
            assert_eq!(text.lines().count(), 31, "{text}");
            assert!(text.contains("李娜") && text.contains("አበበ ቢቂላ"), "{text}");
        } else {
            assert!(got.starts_with(b"%PDF-"), "{} bytes", got.len());
        }
        let meta = std::fs::symlink_metadata(&fifo).unwrap();
        assert!(meta.file_type().is_fifo(), "{args:?} replaced the pipe");
    }
    // Standard output by name: the PDF and nothing after it (not even its path).
    let out = home
        .cmd(["deliver", &slug, "--out", "/dev/stdout"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.stdout.starts_with(b"%PDF-"));
    assert!(out.stdout.ends_with(b"%%EOF\n"), "something after the PDF");
    let out = home
        .cmd(["deliver", &slug, "--out", "/dev/stdout", "--json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
}

#[test]
fn stdout_appended_to_the_database_is_refused() {
    let home = Home::new();
    let slug = home.live_campaign("Sanctuary for all");
    import(&home, &slug, 5, |_| "94612".into());
    let db = std::fs::OpenOptions::new()
        .append(true)
        .open(home.db())
        .unwrap();
    let out = std_cmd(&home, &["export", &slug])
        .stdout(db)
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("the campaigns database"), "{stderr}");
    assert_eq!(signature_total(&home, &slug), 5);
}
