//! `campaign`: a command-line campaign manager for grassroots petition campaigns.
//!
//! Layers (each uses only those below it; see ARCHITECTURE.md): `cli` (the parser) ->
//! `commands` (one adapter per subcommand: flags, prompts, output, and the screens of its
//! own, e.g. `commands::merge::report`; builds the `Ctx`) -> `ops` (the work, no
//! terminal: import with its CSV reader in `ops::import::read`, deliver, typed entry with
//! its prompts and answers, merge, privacy, team) -> `mail` (the outbox, the SMTP URL and
//! transport) -> `render` (documents and emails, words from `i18n`) -> `ui` (terminal
//! talk, sanitized) -> `store` (the `Store` interface, its SQLite and PostgreSQL backends) ->
//! `domain` (pure rules) -> `model` (plain data). `fsutil` writes every file; `clock`
//! gives the store the time. `ui` and `context` never see clap. The benchmarks' signer
//! generators are a dev-only crate (`crates/bench-support`), not part of this library.

// Every write to the terminal goes through `ui`, which keeps control characters in the
// data from reaching it (see `ui::term`). Clippy refuses `print!`/`println!`/`std::eprintln!`
// and `std::io::stdout()`/`stderr()` outside `ui` (clippy.toml, and the lints below).
#![deny(clippy::print_stdout, clippy::print_stderr)]

/// `eprintln!` for this crate: the line goes through [`ui::say`] (sanitized; a failing
/// stderr is ignored instead of panicking). It shadows the standard macro in every module
/// declared below, so status text written the usual way is safe too. A safety net only:
/// the library writes every line through `ui`, and nothing uses it today.
#[allow(unused_macros)]
macro_rules! eprintln {
    () => {
        $crate::ui::say("")
    };
    ($($arg:tt)*) => {
        $crate::ui::say(::std::format!($($arg)*))
    };
}

/// `eprint!` for this crate, sanitized like [`eprintln!`].
#[allow(unused_macros)]
macro_rules! eprint {
    ($($arg:tt)*) => {
        $crate::ui::say_partial(::std::format!($($arg)*))
    };
}

pub mod bounded;
pub mod cli;
pub mod clock;
pub mod commands;
pub mod config;
pub mod context;
pub mod domain;
pub mod error;
pub mod fsutil;
pub mod i18n;
pub mod keyfile;
pub mod mail;
pub mod model;
pub mod ops;
pub mod passphrase;
pub mod paths;
pub mod render;
pub mod store;
pub mod ui;
pub mod uid;

use std::process::ExitCode;

pub use error::Error;

/// Runs one parsed command line. All output happens inside; errors come back to `main`.
pub fn run(cli: cli::Cli) -> anyhow::Result<()> {
    fsutil::restrict_umask();
    let inputs = commands::inputs(&cli.command);
    let ctx = context::Ctx::new(cli.global.settings(), inputs)?;
    // How long a writer waits for another process (an import) before giving up.
    if let Some(text) = std::env::var_os("CAMPAIGN_BUSY_TIMEOUT").filter(|v| !v.is_empty()) {
        let limit = text
            .to_str()
            .and_then(store::parse_busy_timeout)
            .ok_or_else(|| {
                Error::Usage(format!(
                    "CAMPAIGN_BUSY_TIMEOUT={} is not a whole number of seconds (e.g. 600)",
                    text.to_string_lossy()
                ))
            })?;
        store::set_busy_timeout(limit);
    }
    if ctx.chatty() {
        store::on_busy(ui::waiting_for_database);
    }
    commands::dispatch(
        &ctx,
        cli.command,
        <cli::Cli as clap::CommandFactory>::command,
    )
}

/// Parses the command line like `Cli::parse`, except that a usage error about a command
/// line holding control characters is printed sanitized (clap quotes the bad value, and
/// on a terminal would pass its escape sequences through).
pub fn parse_args() -> cli::Cli {
    use clap::Parser;
    let err = match cli::Cli::try_parse() {
        Ok(cli) => return cli,
        Err(err) => err,
    };
    let hostile = std::env::args_os().any(|a| a.to_string_lossy().chars().any(ui::term::is_unsafe));
    if err.use_stderr() && hostile {
        ui::say(err.render().to_string().trim_end());
        std::process::exit(err.exit_code());
    }
    // Help, versions and ordinary usage errors: clap prints them (in color on a
    // terminal) and ignores a closed pipe.
    err.exit()
}

/// `main`: runs the command, reports its error, and turns a panic (a bug, already
/// described on stderr by `ui::bug`) into exit status 1, or 0 when it came from a closed
/// pipe.
pub fn main_run(cli: cli::Cli) -> ExitCode {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| run(cli))) {
        Ok(Ok(())) => ExitCode::SUCCESS,
        Ok(Err(err)) => report_error(&err),
        Err(_) if ui::bug::panicked_on_broken_pipe() => ExitCode::SUCCESS,
        Err(_) => ExitCode::from(error::EXIT_FAILURE),
    }
}

/// Prints an error chain on stderr in one place and picks the exit code.
///
/// A closed stdout (`campaign list | head -1`) is not an error: exit 0, print nothing.
/// The message is sanitized like every line for a person: errors quote paths and values.
pub fn report_error(err: &anyhow::Error) -> ExitCode {
    if error::is_broken_pipe(err) {
        return ExitCode::SUCCESS;
    }
    // A batch's failures, one line each, before the line that sums them up.
    if let Some(Error::CampaignsFailed { failures, .. }) =
        err.chain().find_map(|c| c.downcast_ref::<Error>())
    {
        for (campaign, why) in failures {
            ui::error(format!("{campaign}: {why}"));
        }
    }
    let mut message = err.to_string();
    for cause in err.chain().skip(1) {
        message.push_str(&format!("\n  caused by: {cause}"));
    }
    ui::error(message);
    ExitCode::from(error::exit_code(err))
}
