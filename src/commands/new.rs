use clap::Args;

use super::fields::{CampaignFields, TemplateArg};
use crate::config::Account;
use crate::context::Ctx;
use crate::domain::campaign::{self as rules};
use crate::domain::slug::slugify;
use crate::domain::templates::template;
use crate::domain::text::{clean, clean_multiline, clean_opt};
use crate::error::Error;
use crate::model::{CampaignDraft, Lang, Scope};
use crate::ui::{self, prompt};

/// Prints the new campaign's slug on stdout (or the campaign with --json), so scripts can
/// do `slug=$(campaign new ...)`. On a terminal, anything missing is asked for.
#[derive(Debug, Args)]
pub struct NewArgs {
    #[command(flatten)]
    pub fields: CampaignFields,

    #[command(flatten)]
    pub template: TemplateArg,
}

pub fn run(ctx: &Ctx, args: NewArgs) -> anyhow::Result<()> {
    let mut account = ctx.account()?;
    let mut draft = draft_from_flags(&args, &account)?;

    if ctx.interactive {
        ask_for_missing(&mut draft, args.template.template.is_some())?;
    } else {
        // Every missing flag at once: one run to fix them all.
        let missing = rules::missing_fields(&draft);
        if !missing.is_empty() {
            let fields: Vec<&str> = missing.iter().map(|m| m.field).collect();
            // "--location PLACE, --national or --global" is one choice among the flags.
            let flags: Vec<String> = missing
                .iter()
                .map(|m| match m.flag.contains(' ') && missing.len() > 1 {
                    true => format!("({})", m.flag),
                    false => m.flag.to_string(),
                })
                .collect();
            let flags: Vec<&str> = flags.iter().map(String::as_str).collect();
            return Err(ctx
                .missing(format!("campaign {}", and_list(&fields)), and_list(&flags))
                .into());
        }
    }
    if rules::title_too_long(&draft.title) {
        ui::warn(format!(
            "the title is {} characters; under {} reads best",
            draft.title.chars().count(),
            rules::TITLE_SOFT_MAX
        ));
    }

    // As on the web: saving asks who you are when nobody is signed in yet.
    if !account.is_complete() {
        if !ctx.interactive {
            return Err(Error::NoAccount.into());
        }
        ui::say(format!(
            "Before saving, tell us who you are (stored in {}).",
            ctx.paths.config_file().display()
        ));
        account.name = Some(
            prompt::text("Your name", account.name.as_deref(), false, |v: &String| {
                non_empty(v)
            })?
            .trim()
            .to_string(),
        );
        account.email = Some(
            prompt::text(
                "Your email",
                account.email.as_deref(),
                false,
                |e: &String| {
                    if crate::domain::email_ok(e.trim()) {
                        Ok(())
                    } else {
                        Err("that is not an email address like ana@example.org".into())
                    }
                },
            )?
            .trim()
            .to_string(),
        );
        ctx.save_account(&account)?;
    }

    let mut store = ctx.store()?;
    let mut campaign =
        store.insert_campaign(&draft, &slugify(&draft.title), account.email.as_deref())?;
    if let Some(retain) = args.fields.retain.as_deref().filter(|r| *r != "none") {
        let change = crate::model::FieldChange {
            field: "retain",
            old: None,
            new: Some(retain.to_string()),
        };
        store.update_campaign(campaign.id, &[change], account.email.as_deref())?;
        campaign = store.campaign_by_id(campaign.id)?;
    }
    if ctx.output.json {
        ui::out_json(&campaign)?;
    } else {
        ui::out_line(&campaign.slug)?;
        ui::status(
            ctx,
            format!(
                "saved draft {:?}; next: `campaign review {}`",
                campaign.title, campaign.slug
            ),
        );
    }
    Ok(())
}

