//! Teams on a shared PostgreSQL database (`campaign team`): each person gets a login of
//! their own, and the database enforces what they may do: a volunteer adds signatures to
//! their campaigns and can read none of them (not through campaign, not with a client of
//! their own); an organizer given one campaign cannot read another. On a file there are
//! no users: the command says so and how to move.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use expectrl::{Eof, Expect, Session};

use crate::common::{backend, isolate, Backend, Home, Ran};

/// `campaign ARGS` on another laptop (its own CAMPAIGN_HOME) connected with `url`.
fn member_cmd(home: &Path, url: &str, args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_campaign"));
    isolate(&mut cmd, home);
    cmd.env("CAMPAIGN_DB", url).args(args);
    cmd
}

fn member(home: &Path, url: &str, args: &[&str]) -> Ran {
    let out = member_cmd(home, url, args).output().expect("run campaign");
    Ran::from_output(&out)
}

/// `team add ... --json`: the URL handed over, checked for its shape.
fn add(home: &Home, email: &str, role: &str, campaigns: &[&str]) -> String {
    let mut args = vec!["--json", "team", "add", email, "--role", role];
    for c in campaigns {
        args.extend(["--campaign", c]);
    }
    let added = home.json(args);
    assert_eq!(added["email"], email);
    assert_eq!(added["role"], role);
    let url = added["url"].as_str().expect("url").to_string();
    assert!(url.starts_with("postgres://"), "{url}");
    url
}

/// The password in a URL handed over (`postgres://USER:PASSWORD@...`).
fn password_of(url: &str) -> String {
    let rest = url.split_once("://").unwrap().1;
    let login = rest.split_once('@').unwrap().0;
    let password = login.split_once(':').unwrap().1.to_string();
    assert!(password.len() >= 22, "{password}");
    password
}

fn second_campaign(home: &Home) -> String {
    home.ok([
        "new",
        "--title",
        "Stop ICE raids in Fruitvale",
        "--target",
        "Alameda County Board of Supervisors",
        "--ask",
        "End cooperation with ICE.",
        "--why",
        "Families are being torn apart.",
        "--location",
        "Oakland, CA",
        "--postcode",
        "94601",
    ])
    .trim()
    .to_string()
}

#[test]
fn a_team_needs_postgresql_and_a_file_says_how_to_move() {
    if backend() != Backend::Sqlite {
        return;
    }
    let home = Home::new();
    let slug = home.live_campaign("Oakland Sanctuary");
    for args in [
        vec![
            "team",
            "add",
            "luis@example.org",
            "--role",
            "volunteer",
            "--campaign",
            &slug,
        ],
        vec!["team", "list"],
        vec!["team", "remove", "luis@example.org", "--yes"],
    ] {
        let ran = home
            .run(&args)
            .status(1)
            .stderr_contains("a team needs a shared PostgreSQL database")
            .stderr_contains("Working as a team")
            .go();
        assert!(ran.stderr.contains("merge"), "{}", ran.stderr);
    }
}

