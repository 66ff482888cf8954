//! `campaign outbox`: listing waiting emails and sending them through a real SMTP server
//! on loopback.

use crate::common::Home;
use crate::smtp::{dead_server, smtp_server};

fn queue_three(home: &Home) -> String {
    let slug = home.live_campaign("Oakland, ciudad santuario");
    home.ok(["share", &slug, "--invite", "a@x.org", "--invite", "b@y.org"]);
    home.ok(["admins", &slug, "--add", "luis@example.org"]);
    slug
}

fn count_files(dir: &std::path::Path, ext: &str) -> usize {
    std::fs::read_dir(dir)
        .map(|d| {
            d.filter(|e| {
                e.as_ref()
                    .unwrap()
                    .path()
                    .extension()
                    .is_some_and(|x| x == ext)
            })
            .count()
        })
        .unwrap_or(0)
}

#[test]
fn outbox_lists_and_sends_every_waiting_message() {
    let home = Home::new();
    let slug = queue_three(&home);
    let listed = home.json(["outbox", "--json"]);
    let listed = listed.as_array().unwrap();
    assert_eq!(listed.len(), 3);
    for item in listed {
        assert_eq!(item["campaign"], slug.as_str());
        assert!(item["subject"].as_str().unwrap().contains("Oakland"));
        assert!(item["queued_at"].as_str().unwrap().ends_with('Z'));
        assert!(item["failure"].is_null());
    }

    let (url, received) = smtp_server();
    let out = home
        .cmd(["outbox", "--send"])
        .env("CAMPAIGN_SMTP_URL", &url)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout).lines().count(), 3);

    assert!(home
        .json(["outbox", "--json"])
        .as_array()
        .unwrap()
        .is_empty());
    assert_eq!(count_files(&home.path().join("outbox"), "eml"), 0);
    assert_eq!(count_files(&home.path().join("sent"), "eml"), 3);

    let received = received.lock().unwrap().clone();
    let mut to: Vec<String> = received.iter().flat_map(|r| r.to.clone()).collect();
    to.sort();
    assert_eq!(to, ["a@x.org", "b@y.org", "luis@example.org"]);
    for r in &received {
        let mail = mail_parser::MessageParser::default()
            .parse(&r.data[..])
            .expect("a parsable email");
        assert_eq!(
            mail.from().unwrap().first().unwrap().address(),
            Some("ana@example.org")
        );
        assert!(mail
            .subject()
            .unwrap()
            .contains("Oakland, ciudad santuario"));
    }
}

#[test]
fn failed_sends_stay_in_the_outbox_with_their_reasons() {
    let home = Home::new();
    queue_three(&home);
    let out = home
        .cmd(["outbox", "--send"])
        .env("CAMPAIGN_SMTP_URL", dead_server())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("3 of 3 emails could not be sent"),
        "{stderr}"
    );

    let outbox = home.path().join("outbox");
    assert_eq!(count_files(&outbox, "eml"), 3);
    assert_eq!(count_files(&outbox, "reason"), 3);
    assert_eq!(count_files(&home.path().join("sent"), "eml"), 0);
    let listed = home.json(["outbox", "--json"]);
    for item in listed.as_array().unwrap() {
        assert!(!item["failure"].as_str().unwrap().is_empty(), "{item}");
    }

    // Once the server is up, the same messages go and the reasons disappear.
    let (url, received) = smtp_server();
    home.cmd(["outbox", "--send"])
        .env("CAMPAIGN_SMTP_URL", &url)
        .assert()
        .success();
    assert_eq!(received.lock().unwrap().len(), 3);
    assert_eq!(count_files(&outbox, "eml"), 0);
    assert_eq!(count_files(&outbox, "reason"), 0);
}

#[test]
fn sending_without_a_server_setting_names_the_flag() {
    let home = Home::new();
    queue_three(&home);
    let out = home.cmd(["outbox", "--send"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--smtp-url"));
    assert_eq!(count_files(&home.path().join("outbox"), "eml"), 3);
}
