//! `campaign merge FROM`: a volunteer's laptop file merged into the suite's database (a
//! SQLite file in `cli`, PostgreSQL in `cli_pg`), and the suite's database into a laptop.
//! Idempotent, duplicates counted, sheet ids kept, conflicts reported and left alone.

use std::path::Path;

use serde_json::Value;

use crate::common::{backend, Backend, Home};

const NAMES: [&str; 4] = ["Nguyễn Thị Minh Khai", "محمد الأحمد", "አበበ ቢቂላ", "李娜"];

/// Imports `rows` (name, email) into `slug` from a CSV.
fn import(home: &Home, slug: &str, rows: &[(&str, &str)]) {
    let file = home.path().join("signers.csv");
    let mut text = String::from("Name,Email,ZIP\n");
    for (name, email) in rows {
        text.push_str(&format!("{name},{email},94612\n"));
    }
    std::fs::write(&file, text).unwrap();
    home.ok(["enter-signatures", slug, "--from", file.to_str().unwrap()]);
}

fn four_signers() -> Vec<(&'static str, &'static str)> {
    vec![
        (NAMES[0], "minh.khai@example.org"),
        (NAMES[1], "m.alahmad@example.org"),
        (NAMES[2], "abebe@example.org"),
        (NAMES[3], "li.na@example.org"),
    ]
}

/// `campaign --json merge FROM` on `home`, which must succeed.
fn merge(home: &Home, from: &str, extra: &[&str]) -> Value {
    let mut args = vec!["--json", "merge", from];
    args.extend_from_slice(extra);
    home.json(args)
}

fn total(home: &Home, slug: &str) -> i64 {
    let list = home.json(["--json", "list"]);
    let c = list
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["slug"] == slug)
        .unwrap_or_else(|| panic!("no {slug} in {list}"));
    c["signatures"]["total"].as_i64().unwrap()
}

fn path(home: &Home) -> String {
    home.db().display().to_string()
}

#[test]
fn merging_a_laptop_file_twice_adds_everything_once() {
    let laptop = Home::laptop();
    let slug = laptop.live_campaign("Sanctuary for all immigrants");
    laptop.ok(["paper-form", &slug, "--sheets", "2"]);
    import(&laptop, &slug, &four_signers());
    laptop.ok(["edit", &slug, "--goal", "600"]);
    let pdf = laptop.path().join("petition.pdf");
    laptop.ok(["deliver", &slug, "--out", pdf.to_str().unwrap()]);
    let team = Home::new();
    team.account();

    let first = merge(&team, &path(&laptop), &[]);
    assert_eq!(first["dry_run"], false);
    assert_eq!(first["conflicts"], 0, "{first}");
    let c = &first["campaigns"][0];
    assert_eq!(c["slug"], slug.as_str());
    assert_eq!(c["new_campaign"], true, "{first}");
    assert_eq!(c["signatures_added"], 4, "{first}");
    assert_eq!(c["sheets_added"], 2, "{first}");
    assert_eq!(c["admins_added"], 0, "{first}");
    assert_eq!(c["deliveries_added"], 1, "{first}");
    assert!(
        c["history_added"].as_u64().unwrap() >= 2,
        "launch and goal: {first}"
    );
    assert_eq!(total(&team, &slug), 4);

    // The second time: nothing new, every signer recognised by its id.
    let again = merge(&team, &path(&laptop), &[]);
    let c = &again["campaigns"][0];
    assert_eq!(c["new_campaign"], false, "{again}");
    assert_eq!(c["signatures_added"], 0, "{again}");
    assert_eq!(c["signatures_already_here"], 4, "{again}");
    assert_eq!(c["duplicates"], 0, "{again}");
    assert_eq!(c["sheets_added"], 0, "{again}");
    assert_eq!(c["history_added"], 0, "{again}");
    assert_eq!(c["deliveries_added"], 0, "{again}");
    assert_eq!(again["conflicts"], 0, "{again}");
    assert_eq!(total(&team, &slug), 4, "counts stay exact");
    let people = team
        .run(["merge", &path(&laptop)])
        .stderr_contains("nothing new")
        .go();
    assert!(people.stdout.is_empty(), "the report is for people: stderr");

    // The names come out exactly as typed, once each.
    let export = team.ok(["export", &slug]);
    for name in NAMES {
        assert_eq!(export.matches(name).count(), 1, "{name} in {export}");
    }
    let show = team.json(["--json", "show", &slug]);
    assert_eq!(show["campaign"]["goal"], 600, "{show}");
    assert_eq!(show["deliveries"].as_array().unwrap().len(), 1, "{show}");
    assert_eq!(show["campaign"]["status"], "live", "{show}");
}

