//! Test helpers: an isolated home per test and a builder for the real binary.

#![allow(dead_code)]

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use tempfile::TempDir;

/// A private CAMPAIGN_HOME that disappears with the test.
pub struct Home {
    pub dir: TempDir,
}

impl Home {
    pub fn new() -> Home {
        Home {
            dir: tempfile::tempdir().expect("temp dir"),
        }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn db(&self) -> PathBuf {
        self.path().join("campaigns.db")
    }

    /// `campaign ARGS...` with this home, no terminal and no inherited settings.
    pub fn cmd<I, S>(&self, args: I) -> Command
    where
        I: IntoIterator<Item = S>,
        S: AsRef<std::ffi::OsStr>,
    {
        let mut cmd = Command::cargo_bin("campaign").expect("binary");
        cmd.env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("CAMPAIGN_HOME", self.path())
            .env("NO_COLOR", "1")
            .env("HOME", self.path())
            .args(args);
        cmd
    }

    /// Runs a command that must succeed and returns its stdout.
    pub fn ok<I, S>(&self, args: I) -> String
    where
        I: IntoIterator<Item = S>,
        S: AsRef<std::ffi::OsStr>,
    {
        let out = self.cmd(args).output().expect("run");
        assert!(
            out.status.success(),
            "command failed ({}):\nstdout: {}\nstderr: {}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).expect("utf-8 stdout")
    }

    pub fn json<I, S>(&self, args: I) -> serde_json::Value
    where
        I: IntoIterator<Item = S>,
        S: AsRef<std::ffi::OsStr>,
    {
        let out = self.ok(args);
        serde_json::from_str(&out).unwrap_or_else(|e| panic!("not JSON ({e}): {out}"))
    }

    /// Sets up the organizer account Ana Reyes.
    pub fn account(&self) {
        self.ok([
            "account",
            "--name",
            "Ana Reyes",
            "--email",
            "ana@example.org",
            "--organization",
            "Oakland Sanctuary Coalition",
        ]);
    }

    /// An account and a live local campaign; returns its slug.
    pub fn live_campaign(&self, title: &str) -> String {
        self.account();
        let slug = self
            .ok([
                "new",
                "--title",
                title,
                "--target",
                "Mayor Barbara Lee and the Oakland City Council",
                "--ask",
                "Declare Oakland a sanctuary city for all immigrants.",
                "--why",
                "Our neighbors should live without fear of deportation.",
                "--location",
                "Oakland, CA",
                "--postcode",
                "94612",
                "--goal",
                "500",
                "--url",
                "https://example.org/oakland",
            ])
            .trim()
            .to_string();
        self.ok(["review", &slug, "--launch"]);
        slug
    }
}
