//! `campaign share`: texts and links per channel, and personal invitations by email.

use std::path::Path;

use crate::common::Home;
use percent_encoding::percent_decode_str;

const TITLE: &str = "Oakland, ciudad santuario: ¡aquí nos quedamos!";
const URL: &str = "https://example.org/oakland";

/// The decoded value of query parameter `name` in `link`.
fn param(link: &str, name: &str) -> String {
    let query = link.split_once('?').expect("a query").1;
    let raw = query
        .split('&')
        .find_map(|pair| pair.strip_prefix(&format!("{name}=")))
        .unwrap_or_else(|| panic!("no {name} in {link}"));
    assert!(
        raw.bytes().all(|b| b.is_ascii_graphic() && b != b'+'),
        "{name} is not fully percent-encoded: {raw}"
    );
    percent_decode_str(raw).decode_utf8().unwrap().into_owned()
}

fn spanish_campaign(home: &Home) -> String {
    let slug = home.live_campaign(TITLE);
    home.ok(["edit", &slug, "--lang", "es"]);
    slug
}

pub use crate::common::parse_eml;

#[test]
fn share_json_gives_five_channels_whose_links_decode_to_the_texts() {
    let home = Home::new();
    let slug = spanish_campaign(&home);
    let json = home.json(["share", &slug, "--json"]);
    let obj = json.as_object().unwrap();
    let mut keys: Vec<&str> = obj.keys().map(String::as_str).collect();
    keys.sort();
    assert_eq!(keys, ["email", "facebook", "sms", "whatsapp", "x"]);
    let text = |ch: &str| json[ch]["text"].as_str().unwrap().to_string();
    let link = |ch: &str| json[ch]["link"].as_str().unwrap().to_string();

    // The campaign's language: Spanish texts with the title as written.
    for ch in ["facebook", "x", "whatsapp", "sms", "email"] {
        assert!(text(ch).contains("ciudad santuario"), "{ch}: {}", text(ch));
    }
    assert!(text("whatsapp").contains("Firma aquí: https://example.org/oakland"));
    assert!(text("whatsapp").starts_with("¡Hola!"));

    assert!(link("facebook").starts_with("https://www.facebook.com/sharer/sharer.php?"));
    assert_eq!(param(&link("facebook"), "u"), URL);

    assert!(link("x").starts_with("https://twitter.com/intent/tweet?"));
    assert_eq!(param(&link("x"), "text"), text("x"));
    assert_eq!(param(&link("x"), "url"), URL);
    assert!(text("x").chars().count() + 1 + 23 <= 280);

    assert!(link("whatsapp").starts_with("https://wa.me/?text="));
    assert_eq!(param(&link("whatsapp"), "text"), text("whatsapp"));

    assert!(link("sms").starts_with("sms:?&body="));
    assert_eq!(param(&link("sms"), "body"), text("sms"));

    assert!(link("email").starts_with("mailto:?"));
    assert_eq!(
        param(&link("email"), "subject"),
        json["email"]["subject"].as_str().unwrap()
    );
    assert_eq!(param(&link("email"), "body"), text("email"));

    // --lang overrides the campaign's language; --channel picks one.
    let en = home.json(["share", &slug, "--lang", "en", "--channel", "sms", "--json"]);
    assert_eq!(en.as_object().unwrap().len(), 1);
    assert!(en["sms"]["text"]
        .as_str()
        .unwrap()
        .contains("Will you sign too?"));
}

#[test]
fn x_text_is_shortened_to_fit_with_the_link() {
    let home = Home::new();
    let slug = home.live_campaign("Un título largo para una campaña de nuestra comunidad");
    let long_ask = "Pedimos que la ciudad proteja a todas las familias inmigrantes, ".repeat(8);
    home.ok(["edit", &slug, "--ask", &long_ask]);
    let json = home.json(["share", &slug, "--channel", "x", "--json"]);
    let text = json["x"]["text"].as_str().unwrap();
    assert!(
        text.chars().count() + 1 + 23 <= 280,
        "{} chars: {text}",
        text.chars().count()
    );
    assert!(text.contains('…'));
    assert!(text.ends_with("#HereToStay"));
    assert_eq!(param(json["x"]["link"].as_str().unwrap(), "text"), text);
}

#[test]
fn without_a_url_link_channels_say_why_and_text_channels_still_work() {
    let home = Home::new();
    let slug = home.live_campaign(TITLE);
    home.ok(["edit", &slug, "--url", ""]);
    let json = home.json(["share", &slug, "--json"]);
    for ch in ["facebook", "x"] {
        assert!(json[ch]["link"].is_null(), "{ch}: {}", json[ch]);
        let note = json[ch]["note"].as_str().unwrap();
        assert!(note.contains("--url"), "{note}");
        assert!(!json[ch]["text"].as_str().unwrap().is_empty());
    }
    for ch in ["whatsapp", "sms", "email"] {
        let link = json[ch]["link"].as_str().unwrap();
        assert!(!link.contains("example.org"), "{link}");
        assert!(json[ch].get("note").is_none());
    }
    // Text output: the reason goes to stderr, the texts to stdout.
    let out = home.cmd(["share", &slug]).output().unwrap();
    assert!(out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("facebook: no link"), "{stderr}");
    assert!(String::from_utf8_lossy(&out.stdout).contains("# whatsapp"));
}

