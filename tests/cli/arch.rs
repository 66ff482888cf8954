//! The seams of the architecture issue, seen from the command line: a database URL
//! for a backend that does not exist yet is refused clearly (the next backend plugs in
//! behind `store::open`), and nothing is created for it.

use crate::common::Home;

#[test]
fn a_postgres_url_in_db_is_refused_as_not_supported_yet_and_creates_nothing() {
    let home = Home::new();
    for url in [
        "postgres://campaign@db.example.org/campaigns",
        "postgresql://db.example.org/campaigns",
    ] {
        let ran = home
            .run(["--db", url, "list"])
            .current_dir(home.path())
            .status(2)
            .stderr_contains("PostgreSQL is not supported yet")
            .go();
        assert!(ran.stdout.is_empty(), "{}", ran.stdout);
        assert!(ran.error_line().contains("--db"), "{}", ran.stderr);
    }
    // Not a file named after the URL, nor a folder `postgres:`, nor the default database.
    let left: Vec<_> = std::fs::read_dir(home.path()).unwrap().collect();
    assert!(left.is_empty(), "{left:?}");
}

#[test]
fn a_postgres_url_in_campaign_db_is_refused_for_every_command_that_opens_it() {
    let home = Home::new();
    home.account();
    for args in [
        vec!["list"],
        vec!["show", "x"],
        vec!["enter-signatures", "x", "--from", "-"],
        vec!["deliver", "--all"],
    ] {
        home.run(&args)
            .current_dir(home.path())
            .env("CAMPAIGN_DB", "postgres://localhost/campaigns")
            .stdin("name,email\nAna,ana@example.org\n")
            .status(2)
            .stderr_contains("error: PostgreSQL is not supported yet")
            .go();
    }
    assert!(!home.db().exists());
}
