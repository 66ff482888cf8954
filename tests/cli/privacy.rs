//! Issue 13: purge after delivery, retention, forgetting one person. Every test runs on
//! both backends unless it says why not (bytes of a SQLite file).

use std::path::{Path, PathBuf};

use crate::common::{backend, pdf_text, Backend, Home};
use crate::smtp::smtp_server;

/// Signers in every script, with emails and postcodes.
const SIGNERS: [(&str, &str, &str); 5] = [
    ("Nguyễn Thị Minh Khai", "minh.khai@example.org", "94601"),
    ("محمد الأحمد", "mohammed@example.org", "94601"),
    ("李娜", "li.na@example.org", "94612"),
    ("አበበ ቢቂላ", "abebe@example.org", "94612"),
    ("Zoë Ó Súilleabháin", "zoe@example.org", "94607"),
];

/// A CSV of the signers, plus one row rejected for its email (so a rejects file holds a
/// name too). Outside the home: it is the volunteer's file, not one campaign wrote.
fn csv() -> (tempfile::TempDir, PathBuf) {
    let mut text = String::from("name,email,postcode\n");
    for (name, email, postcode) in SIGNERS {
        text.push_str(&format!("{name},{email},{postcode}\n"));
    }
    text.push_str("José Núñez,not an email,94612\n");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("signers.csv");
    std::fs::write(&path, text).unwrap();
    (dir, path)
}

fn import(home: &Home, slug: &str, rejects: &Path) -> serde_json::Value {
    let (_dir, file) = csv();
    let out = home
        .cmd([
            "--json",
            "enter-signatures",
            slug,
            "--from",
            file.to_str().unwrap(),
            "--rejects",
            rejects.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Every regular file under `dir`, recursively.
fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            let meta = std::fs::symlink_metadata(&path).unwrap();
            if meta.is_dir() {
                todo.push(path);
            } else if meta.is_file() {
                out.push(path);
            }
        }
    }
    out
}

/// The files under the home that hold `needle`: in their bytes, or in a PDF's text.
fn holding(home: &Home, needle: &str) -> Vec<PathBuf> {
    files_under(home.path())
        .into_iter()
        .filter(|p| {
            let bytes = std::fs::read(p).unwrap();
            let raw = bytes.windows(needle.len()).any(|w| w == needle.as_bytes());
            let in_pdf = p.extension().is_some_and(|e| e == "pdf") && pdf_text(p).contains(needle);
            raw || in_pdf
        })
        .collect()
}

fn counts(home: &Home, slug: &str) -> (serde_json::Value, serde_json::Value, serde_json::Value) {
    let shown = home.json(["show", slug, "--json"]);
    (
        shown["signatures"].clone(),
        shown["by_postcode"].clone(),
        shown["by_day"].clone(),
    )
}

