//! `cargo bench --bench import`: imports realistic generated files (see
//! `bench_support::Realistic`: a distinct phone on every row in the shapes people type,
//! emails in random order, copies anywhere) with the release binary and, on the same
//! files in the same run, with the Python script a volunteer would write
//! (`benches/import_reference.py`, standard library only), and prints both.
//!
//! Cases, in order, on one campaign (sizes from the environment, defaults in brackets):
//! 1. import IMPORT_BENCH_ROWS [1,000,000] rows into a campaign holding the signers of
//!    IMPORT_BENCH_EXISTING [100,000] rows;      goal 5x the script, peak <= 200 MB;
//! 2. export the campaign (then ~1,065,000 signers) to CSV;       goal 2x the script;
//! 3. import IMPORT_BENCH_ROWS more into it (~1,065,000 by then); goal 4x the script;
//! 4. while another such import runs into a second campaign: `list`, `show --json` and
//!    typed entry (a pseudo-terminal), over and over; goal: each answers within 100 ms.
//! 5. cases 0-3 again on an encrypted database (`init --encrypt`, SQLCipher), each
//!    compared with the same case on the plain one; goal: at most 1.25x the plain wall
//!    time on the imports. Also the cost of unlocking (Argon2id + unwrapping the key, on
//!    every command) and of a wrong passphrase (goal: under 2 s).
//!
//! Wall time is measured here; CPU time (user + system) and peak memory by
//! `/usr/bin/time -v` (`apt-get install time`), else by `wait4`, whose peak is then only
//! an upper bound when it is not above this process's own (printed `<=`). The ratio is
//! the script's time over ours: the figure to watch on a busy machine. Counts are checked against what the generator
//! wrote: ours exactly, the script's too (it reads rows by the same rules).
//!
//! Also measured in this process: generating the files, reading and validating on one
//! core, and the cost per phone of `normalize_phone` against `phonenumber::parse`.
//!
//! Environment: IMPORT_BENCH_ROWS, IMPORT_BENCH_EXISTING; IMPORT_BENCH_PYTHON (the
//! interpreter, default `python3`; `none` skips the script); IMPORT_BENCH_PROBE=0 skips
//! case 4; IMPORT_BENCH_ENCRYPTED=0 skips case 5; CAMPAIGN_BENCH_DIR keeps the files and databases there (a new or empty
//! directory, or one an earlier run made; by default they go under `target/` and are
//! removed at the end). A quick run:
//! `IMPORT_BENCH_ROWS=100000 IMPORT_BENCH_EXISTING=10000 cargo bench --bench import`.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bench_support::{write_realistic_csv, Generated, Realistic};
use campaign::domain::signer::{normalize_phone, validate, HeaderMap, Region};

const SEED: u64 = 2026;
const SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/benches/import_reference.py");

fn env_u64(name: &str, default: u64) -> u64 {
    match std::env::var(name) {
        Ok(v) => v
            .replace('_', "")
            .parse()
            .unwrap_or_else(|_| panic!("{name}={v} is not a number")),
        Err(_) => default,
    }
}

/// One finished process, measured.
struct Run {
    wall: Duration,
    /// User + system CPU seconds.
    cpu: f64,
    peak: Peak,
    stdout: String,
}

/// A process's peak resident memory.
#[derive(Clone, Copy)]
enum Peak {
    Kib(u64),
    /// Only known to be at most this (see [`measure`]).
    AtMostKib(u64),
}

/// This process's own peak resident memory (KiB), from /proc.
fn own_peak_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}

