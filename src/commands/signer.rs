//! `campaign signer edit|remove|history`: correct or remove a saved signer by the sheet
//! and line it was typed from (`OAK-0007:5`) or by id, kept in the signer history.

use clap::{Args, Subcommand};

use super::{load_campaign, Access};
use crate::context::Ctx;
use crate::domain::signer::{self, Region};
use crate::error::Error;
use crate::model::{Signature, SignerEdited};
use crate::ops::signers::{self, SignerEdit, SignerRef};
use crate::ui;
use crate::ui::prompt;

/// Correct or remove a signer already saved, by sheet and line or by id. Every change
/// is kept in the campaign's signer history (`campaign signer history SLUG`).
#[derive(Debug, Args)]
pub struct SignerArgs {
    #[command(subcommand)]
    pub action: SignerAction,
}

#[derive(Debug, Subcommand)]
pub enum SignerAction {
    /// Change a signer's fields (asks for each on a terminal when no field is given)
    Edit(EditArgs),
    /// Remove a signer (asks first; --yes without a terminal)
    Remove(RemoveArgs),
    /// List every correction and removal, oldest first
    History(HistoryArgs),
}

#[derive(Debug, Args)]
pub struct EditArgs {
    /// Campaign slug or id
    pub campaign: String,
    /// The signer: sheet id and line as printed (OAK-0007:5), or the signer's id
    #[arg(value_name = "SHEET:LINE|ID")]
    pub signer: String,
    /// New name
    #[arg(long)]
    pub name: Option<String>,
    /// New email ("" clears it)
    #[arg(long)]
    pub email: Option<String>,
    /// New ZIP/postcode, kept as typed ("" clears it)
    #[arg(long)]
    pub postcode: Option<String>,
    /// New phone ("" clears it)
    #[arg(long)]
    pub phone: Option<String>,
    /// Whether they joined the mailing list
    #[arg(long, value_name = "yes|no", value_parser = parse_yes_no)]
    pub opt_in: Option<bool>,
    /// Whether they are counted without their name shown
    #[arg(long, value_name = "yes|no", value_parser = parse_yes_no)]
    pub private: Option<bool>,
}

#[derive(Debug, Args)]
pub struct RemoveArgs {
    /// Campaign slug or id
    pub campaign: String,
    /// The signer: sheet id and line as printed (OAK-0007:5), or the signer's id
    #[arg(value_name = "SHEET:LINE|ID")]
    pub signer: String,
}

#[derive(Debug, Args)]
pub struct HistoryArgs {
    /// Campaign slug or id
    pub campaign: String,
}

fn parse_yes_no(text: &str) -> Result<bool, String> {
    match text.trim().to_lowercase().as_str() {
        "yes" | "y" | "true" | "1" | "si" | "sí" => Ok(true),
        "no" | "n" | "false" | "0" => Ok(false),
        _ => Err(format!("{text:?}: answer yes or no")),
    }
}

pub fn run(ctx: &Ctx, args: SignerArgs) -> anyhow::Result<()> {
    match args.action {
        SignerAction::Edit(a) => edit(ctx, a),
        SignerAction::Remove(a) => remove(ctx, a),
        SignerAction::History(a) => history(ctx, a),
    }
}

fn describe(s: &Signature) -> String {
    let mut out = s.name.clone();
    if let Some(email) = &s.email {
        out.push_str(&format!(" <{email}>"));
    }
    if let Some(code) = &s.postcode {
        out.push_str(&format!(", {code}"));
    }
    match (&s.sheet_id, s.line) {
        (Some(sheet), Some(line)) => out.push_str(&format!(" (sheet {sheet} line {line})")),
        _ => out.push_str(&format!(" (signer {})", s.id)),
    }
    out
}

