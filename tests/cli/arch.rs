//! The seams of the architecture issue, seen from the command line: a database URL is a
//! PostgreSQL server (never a file named after it), a malformed one is a usage error that
//! never quotes it, and a server that is not there is named with its password masked.
//! (Runs in both crates: nothing here needs the home's database.)

use crate::common::Home;

#[test]
fn a_malformed_postgres_url_is_a_usage_error_that_never_shows_its_password_or_creates_a_file() {
    let home = Home::new();
    for url in [
        "postgres://ana:hunter2@db.example.org/campaigns?sslmod=require",
        "postgresql://ana:hunter2@db.example.org:notaport/campaigns",
        "postgres://ana:hunter2@db.example.org/campaigns?sslmode=sometimes",
    ] {
        let ran = home
            .run(["--db", url, "list"])
            .current_dir(home.path())
            .status(2)
            .stderr_contains("the database URL is not usable")
            .go();
        assert!(ran.stdout.is_empty(), "{}", ran.stdout);
        assert!(!ran.stderr.contains("hunter2"), "{}", ran.stderr);
    }
    // Not a file named after the URL, nor a folder `postgres:`, nor the default database.
    let left: Vec<_> = std::fs::read_dir(home.path()).unwrap().collect();
    assert!(left.is_empty(), "{left:?}");
}

#[test]
fn a_server_that_is_not_there_is_named_masked_for_every_command_that_opens_it() {
    let home = Home::new();
    home.account();
    // A loopback port nothing listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("postgres://ana:hunter2@127.0.0.1:{port}/campaigns?connect_timeout=5");
    for args in [
        vec!["list"],
        vec!["show", "x"],
        vec!["enter-signatures", "x", "--from", "-"],
        vec!["deliver", "--all"],
    ] {
        let ran = home
            .run(&args)
            .current_dir(home.path())
            .env("CAMPAIGN_DB", &url)
            .stdin("name,email\nAna,ana@example.org\n")
            .status(1)
            .go();
        let line = ran.error_line();
        assert!(
            line.contains(&format!("postgres://ana:***@127.0.0.1:{port}/campaigns"))
                && line.contains("nothing answers at"),
            "{args:?}: {line}"
        );
        assert!(!ran.stderr.contains("hunter2"), "{}", ran.stderr);
    }
    assert!(!home.db().exists());
}
