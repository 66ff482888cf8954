//! `edit --in LANG`: the petition's own text in another language.

use super::update_from_flags;
use crate::commands::fields::CampaignFields;
use crate::context::Ctx;
use crate::error::Error;
use crate::model::{Campaign, Lang};
use crate::ui;

/// `edit --in LANG`: the petition's text in LANG, field by field.
pub(super) fn translate(
    ctx: &Ctx,
    store: &mut dyn crate::store::Store,
    campaign: &Campaign,
    lang: Lang,
    f: &CampaignFields,
) -> anyhow::Result<()> {
    let only_text = CampaignFields {
        title: f.title.clone(),
        target: f.target.clone(),
        ask: f.ask.clone(),
        why: f.why.clone(),
        ..Default::default()
    };
    let mut rest = f.clone();
    (rest.title, rest.target, rest.ask, rest.why) = (None, None, None, None);
    if !rest.is_empty() {
        return Err(Error::Usage(format!(
            "--in {lang} takes only --title, --target, --ask and --why: change the rest without --in"
        ))
        .into());
    }
    if only_text.is_empty() {
        return Err(Error::Usage(format!(
            "--in {lang} sets the petition's text in {lang}: pass --title, --target, --ask and/or --why"
        ))
        .into());
    }
    let update = update_from_flags(&only_text)?;
    let texts = crate::model::Translation {
        lang: Some(lang),
        title: update.title,
        target: update.target,
        ask: update.ask,
        why: update.why,
    };
    let account = ctx.account()?;
    let changed = store.set_translation(campaign.id, lang, &texts, account.email.as_deref())?;
    let lang_text = lang.to_string();
    ui::status(
        ctx,
        ui::count(
            "fields_translated",
            changed,
            &[("slug", &campaign.slug), ("lang", &lang_text)],
        ),
    );
    let missing = store
        .translations(campaign.id)?
        .into_iter()
        .find(|t| t.lang == Some(lang))
        .map(|t| t.missing())
        .unwrap_or_default();
    if !missing.is_empty() {
        ui::warn(format!(
            "not in {lang} yet: {} (the campaign's own text is used there); add with --in {lang} {}",
            missing.join(", "),
            missing
                .iter()
                .map(|m| format!("--{m} ..."))
                .collect::<Vec<_>>()
                .join(" ")
        ));
    }
    if ctx.output.json {
        ui::out_json(&store.translations(campaign.id)?)?;
    }
    Ok(())
}
