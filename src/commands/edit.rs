use clap::Args;

use super::fields::CampaignFields;
use super::{load_campaign, Access};
use crate::context::Ctx;
use crate::domain::campaign as rules;
use crate::domain::text::{clean, clean_multiline, clean_opt};
use crate::error::Error;
use crate::model::{Campaign, Lang, Scope};
use crate::store::CampaignUpdate;
use crate::ui::{self, prompt};

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

/// `edit --in LANG`: the petition's text in LANG, field by field.
fn translate(
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

fn update_from_flags(f: &CampaignFields) -> anyhow::Result<CampaignUpdate> {
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
    })
}

const EDITOR_HELP: &str =
    "# Edit the campaign below, save and quit. Lines starting with # are ignored.\n\
# Each field follows its '## name' line. 'where' is a place, or 'national' or 'global'.\n\
# Leave an optional field (postcode, country, goal, url) empty to clear it.\n";

/// Renders the campaign as readable sections for $EDITOR.
pub fn to_editor_text(c: &Campaign) -> String {
    let place = match c.scope {
        Scope::Local => c.location.clone().unwrap_or_default(),
        other => other.to_string(),
    };
    let opt = |v: &Option<String>| v.clone().unwrap_or_default();
    format!(
        "{EDITOR_HELP}\n## title\n{}\n\n## target\n{}\n\n## ask\n{}\n\n## why\n{}\n\n## where\n{place}\n\n## postcode\n{}\n\n## country\n{}\n\n## goal\n{}\n\n## url\n{}\n\n## lang\n{}\n",
        c.title,
        c.target,
        c.ask,
        c.why,
        opt(&c.postcode),
        opt(&c.country),
        c.goal.map(|g| g.to_string()).unwrap_or_default(),
        opt(&c.url),
        c.lang,
    )
}

/// Parses the editor text back into an update. Unknown sections are an error naming them.
pub fn from_editor_text(text: &str) -> Result<CampaignUpdate, Error> {
    let mut sections: Vec<(String, String)> = Vec::new();
    for line in text.lines() {
        if let Some(name) = line.strip_prefix("## ") {
            sections.push((name.trim().to_ascii_lowercase(), String::new()));
        } else if line.starts_with('#') {
            continue;
        } else if let Some((_, body)) = sections.last_mut() {
            body.push_str(line);
            body.push('\n');
        }
    }
    let mut fields = CampaignFields::default();
    for (name, body) in sections {
        let value = Some(body.trim().to_string());
        match name.as_str() {
            "title" => fields.title = value,
            "target" => fields.target = value,
            "ask" => fields.ask = value,
            "why" => fields.why = value,
            "where" => match body.trim().to_ascii_lowercase().as_str() {
                "national" => fields.national = true,
                "global" => fields.global = true,
                _ => fields.location = value,
            },
            "postcode" => fields.postcode = value,
            "country" => fields.country = value,
            "goal" => {
                fields.goal = match body.trim() {
                    "" => None,
                    g => Some(
                        g.parse()
                            .map_err(|_| Error::Invalid(format!("goal {g:?} is not a number")))?,
                    ),
                }
            }
            "url" => fields.url = value,
            "lang" => {
                fields.lang =
                    Some(body.trim().parse::<Lang>().map_err(|_| {
                        Error::Invalid(format!("lang {:?}: use en or es", body.trim()))
                    })?)
            }
            other => {
                return Err(Error::Invalid(format!(
                    "unknown section '## {other}' in the edited text"
                )))
            }
        }
    }
    let mut update = update_from_flags(&fields).map_err(|e| Error::Invalid(e.to_string()))?;
    if fields.goal.is_none() {
        update.goal = Some(None);
    }
    Ok(update)
}

fn edit_in_editor(campaign: &Campaign) -> anyhow::Result<Option<CampaignUpdate>> {
    let mut text = to_editor_text(campaign);
    loop {
        let Some(edited) = prompt::edit(&text, ".md")? else {
            return Ok(None);
        };
        match from_editor_text(&edited) {
            Ok(update) => return Ok(Some(update)),
            Err(e) => {
                ui::warn(e.to_string());
                if !prompt::confirm("Edit again?", true)? {
                    return Ok(None);
                }
                text = edited;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::campaign::changes;
    use crate::model::{CampaignDraft, Status};

    #[test]
    fn editor_text_round_trips() {
        let mut store = crate::store::SqliteStore::open_in_memory().unwrap();
        let draft = CampaignDraft {
            title: "Ciudad santuario".into(),
            target: "Alcaldía".into(),
            ask: "Declarar".into(),
            why: "Primera línea\n\nSegunda".into(),
            scope: Some(Scope::Local),
            location: Some("Oakland, CA".into()),
            goal: Some(500),
            ..Default::default()
        };
        let c = store.insert_campaign(&draft, "ciudad", None).unwrap();
        assert_eq!(c.status, Status::Draft);
        let update = from_editor_text(&to_editor_text(&c)).unwrap();
        assert!(
            changes(&update, &c).is_empty(),
            "{:?}",
            changes(&update, &c)
        );
        let edited = to_editor_text(&c).replace("## where\nOakland, CA", "## where\nglobal");
        let update = from_editor_text(&edited).unwrap();
        let fields: Vec<_> = changes(&update, &c).into_iter().map(|c| c.field).collect();
        assert_eq!(fields, ["scope", "location"]);
    }
}
