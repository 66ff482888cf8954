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

/// What `list` prints: a table, or (narrow) lines.
pub enum Listing {
    Table(ui::table::Table),
    Lines(String),
}

impl std::fmt::Display for Listing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Listing::Table(t) => t.fmt(f),
            Listing::Lines(l) => f.write_str(l),
        }
    }
}

/// The campaigns as a table fitted to the terminal ([`ui::table::width`]). The id and
/// the slug are never wrapped: they are what every other command takes. When the full
/// table (with where and the paper/online/unnamed counts) cannot fit, a plain one
/// without lines keeps the id, slug, status, count and goal whole and wraps the title.
pub fn table(campaigns: &[CampaignSummary]) -> Listing {
    let goal = |c: &CampaignSummary| {
        c.campaign
            .goal
            .map(|g| g.to_string())
            .unwrap_or_else(|| "-".into())
    };
    let widest = |header: &str, cell: &dyn Fn(&CampaignSummary) -> String| -> usize {
        campaigns
            .iter()
            .map(|c| cell(c).chars().count())
            .chain([header.chars().count()])
            .max()
            .unwrap_or(0)
    };
    let id = |c: &CampaignSummary| c.campaign.id.to_string();
    let slug = |c: &CampaignSummary| c.campaign.slug.clone();
    let status = |c: &CampaignSummary| c.campaign.status.to_string();
    let count = |c: &CampaignSummary| c.signatures.total.to_string();
    let today = time::OffsetDateTime::now_utc().date().to_string();
    let purge = |c: &CampaignSummary| purge_cell(c, &today);
    // Whole columns, each with its padding and one border; title and where at least 12.
    let whole = widest("id", &id) + widest("slug", &slug) + widest("status", &status);
    let full_needs = whole
        + widest("signatures", &count)
        + "paper".len().max(6)
        + "online".len().max(6)
        + "unnamed".len()
        + widest("goal", &goal)
        + widest("purge", &purge)
        + 2 * 12
        + 11 * 3
        + 1;
    let full = ui::table::width().is_none_or(|w| full_needs <= usize::from(w));
    if full {
        let mut table = ui::table::new_table([
            "id",
            "slug",
            "title",
            "status",
            "where",
            "signatures",
            "paper",
            "online",
            "unnamed",
            "goal",
            "purge",
        ]);
        for c in campaigns {
            let s = &c.signatures;
            table.add_row(vec![
                id(c),
                slug(c),
                ui::shorten(&c.campaign.title, 50),
                status(c),
                ui::shorten(&c.campaign.place(), 30),
                s.total.to_string(),
                s.paper.to_string(),
                s.online.to_string(),
                s.private.to_string(),
                goal(c),
                purge(c),
            ]);
        }
        for column in [0, 1, 3, 5, 6, 7, 8, 9, 10] {
            table.keep_whole(column);
        }
        return Listing::Table(table);
    }
    // Narrow: one line of whole columns per campaign, the title under it (cut to fit).
    let width = ui::table::width().map_or(80, usize::from);
    let widths = [
        widest("id", &id),
        widest("slug", &slug),
        widest("status", &status),
        widest("signed", &count),
        widest("goal", &goal),
    ];
    let line = |cells: [String; 5]| -> String {
        let mut out = String::new();
        for (cell, w) in cells.iter().zip(widths) {
            out.push_str(&format!("{cell:<w$}  "));
        }
        out.trim_end().to_string()
    };
    let mut out = vec![line(
        ["id", "slug", "status", "signed", "goal"].map(String::from),
    )];
    for c in campaigns {
        out.push(line([id(c), slug(c), status(c), count(c), goal(c)]));
        let indent = widths[0] + 2;
        out.push(format!(
            "{:indent$}{}",
            "",
            // Cut by display width: a CJK character takes two columns.
            console::truncate_str(
                &ui::term::sanitize_cell(&c.campaign.title),
                width.saturating_sub(indent).max(12),
                "…"
            )
        ));
    }
    Listing::Lines(out.join("\n"))
}

/// When the campaign's signers are (or were) purged: "due 2027-06-01", "overdue since
/// 2027-06-01", "purged 2027-06-02", or "-".
fn purge_cell(c: &CampaignSummary, today: &str) -> String {
    if let Some(at) = &c.campaign.purged_at {
        return format!("purged {}", at.get(..10).unwrap_or(at));
    }
    match &c.purge_due {
        Some(due) if due.as_str() < today => format!("overdue since {due}"),
        Some(due) => format!("due {due}"),
        None => "-".into(),
    }
}