#[test]
fn a_volunteer_adds_signatures_and_is_refused_export_deliver_and_select() {
    if backend() != Backend::Postgres {
        return;
    }
    let home = Home::new();
    let slug = home.live_campaign("Oakland Sanctuary");
    let other = second_campaign(&home);
    {
        let mut store = home.store();
        let campaign = store.find_campaign(&slug).unwrap();
        store.record_sheets(campaign.id, "OAK", 1, 10).unwrap();
    }
    // Signed before the volunteer came: Rosa, with an email.
    std::fs::write(
        home.path().join("online.csv"),
        "name,email,postcode\nRosa Martínez,rosa@example.org,94601\n",
    )
    .unwrap();
    let online = home.path().join("online.csv");
    home.ok([
        "enter-signatures",
        &slug,
        "--from",
        &online.to_string_lossy(),
    ]);

    let url = add(&home, "luis@example.org", "volunteer", &[&slug]);
    let password = password_of(&url);
    // Where the password is not: the owner's own URL, the team list.
    assert!(!url.contains(&home.db_arg()));
    let listed = home.ok(["team", "list"]);
    assert!(!listed.contains(&password), "{listed}");
    assert!(listed.contains("luis@example.org") && listed.contains("volunteer"));

    let laptop = tempfile::tempdir().unwrap();
    let lap = laptop.path();
    // An import: Rosa again (a duplicate, by her email) and two new signers.
    std::fs::write(
        lap.join("sheet.csv"),
        "name,email,postcode,sheet,line\n\
         Nguyễn Thị Minh Khai,minh@example.org,94612,OAK-0001,1\n\
         ROSA MARTÍNEZ,Rosa@Example.org,94601,OAK-0001,2\n\
         محمد الأحمد,,94601,OAK-0001,3\n",
    )
    .unwrap();
    let ran = member(
        lap,
        &url,
        &[
            "enter-signatures",
            &slug,
            "--from",
            &lap.join("sheet.csv").to_string_lossy(),
        ],
    );
    assert_eq!(ran.status, 0, "{}", ran.stderr);
    assert!(
        ran.stdout
            .contains("read 3, added 2, duplicates 1, rejected 0"),
        "{}",
        ran.stdout
    );

    // Typed rows: one new, one already there (shown as a volunteer may see it: where and
    // when, not who).
    let mut cmd = member_cmd(
        lap,
        &url,
        &["enter-signatures", &slug, "--sheet", "OAK-0001"],
    );
    cmd.env("TERM", "dumb");
    let mut p = Session::spawn(cmd).expect("spawn in a pty");
    p.set_expect_timeout(Some(Duration::from_secs(20)));
    let mut step = |shown: &str, send: &str| {
        if let Err(e) = p.expect(shown) {
            panic!("waiting for {shown:?}: {e}");
        }
        p.send(send).unwrap();
    };
    // The next line follows the import's (line 3), read without reading a signer.
    step("[OAK-0001 · line 4 · 0 entered", "");
    step("Name: ", "李娜\r");
    step("Email: ", "li.na@example.org\r");
    step("ZIP/postcode", "94601\r");
    step("Phone: ", "\r");
    step("mailing list? (y/N): ", "\r");
    step("show my name? (y/N): ", "\r");
    step("saved", "");
    // `<` from the next row: the row just typed is corrected (only rows this login typed).
    step("line 5 · 1 entered", "<\r");
    step("correcting the previous row", "");
    step("Line [4]: ", "\r");
    step("Name [李娜]: ", "\r");
    step("Email [li.na@example.org]: ", "lina@example.org\r");
    step("ZIP/postcode [94601]: ", "\r");
    step("Phone: ", "\r");
    step("mailing list? (y/N): ", "\r");
    step("show my name? (y/N): ", "\r");
    step("corrected", "");
    step("Name: ", "Minh Khai\r");
    step("Email: ", "MINH@example.org\r");
    step("already signed: an entry of ", "");
    step("(sheet OAK-0001 line 1)", "");
    step("[s]kip this row or [c]orrect it? [s]: ", "s");
    step("line 6 · 1 entered", ".\r");
    p.expect("added 1, skipped 1, corrected 1").unwrap();
    p.expect(Eof).unwrap();
    let status = format!("{:?}", p.get_process().wait().unwrap());
    assert!(status.ends_with(", 0)"), "{status}");
    {
        let store = home.store();
        let campaign = store.find_campaign(&slug).unwrap();
        assert_eq!(store.signature_counts(campaign.id).unwrap().total, 4);
        let mut names = Vec::new();
        store
            .for_each_signer(campaign.id, &mut |s| {
                names.push(s.name);
                Ok(())
            })
            .unwrap();
        assert_eq!(
            names,
            [
                "Rosa Martínez",
                "Nguyễn Thị Minh Khai",
                "محمد الأحمد",
                "李娜"
            ]
        );
        let li = store
            .find_signature_by_key(campaign.id, "lina@example.org")
            .unwrap();
        assert_eq!(li.unwrap().line, Some(4));
        // Typed or imported by a volunteer, every row has the stable id the binary makes
        // (a v7), not the column's default (a v4 from the server).
        let mut versions = Vec::new();
        store
            .for_each_signer_row(campaign.id, &mut |row| {
                versions.push(row.uid.map(|u| u.get_version_num()));
                Ok(())
            })
            .unwrap();
        assert_eq!(versions, [Some(7); 4], "{versions:?}");
    }

    // Export and deliver: refused by the database, said clearly.
    for args in [
        vec!["export", slug.as_str()],
        vec!["export", slug.as_str(), "--format", "jsonl"],
        vec!["deliver", slug.as_str(), "--out", "petition.pdf"],
    ] {
        let ran = member(lap, &url, &args);
        assert_eq!(ran.status, 1, "{args:?}: {}", ran.stderr);
        // At most a CSV header: not one signer.
        assert!(ran.stdout.lines().count() <= 1, "{args:?}: {}", ran.stdout);
        assert!(
            !ran.stdout.contains("Rosa") && !ran.stdout.contains('@'),
            "{}",
            ran.stdout
        );
        let line = ran.error_line();
        assert!(
            line.contains("the database refused this (permission denied for table ")
                && line.contains("a volunteer of the team"),
            "{args:?}: {}",
            ran.stderr
        );
        assert!(!ran.stderr.contains(&password), "{}", ran.stderr);
    }
    assert!(!lap.join("petition.pdf").exists());
    // Their campaign's page, yes (text, counts, history: no signer in it).
    let ran = member(lap, &url, &["show", &slug]);
    assert_eq!(ran.status, 0, "{}", ran.stderr);
    assert!(ran.stdout.contains("Oakland Sanctuary"), "{}", ran.stdout);
    let ran = member(lap, &url, &["signer", "history", &slug]);
    assert_eq!(ran.status, 1, "{}", ran.stderr);
    assert!(
        ran.error_line().contains("the database refused this"),
        "{}",
        ran.stderr
    );
    // The other campaign is not theirs: not even its page.
    let ran = member(lap, &url, &["show", &other]);
    assert_eq!(ran.status, 1, "{}", ran.stderr);
    // Nor may they change the campaign, or the team.
    let ran = member(lap, &url, &["edit", &slug, "--title", "Ours now", "--yes"]);
    assert_eq!(ran.status, 1, "{}", ran.stderr);
    assert!(
        ran.error_line().contains("the database refused this"),
        "{}",
        ran.stderr
    );
    let ran = member(
        lap,
        &url,
        &["team", "add", "eve@example.org", "--role", "organizer"],
    );
    assert_eq!(ran.status, 1, "{}", ran.stderr);
    assert!(
        ran.error_line().contains("only the owner"),
        "{}",
        ran.stderr
    );
    assert!(!ran.stderr.contains(&password), "{}", ran.stderr);

    // A client of their own: the database refuses the signer table itself.
    let mut client = postgres::Client::connect(&url, postgres::NoTls).expect("volunteer connects");
    for sql in [
        "SELECT * FROM campaign.signatures",
        "SELECT email FROM campaign.signatures",
        "SELECT dedupe_key FROM campaign.signatures",
        "SELECT * FROM campaign.team_members",
        "COPY campaign.signatures TO STDOUT",
        "UPDATE campaign.signature_counts SET total = 0",
    ] {
        let err = client.batch_execute(sql).expect_err(sql);
        assert_eq!(
            err.code(),
            Some(&postgres::error::SqlState::INSUFFICIENT_PRIVILEGE),
            "{sql}: {err}"
        );
    }
    // The duplicate check answers where and when, never who.
    let row = client
        .query_one(
            "SELECT * FROM campaign.earlier_entry((SELECT id FROM campaign.campaigns LIMIT 1), 'rosa@example.org')",
            &[],
        )
        .unwrap();
    assert_eq!(row.columns().len(), 6);
    assert!(row
        .columns()
        .iter()
        .all(|c| !["name", "email", "postcode", "phone"].contains(&c.name())));
}

