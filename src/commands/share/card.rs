//! `share --card`: the campaign's share card written to a PNG.

use std::path::{Path, PathBuf};

use crate::context::Ctx;
use crate::model::Campaign;
use crate::render::card;
use crate::render::pdf::text::with_placeholder;
use crate::store::Store;
use crate::ui;

/// Draws the campaign's share card and writes it to `path` (a PNG); returns where.
pub(crate) fn write_card(
    ctx: &Ctx,
    store: &dyn Store,
    campaign: &Campaign,
    path: &Path,
) -> anyhow::Result<PathBuf> {
    let picture = store.picture(campaign.id)?.map(|(bytes, _mime)| bytes);
    let organization = ctx
        .account()
        .ok()
        .map(|a| a.display_organization().trim().to_string())
        .filter(|o| !o.is_empty());
    // What no font draws shows as U+FFFD rather than vanishing.
    let title = with_placeholder(&campaign.title, '\u{FFFD}');
    let (png, drawn) = card::render_png(&card::Card {
        title: &title,
        picture: picture.as_deref(),
        footer: organization.as_deref(),
    })
    .map_err(|e| anyhow::anyhow!("cannot make the share card: {e}"))?;
    if let Some(problem) = &drawn.picture_problem {
        ui::warn(format!(
            "the campaign picture was left off the share card: {problem}"
        ));
    }
    if drawn.title_cut {
        ui::warn(
            "the title is too long for the share card: it shows the first three lines, ending in \"…\"",
        );
    }
    if title != campaign.title {
        ui::warn(
            "the title has characters no font here can draw: they show as U+FFFD on the share card",
        );
    }
    Ok(ctx.files().write(path, &png)?.path)
}