/// The team's campaign on a laptop (merged from the team's database), for a volunteer.
fn team_and_laptop() -> (Home, Home, String) {
    let team = Home::new();
    let slug = team.live_campaign("Sanctuary for all immigrants");
    let laptop = Home::laptop();
    laptop.account();
    let down = merge(&laptop, &team.db_arg(), &[]);
    assert_eq!(down["campaigns"][0]["new_campaign"], true, "{down}");
    (team, laptop, slug)
}

#[test]
fn merging_from_the_team_database_into_a_laptop_file_works_too() {
    let team = Home::new();
    let slug = team.live_campaign("Sanctuary for all immigrants");
    import(&team, &slug, &four_signers());
    team.ok([
        "edit",
        &slug,
        "--in",
        "es",
        "--title",
        "Santuario para todos",
    ]);
    let laptop = Home::laptop();
    laptop.account();
    let down = merge(&laptop, &team.db_arg(), &[]);
    let c = &down["campaigns"][0];
    assert_eq!(c["signatures_added"], 4, "{down}");
    assert_eq!(c["translations_added"], 1, "{down}");
    assert_eq!(total(&laptop, &slug), 4);
    let export = laptop.ok(["export", &slug]);
    for name in NAMES {
        assert!(export.contains(name), "{name} in {export}");
    }
    let again = merge(&laptop, &team.db_arg(), &[]);
    assert_eq!(again["campaigns"][0]["signatures_added"], 0, "{again}");
    assert_eq!(again["conflicts"], 0, "{again}");
}

#[test]
fn merging_a_campaign_with_conflicting_text_reports_the_conflict() {
    let (team, laptop, slug) = team_and_laptop();
    laptop.ok([
        "edit",
        &slug,
        "--title",
        "Sanctuary for every neighbor, typed on the laptop at the rally",
    ]);
    import(&laptop, &slug, &four_signers()[..2]);
    team.ok([
        "edit",
        &slug,
        "--in",
        "es",
        "--title",
        "Santuario para todos",
    ]);
    laptop.ok([
        "edit",
        &slug,
        "--in",
        "es",
        "--title",
        "Santuario para cada vecino",
    ]);

    let ran = team
        .run(["merge", &path(&laptop)])
        .stderr_contains("title differs")
        .stderr_contains("\"Sanctuary for all immigrants\"")
        .stderr_contains("typed on the laptop")
        .stderr_contains(format!("campaign edit {slug}"))
        .stderr_contains("title (es) differs: here \"Santuario para todos\"")
        .stderr_contains("2 conflict(s)")
        .go();
    assert!(ran.stdout.is_empty());
    // The team's text stays; the signers came in anyway.
    let show = team.json(["--json", "show", &slug]);
    assert_eq!(
        show["campaign"]["title"], "Sanctuary for all immigrants",
        "{show}"
    );
    assert_eq!(total(&team, &slug), 2);

    let again = merge(&team, &path(&laptop), &[]);
    assert_eq!(
        again["conflicts"], 2,
        "still there until a person settles it"
    );
    let k = &again["campaigns"][0]["conflicts"][0];
    assert_eq!(k["field"], "title", "{again}");
    assert_eq!(k["here"], "Sanctuary for all immigrants", "{again}");
    assert!(
        k["incoming"].as_str().unwrap().chars().count() <= 60,
        "shortened: {again}"
    );
    assert_eq!(again["campaigns"][0]["signatures_added"], 0);
}