#[test]
fn an_organizer_of_one_campaign_cannot_read_another() {
    if backend() != Backend::Postgres {
        return;
    }
    let home = Home::new();
    let slug = home.live_campaign("Oakland Sanctuary");
    let other = second_campaign(&home);
    std::fs::write(
        home.path().join("s.csv"),
        "name,email\nRosa Martínez,rosa@example.org\n",
    )
    .unwrap();
    let csv = home.path().join("s.csv");
    let csv = csv.to_string_lossy();
    home.ok(["enter-signatures", &slug, "--from", &csv]);
    home.ok(["enter-signatures", &other, "--from", &csv]);

    let url = add(&home, "marisol@example.org", "organizer", &[&slug]);
    let laptop = tempfile::tempdir().unwrap();
    let lap = laptop.path();
    let ran = member(lap, &url, &["--json", "list"]);
    assert_eq!(ran.status, 0, "{}", ran.stderr);
    let listed: serde_json::Value = serde_json::from_str(&ran.stdout).unwrap();
    let slugs: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["slug"].as_str().unwrap())
        .collect();
    assert_eq!(slugs, [slug.as_str()]);
    // Their campaign: everything, signers included.
    let ran = member(lap, &url, &["export", &slug]);
    assert_eq!(ran.status, 0, "{}", ran.stderr);
    assert!(ran.stdout.contains("Rosa Martínez"), "{}", ran.stdout);
    let ran = member(
        lap,
        &url,
        &[
            "edit",
            &slug,
            "--title",
            "Oakland, a sanctuary for all",
            "--yes",
        ],
    );
    assert_eq!(ran.status, 0, "{}", ran.stderr);
    // The other one does not exist for them.
    for args in [vec!["export", other.as_str()], vec!["show", other.as_str()]] {
        let ran = member(lap, &url, &args);
        assert_eq!(ran.status, 1, "{args:?}: {}", ran.stderr);
        assert!(!ran.stdout.contains("Rosa"), "{}", ran.stdout);
    }
    // Nor may they widen their own rights.
    let mut client = postgres::Client::connect(&url, postgres::NoTls).unwrap();
    let err = client
        .batch_execute("UPDATE campaign.team_members SET campaigns = NULL")
        .unwrap_err();
    assert_eq!(
        err.code(),
        Some(&postgres::error::SqlState::INSUFFICIENT_PRIVILEGE)
    );
    let n: i64 = client
        .query_one("SELECT count(*) FROM campaign.signatures", &[])
        .unwrap()
        .get(0);
    assert_eq!(n, 1);
}

