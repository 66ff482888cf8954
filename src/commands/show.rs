use clap::Args;
use serde::Serialize;

use super::{load_campaign, Access};
use crate::context::Ctx;
use crate::model::{Campaign, CampaignEdit, Delivery, SignatureCounts, Translation};
use crate::ui;

/// Shows a campaign's text, counts, edit history and deliveries.
#[derive(Debug, Args)]
pub struct ShowArgs {
    /// Campaign slug or id
    pub campaign: String,
}

#[derive(Debug, Serialize)]
pub struct CampaignDetails {
    pub campaign: Campaign,
    pub signatures: SignatureCounts,
    pub history: Vec<CampaignEdit>,
    pub deliveries: Vec<Delivery>,
    /// The petition's text in other languages (`edit --in LANG`).
    pub translations: Vec<Translation>,
    /// Counts per postcode (trimmed as delivery groups them), kept after a purge.
    pub by_postcode: Vec<CountsFor>,
    /// Counts per day signed (`YYYY-MM-DD`), kept after a purge.
    pub by_day: Vec<CountsFor>,
}

/// Counts for one postcode or one day.
#[derive(Debug, Serialize)]
pub struct CountsFor {
    pub key: String,
    #[serde(flatten)]
    pub counts: SignatureCounts,
}

fn counts_for(rows: Vec<(String, SignatureCounts)>) -> Vec<CountsFor> {
    rows.into_iter()
        .map(|(key, counts)| CountsFor { key, counts })
        .collect()
}

pub fn run(ctx: &Ctx, args: ShowArgs) -> anyhow::Result<()> {
    let mut store = ctx.store()?;
    let campaign = load_campaign(ctx, &mut *store, &args.campaign, Access::Read)?;
    // A read of the campaign's rows: only for --json, which gives them.
    let breakdown = if ctx.output.json {
        store.signature_breakdown(campaign.id)?
    } else {
        Default::default()
    };
    let details = CampaignDetails {
        signatures: store.signature_counts(campaign.id)?,
        history: store.campaign_edits(campaign.id)?,
        deliveries: store.deliveries(campaign.id)?,
        translations: store.translations(campaign.id)?,
        by_postcode: counts_for(breakdown.by_postcode),
        by_day: counts_for(breakdown.by_day),
        campaign,
    };
    if ctx.output.json {
        ui::out_json(&details)?;
        return Ok(());
    }
    ui::out_line(render(&details))?;
    Ok(())
}

fn render(d: &CampaignDetails) -> String {
    let c = &d.campaign;
    let s = &d.signatures;
    let dash = || "-".to_string();
    let mut out = ui::table::key_values([
        ("slug", format!("{} (id {})", c.slug, c.id)),
        ("title", c.title.clone()),
        ("to", c.target.clone()),
        ("ask", c.ask.clone()),
        ("why", c.why.clone()),
        ("where", c.place()),
        ("status", c.status.to_string()),
        ("language", c.lang.to_string()),
        ("goal", c.goal.map(|g| g.to_string()).unwrap_or_else(dash)),
        ("url", c.url.clone().unwrap_or_else(dash)),
        ("picture", c.picture_mime.clone().unwrap_or_else(dash)),
        ("owner", c.owner_email.clone().unwrap_or_else(dash)),
        (
            "signatures",
            format!(
                "{} ({} paper, {} online, {} not to be named)",
                s.total, s.paper, s.online, s.private
            ),
        ),
        ("created", c.created_at.clone()),
        ("updated", c.updated_at.clone()),
    ])
    .to_string();
    for t in &d.translations {
        let Some(lang) = t.lang else { continue };
        out.push_str(&format!("\n\nIn {lang}:\n"));
        let not_yet = || format!("(not translated: the {} text is used)", c.lang);
        let field = |v: &Option<String>| {
            v.clone()
                .filter(|v| !v.trim().is_empty())
                .unwrap_or_else(not_yet)
        };
        out.push_str(
            &ui::table::key_values([
                ("title", field(&t.title)),
                ("to", field(&t.target)),
                ("ask", field(&t.ask)),
                ("why", field(&t.why)),
            ])
            .to_string(),
        );
    }
    if !d.history.is_empty() {
        out.push_str("\n\nHistory:\n");
        let mut table = ui::table::new_table(["when", "field", "old", "new", "by"]);
        for e in &d.history {
            table.add_row(vec![
                e.edited_at.clone(),
                e.field.clone(),
                e.old_value.clone().unwrap_or_default(),
                e.new_value.clone().unwrap_or_default(),
                e.edited_by.clone().unwrap_or_default(),
            ]);
        }
        out.push_str(&table.to_string());
    }
    if !d.deliveries.is_empty() {
        out.push_str("\n\nDeliveries:\n");
        let mut table =
            ui::table::new_table(["when", "shown", "signatures", "to", "file", "sha256"]);
        for del in &d.deliveries {
            let mut shown = del.show_level.clone();
            if !del.included_fields.is_empty() {
                shown.push_str(&format!(" + {}", del.included_fields.join(",")));
            }
            table.add_row(vec![
                del.delivered_at.clone(),
                shown,
                del.signatures.to_string(),
                del.recipient.clone().unwrap_or_else(|| "(by hand)".into()),
                del.file.clone(),
                del.file_sha256.chars().take(16).collect(),
            ]);
        }
        out.push_str(&table.to_string());
    }
    out
}
