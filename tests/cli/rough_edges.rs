//! The rough edges around the main work: `list` at 80 and 120 columns, a mistyped slug,
//! every missing flag of `new` at once, share texts signed and cut at words, the export's
//! formula guard and plain numbers, global flags under their heading, counted messages.

use crate::common::Home;

/// A live campaign whose title makes a long slug, and its slug.
fn long_slug_campaign(home: &Home) -> String {
    home.live_campaign("Hacer de Oakland una ciudad santuario")
}

#[test]
fn list_never_wraps_a_slug_and_shows_the_id_at_80_and_120_columns() {
    let home = Home::new();
    let first = home.live_campaign("Oakland Sanctuary");
    let slug = long_slug_campaign(&home);
    assert_eq!(slug, "hacer-de-oakland-una-ciudad-santuario");
    for columns in ["80", "120"] {
        let ran = home.run(["list"]).env("COLUMNS", columns).go();
        let width: usize = columns.parse().unwrap();
        for line in ran.stdout.lines() {
            assert!(
                line.chars().count() <= width,
                "{columns}: {line:?}\n{}",
                ran.stdout
            );
        }
        for (id, slug) in [("1", first.as_str()), ("2", slug.as_str())] {
            let line = ran
                .stdout
                .lines()
                .find(|l| l.contains(slug))
                .unwrap_or_else(|| {
                    panic!("{columns}: {slug} not whole on one line:\n{}", ran.stdout)
                });
            let cells: Vec<&str> = line
                .split(|c: char| c.is_whitespace() || "│┆".contains(c))
                .filter(|c| !c.is_empty())
                .collect();
            assert_eq!(cells[0], id, "{columns}: the id first\n{}", ran.stdout);
            assert_eq!(cells[1], slug, "{columns}\n{}", ran.stdout);
        }
        assert!(ran.stdout.contains("Hacer de Oakland"), "{}", ran.stdout);
    }
    // Wide enough, the full table with every count.
    let wide = home.run(["list"]).env("COLUMNS", "200").go();
    for heading in ["id", "where", "paper", "online", "unnamed"] {
        assert!(wide.stdout.contains(heading), "{}", wide.stdout);
    }
}

#[test]
fn an_unknown_slug_suggests_the_closest_ones() {
    let home = Home::new();
    home.live_campaign("Make Oakland a sanctuary city");
    home.live_campaign("Stop ICE raids in Fruitvale");
    home.run(["show", "make-oakland"])
        .status(1)
        .stderr("error: no campaign \"make-oakland\": did you mean make-oakland-a-sanctuary-city? (`campaign list` shows every slug and id)\n")
        .go();
    home.run(["share", "fruitvale"])
        .status(1)
        .stderr_contains("did you mean stop-ice-raids-in-fruitvale?")
        .go();
    // Nothing close: the plain message.
    home.run(["show", "zzz"])
        .status(1)
        .stderr_contains("no campaign \"zzz\": see `campaign list` for slugs and ids")
        .go();
}

#[test]
fn new_reports_every_missing_flag_at_once() {
    let home = Home::new();
    home.account();
    home.run(["new", "--title", "Sanctuary now"])
        .status(2)
        .stderr("error: missing campaign target, ask, why and where: pass --target, --ask, --why and (--location PLACE, --national or --global) (no terminal to ask on)\n")
        .go();
    home.run([
        "new",
        "--title",
        "Sanctuary now",
        "--target",
        "Council",
        "--national",
    ])
    .status(2)
    .stderr_contains("missing campaign ask and why: pass --ask and --why")
    .go();
    assert!(!home.db().exists(), "nothing written");
}

#[test]
fn the_share_email_is_signed_and_the_x_text_is_cut_at_a_word() {
    let home = Home::new();
    let slug = home.live_campaign("Oakland Sanctuary");
    let ask = "Declare Oakland a sanctuary city for every immigrant, documented or not, and \
               refuse to act as an arm of deportation in any way, by any department of the \
               city, starting with the police, the schools and the housing authority, because \
               our neighbors deserve to live without fear of being taken from their families.";
    home.ok(["edit", &slug, "--ask", ask]);
    let email = home.json(["--json", "share", &slug, "--channel", "email"]);
    let text = email["email"]["text"].as_str().unwrap();
    assert!(text.ends_with("Thank you,\nAna Reyes"), "{text}");
    let x = home.json(["--json", "share", &slug, "--channel", "x"]);
    let text = x["x"]["text"].as_str().unwrap();
    let (kept, rest) = text
        .split_once('…')
        .unwrap_or_else(|| panic!("not cut: {text}"));
    let last = kept.rsplit(' ').next().unwrap();
    assert!(
        ask.split(' ').any(|w| w.trim_end_matches(',') == last),
        "cut mid-word: {text}"
    );
    assert_eq!(rest, " Sign and share! #HereToStay");
}

#[test]
fn the_export_leaves_plain_numbers_alone_and_guards_formulas() {
    let home = Home::new();
    let slug = home.live_campaign("Oakland Sanctuary");
    let csv = "name,email,zip,phone\n\
               Ana Lopez,ana@example.org,94612,+1 510 555 0101\n\
               \"=HYPERLINK(\"\"http://x\"\")\",eq@example.org,94612,\n\
               +SUM(A1:A2),sum@example.org,-5,\n\
               -1+2,neg@example.org,-5.5,\n";
    home.run(["enter-signatures", &slug, "--from", "-"])
        .stdin(csv)
        .stdout_contains("added 4")
        .go();
    let out = home.ok(["export", &slug]);
    let mut rows = csv::Reader::from_reader(out.as_bytes());
    let headers = rows.headers().unwrap().clone();
    let col = |name: &str| headers.iter().position(|h| h == name).unwrap();
    let rows: Vec<csv::StringRecord> = rows.records().map(Result::unwrap).collect();
    assert_eq!(&rows[0][col("phone")], "+15105550101");
    assert_eq!(&rows[1][col("name")], "'=HYPERLINK(\"http://x\")");
    assert_eq!(&rows[2][col("name")], "'+SUM(A1:A2)");
    assert_eq!(&rows[2][col("postcode")], "-5");
    assert_eq!(&rows[3][col("name")], "'-1+2");
    assert_eq!(&rows[3][col("postcode")], "-5.5");
}

