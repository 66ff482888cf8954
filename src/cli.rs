//! The command line, defined once: parsing, `--help`, completions and man pages all come
//! from here. The top: the global flags, and the subcommands (`commands::Command`, beside
//! the `dispatch` that runs them). Nothing below `commands` sees these types.

use std::path::PathBuf;

use clap::{Args, Parser};

pub use crate::commands::Command;
use crate::context::Settings;

/// Run grassroots petition campaigns from a terminal.
///
/// Start a petition, review it, share it, print paper forms, type in paper signatures and
/// deliver the petition to the person who can say yes. Everything lives in one private
/// SQLite file on this machine, or in a PostgreSQL database a team shares (--db).
#[derive(Debug, Parser)]
#[command(
    name = "campaign",
    version,
    propagate_version = true,
    max_term_width = 100
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,

    #[command(subcommand)]
    pub command: Command,
}

/// Flags every subcommand takes, listed under their own heading in every `--help`.
#[derive(Debug, Clone, Default, Args)]
#[command(next_help_heading = "Global options")]
pub struct GlobalArgs {
    /// Database: a file, or a PostgreSQL URL shared by a team
    /// (postgres://USER@HOST:5432/DB?sslmode=verify-full; the password from PGPASSWORD or
    /// ~/.pgpass rather than typed here) [default: campaigns.db under $CAMPAIGN_HOME, or
    /// the platform data folder]
    // The value is never shown in --help: $CAMPAIGN_DB may hold a password.
    #[arg(
        long,
        global = true,
        value_name = "PATH|URL",
        env = "CAMPAIGN_DB",
        hide_env_values = true
    )]
    pub db: Option<PathBuf>,

    /// Print machine-readable JSON on stdout instead of tables and text
    #[arg(long, global = true)]
    pub json: bool,

    /// Never prompt: a missing value is an error naming the flag to pass
    #[arg(long, global = true)]
    pub no_input: bool,

    /// Answer yes to confirmations (editing a petition people already signed, ...)
    #[arg(long, short = 'y', global = true)]
    pub yes: bool,

    /// Print less on stderr: no status lines or progress bars (errors still show)
    #[arg(long, short = 'q', global = true)]
    pub quiet: bool,

    /// Read the passphrase of an encrypted database from this open file descriptor (e.g.
    /// `--passphrase-fd 3 3< file`; the first line)
    #[arg(long, global = true, value_name = "FD")]
    pub passphrase_fd: Option<i32>,

    /// Read the passphrase of an encrypted database from this file (the first line; it
    /// must be private: chmod 600)
    #[arg(
        long,
        global = true,
        value_name = "FILE",
        env = "CAMPAIGN_PASSPHRASE_FILE"
    )]
    pub passphrase_file: Option<PathBuf>,
}

impl GlobalArgs {
    /// The flags as plain settings for the command's context.
    pub fn settings(&self) -> Settings {
        Settings {
            db: self.db.clone(),
            json: self.json,
            quiet: self.quiet,
            no_input: self.no_input,
            yes: self.yes,
            passphrase_fd: self.passphrase_fd,
            passphrase_file: self.passphrase_file.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use clap::CommandFactory;

    use super::Cli;
    use crate::commands;

    /// Flags naming a file the command reads: listed in [`commands::inputs`].
    const INPUTS: [(&str, &str); 4] = [
        ("enter-signatures", "from"),
        ("passphrase", "new_passphrase_file"),
        ("review", "picture"),
        ("share", "invite_file"),
    ];
    /// Flags naming where the command writes: every one goes through `Ctx::files`
    /// (man pages and completion folders are for packagers and hold no signer).
    const OUTPUTS: [(&str, &str); 7] = [
        ("export", "out"),
        ("share", "card"),
        ("deliver", "out"),
        ("paper-form", "out"),
        ("enter-signatures", "rejects"),
        ("man", "dir"),
        ("completions", "dir"),
    ];

    #[test]
    fn every_file_flag_is_an_input_or_an_output() {
        let cli = Cli::command();
        let mut found = Vec::new();
        for sub in cli.get_subcommands() {
            for arg in sub.get_arguments() {
                if arg.get_value_parser().type_id() == std::any::TypeId::of::<PathBuf>() {
                    found.push((sub.get_name().to_string(), arg.get_id().to_string()));
                }
            }
        }
        for (sub, arg) in &found {
            assert!(
                INPUTS.contains(&(sub, arg)) || OUTPUTS.contains(&(sub, arg)),
                "`{sub} --{arg}` names a file: add it to INPUTS (and `inputs`) or OUTPUTS"
            );
        }
        for known in INPUTS.iter().chain(&OUTPUTS) {
            assert!(
                found
                    .iter()
                    .any(|(s, a)| (s.as_str(), a.as_str()) == *known),
                "{known:?} is no longer a file flag"
            );
        }
    }

    #[test]
    fn inputs_are_protected() {
        use clap::Parser;
        for (args, what) in [
            (
                vec!["campaign", "enter-signatures", "x", "--from", "in.csv"],
                "--from",
            ),
            (
                vec!["campaign", "review", "x", "--picture", "p.png"],
                "--picture",
            ),
            (
                vec!["campaign", "share", "x", "--invite-file", "c.csv"],
                "--invite-file",
            ),
        ] {
            let cli = Cli::try_parse_from(&args).unwrap();
            let inputs = commands::inputs(&cli.command);
            assert_eq!(inputs.len(), 1, "{args:?}");
            assert!(inputs[0].1.contains(what), "{inputs:?}");
        }
        let stdin =
            Cli::try_parse_from(["campaign", "enter-signatures", "x", "--from", "-"]).unwrap();
        assert!(commands::inputs(&stdin.command).is_empty());
    }
}
