//! `campaign team add|list|remove`: the people of a campaign database shared on
//! PostgreSQL, each with a login of their own; the database enforces what they may do.

use clap::{Args, Subcommand};

use crate::context::Ctx;
use crate::error::Error;
use crate::model::TeamKind;
use crate::ops::team;
use crate::store::DbLocation;
use crate::ui;
use crate::ui::prompt;

/// Give people of your team their own login to the shared PostgreSQL database:
/// organizers do everything on their campaigns; volunteers add signatures to theirs and
/// can never read, export or deliver the signer list. The database itself enforces this.
/// Run it as the user that owns campaign's tables (and may create users).
#[derive(Debug, Args)]
pub struct TeamArgs {
    #[command(subcommand)]
    pub action: TeamAction,
}

#[derive(Debug, Subcommand)]
pub enum TeamAction {
    /// Add a person: prints the URL they connect with (its password is shown this once)
    Add(AddArgs),
    /// List the people of the team, their role and campaigns (never a password)
    List,
    /// Remove a person: their login stops working at once (asks first; --yes without a terminal)
    Remove(RemoveArgs),
}

#[derive(Debug, Args)]
pub struct AddArgs {
    /// Their email address (the team knows them by it)
    pub email: String,
    /// organizer: everything on their campaigns; volunteer: adds signatures, reads none
    #[arg(long, value_parser = super::values::team_role())]
    pub role: TeamKind,
    /// A campaign (slug or id) they work on; repeat for more. Without it an organizer
    /// works on every campaign; a volunteer needs at least one
    #[arg(long = "campaign", value_name = "SLUG")]
    pub campaigns: Vec<String>,
}

#[derive(Debug, Args)]
pub struct RemoveArgs {
    /// Their email address
    pub email: String,
}

pub fn run(ctx: &Ctx, args: TeamArgs) -> anyhow::Result<()> {
    match args.action {
        TeamAction::Add(args) => add(ctx, args),
        TeamAction::List => list(ctx),
        TeamAction::Remove(args) => remove(ctx, args),
    }
}

fn add(ctx: &Ctx, args: AddArgs) -> anyhow::Result<()> {
    let mut store = ctx.store()?;
    let added = team::add(
        &mut *store,
        &ctx.paths.location,
        &args.email,
        args.role,
        &args.campaigns,
    )?;
    if ctx.output.json {
        ui::out_json(&added)?;
    } else {
        ui::out_line(&added.url)?;
    }
    let what = match added.role {
        TeamKind::Organizer => "an organizer",
        TeamKind::Volunteer => "a volunteer",
    };
    ui::status(
        ctx,
        format!(
            "{} is now {what} of the team (PostgreSQL user {}). Hand them the URL above \
             in person or through a private channel: it holds their password, shown this \
             once and never again. They connect with `campaign --db URL ...` (or put it in \
             CAMPAIGN_DB)",
            added.email, added.user
        ),
    );
    if let DbLocation::Postgres(target) = &ctx.paths.location {
        if target.is_local() {
            ui::status(
                ctx,
                "the URL names this computer: on another one, put this server's address in \
                 its place",
            );
        }
    }
    Ok(())
}

fn list(ctx: &Ctx) -> anyhow::Result<()> {
    let store = ctx.store()?;
    let people = store.team_list()?;
    if ctx.output.json {
        ui::out_json(&people)?;
        return Ok(());
    }
    if people.is_empty() {
        ui::status(
            ctx,
            "nobody in the team yet: add people with `campaign team add`",
        );
        return Ok(());
    }
    let mut table = ui::table::new_table(["email", "role", "campaigns", "user", "added"]);
    for p in &people {
        table.add_row([
            p.email.clone(),
            p.role.to_string(),
            p.campaigns
                .as_ref()
                .map_or_else(|| "all".to_string(), |c| c.join(", ")),
            p.user.clone(),
            p.created_at.clone(),
        ]);
    }
    ui::out_line(table.to_string())?;
    Ok(())
}

fn remove(ctx: &Ctx, args: RemoveArgs) -> anyhow::Result<()> {
    let mut store = ctx.store()?;
    let email = args.email.trim();
    if !ctx.yes {
        let question = format!("Remove {email} from the team? Their login stops working.");
        if !ctx.interactive {
            return Err(Error::Refused(format!("{question} Pass --yes to confirm.")).into());
        }
        if !prompt::confirm(&question, false)? {
            ui::status(ctx, "nobody removed");
            return Ok(());
        }
    }
    match store.team_remove(email)? {
        Some(user) => {
            ui::status(
                ctx,
                format!(
                    "{email} removed from the team: the PostgreSQL user {user} is gone (what \
                     they entered stays)"
                ),
            );
            Ok(())
        }
        None => Err(Error::Invalid(format!(
            "{email} is not in the team (see `campaign team list`)"
        ))
        .into()),
    }
}