/// Runs `cmd` to the end and measures it: wall time here; CPU time and peak memory by
/// `/usr/bin/time -v` when the machine has it. Without it, `wait4` on the command
/// itself gives them, but Linux starts a child's peak at its parent's (carried across
/// exec): a peak not above this process's own is then only known to be at most that.
fn measure(cmd: Command) -> Run {
    let what = format!("{cmd:?}");
    let time = Path::new("/usr/bin/time");
    let report = tempfile::NamedTempFile::new().unwrap();
    let mut cmd = if time.exists() {
        let mut timed = Command::new(time);
        timed
            .arg("-v")
            .arg("-o")
            .arg(report.path())
            .arg(cmd.get_program())
            .args(cmd.get_args());
        for (k, v) in cmd.get_envs() {
            match v {
                Some(v) => timed.env(k, v),
                None => timed.env_remove(k),
            };
        }
        timed
    } else {
        cmd
    };
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let floor = own_peak_kib();
    let start = Instant::now();
    let child = cmd
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {what}: {e}"));
    let (out, usage) = wait_with_usage(child);
    let wall = start.elapsed();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "{what} failed ({}):\n{stderr}",
        out.status
    );
    let secs = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    let (mut cpu, mut peak) = (
        secs(usage.ru_utime) + secs(usage.ru_stime),
        match usage.ru_maxrss as u64 {
            kib if kib > floor => Peak::Kib(kib),
            _ => Peak::AtMostKib(floor),
        },
    );
    if time.exists() {
        let report = std::fs::read_to_string(report.path()).unwrap_or_default();
        let field = |label: &str| {
            report
                .lines()
                .find_map(|l| l.trim().strip_prefix(label))
                .and_then(|v| v.trim().parse::<f64>().ok())
        };
        if let (Some(u), Some(s), Some(kib)) = (
            field("User time (seconds):"),
            field("System time (seconds):"),
            field("Maximum resident set size (kbytes):"),
        ) {
            (cpu, peak) = (u + s, Peak::Kib(kib as u64));
        }
    }
    Run {
        wall,
        cpu,
        peak,
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
    }
}

/// `wait_with_output`, with the child's resource usage (`wait4`).
fn wait_with_usage(mut child: std::process::Child) -> (std::process::Output, libc::rusage) {
    use std::io::Read;
    use std::os::unix::process::ExitStatusExt;
    let pipe = |mut r: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut s = Vec::new();
            let _ = r.read_to_end(&mut s);
            s
        })
    };
    let out = pipe(Box::new(child.stdout.take().unwrap()));
    let err = pipe(Box::new(child.stderr.take().unwrap()));
    let pid = child.id() as libc::pid_t;
    let mut status = 0;
    // SAFETY: a zeroed rusage is a valid value for wait4 to fill in.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    loop {
        // SAFETY: `pid` is our child, not yet reaped (std never waited for it).
        let r = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
        if r == pid {
            break;
        }
        let e = std::io::Error::last_os_error();
        assert_eq!(e.kind(), std::io::ErrorKind::Interrupted, "wait4: {e}");
    }
    let output = std::process::Output {
        status: std::process::ExitStatus::from_raw(status),
        stdout: out.join().unwrap(),
        stderr: err.join().unwrap(),
    };
    (output, usage)
}

struct Bench {
    home: PathBuf,
    python: Option<String>,
    reference_db: PathBuf,
    /// The passphrase file of an encrypted database (`$CAMPAIGN_PASSPHRASE_FILE`).
    passphrase: Option<PathBuf>,
}

impl Bench {
    fn campaign(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_campaign"));
        cmd.args(args)
            .env("CAMPAIGN_HOME", &self.home)
            .env("NO_COLOR", "1")
            .env_remove("CAMPAIGN_DB")
            .env_remove("CAMPAIGN_PASSPHRASE_FILE");
        if let Some(file) = &self.passphrase {
            cmd.env("CAMPAIGN_PASSPHRASE_FILE", file);
        }
        cmd
    }

    fn ours(&self, args: &[&str]) -> Run {
        measure(self.campaign(args))
    }

    fn script(&self, args: &[&str]) -> Option<Run> {
        let python = self.python.as_ref()?;
        let mut cmd = Command::new(python);
        cmd.arg(SCRIPT).arg(args[0]).arg(&self.reference_db);
        cmd.args(&args[1..]);
        Some(measure(cmd))
    }

