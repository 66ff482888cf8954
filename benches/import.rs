//! `cargo bench --bench import`: imports 1,000,000 generated signers into a campaign
//! already holding 100,000, then exports 100,000 to CSV, running the real release binary
//! under `/usr/bin/time -v` for wall time and peak memory.
//!
//! Goals (2-core machine): import <= 1.5 s wall and <= 200 MB peak; export <= 0.2 s.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use campaign::bench_support::{write_signers_csv, Generated};

const SEED: u64 = 2026;
const EXISTING: u64 = 100_000;
const IMPORTED: u64 = 1_000_000;

struct Run {
    wall: Duration,
    /// User + system CPU seconds (a steadier figure than wall time on a busy machine).
    cpu: Option<f64>,
    peak_kib: Option<u64>,
    stdout: String,
}

fn campaign(home: &Path, args: &[&str]) -> Run {
    let bin = env!("CARGO_BIN_EXE_campaign");
    let timed = Path::new("/usr/bin/time").exists();
    let mut cmd = if timed {
        let mut c = Command::new("/usr/bin/time");
        c.arg("-v").arg(bin);
        c
    } else {
        Command::new(bin)
    };
    cmd.args(args)
        .env("CAMPAIGN_HOME", home)
        .env_remove("CAMPAIGN_DB");
    let start = Instant::now();
    let out = cmd.output().expect("run campaign");
    let elapsed = start.elapsed();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "campaign {args:?} failed:\n{stderr}");
    let peak_kib = stderr
        .lines()
        .find_map(|l| {
            l.trim()
                .strip_prefix("Maximum resident set size (kbytes): ")
        })
        .and_then(|v| v.trim().parse().ok());
    let seconds = |label: &str| {
        stderr
            .lines()
            .find_map(|l| l.trim().strip_prefix(label))
            .and_then(|v| v.trim().parse::<f64>().ok())
    };
    let cpu = seconds("User time (seconds): ")
        .zip(seconds("System time (seconds): "))
        .map(|(u, s)| u + s);
    Run {
        wall: elapsed,
        cpu,
        peak_kib,
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
    }
}

fn generate(path: &Path, start: u64, count: u64) -> Generated {
    let file = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    write_signers_csv(file, SEED, start, count).unwrap()
}

fn report(what: &str, run: &Run, goal_s: f64, goal_mb: Option<f64>) {
    let secs = run.wall.as_secs_f64();
    let mb = run.peak_kib.map(|k| k as f64 / 1024.0);
    let ok = secs <= goal_s && goal_mb.is_none_or(|g| mb.is_none_or(|m| m <= g));
    println!(
        "{what:<40} {secs:>7.3} s wall (goal {goal_s} s)   {} s CPU   peak {}   {}",
        run.cpu
            .map(|c| format!("{c:.2}"))
            .unwrap_or_else(|| "?".into()),
        mb.map(|m| format!("{m:.0} MB"))
            .unwrap_or_else(|| "?".into())
            + &goal_mb
                .map(|g| format!(" (goal {g} MB)"))
                .unwrap_or_default(),
        if ok { "ok" } else { "OVER GOAL" }
    );
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` would too: both just run.
    let dir = tempfile::tempdir().unwrap();
    // CAMPAIGN_BENCH_DIR keeps the generated files and database (for profiling).
    let kept = std::env::var_os("CAMPAIGN_BENCH_DIR").map(std::path::PathBuf::from);
    let base = kept.as_deref().unwrap_or(dir.path());
    let home = base.join("home");
    campaign(
        &home,
        &["account", "--name", "Bench", "--email", "bench@example.org"],
    );
    let slug = |title: &str| {
        let run = campaign(
            &home,
            &[
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
                "1000000",
            ],
        );
        run.stdout.trim().to_string()
    };
    let big = slug("Import bench");
    let export = slug("Export bench");

    let existing_csv = base.join("existing.csv");
    let import_csv = base.join("import.csv");
    let t = Instant::now();
    let existing = generate(&existing_csv, 0, EXISTING);
    let imported = generate(&import_csv, EXISTING, IMPORTED);
    println!(
        "generated {} + {} rows in {:.2} s ({} duplicates, {} invalid in the big file)",
        existing.rows,
        imported.rows,
        t.elapsed().as_secs_f64(),
        imported.duplicates,
        imported.invalid
    );

    // Where the time goes, in this process on one core: reading + validating only.
    let t = Instant::now();
    let mut reader = csv::Reader::from_path(&import_csv).unwrap();
    let map = campaign::domain::signer::HeaderMap::new(reader.headers().unwrap().iter()).unwrap();
    let region = campaign::domain::signer::Region::us();
    let mut record = csv::StringRecord::new();
    let (mut ok, mut phones) = (0u64, 0u64);
    let mut phone_time = Duration::ZERO;
    while reader.read_record(&mut record).unwrap() {
        let raw = map.raw(&record);
        if !raw.phone.is_empty() {
            phones += 1;
            let t = Instant::now();
            std::hint::black_box(campaign::domain::signer::normalize_phone(raw.phone, region));
            phone_time += t.elapsed();
        }
        ok += campaign::domain::signer::validate(&raw, region).is_ok() as u64;
    }
    println!(
        "  (in-process, one core: reading and validating {} rows takes {:.2} s, {} valid; \
         of that, parsing {} phones takes {:.2} s)",
        imported.rows,
        t.elapsed().as_secs_f64() - phone_time.as_secs_f64(),
        ok,
        phones,
        phone_time.as_secs_f64()
    );

    let pre = campaign(
        &home,
        &[
            "--json",
            "enter-signatures",
            &big,
            "--from",
            existing_csv.to_str().unwrap(),
        ],
    );
    report(
        "import 100,000 into an empty campaign",
        &pre,
        1.5,
        Some(200.0),
    );
    campaign(
        &home,
        &[
            "--json",
            "enter-signatures",
            &export,
            "--from",
            existing_csv.to_str().unwrap(),
        ],
    );

    let run = campaign(
        &home,
        &[
            "--json",
            "enter-signatures",
            &big,
            "--from",
            import_csv.to_str().unwrap(),
        ],
    );
    report("import 1,000,000 into 100,000", &run, 1.5, Some(200.0));
    let counts: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(counts["read"], imported.rows);
    assert_eq!(counts["duplicates"], imported.duplicates);
    assert_eq!(counts["rejected"], imported.invalid);
    assert_eq!(counts["added"], imported.valid_unique());
    println!(
        "  counts {}",
        run.stdout.split_whitespace().collect::<String>()
    );

    let out = base.join("export.csv");
    let run = campaign(&home, &["export", &export, "--out", out.to_str().unwrap()]);
    report("export 100,000 to CSV", &run, 0.2, None);
}
