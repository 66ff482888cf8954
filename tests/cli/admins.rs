//! `campaign admins` and the access rules every command meets in `load_campaign`.

use std::path::Path;

use crate::common::Home;
use crate::share::parse_eml;

fn become_account(home: &Home, name: &str, email: &str) {
    home.ok(["account", "--name", name, "--email", email]);
}

fn status_of(home: &Home, slug: &str, email: &str) -> String {
    let json = home.json(["admins", slug, "--json"]);
    json["organizers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["email"] == email)
        .unwrap_or_else(|| panic!("{email} not listed: {json}"))["status"]
        .as_str()
        .unwrap()
        .to_string()
}

#[test]
fn invited_admin_becomes_active_and_strangers_are_refused() {
    let home = Home::new();
    let slug = home.live_campaign("Oakland, ciudad santuario");

    // The owner invites Luis: an invitation email, and Luis listed as invited.
    let stdout = home.ok(["admins", &slug, "--add", "luis@example.org"]);
    let eml = stdout
        .lines()
        .find(|l| l.ends_with(".eml"))
        .expect("the invitation's path");
    let mail = parse_eml(Path::new(eml));
    assert_eq!(
        mail.to().unwrap().first().unwrap().address(),
        Some("luis@example.org")
    );
    assert_eq!(
        mail.from().unwrap().first().unwrap().address(),
        Some("ana@example.org")
    );
    assert!(mail
        .subject()
        .unwrap()
        .contains("Oakland, ciudad santuario"));
    let body = mail.body_text(0).unwrap();
    assert!(
        body.contains("Ana Reyes (ana@example.org) invited you"),
        "{body}"
    );
    assert!(
        body.contains("campaign account --name \"Your Name\" --email luis@example.org"),
        "{body}"
    );
    assert!(body.contains(&format!("campaign show {slug}")), "{body}");
    assert!(body.contains("Get campaign from Ana Reyes"), "{body}");

    let json = home.json(["admins", &slug, "--json"]);
    assert_eq!(json["organizers"][0]["role"], "owner");
    assert_eq!(json["organizers"][0]["email"], "ana@example.org");
    assert_eq!(status_of(&home, &slug, "luis@example.org"), "invited");

    // Luis sets up his account with the invited address (any case) and uses the campaign.
    become_account(&home, "Luis Gómez", "Luis@Example.org");
    let out = home.cmd(["show", &slug]).output().unwrap();
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("active organizer"));
    assert_eq!(status_of(&home, &slug, "luis@example.org"), "active");
    home.ok(["edit", &slug, "--goal", "600"]);

    // Admins cannot remove the owner.
    let out = home
        .cmd(["admins", &slug, "--remove", "ANA@example.org"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot be removed"));

    // Someone else with the file can read but not manage.
    become_account(&home, "María", "maria@example.org");
    home.ok(["show", &slug]);
    for args in [
        vec!["edit", slug.as_str(), "--goal", "700"],
        vec!["offline", slug.as_str()],
        vec!["admins", slug.as_str(), "--add", "maria@example.org"],
        vec!["review", slug.as_str(), "--launch"],
        vec!["deliver", slug.as_str()],
        vec!["deliver", "--all"],
    ] {
        let out = home.cmd(&args).output().unwrap();
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains(&format!("only the organizers of {slug}"))
                && stderr.contains("maria@example.org")
                && stderr.contains("ana@example.org"),
            "{args:?}: {stderr}"
        );
    }
    assert_eq!(
        home.json(["show", &slug, "--json"])["campaign"]["goal"],
        600
    );

    // The owner removes Luis, who can no longer manage.
    become_account(&home, "Ana Reyes", "ana@example.org");
    home.ok(["admins", &slug, "--remove", "luis@example.org"]);
    become_account(&home, "Luis Gómez", "luis@example.org");
    let out = home.cmd(["edit", &slug, "--goal", "800"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn adding_checks_addresses_and_does_not_invite_twice() {
    let home = Home::new();
    let slug = home.live_campaign("Oakland");
    let out = home
        .cmd([
            "admins",
            &slug,
            "--add",
            "luis@example.org",
            "--add",
            "nope",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--add \"nope\""));
    // Nothing was recorded.
    assert_eq!(
        home.json(["admins", &slug, "--json"])["organizers"]
            .as_array()
            .unwrap()
            .len(),
        1
    );

    home.ok(["admins", &slug, "--add", "luis@example.org"]);
    let out = home
        .cmd(["admins", &slug, "--add", "luis@example.org", "--json"])
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("already an admin"));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(json["invitations"].as_array().unwrap().is_empty());
}

#[test]
fn removing_an_invited_admin_drops_the_waiting_invitation() {
    let home = Home::new();
    let slug = home.live_campaign("Oakland, ciudad santuario");
    home.ok([
        "admins",
        &slug,
        "--add",
        "luis@example.org",
        "--add",
        "rosa@example.org",
    ]);
    assert_eq!(home.json(["outbox", "--json"]).as_array().unwrap().len(), 2);
    let out = home
        .cmd(["admins", &slug, "--remove", "LUIS@example.org"])
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("invitation waiting in the outbox"));
    let waiting = home.json(["outbox", "--json"]);
    let waiting = waiting.as_array().unwrap();
    assert_eq!(waiting.len(), 1, "{waiting:?}");
    assert_eq!(waiting[0]["to"], "rosa@example.org");
    let leftovers: Vec<_> = std::fs::read_dir(home.path().join("outbox"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.contains("luis"))
        .collect();
    assert!(
        leftovers.is_empty(),
        "files of the dropped invitation remain: {leftovers:?}"
    );
}