    fn new_campaign(&self, title: &str) -> String {
        let run = self.ours(&[
            "new",
            "--title",
            title,
            "--target",
            "Mayor",
            "--ask",
            "Sanctuary now.",
            "--why",
            "Neighbors.",
            "--location",
            "Oakland, CA",
            "--postcode",
            "94612",
            "--goal",
            "5000000",
        ]);
        run.stdout.trim().to_string()
    }

    /// Imports `file` into our campaign `slug` and the script's campaign `id`, checks
    /// both sets of counts and prints the comparison; gives back our run.
    fn import(
        &self,
        what: &str,
        goal: f64,
        slug: &str,
        id: &str,
        file: &Path,
        g: &Generated,
    ) -> Run {
        let path = file.to_str().unwrap();
        let ours = self.ours(&["--json", "enter-signatures", slug, "--from", path]);
        let expected = serde_json::json!({
            "read": g.rows,
            "added": g.valid_unique(),
            "duplicates": g.duplicates,
            "rejected": g.invalid,
        });
        let counts: serde_json::Value = serde_json::from_str(&ours.stdout).unwrap();
        assert_eq!(
            counts, expected,
            "{what}: our counts are not the generator's"
        );
        let script = self.script(&["import", id, path]);
        if let Some(s) = &script {
            let theirs: serde_json::Value = serde_json::from_str(&s.stdout).unwrap();
            assert_eq!(theirs, expected, "{what}: the script's counts differ");
        }
        compare(what, Some(goal), &ours, script.as_ref());
        let peak = ours.peak.mb();
        println!(
            "  peak memory {peak:.0} MB (goal <= 200 MB: {})",
            if peak <= 200.0 { "ok" } else { "OVER GOAL" }
        );
        println!(
            "  counts (both): read {}, added {}, duplicates {}, rejected {}",
            g.rows,
            g.valid_unique(),
            g.duplicates,
            g.invalid
        );
        ours
    }

    /// Imports `file` into `slug` and checks our counts against the generator's.
    fn import_checked(&self, what: &str, slug: &str, file: &Path, g: &Generated) -> Run {
        let ours = self.ours(&[
            "--json",
            "enter-signatures",
            slug,
            "--from",
            file.to_str().unwrap(),
        ]);
        let counts: serde_json::Value = serde_json::from_str(&ours.stdout).unwrap();
        let expected = serde_json::json!({
            "read": g.rows,
            "added": g.valid_unique(),
            "duplicates": g.duplicates,
            "rejected": g.invalid,
        });
        assert_eq!(
            counts, expected,
            "{what}: our counts are not the generator's"
        );
        ours
    }

    /// The median wall time of `runs` runs of `args` that must end with `success`.
    fn median_of(&self, runs: usize, args: &[&str], success: bool) -> Duration {
        let mut times: Vec<Duration> = (0..runs)
            .map(|_| {
                let t = Instant::now();
                let out = self.campaign(args).stdin(Stdio::null()).output().unwrap();
                assert_eq!(
                    out.status.success(),
                    success,
                    "{args:?}: {}",
                    String::from_utf8_lossy(&out.stderr)
                );
                t.elapsed()
            })
            .collect();
        times.sort();
        times[runs / 2]
    }
}

/// Our runs of cases 0-3 on one database: the setup import, case 1, the export, case 3.
struct History {
    setup: Run,
    first: Run,
    export: Run,
    second: Run,
}