#[test]
fn draft_and_offline_campaigns_are_refused_with_the_way_forward() {
    let home = Home::new();
    let slug = home.live_campaign(TITLE);
    home.ok(["offline", &slug]);
    let out = home.cmd(["share", &slug]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!("campaign online {slug}")),
        "{stderr}"
    );
    assert!(out.stdout.is_empty());

    let draft = home
        .ok([
            "new",
            "--title",
            "Borrador",
            "--target",
            "Council",
            "--ask",
            "Ask.",
            "--why",
            "Why.",
            "--location",
            "Oakland, CA",
        ])
        .trim()
        .to_string();
    let out = home
        .cmd(["share", &draft, "--invite", "a@x.org"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!("campaign review {draft} --launch")),
        "{stderr}"
    );
}

#[test]
fn invites_write_one_personal_email_per_friend_and_report_duplicates() {
    let home = Home::new();
    let slug = spanish_campaign(&home);
    let message = "Prima, esta petición es por nuestra familia. ¡Firma porfa!";
    let out = home
        .cmd([
            "share",
            &slug,
            "--invite",
            "a@x.org",
            "--invite",
            "b@y.org",
            "--invite",
            "A@x.org",
            "--invite",
            "not-an-email",
            "--message",
            message,
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("A@x.org was given more than once"),
        "{stderr}"
    );
    assert!(stderr.contains("not-an-email"), "{stderr}");
    let stdout = String::from_utf8(out.stdout).unwrap();
    let files: Vec<&str> = stdout.lines().collect();
    assert_eq!(files.len(), 2, "{stdout}");
    let in_outbox = std::fs::read_dir(home.path().join("outbox"))
        .unwrap()
        .filter(|e| e.as_ref().unwrap().path().extension().unwrap() == "eml")
        .count();
    assert_eq!(in_outbox, 2);

    let mut recipients = Vec::new();
    for file in files {
        let path = Path::new(file);
        assert!(path.starts_with(home.path().join("outbox")));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let mail = parse_eml(path);
        let from = mail.from().unwrap().first().unwrap();
        assert_eq!(from.address(), Some("ana@example.org"));
        assert_eq!(from.name(), Some("Ana Reyes"));
        assert_eq!(
            mail.reply_to().unwrap().first().unwrap().address(),
            Some("ana@example.org")
        );
        assert_eq!(
            mail.subject(),
            Some(format!("Ana Reyes te invita a firmar: {TITLE}").as_str())
        );
        let body = mail.body_text(0).unwrap();
        assert!(body.contains(URL), "{body}");
        assert!(body.contains(message), "{body}");
        assert!(body.contains("Declare Oakland a sanctuary city"), "{body}");
        let html = mail.body_html(0).unwrap();
        assert!(html.contains(&format!("href=\"{URL}\"")), "{html}");
        recipients.push(
            mail.to()
                .unwrap()
                .first()
                .unwrap()
                .address()
                .unwrap()
                .to_string(),
        );
    }
    recipients.sort();
    assert_eq!(recipients, ["a@x.org", "b@y.org"]);

    // Inviting the same friend again does not write a second email.
    let out = home
        .cmd(["share", &slug, "--invite", "b@y.org"])
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(out.stdout.is_empty());
    assert!(String::from_utf8_lossy(&out.stderr).contains("already invited"));
}

#[test]
fn invite_file_reads_names_and_emails_from_csv() {
    let home = Home::new();
    let slug = home.live_campaign(TITLE);
    let csv = home.path().join("contacts.csv");
    std::fs::write(
        &csv,
        "Nombre,Email\nJosé Pérez,jose@example.org\nSin correo,\nLupe,lupe@example.org\n",
    )
    .unwrap();
    let json = home.json([
        "share",
        &slug,
        "--invite-file",
        csv.to_str().unwrap(),
        "--json",
    ]);
    let written = json["written"].as_array().unwrap();
    assert_eq!(written.len(), 2, "{json}");
    assert_eq!(json["invalid"].as_array().unwrap().len(), 1);
    let mail = parse_eml(Path::new(written[0]["file"].as_str().unwrap()));
    let to = mail.to().unwrap().first().unwrap();
    assert_eq!(to.name(), Some("José Pérez"));
    assert!(mail.body_text(0).unwrap().starts_with("Hi José Pérez,"));

    let bad = home.path().join("bad.csv");
    std::fs::write(&bad, "who\nx\n").unwrap();
    let out = home
        .cmd(["share", &slug, "--invite-file", bad.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no `email` column"));
}

#[test]
fn message_without_invite_is_a_usage_error() {
    let home = Home::new();
    let slug = home.live_campaign(TITLE);
    let out = home
        .cmd(["share", &slug, "--message", "hola"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--invite"));
}
