//! One file per subcommand: its clap `Args` and its `run`. Commands gather input (flags,
//! prompts), call `ops`, the domain and the store, and hand what comes back to `ui` and
//! `render`. The subcommands are listed once, in [`Command`], beside [`dispatch`].

pub mod account;
pub mod admins;
pub mod completions;
pub mod deliver;
pub mod edit;
pub mod encrypt;
pub mod enter_signatures;
pub mod export;
pub mod fields;
pub mod forget;
pub mod init;
pub mod list;
pub mod man;
pub mod merge;
pub mod new;
pub mod outbox;
pub mod paper_form;
pub mod passphrase;
pub mod purge;
pub mod review;
pub mod share;
pub mod show;
pub mod signer;
pub mod status;
pub mod team;
pub mod values;

use std::path::PathBuf;

use clap::Subcommand;

use crate::context::Ctx;
use crate::error::Error;
use crate::model::{AdminStatus, Campaign, Status};
use crate::store::Store;
use crate::ui;

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create the campaigns database; with --encrypt, an encrypted one protected by a passphrase
    Init(init::InitArgs),
    /// Set or show who you are: your name and email sign campaigns and emails
    Account(account::AccountArgs),
    /// Start a new petition (saved as a draft)
    New(new::NewArgs),
    /// Read a petition as a signer would, add its picture and launch it
    Review(review::ReviewArgs),
    /// List your campaigns with their status and signature counts
    List(list::ListArgs),
    /// Show one campaign: its text, counts, edit history and deliveries
    Show(show::ShowArgs),
    /// Change a campaign's text (same flags as `new`; opens $EDITOR without flags)
    Edit(edit::EditArgs),
    /// Take a petition offline: it can no longer be shared or signed online (paper sheets
    /// already collected can still be entered and delivered)
    Offline(status::StatusArgs),
    /// Bring an offline petition back online
    Online(status::StatusArgs),
    /// Print ready-to-post share texts and links, or invite friends by email
    Share(share::ShareArgs),
    /// List, invite or remove the co-organizers of a campaign
    Admins(admins::AdminsArgs),
    /// Print paper signature forms (PDF) with numbered, traceable sheets
    PaperForm(paper_form::PaperFormArgs),
    /// Type in paper signatures, or import a CSV of signatures
    EnterSignatures(enter_signatures::EnterSignaturesArgs),
    /// Correct or remove a saved signer by sheet and line (OAK-0007:5), kept in the history
    Signer(signer::SignerArgs),
    /// Write a campaign's signers to CSV or JSON lines
    Export(export::ExportArgs),
    /// Write the petition as a PDF for its target, and optionally email it
    Deliver(deliver::DeliverArgs),
    /// List the emails waiting to be sent, or send them
    Outbox(outbox::OutboxArgs),
    /// Encrypt an existing database with a passphrase (every row kept; the plain file is
    /// replaced only after the encrypted copy is checked)
    Encrypt(encrypt::EncryptArgs),
    /// Change the passphrase of the encrypted database (the data is not re-encrypted)
    Passphrase(passphrase::PassphraseArgs),
    /// Print a shell completion script
    Completions(completions::CompletionsArgs),
    /// Write man pages (for packagers)
    #[command(hide = true)]
    Man(man::ManArgs),
    /// Give people of the team their own login to a shared PostgreSQL database
    Team(team::TeamArgs),
    /// Bring in another campaign database (a laptop's file, or a postgres:// URL):
    /// everything it has that this one lacks, once; conflicts are reported, not overwritten
    Merge(merge::MergeArgs),
    /// Delete a delivered campaign's signers, keeping its counts and delivery records
    Purge(purge::PurgeArgs),
    /// Remove one person from every campaign (they withdrew; the counts drop) and keep a
    /// keyed hash so no later import brings them back
    Forget(forget::ForgetArgs),
}

