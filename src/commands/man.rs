use std::path::PathBuf;

use clap::Args;

use crate::context::Ctx;

/// Writes one man page per command (campaign.1, campaign-new.1, ...) into DIR.
#[derive(Debug, Args)]
pub struct ManArgs {
    /// Folder for the pages
    #[arg(long, value_name = "DIR", default_value = "man")]
    pub dir: PathBuf,
}

pub fn run(_ctx: &Ctx, args: ManArgs, app: fn() -> clap::Command) -> anyhow::Result<()> {
    std::fs::create_dir_all(&args.dir)?;
    clap_mangen::generate_to(app(), &args.dir)?;
    Ok(())
}
