use clap::Args;
use serde::Serialize;

use super::{load_campaign, Access};
use crate::context::Ctx;
use crate::error::Error;
use crate::mail::{Outbox, Posted, Postman};
use crate::model::{AdminStatus, Campaign, TeamKind};
use crate::render::mail::{self, MailKind};
use crate::store::Store;
use crate::ui;

/// Lists a campaign's organizers: its owner (the account that created it) and its admins,
/// invited or active. Only organizers may add or remove admins. An invited admin becomes
/// active the first time they run a command on the campaign with the invited address.
#[derive(Debug, Args)]
pub struct AdminsArgs {
    /// Campaign slug or id
    pub campaign: String,

    /// Invite a co-organizer by email (repeat for more); writes an invitation email
    #[arg(long, value_name = "EMAIL")]
    pub add: Vec<String>,

    /// Remove an admin by email (repeat for more); the owner cannot be removed
    #[arg(long, value_name = "EMAIL")]
    pub remove: Vec<String>,

    /// Send the invitations now through your SMTP server instead of leaving them in the outbox
    #[arg(long)]
    pub send: bool,
}

#[derive(Debug, Serialize)]
struct AdminsView {
    campaign: String,
    /// The account that created the campaign; none for campaigns made before accounts.
    owner: Option<String>,
    /// Everyone who may manage the campaign, the owner first.
    organizers: Vec<Organizer>,
    /// Invitation emails written by this run.
    invitations: Vec<Posted>,
}

#[derive(Debug, Serialize)]
struct Organizer {
    email: String,
    role: &'static str,
    status: AdminStatus,
    invited_by: Option<String>,
    invited_at: Option<String>,
    activated_at: Option<String>,
}

pub fn run(ctx: &Ctx, args: AdminsArgs) -> anyhow::Result<()> {
    if args.send && args.add.is_empty() {
        return Err(Error::Usage("--send goes with --add EMAIL".into()).into());
    }
    let changing = !args.add.is_empty() || !args.remove.is_empty();
    let mut store = ctx.store()?;
    let access = if changing {
        Access::Manage
    } else {
        Access::Read
    };
    let campaign = load_campaign(ctx, &mut *store, &args.campaign, access)?;
    let owner = campaign.owner_email.as_deref().map(str::trim);
    let is_owner = |email: &str| owner.is_some_and(|o| o.eq_ignore_ascii_case(email));

    // Check everything before changing anything.
    let add: Vec<String> = args.add.iter().map(|e| e.trim().to_string()).collect();
    let remove: Vec<String> = args.remove.iter().map(|e| e.trim().to_string()).collect();
    for email in &add {
        if !crate::domain::email_ok(email) {
            return Err(Error::Usage(format!(
                "--add {email:?} is not an email address like luis@example.org"
            ))
            .into());
        }
    }
    if let Some(email) = remove.iter().find(|e| is_owner(e)) {
        return Err(Error::Refused(format!(
            "{email} owns {} and cannot be removed; the owner stays an organizer",
            campaign.slug
        ))
        .into());
    }

    let mut invitations = Vec::new();
    let mut failed = 0;
    if !add.is_empty() {
        let postman = Postman::new(&ctx.paths, &ctx.account()?, args.send)?;
        for email in &add {
            if is_owner(email) {
                ui::warn(format!("{email} is the owner of {}", campaign.slug));
                continue;
            }
            if !store.add_admin(campaign.id, email, Some(&postman.sender.email))? {
                ui::warn(format!("{email} is already an admin: not invited again"));
                continue;
            }
            let reach = reach(ctx, &*store, email);
            let built =
                mail::admin_invitation(&postman.sender, &campaign, campaign.lang, email, &reach)?;
            let invitation = postman.post(&built)?;
            if let Some(reason) = &invitation.failure {
                failed += 1;
                ui::warn(format!("could not send to {email}: {reason}"));
            }
            ui::status(
                ctx,
                if invitation.sent {
                    format!("invited {email}: invitation sent")
                } else {
                    format!("invited {email}: invitation waiting in the outbox")
                },
            );
            invitations.push(invitation);
        }
    }
    for email in &remove {
        if store.remove_admin(campaign.id, email)? {
            // An invitation still waiting must not go out to someone no longer invited.
            let dropped = Outbox::new(&ctx.paths).discard(|info| {
                info.kind == MailKind::AdminInvitation
                    && info.campaign.as_deref() == Some(campaign.slug.as_str())
                    && info.to.eq_ignore_ascii_case(email)
            })?;
            if dropped > 0 {
                ui::status(
                    ctx,
                    format!("removed {email} and the invitation waiting in the outbox"),
                );
            } else {
                ui::status(ctx, format!("removed {email}"));
            }
        } else {
            ui::warn(format!("{email} is not an admin of {}", campaign.slug));
        }
    }

    let view = AdminsView {
        campaign: campaign.slug.clone(),
        owner: campaign.owner_email.clone(),
        organizers: organizers(&*store, &campaign)?,
        invitations,
    };
    render(ctx, &view)?;
    if failed > 0 {
        return Err(Error::SomeNotSent {
            failed,
            total: view.invitations.len(),
        }
        .into());
    }
    Ok(())
}