#[test]
fn after_delivery_and_purge_no_signer_name_is_left_under_campaign_home() {
    let home = Home::new();
    let slug = home.live_campaign("Sanctuary for all");
    let rejects = home.path().join("rejects.csv");
    let report = import(&home, &slug, &rejects);
    assert_eq!(
        (report["added"].as_u64(), report["rejected"].as_u64()),
        (Some(5), Some(1))
    );
    // Two deliveries with names: one sent through a server (sent/), one left for later,
    // then sent too (an unsent one stops the purge: see below).
    let (url, received) = smtp_server();
    home.run([
        "deliver",
        &slug,
        "--email-to",
        "mayor@oakland.example.gov",
        "--send",
    ])
    .env("CAMPAIGN_SMTP_URL", &url)
    .stderr_contains("")
    .go();
    home.ok(["deliver", &slug, "--email-to", "clerk@oakland.example.gov"]);
    home.ok([
        "export",
        &slug,
        "--out",
        home.path().join("copy.csv").to_str().unwrap(),
    ]);
    std::fs::remove_file(home.path().join("copy.csv")).unwrap();
    assert_eq!(received.lock().unwrap().len(), 1);
    let before = counts(&home, &slug);
    assert_eq!(before.0["total"], 5);
    // The names are there before (the test can see them).
    if backend() == Backend::Sqlite {
        assert!(!holding(&home, "李娜").is_empty());
    }
    assert!(!holding(&home, "José Núñez").is_empty(), "the rejects file");

    // The queued email waits: the purge names it and stops.
    home.run(["purge", &slug, "--yes"])
        .status(1)
        .stderr_contains("1 email of sanctuary-for-all still waiting in the outbox")
        .go();
    home.run(["outbox", "--send"])
        .env("CAMPAIGN_SMTP_URL", &url)
        .stderr_contains("sent 1 email")
        .go();
    home.run(["purge", &slug, "--yes"])
        .stderr_contains("purged (5 signers deleted")
        .go();

    for (name, email, _) in SIGNERS.iter().chain([&("José Núñez", "zzz-none@x", "")]) {
        assert_eq!(holding(&home, name), Vec::<PathBuf>::new(), "{name}");
        assert_eq!(holding(&home, email), Vec::<PathBuf>::new(), "{email}");
    }
    assert!(files_under(home.path())
        .iter()
        .all(|p| !p.extension().is_some_and(|e| e == "pdf" || e == "eml")));
    if let Some(db) = &home.pg_db {
        // On PostgreSQL: no row of the server holds them either.
        let _ = db;
        let mut store = home.store();
        let id = store.find_campaign(&slug).unwrap().id;
        let mut left = 0;
        store
            .for_each_signer(id, &mut |_| {
                left += 1;
                Ok(())
            })
            .unwrap();
        assert_eq!(left, 0);
        let _ = &mut store;
    }
    let after = counts(&home, &slug);
    assert_eq!(after, before, "total, per postcode and per day are kept");
    assert_eq!(after.1[0]["key"], "94601");
    assert_eq!(after.1[0]["total"], 2);
    let shown = home.json(["show", &slug, "--json"]);
    assert!(shown["campaign"]["purged_at"].is_string());
    assert_eq!(shown["deliveries"].as_array().unwrap().len(), 2);
    // Idempotent: again, nothing left to do, and nothing fails.
    home.run(["purge", &slug, "--yes"])
        .stderr_contains("purged")
        .go();
}

/// Deleting from PostgreSQL leaves no row; SQLite file bytes are checked above.
#[test]
fn a_purged_campaign_still_lists_shows_and_delivers_count_and_postcodes() {
    let home = Home::new();
    let slug = home.live_campaign("Sanctuary for all");
    import(&home, &slug, &home.path().join("r.csv"));
    home.ok(["deliver", &slug, "--show", "count"]);
    home.run(["purge", &slug, "--yes"])
        .stderr_contains("purged")
        .go();
    let listed = home.json(["list", "--json"]);
    assert_eq!(listed[0]["signatures"]["total"], 5);
    assert!(listed[0]["purged_at"].is_string());
    let out = home.ok(["deliver", &slug, "--show", "count"]);
    assert!(out.trim_end().ends_with(".pdf"), "{out}");
    assert!(pdf_text(Path::new(out.trim())).contains('5'));
    let out = home.ok(["deliver", &slug, "--show", "postcodes"]);
    let text = pdf_text(Path::new(out.trim()));
    assert!(text.contains("94601") && text.contains("94612"), "{text}");
    assert!(!text.contains("李娜"));
}

