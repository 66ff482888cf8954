//! Typed entry through a pseudo-terminal, CSV import, export.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use campaign::model::{Signature, Source};
use campaign::store::NewSignature;
use expectrl::session::OsSession;
use expectrl::{Eof, Expect, Session};

use crate::common::Home;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

fn signatures(home: &Home, slug: &str) -> Vec<Signature> {
    let mut store = home.store();
    let campaign = store.find_campaign(slug).unwrap();
    let mut out = Vec::new();
    store
        .for_each_signer(campaign.id, &mut |s| {
            out.push(s);
            Ok(())
        })
        .unwrap();
    let _ = &mut store;
    out
}

fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[test]
fn import_counts_are_exact_and_rejects_name_each_row() {
    let home = Home::new();
    let slug = home.live_campaign("Oakland Sanctuary");
    let rejects = home.path().join("rejects.csv");
    let out = home
        .cmd([
            "--json",
            "enter-signatures",
            &slug,
            "--from",
            fixture("signatures.csv").to_str().unwrap(),
            "--rejects",
            rejects.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let counts: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        counts,
        serde_json::json!({"read": 15, "added": 8, "duplicates": 3, "rejected": 4})
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("Favourite colour"), "{stderr}");
    // stderr ends up in logs: it names the row, the field and the fix, never the value.
    assert!(
        stderr.contains("row 12: email: not an email address"),
        "{stderr}"
    );
    assert!(
        stderr.contains("row 15: postcode: longer than 12"),
        "{stderr}"
    );
    for value in ["ana@@example", "1234567890123", "nobody@example.org"] {
        assert!(!stderr.contains(value), "{value} leaked: {stderr}");
    }
    // A sheet printed elsewhere is kept as provenance, named once.
    assert_eq!(
        stderr.matches("sheet ZZZ-0001 was never printed").count(),
        1
    );

    assert_eq!(mode(&rejects), 0o600);
    let text = std::fs::read_to_string(&rejects).unwrap();
    assert!(
        text.starts_with(
            "\u{feff}row,reason,Name,Email Address,ZIP,Phone,Join,hide_name,Sheet,Line,Favourite colour\n"
        ),
        "{text}"
    );
    let rows: Vec<&str> = text.lines().skip(1).collect();
    assert_eq!(rows.len(), 4, "{text}");
    assert!(rows[0].starts_with("10,name:"), "{text}");
    assert!(rows[1].starts_with("11,email:") && rows[1].contains("email or a ZIP"));
    // The private rejects file keeps the whole row, to fix it by.
    assert!(rows[2].starts_with("12,") && rows[2].ends_with(",Bad Email,ana@@example,94612,,,,,,"));
    assert!(
        rows[3].starts_with("15,") && rows[3].contains(",Long Zip,long@example.org,1234567890123,")
    );

    let stored = signatures(&home, &slug);
    let names: Vec<&str> = stored.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "Nguyễn Thị Minh Khai",
            "محمد الأحمد",
            "李娜",
            "García, María José",
            "Jean-Baptiste Wideline",
            "Cabdi Xasan",
            "Unknown Sheet",
            "=HYPERLINK(\"http://x\")",
        ]
    );
    assert_eq!(
        (stored[6].sheet_id.as_deref(), stored[6].line),
        (Some("ZZZ-0001"), Some(1))
    );
    let khai = &stored[0];
    assert_eq!(khai.phone.as_deref(), Some("+15105550101"));
    assert!(khai.opt_in && !khai.private && khai.source == Source::Online);
    assert!(stored[1].opt_in && stored[1].private, "sí and x are yes");
    assert_eq!(
        stored[2].postcode.as_deref(),
        Some("02139"),
        "ZIP zero restored"
    );
    assert_eq!(
        (stored[4].phone.as_deref(), stored[4].phone_valid),
        (Some("not a phone"), false)
    );
    assert_eq!(stored[5].email, None);

    // The same file again: everything is already there.
    let again = home.json([
        "--json",
        "enter-signatures",
        &slug,
        "--from",
        fixture("signatures.csv").to_str().unwrap(),
        "--source",
        "paper",
    ]);
    assert_eq!(again["added"], 0);
    assert_eq!(again["duplicates"], 11);
}