/// Case 5: the same history on an encrypted database, case by case against the plain one.
fn encrypted_history(
    base: &Path,
    plain: &Bench,
    plain_runs: &History,
    files: &[(PathBuf, u64, u64)],
    generated: &[Generated],
) {
    let secret = base.join("passphrase");
    std::fs::write(&secret, "correct horse battery staple bench\n").unwrap();
    std::fs::set_permissions(&secret, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
    let enc = Bench {
        home: base.join("home-encrypted"),
        python: None,
        reference_db: plain.reference_db.clone(),
        passphrase: Some(secret),
    };
    enc.ours(&["init", "--encrypt"]);
    enc.ours(&["account", "--name", "Bench", "--email", "bench@example.org"]);
    let slug = enc.new_campaign("Import bench");
    let setup = enc.import_checked("5. setup", &slug, &files[0].0, &generated[0]);
    let first = enc.import_checked("5. case 1", &slug, &files[1].0, &generated[1]);
    let out = base.join("export-encrypted.csv");
    let export = enc.ours(&["export", &slug, "--out", out.to_str().unwrap()]);
    let second = enc.import_checked("5. case 3", &slug, &files[2].0, &generated[2]);
    println!("5. the same on an encrypted database (SQLCipher; plain = cases 0-3 above):");
    for (what, goal, p, e) in [
        ("0. setup import", None, &plain_runs.setup, &setup),
        ("1. import", Some(1.25), &plain_runs.first, &first),
        ("2. export", None, &plain_runs.export, &export),
        ("3. import", Some(1.25), &plain_runs.second, &second),
    ] {
        let wall = e.wall.as_secs_f64() / p.wall.as_secs_f64();
        let cpu = e.cpu / p.cpu.max(1e-9);
        let verdict = match goal {
            Some(g) if wall <= g => format!("  (goal <= {g}x: ok)"),
            Some(g) => format!("  (goal <= {g}x: OVER GOAL)"),
            None => String::new(),
        };
        println!(
            "  {what:<16} plain {:>8.3} s  encrypted {:>8.3} s wall ({wall:.2}x), CPU {:.2}x, \
             peak {:.0} -> {:.0} MB{verdict}",
            p.wall.as_secs_f64(),
            e.wall.as_secs_f64(),
            cpu,
            p.peak.mb(),
            e.peak.mb(),
        );
    }
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    let plain_list = plain.median_of(5, &["list"], true);
    let enc_list = enc.median_of(5, &["list"], true);
    let wrong_file = base.join("wrong-passphrase");
    std::fs::write(&wrong_file, "not the passphrase at all\n").unwrap();
    std::fs::set_permissions(
        &wrong_file,
        std::os::unix::fs::PermissionsExt::from_mode(0o600),
    )
    .unwrap();
    let wrong = Bench {
        passphrase: Some(wrong_file),
        home: enc.home.clone(),
        python: None,
        reference_db: enc.reference_db.clone(),
    };
    let refused = wrong.median_of(3, &["list"], false);
    println!(
        "  campaign list    plain {:.1} ms, encrypted {:.1} ms (unlocking: +{:.1} ms); \
         a wrong passphrase is refused in {:.1} ms (goal < 2000 ms: {})",
        ms(plain_list),
        ms(enc_list),
        ms(enc_list.saturating_sub(plain_list)),
        ms(refused),
        if refused < Duration::from_secs(2) {
            "ok"
        } else {
            "OVER GOAL"
        }
    );
}

fn mb(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

impl Peak {
    fn mb(self) -> f64 {
        match self {
            Peak::Kib(k) | Peak::AtMostKib(k) => mb(k),
        }
    }
}

fn line(who: &str, r: &Run) {
    let at_most = if matches!(r.peak, Peak::AtMostKib(_)) {
        "<="
    } else {
        ""
    };
    println!(
        "  {who:<9} {:>8.3} s wall  {:>8.2} s CPU  peak {at_most:>2}{:>5.0} MB",
        r.wall.as_secs_f64(),
        r.cpu,
        r.peak.mb()
    );
}

fn compare(what: &str, goal: Option<f64>, ours: &Run, script: Option<&Run>) {
    println!("{what}");
    line("campaign", ours);
    let Some(script) = script else {
        println!("  (no script run: no ratio)");
        return;
    };
    line("script", script);
    let wall = script.wall.as_secs_f64() / ours.wall.as_secs_f64();
    let cpu = script.cpu / ours.cpu.max(1e-9);
    let verdict = match goal {
        Some(goal) if wall >= goal => format!("  (goal {goal}x wall: ok)"),
        Some(goal) => format!("  (goal {goal}x wall: BELOW GOAL)"),
        None => String::new(),
    };
    println!("  ratio     {wall:>7.2}x wall  {cpu:>7.2}x CPU{verdict}");
}

fn generate(path: &Path, start: u64, count: u64) -> Generated {
    let file = std::io::BufWriter::with_capacity(1 << 20, std::fs::File::create(path).unwrap());
    write_realistic_csv(file, SEED, start, count).unwrap()
}

/// In this process, on one core: reading and validating a file, and what phones cost.
fn in_process(file: &Path, start: u64, rows: u64) {
    let t = Instant::now();
    let mut reader = csv::Reader::from_path(file).unwrap();
    let map = HeaderMap::new(reader.headers().unwrap().iter()).unwrap();
    let mut record = csv::StringRecord::new();
    let mut ok = 0u64;
    while reader.read_record(&mut record).unwrap() {
        ok += validate(&map.raw(&record), Region::us()).is_ok() as u64;
    }
    println!(
        "in process, one core: reading and validating {rows} rows takes {:.2} s ({ok} valid)",
        t.elapsed().as_secs_f64()
    );

    // Phones of rows not yet seen by this process (normalize_phone caches per thread).
    let n = rows.min(200_000);
    let gen = Realistic::new(SEED, start + rows);
    let phones: Vec<String> = (start..start + n).map(|i| gen.row(i).phone).collect();
    let t = Instant::now();
    for p in &phones {
        std::hint::black_box(normalize_phone(p, Region::us()));
    }
    let ours = t.elapsed().as_secs_f64() / n as f64;
    let sample = &phones[..phones.len().min(20_000)];
    let t = Instant::now();
    for p in sample {
        let parsed = phonenumber::parse(Some(phonenumber::country::Id::US), p);
        std::hint::black_box(
            parsed
                .ok()
                .filter(|p| p.is_valid())
                .map(|p| p.format().mode(phonenumber::Mode::E164).to_string()),
        );
    }
    let crate_only = t.elapsed().as_secs_f64() / sample.len() as f64;
    println!(
        "phones: normalize_phone {:.2} us a call on {n} realistic phones; phonenumber::parse \
         {:.2} us a call ({:.0}x)",
        ours * 1e6,
        crate_only * 1e6,
        crate_only / ours
    );
}

/// Latencies of one kind of probe.
#[derive(Default)]
struct Latencies {
    times: Vec<Duration>,
    failures: Vec<String>,
}

impl Latencies {
    fn report(&self, what: &str) {
        let mut t = self.times.clone();
        t.sort();
        let ms = |d: Duration| d.as_secs_f64() * 1e3;
        let over = t
            .iter()
            .filter(|d| **d > Duration::from_millis(100))
            .count();
        match (t.first(), t.last()) {
            (Some(_), Some(max)) => println!(
                "  {what:<28} {:>4} answers: median {:>7.1} ms, max {:>7.1} ms, {} over 100 ms{}",
                t.len(),
                ms(t[t.len() / 2]),
                ms(*max),
                over,
                if over == 0 && self.failures.is_empty() {
                    "  ok"
                } else {
                    "  OVER GOAL"
                }
            ),
            _ => println!("  {what:<28} no answers"),
        }
        for f in self.failures.iter().take(3) {
            println!("    failed: {f}");
        }
        if self.failures.len() > 3 {
            println!("    ... {} failures in all", self.failures.len());
        }
    }
}

/// Runs `cmd()` until `stop`, timing each run.
fn probe_command(stop: &AtomicBool, cmd: impl Fn() -> Command) -> Latencies {
    let mut l = Latencies::default();
    while !stop.load(Ordering::Relaxed) {
        let t = Instant::now();
        let out = cmd().stdin(Stdio::null()).output().unwrap();
        let took = t.elapsed();
        if out.status.success() {
            l.times.push(took);
        } else {
            l.failures.push(format!(
                "after {:.0} ms: {}",
                took.as_secs_f64() * 1e3,
                String::from_utf8_lossy(&out.stderr).trim()
            ));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    l
}

/// What a typing session said last before it ended (its error), if it ended.
fn last_words(p: &mut expectrl::session::OsSession) -> String {
    use expectrl::Expect;
    p.set_expect_timeout(Some(Duration::from_millis(500)));
    match p.expect(expectrl::Eof) {
        Ok(seen) => String::from_utf8_lossy(seen.as_bytes())
            .lines()
            .rev()
            .find(|l| !l.trim().is_empty())
            .map(|l| format!(": {}", l.trim()))
            .unwrap_or_default(),
        Err(_) => String::new(),
    }
}

/// Types rows into `slug` through a pseudo-terminal until `stop`: the time from the
/// email to the next prompt (the duplicate lookup) and from the last answer to `saved`.
fn probe_typing(stop: &AtomicBool, bench: &Bench, slug: &str) -> (Latencies, Latencies) {
    use expectrl::{Expect, Session};
    let (mut lookups, mut saves) = (Latencies::default(), Latencies::default());
    let mut n = 0u64;
    'session: while !stop.load(Ordering::Relaxed) {
        let mut cmd = bench.campaign(&["enter-signatures", slug]);
        cmd.env("TERM", "dumb");
        let mut p = Session::spawn(cmd).expect("a pseudo-terminal");
        p.set_expect_timeout(Some(Duration::from_secs(30)));
        let start = p
            .expect("Sheet id")
            .and_then(|_| p.send_line(""))
            .map_err(|e| e.to_string());
        if let Err(e) = start {
            saves
                .failures
                .push(format!("starting: {e}{}", last_words(&mut p)));
            let _ = p.get_process_mut().exit(true);
            std::thread::sleep(Duration::from_millis(100));
            continue;
        }
        while !stop.load(Ordering::Relaxed) {
            n += 1;
            let step = |p: &mut expectrl::session::OsSession, prompt: &str, answer: &str| {
                p.expect(prompt)
                    .map_err(|e| format!("waiting for {prompt:?}: {e}"))?;
                p.send_line(answer).map_err(|e| e.to_string())
            };
            let email = format!("typed.probe{n}@example.org");
            let typed = (|| {
                // The line number is in the prompt and moves on by itself.
                step(&mut p, "Name: ", "Ngọc Lan Trần")?;
                step(&mut p, "Email: ", &email)?;
                let t = Instant::now();
                // "ZIP/postcode [94612]: " from the second row on (the last one typed).
                step(&mut p, "ZIP/postcode", "94612")?;
                lookups.times.push(t.elapsed());
                step(&mut p, "Phone: ", &format!("(510) 555-{:04}", n % 10_000))?;
                // One-key answers: Enter takes the default, no line is read.
                p.expect("mailing list? (y/N): ")
                    .map_err(|e| format!("waiting for the mailing list: {e}"))?;
                p.send("\r").map_err(|e| e.to_string())?;
                p.expect("show my name? (y/N): ")
                    .map_err(|e| format!("waiting for the last prompt: {e}"))?;
                let t = Instant::now();
                p.send("\r").map_err(|e| e.to_string())?;
                // Not just "saved": the busy notice says "will be saved as soon as...".
                // A save waits for the import's commit (one writer at a time): measured
                // to the end rather than cut off at the prompts' timeout.
                p.set_expect_timeout(Some(Duration::from_secs(600)));
                let saved = p.expect("saved ✓");
                p.set_expect_timeout(Some(Duration::from_secs(30)));
                saved
                    .map_err(|e| format!("after {:.0} ms: {e}", t.elapsed().as_secs_f64() * 1e3))?;
                saves.times.push(t.elapsed());
                Ok::<_, String>(())
            })();
            if let Err(e) = typed {
                saves.failures.push(format!("{e}{}", last_words(&mut p)));
                let _ = p.get_process_mut().exit(true);
                std::thread::sleep(Duration::from_millis(100));
                continue 'session;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = p.send_line(".");
        let _ = p.expect(expectrl::Eof);
    }
    (lookups, saves)
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` would too: both just run.
    let rows = env_u64("IMPORT_BENCH_ROWS", 1_000_000);
    let existing = env_u64("IMPORT_BENCH_EXISTING", 100_000);
    let probe = env_u64("IMPORT_BENCH_PROBE", 1) != 0;
    let python = match std::env::var("IMPORT_BENCH_PYTHON") {
        Ok(p) if p == "none" || p.is_empty() => None,
        Ok(p) => Some(p),
        Err(_) => Some("python3".to_string()),
    };
    let python = python.filter(|p| {
        let found = Command::new(p)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success());
        if !found {
            println!("no {p}: running without the Python script (no ratios)");
        }
        found
    });
    let kept = std::env::var_os("CAMPAIGN_BENCH_DIR").map(PathBuf::from);
    let (base, _lock) = bench_dir(kept.clone());
    let base = base.as_path();
    let bench = Bench {
        home: base.join("home"),
        python,
        reference_db: base.join("reference.db"),
        passphrase: None,
    };
    let encrypted = env_u64("IMPORT_BENCH_ENCRYPTED", 1) != 0;
    println!(
        "load average at the start: {}",
        std::fs::read_to_string("/proc/loadavg")
            .unwrap_or_default()
            .trim()
    );

    // The campaign's history: `existing` rows, then two files of `rows`; a third file
    // for the probe's campaign.
    let t = Instant::now();
    let files = [
        (base.join("existing.csv"), 0, existing),
        (base.join("first.csv"), existing, rows),
        (base.join("second.csv"), existing + rows, rows),
    ];
    let generated: Vec<Generated> = files
        .iter()
        .map(|(path, start, count)| generate(path, *start, *count))
        .collect();
    let written: u64 = generated.iter().map(|g| g.rows).sum();
    println!(
        "generated {written} realistic rows in {:.2} s ({:.0} rows/s); the first file: {:?}",
        t.elapsed().as_secs_f64(),
        written as f64 / t.elapsed().as_secs_f64(),
        generated[1]
    );
    in_process(&files[1].0, existing, rows);

    bench.ours(&["account", "--name", "Bench", "--email", "bench@example.org"]);
    let slug = bench.new_campaign("Import bench");
    let before = bench.ours(&[
        "--json",
        "enter-signatures",
        &slug,
        "--from",
        files[0].0.to_str().unwrap(),
    ]);
    let script = bench.script(&["import", "1", files[0].0.to_str().unwrap()]);
    compare(
        &format!("0. (setup) import {existing} rows into an empty campaign"),
        None,
        &before,
        script.as_ref(),
    );
    let holding = generated[0].valid_unique();

    let first = bench.import(
        &format!("1. import {rows} rows into a campaign of {holding} signers"),
        5.0,
        &slug,
        "1",
        &files[1].0,
        &generated[1],
    );
    let holding = holding + generated[1].valid_unique();

    let ours_out = base.join("export.csv");
    let ours = bench.ours(&["export", &slug, "--out", ours_out.to_str().unwrap()]);
    let theirs_out = base.join("reference-export.csv");
    let theirs = bench.script(&["export", "1", theirs_out.to_str().unwrap()]);
    let exported = std::io::BufRead::lines(std::io::BufReader::new(
        std::fs::File::open(&ours_out).unwrap(),
    ))
    .count() as u64
        - 1;
    // A signer's name may hold a line break only if typed so; generated ones do not.
    assert_eq!(exported, holding, "export wrote another number of signers");
    if let Some(t) = &theirs {
        let v: serde_json::Value = serde_json::from_str(&t.stdout).unwrap();
        assert_eq!(v["exported"], holding, "the script exported another number");
    }
    compare(
        &format!("2. export {holding} signers to CSV"),
        Some(2.0),
        &ours,
        theirs.as_ref(),
    );

    let second = bench.import(
        &format!("3. import {rows} rows into a campaign of {holding} signers"),
        4.0,
        &slug,
        "1",
        &files[2].0,
        &generated[2],
    );
    let history = History {
        setup: before,
        first,
        export: ours,
        second,
    };

    if probe {
        // The first file again, into a new campaign (so its counts differ: not checked).
        let other = bench.new_campaign("Probe bench");
        let typed = bench.new_campaign("Typing bench");
        let stop = Arc::new(AtomicBool::new(false));
        // Before the import: the same answers on a quiet database.
        let mut idle = Latencies::default();
        for _ in 0..5 {
            let t = Instant::now();
            let out = bench.campaign(&["list"]).output().unwrap();
            assert!(out.status.success());
            idle.times.push(t.elapsed());
        }
        let mut import = bench
            .campaign(&[
                "enter-signatures",
                &other,
                "--from",
                files[1].0.to_str().unwrap(),
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let t = Instant::now();
        // Probes start once the import is under way (it holds the write lock).
        std::thread::sleep(Duration::from_millis(500));
        let (list, show, (lookups, saves)) = std::thread::scope(|s| {
            let list = s.spawn(|| probe_command(&stop, || bench.campaign(&["list"])));
            let show =
                s.spawn(|| probe_command(&stop, || bench.campaign(&["show", &slug, "--json"])));
            let typing = s.spawn(|| probe_typing(&stop, &bench, &typed));
            let status = import.wait().unwrap();
            stop.store(true, Ordering::Relaxed);
            assert!(status.success(), "the probed import failed");
            (
                list.join().unwrap(),
                show.join().unwrap(),
                typing.join().unwrap(),
            )
        });
        println!(
            "4. while importing {rows} rows into another campaign ({:.1} s, probes from 0.5 s):",
            t.elapsed().as_secs_f64()
        );
        idle.report("campaign list, no import");
        list.report("campaign list");
        show.report("campaign show --json");
        lookups.report("typed entry: email lookup");
        saves.report("typed entry: saving a row");
    }
    if encrypted {
        encrypted_history(base, &bench, &history, &files, &generated);
    }
    println!(
        "load average at the end: {}",
        std::fs::read_to_string("/proc/loadavg")
            .unwrap_or_default()
            .trim()
    );
    match kept {
        Some(_) => println!("files and databases kept in {}", base.display()),
        None => std::fs::remove_dir_all(base).unwrap(),
    }
}

/// Marks a directory as the bench's own: only such a directory is ever emptied.
const MARKER: &str = ".campaign-import-bench";

/// The bench's directory, emptied of an earlier run's files: CAMPAIGN_BENCH_DIR (new,
/// empty, or one the bench made before), else one under `target/` (so a run stopped
/// with Ctrl-C leaves its gigabyte there, for the next run to clear, not in /tmp).
///
/// The returned file holds a lock on the directory for the length of the run: a second
/// bench on the same directory stops instead of deleting the first one's files.
fn bench_dir(kept: Option<PathBuf>) -> (PathBuf, std::fs::File) {
    let dir = kept.unwrap_or_else(|| Path::new(env!("CARGO_TARGET_TMPDIR")).join("import-bench"));
    std::fs::create_dir_all(&dir)
        .unwrap_or_else(|e| panic!("cannot make the bench directory {}: {e}", dir.display()));
    let marker = dir.join(MARKER);
    if !marker.exists() {
        let empty = std::fs::read_dir(&dir).unwrap().next().is_none();
        assert!(
            empty,
            "{} holds files the bench did not make: name a new or empty directory",
            dir.display()
        );
        std::fs::write(&marker, "").unwrap();
    }
    let lock = std::fs::File::open(&marker).unwrap();
    // SAFETY: flock on a file descriptor we own.
    let locked = unsafe {
        use std::os::fd::AsRawFd;
        libc::flock(lock.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB)
    };
    assert!(
        locked == 0,
        "another import bench is running in {}: wait for it or name another CAMPAIGN_BENCH_DIR",
        dir.display()
    );
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.file_name() != Some(MARKER.as_ref()) {
            let _ = std::fs::remove_dir_all(&path).or_else(|_| std::fs::remove_file(&path));
        }
    }
    (dir, lock)
}
