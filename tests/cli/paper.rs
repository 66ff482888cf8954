//! `campaign paper-form`: printable sheets whose text can be read back, with ids that
//! are unique and recorded.

use std::path::Path;

use crate::common::Home;

/// The text of each page, as a PDF reader extracts it (fonts are Identity-H with a
/// ToUnicode map, which lopdf decodes).
fn pages_text(path: &Path) -> Vec<String> {
    let bytes = std::fs::read(path).expect("read pdf");
    let doc = lopdf::Document::load_mem(&bytes).expect("a PDF");
    let pages = doc.get_pages().len() as u32;
    (1..=pages)
        .map(|n| doc.extract_text(&[n]).expect("extract text"))
        .collect()
}

/// Text without any whitespace: wrapped lines come back split differently by readers.
fn squash(s: &str) -> String {
    s.chars().filter(|c| !c.is_whitespace()).collect()
}

fn assert_has(page: &str, wanted: &str) {
    assert!(
        squash(page).contains(&squash(wanted)),
        "{wanted:?} not in page text:\n{page}"
    );
}

#[test]
fn paper_form_prints_the_petition_the_table_and_a_sheet_id_per_page() {
    let home = Home::new();
    let slug = home.live_campaign("Oakland is a sanctuary");
    let out = home.ok(["paper-form", &slug, "--sheets", "2"]);
    let path = Path::new(out.trim());
    assert!(path.starts_with(home.path().join("documents")), "{out}");
    assert!(path
        .file_name()
        .unwrap()
        .to_string_lossy()
        .ends_with("-paper-form-OAK-0001.pdf"));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "signer forms are private");
    }

    let pages = pages_text(path);
    assert_eq!(pages.len(), 2, "one page per sheet");
    for (page, sheet_id) in pages.iter().zip(["OAK-0001", "OAK-0002"]) {
        assert_has(page, sheet_id);
        assert_has(page, "Oakland Sanctuary Coalition");
        assert_has(page, "Mayor Barbara Lee and the Oakland City Council");
        assert_has(page, "Declare Oakland a sanctuary city for all immigrants.");
        for heading in [
            "Name",
            "Email",
            "ZIP code",
            "Phone",
            "Join list: tick to get emails from Oakland Sanctuary Coalition",
            "Private: tick to be counted without your name being shown",
        ] {
            assert_has(page, heading);
        }
        assert_has(page, "collects this information");
        assert_has(page, "Never pre-ticked");
        // A sheet the public handles names no tool and no command.
        assert!(!page.contains("campaign "), "{page}");
        assert_has(page, "ana@example.org");
    }
    assert!(!squash(&pages[0]).contains("OAK-0002"));
    assert!(
        !squash(&pages[0]).contains("Nombre"),
        "English only by default"
    );
}

#[test]
fn both_languages_print_spanish_headings_too() {
    let home = Home::new();
    let slug = home.live_campaign("Oakland is a sanctuary");
    let out = home.ok(["paper-form", &slug, "--lang", "both", "--paper", "a4"]);
    let pages = pages_text(Path::new(out.trim()));
    assert_eq!(pages.len(), 1);
    let page = &pages[0];
    for heading in [
        "Name / Nombre",
        "Email / Correo electrónico",
        "ZIP code / Código postal",
        "Phone / Teléfono",
        "marque para recibir correos de Oakland Sanctuary Coalition",
        "marque para que su firma se cuente sin mostrar su nombre",
    ] {
        assert_has(page, heading);
    }
    assert_has(
        page,
        "Privacidad: Oakland Sanctuary Coalition recoge estos datos",
    );
    assert_has(page, "Nunca viene marcada");
    assert_has(page, "collects this information");
}

