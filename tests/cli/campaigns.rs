//! The foundation: account, new, list, show, review, edit, offline/online, files.

use std::time::{Duration, Instant};

use crate::common::Home;

fn new_args<'a>(title: &'a str, target: &'a str, place: &'a str) -> Vec<&'a str> {
    vec![
        "new",
        "--title",
        title,
        "--target",
        target,
        "--ask",
        "Declare the city a sanctuary for every immigrant family.",
        "--why",
        "Families are being separated; the city can refuse to help.",
        "--location",
        place,
        "--goal",
        "1000",
    ]
}

#[test]
fn a_whole_campaign_lifecycle_from_a_script() {
    let home = Home::new();
    home.account();
    let slug = home.ok([
        "new",
        "--title",
        "Hacer de Oakland una ciudad santuario",
        "--target",
        "Mayor Barbara Lee",
        "--ask",
        "Declare Oakland a sanctuary city.",
        "--why",
        "Our neighbors live in fear of deportation.",
        "--location",
        "Oakland, CA",
        "--postcode",
        "94612",
        "--goal",
        "500",
        "--url",
        "https://example.org/oakland",
        "--lang",
        "es",
    ]);
    assert_eq!(
        slug, "hacer-de-oakland-una-ciudad-santuario\n",
        "stdout is the slug alone"
    );

    let list = home.json(["list", "--json"]);
    assert_eq!(list[0]["slug"], "hacer-de-oakland-una-ciudad-santuario");
    assert_eq!(list[0]["status"], "draft");
    assert_eq!(list[0]["owner_email"], "ana@example.org");
    assert_eq!(list[0]["signatures"]["total"], 0);

    let table = home.ok(["list"]);
    assert!(
        table.contains("Hacer de Oakland una ciudad santuario") && table.contains("draft"),
        "{table}"
    );

    let shown = home.json(["show", "hacer-de-oakland-una-ciudad-santuario", "--json"]);
    assert_eq!(shown["campaign"]["target"], "Mayor Barbara Lee");
    assert_eq!(shown["campaign"]["lang"], "es");
    assert_eq!(shown["campaign"]["goal"], 500);

    // Review shows the petition as a signer reads it, and what to fix.
    let review = home.cmd(["review", "1"]).output().unwrap();
    let text = String::from_utf8(review.stdout).unwrap();
    assert!(
        text.contains("To: Mayor Barbara Lee")
            && text.contains("Declare Oakland a sanctuary city."),
        "{text}"
    );
    assert!(
        text.contains("Oakland, CA 94612") && text.contains("Status: draft"),
        "{text}"
    );
    let warnings = String::from_utf8(review.stderr).unwrap();
    assert!(warnings.contains("no picture"), "{warnings}");
    assert!(!warnings.contains("no URL"), "{warnings}");

    home.ok([
        "review",
        "hacer-de-oakland-una-ciudad-santuario",
        "--launch",
    ]);
    assert_eq!(
        home.json(["show", "1", "--json"])["campaign"]["status"],
        "live"
    );

    home.ok(["offline", "1"]);
    assert_eq!(
        home.json(["list", "--json", "--status", "offline"])
            .as_array()
            .unwrap()
            .len(),
        1
    );
    home.ok(["online", "1"]);
    assert_eq!(
        home.json(["show", "1", "--json"])["campaign"]["status"],
        "live"
    );

    home.ok(["edit", "1", "--title", "Oakland, ciudad santuario", "--yes"]);
    let shown = home.json(["show", "1", "--json"]);
    assert_eq!(shown["campaign"]["title"], "Oakland, ciudad santuario");
    let title_edit = shown["history"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["field"] == "title")
        .expect("title edit in history");
    assert_eq!(
        title_edit["old_value"],
        "Hacer de Oakland una ciudad santuario"
    );
    assert_eq!(title_edit["edited_by"], "ana@example.org");
    let text = home.ok(["show", "1"]);
    assert!(
        text.contains("History:") && text.contains("Hacer de Oakland una ciudad santuario"),
        "{text}"
    );
}

#[test]
fn a_missing_field_without_a_terminal_names_the_flag_fast_and_writes_nothing() {
    let home = Home::new();
    home.account();
    for extra in [vec!["--no-input"], vec![]] {
        let start = Instant::now();
        let mut args = vec![
            "new",
            "--title",
            "Sanctuary now",
            "--ask",
            "Declare it",
            "--why",
            "Because",
            "--global",
        ];
        args.extend(extra);
        let out = home.cmd(&args).write_stdin("").output().unwrap();
        assert!(
            start.elapsed() < Duration::from_secs(1),
            "took {:?}",
            start.elapsed()
        );
        assert_eq!(out.status.code(), Some(2));
        let stderr = String::from_utf8(out.stderr).unwrap();
        assert!(stderr.contains("--target"), "{stderr}");
        assert!(out.stdout.is_empty());
    }
    assert!(!home.db().exists(), "nothing written");
}