#[test]
fn a_signer_the_campaign_already_has_by_email_is_counted_as_a_duplicate() {
    let (team, laptop, slug) = team_and_laptop();
    import(
        &team,
        &slug,
        &[("Ana María López", "ana.maria@example.org")],
    );
    import(
        &laptop,
        &slug,
        &[
            ("Ana Maria Lopez", "Ana.Maria@Example.org"),
            (NAMES[3], "li.na@example.org"),
        ],
    );
    let report = merge(&team, &path(&laptop), &[]);
    let c = &report["campaigns"][0];
    assert_eq!(c["duplicates"], 1, "{report}");
    assert_eq!(c["signatures_added"], 1, "{report}");
    assert_eq!(total(&team, &slug), 2);
    let export = team.ok(["export", &slug]);
    assert!(export.contains("Ana María López"), "the first entry stays");
    assert!(!export.contains("Ana Maria Lopez"), "{export}");
    let again = merge(&team, &path(&laptop), &[]);
    assert_eq!(again["campaigns"][0]["duplicates"], 1, "{again}");
    assert_eq!(again["campaigns"][0]["signatures_added"], 0, "{again}");
}

#[test]
fn a_dry_run_shows_what_would_come_in_and_changes_nothing() {
    let laptop = Home::laptop();
    let slug = laptop.live_campaign("Sanctuary for all immigrants");
    import(&laptop, &slug, &four_signers());
    let team = Home::new();
    team.account();
    team.ok(["list"]);
    let before = (backend() == Backend::Sqlite).then(|| std::fs::read(team.db()).unwrap());
    let laptop_before = std::fs::read(laptop.db()).unwrap();

    let report = merge(&team, &path(&laptop), &["--dry-run"]);
    assert_eq!(report["dry_run"], true);
    assert_eq!(report["campaigns"][0]["new_campaign"], true, "{report}");
    assert_eq!(report["campaigns"][0]["signatures_added"], 4, "{report}");
    team.run(["merge", "--dry-run", &path(&laptop)])
        .stderr_contains("dry run, nothing was changed")
        .go();
    assert_eq!(team.json(["--json", "list"]), serde_json::json!([]));
    if let Some(before) = before {
        assert!(std::fs::read(team.db()).unwrap() == before, "same bytes");
    }
    assert!(
        std::fs::read(laptop.db()).unwrap() == laptop_before,
        "FROM is only read"
    );
}

#[test]
fn sheet_ids_are_kept_and_the_next_sheet_printed_follows_them() {
    let laptop = Home::laptop();
    let slug = laptop.live_campaign("Sanctuary for all immigrants");
    laptop.ok(["paper-form", &slug, "--sheets", "2"]);
    let team = Home::new();
    team.account();
    merge(&team, &path(&laptop), &[]);
    let sheets = |home: &Home| -> Vec<String> {
        let store = home.store();
        let c = store.find_campaign(&slug).unwrap();
        store
            .sheets(c.id)
            .unwrap()
            .into_iter()
            .map(|s| s.sheet_id)
            .collect()
    };
    let ids = sheets(&laptop);
    assert_eq!(ids.len(), 2);
    assert_eq!(sheets(&team), ids);
    team.ok(["paper-form", &slug, "--sheets", "1"]);
    let after = sheets(&team);
    assert_eq!(after.len(), 3);
    assert!(!ids.contains(&after[2]), "a new id: {after:?}");
    assert!(after[2].ends_with("-0003"), "{after:?}");
}

#[test]
fn merging_a_database_into_itself_is_refused() {
    let team = Home::new();
    team.live_campaign("Sanctuary for all immigrants");
    team.run(["merge", &team.db_arg()])
        .status(1)
        .stderr_contains("is the database you are merging into")
        .go();
    if backend() == Backend::Sqlite {
        let link = team.path().join("link.db");
        std::os::unix::fs::symlink(team.db(), &link).unwrap();
        team.run(["merge", link.to_str().unwrap()])
            .status(1)
            .stderr_contains("is the database you are merging into")
            .go();
    }
}