#[test]
fn global_flags_have_their_own_heading_in_help() {
    let home = Home::new();
    for command in [vec!["list", "--help"], vec!["signer", "remove", "--help"]] {
        let help = home.ok(&command);
        let (own, global) = help
            .split_once("Global options:")
            .unwrap_or_else(|| panic!("{command:?}: no heading\n{help}"));
        // The command's own options: between "Options:" and the global heading.
        let own = own.rsplit_once("Options:").map_or("", |(_, o)| o);
        assert!(own.contains("--help"), "{command:?}\n{help}");
        for flag in ["--db", "--json", "--no-input", "--yes", "--quiet"] {
            assert!(global.contains(flag), "{command:?} {flag}\n{help}");
            assert!(
                !own.contains(flag),
                "{command:?}: {flag} among its own\n{help}"
            );
        }
    }
}

#[test]
fn counted_messages_agree_with_their_count() {
    let home = Home::new();
    let slug = home.live_campaign("Oakland Sanctuary");
    home.run(["share", &slug, "--invite", "luis@example.org"])
        .stdout_contains(".eml")
        .stderr_contains(
            "1 invitation waiting in the outbox: review it, then `campaign outbox --send`",
        )
        .go();
    let ran = home
        .run(["outbox"])
        .stderr_contains("1 email waiting in")
        .go();
    assert!(
        ran.stderr.contains("send it with `campaign outbox --send`"),
        "{}",
        ran.stderr
    );
    home.run([
        "share",
        &slug,
        "--invite",
        "a@example.org",
        "--invite",
        "b@example.org",
    ])
    .stderr_contains("2 invitations waiting in the outbox: review them")
    .go();
}

#[test]
fn the_petition_text_in_another_language_is_stored_shown_and_shared() {
    let home = Home::new();
    let slug = home.live_campaign("Oakland Sanctuary");
    home.run([
        "edit", &slug, "--in", "es", "--title", "Oakland, ciudad santuario", "--ask",
        "Declarar Oakland ciudad santuario para todas las personas inmigrantes.",
    ])
    .stderr(format!(
        "{slug} in es: 2 fields translated\nwarning: not in es yet: target, why (the campaign's own text is used there); add with --in es --target ... --why ...\n"
    ))
    .go();
    let shown = home.ok(["show", &slug]);
    assert!(shown.contains("In es:"), "{shown}");
    assert!(shown.contains("Oakland, ciudad santuario"), "{shown}");
    assert!(
        shown.contains("(not translated: the en text is used)"),
        "{shown}"
    );
    let json = home.json(["--json", "show", &slug]);
    assert_eq!(json["translations"][0]["lang"], "es");
    assert_eq!(
        json["translations"][0]["title"],
        "Oakland, ciudad santuario"
    );
    assert_eq!(
        json["campaign"]["title"], "Oakland Sanctuary",
        "its own text stays"
    );
    // The history keeps the translation's changes.
    assert!(json["history"]
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["field"] == "title (es)"));

    // Share texts in Spanish use it; in English, the campaign's own.
    let es = home.json([
        "--json",
        "share",
        &slug,
        "--lang",
        "es",
        "--channel",
        "email",
    ]);
    let subject = es["email"]["subject"].as_str().unwrap();
    assert!(subject.contains("Oakland, ciudad santuario"), "{subject}");
    let body = es["email"]["text"].as_str().unwrap();
    assert!(body.contains("Declarar Oakland ciudad santuario"), "{body}");
    // Not translated yet: the target in the campaign's own words.
    assert!(body.contains("Mayor Barbara Lee"), "{body}");
    let en = home.json([
        "--json",
        "share",
        &slug,
        "--lang",
        "en",
        "--channel",
        "email",
    ]);
    assert!(en["email"]["subject"]
        .as_str()
        .unwrap()
        .contains("Oakland Sanctuary"));

    // Only text goes with --in.
    home.run(["edit", &slug, "--in", "es", "--goal", "5"])
        .status(2)
        .stderr_contains("--in es takes only --title, --target, --ask and --why")
        .go();
    home.run(["edit", &slug, "--in", "es"])
        .status(2)
        .stderr_contains("pass --title, --target, --ask and/or --why")
        .go();
}

#[test]
fn review_warns_when_a_language_the_campaign_uses_has_no_translation() {
    let home = Home::new();
    let slug = home.live_campaign("Oakland Sanctuary");
    home.ok(["account", "--lang", "es"]);
    let warning = format!(
        "warning: no es text for the title, target, ask, why: documents and share texts in es print it in en; add it with `campaign edit {slug} --in es --title ... --target ... --ask ... --why ...`"
    );
    home.run(["review", &slug]).stderr_contains(&warning).go();
    home.ok([
        "edit",
        &slug,
        "--in",
        "es",
        "--title",
        "Oakland santuario",
        "--target",
        "Alcaldesa Lee",
        "--ask",
        "Declárenlo",
        "--why",
        "Nuestros vecinos",
    ]);
    let ran = home
        .run(["review", &slug])
        .stderr_contains("no picture")
        .go();
    assert!(!ran.stderr.contains("no es text"), "{}", ran.stderr);
}
