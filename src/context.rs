//! What every command gets: how to talk to the terminal ([`Output`]), where files live,
//! the organizer's account, and whether there is a person at a terminal to ask. Built
//! from the parsed flags by `commands`; nothing here (nor in `ui`) knows about clap.

use std::io::IsTerminal;
use std::path::PathBuf;

use crate::config::Account;
use crate::error::{Error, Result};
use crate::fsutil::Files;
use crate::keyfile::{DataKey, KeyFile, KeyFileError, Passphrase};
use crate::passphrase::{self, Source};
use crate::paths::Paths;
use crate::store::sqlite::cipher;
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
    /// `--passphrase-fd`: the descriptor to read the database passphrase from.
    pub passphrase_fd: Option<i32>,
    /// `--passphrase-file` / `$CAMPAIGN_PASSPHRASE_FILE`: the file holding it.
    pub passphrase_file: Option<PathBuf>,
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
    /// Where the database passphrase comes from, when one is needed.
    pub passphrase: Source,
    /// The passphrase already read in this run (read once: a descriptor reads once).
    read_passphrase: std::sync::OnceLock<Passphrase>,
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
        let mut inputs = inputs;
        if let Some(file) = &settings.passphrase_file {
            inputs.push((file.clone(), "the passphrase file".to_string()));
        }
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
            passphrase: match (settings.passphrase_fd, settings.passphrase_file) {
                (Some(fd), _) => Source::Fd(fd),
                (None, Some(file)) => Source::File(file),
                (None, None) if interactive => Source::Terminal,
                (None, None) => Source::None,
            },
            read_passphrase: std::sync::OnceLock::new(),
        })
    }

    /// Opens (creating and migrating) the database; an encrypted one is unlocked first
    /// (the passphrase is asked for once per run).
    pub fn store(&self) -> Result<Box<dyn Store>> {
        self.unlock()?;
        store::open(&self.paths.location)
    }

    /// The database file, when it is one on this machine.
    pub fn db_file(&self) -> Option<&std::path::Path> {
        self.paths.location.file()
    }

    /// Unlocks the database when it has a key file: reads the passphrase, unwraps the
    /// data key and gives it to every connection this process opens on it. A wrong
    /// passphrase fails here, before SQLite opens (or creates) anything.
    pub fn unlock(&self) -> Result<Option<DataKey>> {
        let Some(db) = self.db_file() else {
            return Ok(None);
        };
        self.unlock_file(db)
    }

    /// [`Ctx::unlock`] for another database file (`campaign merge FROM`), with the same
    /// passphrase from the same source.
    pub fn unlock_file(&self, db: &std::path::Path) -> Result<Option<DataKey>> {
        if let Some(key) = cipher::registered(db) {
            return Ok(Some(key));
        }
        let key_path = cipher::key_path(db);
        if !key_path.exists() {
            return Ok(None);
        }
        let file = self.read_key_file(&key_path)?;
        let passphrase = self.current_passphrase()?;
        let key = file.open(passphrase).map_err(|e| match e {
            KeyFileError::WrongPassphrase => Error::WrongPassphrase {
                db: db.display().to_string(),
                key: key_path.display().to_string(),
            },
            other => Error::KeyFile {
                key: key_path.display().to_string(),
                reason: other.to_string(),
            },
        })?;
        cipher::unlock(db, key.clone());
        Ok(Some(key))
    }

    /// Reads and parses the key file at `path`.
    pub fn read_key_file(&self, path: &std::path::Path) -> Result<KeyFile> {
        let shown = path.display().to_string();
        let bytes = crate::bounded::read(
            path,
            crate::keyfile::MAX_BYTES,
            crate::bounded::Accept::Files,
        )
        .map_err(|e| Error::KeyFile {
            key: shown.clone(),
            reason: e.to_string(),
        })?;
        KeyFile::parse(&bytes).map_err(|e| Error::KeyFile {
            key: shown,
            reason: e.to_string(),
        })
    }

    /// The passphrase of the database, from its source (asked once per run).
    pub fn current_passphrase(&self) -> Result<&Passphrase> {
        if let Some(p) = self.read_passphrase.get() {
            return Ok(p);
        }
        let p = self.passphrase_from(
            &self.passphrase,
            "Passphrase of the campaign database",
            false,
        )?;
        Ok(self.read_passphrase.get_or_init(|| p))
    }

    /// A new passphrase (asked twice on a terminal; at least 12 characters).
    pub fn new_passphrase(&self, source: &Source, prompt: &str) -> Result<Passphrase> {
        let p = self.passphrase_from(source, prompt, true)?;
        passphrase::check_new(&p)?;
        Ok(p)
    }

    fn passphrase_from(&self, source: &Source, prompt: &str, confirm: bool) -> Result<Passphrase> {
        passphrase::refuse_secret_in_environment()?;
        if *source == Source::None {
            return Err(self.missing(
                "the passphrase of the encrypted database",
                "--passphrase-fd or CAMPAIGN_PASSPHRASE_FILE",
            ));
        }
        passphrase::read(source, prompt, confirm)
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
