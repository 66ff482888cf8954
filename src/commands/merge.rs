//! `campaign merge`: another campaign database brought into this one; what came in and
//! what conflicts are shown by `report`.

use std::ffi::OsString;

use clap::Args;

use crate::context::Ctx;
use crate::error::Error;
use crate::ops::merge::{self, MergeReport};
use crate::store::{self, DbLocation};
use crate::ui;

mod report;

/// Bring another campaign database into this one (`--db`): a volunteer's laptop file
/// after a rally, or a whole laptop campaign onto the team's PostgreSQL.
///
/// Everything FROM has that this database lacks comes in, at once or not at all:
/// campaigns, their translations, organizers, sheets (ids kept), signers, deliveries and
/// histories. Rows are matched by their stable ids, so merging again adds nothing new.
/// A signer whose email (or name and postcode) the campaign already has is counted as a
/// duplicate and not stored. Campaign text that differs keeps this database's text and
/// is reported, for you to settle with `campaign edit`. FROM is only read.
#[derive(Debug, Args)]
pub struct MergeArgs {
    /// The database to bring in: a campaign SQLite file (a laptop's campaigns.db) or a
    /// postgres:// URL. It is never changed (an encrypted file is unlocked with the same
    /// passphrase as --db)
    #[arg(value_name = "FROM")]
    pub from: OsString,
    /// Show what would come in, and change nothing
    #[arg(long)]
    pub dry_run: bool,
}

pub fn run(ctx: &Ctx, args: MergeArgs) -> anyhow::Result<()> {
    let location = DbLocation::parse(&args.from)?;
    let same = || {
        Error::Refused(format!(
            "{location} is the database you are merging into (--db): nothing to merge. Name \
             the other database, e.g. `campaign merge laptop.db`"
        ))
    };
    if let (Some(from), Some(db)) = (location.file(), ctx.db_file()) {
        if from == db || same_file(from, db) {
            return Err(same().into());
        }
    }
    if let DbLocation::Sqlite(path) = &location {
        ctx.unlock_file(path)?;
    }
    // FROM first: it is read-only, and the target's errors then name the target.
    let from = store::open_existing(&location)?;
    let mut target = ctx.store()?;
    if from.identity()? == target.identity()? {
        return Err(same().into());
    }
    let report = merge::merge(
        &*from,
        &mut *target,
        args.dry_run,
        &mut |store, campaign| crate::commands::check_manage(ctx, store, campaign),
    )?;
    show(ctx, &location, &report)
}

/// Two paths of one file (a link, `./`): the same device and inode.
fn same_file(a: &std::path::Path, b: &std::path::Path) -> bool {
    match (std::fs::canonicalize(a), std::fs::canonicalize(b)) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

fn show(ctx: &Ctx, from: &DbLocation, report: &MergeReport) -> anyhow::Result<()> {
    if ctx.output.json {
        ui::out_json(report)?;
    } else {
        report::summary(ctx, &from.to_string(), report);
    }
    report::conflicts(&from.to_string(), report);
    Ok(())
}
