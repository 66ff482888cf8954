//! `campaign signer edit|remove|history`: a saved signer corrected or removed later by
//! sheet and line (or id), every change kept in the signer history.

use std::time::Duration;

use campaign::model::Signature;
use expectrl::{Eof, Expect, Session};

use crate::common::Home;

/// A live campaign with three signers: two typed from sheet OAK-0007, one online.
fn campaign_with_signers(home: &Home) -> String {
    let slug = home.live_campaign("Oakland Sanctuary");
    let mut store = home.store();
    let c = store.find_campaign(&slug).unwrap();
    store.record_sheets(c.id, "OAK", 7, 10).unwrap();
    drop(store);
    let csv = "name,email,zip,sheet,line,source\n\
               Ana Lopez,ana@example.org,94612,OAK-0007,5,paper\n\
               Li Na,li@example.org,94601,OAK-0007,6,paper\n\
               Rosa Martínez,rosa@example.org,94606,,,online\n";
    home.run(["enter-signatures", &slug, "--from", "-"])
        .stdin(csv)
        .stdout_contains("added 3")
        .go();
    slug
}

fn signers(home: &Home, slug: &str) -> Vec<Signature> {
    let store = home.store();
    let c = store.find_campaign(slug).unwrap();
    let mut all = Vec::new();
    store
        .for_each_signer(c.id, &mut |s| {
            all.push(s);
            Ok(())
        })
        .unwrap();
    all
}

#[test]
fn edit_by_sheet_and_line_changes_only_that_signer_and_is_kept_in_the_history() {
    let home = Home::new();
    let slug = campaign_with_signers(&home);
    home.run([
        "signer",
        "edit",
        &slug,
        "oak-7:5",
        "--name",
        "Ana López",
        "--email",
        "",
        "--opt-in",
        "yes",
    ])
    .stderr("OAK-0007:5: changed name, email, opt_in (kept in the signer history)\n")
    .go();
    let all = signers(&home, &slug);
    assert_eq!(all[0].name, "Ana López");
    assert_eq!(all[0].email, None);
    assert!(all[0].opt_in);
    assert_eq!(all[0].postcode.as_deref(), Some("94612"));
    assert_eq!(all[1].name, "Li Na", "the others stay as they were");

    let history = home.json(["--json", "signer", "history", &slug]);
    let edits = history.as_array().unwrap();
    assert_eq!(edits.len(), 3);
    assert_eq!(edits[0]["field"], "name");
    assert_eq!(edits[0]["old_value"], "Ana Lopez");
    assert_eq!(edits[0]["new_value"], "Ana López");
    assert_eq!(edits[0]["sheet_id"], "OAK-0007");
    assert_eq!(edits[0]["line"], 5);
    assert_eq!(edits[0]["edited_by"], "ana@example.org");
    assert_eq!(edits[1]["new_value"], serde_json::Value::Null);
    let table = home.ok(["signer", "history", &slug]);
    assert!(table.contains("OAK-0007:5"), "{table}");
    assert!(table.contains("name: Ana Lopez → Ana López"), "{table}");

    // Again with the same values: nothing changes, nothing is recorded.
    home.run(["signer", "edit", &slug, "OAK-0007:5", "--name", "Ana López"])
        .stderr("OAK-0007:5: nothing changed\n")
        .go();
    assert_eq!(
        home.json(["--json", "signer", "history", &slug])
            .as_array()
            .unwrap()
            .len(),
        3
    );
}

#[test]
fn an_online_signer_is_edited_by_id_and_a_taken_email_is_refused() {
    let home = Home::new();
    let slug = campaign_with_signers(&home);
    let rosa = signers(&home, &slug)[2].id.to_string();
    home.run(["signer", "edit", &slug, &rosa, "--postcode", "94607"])
        .stderr(format!(
            "signer {rosa}: changed postcode (kept in the signer history)\n"
        ))
        .go();
    assert_eq!(signers(&home, &slug)[2].postcode.as_deref(), Some("94607"));
    // Li Na's email is taken: refused, nothing changed.
    let ran = home
        .run([
            "signer",
            "edit",
            &slug,
            &format!("#{rosa}"),
            "--email",
            "LI@example.org",
        ])
        .status(1)
        .stderr_contains("another signer of this campaign already has this email")
        .go();
    assert!(ran.stdout.is_empty());
    assert_eq!(
        signers(&home, &slug)[2].email.as_deref(),
        Some("rosa@example.org")
    );
}

