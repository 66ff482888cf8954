//! What every command gets: how to talk to the terminal ([`Output`]), where files live,
//! the organizer's account, and whether there is a person at a terminal to ask. Built
//! from the parsed flags by `commands`; nothing here (nor in `ui`) knows about clap.

use std::io::IsTerminal;
use std::path::PathBuf;

use crate::config::Account;
use crate::error::{Error, Result};
use crate::fsutil::Files;
use crate::paths::Paths;
use crate::store::{self, Store};
use crate::ui::Output;

/// The settings every command takes, as plain values (the global flags, once parsed).
#[derive(Debug, Clone, Default)]
pub struct Settings {
    /// `--db`: the database file, when not the default one.
    pub db: Option<PathBuf>,
    pub json: bool,
    pub quiet: bool,
    pub no_input: bool,
    pub yes: bool,
}

pub struct Ctx {
    pub paths: Paths,
    /// How to talk to the terminal: `--json`, `--quiet`, colors.
    pub output: Output,
    /// True when we may prompt: stdin and stderr are terminals and `--no-input` is off.
    pub interactive: bool,
    /// `--yes`: risky choices are taken without asking.
    pub yes: bool,
    /// `--no-input`: prompts are off even on a terminal.
    pub no_input: bool,
}

impl AsRef<Output> for Ctx {
    fn as_ref(&self) -> &Output {
        &self.output
    }
}

impl Ctx {
    /// `inputs` are the files the command reads, each with what it is: no file the
    /// command writes may land on one of them (see [`Ctx::files`]).
    pub fn new(settings: Settings, inputs: Vec<(PathBuf, String)>) -> Result<Ctx> {
        let paths = Paths::resolve(settings.db.as_deref())?.with_inputs(inputs);
        // Both ends must be a terminal: prompting with piped stdin hangs on /dev/tty,
        // and prompting into a redirected stderr asks nobody.
        let interactive =
            !settings.no_input && std::io::stdin().is_terminal() && crate::ui::stderr_is_terminal();
        Ok(Ctx {
            paths,
            output: Output {
                json: settings.json,
                quiet: settings.quiet,
                color: console::colors_enabled_stderr(),
            },
            interactive,
            yes: settings.yes,
            no_input: settings.no_input,
        })
    }

    /// Opens (creating and migrating) the database.
    pub fn store(&self) -> Result<Box<dyn Store>> {
        store::open(&self.paths.location)
    }

    pub fn account(&self) -> Result<Account> {
        Account::load(&self.paths.config_file())
    }

    pub fn save_account(&self, account: &Account) -> Result<()> {
        let path = self.paths.config_file();
        // The account file is protected from every other write; this is its writer.
        account.save(&self.files().allowing(&path), &path)
    }

    /// The one way a command writes a file: it refuses the database (and its `-wal`,
    /// `-shm`, `-journal`), the account file and the command's own inputs, and replaces
    /// files atomically (see [`Files`]).
    pub fn files(&self) -> &Files {
        self.paths.files()
    }

    /// The error for a value we cannot ask for.
    pub fn missing(&self, what: impl Into<String>, flag: impl Into<String>) -> Error {
        Error::MissingInput {
            what: what.into(),
            flag: flag.into(),
            why: if self.no_input {
                "prompts are off with --no-input"
            } else {
                "no terminal to ask on"
            },
        }
    }

    /// Whether status lines go to stderr.
    pub fn chatty(&self) -> bool {
        self.output.chatty()
    }
}
