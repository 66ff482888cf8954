use std::io::Write;
use std::path::PathBuf;

use clap::Args;
use clap_complete::Shell;

use crate::context::Ctx;
use crate::ui;

/// Prints a completion script for SHELL on stdout, e.g.
/// `campaign completions bash > ~/.local/share/bash-completion/completions/campaign`.
#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to complete for
    #[arg(value_enum)]
    pub shell: Shell,

    /// Write into this folder (under the shell's usual file name) instead of stdout
    #[arg(long, value_name = "DIR", hide = true)]
    pub dir: Option<PathBuf>,
}

pub fn run(_ctx: &Ctx, args: CompletionsArgs, app: fn() -> clap::Command) -> anyhow::Result<()> {
    let mut cmd = app();
    match args.dir {
        Some(dir) => {
            std::fs::create_dir_all(&dir)?;
            clap_complete::generate_to(args.shell, &mut cmd, "campaign", &dir)?;
        }
        None => {
            // Into memory first: clap_complete panics when its writer fails, and a closed
            // pipe (`| head`) must end quietly with status 0, as everywhere.
            let mut script = Vec::new();
            clap_complete::generate(args.shell, &mut cmd, "campaign", &mut script);
            let mut out = ui::data_out();
            out.write_all(&script)?;
            out.flush()?;
        }
    }
    Ok(())
}