#[test]
fn a_signer_that_is_not_there_or_a_reference_that_names_none_is_said_clearly() {
    let home = Home::new();
    let slug = campaign_with_signers(&home);
    home.run(["signer", "edit", &slug, "OAK-0007:9", "--name", "X"])
        .status(1)
        .stderr_contains("no signer at OAK-0007:9 in this campaign")
        .go();
    home.run(["signer", "remove", &slug, "OAK-0007", "--yes"])
        .status(2)
        .stderr_contains(
            "\"OAK-0007\" names no signer: give the sheet and line as printed, like OAK-0007:5",
        )
        .go();
    // Without a terminal, an edit with no field names the flags.
    home.run(["signer", "edit", &slug, "OAK-0007:5"])
        .status(2)
        .stderr_contains("--name, --email, --postcode, --phone, --opt-in or --private")
        .go();
    // A removal that would leave no email nor postcode is refused like a typed row.
    home.run([
        "signer",
        "edit",
        &slug,
        "OAK-0007:5",
        "--email",
        "",
        "--postcode",
        "",
    ])
    .status(1)
    .stderr_contains("a signer needs an email or a ZIP/postcode")
    .go();
    assert_eq!(
        signers(&home, &slug)[0].email.as_deref(),
        Some("ana@example.org")
    );
}

#[test]
fn remove_needs_yes_without_a_terminal_and_the_history_keeps_no_data() {
    let home = Home::new();
    let slug = campaign_with_signers(&home);
    home.run(["signer", "remove", &slug, "OAK-0007:6"])
        .status(1)
        .stderr_contains("Remove Li Na <li@example.org>, 94601 (sheet OAK-0007 line 6) from oakland-sanctuary? Pass --yes to confirm.")
        .go();
    assert_eq!(signers(&home, &slug).len(), 3);
    home.run(["signer", "remove", &slug, "OAK-0007:6", "--yes"])
        .stderr(
            "OAK-0007:6: removed (the signer history records the removal, not the signer's data)\n",
        )
        .go();
    let names: Vec<_> = signers(&home, &slug).into_iter().map(|s| s.name).collect();
    assert_eq!(names, ["Ana Lopez", "Rosa Martínez"]);
    let history = home.ok(["--json", "signer", "history", &slug]);
    assert!(history.contains("\"remove\""), "{history}");
    assert!(
        !history.contains("Li Na") && !history.contains("li@example.org"),
        "{history}"
    );
    // Gone: a second removal finds nobody there.
    home.run(["signer", "remove", &slug, "OAK-0007:6", "--yes"])
        .status(1)
        .stderr_contains("no signer at OAK-0007:6")
        .go();
}

#[test]
fn remove_asks_on_a_terminal() {
    let home = Home::new();
    let slug = campaign_with_signers(&home);
    for (key, left) in [("n", 3), ("y", 2)] {
        let mut cmd = home.std_cmd();
        cmd.env("TERM", "dumb")
            .args(["signer", "remove", &slug, "OAK-0007:5"]);
        let mut p = Session::spawn(cmd).expect("spawn in a pty");
        p.set_expect_timeout(Some(Duration::from_secs(20)));
        p.expect("Remove Ana Lopez <ana@example.org>, 94612 (sheet OAK-0007 line 5) from oakland-sanctuary?")
            .unwrap();
        p.send(key).unwrap();
        p.expect(Eof).unwrap();
        assert_eq!(signers(&home, &slug).len(), left, "after {key}");
    }
}