/// Runs `command`. `app` builds the whole command line (for completions and man pages),
/// passed in so that no command depends on the top-level parser.
pub fn dispatch(ctx: &Ctx, command: Command, app: fn() -> clap::Command) -> anyhow::Result<()> {
    match command {
        Command::Init(args) => init::run(ctx, args),
        Command::Account(args) => account::run(ctx, args),
        Command::New(args) => new::run(ctx, args),
        Command::Review(args) => review::run(ctx, args),
        Command::List(args) => list::run(ctx, args),
        Command::Show(args) => show::run(ctx, args),
        Command::Edit(args) => edit::run(ctx, args),
        Command::Offline(args) => status::run(ctx, args, Status::Offline),
        Command::Online(args) => status::run(ctx, args, Status::Live),
        Command::Share(args) => share::run(ctx, args),
        Command::Admins(args) => admins::run(ctx, args),
        Command::PaperForm(args) => paper_form::run(ctx, args),
        Command::EnterSignatures(args) => enter_signatures::run(ctx, args),
        Command::Signer(args) => signer::run(ctx, args),
        Command::Export(args) => export::run(ctx, args),
        Command::Deliver(args) => deliver::run(ctx, args),
        Command::Outbox(args) => outbox::run(ctx, args),
        Command::Encrypt(args) => encrypt::run(ctx, args),
        Command::Passphrase(args) => passphrase::run(ctx, args),
        Command::Completions(args) => completions::run(ctx, args, app),
        Command::Man(args) => man::run(ctx, args, app),
        Command::Team(args) => team::run(ctx, args),
        Command::Merge(args) => merge::run(ctx, args),
        Command::Purge(args) => purge::run(ctx, args),
        Command::Forget(args) => forget::run(ctx, args),
    }
}

/// The files `command` reads, each with what it is: no file it writes may land on one
/// (`--rejects` naming the `--from` file would cut the import short). Every file-valued
/// flag is either here or an output; the test below keeps that list complete.
pub fn inputs(command: &Command) -> Vec<(PathBuf, String)> {
    let named = |path: &Option<PathBuf>, what: &str| -> Vec<(PathBuf, String)> {
        path.iter()
            .filter(|p| p.as_os_str() != "-")
            .map(|p| (p.clone(), what.to_string()))
            .collect()
    };
    match command {
        Command::EnterSignatures(a) => named(&a.from, "the CSV file --from imports"),
        Command::Review(a) => named(&a.picture, "the picture --picture adds"),
        Command::Share(a) => named(&a.invite_file, "the contacts file --invite-file reads"),
        Command::Passphrase(a) => named(&a.new_passphrase_file, "the new passphrase file"),
        _ => Vec::new(),
    }
}

/// The slugs closest to a mistyped one (at most three, closest first): a prefix or a
/// part of one, or a near spelling.
pub fn closest_slugs<'a>(typed: &str, slugs: &'a [String]) -> Vec<&'a str> {
    let typed = typed.trim().to_lowercase();
    let mut scored: Vec<(f64, &str)> = slugs
        .iter()
        .map(|slug| {
            let score = if typed.len() >= 3 && slug.contains(typed.as_str()) {
                1.0
            } else {
                // The typed words against the slug's first words as much as against all of it.
                let head: String = slug.chars().take(typed.chars().count() + 2).collect();
                strsim::jaro_winkler(&typed, slug).max(strsim::jaro_winkler(&typed, &head))
            };
            (score, slug.as_str())
        })
        .filter(|(score, _)| *score >= 0.8)
        .collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(b.1)));
    scored.into_iter().take(3).map(|(_, slug)| slug).collect()
}

/// No campaign `typed`: the closest slugs, if any, and where to see them all.
fn not_found(typed: &str, slugs: &[String]) -> Error {
    let close = closest_slugs(typed, slugs);
    if close.is_empty() {
        return Error::CampaignNotFound(typed.to_string());
    }
    let list = match close.as_slice() {
        [one] => one.to_string(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
        [] => unreachable!(),
    };
    Error::Invalid(format!(
        "no campaign {typed:?}: did you mean {list}? (`campaign list` shows every slug and id)"
    ))
}

/// What a command is about to do with a campaign; managing it is for its organizers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Reading it: anyone with the file.
    Read,
    /// Editing, launching, taking offline, managing admins, delivering.
    Manage,
}

