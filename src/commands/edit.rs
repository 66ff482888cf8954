use clap::Args;

use super::fields::CampaignFields;
use super::{load_campaign, Access};
use crate::context::Ctx;
use crate::domain::campaign as rules;
use crate::domain::text::{clean, clean_multiline, clean_opt};
use crate::error::Error;
use crate::model::{Lang, Scope};
use crate::store::CampaignUpdate;
use crate::ui::{self, prompt};

mod editor;
mod translate;

use editor::edit_in_editor;
pub use editor::{from_editor_text, to_editor_text};
use translate::translate;

/// Changes a campaign. Flags set fields (an empty value clears an optional one); with no
/// flags on a terminal, $EDITOR opens on the whole campaign. Every change is kept in the
/// history `campaign show` lists.
#[derive(Debug, Args)]
pub struct EditArgs {
    /// Campaign slug or id
    pub campaign: String,

    #[command(flatten)]
    pub fields: CampaignFields,

    /// Set the petition's text in another language instead (with --title, --target,
    /// --ask, --why): documents, share texts and emails in LANG use it, and what is not
    /// translated stays in the campaign's own language
    #[arg(long = "in", value_name = "LANG", value_parser = super::values::lang())]
    pub in_lang: Option<Lang>,
}

pub fn run(ctx: &Ctx, args: EditArgs) -> anyhow::Result<()> {
    let mut store = ctx.store()?;
    let campaign = load_campaign(ctx, &mut *store, &args.campaign, Access::Manage)?;
    if let Some(lang) = args.in_lang.filter(|l| *l != campaign.lang) {
        return translate(ctx, &mut *store, &campaign, lang, &args.fields);
    }
    let update = if !args.fields.is_empty() {
        update_from_flags(&args.fields)?
    } else if ctx.interactive {
        match edit_in_editor(&campaign)? {
            Some(update) => update,
            None => {
                ui::status(ctx, "no changes saved");
                return Ok(());
            }
        }
    } else {
        return Err(Error::Usage(
            "nothing to change: pass the fields to change (e.g. --title \"...\"), or run on a terminal to open $EDITOR".into(),
        )
        .into());
    };

    let changes = crate::domain::campaign::changes(&update, &campaign);
    if changes.is_empty() {
        ui::status(ctx, "nothing changed");
        return Ok(());
    }
    let text_changed = changes
        .iter()
        .any(|c| matches!(c.field, "title" | "target" | "ask" | "why"));
    let counts = store.signature_counts(campaign.id)?;
    if text_changed && counts.total > 0 && !ctx.yes {
        let question = format!(
            "{} people signed the current text. Change it anyway?",
            counts.total
        );
        if !ctx.interactive {
            return Err(Error::Refused(format!("{question} Pass --yes to confirm.")).into());
        }
        if !prompt::confirm(&question, false)? {
            ui::status(ctx, "no changes saved");
            return Ok(());
        }
    }
    let account = ctx.account()?;
    let changed = store.update_campaign(campaign.id, &changes, account.email.as_deref())?;
    ui::status(
        ctx,
        ui::count("fields_updated", changed, &[("slug", &campaign.slug)]),
    );
    if ctx.output.json {
        ui::out_json(&store.campaign_by_id(campaign.id)?)?;
    }
    Ok(())
}

pub(super) fn update_from_flags(f: &CampaignFields) -> anyhow::Result<CampaignUpdate> {
    let required =
        |flag: &str, v: &Option<String>, multiline: bool| -> Result<Option<String>, Error> {
            match v {
                None => Ok(None),
                Some(v) => {
                    let v = if multiline {
                        clean_multiline(v)
                    } else {
                        clean(v)
                    };
                    if v.is_empty() {
                        Err(Error::Usage(format!("{flag} cannot be empty")))
                    } else {
                        Ok(Some(v))
                    }
                }
            }
        };
    let optional = |v: &Option<String>| v.as_ref().map(|v| clean_opt(Some(v)));
    if let Some(Some(url)) = optional(&f.url) {
        rules::validate_url(&url).map_err(Error::Usage)?;
    }
    if let Some(goal) = f.goal {
        rules::validate_goal(goal).map_err(Error::Usage)?;
    }
    if f.location.as_deref().is_some_and(|l| l.trim().is_empty()) {
        return Err(Error::Usage(
            "--location cannot be empty: name the place, or pass --national or --global".into(),
        )
        .into());
    }
    let scope = f.scope();
    Ok(CampaignUpdate {
        title: required("--title", &f.title, false)?,
        target: required("--target", &f.target, false)?,
        ask: required("--ask", &f.ask, true)?,
        why: required("--why", &f.why, true)?,
        scope,
        // Moving to national or global drops the place.
        location: match scope {
            Some(Scope::Local) => Some(clean_opt(f.location.as_deref())),
            Some(_) => Some(None),
            None => None,
        },
        postcode: optional(&f.postcode),
        country: optional(&f.country).map(|c| c.map(|c| c.to_ascii_uppercase())),
        goal: f.goal.map(Some),
        url: optional(&f.url),
        lang: f.lang,
        retain: f.retain.as_ref().map(|r| (r != "none").then(|| r.clone())),
    })
}