#[test]
fn needing_names_after_a_purge_says_it_was_purged_and_when() {
    let home = Home::new();
    let slug = home.live_campaign("Sanctuary for all");
    import(&home, &slug, &home.path().join("r.csv"));
    home.run(["purge", &slug, "--yes"])
        .stderr_contains("purged")
        .go();
    let today = &home.json(["show", &slug, "--json"])["campaign"]["purged_at"]
        .as_str()
        .unwrap()[..10]
        .to_string();
    for args in [
        vec!["deliver", &slug],
        vec!["deliver", &slug, "--show", "initials"],
        vec![
            "deliver",
            &slug,
            "--show",
            "count",
            "--split-by",
            "postcode",
        ],
        vec!["export", &slug],
        vec!["enter-signatures", &slug, "--from", "-"],
    ] {
        home.run(&args)
            .stdin("name,email\nRosa,rosa@example.org\n")
            .status(1)
            .stderr_contains(format!("{slug} was purged on {today}"))
            .stderr_contains("counts and deliveries are kept")
            .go();
    }
    assert_eq!(
        home.json(["show", &slug, "--json"])["signatures"]["total"],
        5
    );
    // A session or an import that loaded the campaign before another process purged it
    // is refused by the store itself (under the write lock, for an import).
    let mut store = home.store();
    let id = store.find_campaign(&slug).unwrap().id;
    let rosa = campaign::store::NewSignature {
        name: "Rosa Díaz".into(),
        email: Some("rosa@example.org".into()),
        dedupe_key: "rosa@example.org".into(),
        ..Default::default()
    };
    let err = store.insert_signature(id, &rosa).unwrap_err();
    assert!(err.to_string().contains("was purged on"), "{err}");
    let defaults = campaign::store::ImportDefaults {
        source: campaign::model::Source::Online,
        entered_by: None,
        signed_at: "2026-12-01T10:00:00Z".into(),
    };
    let err = store.begin_import(id, defaults).err().expect("refused");
    assert!(err.to_string().contains("was purged on"), "{err}");
}

#[test]
fn purge_dry_run_changes_nothing_and_lists_what_it_would_remove() {
    let home = Home::new();
    let slug = home.live_campaign("Sanctuary for all");
    import(&home, &slug, &home.path().join("r.csv"));
    let pdf = home.ok(["deliver", &slug]);
    let before = home.ok(["export", &slug, "--json"]);
    let db_before = (backend() == Backend::Sqlite).then(|| std::fs::read(home.db()).unwrap());
    home.run(["purge", &slug, "--dry-run"])
        .stderr_contains("would delete 5 signers")
        .stderr_contains(format!("would remove: {} (delivery)", pdf.trim()))
        .stderr_contains("r.csv (rejects)")
        .go();
    let plan = home.json(["purge", &slug, "--dry-run", "--json"]);
    assert_eq!(plan[0]["signers"], 5);
    if let Some(bytes) = db_before {
        assert!(
            std::fs::read(home.db()).unwrap() == bytes,
            "database bytes equal"
        );
    }
    assert!(Path::new(pdf.trim()).exists());
    assert_eq!(home.ok(["export", &slug, "--json"]), before);
}

#[test]
fn purge_without_a_terminal_needs_yes() {
    let home = Home::new();
    let slug = home.live_campaign("Sanctuary for all");
    import(&home, &slug, &home.path().join("r.csv"));
    home.run(["purge", &slug])
        .status(1)
        .stderr_contains("Delete the names of 5 signers of sanctuary-for-all")
        .stderr_contains("Pass --yes to confirm")
        .go();
    assert_eq!(
        home.ok(["export", &slug]).lines().count(),
        6,
        "nothing was purged"
    );
    home.run(["purge"]).status(2).stderr_contains("--due").go();
}

#[test]
fn purge_keeps_a_delivery_file_that_changed_since_delivery() {
    let home = Home::new();
    let slug = home.live_campaign("Sanctuary for all");
    import(&home, &slug, &home.path().join("r.csv"));
    let pdf = home.ok(["deliver", &slug]);
    let pdf = Path::new(pdf.trim());
    std::fs::write(pdf, b"my own notes now").unwrap();
    home.run(["purge", &slug, "--yes"])
        .stderr_contains("changed since delivery, not removed")
        .stderr_contains("purged")
        .go();
    assert_eq!(std::fs::read(pdf).unwrap(), b"my own notes now");
}

