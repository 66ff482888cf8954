//! Delivery you can trust: batches never freeze, no file holds two postcodes or replaces
//! an earlier delivery, every record points at a file with its hash, and contact details
//! go out only after a yes.

use std::path::{Path, PathBuf};
use std::time::Duration;

use expectrl::{Eof, Expect, Session};
use sha2::{Digest, Sha256};

use campaign::store::{NewSignature, SqliteStore};

use crate::common::Home;
use crate::trust_files::{import, run_with_timeout, signature_total, std_cmd};

/// Signers with these postcodes exactly as given (straight into the store: an import
/// would check them as ZIP codes).
fn add_raw(home: &Home, slug: &str, postcodes: &[&str]) {
    let mut store = SqliteStore::open(&home.db()).unwrap();
    let id = store.find_campaign(slug).unwrap().id;
    for (i, code) in postcodes.iter().enumerate() {
        let email = format!("p{i}@example.org");
        store
            .insert_signature(
                id,
                &NewSignature {
                    name: format!("Signer {i}"),
                    email: Some(email.clone()),
                    postcode: Some(code.to_string()),
                    dedupe_key: email,
                    ..Default::default()
                },
            )
            .unwrap()
            .unwrap();
    }
}

fn pdf_text(path: &Path) -> String {
    let doc = lopdf::Document::load(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let pages: Vec<u32> = doc.get_pages().keys().copied().collect();
    doc.extract_text(&pages).expect("text")
}

fn sha256(path: &Path) -> String {
    format!("{:x}", Sha256::digest(std::fs::read(path).unwrap()))
}

/// Every delivery recorded for `slug`: (file, sha256).
fn records(home: &Home, slug: &str) -> Vec<(PathBuf, String)> {
    home.json(["show", slug, "--json"])["deliveries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                PathBuf::from(d["file"].as_str().unwrap()),
                d["file_sha256"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// Each record's file holds exactly what was recorded, and no two records share a file.
fn assert_records_hold(home: &Home, slug: &str) {
    let records = records(home, slug);
    let mut files: Vec<&PathBuf> = records.iter().map(|(f, _)| f).collect();
    files.sort();
    files.dedup();
    assert_eq!(
        files.len(),
        records.len(),
        "two records, one file: {records:?}"
    );
    for (file, hash) in &records {
        assert_eq!(
            &sha256(file),
            hash,
            "{} no longer holds its delivery",
            file.display()
        );
    }
}

#[test]
fn batch_delivery_never_freezes_whatever_the_threads() {
    let home = Home::new();
    let slugs: Vec<String> = (0..5)
        .map(|i| home.live_campaign(&format!("Sanctuary for all {i}")))
        .collect();
    for slug in &slugs {
        import(&home, slug, 300, |i| format!("9460{}", i % 4));
    }
    let runs: [(&str, Option<&str>, Vec<&str>); 5] = [
        ("one-thread", Some("1"), vec!["--all"]),
        ("two-threads", Some("2"), vec!["--all"]),
        ("default", None, vec!["--all"]),
        ("two-slugs", Some("1"), vec![&slugs[0], &slugs[1]]),
        ("split", Some("1"), vec!["--all", "--split-by", "postcode"]),
    ];
    for (name, threads, which) in runs {
        let dir = home.path().join(name);
        let mut args = vec!["deliver"];
        args.extend(which.iter().copied());
        args.extend(["--out", dir.to_str().unwrap()]);
        let mut cmd = std_cmd(&home, &args);
        if let Some(n) = threads {
            cmd.env("RAYON_NUM_THREADS", n);
        }
        // Generous: a healthy run takes a second or two; a frozen one never ends.
        let out = run_with_timeout(cmd, Duration::from_secs(60));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{name}: {stderr}");
        let files: Vec<PathBuf> = String::from_utf8(out.stdout)
            .unwrap()
            .lines()
            .map(PathBuf::from)
            .collect();
        let expected = match name {
            "two-slugs" => 2,
            "split" => 20,
            _ => 5,
        };
        assert_eq!(files.len(), expected, "{name}: {files:?}");
        let per_file = if name == "split" { 75 } else { 300 };
        for f in &files {
            assert!(
                pdf_text(f).contains(&format!("Signed by {per_file} people")),
                "{name}: {}",
                f.display()
            );
        }
        let mut left: Vec<String> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".partial"))
            .collect();
        left.sort();
        assert!(left.is_empty(), "{name}: {left:?}");
    }
    for slug in &slugs {
        assert_records_hold(&home, slug);
    }
}

#[test]
fn postcodes_that_look_alike_get_files_of_their_own() {
    let home = Home::new();
    let slug = home.live_campaign("Sanctuary for all");
    let long = "9".repeat(300);
    let codes = ["a/b", "a-b", "a b", "..", "A-B", long.as_str()];
    add_raw(&home, &slug, &codes);
    let dir = home.path().join("split");
    let report = home.json([
        "deliver",
        &slug,
        "--split-by",
        "postcode",
        "--out",
        dir.to_str().unwrap(),
        "--json",
    ]);
    let files = report.as_array().unwrap();
    assert_eq!(files.len(), codes.len(), "{report}");
    let mut paths: Vec<PathBuf> = Vec::new();
    for f in files {
        let path = PathBuf::from(f["file"].as_str().unwrap());
        assert_eq!(path.parent(), Some(dir.as_path()), "{}", path.display());
        assert_eq!(f["signatures"], 1, "{f}");
        let code = f["postcode"].as_str().unwrap();
        let i = codes.iter().position(|c| *c == code).unwrap();
        let text = pdf_text(&path);
        assert!(text.contains(&format!("Signer {i}")), "{code}: {text}");
        paths.push(path);
    }
    paths.sort();
    paths.dedup();
    assert_eq!(paths.len(), codes.len(), "{paths:?}");
    // Nothing outside the folder, nothing half-written inside it.
    let inside = std::fs::read_dir(&dir).unwrap().count();
    assert_eq!(inside, codes.len());
    assert_records_hold(&home, &slug);
    assert_eq!(signature_total(&home, &slug), codes.len() as i64);
}

#[test]
fn a_second_delivery_the_same_day_never_replaces_the_first() {
    let home = Home::new();
    let slug = home.live_campaign("Sanctuary for all");
    import(&home, &slug, 10, |_| "94612".into());
    let first = PathBuf::from(home.ok(["deliver", &slug]).trim());
    import(&home, &slug, 3, |_| "94601".into());
    let second = PathBuf::from(home.ok(["deliver", &slug]).trim());
    assert_ne!(first, second);
    let date = time::OffsetDateTime::now_utc().date().to_string();
    assert!(
        second.ends_with(format!("{slug}-delivery-{date}-2.pdf")),
        "{}",
        second.display()
    );
    assert!(pdf_text(&first).contains("Signed by 10 people"));
    assert!(pdf_text(&second).contains("Signed by 13 people"));

    // --out naming an earlier delivery's file is refused: its record keeps its hash.
    let before = sha256(&first);
    let out = home
        .cmd(["deliver", &slug, "--out", first.to_str().unwrap()])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("earlier delivery") && stderr.contains(first.to_str().unwrap()),
        "{stderr}"
    );
    assert_eq!(sha256(&first), before);

    // Even when that file is gone, its name is not reused.
    std::fs::remove_file(&second).unwrap();
    let third = PathBuf::from(home.ok(["deliver", &slug]).trim());
    assert!(
        third.ends_with(format!("{slug}-delivery-{date}-3.pdf")),
        "{}",
        third.display()
    );
    // Any other file --out names is replaced, once complete.
    let mine = home.path().join("petition.pdf");
    std::fs::write(&mine, "draft").unwrap();
    let written = home.ok(["deliver", &slug, "--out", mine.to_str().unwrap()]);
    assert_eq!(PathBuf::from(written.trim()), mine);
    assert!(pdf_text(&mine).contains("Signed by 13 people"));

    // A folder written with a trailing slash is a folder, even before it exists.
    let folder = home.path().join("to-the-mayor");
    let written = home.ok(["deliver", &slug, "--out", &format!("{}/", folder.display())]);
    assert_eq!(
        PathBuf::from(written.trim()).parent(),
        Some(folder.as_path())
    );

    let records = records(&home, &slug);
    assert_eq!(records.len(), 5);
    for (file, hash) in &records {
        if file != &second {
            assert_eq!(&sha256(file), hash, "{}", file.display());
        }
    }
}

#[test]
fn contact_details_need_a_yes_without_a_terminal() {
    let home = Home::new();
    let slug = home.live_campaign("Sanctuary for all");
    import(&home, &slug, 4, |_| "94612".into());
    for include in ["email", "phone", "email,phone"] {
        let out = home
            .cmd(["deliver", &slug, "--include", include])
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{include}: {stderr}");
        assert!(stderr.contains("--yes"), "{stderr}");
        assert!(out.stdout.is_empty());
    }
    assert!(!home.path().join("documents").exists());
    assert!(records(&home, &slug).is_empty());
    // Without contact details, or with --yes, it goes ahead.
    home.ok(["deliver", &slug]);
    let out = home.ok(["deliver", &slug, "--include", "email", "--yes"]);
    assert!(pdf_text(Path::new(out.trim())).contains("@example.org"));
    assert_eq!(records(&home, &slug).len(), 2);
}

fn deliver_session(home: &Home, slug: &str) -> expectrl::session::OsSession {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_campaign"));
    cmd.env_clear()
        .env("CAMPAIGN_HOME", home.path())
        .env("HOME", home.path())
        .env("NO_COLOR", "1")
        .env("TERM", "dumb")
        .args(["deliver", slug, "--include", "email,phone"]);
    let mut session = Session::spawn(cmd).expect("spawn in a pty");
    session.set_expect_timeout(Some(Duration::from_secs(20)));
    session
}

#[test]
fn contact_details_are_shown_and_asked_on_a_terminal() {
    let home = Home::new();
    let slug = home.live_campaign("Sanctuary for all");
    import(&home, &slug, 7, |_| "94612".into());

    let mut p = deliver_session(&home, &slug);
    p.expect("the email of 7 signers and the phone of 0 signers")
        .unwrap();
    p.expect("Include signers' email and phone?").unwrap();
    p.send("n").unwrap();
    p.expect("nothing delivered").unwrap();
    p.expect(Eof).unwrap();
    assert!(records(&home, &slug).is_empty());

    let mut p = deliver_session(&home, &slug);
    p.expect("Include signers' email and phone?").unwrap();
    p.send("y").unwrap();
    p.expect(".pdf").unwrap();
    p.expect(Eof).unwrap();
    assert_eq!(records(&home, &slug).len(), 1);
}
