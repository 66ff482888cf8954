//! Typed entry that flies: through a pseudo-terminal, a volunteer types a sheet with one
//! key of navigation per field (the line numbers itself, yes/no take one key), steps back
//! a field with `<`, is asked about odd ZIPs and the next sheet, and is told of the same
//! person typed twice.

use std::time::Duration;

use campaign::model::Signature;
use campaign::store::NewSignature;
use expectrl::session::OsSession;
use expectrl::{Eof, Expect, Session};

use crate::common::Home;

/// A live campaign with `sheets` printed sheets of 10 lines (OAK-0001, ...).
fn campaign_with_sheets(home: &Home, sheets: usize) -> String {
    let slug = home.live_campaign("Oakland Sanctuary");
    let mut store = home.store();
    let campaign = store.find_campaign(&slug).unwrap();
    store.record_sheets(campaign.id, "OAK", sheets, 10).unwrap();
    slug
}

fn signatures(home: &Home, slug: &str) -> Vec<Signature> {
    let store = home.store();
    let campaign = store.find_campaign(slug).unwrap();
    let mut out = Vec::new();
    store
        .for_each_signer(campaign.id, &mut |s| {
            out.push(s);
            Ok(())
        })
        .unwrap();
    out
}

/// A volunteer at `campaign enter-signatures` in a pseudo-terminal, counting what they
/// type: every key sent, the characters of data among them, and the fields answered.
struct Typist {
    p: OsSession,
    keys: usize,
    data: usize,
    fields: usize,
}

impl Typist {
    fn start(home: &Home, slug: &str, extra: &[&str]) -> Typist {
        let mut cmd = home.std_cmd();
        cmd.env("TERM", "dumb")
            .arg("enter-signatures")
            .arg(slug)
            .args(extra);
        let mut p = Session::spawn(cmd).expect("spawn in a pty");
        p.set_expect_timeout(Some(Duration::from_secs(20)));
        Typist {
            p,
            keys: 0,
            data: 0,
            fields: 0,
        }
    }

    fn expect(&mut self, shown: &str) {
        if let Err(e) = self.p.expect(shown) {
            panic!("waiting for {shown:?}: {e}");
        }
    }

    /// A text field: after `prompt` shows, the answer and Enter.
    fn text(&mut self, prompt: &str, answer: &str) {
        self.expect(prompt);
        self.p.send(format!("{answer}\r")).unwrap();
        self.keys += answer.chars().count() + 1;
        self.data += answer.chars().count();
        self.fields += 1;
    }

    /// A one-key question: after `prompt` shows, the key alone (`\r` for Enter).
    fn key(&mut self, prompt: &str, key: &str) {
        self.expect(prompt);
        self.p.send(key).unwrap();
        self.keys += 1;
        self.fields += 1;
    }

    fn finish(mut self, summary: &str) {
        self.expect(summary);
        self.p.expect(Eof).unwrap();
        let status = format!("{:?}", self.p.get_process().wait().unwrap());
        assert!(status.ends_with(", 0)"), "{status}");
    }
}

const NAME: &str = "] Name: ";
const EMAIL: &str = "Email: ";
const PHONE: &str = "Phone: ";
const LIST: &str = "mailing list? (y/N): ";
const PRIVATE: &str = "show my name? (y/N): ";