#[test]
fn retain_0d_makes_purge_due_and_purge_due_does_it() {
    let home = Home::new();
    let slug = home.live_campaign("Sanctuary for all");
    let other = home.live_campaign("Stop the raids");
    import(&home, &slug, &home.path().join("r.csv"));
    import(&home, &other, &home.path().join("r2.csv"));
    home.run(["purge", "--due", "--yes"])
        .stderr_contains("no campaign is due for a purge")
        .go();
    home.ok(["edit", &slug, "--retain", "0d", "--yes"]);
    home.ok(["edit", &other, "--retain", "6m", "--yes"]);
    let listed = home.json(["list", "--json"]);
    assert_eq!(listed[0]["retain"], "0d");
    assert!(listed[0]["purge_due"].is_null(), "no delivery yet");
    home.run(["edit", &slug, "--retain", "soon"])
        .status(2)
        .stderr_contains("--retain takes a period such as 180d")
        .go();
    home.ok(["deliver", &slug, "--show", "count"]);
    home.ok(["deliver", &other, "--show", "count"]);
    let listed = home.json(["list", "--json"]);
    let today = time::OffsetDateTime::now_utc().date().to_string();
    assert_eq!(listed[0]["purge_due"], today.as_str());
    assert!(listed[1]["purge_due"].as_str().unwrap() > today.as_str());
    assert!(home.ok(["list"]).contains(&format!("due {today}")));
    home.run(["purge", "--due", "--yes"])
        .stderr_contains(format!("{slug}: purged (5 signers deleted"))
        .go();
    let listed = home.json(["list", "--json"]);
    assert!(listed[0]["purged_at"].is_string());
    assert!(listed[1]["purged_at"].is_null(), "not due yet");
    assert_eq!(home.ok(["export", &other]).lines().count(), 6);
}

fn forget_args(email: &str) -> Vec<&str> {
    vec!["forget", "--email", email, "--yes"]
}

#[test]
fn a_forgotten_signer_stays_out_when_the_same_csv_is_imported_again() {
    let home = Home::new();
    let slug = home.live_campaign("Sanctuary for all");
    let rejects = home.path().join("rejects.csv");
    import(&home, &slug, &rejects);
    home.run(forget_args("  LI.NA@example.org "))
        .stderr_contains("sanctuary-for-all: removing 1 row")
        .stderr_contains("forgot LI.NA@example.org: 1 row removed from 1 campaign")
        .go();
    assert_eq!(
        home.json(["show", &slug, "--json"])["signatures"]["total"],
        4
    );
    // The same file again, and a file with her name and postcode but no email.
    let report = import(&home, &slug, &rejects);
    assert_eq!(report["added"], 0);
    assert_eq!(report["duplicates"], 4);
    assert_eq!(report["forgotten"], 1);
    assert_eq!(report["rejected"], 1);
    let text = std::fs::read_to_string(&rejects).unwrap();
    assert!(
        !text.contains("李娜") && text.contains("José Núñez"),
        "{text}"
    );
    let bare = home.path().join("bare.csv");
    std::fs::write(&bare, "name,postcode\n李娜,94612\nRosa Díaz,94612\n").unwrap();
    home.run(["enter-signatures", &slug, "--from", bare.to_str().unwrap()])
        .stdout("read 2, added 1, duplicates 0, rejected 0, forgotten 1\n")
        .stderr_contains("1 row skipped: these people asked to be forgotten")
        .go();
    let exported = home.ok(["export", &slug]);
    assert!(
        !exported.contains("李娜") && exported.contains("Rosa Díaz"),
        "{exported}"
    );
    assert_eq!(
        home.json(["show", &slug, "--json"])["signatures"]["total"],
        5
    );
    // No email is kept in the clear.
    if backend() == Backend::Sqlite {
        assert_eq!(holding(&home, "li.na@example.org"), Vec::<PathBuf>::new());
        assert_eq!(
            holding(&home, "李娜").len(),
            1,
            "only the CSV files: {:?}",
            holding(&home, "李娜")
        );
    }
}

