use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = campaign::cli::Cli::parse();
    match campaign::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => campaign::report_error(&err),
    }
}
