//! The documents people hold: the paper form, the delivery letter, every name printable,
//! and the share card. Each test reads the document back (PDF text and ActualText with
//! lopdf, emails with mail-parser, PNG pixels with image) and checks what it says.

use std::path::{Path, PathBuf};

use crate::common::Home;

// ---- Reading documents back -----------------------------------------------------------

/// The text of each page, as a PDF reader extracts it.
fn pages_text(path: &Path) -> Vec<String> {
    let doc = lopdf::Document::load(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
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

/// Width and height of page `page` (1-based), in points.
fn page_size(path: &Path, page: u32) -> (f32, f32) {
    let doc = lopdf::Document::load(path).expect("pdf");
    let id = doc.get_pages()[&page];
    let dict = doc.get_dictionary(id).expect("page");
    let media = dict.get(b"MediaBox").expect("MediaBox").as_array().unwrap();
    let n = |i: usize| media[i].as_float().expect("number");
    (n(2) - n(0), n(3) - n(1))
}

/// Every ActualText string in page `page`'s content, in order.
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
            assert_eq!(&bytes[..2], b"\xFE\xFF", "UTF-16BE with a BOM");
            let units: Vec<u16> = bytes[2..]
                .chunks(2)
                .map(|c| u16::from_be_bytes([c[0], c[1]]))
                .collect();
            String::from_utf16(&units).expect("UTF-16")
        })
        .collect()
}

/// The embedded fonts: (BaseFont without its subset tag, the font program's /Subtype).
fn embedded_fonts(path: &Path) -> Vec<(String, String)> {
    let doc = lopdf::Document::load(path).expect("pdf");
    let mut out = Vec::new();
    for object in doc.objects.values() {
        let Ok(dict) = object.as_dict() else { continue };
        if dict.get(b"Type").and_then(|t| t.as_name()).ok() != Some(b"FontDescriptor") {
            continue;
        }
        let name = dict
            .get(b"FontName")
            .and_then(|n| n.as_name())
            .map(|n| String::from_utf8_lossy(n).to_string())
            .unwrap_or_default();
        let name = name
            .split_once('+')
            .map_or(name.clone(), |(_, n)| n.to_string());
        let kind = if let Ok(r) = dict.get(b"FontFile3").and_then(|f| f.as_reference()) {
            let stream = doc
                .get_object(r)
                .and_then(|o| o.as_stream())
                .expect("stream");
            stream
                .dict
                .get(b"Subtype")
                .and_then(|s| s.as_name())
                .map(|s| String::from_utf8_lossy(s).to_string())
                .unwrap_or_else(|_| "FontFile3".into())
        } else {
            "TrueType".to_string()
        };
        out.push((name, kind));
    }
    out
}

