use clap::Args;

use crate::context::Ctx;

#[derive(Debug, Args)]
pub struct PaperFormArgs {
    /// Campaign slug or id
    pub campaign: Option<String>,
}

pub fn run(_ctx: &Ctx, _args: PaperFormArgs) -> anyhow::Result<()> {
    anyhow::bail!("not built yet")
}
