//! `campaign deliver`: petition PDFs for the target, one campaign or hundreds.

use std::path::{Path, PathBuf};

use clap::{Args, ValueEnum};

use crate::commands::{load_campaign, Access};
use crate::context::Ctx;
use crate::domain::delivery::{shown_signer, ContactField, ShowLevel};
use crate::error::Error;
use crate::fsutil;
use crate::model::{Campaign, Lang, Signature, Status};
use crate::ops::deliver::{self, CampaignFailure, DeliveredFile, DeliveryPlan, Request};
use crate::outbox::{Posted, Postman};
use crate::render::mail::delivery_email;
use crate::render::pdf::fonts::font_hint;
use crate::store::{NewDelivery, Store};
use crate::ui::{self, plural, prompt};

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
    #[arg(long, value_enum, value_name = "FIELD")]
    pub split_by: Option<SplitBy>,

    /// Language of the document's own words [default: the campaign's language]
    #[arg(long, value_parser = super::values::lang())]
    pub lang: Option<Lang>,

    /// Email the PDF to the target at this address. The message waits in the outbox
    /// (`campaign outbox`) unless --send is given
    #[arg(long, value_name = "ADDRESS")]
    pub email_to: Option<String>,

    /// With --email-to: send now through SMTP (`campaign account --smtp-url`); a failed
    /// send stays in the outbox with the reason
    #[arg(long, requires = "email_to")]
    pub send: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SplitBy {
    Postcode,
}

/// Where delivery emails go, checked before any PDF is written so a bad address or a
/// missing account or SMTP setting costs nothing.
struct Emailing {
    to: String,
    postman: Postman,
}

impl Emailing {
    fn prepare(ctx: &Ctx, args: &DeliverArgs) -> anyhow::Result<Option<Emailing>> {
        let Some(to) = args.email_to.as_deref().map(str::trim) else {
            return Ok(None);
        };
        if !crate::domain::email_ok(to) {
            return Err(Error::Usage(format!(
                "--email-to {to:?} is not an email address like mayor@example.gov"
            ))
            .into());
        }
        let postman = Postman::new(&ctx.paths, &ctx.account()?, args.send)?;
        Ok(Some(Emailing {
            to: to.to_string(),
            postman,
        }))
    }

    /// Queues (or sends) the email for one delivered file.
    fn deliver(
        &self,
        campaign: &Campaign,
        lang: Lang,
        file: &DeliveredFile,
    ) -> anyhow::Result<Posted> {
        // The letter speaks the document's language.
        let campaign = Campaign {
            lang,
            ..campaign.clone()
        };
        let mail = delivery_email(
            &self.postman.sender,
            &campaign,
            &self.to,
            file.signatures,
            Path::new(&file.file),
        )?;
        Ok(self.postman.post(&mail)?)
    }
}