#[test]
fn a_from_that_is_not_a_campaign_database_is_refused_clearly() {
    let team = Home::new();
    team.account();
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("signers.csv");
    std::fs::write(&csv, "Name,Email\nAna,ana@example.org\n").unwrap();
    let empty_sqlite = dir.path().join("other.db");
    rusqlite::Connection::open(&empty_sqlite)
        .unwrap()
        .execute_batch("CREATE TABLE notes (t TEXT)")
        .unwrap();
    for from in [&csv, &empty_sqlite] {
        let before = std::fs::read(from).unwrap();
        team.run(["merge", from.to_str().unwrap()])
            .status(1)
            .stderr_contains("not a campaign database")
            .go();
        assert!(std::fs::read(from).unwrap() == before, "{}", from.display());
    }
    let missing = dir.path().join("typo.db");
    team.run(["merge", missing.to_str().unwrap()])
        .status(1)
        .stderr_contains("cannot read")
        .go();
    assert!(!missing.exists(), "a mistyped FROM is never created");
    team.run(["merge", dir.path().to_str().unwrap()])
        .status(1)
        .stderr_contains("is not a file")
        .go();
    assert_eq!(team.json(["--json", "list"]), serde_json::json!([]));
}

#[test]
fn a_from_with_a_newer_schema_is_refused_untouched() {
    let laptop = Home::laptop();
    laptop.live_campaign("Sanctuary for all immigrants");
    let db = laptop.db();
    rusqlite::Connection::open(&db)
        .unwrap()
        .pragma_update(
            None,
            "user_version",
            campaign::store::migrations::LATEST + 1,
        )
        .unwrap();
    let before = std::fs::read(&db).unwrap();
    let team = Home::new();
    team.account();
    team.run(["merge", db.to_str().unwrap()])
        .status(1)
        .stderr_contains("newer version of campaign")
        .go();
    assert!(std::fs::read(&db).unwrap() == before);
    assert!(!Path::new(&format!("{}-journal", db.display())).exists());
}

#[test]
fn merging_into_a_campaign_you_do_not_organize_is_refused_and_nothing_comes_in() {
    let (team, laptop, slug) = team_and_laptop();
    import(&laptop, &slug, &four_signers());
    team.ok(["account", "--email", "someone.else@example.org"]);
    team.run(["merge", &path(&laptop)])
        .status(1)
        .stderr_contains(format!("only the organizers of {slug}"))
        .go();
    assert_eq!(total(&team, &slug), 0, "all or nothing");
}

#[test]
fn an_encrypted_laptop_file_is_merged_with_the_same_passphrase_and_refused_without() {
    let laptop = Home::laptop();
    let pass = laptop.path().join("pass.txt");
    std::fs::write(&pass, "correct horse battery staple\n").unwrap();
    std::fs::set_permissions(&pass, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
    let with_pass = |home: &Home, args: &[&str]| {
        let out = home
            .cmd(args)
            .env("CAMPAIGN_PASSPHRASE_FILE", &pass)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr).to_string();
        assert!(out.status.success(), "{args:?}: {stderr}");
        String::from_utf8(out.stdout).unwrap()
    };
    with_pass(&laptop, &["init", "--encrypt"]);
    with_pass(
        &laptop,
        &[
            "account",
            "--name",
            "Ana Reyes",
            "--email",
            "ana@example.org",
        ],
    );
    let slug = with_pass(
        &laptop,
        &[
            "new",
            "--title",
            "Sanctuary",
            "--target",
            "Mayor",
            "--ask",
            "Declare it.",
            "--why",
            "Because.",
            "--location",
            "Oakland, CA",
        ],
    )
    .trim()
    .to_string();
    let csv = laptop.path().join("in.csv");
    std::fs::write(&csv, format!("Name,Email\n{},k@example.org\n", NAMES[2])).unwrap();
    with_pass(
        &laptop,
        &["enter-signatures", &slug, "--from", csv.to_str().unwrap()],
    );

    let team = Home::new();
    team.account();
    team.run(["merge", &path(&laptop)])
        .status(2)
        .stderr_contains("passphrase")
        .go();
    assert_eq!(team.json(["--json", "list"]), serde_json::json!([]));
    let report: Value =
        serde_json::from_str(&with_pass(&team, &["--json", "merge", &path(&laptop)])).unwrap();
    assert_eq!(report["campaigns"][0]["signatures_added"], 1, "{report}");
    assert!(team.ok(["export", &slug]).contains(NAMES[2]));
}