#[test]
fn forget_dry_run_leaves_every_database_byte_equal() {
    let home = Home::new();
    let slug = home.live_campaign("Sanctuary for all");
    import(&home, &slug, &home.path().join("r.csv"));
    home.ok(["deliver", &slug]);
    let before = home.ok(["export", &slug, "--json"]);
    let bytes = (backend() == Backend::Sqlite).then(|| std::fs::read(home.db()).unwrap());
    home.run([
        "forget",
        "--name",
        "李娜",
        "--postcode",
        "94612",
        "--dry-run",
    ])
    .stderr_contains("sanctuary-for-all: would remove 1 row")
    .stderr_contains("already handed over")
    .go();
    home.run(["forget", "--email", "nobody@example.org", "--dry-run"])
        .stderr_contains("nobody@example.org is in no campaign")
        .go();
    if let Some(bytes) = bytes {
        assert!(
            std::fs::read(home.db()).unwrap() == bytes,
            "database bytes equal"
        );
        assert!(!home.path().join("campaigns.db-wal").exists());
    }
    assert_eq!(home.ok(["export", &slug, "--json"]), before);
    assert_eq!(
        home.json(["show", &slug, "--json"])["signatures"]["total"],
        5
    );
}

#[test]
fn forget_removes_them_from_every_campaign_and_the_counts_drop() {
    let home = Home::new();
    let a = home.live_campaign("Sanctuary for all");
    let b = home.live_campaign("Stop the raids");
    import(&home, &a, &home.path().join("r.csv"));
    import(&home, &b, &home.path().join("r2.csv"));
    // By name and postcode: the rows have an email, and match all the same.
    home.run([
        "forget",
        "--name",
        "Nguyễn Thị Minh Khai",
        "--postcode",
        "94601",
        "--yes",
    ])
    .stderr_contains(format!("{a}: removing 1 row"))
    .stderr_contains(format!("{b}: removing 1 row"))
    .go();
    for slug in [&a, &b] {
        let shown = home.json(["show", slug, "--json"]);
        assert_eq!(shown["signatures"]["total"], 4);
        assert_eq!(shown["by_postcode"][0]["total"], 1, "94601 drops");
        assert!(!home.ok(["export", slug]).contains("Nguyễn"));
    }
    // Without a terminal it needs --yes.
    home.run(["forget", "--email", "zoe@example.org"])
        .status(1)
        .stderr_contains("Pass --yes to confirm")
        .go();
    assert_eq!(home.json(["show", &a, "--json"])["signatures"]["total"], 4);
}

#[test]
fn a_forgotten_signer_cannot_be_typed_in_again() {
    let home = Home::new();
    let slug = home.live_campaign("Sanctuary for all");
    import(&home, &slug, &home.path().join("r.csv"));
    home.run(forget_args("abebe@example.org"))
        .stderr_contains("forgot")
        .go();
    // Typed entry and every other insert go through the store, which refuses.
    let mut store = home.store();
    let id = store.find_campaign(&slug).unwrap().id;
    let err = store
        .insert_signature(
            id,
            &campaign::store::NewSignature {
                name: "አበበ ቢቂላ".into(),
                email: Some("abebe@example.org".into()),
                postcode: Some("94612".into()),
                dedupe_key: "abebe@example.org".into(),
                ..Default::default()
            },
        )
        .unwrap_err();
    assert!(err.to_string().contains("asked on"), "{err}");
    assert!(store.is_forgotten("abebe@example.org").unwrap());
    assert!(!store.is_forgotten("zoe@example.org").unwrap());
    // By name and postcode too (the row had an email; its name+postcode key was kept).
    let err = store
        .insert_signature(
            id,
            &campaign::store::NewSignature {
                name: "አበበ ቢቂላ".into(),
                postcode: Some("94612".into()),
                dedupe_key: campaign::domain::signer::dedupe_key("አበበ ቢቂላ", None, Some("94612")),
                ..Default::default()
            },
        )
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("to be removed from your campaigns"),
        "{err}"
    );
}