pub fn run(ctx: &Ctx, mut args: DeliverArgs) -> anyhow::Result<()> {
    let emailing = Emailing::prepare(ctx, &args)?;
    args.include.sort();
    args.include.dedup();
    let split = args
        .split_by
        .map(|SplitBy::Postcode| deliver::SplitBy::Postcode);
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
    if let Some(out) = plan.stream() {
        if ctx.output.json && fsutil::is_stdout(out) {
            return Err(Error::Usage(format!(
                "--json prints the report on standard output, where --out {} sends the PDF: drop one",
                out.display()
            ))
            .into());
        }
        if emailing.is_some() {
            return Err(Error::Usage(format!(
                "--email-to attaches the PDF, but --out {} is not a file: give --out a file or a folder",
                out.display()
            ))
            .into());
        }
    }
    let chosen: Vec<&Campaign> = campaigns.iter().filter_map(|c| c.as_ref().ok()).collect();
    if !confirm_contacts(ctx, &*store, &args, &chosen)? {
        ui::status(ctx, "nothing delivered");
        return Ok(());
    }
    let request = Request {
        show: args.show,
        include: args.include.clone(),
        lang: args.lang,
        split,
        date: time::OffsetDateTime::now_utc().date().to_string(),
        organization: ctx
            .account()
            .map(|a| a.display_organization())
            .unwrap_or_default(),
    };
    let bar = ui::progress::bar(ctx, campaigns.len() as u64, "delivering");
    let results = plan.deliver(
        &ctx.paths.location,
        ctx.files(),
        &request,
        campaigns,
        &|| bar.inc(1),
    );
    bar.finish_and_clear();

    let mut delivered = Vec::new();
    let mut failed = Vec::new();
    for r in results {
        match r {
            Ok(mut outcome) => {
                if let Some(emailing) = &emailing {
                    let lang = args.lang.unwrap_or(outcome.campaign.lang);
                    for f in &mut outcome.files {
                        f.email = Some(emailing.deliver(&outcome.campaign, lang, f)?);
                    }
                }
                for f in &outcome.files {
                    record(&mut *store, &outcome.campaign, f)?;
                    report_uncovered(f);
                }
                delivered.extend(outcome.files);
            }
            Err(failure) => failed.push(failure),
        }
    }
    // One campaign asked for: its error is the whole story, with its own exit code.
    if !many {
        if let Some(failure) = failed.pop() {
            return Err(failure.error);
        }
    }
    report(ctx, &delivered, emailing.as_ref())?;
    let unsent = delivered
        .iter()
        .filter(|f| f.email.as_ref().is_some_and(|e| e.failure.is_some()))
        .count();
    let campaigns_ok: std::collections::BTreeSet<&str> =
        delivered.iter().map(|f| f.campaign.as_str()).collect();
    ui::status(
        ctx,
        summary(&delivered, campaigns_ok.len(), failed.len(), many),
    );
    if !failed.is_empty() {
        let total = campaigns_ok.len() + failed.len();
        return Err(Error::CampaignsFailed {
            failures: failed
                .into_iter()
                .map(|f| (f.campaign, format!("{:#}", f.error)))
                .collect(),
            total,
        }
        .into());
    }
    if unsent > 0 {
        return Err(Error::SomeNotSent {
            failed: unsent,
            total: delivered.len(),
        }
        .into());
    }
    Ok(())
}