#[test]
fn the_team_is_listed_and_a_removed_person_can_no_longer_connect() {
    if backend() != Backend::Postgres {
        return;
    }
    // An empty database: one command makes the schema.
    let home = Home::fresh();
    home.run(["init"])
        .stderr_contains("campaign's tables are ready in postgres://")
        .go();
    let slug = home.live_campaign("Oakland Sanctuary");
    let luis = add(&home, "luis@example.org", "volunteer", &[&slug]);
    let marisol = add(&home, "Marisol@Example.org", "organizer", &[]);
    let li = add(&home, "李娜@例子.中国", "organizer", &[]);
    assert!(li.starts_with("postgres://member_"), "{li}");
    let listed = home.json(["--json", "team", "list"]);
    let people = listed.as_array().unwrap();
    assert_eq!(people.len(), 3);
    assert_eq!(people[0]["email"], "luis@example.org");
    assert_eq!(people[0]["role"], "volunteer");
    assert_eq!(people[0]["campaigns"], serde_json::json!([slug]));
    assert_eq!(people[1]["email"], "Marisol@Example.org");
    assert_eq!(people[1]["campaigns"], serde_json::Value::Null);
    let text = listed.to_string();
    for url in [&luis, &marisol, &li] {
        assert!(!text.contains(&password_of(url)), "{text}");
    }
    // The same person twice, in any case: refused, nothing changed.
    home.run(["team", "add", "LUIS@example.org", "--role", "organizer"])
        .status(1)
        .stderr_contains("luis@example.org is already in the team (as volunteer)")
        .go();
    // A volunteer without a campaign: a usage error.
    home.run(["team", "add", "ana.b@example.org", "--role", "volunteer"])
        .status(2)
        .stderr_contains("pass --campaign SLUG")
        .go();

    let laptop = tempfile::tempdir().unwrap();
    assert_eq!(member(laptop.path(), &luis, &["list"]).status, 0);
    // Without a terminal, removing asks for --yes.
    home.run(["team", "remove", "luis@example.org"])
        .status(1)
        .stderr_contains("Pass --yes to confirm")
        .go();
    home.run(["team", "remove", "luis@example.org", "--yes"])
        .stderr_contains("luis@example.org removed from the team")
        .go();
    let ran = member(laptop.path(), &luis, &["list"]);
    assert_eq!(ran.status, 1, "{}", ran.stderr);
    assert!(
        ran.error_line().contains("cannot connect"),
        "{}",
        ran.stderr
    );
    assert!(!ran.stderr.contains(&password_of(&luis)), "{}", ran.stderr);
    home.run(["team", "remove", "luis@example.org", "--yes"])
        .status(1)
        .stderr_contains("luis@example.org is not in the team")
        .go();
    let listed = home.json(["--json", "team", "list"]);
    assert_eq!(listed.as_array().unwrap().len(), 2);
}

