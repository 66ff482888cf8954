//! `cargo bench --bench pg`: the PostgreSQL backend against a cluster of its own (the
//! test harness's, `tests/cli/pg_cluster.rs`, with the server's default durability),
//! with the release binary. Prints figures and checks every count; goals are printed
//! beside them, never asserted (a busy machine is not a bug).
//!
//! 1. The physical reference: `psql -c "\copy"` of the realistic file
//!    (`bench_support::Realistic`) into an unindexed table, then ours: the same file
//!    imported into a campaign already holding PG_BENCH_EXISTING [100,000] rows.
//!    Goal: ours within 2x of the reference. PG_BENCH_ROWS [1,000,000].
//! 2. 8 volunteers importing 10,000 rows each at once into one campaign, 20% of the rows
//!    shared by all eight, against the same 8 imports one after another into another
//!    campaign: exact counts for each; goal at least 4x the throughput.
//! 3. `campaign list` on loopback, 30 times: goal under 50 ms from start to exit.
//!
//! Quick run: `PG_BENCH_ROWS=100000 PG_BENCH_EXISTING=10000 cargo bench --bench pg`.

#[path = "../tests/cli/pg_cluster.rs"]
mod pg_cluster;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use bench_support::{write_realistic_csv, Generated};

const SEED: u64 = 2026;

fn env_u64(name: &str, default: u64) -> u64 {
    match std::env::var(name) {
        Ok(v) => v
            .replace('_', "")
            .parse()
            .unwrap_or_else(|_| panic!("{name}={v} is not a number")),
        Err(_) => default,
    }
}

fn load() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .unwrap_or_default()
        .split_whitespace()
        .take(3)
        .collect::<Vec<_>>()
        .join(" ")
}

struct Bench {
    home: PathBuf,
    url: String,
}

impl Bench {
    fn campaign(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_campaign"));
        cmd.args(args)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("CAMPAIGN_HOME", &self.home)
            .env("HOME", &self.home)
            .env("NO_COLOR", "1")
            .env("CAMPAIGN_DB", &self.url);
        cmd
    }

    /// Runs and checks success; stdout and the wall time.
    fn ok(&self, args: &[&str]) -> (String, Duration) {
        let start = Instant::now();
        let out = self.campaign(args).output().expect("run campaign");
        let wall = start.elapsed();
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        (String::from_utf8(out.stdout).unwrap(), wall)
    }

