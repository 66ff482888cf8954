//! CSV import that can be trusted: stray quotes, rejects files that import again,
//! encodings and delimiters from Excel, Spanish headers, and data cleaned at the door.

use std::path::{Path, PathBuf};

use crate::common::Home;

fn write(home: &Home, name: &str, bytes: impl AsRef<[u8]>) -> PathBuf {
    let path = home.path().join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

/// `enter-signatures SLUG --from FILE ARGS... --json`: (exit code, counts, stderr).
fn import(
    home: &Home,
    slug: &str,
    file: &Path,
    more: &[&str],
) -> (Option<i32>, serde_json::Value, String) {
    let mut args = vec![
        "--json",
        "enter-signatures",
        slug,
        "--from",
        file.to_str().unwrap(),
    ];
    args.extend_from_slice(more);
    let out = home.cmd(args).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let counts = serde_json::from_slice(&out.stdout).unwrap_or(serde_json::Value::Null);
    (out.status.code(), counts, stderr)
}

fn counts(read: u64, added: u64, duplicates: u64, rejected: u64) -> serde_json::Value {
    serde_json::json!({"read": read, "added": added, "duplicates": duplicates, "rejected": rejected})
}

/// The campaign's signers as `export --format jsonl` writes them to a file.
fn exported(home: &Home, slug: &str) -> Vec<serde_json::Value> {
    let file = home.path().join(format!("{slug}-export.jsonl"));
    home.ok([
        "export",
        slug,
        "--format",
        "jsonl",
        "--out",
        file.to_str().unwrap(),
    ]);
    std::fs::read_to_string(&file)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn names(home: &Home, slug: &str) -> Vec<String> {
    exported(home, slug)
        .iter()
        .map(|s| s["name"].as_str().unwrap().to_string())
        .collect()
}

fn pdf_text(path: &Path) -> String {
    let doc = lopdf::Document::load(path).unwrap();
    let pages: Vec<u32> = doc.get_pages().keys().copied().collect();
    doc.extract_text(&pages).unwrap()
}

/// Reads a rejects file: its header and rows (the BOM Excel needs dropped).
fn read_rejects(path: &Path) -> (Vec<String>, Vec<Vec<String>>) {
    let bytes = std::fs::read(path).unwrap();
    let text = std::str::from_utf8(&bytes).unwrap();
    let text = text
        .strip_prefix('\u{feff}')
        .expect("a BOM, for Excel to read UTF-8");
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .from_reader(text.as_bytes());
    let header = reader.headers().unwrap().iter().map(String::from).collect();
    let rows = reader
        .records()
        .map(|r| r.unwrap().iter().map(String::from).collect())
        .collect();
    (header, rows)
}

fn write_csv(path: &Path, header: &[String], rows: &[Vec<String>]) {
    let mut w = csv::WriterBuilder::new()
        .flexible(true)
        .from_path(path)
        .unwrap();
    w.write_record(header).unwrap();
    for row in rows {
        w.write_record(row).unwrap();
    }
    w.flush().unwrap();
}

#[test]
fn a_stray_quote_is_rejected_with_its_lines_and_never_merges_signers() {
    let home = Home::new();
    let slug = home.live_campaign("Oakland Sanctuary");
    let file = write(
        &home,
        "stray.csv",
        "name,email,zip\n\
         \"Ana Reyes,ana@example.org,94612\n\
         Bo Chen,bo@example.org,94601\n\
         Maria Lopez\",maria@example.org,94610\n\
         Li Na,li@example.org,94602\n\
         \"Jean-Baptiste\nWideline\",wideline@example.org,94612\n",
    );
    let rejects = home.path().join("rejects.csv");
    let (code, got, stderr) = import(
        &home,
        &slug,
        &file,
        &["--rejects", rejects.to_str().unwrap()],
    );
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(got, counts(3, 2, 0, 1), "{stderr}");
    // Named by its row and the lines where the quote opens and closes; no signer data.
    assert!(
        stderr.contains("row 2: quotes: a quote (\") opens a cell on line 2")
            && stderr.contains("closes on line 4"),
        "{stderr}"
    );
    for leaked in ["ana@example.org", "Bo Chen", "maria@"] {
        assert!(!stderr.contains(leaked), "{leaked} leaked: {stderr}");
    }
    // A name broken over two lines is still a name.
    assert_eq!(names(&home, &slug), ["Li Na", "Jean-Baptiste Wideline"]);
    // The target never sees the merged signers' emails.
    let pdf = home.path().join("delivery.pdf");
    home.ok(["deliver", &slug, "--out", pdf.to_str().unwrap()]);
    let text = pdf_text(&pdf);
    assert!(text.contains("Li Na"), "{text}");
    for email in ["ana@example.org", "bo@example.org", "maria@example.org"] {
        assert!(!text.contains(email), "{email} in the delivery: {text}");
    }

    // The rejects file has the merged rows split back: imported again, they are the
    // three signers.
    let (header, rows) = read_rejects(&rejects);
    assert_eq!(header, ["row", "reason", "name", "email", "zip"]);
    let cells: Vec<Vec<&str>> = rows
        .iter()
        .map(|r| r[2..].iter().map(String::as_str).collect())
        .collect();
    assert_eq!(
        cells,
        [
            ["Ana Reyes", "ana@example.org", "94612"],
            ["Bo Chen", "bo@example.org", "94601"],
            ["Maria Lopez", "maria@example.org", "94610"],
        ]
    );
    assert!(rows.iter().all(|r| r[0] == "2"));
    // As it is: the row and reason columns are known and skipped without a warning.
    let (code, got, stderr) = import(&home, &slug, &rejects, &[]);
    assert_eq!((code, got), (Some(0), counts(3, 3, 0, 0)), "{stderr}");
    assert!(!stderr.contains("unknown columns"), "{stderr}");
    assert_eq!(
        names(&home, &slug),
        [
            "Li Na",
            "Jean-Baptiste Wideline",
            "Ana Reyes",
            "Bo Chen",
            "Maria Lopez"
        ]
    );
}

#[test]
fn a_rejects_file_keeps_every_column_defused_and_imports_again_once_fixed() {
    let home = Home::new();
    let slug = home.live_campaign("Oakland Sanctuary");
    let file = write(
        &home,
        "mixed.csv",
        "Name,Email,ZIP,Favourite colour,Notes\n\
         Ana Reyes,ana@example.org,94612,blue,first\n\
         =cmd|' /C calc'!A0,formula@@example.org,94612,@SUM(A1),\"-2+3\"\n\
         José García,jose@example,94601,\"red, green\",\"two\nlines\"\n\
         Li Na,li@example.org,123456789012345,+1 510,\n\
         Cabdi Xasan,cabdi@example.org,94621,,\n",
    );
    let rejects = home.path().join("out/rejects.csv");
    let (code, got, stderr) = import(
        &home,
        &slug,
        &file,
        &["--rejects", rejects.to_str().unwrap()],
    );
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(got, counts(5, 2, 0, 3), "{stderr}");
    assert!(stderr.contains("fix them there"), "{stderr}");
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&rejects).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let raw = std::fs::read_to_string(&rejects).unwrap();
    // Formulas are text in a spreadsheet: no cell starts with = + - @.
    for live in [
        ",=cmd", ",@SUM", ",-2+3", ",+1 510", "\n=", "\"=", "\"@", "\"-",
    ] {
        assert!(!raw.contains(live), "{live:?} is live in:\n{raw}");
    }
    let (header, rows) = read_rejects(&rejects);
    assert_eq!(
        header,
        [
            "row",
            "reason",
            "Name",
            "Email",
            "ZIP",
            "Favourite colour",
            "Notes"
        ]
    );
    let rows_and_fields: Vec<(&str, &str)> = rows
        .iter()
        .map(|r| (r[0].as_str(), r[1].split(':').next().unwrap()))
        .collect();
    assert_eq!(
        rows_and_fields,
        [("3", "email"), ("4", "email"), ("5", "postcode")]
    );
    // Every original cell is there, defused like `export` does it.
    assert_eq!(
        rows[0][2..],
        [
            "'=cmd|' /C calc'!A0",
            "formula@@example.org",
            "94612",
            "'@SUM(A1)",
            "'-2+3"
        ]
    );
    assert_eq!(
        rows[1][2..],
        [
            "José García",
            "jose@example",
            "94601",
            "red, green",
            "two\nlines"
        ]
    );
    assert_eq!(rows[2][5], "'+1 510");

    // An organizer fixes the bad cells, deletes the reason column and imports the file:
    // exactly the missing signers come in, formulas back as they were typed.
    let reason = header.iter().position(|h| h == "reason").unwrap();
    let drop_reason = |r: &[String]| {
        let mut r = r.to_vec();
        r.remove(reason);
        r
    };
    let mut fixed: Vec<Vec<String>> = rows.iter().map(|r| drop_reason(r)).collect();
    fixed[0][2] = "formula@example.org".into();
    fixed[1][2] = "jose@example.org".into();
    fixed[2][3] = "94602".into();
    let again = home.path().join("fixed.csv");
    write_csv(&again, &drop_reason(&header), &fixed);
    let (code, got, stderr) = import(&home, &slug, &again, &[]);
    assert_eq!((code, got), (Some(0), counts(3, 3, 0, 0)), "{stderr}");
    assert_eq!(
        names(&home, &slug),
        [
            "Ana Reyes",
            "Cabdi Xasan",
            "=cmd|' /C calc'!A0",
            "José García",
            "Li Na"
        ]
    );
    // The same fixed file once more: all duplicates, nothing new.
    let (_, got, _) = import(&home, &slug, &again, &[]);
    assert_eq!(got, counts(3, 0, 3, 0));
}

#[test]
fn a_windows_1252_file_from_excel_imports_every_accented_name_exactly() {
    let home = Home::new();
    let slug = home.live_campaign("Oakland Sanctuary");
    let file = write(
        &home,
        "excel.csv",
        b"Name,Email,ZIP\r\nJos\xe9 Garc\xeda,jose@example.org,94612\r\nMar\xeda L\xf3pez,maria@example.org,94601\r\nAna Reyes,ana@example.org,94606\r\nFran\xe7ois M\xfcller \x96 Ni\xf1o,f@example.org,94607\r\n",
    );
    let (code, got, stderr) = import(&home, &slug, &file, &[]);
    assert_eq!((code, got), (Some(0), counts(4, 4, 0, 0)), "{stderr}");
    assert!(
        stderr.contains("excel.csv as Windows-1252 (not UTF-8"),
        "{stderr}"
    );
    assert_eq!(
        names(&home, &slug),
        [
            "José García",
            "María López",
            "Ana Reyes",
            "François Müller – Niño"
        ]
    );
    // Said explicitly, the same file reads the same.
    let other = home.live_campaign("Second");
    let (code, got, stderr) = import(&home, &other, &file, &["--encoding", "latin1"]);
    assert_eq!((code, got), (Some(0), counts(4, 4, 0, 0)), "{stderr}");
    assert!(
        stderr.contains("as Windows-1252 (as --encoding says)"),
        "{stderr}"
    );
    assert_eq!(names(&home, &other), names(&home, &slug));
    let out = home
        .cmd([
            "enter-signatures",
            &other,
            "--from",
            "x.csv",
            "--encoding",
            "klingon",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not an encoding we know"));
}

#[test]
fn a_utf16le_file_with_bom_imports_every_name_exactly() {
    let home = Home::new();
    let slug = home.live_campaign("Oakland Sanctuary");
    let text = "name\temail\tzip\r\nJosé García\tjose@example.org\t94612\r\nNguyễn Thị Minh Khai\tkhai@example.org\t94601\r\nمحمد الأحمد\tm@example.org\t94606\r\nአበበ ቢቂላ\tabebe@example.org\t94607\r\n李娜\tli@example.org\t94608\r\n";
    let mut bytes = vec![0xff, 0xfe];
    bytes.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
    let file = write(&home, "unicode.txt", bytes);
    let (code, got, stderr) = import(&home, &slug, &file, &[]);
    assert_eq!((code, got), (Some(0), counts(5, 5, 0, 0)), "{stderr}");
    assert!(
        stderr.contains(
            "unicode.txt as UTF-16LE (it starts with a byte order mark), columns separated by tabs"
        ),
        "{stderr}"
    );
    assert_eq!(
        names(&home, &slug),
        [
            "José García",
            "Nguyễn Thị Minh Khai",
            "محمد الأحمد",
            "አበበ ቢቂላ",
            "李娜"
        ]
    );
}

#[test]
fn a_semicolon_file_with_spanish_headers_imports_every_field() {
    let home = Home::new();
    let slug = home.live_campaign("Oakland Sanctuary");
    let file = write(
        &home,
        "es.csv",
        "\u{feff}Nombre;Apellidos;Correo electrónico;Código Postal;Teléfono;Lista de correo;ANÓNIMO;Hoja;Línea\r\n\
         José;García López;jose@example.org;2139;(510) 555-0101;sí;;;\r\n\
         María;López;maria@example.org;94601;;;x;;\r\n\
         Ana;;;94606;;no;;;\r\n",
    );
    let (code, got, stderr) = import(&home, &slug, &file, &[]);
    assert_eq!((code, got), (Some(0), counts(3, 3, 0, 0)), "{stderr}");
    assert!(
        stderr.contains("reading") && stderr.contains("es.csv: columns separated by semicolons"),
        "{stderr}"
    );
    assert!(!stderr.contains("unknown columns"), "{stderr}");
    let signers = exported(&home, &slug);
    let fields: Vec<_> = signers
        .iter()
        .map(|s| {
            (
                s["name"].as_str().unwrap(),
                s["email"].as_str(),
                s["postcode"].as_str(),
                s["phone"].as_str(),
                s["opt_in"].as_bool().unwrap(),
                s["private"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        fields,
        [
            (
                "José García López",
                Some("jose@example.org"),
                Some("02139"),
                Some("+15105550101"),
                true,
                false
            ),
            (
                "María López",
                Some("maria@example.org"),
                Some("94601"),
                None,
                false,
                true
            ),
            ("Ana", None, Some("94606"), None, false, false),
        ]
    );
}

#[test]
fn a_tab_separated_file_imports_every_row() {
    let home = Home::new();
    let slug = home.live_campaign("Oakland Sanctuary");
    let file = write(
        &home,
        "tabs.tsv",
        "full name\temail\tzip\nGarcía, María José\tmaria@example.org\t94606\nLi Na\tli@example.org\t94612\n",
    );
    let (code, got, stderr) = import(&home, &slug, &file, &[]);
    assert_eq!((code, got), (Some(0), counts(2, 2, 0, 0)), "{stderr}");
    assert!(
        stderr.contains("tabs.tsv: columns separated by tabs"),
        "{stderr}"
    );
    assert_eq!(names(&home, &slug), ["García, María José", "Li Na"]);
}

#[test]
fn late_rows_not_in_utf8_are_read_as_windows_1252_or_rejected_after_utf8_accents() {
    let home = Home::new();
    let slug = home.live_campaign("Oakland Sanctuary");
    // More than the first megabyte of plain ASCII, then an accent from Excel.
    let mut ascii = b"name,email,zip\n".to_vec();
    for i in 0..30_000 {
        ascii.extend(format!("Signer {i},signer{i}@example.org,94612\n").as_bytes());
    }
    assert!(ascii.len() > 1 << 20);
    let mut late = ascii.clone();
    late.extend(b"Jos\xe9 Garc\xeda,jose@example.org,94601\n");
    let file = write(&home, "late.csv", &late);
    let (code, got, stderr) = import(&home, &slug, &file, &[]);
    assert_eq!(
        (code, got),
        (Some(0), counts(30_001, 30_001, 0, 0)),
        "{stderr}"
    );
    assert!(
        stderr.contains("row 30002 was not UTF-8 and read as Windows-1252"),
        "{stderr}"
    );
    assert_eq!(names(&home, &slug).last().unwrap(), "José García");

    // A file that already showed UTF-8 accents: the odd row is a person's to check.
    let other = home.live_campaign("Second");
    let mut mixed = b"name,email,zip\nMar\xc3\xada L\xc3\xb3pez,maria@example.org,94601\n".to_vec();
    mixed.extend_from_slice(&late[15..]);
    let file = write(&home, "mixed.csv", &mixed);
    let (code, got, stderr) = import(&home, &other, &file, &[]);
    assert_eq!(
        (code, got),
        (Some(0), counts(30_002, 30_001, 0, 1)),
        "{stderr}"
    );
    assert!(
        stderr.contains("row 30003: row: is not UTF-8 like the rest of the file"),
        "{stderr}"
    );
    assert_eq!(names(&home, &other)[0], "María López");
}

#[test]
fn control_characters_and_huge_names_never_reach_the_database() {
    let home = Home::new();
    let slug = home.live_campaign("Oakland Sanctuary");
    let huge = "A".repeat(10 << 20);
    let mut csv = String::from("name,email,zip,phone\n");
    csv.push_str(&format!("{huge},huge@example.org,94606,\n"));
    csv.push_str("\"\u{1b}]0;pwned\u{7}\u{1b}[2JAna\",ana@example.org,94612,\n");
    csv.push_str("Bo \u{202e}nehC\u{202c},bo@example.org,94601,\n");
    csv.push_str("Cy\u{85}Dee,cy@example.org,94602,\n");
    csv.push_str("Di,di\u{1b}[31m@example.org,94603,\n");
    csv.push_str("Ed,ed@example.org,946\u{2066}04,\n");
    csv.push_str("Flo,flo@example.org,94605,510\u{0}555\n");
    csv.push_str(&format!("{},long@example.org,94607,\n", "Ñ".repeat(201)));
    csv.push_str("Li Na,li@example.org,94608,\n");
    let file = write(&home, "controls.csv", csv);
    let rejects = home.path().join("rejects.csv");
    let (code, got, stderr) = import(
        &home,
        &slug,
        &file,
        &["--rejects", rejects.to_str().unwrap()],
    );
    assert_eq!((code, got), (Some(0), counts(9, 1, 0, 8)), "{stderr}");
    assert!(
        stderr.contains("row 2: name: longer than 200 characters"),
        "{stderr}"
    );
    assert!(
        stderr.contains("row 3: name: holds invisible control characters (U+001B, U+0007)"),
        "{stderr}"
    );
    assert!(
        !stderr.contains('\u{1b}') && !stderr.contains('\u{202e}'),
        "{stderr:?}"
    );
    assert!(stderr.len() < 10_000, "the huge name reached stderr");
    let (_, rows) = read_rejects(&rejects);
    let fields: Vec<&str> = rows
        .iter()
        .map(|r| r[1].split(':').next().unwrap())
        .collect();
    assert_eq!(
        fields,
        ["name", "name", "name", "name", "email", "postcode", "phone", "name"]
    );

    let stored = exported(&home, &slug);
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0]["name"], "Li Na");
    let file = home.path().join(format!("{slug}-export.jsonl"));
    let text = std::fs::read_to_string(file).unwrap();
    for bad in ['\u{1b}', '\u{202e}', '\u{2066}', '\u{85}', '\u{0}'] {
        assert!(!text.contains(bad), "{bad:?} stored");
    }
}

#[test]
fn campaign_text_drops_control_characters_and_keeps_paragraphs() {
    let home = Home::new();
    home.account();
    let slug = home
        .ok([
            "new",
            "--title",
            "Sanctuary\u{1b}[2J now\u{202e}",
            "--target",
            "Mayor\u{1} Barbara Lee",
            "--ask",
            "Declare Oakland a sanctuary city.",
            "--why",
            "First paragraph\u{1b}[31m.\n\nSecond\u{7} paragraph.",
            "--location",
            "Oakland, CA",
        ])
        .trim()
        .to_string();
    home.ok([
        "edit",
        &slug,
        "--ask",
        "Declare \u{2066}Oakland\u{2069} a sanctuary\u{9b} city.",
    ]);
    let shown = home.json(["--json", "show", &slug]);
    let campaign = &shown["campaign"];
    assert_eq!(campaign["title"], "Sanctuary[2J now");
    assert_eq!(campaign["target"], "Mayor Barbara Lee");
    assert_eq!(campaign["why"], "First paragraph[31m.\n\nSecond paragraph.");
    assert_eq!(campaign["ask"], "Declare Oakland a sanctuary city.");
}

#[test]
fn a_rejects_file_naming_the_input_is_refused_before_anything_is_written() {
    let home = Home::new();
    let slug = home.live_campaign("Oakland Sanctuary");
    let original = "name,email,zip\nAna,ana@example.org,94612\nBad,bad@@example,94612\n";
    let file = write(&home, "signers.csv", original);
    // The same file, by another name.
    let other_name = home.path().join(".").join("signers.csv");
    let (code, _, stderr) = import(
        &home,
        &slug,
        &file,
        &["--rejects", other_name.to_str().unwrap()],
    );
    assert_eq!(code, Some(2), "{stderr}");
    assert!(
        stderr.contains("that is the CSV file --from imports"),
        "{stderr}"
    );
    assert_eq!(std::fs::read_to_string(&file).unwrap(), original);
    assert!(names(&home, &slug).is_empty());
}