#[test]
fn two_merges_of_one_laptop_at_once_add_everything_once() {
    let laptop = Home::laptop();
    let slug = laptop.live_campaign("Sanctuary for all immigrants");
    let rows: Vec<(String, String)> = (0..300)
        .map(|i| (format!("{} {i}", NAMES[i % 4]), format!("s{i}@example.org")))
        .collect();
    let rows: Vec<(&str, &str)> = rows.iter().map(|(n, e)| (n.as_str(), e.as_str())).collect();
    import(&laptop, &slug, &rows);
    let team = Home::new();
    team.account();
    let children: Vec<_> = (0..2)
        .map(|_| {
            team.std_cmd()
                .args(["--json", "merge", &path(&laptop)])
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let mut added = 0;
    for child in children {
        let out = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{stderr}");
        let report: Value = serde_json::from_slice(&out.stdout).unwrap();
        added += report["campaigns"][0]["signatures_added"].as_u64().unwrap();
    }
    assert_eq!(
        added, 300,
        "one merge added them, the other found them here"
    );
    assert_eq!(total(&team, &slug), 300);
}

#[test]
fn rows_older_than_the_stable_ids_get_one_and_merge_once() {
    let team = Home::fresh();
    let location = campaign::store::DbLocation::parse(team.db_arg().as_ref()).unwrap();
    match &location {
        campaign::store::DbLocation::Postgres(t) => {
            let older = campaign::store::postgres::migrations::LATEST - 1;
            campaign::store::PgStore::open_at_version(t, older).unwrap();
        }
        campaign::store::DbLocation::Sqlite(p) => {
            let older = campaign::store::migrations::LATEST - 1;
            campaign::store::SqliteStore::open_at_version(p, older).unwrap();
        }
    }
    team.sql(
        "INSERT INTO campaigns (slug, title, target, ask, why, scope, created_at, updated_at) \
         VALUES (?1, 'Old', 'Council', 'Ask', 'Why', 'global', 'x', 'x')",
        "INSERT INTO campaigns (slug, title, target, ask, why, scope, created_at, updated_at) \
         VALUES ($1, 'Old', 'Council', 'Ask', 'Why', 'global', 'x', 'x')",
        &["old-one"],
    );
    team.sql(
        "INSERT INTO signatures (campaign_id, name, source, signed_at, dedupe_key) \
         VALUES (1, ?1, 'paper', 'x', 'k1')",
        "INSERT INTO signatures (campaign_id, name, source, signed_at, dedupe_key) \
         VALUES (1, $1, 'paper', 'x', 'k1')",
        &[NAMES[1]],
    );
    team.ok(["list"]);
    let laptop = Home::laptop();
    let down = merge(&laptop, &team.db_arg(), &[]);
    assert_eq!(down["campaigns"][0]["signatures_added"], 1, "{down}");
    let again = merge(&laptop, &team.db_arg(), &[]);
    assert_eq!(again["campaigns"][0]["new_campaign"], false, "{again}");
    assert_eq!(
        again["campaigns"][0]["signatures_already_here"], 1,
        "{again}"
    );
    assert!(laptop.ok(["export", "old-one"]).contains(NAMES[1]));
}

/// A person who asked the team's database to forget them stays out when a laptop that
/// still holds them is merged in (by email, and by name and postcode).
#[test]
fn a_forgotten_person_stays_out_of_a_merge() {
    let laptop = Home::laptop();
    let slug = laptop.live_campaign("Sanctuary for all immigrants");
    import(&laptop, &slug, &four_signers());
    let team = Home::new();
    team.account();
    let first = merge(&team, &path(&laptop), &[]);
    assert_eq!(first["campaigns"][0]["signatures_added"], 4, "{first}");
    team.ok(["forget", "--email", "LI.NA@example.org", "--yes"]);
    team.ok(["forget", "--name", NAMES[1], "--postcode", "94612", "--yes"]);
    assert_eq!(total(&team, &slug), 2);

    let again = merge(&team, &path(&laptop), &[]);
    let c = &again["campaigns"][0];
    assert_eq!(c["held_back"], 2, "{again}");
    assert_eq!(c["signatures_added"], 0, "{again}");
    assert_eq!(total(&team, &slug), 2);
    let export = team.ok(["export", &slug, "--format", "jsonl"]);
    assert!(
        !export.contains(NAMES[3]) && !export.contains(NAMES[1]),
        "{export}"
    );
    assert!(
        export.contains(NAMES[0]) && export.contains(NAMES[2]),
        "{export}"
    );
}
