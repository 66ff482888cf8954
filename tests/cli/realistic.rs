//! The benchmark's realistic files, small: imports give exactly the generator's counts
//! (locked here, so the speed work that follows cannot change them), every signer comes
//! back as written, and the Python yardstick agrees.

use std::collections::HashMap;
use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};
use std::process::Command;

use bench_support::{write_realistic_csv, Generated, PhoneKind, Realistic, RowKind};
use serde_json::json;

use crate::common::Home;

const SEED: u64 = 2026;
/// The campaign's history: rows 0..2,000 already in, then a file of 20,000.
const EXISTING: u64 = 2_000;
const ROWS: u64 = 20_000;

fn generate(path: &Path, start: u64, count: u64) -> Generated {
    let file = BufWriter::new(File::create(path).unwrap());
    write_realistic_csv(file, SEED, start, count).unwrap()
}

fn counts(g: &Generated) -> serde_json::Value {
    json!({
        "read": g.rows,
        "added": g.valid_unique(),
        "duplicates": g.duplicates,
        "rejected": g.invalid,
    })
}

struct Files {
    existing: PathBuf,
    file: PathBuf,
    before: Generated,
    generated: Generated,
}

fn files(home: &Home) -> Files {
    let existing = home.path().join("existing.csv");
    let file = home.path().join("signers.csv");
    let before = generate(&existing, 0, EXISTING);
    let generated = generate(&file, EXISTING, ROWS);
    Files {
        existing,
        file,
        before,
        generated,
    }
}

/// One signer, one key: the import's rule, applied to what an export gives back.
fn key(email: &str, name: &str, postcode: &str) -> String {
    match email.trim() {
        "" => format!("{}\n{}", name.to_lowercase(), postcode),
        email => email.to_lowercase(),
    }
}

#[test]
fn a_realistic_file_imports_with_the_generators_counts_and_every_signer_as_written() {
    let home = Home::new();
    let slug = home.live_campaign("Oakland Sanctuary");
    let f = files(&home);
    // Known answers for this seed: the generator's own report, locked.
    assert_eq!(
        counts(&f.generated),
        json!({"read": 20_000, "added": 19_315, "duplicates": 587, "rejected": 98})
    );
    assert_eq!(
        (f.generated.without_email, f.generated.phones_nanp),
        (398, 19_023)
    );

    let first = home.json([
        "--json",
        "enter-signatures",
        &slug,
        "--from",
        f.existing.to_str().unwrap(),
    ]);
    assert_eq!(first, counts(&f.before));
    let out = home
        .cmd([
            "--json",
            "enter-signatures",
            &slug,
            "--from",
            f.file.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(stdout, counts(&f.generated));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr.contains(&format!("{} rows not imported:", f.generated.invalid))
            && stderr.contains("(pass --rejects FILE to list them all)"),
        "{stderr}"
    );
    // Problems name the field, never the signer.
    assert!(!stderr.contains(" at gmail.com"), "{stderr}");

    // What the campaign holds: for each signer, the first of their rows in the history.
    let bounds = |i: u64| {
        if i < EXISTING {
            EXISTING
        } else {
            EXISTING + ROWS
        }
    };
    let mut expected = HashMap::new();
    for i in 0..EXISTING + ROWS {
        // Each file's rows were generated for the history up to that file.
        let row = Realistic::new(SEED, bounds(i)).row(i);
        if row.kind == RowKind::Invalid {
            continue;
        }
        let zip = if row.zip.len() == 4 {
            format!("0{}", row.zip)
        } else {
            row.zip.clone()
        };
        let name = row.name.trim().to_string();
        expected
            .entry(key(&row.email, &name, &zip))
            .or_insert((row, name, zip));
    }
    let export = home.ok(["export", &slug, "--format", "jsonl"]);
    let mut seen = 0;
    for line in export.lines() {
        let s: serde_json::Value = serde_json::from_str(line).unwrap();
        let text = |field: &str| s[field].as_str().unwrap_or("").to_string();
        let k = key(&text("email"), &text("name"), &text("postcode"));
        let (row, name, zip) = expected
            .get(&k)
            .unwrap_or_else(|| panic!("an exported signer nobody wrote: {s}"));
        seen += 1;
        assert_eq!(text("name"), *name, "{row:?}");
        assert_eq!(text("email"), row.email.trim(), "{row:?}");
        assert_eq!(text("postcode"), *zip, "{row:?}");
        match &row.phone_kind {
            PhoneKind::Nanp(e164) => assert_eq!(text("phone"), *e164, "{row:?}"),
            PhoneKind::NotAPhone => assert_eq!(text("phone"), row.phone, "{row:?}"),
            // Read by the crate: E.164 when valid, else as written.
            PhoneKind::Foreign => {
                let digits: String = row.phone.chars().filter(char::is_ascii_digit).collect();
                let phone = text("phone");
                assert!(
                    phone == row.phone || phone == format!("+{digits}"),
                    "{phone} {row:?}"
                );
            }
        }
        assert_eq!(
            s["opt_in"].as_bool(),
            Some(!row.opt_in.is_empty()),
            "{row:?}"
        );
        assert_eq!(
            s["private"].as_bool(),
            Some(!row.private.is_empty()),
            "{row:?}"
        );
    }
    assert_eq!(seen, expected.len());
    assert_eq!(
        seen as u64,
        f.before.valid_unique() + f.generated.valid_unique()
    );
}

/// `python3`, when this machine has one (the benchmark needs it; the suite does not).
fn python() -> Option<&'static str> {
    let ok = Command::new("python3")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    ok.then_some("python3")
}

#[test]
fn the_python_yardstick_counts_like_the_import() {
    let Some(python) = python() else {
        eprintln!("skipped: no python3 on this machine");
        return;
    };
    let home = Home::new();
    let f = files(&home);
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/import_reference.py");
    let db = home.path().join("reference.db");
    let run = |args: &[&str]| -> serde_json::Value {
        let out = Command::new(python)
            .arg(&script)
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            out.stderr.is_empty(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap()
    };
    let db = db.to_str().unwrap();
    assert_eq!(
        run(&["import", db, "1", f.existing.to_str().unwrap()]),
        counts(&f.before)
    );
    assert_eq!(
        run(&["import", db, "1", f.file.to_str().unwrap()]),
        counts(&f.generated)
    );
    let out = home.path().join("reference-export.csv");
    let total = f.before.valid_unique() + f.generated.valid_unique();
    assert_eq!(
        run(&["export", db, "1", out.to_str().unwrap()]),
        json!({"exported": total})
    );
    let exported = csv::Reader::from_path(&out).unwrap().records().count();
    assert_eq!(exported as u64, total);
}