#[test]
fn an_unclosed_quote_is_a_csv_syntax_error_with_its_row() {
    let home = Home::new();
    let slug = home.live_campaign("Oakland Sanctuary");
    let file = home.path().join("open-quote.csv");
    std::fs::write(
        &file,
        "name,email,zip\nAna,ana@example.org,94612\n\"García, María,maria@example.org,94606\nBo,bo@example.org,94601\n",
    )
    .unwrap();
    let out = home
        .cmd(["enter-signatures", &slug, "--from", file.to_str().unwrap()])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("CSV syntax: row 3"), "{stderr}");
    assert!(!stderr.contains("email or a ZIP"), "{stderr}");
    assert!(signatures(&home, &slug).is_empty(), "all or nothing");
}

#[test]
fn import_without_a_name_column_writes_nothing() {
    let home = Home::new();
    let slug = home.live_campaign("Oakland Sanctuary");
    let file = home.path().join("no-name.csv");
    std::fs::write(&file, "email,zip\nana@example.org,94612\n").unwrap();
    let out = home
        .cmd(["enter-signatures", &slug, "--from", file.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no name column"));
    assert!(signatures(&home, &slug).is_empty());
}

#[test]
fn a_killed_import_leaves_the_database_unchanged() {
    let home = Home::new();
    let slug = home.live_campaign("Oakland Sanctuary");
    home.ok([
        "enter-signatures",
        &slug,
        "--from",
        fixture("signatures.csv").to_str().unwrap(),
    ]);
    let before = signatures(&home, &slug);

    let mut child = Command::new(env!("CARGO_BIN_EXE_campaign"))
        .env_clear()
        .envs(home.db_envs())
        .env("CAMPAIGN_HOME", home.path())
        .args(["enter-signatures", &slug, "--from", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Several batches' worth of rows, with stdin left open: the import is midway and
    // cannot finish until it is killed.
    let mut rows = Vec::new();
    bench_support::write_signers_csv(&mut rows, 1, 1_000, 30_000).unwrap();
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(&rows).unwrap();
    stdin.flush().unwrap();
    // Kill only once the import is inside its transaction: on SQLite it holds the write
    // lock (in WAL mode its pages stay in its own memory until the commit); on
    // PostgreSQL it has staged rows. Polled, bounded.
    let inside = || match crate::common::backend() {
        crate::common::Backend::Sqlite => crate::trust_concurrency::write_locked(&home.db()),
        crate::common::Backend::Postgres => home.pg_staging_an_import(),
    };
    let mut waited = 0;
    while !inside() {
        assert!(
            child.try_wait().unwrap().is_none(),
            "the import ended before it was killed"
        );
        assert!(waited < 2_000, "the import never started writing");
        std::thread::sleep(Duration::from_millis(10));
        waited += 1;
    }
    child.kill().unwrap();
    child.wait().unwrap();
    drop(stdin);

    assert_eq!(signatures(&home, &slug), before);
}

#[test]
fn export_round_trips_and_defuses_formulas() {
    let home = Home::new();
    let slug = home.live_campaign("Oakland Sanctuary");
    home.ok([
        "enter-signatures",
        &slug,
        "--from",
        fixture("signatures.csv").to_str().unwrap(),
    ]);
    // Rows typed from a printed sheet, stored as interactive entry stores them.
    {
        let mut store = home.store();
        let campaign = store.find_campaign(&slug).unwrap();
        let sheet = store
            .record_sheets(
                campaign.id,
                &campaign::domain::sheets::prefix(&campaign.slug),
                1,
                10,
            )
            .unwrap()
            .remove(0);
        for (line, name, email, postcode) in [
            (
                1,
                "Faadumo Cali",
                Some("faadumo@example.org"),
                Some("94621"),
            ),
            (2, "Wideline Pierre", None, Some("02139")),
        ] {
            let s = NewSignature {
                name: name.into(),
                email: email.map(Into::into),
                postcode: postcode.map(Into::into),
                phone: Some("+15105550123".into()),
                phone_valid: true,
                opt_in: line == 1,
                private: line == 2,
                source: Some(Source::Paper),
                sheet_id: Some(sheet.sheet_id.clone()),
                line: Some(line),
                entered_by: Some("ana@example.org".into()),
                signed_at: Some(format!("2026-05-0{line}T18:30:00Z")),
                dedupe_key: format!("{name}-key"),
            };
            store.insert_signature(campaign.id, &s).unwrap().unwrap();
        }
    }
    let file = home.path().join("export.csv");
    home.ok(["export", &slug, "--out", file.to_str().unwrap()]);
    assert_eq!(mode(&file), 0o600);
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(
        text.starts_with("name,email,postcode,phone,opt_in,private,source,sheet,line,signed_at\n")
    );
    assert!(text.contains("\"'=HYPERLINK(\"\"http://x\"\")\""), "{text}");
    assert!(!text.contains(",=HYPERLINK") && !text.contains("\n=HYPERLINK"));

    let copy = home
        .ok([
            "new",
            "--title",
            "Copy",
            "--target",
            "T",
            "--ask",
            "A",
            "--why",
            "W",
            "--location",
            "Oakland, CA",
            "--postcode",
            "94612",
        ])
        .trim()
        .to_string();
    let out = home
        .cmd([
            "--json",
            "enter-signatures",
            &copy,
            "--from",
            file.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let counts: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(counts["added"], 10, "{stderr}");
    assert_eq!(counts["rejected"], 0, "{stderr}");
    assert!(!stderr.contains("unknown columns"), "{stderr}");
    // The export's own sheets were printed for the first campaign: kept, named once each.
    assert_eq!(stderr.matches("was never printed").count(), 2, "{stderr}");
    let fields = |s: &Signature| {
        (
            s.name.clone(),
            s.email.clone(),
            s.postcode.clone(),
            s.phone.clone(),
            s.phone_valid,
            s.opt_in,
            s.private,
            s.source,
            s.sheet_id.clone(),
            s.line,
            s.signed_at.clone(),
        )
    };
    let a: Vec<_> = signatures(&home, &slug).iter().map(fields).collect();
    let b: Vec<_> = signatures(&home, &copy).iter().map(fields).collect();
    assert_eq!(a.len(), 10);
    assert_eq!(a, b);
    assert!(a.iter().any(|f| f.7 == Source::Paper && f.9 == Some(2)));

    let joined = home.ok(["export", &slug, "--opted-in", "--format", "jsonl"]);
    let names: Vec<String> = joined
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            assert_eq!(v["opt_in"], true);
            v["name"].as_str().unwrap().to_string()
        })
        .collect();
    assert_eq!(
        names,
        [
            "Nguyễn Thị Minh Khai",
            "محمد الأحمد",
            "García, María José",
            "Faadumo Cali"
        ]
    );

    // --json means JSON lines, unless CSV is asked for by name.
    let json = home.ok(["--json", "export", &slug]);
    assert_eq!(json.lines().count(), 10);
    for line in json.lines() {
        serde_json::from_str::<serde_json::Value>(line).unwrap();
    }
    let csv = home.ok(["--json", "export", &slug, "--format", "csv"]);
    assert!(csv.starts_with("name,email,"), "{csv}");
}

#[test]
fn typing_without_a_terminal_asks_for_from() {
    let home = Home::new();
    let slug = home.live_campaign("Oakland Sanctuary");
    let out = home.cmd(["enter-signatures", &slug]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--from"));
}

/// `campaign enter-signatures SLUG` in a pseudo-terminal, with one printed sheet.
fn typing_session(home: &Home, slug: &str) -> OsSession {
    let mut store = home.store();
    let campaign = store.find_campaign(slug).unwrap();
    store
        .record_sheets(
            campaign.id,
            &campaign::domain::sheets::prefix(&campaign.slug),
            1,
            10,
        )
        .unwrap();
    drop(store);
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_campaign"));
    cmd.env_clear()
        .envs(home.db_envs())
        .env("CAMPAIGN_HOME", home.path())
        .env("HOME", home.path())
        .env("NO_COLOR", "1")
        .env("TERM", "dumb")
        .args(["enter-signatures", slug]);
    let mut session = Session::spawn(cmd).expect("spawn in a pty");
    session.set_expect_timeout(Some(Duration::from_secs(20)));
    session
}

#[test]
fn typed_entry_through_a_terminal() {
    let home = Home::new();
    let slug = home.live_campaign("Oakland Sanctuary");
    let mut p = typing_session(&home, &slug);

    p.expect("Sheet id").unwrap();
    p.send_line("OAK-0099").unwrap();
    p.expect("never printed").unwrap();
    // An empty answer says what is expected; the number needs no zeros.
    p.expect("Sheet id").unwrap();
    p.send_line("").unwrap();
    p.expect("type the sheet id printed in the sheet's footer, e.g. OAK-0001")
        .unwrap();
    p.expect("Sheet id").unwrap();
    p.send_line("oak-1").unwrap();

    // Row 1, with a bad email corrected. Yes/no questions take one key.
    p.expect("line 1 · 0 entered").unwrap();
    p.expect("Name: ").unwrap();
    p.send_line("Nguyễn Thị Minh Khai").unwrap();
    p.expect("Email: ").unwrap();
    p.send_line("minh@@example").unwrap();
    p.expect("not an email address").unwrap();
    p.expect("Email: ").unwrap();
    p.send_line("minh@example.org").unwrap();
    p.expect("ZIP/postcode: ").unwrap();
    p.send_line("94612").unwrap();
    // A phone that could not be stored is asked again, and the row goes on.
    p.expect("Phone: ").unwrap();
    p.send_line("5".repeat(41)).unwrap();
    p.expect("longer than 40 characters").unwrap();
    p.expect("Phone: ").unwrap();
    p.send_line("510 555 0101").unwrap();
    p.expect("mailing list? (y/N): ").unwrap();
    p.send("y").unwrap();
    p.expect("show my name? (y/N): ").unwrap();
    p.send("\r").unwrap();
    p.expect("saved").unwrap();

    // Row 2: already signed, skipped (line 2 is consumed).
    p.expect("line 2 · 1 entered").unwrap();
    p.expect("Name: ").unwrap();
    p.send_line("李娜").unwrap();
    p.expect("Email: ").unwrap();
    p.send_line(" MINH@example.org ").unwrap();
    p.expect("already signed: Nguyễn Thị Minh Khai <minh@example.org>")
        .unwrap();
    p.expect("orrect it? [s]: ").unwrap();
    p.send("s").unwrap();

    // Row 3: no email, the ZIP carried over.
    p.expect("line 3 · 1 entered").unwrap();
    p.expect("Name: ").unwrap();
    p.send_line("محمد الأحمد").unwrap();
    p.expect("Email: ").unwrap();
    p.send_line("").unwrap();
    p.expect("ZIP/postcode [94612]: ").unwrap();
    p.send_line("").unwrap();
    p.expect("Phone: ").unwrap();
    p.send_line("").unwrap();
    p.expect("mailing list? (y/N): ").unwrap();
    p.send("\r").unwrap();
    p.expect("show my name? (y/N): ").unwrap();
    p.send("y").unwrap();
    p.expect("saved").unwrap();

    // `<`: back to row 3 to fix its ZIP.
    p.expect("line 4 · 2 entered").unwrap();
    p.send_line("<").unwrap();
    p.expect("Line [3]: ").unwrap();
    p.send_line("").unwrap();
    p.expect("Name [محمد الأحمد]: ").unwrap();
    p.send_line("").unwrap();
    p.expect("Email: ").unwrap();
    p.send_line("").unwrap();
    p.expect("ZIP/postcode [94612]: ").unwrap();
    p.send_line("94601").unwrap();
    p.expect("Phone: ").unwrap();
    p.send_line("").unwrap();
    p.expect("mailing list? (y/N): ").unwrap();
    p.send("\r").unwrap();
    p.expect("show my name? (Y/n): ").unwrap();
    p.send("\r").unwrap();
    p.expect("corrected").unwrap();

    // A duplicate skipped after the correction...
    p.expect("line 4 · 2 entered").unwrap();
    p.send_line("Thu Hà").unwrap();
    p.expect("Email: ").unwrap();
    p.send_line("minh@example.org").unwrap();
    p.expect("orrect it? [s]: ").unwrap();
    p.send("\r").unwrap();
    // ...then `<` still reopens the corrected row, and `<` again the one before it,
    // left unchanged.
    p.expect("line 5 · 2 entered").unwrap();
    p.send_line("<").unwrap();
    p.expect("correcting the previous row").unwrap();
    p.expect("Line [3]: ").unwrap();
    p.send_line("<").unwrap();
    p.expect("correcting the row before it").unwrap();
    p.expect("Line [1]: ").unwrap();
    p.send_line("").unwrap();
    p.expect("Name [Nguyễn Thị Minh Khai]: ").unwrap();
    p.send_line("").unwrap();
    p.expect("Email [minh@example.org]: ").unwrap();
    p.send_line("").unwrap();
    p.expect("ZIP/postcode [94612]: ").unwrap();
    p.send_line("").unwrap();
    p.expect("Phone [510 555 0101]: ").unwrap();
    p.send_line("").unwrap();
    p.expect("mailing list? (Y/n): ").unwrap();
    p.send("\r").unwrap();
    p.expect("show my name? (y/N): ").unwrap();
    p.send("\r").unwrap();
    p.expect("unchanged").unwrap();
    p.expect("line 5 · 2 entered").unwrap();
    p.send_line("<").unwrap();
    p.expect("Line [3]: ").unwrap();
    p.send_line("").unwrap();
    p.expect("Name [محمد الأحمد]: ").unwrap();
    p.send_line("").unwrap();
    // A correction that turns out to be a duplicate: skipped, counted and said so.
    p.expect("Email: ").unwrap();
    p.send_line("MINH@example.org").unwrap();
    p.expect("orrect it? [s]: ").unwrap();
    p.send("\r").unwrap();
    p.expect("correction skipped: the row stays as it was")
        .unwrap();
    p.expect("line 5 · 2 entered").unwrap();
    p.send_line(".").unwrap();
    p.expect("added 2, skipped 3, corrected 1").unwrap();
    p.expect("2 of 500").unwrap();
    p.expect(Eof).unwrap();
    let status = format!("{:?}", p.get_process().wait().unwrap());
    assert!(status.ends_with(", 0)"), "{status}");

    let stored = signatures(&home, &slug);
    assert_eq!(stored.len(), 2);
    let (khai, ahmad) = (&stored[0], &stored[1]);
    assert_eq!(khai.name, "Nguyễn Thị Minh Khai");
    assert_eq!(khai.email.as_deref(), Some("minh@example.org"));
    assert_eq!(khai.phone.as_deref(), Some("+15105550101"));
    assert_eq!(
        (khai.sheet_id.as_deref(), khai.line),
        (Some("OAK-0001"), Some(1))
    );
    assert!(khai.opt_in && !khai.private && khai.source == Source::Paper);
    assert_eq!(ahmad.name, "محمد الأحمد");
    assert_eq!(
        (ahmad.email.as_deref(), ahmad.postcode.as_deref()),
        (None, Some("94601"))
    );
    assert_eq!(
        (ahmad.sheet_id.as_deref(), ahmad.line),
        (Some("OAK-0001"), Some(3))
    );
    assert!(!ahmad.opt_in && ahmad.private);
    assert_eq!(ahmad.entered_by.as_deref(), Some("ana@example.org"));
}

#[test]
fn killed_typing_keeps_every_accepted_row() {
    let home = Home::new();
    let slug = home.live_campaign("Oakland Sanctuary");
    let mut p = typing_session(&home, &slug);
    p.expect("Sheet id").unwrap();
    p.send_line("OAK-0001").unwrap();
    for (line, name, email) in [
        ("1", "Faadumo Cali", "faadumo@example.org"),
        ("2", "Wideline Pierre", ""),
    ] {
        p.expect(format!("line {line} · ").as_str()).unwrap();
        p.expect("Name: ").unwrap();
        p.send_line(name).unwrap();
        p.expect("Email: ").unwrap();
        p.send_line(email).unwrap();
        p.expect("ZIP/postcode").unwrap();
        p.send_line("94621").unwrap();
        p.expect("Phone: ").unwrap();
        p.send_line("").unwrap();
        p.expect("mailing list?").unwrap();
        p.send("\r").unwrap();
        p.expect("show my name?").unwrap();
        p.send("\r").unwrap();
        p.expect("saved").unwrap();
    }
    // Halfway through a third row.
    p.expect("line 3 · ").unwrap();
    p.expect("Name: ").unwrap();
    p.send_line("Half Typed").unwrap();
    p.expect("Email: ").unwrap();
    let pid = p.get_process().pid().as_raw();
    // SAFETY: signals the child this test spawned.
    unsafe {
        libc::kill(pid, libc::SIGKILL);
    }
    let _ = p.get_process().wait();

    let names: Vec<String> = signatures(&home, &slug)
        .into_iter()
        .map(|s| s.name)
        .collect();
    assert_eq!(names, ["Faadumo Cali", "Wideline Pierre"]);
}
