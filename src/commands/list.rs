use clap::Args;

use crate::context::Ctx;
use crate::model::{CampaignSummary, Status};
use crate::ui;

/// Your campaigns, oldest first.
#[derive(Debug, Args)]
pub struct ListArgs {
    /// Only campaigns with this status
    #[arg(long, value_parser = super::values::status())]
    pub status: Option<Status>,
}

pub fn run(ctx: &Ctx, args: ListArgs) -> anyhow::Result<()> {
    let store = ctx.store()?;
    let campaigns = store.list_campaigns(args.status)?;
    if ctx.output.json {
        ui::out_json(&campaigns)?;
        return Ok(());
    }
    if campaigns.is_empty() {
        ui::status(ctx, "no campaigns yet: start one with `campaign new`");
        return Ok(());
    }
    ui::out_line(table(&campaigns).to_string())?;
    Ok(())
}

pub fn table(campaigns: &[CampaignSummary]) -> ui::table::Table {
    let mut table = ui::table::new_table([
        "slug",
        "title",
        "status",
        "where",
        "signatures",
        "paper",
        "online",
        "unnamed",
        "goal",
    ]);
    for CampaignSummary {
        campaign,
        signatures,
    } in campaigns
    {
        table.add_row(vec![
            campaign.slug.clone(),
            ui::shorten(&campaign.title, 50),
            campaign.status.to_string(),
            ui::shorten(&campaign.place(), 30),
            signatures.total.to_string(),
            signatures.paper.to_string(),
            signatures.online.to_string(),
            signatures.private.to_string(),
            campaign
                .goal
                .map(|g| g.to_string())
                .unwrap_or_else(|| "-".into()),
        ]);
    }
    table
}
