//! `campaign deliver`: what the PDF says, shows and hides.

use std::path::{Path, PathBuf};

use campaign::model::Source;
use campaign::store::NewSignature;

use crate::common::Home;
use mail_parser::MimeHeaders;

struct Signer<'a> {
    name: &'a str,
    postcode: &'a str,
    private: bool,
    source: Source,
}

fn s<'a>(name: &'a str, postcode: &'a str) -> Signer<'a> {
    Signer {
        name,
        postcode,
        private: false,
        source: Source::Paper,
    }
}

/// Inserts signers straight into the store, each with an email and a phone.
fn add(home: &Home, slug: &str, signers: &[Signer<'_>]) {
    let mut store = home.store();
    let id = store.find_campaign(slug).expect("campaign").id;
    for (i, signer) in signers.iter().enumerate() {
        let email = format!("signer{i}@example.org");
        store
            .insert_signature(
                id,
                &NewSignature {
                    name: signer.name.to_string(),
                    email: Some(email.clone()),
                    postcode: Some(signer.postcode.to_string()),
                    phone: Some(format!("+1510555{i:04}")),
                    phone_valid: true,
                    private: signer.private,
                    source: Some(signer.source),
                    dedupe_key: email,
                    ..Default::default()
                },
            )
            .expect("insert")
            .expect("new row");
    }
}

fn pdf_text(path: &Path) -> String {
    let doc = lopdf::Document::load(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let pages: Vec<u32> = doc.get_pages().keys().copied().collect();
    doc.extract_text(&pages).expect("text")
}

/// The text of the signer list (every page after the cover letter, which names the
/// organizer: Ana Reyes signs the letters of these tests).
fn list_text(path: &Path) -> String {
    let doc = lopdf::Document::load(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let pages: Vec<u32> = doc.get_pages().keys().copied().filter(|&p| p > 1).collect();
    doc.extract_text(&pages).unwrap_or_default()
}

fn page_count(path: &Path) -> usize {
    lopdf::Document::load(path).expect("pdf").get_pages().len()
}

fn deliver(home: &Home, args: &[&str]) -> Vec<PathBuf> {
    let mut all = vec!["deliver"];
    all.extend_from_slice(args);
    home.ok(all).lines().map(PathBuf::from).collect()
}

const NAMES: [&str; 8] = [
    "José Núñez",
    "Zoë Ó Súilleabháin",
    "Nguyễn Thị Minh Khai",
    "李娜",
    "Дмитрий Иванов",
    "김민준",
    "محمد الأحمد",
    "דוד לוי",
];

#[test]
fn every_name_comes_out_of_the_pdf_exactly_and_fonts_are_subsets() {
    let home = Home::new();
    let slug = home.live_campaign("Sanctuary for all");
    let signers: Vec<Signer> = NAMES.iter().map(|n| s(n, "94612")).collect();
    add(&home, &slug, &signers);
    let out = home.path().join("names.pdf");
    let files = deliver(&home, &[&slug, "--out", out.to_str().unwrap()]);
    assert_eq!(files, vec![out.clone()]);

    // For looking at it by eye (pdftoppm): CAMPAIGN_KEEP_PDF=/tmp/names.pdf cargo test ...
    if let Some(keep) = std::env::var_os("CAMPAIGN_KEEP_PDF") {
        std::fs::copy(&out, keep).unwrap();
    }
    // Every name, Arabic and Hebrew included: drawn glyph by glyph (extracted text) or
    // shaped (its ActualText, right-to-left in drawing order).
    let text = crate::common::pdf_text(&out);
    let actual = crate::common::pdf_actual_texts(&out);
    for name in NAMES {
        assert!(
            crate::common::pdf_has_name(&text, &actual, name),
            "{name:?} not in:\n{text}\nActualText: {actual:?}"
        );
    }

    // Embedded fonts are subsets: tagged names, and programs far smaller than the fonts.
    let doc = lopdf::Document::load(&out).unwrap();
    let mut programs = 0;
    for (_, object) in doc.objects.iter() {
        let Ok(dict) = object
            .as_dict()
            .or_else(|_| object.as_stream().map(|s| &s.dict))
        else {
            continue;
        };
        if let Ok(name) = dict.get(b"FontName").and_then(|n| n.as_name()) {
            let name = String::from_utf8_lossy(name);
            assert_eq!(name.find('+'), Some(6), "not a subset tag: {name}");
        }
        if let (Ok(len), Ok(stream)) = (
            dict.get(b"Length1").and_then(|l| l.as_i64()),
            object.as_stream(),
        ) {
            programs += 1;
            // The smallest bundled font is 240 kB (Noto Sans Arabic), CJK ones 2-4 MB:
            // a few names' glyphs, zlib-compressed, are a fraction of that.
            assert!(
                stream.content.len() < 60_000,
                "font program of {len} bytes ({} compressed) is not a subset",
                stream.content.len()
            );
        }
    }
    assert!(
        programs >= 5,
        "expected Latin, CJK, Hangul, Arabic and Hebrew fonts, got {programs}"
    );
    assert!(std::fs::metadata(&out).unwrap().len() < 300_000);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&out).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
}

#[test]
fn cover_counts_everyone_and_private_signers_are_never_named() {
    let home = Home::new();
    let slug = home.live_campaign("Sanctuary for all");
    let mut signers = vec![
        s("Ana Reyes", "94612"),
        s("Luis Ortega", "94601"),
        s("Marta Díaz", "94612"),
    ];
    signers.push(Signer {
        private: true,
        ..s("Hidden Person", "94612")
    });
    signers.push(Signer {
        private: true,
        source: Source::Online,
        ..s("Secret Signer", "94601")
    });
    signers[1].source = Source::Online;
    add(&home, &slug, &signers);
    let files = deliver(&home, &[&slug]);
    assert_eq!(files.len(), 1);
    assert!(
        files[0].starts_with(home.path()),
        "{:?} not under the home",
        files[0]
    );
    let text = pdf_text(&files[0]);
    assert!(text.contains("Signed by 5 people"), "{text}");
    assert!(text.contains("3 on paper, 2 online"), "{text}");
    assert!(
        text.contains("Including 2 who asked not to be named"),
        "{text}"
    );
    assert!(text.contains("Mayor Barbara Lee"));
    assert!(
        text.contains("page 1 of 2") && text.contains("page 2 of 2"),
        "{text}"
    );
    for named in ["Ana Reyes", "Luis Ortega", "Marta Díaz"] {
        assert!(text.contains(named), "{named} missing");
    }
    for hidden in ["Hidden", "Secret"] {
        assert!(!text.contains(hidden), "{hidden} was named");
    }
    // No contact details unless asked for.
    assert!(
        !text.contains("@example.org") && !text.contains("+1510555"),
        "{text}"
    );

    // Recorded, and `show` lists it.
    let shown = home.ok(["show", &slug]);
    assert!(
        shown.contains(files[0].file_name().unwrap().to_str().unwrap()),
        "{shown}"
    );
}

#[test]
fn contact_details_only_with_include_and_the_cover_says_so() {
    let home = Home::new();
    let slug = home.live_campaign("Sanctuary for all");
    add(&home, &slug, &[s("Ana Reyes", "94612")]);
    let out = home.path().join("docs");
    let only_email = deliver(
        &home,
        &[
            &slug,
            "--include",
            "email",
            "--yes",
            "--out",
            out.to_str().unwrap(),
        ],
    );
    let text = pdf_text(&only_email[0]);
    assert!(text.contains("signer0@example.org"), "{text}");
    assert!(
        !text.contains("+1510555"),
        "phone shown without --include phone"
    );
    assert!(text.contains("includes signers' email"), "{text}");

    let both = home.path().join("both.pdf");
    deliver(
        &home,
        &[
            &slug,
            "--include",
            "email,phone",
            "--yes",
            "--out",
            both.to_str().unwrap(),
        ],
    );
    let text = pdf_text(&both);
    assert!(
        text.contains("signer0@example.org") && text.contains("+15105550000"),
        "{text}"
    );
    assert!(text.contains("email and phone"), "{text}");
}

#[test]
fn each_show_level_shows_what_it_says_and_nothing_more() {
    let home = Home::new();
    let slug = home.live_campaign("Sanctuary for all");
    add(
        &home,
        &slug,
        &[
            s("José Núñez", "94612"),
            s("李娜", "94612"),
            s("Luis Ortega", "94601"),
        ],
    );
    let dir = home.path().join("out");
    let file = |name: &str| dir.join(name).to_str().unwrap().to_string();

    deliver(
        &home,
        &[&slug, "--show", "initials", "--out", &file("i.pdf")],
    );
    let text = pdf_text(&dir.join("i.pdf"));
    assert!(
        text.contains("J. N.") && text.contains("李") && text.contains("L. O."),
        "{text}"
    );
    assert!(!text.contains("娜"), "{text}");
    assert!(!text.contains("José") && !text.contains("李娜") && !text.contains("Ortega"));
    assert!(text.contains("94601"));

    deliver(
        &home,
        &[&slug, "--show", "postcodes", "--out", &file("p.pdf")],
    );
    let text = pdf_text(&dir.join("p.pdf"));
    assert!(text.contains("94612") && text.contains("94601"), "{text}");
    assert!(!text.contains("José") && !text.contains("J. N.") && !text.contains("李"));

    deliver(&home, &[&slug, "--show", "count", "--out", &file("c.pdf")]);
    assert_eq!(page_count(&dir.join("c.pdf")), 1);
    let text = pdf_text(&dir.join("c.pdf"));
    assert!(text.contains("Signed by 3 people"));
    assert!(
        !text.contains("José") && !text.contains("J. N.") && !text.contains("94601"),
        "{text}"
    );

    // Spanish words on request.
    deliver(
        &home,
        &[
            &slug,
            "--lang",
            "es",
            "--show",
            "count",
            "--out",
            &file("es.pdf"),
        ],
    );
    let text = pdf_text(&dir.join("es.pdf"));
    assert!(
        text.contains("Firmada por 3 personas") && text.contains("Para:"),
        "{text}"
    );
}

/// A campaign never launched (status draft).
fn draft_campaign(home: &Home, title: &str) -> String {
    home.account();
    home.ok([
        "new",
        "--title",
        title,
        "--target",
        "Mayor Barbara Lee",
        "--ask",
        "Declare Oakland a sanctuary city.",
        "--why",
        "Our neighbors should live without fear.",
        "--location",
        "Oakland, CA",
        "--postcode",
        "94612",
    ])
    .trim()
    .to_string()
}

fn stderr_of(home: &Home, args: &[&str]) -> (Option<i32>, String, String) {
    let out = home.cmd(args).output().unwrap();
    (
        out.status.code(),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

#[test]
fn split_by_postcode_is_exact_from_one_ordered_pass() {
    let home = Home::new();
    let slug = home.live_campaign("Sanctuary for all");
    // Entry order interleaves postcodes; padding and a missing postcode group as typed
    // keys; private signers sit in several groups.
    let signers = vec![
        s("Ana Reyes", "94612"),
        s("Luis Ortega", "94601"),
        s("Marta Díaz", " 94612 "),
        Signer {
            private: true,
            ..s("Hidden Person", "94612")
        },
        s("Nguyễn Văn An", ""),
        s("李娜", "94601"),
        Signer {
            private: true,
            ..s("Secret Signer", "")
        },
        s("Zoë Ó Súilleabháin", "94612"),
    ];
    add(&home, &slug, &signers);
    let out = home.path().join("split");
    let report = home.json([
        "deliver",
        &slug,
        "--split-by",
        "postcode",
        "--out",
        out.to_str().unwrap(),
        "--json",
    ]);
    let files = report.as_array().expect("list");
    let by_code: std::collections::BTreeMap<&str, &serde_json::Value> = files
        .iter()
        .map(|f| (f["postcode"].as_str().unwrap(), f))
        .collect();
    assert_eq!(
        by_code.keys().copied().collect::<Vec<_>>(),
        ["", "94601", "94612"]
    );
    let total: i64 = files
        .iter()
        .map(|f| f["signatures"].as_i64().unwrap())
        .sum();
    assert_eq!(total, signers.len() as i64);
    let expect: [(&str, i64, i64, &[&str]); 3] = [
        ("", 2, 1, &["Nguyễn Văn An"]),
        ("94601", 2, 0, &["Luis Ortega", "李娜"]),
        (
            "94612",
            4,
            1,
            &["Ana Reyes", "Marta Díaz", "Zoë Ó Súilleabháin"],
        ),
    ];
    let everyone = [
        "Ana Reyes",
        "Luis Ortega",
        "Marta Díaz",
        "Nguyễn Văn An",
        "李娜",
        "Zoë Ó Súilleabháin",
    ];
    for (code, n, private, named) in expect {
        let f = by_code[code];
        assert_eq!(f["signatures"], n, "{code}: {f}");
        assert_eq!(f["private"], private, "{code}: {f}");
        assert_eq!(f["listed"], named.len() as i64, "{code}: {f}");
        let text = pdf_text(Path::new(f["file"].as_str().unwrap()));
        assert!(text.contains(&format!("Signed by {n} people")), "{text}");
        let list = list_text(Path::new(f["file"].as_str().unwrap()));
        for name in everyone {
            assert_eq!(
                list.contains(name),
                named.contains(&name),
                "{code}: {name}\n{text}"
            );
        }
        assert!(
            !text.contains("Hidden") && !text.contains("Secret"),
            "{text}"
        );
    }
    assert!(pdf_text(Path::new(by_code[""]["file"].as_str().unwrap()))
        .contains("Without a postcode: 2 of the 8 people who signed the whole petition."));
}

#[test]
fn out_naming_one_file_is_refused_when_several_are_written() {
    let home = Home::new();
    let first = home.live_campaign("Sanctuary for all");
    let second = home.live_campaign("Fund legal defense");
    add(
        &home,
        &first,
        &[s("Ana Reyes", "94612"), s("Luis Ortega", "94601")],
    );
    let pdf = home.path().join("some.pdf");
    let pdf = pdf.to_str().unwrap();
    for args in [
        vec!["deliver", &first, "--split-by", "postcode", "--out", pdf],
        vec!["deliver", &first, &second, "--out", pdf],
        vec!["deliver", "--all", "--out", pdf],
    ] {
        let (code, stdout, stderr) = stderr_of(&home, &args);
        assert_eq!(code, Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains("--out"), "{stderr}");
        assert!(stdout.is_empty());
        assert!(!Path::new(pdf).exists(), "{args:?} made {pdf}");
    }
    // An existing file, whatever its name, is not a folder either.
    let file = home.path().join("notes");
    std::fs::write(&file, "x").unwrap();
    let (code, _, stderr) = stderr_of(
        &home,
        &[
            "deliver",
            &first,
            "--split-by",
            "postcode",
            "--out",
            file.to_str().unwrap(),
        ],
    );
    assert_eq!(code, Some(2), "{stderr}");
}

#[test]
fn one_missing_campaign_reports_its_error_once() {
    let home = Home::new();
    home.live_campaign("Sanctuary for all");
    let (code, stdout, stderr) = stderr_of(&home, &["deliver", "nope"]);
    assert_ne!(code, Some(0));
    assert!(stdout.is_empty());
    assert!(stderr.contains("nope"), "{stderr}");
    assert!(
        !stderr.contains("Delivered") && !stderr.contains("failed"),
        "{stderr}"
    );
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
}

#[test]
fn status_line_sums_every_split_file_in_good_english() {
    let home = Home::new();
    let slug = home.live_campaign("Sanctuary for all");
    add(
        &home,
        &slug,
        &[
            s("Ana Reyes", "94612"),
            s("Luis Ortega", "94601"),
            s("Marta Díaz", "94612"),
        ],
    );
    let out = home.path().join("split");
    let (code, _, stderr) = stderr_of(
        &home,
        &[
            "deliver",
            &slug,
            "--split-by",
            "postcode",
            "--out",
            out.to_str().unwrap(),
        ],
    );
    assert_eq!(code, Some(0), "{stderr}");
    // Two files of a cover and a list page each.
    assert!(
        stderr.contains("Wrote 3 signatures in 2 files, 4 pages."),
        "{stderr}"
    );

    let lone = home.live_campaign("Fund legal defense");
    add(&home, &lone, &[s("Ana Reyes", "94612")]);
    let (_, _, stderr) = stderr_of(&home, &["deliver", &lone, "--show", "count"]);
    assert!(stderr.contains("Wrote 1 signature, 1 page."), "{stderr}");
}

#[test]
fn deliver_all_skips_drafts_unless_asked_for() {
    let home = Home::new();
    let live = home.live_campaign("Sanctuary for all");
    add(&home, &live, &[s("Ana Reyes", "94612")]);
    let draft = draft_campaign(&home, "Not launched yet");
    let out = home.path().join("all");
    let (code, stdout, stderr) =
        stderr_of(&home, &["deliver", "--all", "--out", out.to_str().unwrap()]);
    assert_eq!(code, Some(0), "{stderr}");
    let files: Vec<&str> = stdout.lines().collect();
    assert_eq!(files.len(), 1, "{stdout}");
    assert!(
        files[0].contains(&live) && !stdout.contains(&draft),
        "{stdout}"
    );
    assert!(stderr.contains("Skipped 1 draft campaign "), "{stderr}");

    let (code, stdout, stderr) = stderr_of(
        &home,
        &[
            "deliver",
            "--all",
            "--status",
            "draft",
            "--out",
            out.to_str().unwrap(),
        ],
    );
    assert_eq!(code, Some(0), "{stderr}");
    assert!(
        stdout.contains(&draft) && !stdout.contains(&live),
        "{stdout}"
    );
    assert!(!stderr.contains("Skipped"), "{stderr}");
}

#[test]
fn a_killed_runs_partial_pdf_is_swept_and_a_running_ones_kept() {
    let home = Home::new();
    let slug = home.live_campaign("Sanctuary for all");
    add(&home, &slug, &[s("Ana Reyes", "94612")]);
    let out = home.path().join("docs");
    std::fs::create_dir_all(&out).unwrap();
    // A process that has ended stands for a killed deliver.
    let mut gone = std::process::Command::new("true").spawn().unwrap();
    gone.wait().unwrap();
    let dead = out.join(format!(".{slug}-delivery.pdf.{}.Ab12Cd.partial", gone.id()));
    let alive = out.join(format!(
        ".{slug}-delivery.pdf.{}.Ef34Gh.partial",
        std::process::id()
    ));
    let unrelated = out.join(".notes.txt.1.x.partial");
    for f in [&dead, &alive, &unrelated] {
        std::fs::write(f, b"%PDF-1.7 half").unwrap();
    }
    deliver(&home, &[&slug, "--out", out.to_str().unwrap()]);
    assert!(!dead.exists(), "a killed run's partial PDF stayed");
    assert!(alive.exists() && unrelated.exists());
}

#[test]
fn split_by_postcode_files_add_up_to_the_total() {
    let home = Home::new();
    let slug = home.live_campaign("Sanctuary for all");
    let mut signers = vec![
        s("Ana Reyes", "94612"),
        s("Luis Ortega", "94601"),
        s("Marta Díaz", "94612"),
        s("Nguyễn Văn An", "94606"),
    ];
    signers.push(Signer {
        private: true,
        ..s("Hidden Person", "94601")
    });
    add(&home, &slug, &signers);
    let out = home.path().join("split");
    let files = home.json([
        "deliver",
        &slug,
        "--split-by",
        "postcode",
        "--out",
        out.to_str().unwrap(),
        "--json",
    ]);
    let files = files.as_array().expect("list");
    assert_eq!(files.len(), 3);
    let total: i64 = files
        .iter()
        .map(|f| f["signatures"].as_i64().unwrap())
        .sum();
    assert_eq!(total, 5);
    for f in files {
        let path = PathBuf::from(f["file"].as_str().unwrap());
        let text = pdf_text(&path);
        let list = list_text(&path);
        let code = f["postcode"].as_str().unwrap();
        assert!(
            text.contains(&format!("Signed by {}", f["signatures"])),
            "{text}"
        );
        match code {
            "94612" => assert!(
                list.contains("Ana Reyes") && list.contains("Marta Díaz") && !list.contains("Luis")
            ),
            "94601" => assert!(
                list.contains("Luis Ortega") && !list.contains("Ana") && !text.contains("Hidden")
            ),
            "94606" => assert!(list.contains("Nguyễn Văn An") && !list.contains("Ana")),
            other => panic!("unexpected postcode {other}"),
        }
        assert_eq!(f["sha256"].as_str().unwrap().len(), 64);
    }
}

#[test]
fn deliver_all_writes_one_pdf_each_and_survives_a_failing_campaign() {
    if crate::common::sqlite_only(
        "its broken row is non-UTF-8 text, which PostgreSQL refuses to store",
    ) {
        return;
    }
    let home = Home::new();
    let first = home.live_campaign("Sanctuary for all");
    let second = home.live_campaign("Fund legal defense");
    let third = home.live_campaign("No ICE in schools");
    for slug in [&first, &second, &third] {
        add(&home, slug, &[s("Ana Reyes", "94612"), s("李娜", "94601")]);
    }
    let out = home.path().join("all");
    // Make one campaign fail: a row its reader cannot take (a name that is not text).
    let conn = rusqlite::Connection::open(home.db()).unwrap();
    conn.execute(
        "INSERT INTO signatures (campaign_id, name, source, signed_at, dedupe_key) \
         SELECT id, X'FFFE', 'paper', '2025-01-01T00:00:00Z', 'broken' FROM campaigns WHERE slug = ?1",
        [&second],
    )
    .unwrap();
    drop(conn);
    // A folder where a PDF would go is passed over for the next free name.
    let date = time::OffsetDateTime::now_utc().date().to_string();
    let obstacle = out.join(format!("{third}-delivery-{date}.pdf"));
    std::fs::create_dir_all(obstacle.join("x")).unwrap();

    let result = home
        .cmd([
            "deliver",
            "--all",
            "--status",
            "live",
            "--out",
            out.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert_eq!(result.status.code(), Some(1));
    let stdout = String::from_utf8(result.stdout).unwrap();
    let stderr = String::from_utf8(result.stderr).unwrap();
    let files: Vec<&str> = stdout.lines().collect();
    assert_eq!(files.len(), 2, "{stdout}\n{stderr}");
    for f in &files {
        assert_eq!(page_count(Path::new(f)), 2);
        assert!(pdf_text(Path::new(f)).contains("Signed by 2 people"));
    }
    assert!(
        files[1].ends_with(&format!("{third}-delivery-{date}-2.pdf")),
        "{stdout}"
    );
    assert!(
        stderr.contains("Delivered 2 campaigns in 2 files") && stderr.contains("1 failed"),
        "{stderr}"
    );
    assert!(stderr.contains(&second), "{stderr}");
    // The failed PDF's temporary file went with it: only the two delivered PDFs remain
    // (and the obstacle).
    let mut left: Vec<String> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    left.sort();
    let mut expected: Vec<String> = vec![
        format!("{first}-delivery-{date}.pdf"),
        format!("{third}-delivery-{date}.pdf"),
        format!("{third}-delivery-{date}-2.pdf"),
    ];
    expected.sort();
    assert_eq!(left, expected, "stray files in the output folder");
    assert!(obstacle.join("x").is_dir());

    // Without the broken row, all three.
    let conn = rusqlite::Connection::open(home.db()).unwrap();
    conn.execute("DELETE FROM signatures WHERE dedupe_key = 'broken'", [])
        .unwrap();
    drop(conn);
    let files = deliver(
        &home,
        &[&first, &second, &third, "--out", out.to_str().unwrap()],
    );
    assert_eq!(files.len(), 3);
}

#[test]
fn email_to_writes_a_message_with_the_pdf_attached_to_the_outbox() {
    let home = Home::new();
    let slug = home.live_campaign("Sanctuary for all");
    add(
        &home,
        &slug,
        &[
            s("José Núñez", "94612"),
            s("李娜", "94601"),
            s("Zoë Ó Súilleabháin", "94612"),
        ],
    );
    let out = home.ok(["deliver", &slug, "--email-to", "mayor@oakland.example.gov"]);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 2, "the PDF path, then the .eml path: {out}");
    assert!(
        lines[0].ends_with(".pdf") && lines[1].ends_with(".eml"),
        "{out}"
    );
    assert!(Path::new(lines[1]).starts_with(home.path().join("outbox")));

    let raw = std::fs::read(lines[1]).unwrap();
    let mail = mail_parser::MessageParser::default()
        .parse(&raw[..])
        .expect("a parsable email");
    assert_eq!(
        mail.to().unwrap().first().unwrap().address(),
        Some("mayor@oakland.example.gov")
    );
    assert_eq!(
        mail.from().unwrap().first().unwrap().address(),
        Some("ana@example.org")
    );
    let subject = mail.subject().unwrap();
    assert!(
        subject.contains("Sanctuary for all") && subject.contains('3'),
        "{subject}"
    );
    let attachment = mail.attachments().next().expect("the PDF is attached");
    assert_eq!(
        attachment.content_type().map(|c| (c.ctype(), c.subtype())),
        Some(("application", Some("pdf")))
    );
    assert_eq!(
        attachment.contents(),
        std::fs::read(lines[0]).unwrap(),
        "the attachment is the delivered file"
    );

    let listed = home.json(["outbox", "--json"]);
    assert_eq!(listed[0]["kind"], "delivery");
    let shown = home.json(["show", &slug, "--json"]);
    assert_eq!(
        shown["deliveries"][0]["recipient"],
        "mayor@oakland.example.gov"
    );

    let out = home
        .cmd(["deliver", &slug, "--email-to", "not an address"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let out = home.cmd(["deliver"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn send_delivers_the_email_to_a_real_smtp_server_and_a_dead_one_keeps_it() {
    let home = Home::new();
    let slug = home.live_campaign("Sanctuary for all");
    add(
        &home,
        &slug,
        &[s("Nguyễn Thị Minh Khai", "94612"), s("محمد الأحمد", "94601")],
    );

    let (url, received) = crate::smtp::smtp_server();
    let out = home
        .cmd([
            "deliver",
            &slug,
            "--email-to",
            "mayor@oakland.example.gov",
            "--send",
            "--json",
        ])
        .env("CAMPAIGN_SMTP_URL", &url)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report[0]["email"]["sent"], true);
    let received = received.lock().unwrap().clone();
    assert_eq!(received.len(), 1);
    assert_eq!(received[0].to, ["mayor@oakland.example.gov"]);
    let mail = mail_parser::MessageParser::default()
        .parse(&received[0].data[..])
        .unwrap();
    assert!(mail.subject().unwrap().contains("Sanctuary for all"));
    let pdf = mail
        .attachments()
        .next()
        .expect("the PDF arrived")
        .contents()
        .to_vec();
    assert!(pdf.starts_with(b"%PDF"));
    assert!(home
        .json(["outbox", "--json"])
        .as_array()
        .unwrap()
        .is_empty());

    let out = home
        .cmd([
            "deliver",
            &slug,
            "--email-to",
            "mayor@oakland.example.gov",
            "--send",
        ])
        .env("CAMPAIGN_SMTP_URL", crate::smtp::dead_server())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("could not send to mayor@oakland.example.gov") && stderr.contains("outbox"),
        "{stderr}"
    );
    let waiting = home.json(["outbox", "--json"]);
    assert_eq!(
        waiting.as_array().unwrap().len(),
        1,
        "the message stays in the outbox"
    );
    assert!(!waiting[0]["failure"].as_str().unwrap().is_empty());
}

#[test]
fn a_character_no_font_has_is_reported_by_row_and_the_name_shown_as_a_placeholder() {
    let home = Home::new();
    let slug = home.live_campaign("Sanctuary for all");
    // U+10FFFD is a private-use code point: no font anywhere draws it.
    add(
        &home,
        &slug,
        &[s("Ana Reyes", "94612"), s("Luis \u{10FFFD}Ortega", "94601")],
    );
    let out = home.path().join("odd.pdf");
    // Without --allow-unprintable nothing is written (documents.rs tests that in full).
    let refused = home
        .cmd(["deliver", &slug, "--out", out.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(refused.status.code(), Some(1));
    assert!(!out.exists());
    let result = home
        .cmd([
            "deliver",
            &slug,
            "--out",
            out.to_str().unwrap(),
            "--allow-unprintable",
        ])
        .output()
        .unwrap();
    assert!(result.status.success());
    let stderr = String::from_utf8_lossy(&result.stderr);
    assert!(
        stderr.contains("signer row 2") && stderr.contains("U+10FFFD"),
        "{stderr}"
    );
    assert!(stderr.contains("placeholder"), "{stderr}");
    let text = pdf_text(&out);
    assert!(
        text.contains("Ana Reyes") && text.contains("[name not printable]"),
        "{text}"
    );
    // Never part of a name, never a box or a question mark.
    assert!(!text.contains("Ortega"), "{text}");
    assert!(!text.contains('\u{FFFD}') && !text.contains('?'), "{text}");
}

/// Every ActualText string in page `page`'s content (1-based), in order.
fn actual_texts(path: &Path, page: u32) -> Vec<String> {
    let doc = lopdf::Document::load(path).expect("pdf");
    let id = doc.get_pages()[&page];
    let content = doc.get_page_content(id);
    let ops = lopdf::content::Content::decode(&content).expect("content ops");
    ops.operations
        .iter()
        .filter(|op| op.operator == "BDC")
        .filter_map(|op| op.operands.get(1)?.as_dict().ok()?.get(b"ActualText").ok())
        .map(|t| {
            let bytes = t.as_str().expect("a string");
            assert_eq!(
                &bytes[..2],
                b"\xFE\xFF",
                "ActualText is UTF-16BE with a BOM"
            );
            let units: Vec<u16> = bytes[2..]
                .chunks(2)
                .map(|c| u16::from_be_bytes([c[0], c[1]]))
                .collect();
            String::from_utf16(&units).expect("UTF-16")
        })
        .collect()
}

#[test]
fn shaped_names_carry_their_exact_text_as_actual_text() {
    let home = Home::new();
    let slug = home.live_campaign("Sanctuary for all");
    let shaped = [
        "राम शर्मा",
        "שָׁלוֹם",
        "محمد الأحمد",
        // Vietnamese typed with combining marks: several characters, one glyph.
        "Nguye\u{302}\u{303}n Thi\u{323}",
    ];
    let plain = ["Ana Reyes", "Nguyễn Thị Minh Khai", "李娜"];
    let signers: Vec<Signer> = shaped.iter().chain(&plain).map(|n| s(n, "94612")).collect();
    add(&home, &slug, &signers);
    let out = home.path().join("shaped.pdf");
    deliver(&home, &[&slug, "--out", out.to_str().unwrap()]);
    if let Some(keep) = std::env::var_os("CAMPAIGN_KEEP_PDF") {
        std::fs::copy(&out, keep).unwrap();
    }
    let texts = actual_texts(&out, 2);
    for name in shaped {
        // Right-to-left text is given in drawing order, as pdftotext expects it: it
        // reverses right-to-left words back into reading order.
        let expected: String = if name.chars().any(|c| ('\u{590}'..='\u{8FF}').contains(&c)) {
            name.chars().rev().collect()
        } else {
            name.to_string()
        };
        assert!(texts.contains(&expected), "{name:?} not in {texts:?}");
    }
    // Text drawn one glyph per character needs none: ToUnicode gives it back as is.
    for name in plain {
        assert!(!texts.iter().any(|t| t == name), "{name:?} in {texts:?}");
    }
    // Per-glyph extraction still gives the names drawn glyph by glyph.
    let text = pdf_text(&out);
    for name in plain {
        assert!(text.contains(name), "{name:?} not in:\n{text}");
    }
}

/// The baselines (y of each Tm) of the text drawn on page `page`.
fn baselines(path: &Path, page: u32) -> Vec<f32> {
    let doc = lopdf::Document::load(path).expect("pdf");
    let id = doc.get_pages()[&page];
    let ops = lopdf::content::Content::decode(&doc.get_page_content(id)).expect("ops");
    ops.operations
        .iter()
        .filter(|op| op.operator == "Tm")
        .map(|op| op.operands[5].as_float().expect("a number"))
        .collect()
}

fn page_text(path: &Path, page: u32) -> String {
    lopdf::Document::load(path)
        .expect("pdf")
        .extract_text(&[page])
        .expect("text")
}

#[test]
fn a_huge_title_ask_and_why_are_shortened_visibly_and_the_count_stays() {
    let home = Home::new();
    home.account();
    let title = "Sanctuary for every family in Oakland ".repeat(520);
    let ask = format!(
        "{} {}",
        "Declare the city a sanctuary for all immigrants. ".repeat(300),
        "x".repeat(5_000)
    );
    let why = "Our neighbors should live without fear of deportation. ".repeat(400);
    let target = "Mayor Barbara Lee and the Oakland City Council ".repeat(100);
    let slug = home
        .ok([
            "new",
            "--title",
            &title,
            "--target",
            &target,
            "--ask",
            &ask,
            "--why",
            &why,
            "--location",
            "Oakland, CA",
            "--postcode",
            "94612",
            "--goal",
            "500",
        ])
        .trim()
        .to_string();
    home.ok(["review", &slug, "--launch"]);
    add(
        &home,
        &slug,
        &[
            s("Ana Reyes", "94612"),
            s("Luis Ortega", "94601"),
            s("李娜", "94601"),
        ],
    );
    let out = home.path().join("split");
    let report = home.json([
        "deliver",
        &slug,
        "--split-by",
        "postcode",
        "--out",
        out.to_str().unwrap(),
        "--json",
    ]);
    for f in report.as_array().unwrap() {
        let path = PathBuf::from(f["file"].as_str().unwrap());
        let cover = page_text(&path, 1);
        let n = f["signatures"].as_i64().unwrap();
        let code = f["postcode"].as_str().unwrap();
        for needed in [
            format!("Signed by {n} "),
            "Where".to_string(),
            "Oakland, CA".to_string(),
            "Postcode".to_string(),
            code.to_string(),
        ] {
            assert!(
                cover.contains(&needed),
                "{needed:?} not on the cover:\n{cover}"
            );
        }
        // Shortened where it was cut, visibly, for the title, ask, why and target.
        assert!(cover.matches('…').count() >= 4, "{cover}");
        // Everything drawn lies on the page, above the footer.
        for y in baselines(&path, 1) {
            assert!((30.0..842.0).contains(&y), "text drawn at y = {y}");
        }
        // The running header is one line, shortened too.
        let header = page_text(&path, 2);
        assert!(header.contains("Sanctuary for every family") && header.contains('…'));
        assert!(
            header.len() < 2_000,
            "{} bytes of page 2 text",
            header.len()
        );
    }
}
