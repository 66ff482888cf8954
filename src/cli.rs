//! The command line, defined once: parsing, `--help`, completions and man pages all come
//! from here.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::commands;

/// Run grassroots petition campaigns from a terminal.
///
/// Start a petition, review it, share it, print paper forms, type in paper signatures and
/// deliver the petition to the person who can say yes. Everything lives in one private
/// SQLite file on this machine.
#[derive(Debug, Parser)]
#[command(
    name = "campaign",
    version,
    propagate_version = true,
    max_term_width = 100
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,

    #[command(subcommand)]
    pub command: Command,
}

/// Flags every subcommand takes.
#[derive(Debug, Clone, Default, Args)]
pub struct GlobalArgs {
    /// Database file [default: campaigns.db under $CAMPAIGN_HOME, or the platform data folder]
    #[arg(long, global = true, value_name = "PATH", env = "CAMPAIGN_DB")]
    pub db: Option<PathBuf>,

    /// Print machine-readable JSON on stdout instead of tables and text
    #[arg(long, global = true)]
    pub json: bool,

    /// Never prompt: a missing value is an error naming the flag to pass
    #[arg(long, global = true)]
    pub no_input: bool,

    /// Answer yes to confirmations (editing a petition people already signed, ...)
    #[arg(long, short = 'y', global = true)]
    pub yes: bool,

    /// Print less on stderr: no status lines or progress bars (errors still show)
    #[arg(long, short = 'q', global = true)]
    pub quiet: bool,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Set or show who you are: your name and email sign campaigns and emails
    Account(commands::account::AccountArgs),
    /// Start a new petition (saved as a draft)
    New(commands::new::NewArgs),
    /// Read a petition as a signer would, add its picture and launch it
    Review(commands::review::ReviewArgs),
    /// List your campaigns with their status and signature counts
    List(commands::list::ListArgs),
    /// Show one campaign: its text, counts, edit history and deliveries
    Show(commands::show::ShowArgs),
    /// Change a campaign's text (same flags as `new`; opens $EDITOR without flags)
    Edit(commands::edit::EditArgs),
    /// Take a petition offline: it can no longer be shared or signed online (paper sheets
    /// already collected can still be entered and delivered)
    Offline(commands::status::StatusArgs),
    /// Bring an offline petition back online
    Online(commands::status::StatusArgs),
    /// Print ready-to-post share texts and links, or invite friends by email
    Share(commands::share::ShareArgs),
    /// List, invite or remove the co-organizers of a campaign
    Admins(commands::admins::AdminsArgs),
    /// Print paper signature forms (PDF) with numbered, traceable sheets
    PaperForm(commands::paper_form::PaperFormArgs),
    /// Type in paper signatures, or import a CSV of signatures
    EnterSignatures(commands::enter_signatures::EnterSignaturesArgs),
    /// Write a campaign's signers to CSV or JSON lines
    Export(commands::export::ExportArgs),
    /// Write the petition as a PDF for its target, and optionally email it
    Deliver(commands::deliver::DeliverArgs),
    /// List the emails waiting to be sent, or send them
    Outbox(commands::outbox::OutboxArgs),
    /// Print a shell completion script
    Completions(commands::completions::CompletionsArgs),
    /// Write man pages (for packagers)
    #[command(hide = true)]
    Man(commands::man::ManArgs),
}
