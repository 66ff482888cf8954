//! `campaign enter-signatures`: a fast typing loop for paper sheets on a terminal, or a
//! CSV import (`--from`) in one all-or-nothing transaction.

use std::fs::File;
use std::io::{self, Read};
use std::path::PathBuf;

use anyhow::Context as _;
use clap::Args;
use encoding_rs::Encoding;

mod line_reader;
mod report;

use self::line_reader::LineReader;
use self::report::{render_report, Bar, RejectsFile};
use super::{load_campaign, Access};
use crate::context::Ctx;
use crate::domain::signer::Region;
use crate::error::Error;
use crate::model::{Campaign, Source};
use crate::ops;
use crate::ops::entry::{EntrySummary, Session};
use crate::ops::import::{ImportOptions, Rejects};
use crate::store::{ImportDefaults, Store};
use crate::ui;

/// Type in signatures from paper sheets, or import a CSV file of signatures.
///
/// On a terminal without --from: asks the sheet id once, then name, email, ZIP/postcode,
/// phone, mailing list and "don't show my name" for each signer (yes/no take one key;
/// the line number counts itself, and the next sheet is asked at the end of a sheet).
/// Every row is saved as soon as it is accepted. Type `<` to go back a field (from a
/// name: to the previous row), `.` (or Ctrl-D) to finish; at a name, `#7` jumps to line 7
/// and a sheet id switches to that sheet.
///
/// With --from: imports a CSV whose first row names the columns, in English or Spanish
/// (name, email, zip, ...; nombre, correo, CP, ...). Its encoding (UTF-8, UTF-16,
/// Windows-1252 as Excel writes it) and delimiter (comma, semicolon, tab) are detected.
/// Rows that cannot be imported are listed and left out; the others are imported in one
/// transaction: together, or (on any error) not at all.
#[derive(Debug, Args)]
pub struct EnterSignaturesArgs {
    /// Campaign slug or id
    pub campaign: String,

    /// Import this CSV file instead of typing (`-` reads standard input)
    #[arg(long, value_name = "FILE")]
    pub from: Option<PathBuf>,

    /// Write the rows that could not be imported to FILE as they were (every column), with
    /// their row number and the reason: fix them in a spreadsheet and import FILE again
    #[arg(long, value_name = "FILE", requires = "from")]
    pub rejects: Option<PathBuf>,

    /// The file's character encoding, when detection gets it wrong (e.g. windows-1252,
    /// latin1, utf-8, utf-16le) [default: detected]
    #[arg(long, value_name = "NAME", requires = "from", value_parser = parse_encoding)]
    pub encoding: Option<&'static Encoding>,

    /// Where these signatures were collected [default: online for imports, paper when typing]
    #[arg(long, value_parser = super::values::source())]
    pub source: Option<Source>,

    /// Sheet id to start typing from (as printed in the sheet's footer, e.g. OAK-0007)
    #[arg(long, value_name = "ID", conflicts_with = "from")]
    pub sheet: Option<String>,
}

pub fn run(ctx: &Ctx, args: EnterSignaturesArgs) -> anyhow::Result<()> {
    let mut store = ctx.store()?;
    let campaign = load_campaign(ctx, &mut *store, &args.campaign, Access::Manage)?;
    // New signers could only be delivered alone: its names are gone.
    crate::ops::privacy::refuse_purged(&campaign, "entering signatures")?;
    let account = ctx.account()?;
    let region = Region::new(
        account.country.as_deref(),
        campaign.country.as_deref(),
        campaign.scope,
    );
    let entered_by = account.email.clone();
    match &args.from {
        Some(from) => import(ctx, &mut *store, &campaign, &args, from, region, entered_by),
        None if ctx.interactive => {
            let session = Session::new(
                campaign,
                region,
                args.source.unwrap_or(Source::Paper),
                entered_by,
                args.sheet.clone(),
            );
            let summary = type_rows(&mut *store, session)?;
            if ctx.output.json {
                ui::out_json(&summary)?;
            }
            Ok(())
        }
        None => Err(ctx.missing("a CSV file to import", "--from FILE").into()),
    }
}

