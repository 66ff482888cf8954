//! What only PostgreSQL has: many volunteers writing into one campaign at once, sheet
//! ids two organizers can never share, passwords from the URL, PGPASSWORD or ~/.pgpass
//! (never printed), TLS modes, and a newer schema refused untouched. These need the
//! run's cluster: in the `cli` (SQLite) crate they return at once.

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::Duration;

use expectrl::{Eof, Expect, Session};

use crate::common::{cluster, Home};

/// The cluster, or `None` (and the test returns) on the SQLite run.
fn pg() -> Option<&'static crate::pg_cluster::Cluster> {
    cluster().map(|(c, _)| c)
}

fn command(home: &Home, args: &[&str]) -> Command {
    let mut cmd = home.std_cmd();
    cmd.args(args);
    cmd
}

/// `count` signers `first..first+count`, as CSV lines (no header).
fn rows(first: usize, count: usize) -> String {
    (first..first + count)
        .map(|i| format!("\"Signer {i} Nguyễn\",s{i}@example.org,94612\n"))
        .collect()
}

/// One volunteer typing `names` (new signers) then `dup` (an email someone else
/// imported) on sheet `sheet`, in a terminal; returns what the session printed.
fn type_rows(home: &Home, slug: &str, sheet: &str, names: &[(String, String)], dup: &str) {
    let mut cmd = command(home, &["enter-signatures", slug, "--sheet", sheet]);
    cmd.env("TERM", "dumb");
    let mut p = Session::spawn(cmd).expect("spawn in a pty");
    p.set_expect_timeout(Some(Duration::from_secs(60)));
    for (line, (name, email)) in names.iter().enumerate() {
        // The line numbers itself and is shown in the name prompt; y/n take one key.
        p.expect(format!("line {} · ", line + 1).as_str()).unwrap();
        p.expect("] Name: ").unwrap();
        p.send(format!("{name}\r")).unwrap();
        p.expect("Email: ").unwrap();
        p.send(format!("{email}\r")).unwrap();
        // From the second row the ZIP carries over: `ZIP/postcode [94612]: `.
        p.expect("ZIP/postcode").unwrap();
        p.send("94612\r").unwrap();
        p.expect("Phone: ").unwrap();
        p.send("\r").unwrap();
        p.expect("mailing list? (y/N): ").unwrap();
        p.send("\r").unwrap();
        p.expect("show my name? (y/N): ").unwrap();
        p.send("\r").unwrap();
        p.expect("saved").unwrap();
    }
    // A signer already imported by another volunteer a moment ago: caught by the key,
    // shown as the earlier entry.
    p.expect(format!("line {} · ", names.len() + 1).as_str())
        .unwrap();
    p.expect("] Name: ").unwrap();
    p.send("Someone Else\r").unwrap();
    p.expect("Email: ").unwrap();
    p.send(format!("{dup}\r")).unwrap();
    p.expect(format!("already signed: Signer 0 Nguyễn <{dup}>").as_str())
        .unwrap();
    p.expect("[s]: ").unwrap();
    p.send("s").unwrap();
    // The skipped line is consumed.
    p.expect(format!("line {} · ", names.len() + 2).as_str())
        .unwrap();
    p.expect("] Name: ").unwrap();
    p.send(".\r").unwrap();
    p.expect(format!("added {}, skipped 1, corrected 0", names.len()).as_str())
        .unwrap();
    p.expect(Eof).unwrap();
}