fn draft_from_flags(args: &NewArgs, account: &Account) -> anyhow::Result<CampaignDraft> {
    let f = &args.fields;
    for (flag, value) in [
        ("--title", &f.title),
        ("--target", &f.target),
        ("--ask", &f.ask),
        ("--why", &f.why),
        ("--location", &f.location),
    ] {
        if value.as_deref().is_some_and(|v| v.trim().is_empty()) {
            return Err(Error::Usage(format!(
                "{flag} is empty: give it some text, or leave the flag out"
            ))
            .into());
        }
    }
    let lang = f.lang.or(account.lang).unwrap_or(Lang::En);
    let prefill = args
        .template
        .template
        .map(|kind| template(kind.into(), lang));
    let pick = |flag: &Option<String>, prefilled: Option<&str>, multiline: bool| -> String {
        match flag.as_deref().or(prefilled) {
            Some(v) if multiline => clean_multiline(v),
            Some(v) => clean(v),
            None => String::new(),
        }
    };
    if let Some(url) = f.url.as_deref().filter(|u| !u.trim().is_empty()) {
        rules::validate_url(url.trim()).map_err(Error::Usage)?;
    }
    if let Some(goal) = f.goal {
        rules::validate_goal(goal).map_err(Error::Usage)?;
    }
    Ok(CampaignDraft {
        title: pick(&f.title, None, false),
        target: pick(&f.target, prefill.as_ref().map(|t| t.target), false),
        ask: pick(&f.ask, prefill.as_ref().map(|t| t.ask), true),
        why: pick(&f.why, prefill.as_ref().map(|t| t.why), true),
        scope: f.scope(),
        location: clean_opt(f.location.as_deref()),
        postcode: clean_opt(f.postcode.as_deref()),
        country: clean_opt(f.country.as_deref()).map(|c| c.to_ascii_uppercase()),
        goal: f.goal,
        url: clean_opt(f.url.as_deref()),
        lang: Some(lang),
    })
}

/// "a", "a and b", "a, b and c".
fn and_list(items: &[&str]) -> String {
    match items {
        [] => String::new(),
        [one] => one.to_string(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

fn non_empty(value: &str) -> Result<(), String> {
    if value.trim().is_empty() {
        Err("this cannot be empty".into())
    } else {
        Ok(())
    }
}

/// Where a prompted answer goes in the draft.
type FieldSlot = fn(&mut CampaignDraft) -> &mut String;

/// Prompts for each missing field; prefilled template text is offered for editing.
fn ask_for_missing(draft: &mut CampaignDraft, from_template: bool) -> anyhow::Result<()> {
    if draft.title.is_empty() {
        draft.title = clean(&prompt::text(
            "Petition title (short and specific)",
            None,
            false,
            |t: &String| {
                non_empty(t)?;
                if rules::title_too_long(t.trim()) {
                    // A long title is allowed; say so once, then accept it.
                    ui::say(format!(
                        "  note: {} characters; under {} reads best",
                        t.trim().chars().count(),
                        rules::TITLE_SOFT_MAX
                    ));
                }
                Ok(())
            },
        )?);
    }
    let questions: [(&str, FieldSlot, bool); 3] = [
        (
            "Who can give you what you want? (the target)",
            |d| &mut d.target,
            false,
        ),
        (
            "What exactly should they do? (the ask)",
            |d| &mut d.ask,
            true,
        ),
        ("Why does it matter?", |d| &mut d.why, true),
    ];
    for (question, slot, multiline) in questions {
        let current = slot(draft).clone();
        if current.is_empty() || from_template {
            let answer = prompt::text(question, Some(&current), false, |v: &String| non_empty(v))?;
            *slot(draft) = if multiline {
                clean_multiline(&answer)
            } else {
                clean(&answer)
            };
        }
    }
    if draft.scope.is_none() {
        let choice = prompt::select(
            "Where is the campaign?",
            &["A place (city, campus, school)", "National", "Global"],
            0,
        )?;
        draft.scope = Some([Scope::Local, Scope::National, Scope::Global][choice]);
    }
    if draft.scope == Some(Scope::Local) && draft.location.is_none() {
        draft.location = Some(clean(&prompt::text(
            "Place (e.g. Oakland, CA)",
            None,
            false,
            |v: &String| non_empty(v),
        )?));
        if draft.postcode.is_none() {
            draft.postcode = clean_opt(Some(&prompt::text(
                "ZIP/postcode (optional)",
                None,
                true,
                |_: &String| Ok(()),
            )?));
        }
    }
    Ok(())
}