/// `--from`: a short adapter over [`ops::import`]: opens the input and the rejects file,
/// says how the file is read, runs the import and renders what it did.
fn import(
    ctx: &Ctx,
    store: &mut dyn Store,
    campaign: &Campaign,
    args: &EnterSignaturesArgs,
    from: &PathBuf,
    region: Region,
    entered_by: Option<String>,
) -> anyhow::Result<()> {
    // Opened first: the file helper refuses a rejects file that is the input (or the
    // database) before anything is read.
    let rejects_out = match &args.rejects {
        Some(path) => Some(ctx.files().create(path)?),
        None => None,
    };
    let stdin = from.as_os_str() == "-";
    let (input, size): (Box<dyn Read + Send>, Option<u64>) = if stdin {
        (Box::new(io::stdin()), None)
    } else {
        let file = File::open(from).with_context(|| format!("cannot open {}", from.display()))?;
        let meta = file.metadata().ok();
        (Box::new(file), meta.map(|m| m.len()))
    };
    let shown_name = if stdin {
        "standard input".to_string()
    } else {
        from.display().to_string()
    };
    let opened = ops::import::open(input, args.encoding).map_err(|e| match e {
        Error::Invalid(message) => {
            anyhow::Error::new(Error::Invalid(format!("{shown_name}: {message}")))
        }
        other => anyhow::Error::new(other).context(format!("cannot read {shown_name}")),
    })?;
    match (opened.encoding_note(), opened.delimiter_note()) {
        (Some(encoding), Some(delimiter)) => ui::status(
            ctx,
            format!("reading {shown_name} as {encoding}, columns separated by {delimiter}"),
        ),
        (Some(encoding), None) => ui::status(ctx, format!("reading {shown_name} as {encoding}")),
        (None, Some(delimiter)) => ui::status(
            ctx,
            format!("reading {shown_name}: columns separated by {delimiter}"),
        ),
        (None, None) => {}
    }
    if !opened.unknown_columns().is_empty() {
        ui::warn(format!(
            "ignoring unknown columns: {}",
            opened.unknown_columns().join(", ")
        ));
    }
    let mut rejects = match rejects_out {
        Some(out) => Some(RejectsFile::start(
            out,
            opened.headers(),
            opened.delimiter(),
        )?),
        None => None,
    };

    let options = ImportOptions {
        campaign_id: campaign.id,
        region,
        defaults: ImportDefaults {
            source: args.source.unwrap_or(Source::Online),
            entered_by,
            signed_at: crate::clock::now(),
        },
    };
    let bar = Bar {
        bar: ui::progress::bar(ctx, size.unwrap_or(0), "importing"),
        growing: size.is_none(),
    };
    let report = ops::import::run(
        store,
        opened,
        &options,
        rejects.as_mut().map(|r| r as &mut dyn Rejects),
        &bar,
    )?;
    bar.bar.finish_and_clear();
    // A purge removes the rejects file with the campaign's names (a device or a pipe is
    // nothing to remove).
    if let Some(path) = &args.rejects {
        if std::fs::symlink_metadata(path).is_ok_and(|m| m.is_file()) {
            let resolved = crate::fsutil::resolve(path);
            store.record_campaign_file(
                campaign.id,
                crate::model::FileKind::Rejects,
                &resolved.to_string_lossy(),
                None,
            )?;
        }
    }
    render_report(ctx, args, &report)
}

/// Parses `--encoding`: any label the WHATWG Encoding Standard knows (`latin1` is
/// Windows-1252, as browsers read it).
fn parse_encoding(label: &str) -> Result<&'static Encoding, String> {
    match Encoding::for_label(label.trim().as_bytes()) {
        Some(e) if e != encoding_rs::REPLACEMENT && e != encoding_rs::X_USER_DEFINED => Ok(e),
        _ => Err(format!(
            "{label:?} is not an encoding we know: try utf-8, windows-1252 (latin1), \
             utf-16le or utf-16be"
        )),
    }
}

/// Typed entry: the session decides what to ask and what to show; this loop asks on the
/// terminal, feeds the answers and shows what comes back.
fn type_rows(store: &mut dyn Store, mut session: Session) -> anyhow::Result<EntrySummary> {
    let mut input = LineReader::stdin();
    let mut events = session.resume(store)?;
    loop {
        for event in &events {
            ui::say(event.to_string());
        }
        if session.ended() {
            return Ok(session.summary().clone());
        }
        events = match session.prompt() {
            Some(prompt) => {
                let answer = input.ask_prompt(&prompt)?;
                session.answer(store, answer)?
            }
            // The database was busy: the row is kept, try again.
            None => session.resume(store)?,
        };
    }
}
