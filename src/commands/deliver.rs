//! `campaign deliver`: petition PDFs for the target, one campaign or hundreds.

use std::path::PathBuf;

use clap::Args;

use crate::commands::{load_campaign, Access};
use crate::context::Ctx;
use crate::domain::delivery::{ContactField, ShowLevel};
use crate::error::Error;
use crate::model::{Campaign, Lang, Status};
use crate::ops::deliver::{
    self, Batch, CampaignFailure, DeliveryPlan, Emailing, Request, Requester, SplitBy,
};
use crate::render::pdf::Paper;
use crate::store::Store;
use crate::ui::{self, plural};

mod report;

use report::{confirm_contacts, report, report_uncovered, summary};

#[derive(Debug, Args)]
pub struct DeliverArgs {
    /// Campaigns to deliver (slugs or ids); one PDF each
    #[arg(value_name = "SLUG")]
    pub campaigns: Vec<String>,

    /// Deliver every launched campaign (drafts only with --status draft)
    #[arg(long, conflicts_with = "campaigns")]
    pub all: bool,

    /// With --all: only campaigns with this status (without it, every one but drafts)
    #[arg(long, requires = "all", value_parser = super::values::status())]
    pub status: Option<Status>,

    /// Where to write: a file for one campaign, a folder for several or with --split-by
    /// [default: the documents folder under the data folder]. In a folder, a name already
    /// taken gets a number (...-2026-12-01-2.pdf): an earlier delivery is never replaced.
    /// A FILE an earlier delivery wrote is refused (its record keeps that file's hash);
    /// any other existing FILE is replaced once the new PDF is complete
    #[arg(long, value_name = "PATH")]
    pub out: Option<PathBuf>,

    /// How much of each signer the target sees. Signers who asked not to be named are
    /// counted, never named
    #[arg(long, value_parser = super::values::show_level(), default_value_t = ShowLevel::Names)]
    pub show: ShowLevel,

    /// Also show these contact details (comma-separated: email,phone); the cover says so.
    /// Never shown otherwise. On a terminal, first says how many signers' details the
    /// target will see and asks; without one, needs --yes
    #[arg(long, value_parser = super::values::contact_field(), value_delimiter = ',', value_name = "FIELDS")]
    pub include: Vec<ContactField>,

    /// Write one PDF per postcode (e.g. one per council district), each named after its
    /// postcode: letters, digits and `-` as typed, a space as `_`, anything else as %XX
    /// (`a/b` is `a%2Fb`); never two postcodes in one file
    #[arg(long, value_parser = super::values::split_by(), value_name = "FIELD")]
    pub split_by: Option<SplitBy>,

    /// Language of the document's own words [default: the campaign's language]
    #[arg(long, value_parser = super::values::lang())]
    pub lang: Option<Lang>,

    /// Paper size [default: letter for a campaign (or account) in the US, Canada, Mexico
    /// and the other countries that use it, A4 elsewhere]
    #[arg(long, value_parser = super::values::paper(), ignore_case = true)]
    pub paper: Option<Paper>,

    /// Print your email under your name on the cover letter (it is not printed otherwise)
    #[arg(long)]
    pub include_sender_email: bool,

    /// Deliver even when a name has characters no font here can draw: the name is printed
    /// as "[name not printable]" and the cover counts those rows. Without it, nothing is
    /// written and the rows and characters are listed
    #[arg(long)]
    pub allow_unprintable: bool,

    /// Email the PDF to the target at this address. The message waits in the outbox
    /// (`campaign outbox`) unless --send is given
    #[arg(long, value_name = "ADDRESS")]
    pub email_to: Option<String>,

    /// With --email-to: send now through SMTP (`campaign account --smtp-url`); a failed
    /// send stays in the outbox with the reason
    #[arg(long, requires = "email_to")]
    pub send: bool,
}

