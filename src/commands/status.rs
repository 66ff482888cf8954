use clap::Args;

use super::{load_campaign, Access};
use crate::context::Ctx;
use crate::error::Error;
use crate::model::Status;
use crate::ui;

/// Switches a petition between live and offline.
#[derive(Debug, Args)]
pub struct StatusArgs {
    /// Campaign slug or id
    pub campaign: String,
}

pub fn run(ctx: &Ctx, args: StatusArgs, to: Status) -> anyhow::Result<()> {
    let mut store = ctx.store()?;
    let campaign = load_campaign(ctx, &mut *store, &args.campaign, Access::Manage)?;
    if campaign.status == Status::Draft {
        return Err(Error::Refused(format!(
            "{} is still a draft: launch it first with `campaign review {} --launch`",
            campaign.slug, campaign.slug
        ))
        .into());
    }
    if campaign.status == to {
        ui::status(ctx, format!("{} is already {}", campaign.slug, to));
    } else {
        let account = ctx.account()?;
        store.set_status(&campaign, to, account.email.as_deref())?;
        ui::status(ctx, format!("{} is now {}", campaign.slug, to));
    }
    if ctx.output.json {
        ui::out_json(&store.campaign_by_id(campaign.id)?)?;
    }
    Ok(())
}
