//! Completions and man pages are generated from the clap definition and committed; these
//! tests fail when they are stale. Regenerate with:
//! `CAMPAIGN_REGENERATE=1 cargo test --test cli completions`

use std::path::{Path, PathBuf};

use crate::common::Home;

const SHELLS: [(&str, &str); 5] = [
    ("bash", "campaign.bash"),
    ("zsh", "_campaign"),
    ("fish", "campaign.fish"),
    ("elvish", "campaign.elv"),
    ("powershell", "_campaign.ps1"),
];

fn repo(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

fn regenerate() -> bool {
    std::env::var_os("CAMPAIGN_REGENERATE").is_some()
}

fn check_fresh(committed: &Path, generated: &[u8]) {
    if regenerate() {
        std::fs::create_dir_all(committed.parent().unwrap()).unwrap();
        std::fs::write(committed, generated).unwrap();
        return;
    }
    let on_disk = std::fs::read(committed).unwrap_or_default();
    assert!(
        on_disk == generated,
        "{} is stale: run `CAMPAIGN_REGENERATE=1 cargo test --test cli completions` and commit",
        committed.display()
    );
}

#[test]
fn completions_are_fresh() {
    let home = Home::new();
    for (shell, file) in SHELLS {
        let out = home.cmd(["completions", shell]).output().unwrap();
        assert!(out.status.success());
        assert!(String::from_utf8_lossy(&out.stdout).contains("enter-signatures"));
        check_fresh(&repo("completions").join(file), &out.stdout);
    }
}

#[test]
fn man_pages_are_fresh_one_per_subcommand() {
    let home = Home::new();
    let dir = home.path().join("man");
    home.ok(["man", "--dir", dir.to_str().unwrap()]);
    let mut generated: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    generated.sort();
    for page in &generated {
        check_fresh(
            &repo("man").join(page.file_name().unwrap()),
            &std::fs::read(page).unwrap(),
        );
    }
    let names: Vec<String> = generated
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    for sub in [
        "new",
        "review",
        "share",
        "admins",
        "paper-form",
        "enter-signatures",
        "deliver",
        "list",
        "edit",
    ] {
        assert!(
            names.contains(&format!("campaign-{sub}.1")),
            "no man page for {sub}: {names:?}"
        );
    }
    if !regenerate() {
        let committed = std::fs::read_dir(repo("man")).unwrap().count();
        assert_eq!(
            committed,
            generated.len(),
            "man/ holds pages for commands that no longer exist"
        );
    }
}

#[test]
fn the_example_script_runs() {
    let home = Home::new();
    let script = repo("examples/oakland-campaign.sh");
    let out = std::process::Command::new("bash")
        .arg(&script)
        .envs(home.db_envs())
        .env("CAMPAIGN_HOME", home.path())
        .env("CAMPAIGN", assert_cmd::cargo::cargo_bin("campaign"))
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "example failed:\nstdout: {}\nstderr: {}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let list = home.json(["list", "--json"]);
    assert_eq!(list[0]["status"], "live", "{list}");
    assert_eq!(list[0]["signatures"]["total"], 7, "{list}");
    assert_eq!(list[0]["signatures"]["private"], 1, "{list}");
    let slug = list[0]["slug"].as_str().unwrap();
    let shown = home.json(["show", slug, "--json"]);
    assert_eq!(shown["deliveries"].as_array().unwrap().len(), 1, "{shown}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("Zoë Ó Súilleabháin") && !stdout.contains("Анна Иванова"),
        "the opt-in export: {stdout}"
    );
}
