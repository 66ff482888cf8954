//! `campaign purge`: delete a delivered campaign's signers, keeping its counts and
//! delivery records (issue 13). A short adapter over [`ops::privacy`].

use clap::{ArgGroup, Args};

use super::{load_campaign, not_found, Access};
use crate::context::Ctx;
use crate::domain::privacy::purge_due;
use crate::error::Error;
use crate::model::Campaign;
use crate::ops::privacy::{self, FileAction, PurgePlan};
use crate::store::Store;
use crate::ui::{self, prompt};

/// Deletes the signers' names and contacts of a delivered campaign; its total, counts per
/// postcode and per day, and its deliveries are kept.
#[derive(Debug, Args)]
#[command(group(ArgGroup::new("which").required(true).args(["campaign", "due"])))]
pub struct PurgeArgs {
    /// Campaign slug or id
    pub campaign: Option<String>,

    /// Purge every campaign whose retention period (--retain) has run out since its last
    /// delivery
    #[arg(long)]
    pub due: bool,

    /// Show what would be removed and kept; change nothing
    #[arg(long)]
    pub dry_run: bool,

    /// Also delete this campaign's emails still waiting in the outbox (never sent)
    #[arg(long)]
    pub discard_unsent: bool,
}

pub fn run(ctx: &Ctx, args: PurgeArgs) -> anyhow::Result<()> {
    let mut store = ctx.store()?;
    let campaigns = if args.due {
        let today = time::OffsetDateTime::now_utc().date();
        let mut due = Vec::new();
        for s in store.list_campaigns(None)? {
            let c = s.campaign;
            let last = store.deliveries(c.id)?.pop().map(|d| d.delivered_at);
            if purge_due(c.retain.as_deref(), c.purged_at.as_deref(), last.as_deref())
                .is_some_and(|day| day <= today)
            {
                due.push(c);
            }
        }
        if due.is_empty() {
            ui::status(ctx, "no campaign is due for a purge");
            if ctx.output.json {
                ui::out_json(&Vec::<PurgePlan>::new())?;
            }
            return Ok(());
        }
        if !args.dry_run {
            // Each through the access rules, as a named one is.
            let mut checked = Vec::new();
            for c in due {
                checked.push(load_campaign(
                    ctx,
                    &mut *store,
                    &c.id.to_string(),
                    Access::Manage,
                )?);
            }
            due = checked;
        }
        due
    } else {
        let reference = args.campaign.as_deref().unwrap_or_default();
        vec![if args.dry_run {
            // Reads only: no admin is activated by a dry run.
            find_reading(&*store, reference)?
        } else {
            load_campaign(ctx, &mut *store, reference, Access::Manage)?
        }]
    };
    let mut plans = Vec::new();
    for c in &campaigns {
        plans.push(privacy::plan_purge(&*store, &ctx.paths, c)?);
    }
    if args.dry_run {
        if ctx.output.json {
            ui::out_json(&plans)?;
        } else {
            for plan in &plans {
                show_plan(plan, true);
            }
        }
        return Ok(());
    }
    let mut outcomes = Vec::new();
    for plan in &plans {
        if !ctx.output.json {
            show_plan(plan, false);
        }
        if !confirmed(ctx, plan)? {
            ui::status(ctx, format!("{}: nothing purged", plan.slug));
            continue;
        }
        let outcome = privacy::purge(&mut *store, ctx.files(), plan, args.discard_unsent)?;
        for f in &outcome.kept {
            if f.action == FileAction::KeepChanged {
                ui::warn(format!(
                    "kept {} ({}): changed since delivery, not removed",
                    f.path.display(),
                    f.what
                ));
            }
        }
        if let Some(note) = &outcome.note {
            ui::warn(note);
        }
        ui::status(
            ctx,
            format!(
                "{}: purged ({} deleted, {} removed); its counts and deliveries are kept",
                outcome.slug,
                ui::plural(outcome.signers, "signer", "signers"),
                ui::plural(outcome.removed.len() as u64, "file", "files"),
            ),
        );
        outcomes.push(outcome);
    }
    if ctx.output.json {
        ui::out_json(&outcomes)?;
    }
    Ok(())
}

/// The campaign, found without the access rules' side effects (an invited admin is
/// activated by `load_campaign`): what any reader of the file may see.
fn find_reading(store: &dyn Store, reference: &str) -> anyhow::Result<Campaign> {
    match store.find_campaign(reference) {
        Err(Error::CampaignNotFound(missing)) => {
            let slugs: Vec<String> = store
                .list_campaigns(None)?
                .into_iter()
                .map(|c| c.campaign.slug)
                .collect();
            Err(not_found(&missing, &slugs).into())
        }
        found => Ok(found?),
    }
}

/// Asks on a terminal; without one, `--yes` is the answer.
fn confirmed(ctx: &Ctx, plan: &PurgePlan) -> anyhow::Result<bool> {
    if ctx.yes {
        return Ok(true);
    }
    let question = if plan.purged_at.is_some() {
        format!(
            "{} was purged already: remove its {} left? This cannot be undone.",
            plan.slug,
            ui::plural(plan.removing() as u64, "file", "files")
        )
    } else {
        format!(
            "Delete the names of {} of {} and {}? This cannot be undone.",
            ui::plural(plan.signers.max(0) as u64, "signer", "signers"),
            plan.slug,
            ui::plural(plan.removing() as u64, "file", "files")
        )
    };
    if !ctx.interactive {
        return Err(Error::Refused(format!("{question} Pass --yes to confirm.")).into());
    }
    Ok(prompt::confirm(&question, false)?)
}

/// The plan, for a person (stderr).
fn show_plan(plan: &PurgePlan, dry_run: bool) {
    let would = if dry_run { "would " } else { "" };
    match &plan.purged_at {
        Some(at) => ui::say(format!(
            "{}: purged on {}; {}remove only the files left",
            plan.slug,
            at.get(..10).unwrap_or(at),
            would
        )),
        None => ui::say(format!(
            "{}: {}delete {} (names, emails, postcodes, phones); keep the total, the counts \
             per postcode and per day, and the deliveries",
            plan.slug,
            would,
            ui::plural(plan.signers.max(0) as u64, "signer", "signers")
        )),
    }
    if plan.unsent > 0 {
        ui::say(format!(
            "  {} about {} still waiting in the outbox (never sent): purge stops unless --discard-unsent",
            ui::plural(plan.unsent as u64, "email", "emails"),
            plan.slug
        ));
    }
    for f in &plan.files {
        let what = match f.action {
            FileAction::Remove => format!("{would}remove"),
            FileAction::KeepChanged => "keep (changed since delivery)".into(),
            FileAction::KeepMissing => "not found".into(),
            FileAction::KeepNotAFile => "keep (not a regular file)".into(),
            FileAction::ListOnly => "copy you wrote: delete it yourself".into(),
        };
        ui::say(format!("  {what}: {} ({})", f.path.display(), f.what));
    }
}