/// Finds the campaign a command names (slug or id). The one place where every command
/// meets a campaign, so access rules live here.
///
/// The owner (the account that created the campaign) and its admins, matched by the
/// account's email in any case, may manage it; anyone may read it. An invited admin
/// becomes active the first time they use the campaign with a matching account. These
/// rules guard against mistakes on a shared file, not against someone who can edit it.
pub fn load_campaign(
    ctx: &Ctx,
    store: &mut dyn Store,
    reference: &str,
    access: Access,
) -> anyhow::Result<Campaign> {
    let campaign = match store.find_campaign(reference) {
        Err(Error::CampaignNotFound(missing)) => {
            let slugs: Vec<String> = store
                .list_campaigns(None)?
                .into_iter()
                .map(|c| c.campaign.slug)
                .collect();
            return Err(not_found(&missing, &slugs).into());
        }
        found => found?,
    };
    // Someone of a team on a shared PostgreSQL database: the database decides what they
    // may do (row-level security and grants, see `store::postgres::team`), not this check.
    if store.team_kind().is_some() {
        return Ok(campaign);
    }
    let account = ctx.account()?;
    let me = account
        .email
        .as_deref()
        .map(str::trim)
        .filter(|e| !e.is_empty());

    // Campaigns created before there was an account have no owner: nobody can prove
    // who organizes them, so anyone may manage them (as before access rules existed).
    let Some(owner) = campaign.owner_email.as_deref() else {
        return Ok(campaign);
    };
    if me.is_some_and(|me| me.eq_ignore_ascii_case(owner.trim())) {
        return Ok(campaign);
    }
    if let Some(me) = me {
        if let Some(admin) = store.admin(campaign.id, me)? {
            if admin.status == AdminStatus::Invited {
                store.activate_admin(campaign.id, me)?;
                ui::status(
                    ctx,
                    format!(
                        "welcome: you are now an active organizer of {}",
                        campaign.slug
                    ),
                );
            }
            return Ok(campaign);
        }
    }
    if access == Access::Read {
        return Ok(campaign);
    }
    Err(not_an_organizer(&campaign, owner, me).into())
}

/// Managing `campaign` is refused to `me`: who may, and how to become one.
fn not_an_organizer(campaign: &Campaign, owner: &str, me: Option<&str>) -> Error {
    let who = match me {
        Some(me) => format!("your account ({me}) is not one of its organizers"),
        None => "your account has no email, so it cannot be matched to an organizer".into(),
    };
    Error::Refused(format!(
        "only the organizers of {slug} can edit, launch, take offline, manage admins or deliver it, and {who}. \
         Ask its owner {owner} to add you with `campaign admins {slug} --add YOUR-EMAIL`, \
         then set that address with `campaign account --email YOUR-EMAIL`",
        slug = campaign.slug
    ))
}

/// [`load_campaign`]'s rule for managing a campaign, on a store that cannot be written
/// meanwhile (a merge's transaction): an invited admin may, and is not made active here.
pub fn check_manage(ctx: &Ctx, store: &dyn Store, campaign: &Campaign) -> crate::error::Result<()> {
    let Some(owner) = campaign.owner_email.as_deref() else {
        return Ok(());
    };
    let account = ctx.account()?;
    let me = account
        .email
        .as_deref()
        .map(str::trim)
        .filter(|e| !e.is_empty());
    if me.is_some_and(|me| me.eq_ignore_ascii_case(owner.trim())) {
        return Ok(());
    }
    if let Some(me) = me {
        if store.admin(campaign.id, me)?.is_some() {
            return Ok(());
        }
    }
    Err(not_an_organizer(campaign, owner, me))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_mistyped_slug_finds_its_closest_ones() {
        let slugs: Vec<String> = [
            "make-oakland-a-sanctuary-city",
            "hacer-de-oakland-una-ciudad-santuario",
            "stop-ice-raids-in-fruitvale",
            "oakland-sanctuary",
        ]
        .map(String::from)
        .to_vec();
        assert_eq!(
            closest_slugs("make-oakland", &slugs),
            ["make-oakland-a-sanctuary-city"]
        );
        assert_eq!(
            closest_slugs("oakland-sanctuary-", &slugs)[0],
            "oakland-sanctuary"
        );
        assert_eq!(
            closest_slugs("stop-ice-raid", &slugs),
            ["stop-ice-raids-in-fruitvale"]
        );
        assert_eq!(
            closest_slugs("fruitvale", &slugs),
            ["stop-ice-raids-in-fruitvale"]
        );
        assert!(closest_slugs("xyz", &slugs).is_empty());
    }
}