#[test]
fn eight_imports_and_two_typists_at_once_give_exact_counts_and_consistent_lines() {
    if pg().is_none() {
        return;
    }
    let home = Home::new();
    let slug = home.live_campaign("Oakland Sanctuary");
    let forms = home.path().join("forms.pdf");
    home.ok([
        "paper-form",
        &slug,
        "--sheets",
        "2",
        "--out",
        forms.to_str().unwrap(),
    ]);
    // Signer 0 is imported first, so both typists meet it as a duplicate.
    let first = home.path().join("first.csv");
    std::fs::write(&first, format!("name,email,postcode\n{}", rows(0, 1))).unwrap();
    home.ok(["enter-signatures", &slug, "--from", first.to_str().unwrap()]);

    // Eight files of 500 rows: 100 (20%) shared by all eight, 400 each of their own.
    const SHARED: usize = 100;
    const OWN: usize = 400;
    let files: Vec<_> = (0..8)
        .map(|k| {
            let path = home.path().join(format!("volunteer{k}.csv"));
            let text = format!(
                "name,email,postcode\n{}{}",
                rows(1, SHARED),
                rows(1000 + k * OWN, OWN)
            );
            std::fs::write(&path, text).unwrap();
            path
        })
        .collect();
    let typed = |who: usize| -> Vec<(String, String)> {
        (0..5)
            .map(|i| {
                (
                    format!("Typist{who} Row{i} አበበ"),
                    format!("t{who}.{i}@example.org"),
                )
            })
            .collect()
    };
    std::thread::scope(|s| {
        let imports: Vec<_> = files
            .iter()
            .map(|f| {
                let cmd = command(
                    &home,
                    &[
                        "--json",
                        "enter-signatures",
                        &slug,
                        "--from",
                        f.to_str().unwrap(),
                    ],
                );
                s.spawn(move || {
                    let mut cmd = cmd;
                    cmd.output().unwrap()
                })
            })
            .collect();
        let typists: Vec<_> = [("OAK-0001", 0), ("OAK-0002", 1)]
            .into_iter()
            .map(|(sheet, who)| {
                let names = typed(who);
                let (home, slug) = (&home, &slug);
                s.spawn(move || type_rows(home, slug, sheet, &names, "s0@example.org"))
            })
            .collect();
        let (mut added, mut duplicates) = (0, 0);
        for import in imports {
            let out = import.join().unwrap();
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert!(out.status.success(), "{stderr}");
            assert!(!stderr.contains("error"), "{stderr}");
            let counts: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
            assert_eq!(counts["read"], 500, "{counts}");
            assert_eq!(counts["rejected"], 0, "{counts}");
            added += counts["added"].as_i64().unwrap();
            duplicates += counts["duplicates"].as_i64().unwrap();
        }
        for typist in typists {
            typist.join().unwrap();
        }
        // Each shared row added once, by whichever import got there first.
        assert_eq!(added, (SHARED + 8 * OWN) as i64);
        assert_eq!(duplicates, (7 * SHARED) as i64);
    });
    let total = 1 + SHARED + 8 * OWN + 10;
    let shown = home.json(["show", &slug, "--json"]);
    assert_eq!(shown["signatures"]["total"], total as i64, "{shown}");
    let listed = home.json(["list", "--json"]);
    assert_eq!(listed[0]["signatures"]["total"], total as i64, "{listed}");

    // Every signer once; each typist's rows on their sheet, lines 1..5 in order.
    let export = home.ok(["export", &slug, "--format", "jsonl"]);
    let signers: Vec<serde_json::Value> = export
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(signers.len(), total);
    let mut emails: Vec<&str> = signers
        .iter()
        .map(|s| s["email"].as_str().unwrap())
        .collect();
    emails.sort_unstable();
    emails.dedup();
    assert_eq!(emails.len(), total, "one row per signer");
    for (sheet, who) in [("OAK-0001", 0), ("OAK-0002", 1)] {
        let on_sheet: Vec<(i64, &str)> = signers
            .iter()
            .filter(|s| s["sheet"] == sheet)
            .map(|s| (s["line"].as_i64().unwrap(), s["name"].as_str().unwrap()))
            .collect();
        let expected: Vec<(i64, String)> = typed(who)
            .into_iter()
            .enumerate()
            .map(|(i, (name, _))| (i as i64 + 1, name))
            .collect();
        let expected: Vec<(i64, &str)> = expected.iter().map(|(l, n)| (*l, n.as_str())).collect();
        assert_eq!(on_sheet, expected, "{sheet}");
    }
}

