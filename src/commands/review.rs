use std::path::PathBuf;

use clap::Args;
use serde::Serialize;

use super::{load_campaign, Access};
use crate::bounded::{self, Accept};
use crate::context::Ctx;
use crate::domain::campaign::{review_warnings, translation_warnings, ReviewWarning};
use crate::domain::picture;
use crate::error::Error;
use crate::model::{Campaign, SignatureCounts, Status};
use crate::ui::{self, prompt};

/// Shows the petition as a signer would read it and lists what to fix.
#[derive(Debug, Args)]
pub struct ReviewArgs {
    /// Campaign slug or id
    pub campaign: String,

    /// Add or replace the picture: a PNG or JPEG, at least 600x315 px, at most 10 MB
    #[arg(long, value_name = "FILE")]
    pub picture: Option<PathBuf>,

    /// Launch the petition: a draft becomes live and can collect and share
    #[arg(long)]
    pub launch: bool,
}

#[derive(Debug, Serialize)]
pub struct Review {
    pub campaign: Campaign,
    pub signatures: SignatureCounts,
    pub warnings: Vec<ReviewWarning>,
    /// The share card written for the new picture, if one was given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub card: Option<PathBuf>,
}

pub fn run(ctx: &Ctx, args: ReviewArgs) -> anyhow::Result<()> {
    let mut store = ctx.store()?;
    let access = if args.picture.is_some() || args.launch {
        Access::Manage
    } else {
        Access::Read
    };
    let mut campaign = load_campaign(ctx, &mut *store, &args.campaign, access)?;
    let account = ctx.account()?;

    if let Some(path) = &args.picture {
        // Bounded: a wrong path (`/dev/zero`, a FIFO, a huge file) is refused, never read whole.
        let bytes = bounded::read(path, picture::MAX_BYTES as u64, Accept::Files).map_err(|e| {
            Error::Invalid(format!(
                "--picture {}: {e}: give a PNG or JPEG file of at most 10 MB",
                path.display()
            ))
        })?;
        let (mime, width, height) = picture::check(&bytes)
            .map_err(|why| Error::Invalid(format!("--picture {}: {why}", path.display())))?;
        store.set_picture(campaign.id, &bytes, mime)?;
        ui::status(ctx, format!("picture saved ({width}x{height} px)"));
        campaign = store.campaign_by_id(campaign.id)?;
    }
    // A new picture: show the organizer the card people will see when the link is posted.
    let card = match &args.picture {
        Some(_) => {
            let path = ctx
                .paths
                .documents_dir()
                .join(format!("{}-card.png", campaign.slug));
            let path = super::share::write_card(ctx, &*store, &campaign, &path)?;
            ui::status(
                ctx,
                format!(
                    "share card (what a post of the link shows): {}",
                    path.display()
                ),
            );
            Some(path)
        }
        None => None,
    };

    let mut warnings = review_warnings(&campaign);
    // The organizer's language is one the campaign is used in.
    let used: Vec<_> = account.lang.into_iter().collect();
    warnings.extend(translation_warnings(
        &campaign,
        &used,
        &store.translations(campaign.id)?,
    ));
    let review = Review {
        card,
        signatures: store.signature_counts(campaign.id)?,
        warnings,
        campaign: campaign.clone(),
    };
    if ctx.output.json && !args.launch {
        ui::out_json(&review)?;
    } else if !ctx.output.json {
        ui::out_line(render(&review))?;
        for warning in &review.warnings {
            ui::warn(&warning.message);
        }
    }

    let launch = match campaign.status {
        Status::Draft if args.launch => true,
        Status::Draft if ctx.interactive => prompt::confirm("Launch this petition now?", false)?,
        Status::Draft => false,
        _ if args.launch => {
            ui::status(
                ctx,
                format!("{} is already {}", campaign.slug, campaign.status),
            );
            false
        }
        _ => false,
    };
    if launch {
        store.set_status(&campaign, Status::Live, account.email.as_deref())?;
        ui::status(
            ctx,
            format!(
                "{} is live: share it with `campaign share {}`",
                campaign.slug, campaign.slug
            ),
        );
    }
    if ctx.output.json && args.launch {
        let review = Review {
            campaign: store.campaign_by_id(campaign.id)?,
            ..review
        };
        ui::out_json(&review)?;
    }
    Ok(())
}

fn render(review: &Review) -> String {
    let c = &review.campaign;
    let rule = "─".repeat(60);
    let mut out = format!("{rule}\n{}\n{rule}\n", c.title);
    out.push_str(&format!("To: {}\n\n", c.target));
    out.push_str(&format!("{}\n\n", c.ask));
    out.push_str(&format!("Why this is important\n{}\n\n", c.why));
    out.push_str(&format!("Where: {}\n", c.place()));
    let s = &review.signatures;
    match c.goal {
        Some(goal) => out.push_str(&format!(
            "Signatures: {} of {goal} ({} on paper)\n",
            s.total, s.paper
        )),
        None => out.push_str(&format!("Signatures: {} ({} on paper)\n", s.total, s.paper)),
    }
    out.push_str(&format!(
        "Picture: {}\n",
        c.picture_mime.as_deref().unwrap_or("none")
    ));
    out.push_str(&format!("URL: {}\n", c.url.as_deref().unwrap_or("none")));
    out.push_str(&format!(
        "Share card: `campaign share {} --card {}-card.png` draws what a post of the link shows\n",
        c.slug, c.slug
    ));
    out.push_str(&format!("Status: {}", c.status));
    out
}