fn stderr_of(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Signers imported as a CSV on standard input: (name, postcode).
fn import(home: &Home, slug: &str, signers: &[(&str, &str)]) {
    let mut csv = String::from("name,postcode\n");
    for (name, postcode) in signers {
        csv.push_str(&format!("\"{name}\",{postcode}\n"));
    }
    let out = home
        .cmd(["enter-signatures", slug, "--from", "-", "--source", "paper"])
        .write_stdin(csv)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
}

/// A live campaign by Ana Reyes of the Oakland Sanctuary Coalition: `extra` flags, and
/// the usual text for those it leaves out.
fn live(home: &Home, extra: &[&str]) -> String {
    home.account();
    let mut args = vec!["new", "--location", "Oakland, CA", "--postcode", "94612"];
    for (flag, value) in [
        ("--title", "Make Oakland a sanctuary city"),
        ("--target", "Mayor Barbara Lee and the Oakland City Council"),
        (
            "--ask",
            "Declare Oakland a sanctuary city for all immigrants.",
        ),
        (
            "--why",
            "Our neighbors should live without fear of deportation.",
        ),
    ] {
        if !extra.contains(&flag) {
            args.extend([flag, value]);
        }
    }
    args.extend_from_slice(extra);
    let slug = home.ok(args).trim().to_string();
    home.ok(["review", &slug, "--launch"]);
    slug
}

/// The "N lines each" of paper-form's status line.
fn lines_each(stderr: &str) -> usize {
    let before = stderr.split(" lines each").next().expect("a status line");
    before
        .rsplit(' ')
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no line count in {stderr}"))
}

// ---- The paper form -------------------------------------------------------------------

const WHY: &str =
    "Our neighbors should live without fear of deportation. When families are afraid \
    to call 911, report wage theft or send their children to school, the whole city is less \
    safe. A sanctuary policy keeps local police out of federal immigration enforcement, so \
    everyone can ask for help. Thirty cities in California have done it; Oakland can lead \
    again, as it did in 1986.";
const URL: &str =
    "https://petitions.example.org/p/make-oakland-a-sanctuary-city-for-every-family-now?src=paper";

#[test]
fn paper_form_holds_the_title_the_whole_why_and_url_and_no_command() {
    let home = Home::new();
    let slug = live(&home, &["--why", WHY, "--url", URL]);
    let out = home
        .cmd(["paper-form", &slug, "--sheets", "2"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    let path = PathBuf::from(String::from_utf8(out.stdout.clone()).unwrap().trim());
    let pages = pages_text(&path);
    assert_eq!(pages.len(), 2);
    for page in &pages {
        assert_has(page, "Make Oakland a sanctuary city");
        assert_has(page, "To: Mayor Barbara Lee and the Oakland City Council");
        assert_has(page, "Declare Oakland a sanctuary city for all immigrants.");
        assert_has(page, &format!("Why: {WHY}"));
        assert_has(page, URL);
        assert!(!page.contains('…'), "nothing is cut:\n{page}");
        // Nothing on a sheet the public handles names the tool or a command.
        assert!(!page.to_lowercase().contains("campaign "), "{page}");
        assert!(!page.contains("enter-signatures"), "{page}");
    }
    // The title is the headline: it comes before the target.
    let flat = squash(&pages[0]);
    assert!(flat.find("MakeOakland").unwrap() < flat.find("To:").unwrap());
    // Letter, landscape, for a US campaign; 8 to 10 lines to sign on.
    assert_eq!(page_size(&path, 1), (792.0, 612.0));
    let lines = lines_each(&stderr_of(&out));
    assert!((8..=10).contains(&lines), "{lines} lines");
}

#[test]
fn paper_form_in_every_language_and_size_has_8_to_10_lines_and_short_headings() {
    let home = Home::new();
    let slug = live(&home, &["--why", WHY, "--url", URL]);
    for lang in ["en", "es", "both"] {
        for (paper, size) in [("letter", (792.0, 612.0)), ("a4", (841.89, 595.28))] {
            let file = home.path().join(format!("form-{lang}-{paper}.pdf"));
            let out = home
                .cmd([
                    "paper-form",
                    &slug,
                    "--lang",
                    lang,
                    "--paper",
                    paper,
                    "--out",
                    file.to_str().unwrap(),
                ])
                .output()
                .unwrap();
            assert!(out.status.success(), "{lang} {paper}: {}", stderr_of(&out));
            let lines = lines_each(&stderr_of(&out));
            assert!((8..=10).contains(&lines), "{lang} {paper}: {lines} lines");
            let (w, h) = page_size(&file, 1);
            assert!(
                (w - size.0).abs() < 0.5 && (h - size.1).abs() < 0.5,
                "{w}x{h}"
            );
            let page = &pages_text(&file)[0];
            assert_has(
                page,
                &format!("Why: {WHY}").replace(
                    "Why:",
                    match lang {
                        "en" => "Why:",
                        "es" => "Por qué:",
                        _ => "Why / Por qué:",
                    },
                ),
            );
            let (name, join, private, legend) = match lang {
                "en" => ("Name", "Join list", "Private", "tick to get emails from"),
                "es" => (
                    "Nombre",
                    "Unirme",
                    "Privado",
                    "marque para recibir correos de",
                ),
                _ => (
                    "Name / Nombre",
                    "Join list / Unirme",
                    "Private / Privado",
                    "marque para recibir correos de",
                ),
            };
            for heading in [name, join, private, legend] {
                assert_has(page, heading);
            }
        }
    }
}

#[test]
fn a_why_too_long_for_a_sheet_is_refused_with_what_to_cut_or_printed_short() {
    let home = Home::new();
    let long = format!("{WHY} ").repeat(12);
    let slug = live(&home, &["--why", &long]);
    let file = home.path().join("long.pdf");
    let out = home
        .cmd(["paper-form", &slug, "--out", file.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr_of(&out));
    let stderr = stderr_of(&out);
    assert!(
        stderr.contains("characters too long") && stderr.contains("--short-why"),
        "{stderr}"
    );
    let cut: usize = stderr
        .split("about ")
        .nth(1)
        .and_then(|s| s.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no count in {stderr}"));
    assert!(cut > 500 && cut < long.len(), "{cut}");
    assert!(!file.exists());
    assert!(out.stdout.is_empty());
    // No sheet ids were spent on the refused run.
    let shown = home.json([
        "--json",
        "paper-form",
        &slug,
        "--short-why",
        "Families belong here.",
    ]);
    assert_eq!(shown["sheets"], serde_json::json!(["MAK-0001"]));
    let page = &pages_text(Path::new(shown["file"].as_str().unwrap()))[0];
    assert_has(page, "Why: Families belong here.");
    assert!(!squash(page).contains("Thirtycities"), "{page}");
}

#[test]
fn an_empty_short_why_is_refused_and_the_paper_size_is_read_in_any_case() {
    let home = Home::new();
    let slug = live(&home, &[]);
    let file = home.path().join("form.pdf");
    // An unset shell variable ("--short-why $WHY") would print a sheet without a why.
    for empty in ["", "  "] {
        let out = home
            .cmd(["paper-form", &slug, "--short-why", empty, "--out"])
            .arg(&file)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{}", stderr_of(&out));
        assert!(
            stderr_of(&out).contains("--short-why is empty"),
            "{}",
            stderr_of(&out)
        );
        assert!(!file.exists());
    }
    // "A4" as printed on the package, "Letter" as said.
    let shown = home.json(["--json", "paper-form", &slug, "--paper", "A4"]);
    assert_eq!(
        shown["sheets"],
        serde_json::json!(["MAK-0001"]),
        "no ids spent before"
    );
    let (w, h) = page_size(Path::new(shown["file"].as_str().unwrap()), 1);
    assert!(
        (w - 841.89).abs() < 0.5 && (h - 595.28).abs() < 0.5,
        "{w}x{h}"
    );
    import(&home, &slug, &[("Rosa Martínez", "94601")]);
    let letter = home.path().join("letter.pdf");
    home.ok([
        "deliver",
        &slug,
        "--paper",
        "Letter",
        "--out",
        letter.to_str().unwrap(),
    ]);
    assert_eq!(page_size(&letter, 1), (612.0, 792.0));
}

#[test]
fn with_instructions_the_command_goes_on_a_first_page_for_organizers() {
    let home = Home::new();
    let slug = live(&home, &[]);
    let file = home.path().join("with-howto.pdf");
    home.ok([
        "paper-form",
        &slug,
        "--sheets",
        "3",
        "--with-instructions",
        "--out",
        file.to_str().unwrap(),
    ]);
    let pages = pages_text(&file);
    assert_eq!(pages.len(), 4, "instructions and 3 sheets");
    assert_has(&pages[0], "Before you hand out these sheets");
    assert_has(&pages[0], &format!("campaign enter-signatures {slug}"));
    assert_has(&pages[0], "MAK-0001 – MAK-0003 (3 sheets in all)");
    for (page, id) in pages[1..].iter().zip(["MAK-0001", "MAK-0002", "MAK-0003"]) {
        assert_has(page, id);
        assert!(!page.contains("campaign "), "{page}");
    }
}

#[test]
fn paper_form_text_no_font_draws_is_refused_unless_allowed() {
    let home = Home::new();
    let slug = live(&home, &["--title", "Sanctuary \u{10FFFD} now"]);
    let file = home.path().join("odd.pdf");
    let out = home
        .cmd(["paper-form", &slug, "--out", file.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr_of(&out));
    let stderr = stderr_of(&out);
    assert!(
        stderr.contains("the title") && stderr.contains("U+10FFFD"),
        "{stderr}"
    );
    assert!(stderr.contains("--allow-unprintable"), "{stderr}");
    assert!(!file.exists());
    home.ok([
        "paper-form",
        &slug,
        "--out",
        file.to_str().unwrap(),
        "--allow-unprintable",
    ]);
    assert_has(&pages_text(&file)[0], "Sanctuary \u{FFFD} now");
}

#[test]
fn paper_form_text_in_shaped_scripts_comes_back_exactly_as_actual_text() {
    // Pointed Hebrew (marks placed on their letters) and Devanagari (reordered vowel
    // signs): per-glyph text gives them back scrambled, ActualText exactly.
    let title = "מִקְלָט לְכֻלָּם";
    let target = "रमेश शर्मा";
    let home = Home::new();
    let slug = live(&home, &["--title", title, "--target", target]);
    let file = home.path().join("shaped.pdf");
    home.ok(["paper-form", &slug, "--out", file.to_str().unwrap()]);
    let texts = actual_texts(&file, 1);
    // Right to left in drawing order, as pdftotext expects it (like the delivery PDF).
    let drawn: String = title.chars().rev().collect();
    assert!(texts.contains(&drawn), "{title:?} not in {texts:?}");
    assert!(
        texts.contains(&target.to_string()),
        "{target:?} not in {texts:?}"
    );
}

// ---- The delivery letter --------------------------------------------------------------

/// Today (UTC, as `deliver` dates its letters) written out: "December 1, 2026" in
/// English, "1 de diciembre de 2026" in Spanish.
fn today(spanish: bool) -> String {
    const EN: [&str; 12] = [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ];
    const ES: [&str; 12] = [
        "enero",
        "febrero",
        "marzo",
        "abril",
        "mayo",
        "junio",
        "julio",
        "agosto",
        "septiembre",
        "octubre",
        "noviembre",
        "diciembre",
    ];
    let d = time::OffsetDateTime::now_utc().date();
    let m = d.month() as usize - 1;
    if spanish {
        format!("{} de {} de {}", d.day(), ES[m], d.year())
    } else {
        format!("{} {}, {}", EN[m], d.day(), d.year())
    }
}

#[test]
fn the_delivery_cover_is_a_letter_on_letter_paper_for_a_us_campaign() {
    let home = Home::new();
    let slug = live(&home, &["--country", "US"]);
    import(
        &home,
        &slug,
        &[
            ("Rosa Martínez", "94601"),
            ("Luis Ortega", "94612"),
            ("李娜", "94612"),
        ],
    );
    let file = home.path().join("letter.pdf");
    home.ok(["deliver", &slug, "--out", file.to_str().unwrap()]);
    assert_eq!(page_size(&file, 1), (612.0, 792.0), "US Letter");
    assert_eq!(page_size(&file, 2), (612.0, 792.0));
    let cover = &pages_text(&file)[0];
    for needed in [
        "Oakland Sanctuary Coalition",
        "Ana Reyes",
        &today(false),
        "To:",
        "Mayor Barbara Lee and the Oakland City Council",
        "Make Oakland a sanctuary city",
        "Signed by 3 people",
        "3 on paper, 0 online.",
        "Declare Oakland a sanctuary city for all immigrants.",
        "Our neighbors should live without fear of deportation.",
        "Sincerely,",
    ] {
        assert!(
            cover.contains(needed),
            "{needed:?} not on the cover:\n{cover}"
        );
    }
    // The count comes before the ask, near the top; the closing after the why.
    let at = |s: &str| cover.find(s).unwrap();
    assert!(at("Signed by 3 people") < at("We ask"));
    assert!(at("Our neighbors") < at("Sincerely,"));
    assert!(
        !cover.contains("2026-") && !cover.contains("2025-"),
        "no ISO date: {cover}"
    );
    // The sender's email only when asked for.
    assert!(!cover.contains("ana@example.org"), "{cover}");
    let with_email = home.path().join("letter-email.pdf");
    home.ok([
        "deliver",
        &slug,
        "--include-sender-email",
        "--out",
        with_email.to_str().unwrap(),
    ]);
    assert!(pages_text(&with_email)[0].contains("ana@example.org"));

    // In Spanish, with the date and plurals of Spanish.
    let es = home.path().join("carta.pdf");
    home.ok([
        "deliver",
        &slug,
        "--lang",
        "es",
        "--out",
        es.to_str().unwrap(),
    ]);
    let cover = &pages_text(&es)[0];
    for needed in [
        "Para:",
        "Firmada por 3 personas",
        &today(true),
        "Atentamente,",
    ] {
        assert!(
            cover.contains(needed),
            "{needed:?} not on the cover:\n{cover}"
        );
    }
}

#[test]
fn the_paper_size_follows_the_country_and_the_flag() {
    let home = Home::new();
    let slug = live(&home, &["--country", "ES"]);
    import(&home, &slug, &[("Rosa Martínez", "28001")]);
    let a4 = home.path().join("a4.pdf");
    home.ok(["deliver", &slug, "--out", a4.to_str().unwrap()]);
    let (w, h) = page_size(&a4, 1);
    assert!(
        (w - 595.28).abs() < 0.5 && (h - 841.89).abs() < 0.5,
        "{w}x{h}"
    );
    let letter = home.path().join("letter.pdf");
    home.ok([
        "deliver",
        &slug,
        "--paper",
        "letter",
        "--out",
        letter.to_str().unwrap(),
    ]);
    assert_eq!(page_size(&letter, 1), (612.0, 792.0));
}

#[test]
fn a_split_delivery_names_its_postcode_and_the_total_on_the_cover_and_in_the_email() {
    let home = Home::new();
    let slug = live(&home, &[]);
    import(
        &home,
        &slug,
        &[
            ("Rosa Martínez", "94601"),
            ("Luis Ortega", "94612"),
            ("李娜", "94612"),
        ],
    );
    let dir = home.path().join("split");
    let files = home.json([
        "--json",
        "deliver",
        &slug,
        "--split-by",
        "postcode",
        "--out",
        dir.to_str().unwrap(),
        "--email-to",
        "council@oakland.example.gov",
    ]);
    let files = files.as_array().unwrap();
    assert_eq!(files.len(), 2);
    let mut subjects = Vec::new();
    for f in files {
        let code = f["postcode"].as_str().unwrap();
        let n = f["signatures"].as_i64().unwrap();
        let file = f["file"].as_str().unwrap();
        assert!(file.contains(code), "{file}");
        let cover = &pages_text(Path::new(file))[0];
        let people = if n == 1 { "person" } else { "people" };
        assert!(
            cover.contains(&format!("Signed by {n} {people}")),
            "{cover}"
        );
        assert!(
            cover.contains(&format!(
                "Postcode {code}: {n} of the 3 people who signed the whole petition."
            )),
            "{cover}"
        );
        let eml = std::fs::read(f["email"]["file"].as_str().unwrap()).unwrap();
        let mail = mail_parser::MessageParser::default()
            .parse(&eml[..])
            .unwrap();
        let subject = mail.subject().unwrap().to_string();
        assert_eq!(
            subject,
            format!("Petition: Make Oakland a sanctuary city, postcode {code} ({n} of 3 people)")
        );
        let body = mail.body_text(0).unwrap();
        assert!(
            body.contains(&format!(
                "for postcode {code}: {n} of the 3 people who signed the whole petition"
            )),
            "{body}"
        );
        subjects.push(subject);
    }
    assert_ne!(subjects[0], subjects[1]);
}

// ---- Every name printable -------------------------------------------------------------

/// Delivers one signer named `name` and checks the name comes back exactly, drawn with
/// the bundled font for its script (nothing installed needed).
fn name_comes_back_exactly(name: &str, font: &str) {
    let home = Home::new();
    let slug = live(&home, &[]);
    import(&home, &slug, &[(name, "94612")]);
    let file = home.path().join("names.pdf");
    let out = home
        .cmd(["deliver", &slug, "--out", file.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(out.status.success(), "{name}: {}", stderr_of(&out));
    assert!(!stderr_of(&out).contains("warning"), "{}", stderr_of(&out));
    // Shaped scripts carry the name as ActualText; the others give it back per glyph.
    let actual = actual_texts(&file, 2);
    let text = pages_text(&file)[1].clone();
    assert!(
        actual.iter().any(|t| t == name) || text.contains(name),
        "{name:?} not in {actual:?} nor in:\n{text}"
    );
    let fonts = embedded_fonts(&file);
    assert!(
        fonts.iter().any(|(f, _)| f == font),
        "{name}: drawn with {fonts:?}, not {font}"
    );
}

macro_rules! script_names {
    ($($test:ident: $name:literal with $font:literal;)*) => {
        $(
            #[test]
            fn $test() {
                name_comes_back_exactly($name, $font);
            }
        )*
    };
}

script_names! {
    amharic_names_come_out_of_the_delivery_pdf_exactly: "አበበ ቢቂላ" with "NotoSansEthiopic-Regular";
    tigrinya_names_come_out_of_the_delivery_pdf_exactly: "ሰላም ገብረ" with "NotoSansEthiopic-Regular";
    burmese_names_come_out_of_the_delivery_pdf_exactly: "အောင်ဆန်းစုကြည်" with "NotoSansMyanmar-Regular";
    karen_names_come_out_of_the_delivery_pdf_exactly: "စီၤ ခ့ၣ်" with "NotoSansMyanmar-Regular";
    khmer_names_come_out_of_the_delivery_pdf_exactly: "សុខ ចាន់" with "NotoSansKhmer-Regular";
    thai_names_come_out_of_the_delivery_pdf_exactly: "สมชาย ใจดี" with "NotoSansThai-Regular";
    lao_names_come_out_of_the_delivery_pdf_exactly: "ສົມສັກ" with "NotoSansLao-Regular";
    tamil_names_come_out_of_the_delivery_pdf_exactly: "முருகன் செல்வம்" with "NotoSansTamil-Regular";
    punjabi_names_come_out_of_the_delivery_pdf_exactly: "ਗੁਰਪ੍ਰੀਤ ਸਿੰਘ" with "NotoSansGurmukhi-Regular";
    bengali_names_come_out_of_the_delivery_pdf_exactly: "রবীন্দ্রনাথ" with "NotoSansBengali-Regular";
    gujarati_names_come_out_of_the_delivery_pdf_exactly: "નરેન્દ્ર" with "NotoSansGujarati-Regular";
    telugu_names_come_out_of_the_delivery_pdf_exactly: "వెంకటేశ్వర" with "NotoSansTelugu-Regular";
    kannada_names_come_out_of_the_delivery_pdf_exactly: "ಕುವೆಂಪು" with "NotoSansKannada-Regular";
    malayalam_names_come_out_of_the_delivery_pdf_exactly: "മോഹൻലാൽ" with "NotoSansMalayalam-Regular";
    sinhala_names_come_out_of_the_delivery_pdf_exactly: "කුමාර" with "NotoSansSinhala-Regular";
    armenian_names_come_out_of_the_delivery_pdf_exactly: "Արամ Խաչատրյան" with "NotoSansArmenian-Regular";
    georgian_names_come_out_of_the_delivery_pdf_exactly: "ნინო ბერიძე" with "NotoSansGeorgian-Regular";
}

#[test]
fn an_undrawable_name_makes_deliver_fail_and_allow_unprintable_prints_a_placeholder() {
    let home = Home::new();
    let slug = live(&home, &[]);
    // U+10FFFD is a private-use code point: no font anywhere draws it.
    import(
        &home,
        &slug,
        &[
            ("Rosa Martínez", "94601"),
            ("Luis \u{10FFFD}Ortega", "94612"),
        ],
    );
    let file = home.path().join("refused.pdf");
    let dir = home.path().join("refused-split");
    let attempts: [Vec<&str>; 3] = [
        vec!["--out", file.to_str().unwrap()],
        vec!["--split-by", "postcode", "--out", dir.to_str().unwrap()],
        vec!["--out", "-"],
    ];
    for extra in &attempts {
        let mut args = vec!["deliver", slug.as_str()];
        args.extend(extra);
        let out = home.cmd(&args).output().unwrap();
        assert_eq!(out.status.code(), Some(1), "{extra:?}: {}", stderr_of(&out));
        let stderr = stderr_of(&out);
        assert!(
            stderr.contains("U+10FFFD")
                && stderr.contains("signature id 2")
                && stderr.contains("--allow-unprintable"),
            "{extra:?}: {stderr}"
        );
        assert!(out.stdout.is_empty(), "{extra:?}: nothing on stdout");
    }
    assert!(!file.exists(), "no file is left behind");
    assert!(
        !dir.exists() || std::fs::read_dir(&dir).unwrap().next().is_none(),
        "no split file is written before the refusal"
    );
    let shown = home.json(["--json", "show", &slug]);
    assert_eq!(
        shown["deliveries"],
        serde_json::json!([]),
        "nothing recorded"
    );

    let allowed = home.path().join("allowed.pdf");
    let out = home
        .cmd([
            "deliver",
            &slug,
            "--allow-unprintable",
            "--out",
            allowed.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    let pages = pages_text(&allowed);
    assert!(
        pages[0].contains("1 name has characters no font"),
        "{}",
        pages[0]
    );
    assert!(pages[0].contains("Signed by 2 people"), "{}", pages[0]);
    assert!(pages[1].contains("Rosa Martínez"), "{}", pages[1]);
    assert!(pages[1].contains("[name not printable]"), "{}", pages[1]);
    assert!(
        !pages[1].contains("Ortega") && !pages[1].contains("Luis"),
        "{}",
        pages[1]
    );
}

#[test]
fn a_system_cff_font_draws_what_no_bundled_font_has() {
    let home = Home::new();
    // A user font, the way fonts-noto-cjk installs its CFF collection; 𠮷 (the "tsuchi
    // yoshi" of Yoshida) is in no bundled font, and lives in the collection's 2nd face.
    let fonts = home.path().join(".fonts");
    std::fs::create_dir_all(&fonts).unwrap();
    std::fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/fonts/CampaignTestCJK-CFF.ttc"),
        fonts.join("CampaignTestCJK-CFF.ttc"),
    )
    .unwrap();
    let config = home.path().join("fonts.conf");
    std::fs::write(
        &config,
        format!(
            "<?xml version=\"1.0\"?>\n<fontconfig><dir>{}</dir></fontconfig>\n",
            fonts.display()
        ),
    )
    .unwrap();
    let slug = live(&home, &["--target", "Directora 𠮷田 花子"]);
    import(&home, &slug, &[("𠮷田 花子", "94612")]);
    let file = home.path().join("cff.pdf");
    let out = home
        .cmd(["deliver", &slug, "--out", file.to_str().unwrap()])
        .env("FONTCONFIG_FILE", &config)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    // Two fonts in one name: ActualText gives it back whole.
    assert!(
        actual_texts(&file, 2).iter().any(|t| t == "𠮷田 花子"),
        "{:?}",
        actual_texts(&file, 2)
    );
    assert_has(&pages_text(&file)[0], "Directora 𠮷田 花子");
    let fonts_used = embedded_fonts(&file);
    assert!(
        fonts_used
            .iter()
            .any(|(name, kind)| name == "NotoSansCJKjp-Regular" && kind == "CIDFontType0C"),
        "{fonts_used:?}"
    );
    // The paper form (printpdf) embeds it too.
    let form = home.path().join("cff-form.pdf");
    let out = home
        .cmd(["paper-form", &slug, "--out", form.to_str().unwrap()])
        .env("FONTCONFIG_FILE", &config)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    assert_has(&pages_text(&form)[0], "To: Directora 𠮷田 花子");
}

// ---- The share card -------------------------------------------------------------------

/// Pixels of the card that are near white (the title's colour) below its top third.
fn white_pixels(png: &Path) -> (u32, u32, usize) {
    let img = image::open(png).expect("a PNG").to_rgb8();
    let white = img
        .enumerate_pixels()
        .filter(|(_, y, p)| *y > img.height() / 3 && p.0.iter().all(|&c| c > 200))
        .count();
    (img.width(), img.height(), white)
}

#[test]
fn the_share_card_is_1200x630_with_the_title_in_latin_arabic_and_chinese() {
    let home = Home::new();
    let mut whites = Vec::new();
    for (title, footerless) in [
        ("Make Oakland a sanctuary city", "Latin"),
        ("اجعلوا أوكلاند مدينة ملاذ", "Arabic"),
        ("让奥克兰成为庇护城市", "Chinese"),
    ] {
        let slug = live(&home, &["--title", title]);
        let card = home.path().join(format!("{footerless}.png"));
        let printed = home.ok(["share", &slug, "--card", card.to_str().unwrap()]);
        assert_eq!(printed.trim(), card.to_str().unwrap());
        let (w, h, white) = white_pixels(&card);
        assert_eq!((w, h), (1200, 630), "{footerless}");
        whites.push((footerless, white));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&card).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }
    // The organization's line alone is far less than a title.
    let home2 = Home::new();
    let slug = live(&home2, &["--title", "·"]);
    let card = home2.path().join("dot.png");
    home2.ok(["share", &slug, "--card", card.to_str().unwrap()]);
    let (_, _, footer_only) = white_pixels(&card);
    for (script, white) in whites {
        assert!(
            white > footer_only + 8_000,
            "{script}: {white} title pixels (footer alone {footer_only})"
        );
    }
}

#[test]
fn a_title_too_long_for_the_share_card_is_cut_visibly_and_said() {
    let home = Home::new();
    let long = "Sanctuary for every family in Oakland and beyond ".repeat(8);
    let slug = live(&home, &["--title", long.trim()]);
    let card = home.path().join("long.png");
    let out = home
        .cmd(["share", &slug, "--card", card.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    assert!(
        stderr_of(&out).contains("the title is too long for the share card"),
        "{}",
        stderr_of(&out)
    );
    let (w, h, white) = white_pixels(&card);
    assert_eq!((w, h), (1200, 630));
    assert!(white > 1000, "{white}");
    // A title that fits says nothing.
    let slug = live(&home, &["--title", "Sanctuary for all"]);
    let out = home
        .cmd(["share", &slug, "--card", card.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(
        out.status.success() && out.stderr.is_empty(),
        "{}",
        stderr_of(&out)
    );
}

#[test]
fn review_with_a_picture_writes_the_share_card_and_names_it() {
    let home = Home::new();
    let slug = live(&home, &[]);
    let picture = home.path().join("rally.png");
    image::RgbImage::from_fn(1600, 1000, |x, y| {
        image::Rgb([(x % 256) as u8, (y % 256) as u8, 120])
    })
    .save(&picture)
    .unwrap();
    let out = home
        .cmd(["review", &slug, "--picture", picture.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    let card = home
        .path()
        .join("documents")
        .join(format!("{slug}-card.png"));
    assert!(
        stderr_of(&out).contains(card.to_str().unwrap()),
        "{}",
        stderr_of(&out)
    );
    let img = image::open(&card).unwrap();
    assert_eq!((img.width(), img.height()), (1200, 630));
    // The picture fills the card: its colours, not the plain background, at a corner.
    let corner = img.to_rgb8().get_pixel(5, 5).0;
    assert_ne!(corner, [14, 84, 92]);
    // A plain review names the command.
    let text = home.ok(["review", &slug]);
    assert!(
        text.contains(&format!("campaign share {slug} --card")),
        "{text}"
    );
}
