//! What every command gets: the global flags, where files live, the organizer's account,
//! and whether there is a person at a terminal to ask.

use std::io::IsTerminal;
use std::path::PathBuf;

use crate::cli::GlobalArgs;
use crate::config::Account;
use crate::error::{Error, Result};
use crate::fsutil::Files;
use crate::paths::Paths;
use crate::store::Store;

pub struct Ctx {
    pub global: GlobalArgs,
    pub paths: Paths,
    /// True when we may prompt: stdin and stderr are terminals and `--no-input` is off.
    pub interactive: bool,
}

impl Ctx {
    /// `inputs` are the files the command reads, each with what it is: no file the
    /// command writes may land on one of them (see [`Ctx::files`]).
    pub fn new(global: GlobalArgs, inputs: Vec<(PathBuf, String)>) -> Result<Ctx> {
        let paths = Paths::resolve(global.db.as_deref())?.with_inputs(inputs);
        // Both ends must be a terminal: prompting with piped stdin hangs on /dev/tty,
        // and prompting into a redirected stderr asks nobody.
        let interactive =
            !global.no_input && std::io::stdin().is_terminal() && crate::ui::stderr_is_terminal();
        Ok(Ctx {
            global,
            paths,
            interactive,
        })
    }

    /// Opens (creating and migrating) the database.
    pub fn store(&self) -> Result<Store> {
        Store::open(&self.paths.db)
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
            why: if self.global.no_input {
                "prompts are off with --no-input"
            } else {
                "no terminal to ask on"
            },
        }
    }

    /// Whether status lines go to stderr.
    pub fn chatty(&self) -> bool {
        !self.global.quiet
    }
}