#[test]
fn two_organizers_printing_at_once_never_share_a_sheet_id() {
    if pg().is_none() {
        return;
    }
    let home = Home::new();
    let slug = home.live_campaign("Oakland Sanctuary");
    let outs: Vec<_> = std::thread::scope(|s| {
        let runs: Vec<_> = (0..4)
            .map(|k| {
                let out = format!("forms{k}.pdf");
                let mut cmd = command(
                    &home,
                    &[
                        "--json",
                        "paper-form",
                        &slug,
                        "--sheets",
                        "5",
                        "--out",
                        &out,
                    ],
                );
                cmd.current_dir(home.path());
                s.spawn(move || cmd.output().unwrap())
            })
            .collect();
        runs.into_iter().map(|r| r.join().unwrap()).collect()
    });
    for out in &outs {
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let store = home.store();
    let id = store.find_campaign(&slug).unwrap().id;
    let mut ids: Vec<String> = store
        .sheets(id)
        .unwrap()
        .into_iter()
        .map(|s| s.sheet_id)
        .collect();
    assert_eq!(ids.len(), 20);
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 20, "a sheet id was given twice: {ids:?}");
    let expected: Vec<String> = (1..=20).map(|n| format!("OAK-{n:04}")).collect();
    assert_eq!(ids, expected, "no gaps without a failure");
}

#[test]
fn a_password_comes_from_the_url_pgpassword_or_pgpass_and_is_never_printed() {
    let Some(cluster) = pg() else { return };
    let home = Home::new();
    let db = home.pg_db.clone().unwrap();
    let role = format!("ana_{}", std::process::id());
    cluster
        .sql(&format!(
            "DO $$ BEGIN CREATE ROLE {role} LOGIN PASSWORD 'Hunter2-s3cret'; EXCEPTION WHEN duplicate_object THEN NULL; END $$; \
             GRANT ALL ON DATABASE {db} TO {role}"
        ))
        .unwrap();
    cluster
        .client(&db)
        .batch_execute(&format!(
            "GRANT USAGE ON SCHEMA campaign TO {role}; \
             GRANT ALL ON ALL TABLES IN SCHEMA campaign TO {role}; \
             GRANT ALL ON ALL SEQUENCES IN SCHEMA campaign TO {role}"
        ))
        .unwrap();
    let port = cluster.port;
    let at = format!("127.0.0.1:{port}/{db}");
    let list = |url: &str, envs: &[(&str, &str)]| {
        let mut cmd = command(&home, &["list"]);
        cmd.env("CAMPAIGN_DB", url);
        for (k, v) in envs {
            cmd.env(k, v);
        }
        let out = cmd.output().unwrap();
        let ran = crate::common::Ran::from_output(&out);
        assert!(!ran.stderr.contains("s3cret"), "{}", ran.stderr);
        assert!(!ran.stdout.contains("s3cret"), "{}", ran.stdout);
        ran
    };
    // In the URL.
    let ok = list(&format!("postgres://{role}:Hunter2-s3cret@{at}"), &[]);
    assert_eq!(ok.status, 0, "{}", ok.stderr);
    // A wrong one: refused, the URL shown masked.
    let bad = list(&format!("postgres://{role}:wrong-s3cret@{at}"), &[]);
    assert_eq!(bad.status, 1);
    assert!(
        bad.error_line()
            .contains(&format!("postgres://{role}:***@{at}"))
            && bad.error_line().contains("refused the password"),
        "{}",
        bad.stderr
    );
    // None at all: says where one can come from.
    let none = list(&format!("postgres://{role}@{at}"), &[]);
    assert_eq!(none.status, 1);
    assert!(none.error_line().contains("PGPASSWORD"), "{}", none.stderr);
    // PGPASSWORD.
    let env = list(
        &format!("postgres://{role}@{at}"),
        &[("PGPASSWORD", "Hunter2-s3cret")],
    );
    assert_eq!(env.status, 0, "{}", env.stderr);
    // ~/.pgpass, only when private (libpq's rule).
    let pgpass = home.path().join(".pgpass");
    std::fs::write(
        &pgpass,
        format!("127.0.0.1:{port}:*:{role}:Hunter2-s3cret\n"),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&pgpass, std::fs::Permissions::from_mode(0o644)).unwrap();
    let open = list(&format!("postgres://{role}@{at}"), &[]);
    assert_eq!(open.status, 1, "{}", open.stderr);
    assert!(open.stderr.contains(".pgpass"), "{}", open.stderr);
    std::fs::set_permissions(&pgpass, std::fs::Permissions::from_mode(0o600)).unwrap();
    let file = list(&format!("postgres://{role}@{at}"), &[]);
    assert_eq!(file.status, 0, "{}", file.stderr);
}