#[test]
fn sheet_ids_are_recorded_and_continue_from_run_to_run() {
    let home = Home::new();
    let slug = home.live_campaign("Oakland is a sanctuary");
    let out_file = home.path().join("forms").join("first.pdf");
    let first = home.json([
        "--json",
        "paper-form",
        &slug,
        "--sheets",
        "2",
        "--lines",
        "7",
        "--out",
        out_file.to_str().unwrap(),
    ]);
    assert_eq!(first["file"], out_file.to_str().unwrap());
    assert_eq!(first["sheets"], serde_json::json!(["OAK-0001", "OAK-0002"]));
    assert!(out_file.exists());

    let second = home.json(["--json", "paper-form", &slug]);
    assert_eq!(second["sheets"], serde_json::json!(["OAK-0003"]));
    let second_file = second["file"].as_str().unwrap();
    assert!(
        second_file.ends_with("-paper-form-OAK-0003.pdf"),
        "{second_file}"
    );
    assert_has(&pages_text(Path::new(second_file))[0], "OAK-0003");

    let store = home.store();
    let campaign = store.find_campaign(&slug).unwrap();
    let sheets = store.sheets(campaign.id).unwrap();
    let ids: Vec<&str> = sheets.iter().map(|s| s.sheet_id.as_str()).collect();
    assert_eq!(ids, ["OAK-0001", "OAK-0002", "OAK-0003"]);
    assert_eq!(sheets[0].lines, 7, "--lines is recorded with the sheet");
    assert!(
        (6..=10).contains(&sheets[2].lines),
        "default lines: {}",
        sheets[2].lines
    );
}

#[test]
fn numbered_lines_follow_the_lines_flag() {
    let home = Home::new();
    let slug = home.live_campaign("Oakland is a sanctuary");
    let out = home.ok(["paper-form", &slug, "--lines", "3"]);
    let page = squash(&pages_text(Path::new(out.trim()))[0]);
    // The example row (unnumbered), then lines 1, 2 and 3, then the legend.
    assert!(page.contains("(510)555-0142123Joinlist:"), "{page}");
    let lines = home
        .store()
        .sheets(1)
        .unwrap()
        .into_iter()
        .map(|s| s.lines)
        .collect::<Vec<_>>();
    assert_eq!(lines, [3]);
}

#[test]
fn impossible_lines_or_sheets_are_usage_errors_naming_the_flag() {
    let home = Home::new();
    let slug = home.live_campaign("Oakland is a sanctuary");
    for (flag, value) in [("--lines", "60"), ("--lines", "0"), ("--sheets", "0")] {
        let out = home
            .cmd(["paper-form", &slug, flag, value])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{flag} {value}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(flag), "{stderr}");
        assert!(out.stdout.is_empty());
    }
    // Nothing was recorded for the refused runs.
    let store = home.store();
    assert!(store.sheets(1).unwrap().is_empty());
}

#[test]
fn names_in_any_script_and_the_campaign_picture_make_it_onto_the_form() {
    let home = Home::new();
    home.account();
    let slug = home
        .ok([
            "new",
            "--title",
            "Escuela santuario",
            "--target",
            "Directora Nguyễn Thị Minh Khai y 李娜",
            "--ask",
            "Protejan a nuestras familias: ningún agente de ICE en la escuela.",
            "--why",
            "Los niños aprenden mejor sin miedo.",
            "--location",
            "Oakland, CA",
            "--lang",
            "es",
        ])
        .trim()
        .to_string();
    let picture = home.path().join("picture.png");
    image::RgbImage::from_fn(600, 315, |x, y| {
        image::Rgb([(x % 256) as u8, (y % 256) as u8, 120])
    })
    .save(&picture)
    .unwrap();
    home.ok(["review", &slug, "--picture", picture.to_str().unwrap()]);

    let out = home.ok(["paper-form", &slug, "--sheets", "2"]);
    let path = Path::new(out.trim());
    let page = &pages_text(path)[1];
    assert_has(page, "Para: Directora Nguyễn Thị Minh Khai y 李娜");
    assert_has(page, "ningún agente de ICE en la escuela");
    assert_has(page, "Nombre");
    assert!(
        !squash(page).contains("ZIPcode"),
        "Spanish campaign: Spanish form"
    );

    let doc = lopdf::Document::load_mem(&std::fs::read(path).unwrap()).unwrap();
    let images = doc
        .objects
        .values()
        .filter_map(|o| o.as_stream().ok())
        .filter(|s| {
            s.dict
                .get(b"Subtype")
                .and_then(|v| v.as_name())
                .is_ok_and(|n| n == b"Image")
        })
        .count();
    assert_eq!(images, 1, "the picture is embedded once and reused");
}