fn organizers(store: &dyn Store, campaign: &Campaign) -> anyhow::Result<Vec<Organizer>> {
    let mut out = Vec::new();
    if let Some(owner) = &campaign.owner_email {
        out.push(Organizer {
            email: owner.clone(),
            role: "owner",
            status: AdminStatus::Active,
            invited_by: None,
            invited_at: None,
            activated_at: Some(campaign.created_at.clone()),
        });
    }
    for admin in store.admins(campaign.id)? {
        out.push(Organizer {
            email: admin.email,
            role: "admin",
            status: admin.status,
            invited_by: admin.invited_by,
            invited_at: Some(admin.invited_at),
            activated_at: admin.activated_at,
        });
    }
    Ok(out)
}

fn render(ctx: &Ctx, view: &AdminsView) -> anyhow::Result<()> {
    if ctx.output.json {
        ui::out_json(view)?;
        return Ok(());
    }
    if view.owner.is_none() {
        ui::warn(format!(
            "{} has no owner (it was made before an account existed), so anyone may manage it",
            view.campaign
        ));
    }
    if !view.organizers.is_empty() {
        let mut table = ui::table::new_table(["email", "role", "status", "invited by"]);
        for o in &view.organizers {
            table.add_row(vec![
                o.email.clone(),
                o.role.to_string(),
                o.status.to_string(),
                o.invited_by.clone().unwrap_or_else(|| "-".into()),
            ]);
        }
        ui::out_line(table.to_string())?;
    }
    for invitation in &view.invitations {
        ui::out_line(invitation.file.display().to_string())?;
    }
    Ok(())
}

/// How `email` reaches the campaign, for their invitation: on PostgreSQL the URL with
/// their team login when they have one (`campaign team add`), else `YOUR-USER`, and
/// never a password (it reaches them separately).
fn reach(ctx: &Ctx, store: &dyn Store, email: &str) -> mail::Reach {
    match &ctx.paths.location {
        crate::store::DbLocation::Sqlite(_) => mail::Reach::File,
        crate::store::DbLocation::Postgres(target) => {
            // Only the team's manager may read the team: anyone else names no user.
            let member = store.team_list().ok().and_then(|team| {
                team.into_iter()
                    .find(|m| m.email.eq_ignore_ascii_case(email))
            });
            if member
                .as_ref()
                .is_some_and(|m| m.role == TeamKind::Volunteer)
            {
                ui::warn(format!(
                    "{email} is a volunteer of the team: the database lets them add signatures \
                     only. To make them a co-organizer: `campaign team remove {email}`, then \
                     `campaign team add {email} --role organizer`"
                ));
            }
            mail::Reach::Postgres {
                url: target.url_for_user(member.as_ref().map_or("YOUR-USER", |m| &m.user)),
                user: member.is_some(),
            }
        }
    }
}
