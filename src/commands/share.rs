use clap::Args;

use crate::context::Ctx;

#[derive(Debug, Args)]
pub struct ShareArgs {
    /// Campaign slug or id
    pub campaign: Option<String>,
}

pub fn run(_ctx: &Ctx, _args: ShareArgs) -> anyhow::Result<()> {
    anyhow::bail!("not built yet")
}