/// The campaigns named (or all with --all), each loaded for its organizers; one that
/// cannot be is a failure of its own, and the others go on.
fn chosen_campaigns(
    ctx: &Ctx,
    store: &mut dyn Store,
    args: &DeliverArgs,
) -> anyhow::Result<Vec<Result<Campaign, CampaignFailure>>> {
    let load = |store: &mut dyn Store, reference: &str| {
        load_campaign(ctx, store, reference, Access::Manage).map_err(|error| CampaignFailure {
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

/// Records one delivered file: when, what it showed, to whom, and its hash.
fn record(store: &mut dyn Store, campaign: &Campaign, f: &DeliveredFile) -> anyhow::Result<()> {
    let included: Vec<String> = f.included.iter().map(|c| c.as_str().to_string()).collect();
    store.record_delivery(&NewDelivery {
        campaign_id: campaign.id,
        show_level: f.show.as_str(),
        included_fields: &included,
        recipient: Some(
            f.email
                .as_ref()
                .map_or(campaign.target.as_str(), |e| e.to.as_str()),
        ),
        file: &f.file,
        file_sha256: &f.sha256,
        signatures: f.signatures,
    })?;
    Ok(())
}

/// What was written, on stdout (or as JSON), and what became of the emails, on stderr.
fn report(
    ctx: &Ctx,
    delivered: &[DeliveredFile],
    emailing: Option<&Emailing>,
) -> anyhow::Result<()> {
    if ctx.output.json {
        ui::out_json(&delivered)?;
    } else {
        for f in delivered {
            // A PDF sent to standard output is followed by nothing.
            if !fsutil::is_stdout(Path::new(&f.file)) {
                ui::out_line(&f.file)?;
            }
            match &f.email {
                Some(Posted {
                    sent: false,
                    failure: None,
                    file,
                    ..
                }) => ui::out_line(file.display().to_string())?,
                Some(Posted { sent: true, to, .. }) => {
                    ui::status(ctx, format!("emailed {} to {to}", f.file))
                }
                _ => {}
            }
        }
    }
    for e in delivered.iter().filter_map(|f| f.email.as_ref()) {
        if let Some(failure) = &e.failure {
            ui::error(format!(
                "could not send to {}: {failure}; the message stays in the outbox ({}): retry with `campaign outbox --send`",
                e.to,
                e.file.display()
            ));
        }
    }
    if emailing.is_some_and(|e| !e.postman.sends_now()) && !delivered.is_empty() {
        ui::status(
            ctx,
            "the email waits in the outbox: review it, then `campaign outbox --send`",
        );
    }
    Ok(())
}

/// The closing status line: what was written, over every file.
fn summary(files: &[DeliveredFile], campaigns: usize, failed: usize, many: bool) -> String {
    let signatures: i64 = files.iter().map(|f| f.signatures).sum();
    let pages: u64 = files.iter().map(|f| f.pages as u64).sum();
    let signatures = plural(signatures.max(0) as u64, "signature", "signatures");
    let pages = plural(pages, "page", "pages");
    let in_files = plural(files.len() as u64, "file", "files");
    if many {
        let mut line = format!(
            "Delivered {} in {in_files} ({signatures}, {pages})",
            plural(campaigns as u64, "campaign", "campaigns")
        );
        if failed > 0 {
            line.push_str(&format!("; {failed} failed"));
        }
        line.push('.');
        line
    } else if files.len() == 1 {
        format!("Wrote {signatures}, {pages}.")
    } else {
        format!("Wrote {signatures} in {in_files}, {pages}.")
    }
}

fn report_uncovered(f: &DeliveredFile) {
    for u in &f.uncovered {
        let chars: String = u.chars.iter().collect();
        let codes: Vec<String> = u
            .chars
            .iter()
            .map(|c| format!("U+{:04X}", *c as u32))
            .collect();
        let hints: std::collections::BTreeSet<String> =
            u.chars.iter().map(|c| font_hint(*c)).collect();
        ui::warn(format!(
            "{}: signer row {} (signature id {}) has characters no font here draws: {:?} ({}); they are left out of the name. Install {} and deliver again.",
            f.file,
            u.row,
            u.signature_id,
            chars,
            codes.join(" "),
            hints.into_iter().collect::<Vec<_>>().join(", or ")
        ));
    }
}

/// Contact details go to the target only after a yes: on a terminal, says whose and how
/// many and asks; without one, `--yes` is needed. True to go on.
fn confirm_contacts(
    ctx: &Ctx,
    store: &dyn Store,
    args: &DeliverArgs,
    campaigns: &[&Campaign],
) -> anyhow::Result<bool> {
    if args.include.is_empty() || !args.show.lists_signers() || ctx.yes {
        return Ok(true);
    }
    let fields: Vec<&str> = args.include.iter().map(|f| f.as_str()).collect();
    let fields = fields.join(" and ");
    if !ctx.interactive {
        return Err(ctx
            .missing(
                format!("a yes to show signers' {fields} to the target (--include)"),
                "--yes",
            )
            .into());
    }
    let mut lines = Vec::new();
    for c in campaigns {
        let (mut emails, mut phones) = (0u64, 0u64);
        store.for_each_signer(c.id, &mut |s: Signature| {
            if let Some(shown) = shown_signer(&s, args.show, &args.include) {
                emails += u64::from(shown.email.is_some());
                phones += u64::from(shown.phone.is_some());
            }
            Ok(())
        })?;
        let mut seen = Vec::new();
        if args.include.contains(&ContactField::Email) {
            seen.push(format!(
                "the email of {}",
                plural(emails, "signer", "signers")
            ));
        }
        if args.include.contains(&ContactField::Phone) {
            seen.push(format!(
                "the phone of {}",
                plural(phones, "signer", "signers")
            ));
        }
        lines.push(format!(
            "the delivery of {} to {} will show {}, next to their names",
            c.slug,
            c.target,
            seen.join(" and ")
        ));
    }
    lines.push(
        "whoever receives it can pass them on, and a public body may have to publish them".into(),
    );
    ui::warn(lines.join("\n  "));
    if prompt::confirm(&format!("Include signers' {fields}?"), false)? {
        Ok(true)
    } else {
        Ok(false)
    }
}
