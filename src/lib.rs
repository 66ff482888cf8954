//! `campaign`: a command-line campaign manager for grassroots petition campaigns.
//!
//! Layers (each uses only those below it): `commands` (adapters: flags, prompts, output)
//! -> `ui` / `render` (terminal talk, documents) -> `domain` (pure rules) -> `store`
//! (SQLite) -> `model` (plain data). `input` reads CSV files of signers for the
//! commands, with the domain's rules.

pub mod bench_support;
pub mod cli;
pub mod commands;
pub mod config;
pub mod context;
pub mod domain;
pub mod error;
pub mod fsutil;
pub mod i18n;
pub mod input;
pub mod model;
pub mod outbox;
pub mod paths;
pub mod render;
pub mod store;
pub mod ui;

use std::process::ExitCode;

pub use error::Error;

/// Runs one parsed command line. All output happens inside; errors come back to `main`.
pub fn run(cli: cli::Cli) -> anyhow::Result<()> {
    fsutil::restrict_umask();
    let ctx = context::Ctx::new(cli.global)?;
    commands::dispatch(&ctx, cli.command)
}

/// Prints an error chain on stderr in one place and picks the exit code.
///
/// A closed stdout (`campaign list | head -1`) is not an error: exit 0, print nothing.
pub fn report_error(err: &anyhow::Error) -> ExitCode {
    if error::is_broken_pipe(err) {
        return ExitCode::SUCCESS;
    }
    let mut message = format!("error: {err}");
    for cause in err.chain().skip(1) {
        message.push_str(&format!("\n  caused by: {cause}"));
    }
    eprintln!("{message}");
    ExitCode::from(error::exit_code(err))
}