#[test]
fn new_without_an_account_points_to_the_account_command() {
    let home = Home::new();
    let out = home
        .cmd(new_args("Sanctuary", "Council", "Oakland, CA"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(stderr.contains("campaign account --name"), "{stderr}");
    assert!(!home.db().exists());
}

#[test]
fn text_in_any_script_is_stored_exactly_and_the_slug_is_ascii() {
    let home = Home::new();
    home.account();
    let cases = [
        (
            "Thành phố trú ẩn cho Nguyễn Thị Minh Khai",
            "Hội đồng Thành phố",
            "Sài Gòn",
        ),
        ("مدينة ملاذ لمحمد الأحمد", "مجلس المدينة", "دبي"),
        ("李娜的庇护校园", "校长", "北京"),
        (
            "Ciudad santuario para José Núñez",
            "Alcaldía",
            "Ciudad de México",
        ),
    ];
    for (title, target, place) in cases {
        let slug = home.ok(new_args(title, target, place)).trim().to_string();
        assert!(slug.is_ascii() && !slug.is_empty(), "{slug}");
        let shown = home.json(["show", &slug, "--json"]);
        assert_eq!(shown["campaign"]["title"], title);
        assert_eq!(shown["campaign"]["target"], target);
        assert_eq!(shown["campaign"]["location"], place);
        let text = home.ok(["show", &slug]);
        assert!(text.contains(title) && text.contains(target), "{text}");
    }
}

#[test]
fn templates_prefill_and_flags_override() {
    let home = Home::new();
    home.account();
    let slug = home
        .ok([
            "new",
            "--template",
            "campus",
            "--lang",
            "es",
            "--title",
            "Campus santuario",
            "--global",
            "--target",
            "Rectora Ruiz",
        ])
        .trim()
        .to_string();
    let c = &home.json(["show", &slug, "--json"])["campaign"];
    assert_eq!(c["target"], "Rectora Ruiz");
    assert!(
        c["ask"]
            .as_str()
            .unwrap()
            .starts_with("Convertir nuestro campus en santuario"),
        "{c}"
    );
    assert_eq!(c["scope"], "global");
}

#[test]
fn editing_signed_text_needs_yes_and_bad_input_is_refused() {
    let home = Home::new();
    let slug = home.live_campaign("Sanctuary Oakland");
    let campaign_id = home.json(["show", &slug, "--json"])["campaign"]["id"]
        .as_i64()
        .unwrap();
    let mut store = home.store();
    let signer = campaign::store::NewSignature {
        name: "Zoë".into(),
        postcode: Some("94612".into()),
        dedupe_key: "zoe|94612".into(),
        ..Default::default()
    };
    store.insert_signature(campaign_id, &signer).unwrap();
    drop(store);

    let out = home
        .cmd(["edit", &slug, "--ask", "Something else entirely"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--yes"));
    assert_ne!(
        home.json(["show", &slug, "--json"])["campaign"]["ask"],
        "Something else entirely"
    );
    // Non-text fields do not need confirmation.
    home.ok(["edit", &slug, "--goal", "2000"]);

    let out = home
        .cmd(["edit", &slug, "--url", "not a url"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let out = home
        .cmd(["review", &slug, "--picture", "Cargo.toml"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let out = home.cmd(["show", "no-such-campaign"]).output().unwrap();
    assert!(String::from_utf8_lossy(&out.stderr).contains("campaign list"));
}

#[test]
fn a_picture_is_checked_and_stored() {
    let home = Home::new();
    let slug = home.live_campaign("Picture campaign");
    let small = home.path().join("small.png");
    image::RgbImage::new(300, 200).save(&small).unwrap();
    let out = home
        .cmd(["review", &slug, "--picture"])
        .arg(&small)
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("600x315"),
        "{out:?}"
    );
    let big = home.path().join("big.jpg");
    image::RgbImage::from_pixel(1200, 630, image::Rgb([10, 120, 60]))
        .save(&big)
        .unwrap();
    home.cmd(["review", &slug, "--picture"])
        .arg(&big)
        .assert()
        .success();
    assert_eq!(
        home.json(["show", &slug, "--json"])["campaign"]["picture_mime"],
        "image/jpeg"
    );
}

#[cfg(unix)]
#[test]
fn the_database_and_its_folder_are_private() {
    use std::os::unix::fs::PermissionsExt;
    let home = Home::new();
    let data = home.path().join("fresh/data");
    // On PostgreSQL the database is elsewhere: the account file makes the folder.
    let args: &[&str] = match crate::common::backend() {
        crate::common::Backend::Sqlite => &["list"],
        crate::common::Backend::Postgres => {
            &["account", "--name", "Ana", "--email", "ana@example.org"]
        }
    };
    home.cmd(args)
        .env("CAMPAIGN_HOME", &data)
        .assert()
        .success();
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&data), 0o700);
    assert_eq!(mode(&home.path().join("fresh")), 0o700);
    if crate::common::backend() == crate::common::Backend::Sqlite {
        assert_eq!(mode(&data.join("campaigns.db")), 0o600);
    }
    for entry in std::fs::read_dir(&data).unwrap() {
        let path = entry.unwrap().path();
        assert_eq!(
            mode(&path) & 0o077,
            0,
            "{} is readable by others",
            path.display()
        );
    }
}

#[test]
fn an_old_database_is_migrated_and_a_newer_one_refused() {
    if crate::common::sqlite_only(
        "SQLite's own migrations; PostgreSQL's: postgres::a_newer_schema_is_refused_untouched",
    ) {
        return;
    }
    let home = Home::new();
    let db = home.db();
    {
        let v1 = campaign::store::SqliteStore::open_at_version(&db, 1).unwrap();
        assert_eq!(v1.schema_version().unwrap(), 1);
        // Written as version one wrote it (today's store writes today's columns).
        rusqlite::Connection::open(&db)
            .unwrap()
            .execute(
                "INSERT INTO campaigns (slug, title, target, ask, why, scope, created_at, updated_at) \
                 VALUES ('made-by-version-one', 'Made by version one', 'Council', 'Ask', 'Why', \
                 'global', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z')",
                [],
            )
            .unwrap();
    }
    let list = home.json(["list", "--json"]);
    assert_eq!(list[0]["title"], "Made by version one");
    assert_eq!(
        list[0]["signatures"]["total"], 0,
        "the later migration's tables are usable"
    );
    let latest = campaign::store::migrations::LATEST;
    rusqlite::Connection::open(&db)
        .unwrap()
        .pragma_update(None, "user_version", latest + 1)
        .unwrap();
    let out = home.cmd(["list"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("newer version"),
        "{out:?}"
    );
}

#[test]
fn a_closed_pipe_is_not_an_error() {
    let home = Home::new();
    home.live_campaign("One");
    // Reading nothing from stdout: the binary must exit 0 without printing an error.
    let mut child = home
        .std_cmd()
        .args(["list", "--json"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{out:?}");
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[cfg(unix)]
#[test]
fn on_a_terminal_new_asks_for_what_is_missing_and_for_an_account() {
    use expectrl::{Eof, Expect, Session};

    let home = Home::new();
    let mut cmd = home.std_cmd();
    cmd.args([
        "new",
        "--title",
        "Santuario para Nguyễn Thị Minh Khai",
        "--global",
    ])
    .env("TERM", "xterm");
    let mut session = Session::spawn(cmd).expect("spawn in a pty");
    session.set_expect_timeout(Some(Duration::from_secs(20)));
    session.expect("the target").unwrap();
    session.send_line("Rectora María Núñez").unwrap();
    session.expect("the ask").unwrap();
    session.send_line("Declare the campus a sanctuary").unwrap();
    session.expect("Why does it matter").unwrap();
    session.send_line("Students live in fear").unwrap();
    session.expect("Your name").unwrap();
    session.send_line("Ana Reyes").unwrap();
    session.expect("Your email").unwrap();
    session.send_line("not-an-email").unwrap();
    session.expect("not an email address").unwrap();
    // Clear the rejected text, then type a good address.
    session.send("\u{15}").unwrap();
    session.send_line("ana@example.org").unwrap();
    session
        .expect("santuario-para-nguyen-thi-minh-khai")
        .unwrap();
    session.expect(Eof).unwrap();

    let c = &home.json(["list", "--json"])[0];
    assert_eq!(c["title"], "Santuario para Nguyễn Thị Minh Khai");
    assert_eq!(c["target"], "Rectora María Núñez");
    assert_eq!(c["owner_email"], "ana@example.org");
    assert_eq!(home.json(["account", "--json"])["name"], "Ana Reyes");
}

#[cfg(unix)]
#[test]
fn on_a_terminal_edit_without_flags_opens_the_editor() {
    use expectrl::{Eof, Expect, Session};

    let home = Home::new();
    let slug = home.live_campaign("Sanctuary Oakland");
    // A scripted "editor": changes the title section and the goal, as a person would.
    let editor = home.path().join("editor.sh");
    std::fs::write(
        &editor,
        "#!/bin/sh\nsed -i -e 's/^Sanctuary Oakland$/Oakland para todos/' -e 's/^500$/750/' \"$1\"\n",
    )
    .unwrap();
    let mut perms = std::fs::metadata(&editor).unwrap().permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut perms, 0o755);
    std::fs::set_permissions(&editor, perms).unwrap();

    let mut cmd = home.std_cmd();
    cmd.args(["edit", &slug])
        .env("EDITOR", &editor)
        .env("TERM", "xterm");
    let mut session = Session::spawn(cmd).expect("spawn in a pty");
    session.set_expect_timeout(Some(Duration::from_secs(20)));
    session.expect("updated (2 fields)").unwrap();
    session.expect(Eof).unwrap();
    let c = &home.json(["show", &slug, "--json"])["campaign"];
    assert_eq!(c["title"], "Oakland para todos");
    assert_eq!(c["goal"], 750);
    assert_eq!(
        c["url"], "https://example.org/oakland",
        "untouched fields stay"
    );
}

#[test]
fn blank_or_unusable_values_are_usage_errors_naming_the_flag() {
    let home = Home::new();
    let slug = home.live_campaign("Sanctuary Oakland");
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (new_args("   ", "Council", "Oakland"), "--title is empty"),
        (new_args("Title", "Council", " "), "--location is empty"),
        (
            vec!["edit", &slug, "--location", ""],
            "--location cannot be empty",
        ),
        (
            vec!["edit", &slug, "--title", " "],
            "--title cannot be empty",
        ),
        (vec!["account", "--smtp-url", "garbage"], "--smtp-url"),
        (vec!["account", "--email", "ana@localhost"], "--email"),
    ];
    for (args, expected) in cases {
        let out = home.cmd(&args).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(expected), "{args:?}: {stderr}");
    }
    let c = &home.json(["show", &slug, "--json"])["campaign"];
    assert_eq!(c["location"], "Oakland, CA", "nothing changed");
    assert!(home.json(["account", "--json"])["smtp_url"].is_null());
}

#[test]
fn list_shows_every_count_and_keeps_long_titles_short() {
    let home = Home::new();
    home.account();
    let long_title = "Sanctuary ".repeat(30);
    home.ok(new_args(&long_title, "Council", "Oakland, CA"));
    let table = home.ok(["list"]);
    for heading in ["signatures", "paper", "online", "unnamed", "goal"] {
        assert!(table.contains(heading), "{table}");
    }
    assert!(table.lines().all(|l| l.chars().count() < 200), "{table}");
    assert_eq!(
        home.json(["list", "--json"])[0]["title"],
        long_title.trim(),
        "JSON keeps the full title"
    );
}

#[cfg(unix)]
#[test]
fn the_write_ahead_log_is_private_while_the_database_is_open() {
    if crate::common::sqlite_only("the WAL and the database file modes are SQLite files") {
        return;
    }
    use std::os::unix::fs::PermissionsExt;
    let home = Home::new();
    let slug = home.live_campaign("Sanctuary Oakland");
    // Keep a connection open (as a volunteer's entry session would) and write through it,
    // so the WAL and shared-memory files exist while we look.
    let mut store = home.store();
    let id = store.find_campaign(&slug).unwrap().id;
    let signer = campaign::store::NewSignature {
        name: "Nguyễn Thị Minh Khai".into(),
        postcode: Some("94612".into()),
        dedupe_key: "khai|94612".into(),
        ..Default::default()
    };
    store.insert_signature(id, &signer).unwrap();
    for suffix in ["-wal", "-shm"] {
        let path = home.path().join(format!("campaigns.db{suffix}"));
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{}", path.display());
    }
    drop(store);

    // A database copied in with loose permissions is narrowed on open.
    std::fs::set_permissions(home.db(), std::fs::Permissions::from_mode(0o644)).unwrap();
    home.ok(["list"]);
    assert_eq!(
        std::fs::metadata(home.db()).unwrap().permissions().mode() & 0o777,
        0o600
    );
}