#[test]
fn a_ten_signer_sheet_takes_the_data_and_one_key_per_field() {
    let home = Home::new();
    let slug = campaign_with_sheets(&home, 1);
    let mut t = Typist::start(&home, &slug, &[]);
    t.text("Sheet id", "oak-1");
    let signers: [(&str, &str, &str, &str, &str); 10] = [
        ("Nguyễn Thị Minh Khai", "minh@example.org", "94612", "", "y"),
        ("محمد الأحمد", "", "", "510 555 0101", "\r"),
        ("李娜", "li.na@example.org", "94601", "", "\r"),
        ("Faadumo Cali", "", "", "", "y"),
        ("Wideline Pierre", "wideline@example.org", "94621", "", "\r"),
        ("José Hernández", "", "", "", "\r"),
        ("Thu Hà", "thu@example.org", "94606", "", "y"),
        ("አበበ ቢቂላ", "", "", "", "\r"),
        ("Rosa Martínez", "rosa@example.org", "94601", "", "\r"),
        ("Aung San", "", "94607", "", "\r"),
    ];
    for (i, (name, email, zip, phone, list)) in signers.iter().enumerate() {
        // The line numbers itself and is shown: no key for it.
        t.expect(&format!("[OAK-0001 · line {} · {i} entered", i + 1));
        t.text(NAME, name);
        t.text(EMAIL, email);
        // The first ZIP is typed; a carried-over one is shown and Enter keeps it.
        t.text("ZIP/postcode", zip);
        t.text(PHONE, phone);
        t.key(LIST, list);
        t.key(PRIVATE, "\r");
        t.expect("saved");
    }
    // Ten lines typed: the sheet is done and the next sheet id is asked.
    t.expect("sheet OAK-0001 is done (10 lines): type the next sheet's id");
    t.text("Sheet id", ".");
    let (keys, data, fields) = (t.keys, t.data, t.fields);
    t.finish("added 10, skipped 0, corrected 0");
    assert_eq!(fields, 2 + 10 * 6);
    assert!(
        keys <= data + fields,
        "{keys} keys for {data} characters of data in {fields} fields"
    );

    let stored = signatures(&home, &slug);
    assert_eq!(stored.len(), 10);
    for (i, (s, typed)) in stored.iter().zip(&signers).enumerate() {
        assert_eq!(s.name, typed.0);
        assert_eq!(
            (s.sheet_id.as_deref(), s.line),
            (Some("OAK-0001"), Some(i as i64 + 1))
        );
        assert_eq!(s.opt_in, typed.4 == "y", "{}", s.name);
    }
    // Carried over: 李娜's ZIP is kept by Faadumo Cali and José Hernández.
    assert_eq!(stored[1].postcode.as_deref(), Some("94612"));
    assert_eq!(stored[3].postcode.as_deref(), Some("94601"));
    assert_eq!(stored[9].postcode.as_deref(), Some("94607"));
}

#[test]
fn back_steps_a_field_within_a_row_on_a_terminal() {
    let home = Home::new();
    let slug = campaign_with_sheets(&home, 1);
    let mut t = Typist::start(&home, &slug, &["--sheet", "OAK-0001"]);
    t.text(NAME, "Ana Lopez");
    t.text(EMAIL, "ana@example.org");
    t.text("ZIP/postcode: ", "94612");
    t.text(PHONE, "");
    // One key at the mailing list: `<` back to the phone, nothing lost.
    t.key(LIST, "<");
    t.text("Phone: ", "5105550101");
    t.key(LIST, "y");
    // Back from "don't show my name" to the list (its answer shown as the default),
    // then back again to the phone.
    t.key(PRIVATE, "<");
    t.key("mailing list? (Y/n): ", "<");
    t.text("Phone [5105550101]: ", "<");
    t.text("ZIP/postcode [94612]: ", "<");
    t.text("Email [ana@example.org]: ", "<");
    t.text("Name [Ana Lopez]: ", "Ana López");
    t.text("Email [ana@example.org]: ", "");
    t.text("ZIP/postcode [94612]: ", "");
    t.text("Phone [5105550101]: ", "");
    t.key("mailing list? (Y/n): ", "\r");
    t.key(PRIVATE, "\r");
    t.expect("saved");
    // From the next row's name, `<` reopens the row just saved.
    t.text("line 2 · 1 entered", "<");
    t.expect("correcting the previous row");
    t.text("Line [1]: ", ".");
    t.finish("added 1, skipped 0, corrected 0");
    let stored = signatures(&home, &slug);
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].name, "Ana López");
    assert_eq!(stored[0].phone.as_deref(), Some("+15105550101"));
    assert!(stored[0].opt_in && !stored[0].private);
}