#[test]
fn tls_modes_mean_what_postgresql_says() {
    let Some(cluster) = pg() else { return };
    let home = Home::new();
    let db = home.pg_db.clone().unwrap();
    let port = cluster.port;
    let ca = cluster.ca_file.display().to_string();
    let user = crate::pg_cluster::SUPERUSER;
    let list = |url: String| {
        let mut cmd = command(&home, &["list"]);
        cmd.env("CAMPAIGN_DB", &url);
        (url, crate::common::Ran::from_output(&cmd.output().unwrap()))
    };
    for url in [
        format!("postgres://{user}@127.0.0.1:{port}/{db}?sslmode=require"),
        format!("postgres://{user}@127.0.0.1:{port}/{db}?sslmode=verify-ca&sslrootcert={ca}"),
        format!("postgres://{user}@localhost:{port}/{db}?sslmode=verify-full&sslrootcert={ca}"),
        format!("postgres://{user}@127.0.0.1:{port}/{db}?sslmode=disable"),
    ] {
        let (url, ran) = list(url);
        assert_eq!(ran.status, 0, "{url}: {}", ran.stderr);
    }
    // verify-full checks the name: the certificate is for localhost, not 127.0.0.1.
    let (url, ran) = list(format!(
        "postgres://{user}@127.0.0.1:{port}/{db}?sslmode=verify-full&sslrootcert={ca}"
    ));
    assert_eq!(ran.status, 1, "{url}: {}", ran.stderr);
    // verify-ca checks the signer: the system's roots did not sign the test CA.
    let (url, ran) = list(format!(
        "postgres://{user}@127.0.0.1:{port}/{db}?sslmode=verify-ca"
    ));
    assert_eq!(ran.status, 1, "{url}: {}", ran.stderr);
}

#[test]
fn a_newer_schema_is_refused_untouched() {
    let Some(cluster) = pg() else { return };
    let home = Home::new();
    let slug = home.live_campaign("Oakland Sanctuary");
    let db = home.pg_db.clone().unwrap();
    let latest = campaign::store::postgres::migrations::LATEST;
    cluster
        .client(&db)
        .execute(
            "UPDATE campaign.schema_version SET version = $1",
            &[&i32::try_from(latest + 1).unwrap()],
        )
        .unwrap();
    for args in [
        vec!["list"],
        vec!["show", slug.as_str()],
        vec!["enter-signatures", &slug, "--from", "-"],
    ] {
        let mut cmd = command(&home, &args);
        cmd.stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().unwrap();
        let _ = child
            .stdin
            .take()
            .unwrap()
            .write_all(b"name,email\nAna,ana@example.org\n");
        let out = child.wait_with_output().unwrap();
        let ran = crate::common::Ran::from_output(&out);
        assert_eq!(ran.status, 1, "{args:?}: {}", ran.stderr);
        assert!(ran.error_line().contains("newer version"), "{}", ran.stderr);
    }
    let mut client = cluster.client(&db);
    let version: i32 = client
        .query_one("SELECT version FROM campaign.schema_version", &[])
        .unwrap()
        .get(0);
    assert_eq!(i64::from(version), latest + 1);
    let signers: i64 = client
        .query_one("SELECT count(*) FROM campaign.signatures", &[])
        .unwrap()
        .get(0);
    assert_eq!(signers, 0, "nothing written");
}