fn edit(ctx: &Ctx, args: EditArgs) -> anyhow::Result<()> {
    let reference = SignerRef::parse(&args.signer)?;
    let mut store = ctx.store()?;
    let campaign = load_campaign(ctx, &mut *store, &args.campaign, Access::Manage)?;
    let old = signers::find(&*store, campaign.id, &reference)?;
    let account = ctx.account()?;
    let region = Region::new(
        account.country.as_deref(),
        campaign.country.as_deref(),
        campaign.scope,
    );
    let mut change = SignerEdit {
        name: args.name,
        email: args.email,
        postcode: args.postcode,
        phone: args.phone,
        opt_in: args.opt_in,
        private: args.private,
    };
    if change.is_empty() {
        if !ctx.interactive {
            return Err(ctx
                .missing(
                    "the fields to change",
                    "--name, --email, --postcode, --phone, --opt-in or --private",
                )
                .into());
        }
        ui::say(format!("editing {}", describe(&old)));
        let ask = |label: &str, now: &Option<String>| -> anyhow::Result<Option<String>> {
            Ok(Some(prompt::text(label, now.as_deref(), true, |_| Ok(()))?))
        };
        change.name = Some(prompt::text("Name", Some(&old.name), false, |v| {
            signer::check_name(v).map(|_| ()).map_err(|p| p.message)
        })?);
        change.email = ask("Email", &old.email)?;
        change.postcode = ask("ZIP/postcode", &old.postcode)?;
        change.phone = ask("Phone", &old.phone)?;
        change.opt_in = Some(prompt::confirm("Joined the mailing list?", old.opt_in)?);
        change.private = Some(prompt::confirm(
            "Counted without their name shown?",
            old.private,
        )?);
    }
    if let Some(code) = change.postcode.as_deref().filter(|c| !c.trim().is_empty()) {
        if region.us && signer::unusual_us_zip(code.trim()) {
            ui::warn(format!(
                "{} is not a 5 or 9 digit ZIP: kept as typed",
                code.trim()
            ));
        }
    }
    let (new, changes) = signers::apply(&old, &change, region)?;
    if changes.is_empty() {
        ui::status(ctx, format!("{reference}: nothing changed"));
        return Ok(());
    }
    match store.edit_signature(&old, &new, &changes, account.email.as_deref())? {
        SignerEdited::Saved => {}
        SignerEdited::KeyTaken => {
            let what = if new.email.is_some() {
                "email"
            } else {
                "name and postcode"
            };
            return Err(Error::Invalid(format!(
                "another signer of this campaign already has this {what}: nothing changed"
            ))
            .into());
        }
        SignerEdited::ChangedMeanwhile => {
            return Err(Error::Invalid(format!(
                "{reference} was changed or removed by someone else meanwhile: nothing changed; look again and retry"
            ))
            .into());
        }
    }
    let fields: Vec<&str> = changes.iter().map(|c| c.field).collect();
    ui::status(
        ctx,
        format!(
            "{reference}: changed {} (kept in the signer history)",
            fields.join(", ")
        ),
    );
    if ctx.output.json {
        if let Some(now) = store.signature(campaign.id, old.id)? {
            ui::out_json(&now)?;
        }
    }
    Ok(())
}

fn remove(ctx: &Ctx, args: RemoveArgs) -> anyhow::Result<()> {
    let reference = SignerRef::parse(&args.signer)?;
    let mut store = ctx.store()?;
    let campaign = load_campaign(ctx, &mut *store, &args.campaign, Access::Manage)?;
    let old = signers::find(&*store, campaign.id, &reference)?;
    if !ctx.yes {
        let question = format!("Remove {} from {}?", describe(&old), campaign.slug);
        if !ctx.interactive {
            return Err(Error::Refused(format!("{question} Pass --yes to confirm.")).into());
        }
        if !prompt::confirm(&question, false)? {
            ui::status(ctx, "nothing removed");
            return Ok(());
        }
    }
    let account = ctx.account()?;
    if !store.remove_signature(&old, account.email.as_deref())? {
        return Err(Error::Invalid(format!("{reference} was already removed")).into());
    }
    ui::status(
        ctx,
        format!(
            "{reference}: removed (the signer history records the removal, not the signer's data)"
        ),
    );
    Ok(())
}

fn history(ctx: &Ctx, args: HistoryArgs) -> anyhow::Result<()> {
    let mut store = ctx.store()?;
    let campaign = load_campaign(ctx, &mut *store, &args.campaign, Access::Manage)?;
    let edits = store.signature_edits(campaign.id)?;
    if ctx.output.json {
        ui::out_json(&edits)?;
        return Ok(());
    }
    if edits.is_empty() {
        ui::status(ctx, "no signer was corrected or removed");
        return Ok(());
    }
    let mut table = ui::table::new_table(["when", "by", "signer", "change"]);
    for e in &edits {
        let place = match (&e.sheet_id, e.line) {
            (Some(sheet), Some(line)) => format!("{sheet}:{line}"),
            _ => format!("#{}", e.signature_id),
        };
        let change = match (e.action.as_str(), &e.field) {
            ("remove", _) => "removed".to_string(),
            (_, Some(field)) => format!(
                "{field}: {} → {}",
                e.old_value.as_deref().unwrap_or("(empty)"),
                e.new_value.as_deref().unwrap_or("(empty)")
            ),
            (action, None) => action.to_string(),
        };
        table.add_row([
            e.edited_at.clone(),
            e.edited_by.clone().unwrap_or_default(),
            place,
            change,
        ]);
    }
    ui::out_line(table.to_string())?;
    Ok(())
}
