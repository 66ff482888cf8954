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

use crate::cli::Command;
use crate::context::Ctx;
use crate::model::{Campaign, Status};
use crate::store::Store;

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
pub fn load_campaign(
    _ctx: &Ctx,
    store: &mut Store,
    reference: &str,
    _access: Access,
) -> anyhow::Result<Campaign> {
    Ok(store.find_campaign(reference)?)
}