pub fn run(ctx: &Ctx, mut args: DeliverArgs) -> anyhow::Result<()> {
    // Checked before any PDF is written: a bad address or a missing account or SMTP
    // setting costs nothing.
    let emailing = match args.email_to.as_deref() {
        Some(to) => Some(Emailing::new(&ctx.paths, &ctx.account()?, to, args.send)?),
        None => None,
    };
    args.include.sort();
    args.include.dedup();
    let split = args.split_by;
    let several = args.all || args.campaigns.len() > 1;
    deliver::check_out(args.out.as_deref(), several, split)?;

    let mut store = ctx.store()?;
    let campaigns = chosen_campaigns(ctx, &mut *store, &args)?;
    let many = campaigns.len() > 1 || args.all;
    let plan = DeliveryPlan::new(
        &*store,
        args.out.as_deref(),
        many,
        split,
        ctx.paths.documents_dir(),
    )?;
    plan.check_stream(ctx.output.json, emailing.is_some())?;
    let chosen: Vec<&Campaign> = campaigns.iter().filter_map(|c| c.as_ref().ok()).collect();
    if !confirm_contacts(ctx, &*store, &args, &chosen)? {
        ui::status(ctx, "nothing delivered");
        return Ok(());
    }
    let account = ctx.account().ok();
    let request = Request {
        show: args.show,
        include: args.include.clone(),
        lang: args.lang,
        split,
        today: time::OffsetDateTime::now_utc().date(),
        requester: Requester::of(account.as_ref(), args.include_sender_email),
        paper: args.paper,
        allow_unprintable: args.allow_unprintable,
    };
    let bar = ui::progress::bar(ctx, campaigns.len() as u64, "delivering");
    let batch = Batch {
        plan: &plan,
        request: &request,
        db: &ctx.paths.location,
        files: ctx.files(),
    };
    let outcome = deliver::run(&mut *store, &batch, campaigns, emailing.as_ref(), &|| {
        bar.inc(1)
    });
    bar.finish_and_clear();
    let mut outcome = outcome?;
    outcome.files.iter().for_each(report_uncovered);
    // One campaign asked for: its error is the whole story, with its own exit code.
    if !many {
        if let Some(failure) = outcome.failed.pop() {
            return Err(failure.error);
        }
    }
    report(ctx, &outcome.files, emailing.as_ref())?;
    ui::status(
        ctx,
        summary(
            &outcome.files,
            outcome.campaigns_delivered(),
            outcome.failed.len(),
            many,
        ),
    );
    Ok(outcome.into_result()?)
}

/// The campaigns named (or all with --all), each loaded for its organizers; one that
/// cannot be is a failure of its own, and the others go on.
fn chosen_campaigns(
    ctx: &Ctx,
    store: &mut dyn Store,
    args: &DeliverArgs,
) -> anyhow::Result<Vec<Result<Campaign, CampaignFailure>>> {
    // What needs the signers' names cannot be delivered once they were purged.
    let needs = match args.show {
        ShowLevel::Names => Some("a delivery with --show names"),
        ShowLevel::Initials => Some("a delivery with --show initials"),
        _ if !args.include.is_empty() => Some("a delivery with --include"),
        _ if args.split_by.is_some() => Some("a delivery split by postcode"),
        _ => None,
    };
    let load = |store: &mut dyn Store, reference: &str| {
        load_campaign(ctx, store, reference, Access::Manage)
            .and_then(|c| {
                if let Some(needs) = needs {
                    crate::ops::privacy::refuse_purged(&c, needs)?;
                }
                Ok(c)
            })
            .map_err(|error| CampaignFailure {
                campaign: reference.to_string(),
                error,
            })
    };
    if args.all {
        let listed = store.list_campaigns(args.status)?;
        // A draft was never launched: nobody signed it yet, so --all leaves it out
        // unless drafts are asked for by name.
        let (listed, drafts): (Vec<_>, Vec<_>) = listed
            .into_iter()
            .partition(|s| args.status.is_some() || s.campaign.status != Status::Draft);
        if !drafts.is_empty() {
            ui::status(
                ctx,
                format!(
                    "Skipped {} (never launched); deliver them with --status draft or by slug.",
                    plural(drafts.len() as u64, "draft campaign", "draft campaigns")
                ),
            );
        }
        // Each through `load_campaign`: only its organizers may deliver a campaign.
        return Ok(listed
            .iter()
            .map(|s| load(store, &s.campaign.id.to_string()))
            .collect());
    }
    if args.campaigns.is_empty() {
        return Err(
            Error::Usage("which campaign? pass a SLUG (or several), or --all".into()).into(),
        );
    }
    Ok(args.campaigns.iter().map(|r| load(store, r)).collect())
}