    fn new_campaign(&self, title: &str) -> String {
        let (slug, _) = self.ok(&[
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
        let slug = slug.trim().to_string();
        self.ok(&["review", &slug, "--launch"]);
        slug
    }

    fn import(&self, slug: &str, file: &Path) -> (serde_json::Value, Duration) {
        let (out, wall) = self.ok(&[
            "--json",
            "enter-signatures",
            slug,
            "--from",
            file.to_str().unwrap(),
        ]);
        (serde_json::from_str(&out).unwrap(), wall)
    }
}

fn expected(g: &Generated) -> serde_json::Value {
    serde_json::json!({
        "read": g.rows,
        "added": g.valid_unique(),
        "duplicates": g.duplicates,
        "rejected": g.invalid,
    })
}

fn realistic(path: &Path, start: u64, count: u64) -> Generated {
    let file = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    write_realistic_csv(file, SEED, start, count).unwrap()
}

/// Rows `first..first+count` of the concurrency case: unique people, one key each.
fn simple_rows(first: usize, count: usize) -> String {
    (first..first + count)
        .map(|i| {
            format!(
                "\"Signer {i} Nguyễn\",s{i}@example.org,94612,+1510555{:04}\n",
                i % 10_000
            )
        })
        .collect()
}

fn secs(d: Duration) -> f64 {
    d.as_secs_f64()
}

fn main() {
    let rows = env_u64("PG_BENCH_ROWS", 1_000_000);
    let existing = env_u64("PG_BENCH_EXISTING", 100_000);
    let base = tempfile::Builder::new()
        .prefix("pg-bench-")
        .tempdir_in(concat!(env!("CARGO_MANIFEST_DIR"), "/target"))
        .unwrap();
    println!("load average at the start: {}", load());
    let cluster = match pg_cluster::Cluster::start(pg_cluster::Options { fast: false }) {
        Ok(c) => c,
        Err(e) => {
            println!("no PostgreSQL cluster, nothing measured: {e}");
            return;
        }
    };
    let db = cluster.create_db(None);
    let home = base.path().join("home");
    std::fs::create_dir_all(&home).unwrap();
    let bench = Bench {
        home,
        url: cluster.url(&db),
    };
    bench.ok(&[
        "account",
        "--name",
        "Ana Reyes",
        "--email",
        "ana@example.org",
    ]);

    // 1. The reference and ours on the realistic file.
    let before = base.path().join("existing.csv");
    let file = base.path().join("realistic.csv");
    let t = Instant::now();
    let g_before = realistic(&before, 0, existing);
    let g = realistic(&file, existing, rows);
    println!(
        "generated {existing} + {rows} realistic rows in {:.1} s ({} MB)",
        secs(t.elapsed()),
        std::fs::metadata(&file).unwrap().len() >> 20
    );
    let slug = bench.new_campaign("Sanctuary for all");
    let (counts, _) = bench.import(&slug, &before);
    assert_eq!(counts, expected(&g_before), "the campaign's first rows");

    cluster
        .client(&db)
        .batch_execute(
            "CREATE TABLE copy_reference (name text, email text, zip text, phone text, \
             opt_in text, private text)",
        )
        .unwrap();
    let psql = cluster.bin.join("psql");
    let psql = if psql.is_file() {
        psql
    } else {
        PathBuf::from("psql")
    };
    let start = Instant::now();
    let out = Command::new(&psql)
        .args(["-h", "127.0.0.1", "-p", &cluster.port.to_string()])
        .args([
            "-U",
            pg_cluster::SUPERUSER,
            "-d",
            &db,
            "-v",
            "ON_ERROR_STOP=1",
            "-c",
        ])
        .arg(format!(
            "\\copy copy_reference FROM '{}' WITH (FORMAT csv, HEADER)",
            file.display()
        ))
        .output()
        .expect("psql");
    let reference = start.elapsed();
    assert!(
        out.status.success(),
        "\\copy: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let copied: i64 = cluster
        .client(&db)
        .query_one("SELECT count(*) FROM copy_reference", &[])
        .unwrap()
        .get(0);
    assert_eq!(copied as u64, rows);
    let (counts, ours) = bench.import(&slug, &file);
    assert_eq!(counts, expected(&g), "our counts are not the generator's");
    println!(
        "1. import {rows} realistic rows into a campaign holding {}: \\copy reference {:.2} s, \
         ours {:.2} s: {:.2}x the reference (goal <= 2x); load {}",
        g_before.valid_unique(),
        secs(reference),
        secs(ours),
        secs(ours) / secs(reference),
        load()
    );

    // 2. 8 volunteers at once against the same 8 one after another.
    const SHARED: usize = 2_000;
    const OWN: usize = 8_000;
    let files: Vec<PathBuf> = (0..8)
        .map(|k| {
            let path = base.path().join(format!("volunteer{k}.csv"));
            let text = format!(
                "name,email,zip,phone\n{}{}",
                simple_rows(10_000_000, SHARED),
                simple_rows(20_000_000 + k * OWN, OWN)
            );
            std::fs::write(&path, text).unwrap();
            path
        })
        .collect();
    let together = bench.new_campaign("Eight at once");
    let apart = bench.new_campaign("Eight in a row");
    let check = |results: &[serde_json::Value], what: &str| {
        let mut added = 0;
        let mut duplicates = 0;
        for r in results {
            assert_eq!(r["read"], 10_000, "{what}: {r}");
            assert_eq!(r["rejected"], 0, "{what}: {r}");
            added += r["added"].as_i64().unwrap();
            duplicates += r["duplicates"].as_i64().unwrap();
        }
        assert_eq!(
            added,
            (SHARED + 8 * OWN) as i64,
            "{what}: rows lost or doubled"
        );
        assert_eq!(duplicates, (7 * SHARED) as i64, "{what}");
    };
    let start = Instant::now();
    let results: Vec<serde_json::Value> = std::thread::scope(|s| {
        let runs: Vec<_> = files
            .iter()
            .map(|f| {
                let (bench, together) = (&bench, &together);
                s.spawn(move || bench.import(together, f).0)
            })
            .collect();
        runs.into_iter().map(|r| r.join().unwrap()).collect()
    });
    let concurrent = start.elapsed();
    check(&results, "8 at once");
    let start = Instant::now();
    let results: Vec<serde_json::Value> = files.iter().map(|f| bench.import(&apart, f).0).collect();
    let sequential = start.elapsed();
    check(&results, "8 in a row");
    for slug in [&together, &apart] {
        let (shown, _) = bench.ok(&["show", slug, "--json"]);
        let shown: serde_json::Value = serde_json::from_str(&shown).unwrap();
        assert_eq!(shown["signatures"]["total"], (SHARED + 8 * OWN) as i64);
    }
    println!(
        "2. 8 imports of 10,000 rows (20% shared): at once {:.2} s ({:.0} rows/s), one after \
         another {:.2} s ({:.0} rows/s): {:.2}x the throughput (goal >= 4x); exact counts; load {}",
        secs(concurrent),
        80_000.0 / secs(concurrent),
        secs(sequential),
        80_000.0 / secs(sequential),
        secs(sequential) / secs(concurrent),
        load()
    );

    // 3. `list` latency.
    let mut times: Vec<Duration> = (0..30).map(|_| bench.ok(&["list"]).1).collect();
    times.sort();
    println!(
        "3. `campaign list` on loopback, 30 runs (a campaign of {} signers and two more): \
         median {:.1} ms, p90 {:.1} ms, max {:.1} ms (goal < 50 ms); load {}",
        g_before.valid_unique() + g.valid_unique(),
        secs(times[15]) * 1000.0,
        secs(times[27]) * 1000.0,
        secs(times[29]) * 1000.0,
        load()
    );
    cluster.drop_db(&db);
}
