//! One file per subcommand: its clap `Args` and its `run`. Commands gather input, call
//! the domain and store, and render what comes back.

pub mod account;
pub mod admins;
pub mod completions;
pub mod deliver;
pub mod edit;
pub mod enter_signatures;
pub mod export;
pub mod fields;
pub mod list;
pub mod man;
pub mod new;
pub mod outbox;
pub mod paper_form;
pub mod review;
pub mod share;
pub mod show;
pub mod status;

use std::path::PathBuf;

use crate::cli::Command;
use crate::context::Ctx;
use crate::error::Error;
use crate::model::{AdminStatus, Campaign, Status};
use crate::store::Store;
use crate::ui;

pub fn dispatch(ctx: &Ctx, command: Command) -> anyhow::Result<()> {
    match command {
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
        Command::Export(args) => export::run(ctx, args),
        Command::Deliver(args) => deliver::run(ctx, args),
        Command::Outbox(args) => outbox::run(ctx, args),
        Command::Completions(args) => completions::run(ctx, args),
        Command::Man(args) => man::run(ctx, args),
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
        _ => Vec::new(),
    }
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
    store: &mut Store,
    reference: &str,
    access: Access,
) -> anyhow::Result<Campaign> {
    let campaign = store.find_campaign(reference)?;
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
    let who = match me {
        Some(me) => format!("your account ({me}) is not one of its organizers"),
        None => "your account has no email, so it cannot be matched to an organizer".into(),
    };
    Err(Error::Refused(format!(
        "only the organizers of {slug} can edit, launch, take offline, manage admins or deliver it, and {who}. \
         Ask its owner {owner} to add you with `campaign admins {slug} --add YOUR-EMAIL`, \
         then set that address with `campaign account --email YOUR-EMAIL`",
        slug = campaign.slug
    ))
    .into())
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use clap::CommandFactory;

    use crate::cli::Cli;

    /// Flags naming a file the command reads: listed in [`super::inputs`].
    const INPUTS: [(&str, &str); 3] = [
        ("enter-signatures", "from"),
        ("review", "picture"),
        ("share", "invite_file"),
    ];
    /// Flags naming where the command writes: every one goes through `Ctx::files`
    /// (man pages and completion folders are for packagers and hold no signer).
    const OUTPUTS: [(&str, &str); 7] = [
        ("export", "out"),
        ("share", "card"),
        ("deliver", "out"),
        ("paper-form", "out"),
        ("enter-signatures", "rejects"),
        ("man", "dir"),
        ("completions", "dir"),
    ];

    #[test]
    fn every_file_flag_is_an_input_or_an_output() {
        let cli = Cli::command();
        let mut found = Vec::new();
        for sub in cli.get_subcommands() {
            for arg in sub.get_arguments() {
                if arg.get_value_parser().type_id() == std::any::TypeId::of::<PathBuf>() {
                    found.push((sub.get_name().to_string(), arg.get_id().to_string()));
                }
            }
        }
        for (sub, arg) in &found {
            assert!(
                INPUTS.contains(&(sub, arg)) || OUTPUTS.contains(&(sub, arg)),
                "`{sub} --{arg}` names a file: add it to INPUTS (and `inputs`) or OUTPUTS"
            );
        }
        for known in INPUTS.iter().chain(&OUTPUTS) {
            assert!(
                found
                    .iter()
                    .any(|(s, a)| (s.as_str(), a.as_str()) == *known),
                "{known:?} is no longer a file flag"
            );
        }
    }

    #[test]
    fn inputs_are_protected() {
        use clap::Parser;
        for (args, what) in [
            (
                vec!["campaign", "enter-signatures", "x", "--from", "in.csv"],
                "--from",
            ),
            (
                vec!["campaign", "review", "x", "--picture", "p.png"],
                "--picture",
            ),
            (
                vec!["campaign", "share", "x", "--invite-file", "c.csv"],
                "--invite-file",
            ),
        ] {
            let cli = Cli::try_parse_from(&args).unwrap();
            let inputs = super::inputs(&cli.command);
            assert_eq!(inputs.len(), 1, "{args:?}");
            assert!(inputs[0].1.contains(what), "{inputs:?}");
        }
        let stdin =
            Cli::try_parse_from(["campaign", "enter-signatures", "x", "--from", "-"]).unwrap();
        assert!(super::inputs(&stdin.command).is_empty());
    }
}