#[test]
fn the_end_of_a_printed_sheet_asks_for_the_next_sheet() {
    let home = Home::new();
    let slug = campaign_with_sheets(&home, 2);
    let mut t = Typist::start(&home, &slug, &["--sheet", "oak-1"]);
    // Straight to the last line.
    t.text("line 1 · ", "#10");
    t.text("line 10 · 0 entered", "Ana Lopez");
    t.text(EMAIL, "");
    t.text("ZIP/postcode: ", "94612");
    t.text(PHONE, "");
    t.key(LIST, "\r");
    t.key(PRIVATE, "\r");
    t.expect("sheet OAK-0001 is done (10 lines): type the next sheet's id (`.` finishes)");
    t.text("Sheet id", "oak-2");
    t.text("[OAK-0002 · line 1 · 1 entered", "Li Na");
    t.text(EMAIL, "li@example.org");
    t.text("ZIP/postcode [94612]: ", "");
    t.text(PHONE, "");
    t.key(LIST, "\r");
    t.key(PRIVATE, "\r");
    t.text("[OAK-0002 · line 2", ".");
    t.finish("added 2, skipped 0, corrected 0");
    let lines: Vec<_> = signatures(&home, &slug)
        .into_iter()
        .map(|s| (s.sheet_id.unwrap(), s.line.unwrap()))
        .collect();
    assert_eq!(lines, [("OAK-0001".into(), 10), ("OAK-0002".into(), 1)]);
}

#[test]
fn a_typed_four_digit_zip_is_asked_about_never_padded() {
    let home = Home::new();
    let slug = campaign_with_sheets(&home, 1);
    let mut t = Typist::start(&home, &slug, &["--sheet", "OAK-0001"]);
    t.text(NAME, "Ana Lopez");
    t.text(EMAIL, "");
    t.text("ZIP/postcode: ", "9461");
    // One key: n asks the ZIP again.
    t.key(
        "9461 is not a 5 or 9 digit ZIP; keep it as typed? (y/N): ",
        "n",
    );
    t.text("ZIP/postcode: ", "94610");
    t.text(PHONE, "");
    t.key(LIST, "\r");
    t.key(PRIVATE, "\r");
    t.expect("saved");
    t.text(NAME, "Li Na");
    t.text(EMAIL, "");
    t.text("ZIP/postcode [94610]: ", "0946");
    t.key(
        "0946 is not a 5 or 9 digit ZIP; keep it as typed? (y/N): ",
        "y",
    );
    t.text(PHONE, "");
    t.key(LIST, "\r");
    t.key(PRIVATE, "\r");
    t.text("line 3", ".");
    t.finish("added 2");
    let zips: Vec<_> = signatures(&home, &slug)
        .into_iter()
        .map(|s| s.postcode.unwrap())
        .collect();
    assert_eq!(zips, ["94610", "0946"]);
}

#[test]
fn the_same_name_and_postcode_is_a_duplicate_with_or_without_an_email() {
    let home = Home::new();
    let slug = campaign_with_sheets(&home, 1);
    // Signed online, with an email.
    {
        let mut store = home.store();
        let campaign = store.find_campaign(&slug).unwrap();
        let online = NewSignature {
            name: "Rosa Martínez".into(),
            email: Some("rosa@example.org".into()),
            postcode: Some("94601".into()),
            dedupe_key: "rosa@example.org".into(),
            ..Default::default()
        };
        store
            .insert_signature(campaign.id, &online)
            .unwrap()
            .unwrap();
    }
    let mut t = Typist::start(&home, &slug, &["--sheet", "OAK-0001"]);
    // On paper without an email: the same person.
    t.text(NAME, "rosa martínez");
    t.text(EMAIL, "");
    t.text("ZIP/postcode: ", "94601");
    t.expect("already signed: Rosa Martínez <rosa@example.org>, 94601");
    t.key("[a]dd it (another person)? [s]: ", "s");
    // The skipped line is consumed: the next row is line 2.
    t.text("line 2 · 0 entered", "Li Na");
    t.text(EMAIL, "");
    t.text("ZIP/postcode: ", "94612");
    t.text(PHONE, "");
    t.key(LIST, "\r");
    t.key(PRIVATE, "\r");
    t.expect("saved");
    // The same name and ZIP with an email this time: still a duplicate.
    t.text("line 3 · 1 entered", "LI NA");
    t.text(EMAIL, "li@example.org");
    t.text("ZIP/postcode [94612]: ", "");
    t.expect("already signed: Li Na, 94612 (sheet OAK-0001 line 2)");
    t.key("[a]dd it (another person)? [s]: ", "\r");
    t.text("line 4 · 1 entered", ".");
    t.finish("added 1, skipped 2, corrected 0");
    assert_eq!(signatures(&home, &slug).len(), 2);
}