/// The co-organizer's invitation says how to reach the campaign: on PostgreSQL the URL
/// with their login and no password (which reaches them separately); on a file, that it
/// lives on the sender's computer and how to work together. Never "ask where it is".
#[test]
fn the_admin_invitation_says_how_to_connect_and_never_carries_a_password() {
    let home = Home::new();
    let slug = home.live_campaign("Oakland Sanctuary");
    let url = (backend() == Backend::Postgres)
        .then(|| add(&home, "luis@example.org", "organizer", &[&slug]));
    let stdout = home.ok(["admins", &slug, "--add", "luis@example.org"]);
    let eml = stdout
        .lines()
        .find(|l| l.ends_with(".eml"))
        .expect("the invitation's path");
    let body = crate::common::parse_eml(Path::new(eml))
        .body_text(0)
        .unwrap()
        .into_owned();
    assert!(!body.contains("ask them where it is"), "{body}");
    assert!(body.contains("Get campaign from Ana Reyes"), "{body}");
    assert!(body.contains(&format!("campaign show {slug}")), "{body}");
    match url {
        Some(url) => {
            let password = password_of(&url);
            assert!(!body.contains(&password), "{body}");
            // Their own login, as handed over, minus the password.
            let without = url.replace(&format!(":{password}@"), "@");
            assert!(body.contains(&format!("   {without}")), "{without}\n{body}");
            assert!(!body.contains(&format!("   {without}?")), "{body}");
            assert!(
                body.contains("gives you your password separately"),
                "{body}"
            );
            assert!(body.contains("CAMPAIGN_DB"), "{body}");
            assert!(!body.contains("YOUR-USER"), "{body}");
        }
        None => {
            assert!(
                body.contains("The campaign lives in a file on Ana Reyes's computer"),
                "{body}"
            );
            assert!(body.contains("\"Working as a team\""), "{body}");
            assert!(!body.contains("postgres://"), "{body}");
        }
    }
    // An address not in the team: the URL names YOUR-USER.
    if backend() == Backend::Postgres {
        let stdout = home.ok(["admins", &slug, "--add", "rosa@example.org"]);
        let eml = stdout.lines().find(|l| l.ends_with(".eml")).unwrap();
        let body = crate::common::parse_eml(Path::new(eml))
            .body_text(0)
            .unwrap()
            .into_owned();
        assert!(body.contains("postgres://YOUR-USER@127.0.0.1:"), "{body}");
        assert!(
            body.contains("YOUR-USER stands for your user name"),
            "{body}"
        );
    }
}

/// Two volunteers importing at once, a fifth of their rows the same signers: a volunteer
/// cannot use ON CONFLICT (it needs SELECT on the key), so a key the other adds meanwhile
/// makes the insert start again. Every signer once, the counts exact.
#[test]
fn two_volunteers_importing_the_same_signers_at_once_count_each_once() {
    if backend() != Backend::Postgres {
        return;
    }
    let home = Home::new();
    let slug = home.live_campaign("Oakland Sanctuary");
    let urls = [
        add(&home, "v1@example.org", "volunteer", &[&slug]),
        add(&home, "v2@example.org", "volunteer", &[&slug]),
    ];
    let laptops: Vec<_> = (0..2).map(|_| tempfile::tempdir().unwrap()).collect();
    let mut children = Vec::new();
    for (v, (url, lap)) in urls.iter().zip(&laptops).enumerate() {
        let mut csv = String::from("name,email,postcode\n");
        for i in 0..4000 {
            // Interleaved: both meet the shared keys throughout their files.
            if i % 5 == 0 {
                csv.push_str(&format!("Shared Signer {i},shared{i}@example.org,94601\n"));
            } else {
                csv.push_str(&format!("Signer {v}-{i},s{v}x{i}@example.org,94601\n"));
            }
        }
        let path = lap.path().join("rows.csv");
        std::fs::write(&path, csv).unwrap();
        let path = path.to_string_lossy().into_owned();
        children.push(
            member_cmd(
                lap.path(),
                url,
                &["enter-signatures", &slug, "--from", &path],
            )
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap(),
        );
    }
    let mut added = 0;
    let mut duplicates = 0;
    for child in children {
        let out = child.wait_with_output().unwrap();
        let ran = Ran::from_output(&out);
        assert_eq!(ran.status, 0, "{}", ran.stderr);
        let line = ran.stdout.trim();
        let n = |word: &str| -> u64 {
            line.split(", ")
                .find_map(|part| part.strip_prefix(word))
                .unwrap_or_else(|| panic!("{line}"))
                .trim()
                .parse()
                .unwrap()
        };
        added += n("added ");
        duplicates += n("duplicates ");
    }
    assert_eq!((added, duplicates), (7200, 800));
    let store = home.store();
    let campaign = store.find_campaign(&slug).unwrap();
    assert_eq!(store.signature_counts(campaign.id).unwrap().total, 7200);
}
