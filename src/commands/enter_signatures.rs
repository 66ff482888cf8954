//! `campaign enter-signatures`: a fast typing loop for paper sheets on a terminal, or a
//! CSV import (`--from`) in one all-or-nothing transaction.

use std::fs::File;
use std::io::{self, BufWriter, Read, Write};
use std::path::PathBuf;
use std::sync::mpsc;

use anyhow::Context as _;
use clap::Args;
use encoding_rs::Encoding;
use rayon::prelude::*;

use super::export::neutralize;
use super::{load_campaign, Access};
use crate::context::Ctx;
use crate::domain::signer::Region;
use crate::error::Error;
use crate::input::{Checked, CsvInput};
use crate::model::{Campaign, Source};
use crate::ops::entry::{EntrySummary, Session};
use crate::store::{key_hash, ImportCounts, SqliteStore, Store};
use crate::ui;
use crate::ui::entry::LineReader;

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
    let account = ctx.account()?;
    let region = Region::new(
        account.country.as_deref(),
        campaign.country.as_deref(),
        campaign.scope,
    );
    let entered_by = account.email.clone();
    match &args.from {
        Some(from) => {
            // The CSV import's fast path runs on the SQLite import until `ops::import`
            // runs on `Store::begin_import`.
            let store = store.as_sqlite().ok_or_else(|| {
                Error::Invalid("this database cannot import CSV files yet".into())
            })?;
            import(ctx, store, &campaign, &args, from, region, entered_by)
        }
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

/// Rows validated per batch: large enough to keep both cores busy, small enough that
/// memory stays flat.
const BATCH: usize = 8192;

/// Rows checked on the reader thread: row number, the signer or why not, and the key's
/// hash, which the dedupe pass (in file order) replaces with 1 when the key is new.
/// Sent as it is: converting it would copy every row again.
type Batch = Vec<(u64, Checked, u64)>;

/// Rows that were not UTF-8 in a file that looked like plain ASCII before them.
#[derive(Debug, Default)]
struct DecodedRows {
    count: u64,
    first: u64,
    last: u64,
}

/// A byte order mark before the rejects file: Excel reads a CSV without one as
/// Windows-1252 and would garble every accent the organizer is about to fix.
const UTF8_BOM: &[u8] = "\u{feff}".as_bytes();

fn import(
    ctx: &Ctx,
    store: &mut SqliteStore,
    campaign: &Campaign,
    args: &EnterSignaturesArgs,
    from: &PathBuf,
    region: Region,
    entered_by: Option<String>,
) -> anyhow::Result<()> {
    // Opened first: the file helper refuses a rejects file that is the input (or the
    // database) before anything is read.
    let mut rejects = match &args.rejects {
        Some(path) => Some(BufWriter::new(ctx.files().create(path)?)),
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
    let mut input = CsvInput::open(input, args.encoding).map_err(|e| match e {
        Error::Invalid(message) => {
            anyhow::Error::new(Error::Invalid(format!("{shown_name}: {message}")))
        }
        other => anyhow::Error::new(other).context(format!("cannot read {shown_name}")),
    })?;
    match (input.encoding_note(), input.delimiter_note()) {
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
    let rules = input.rules().clone();
    if !rules.map.unknown.is_empty() {
        ui::warn(format!(
            "ignoring unknown columns: {}",
            rules.map.unknown.join(", ")
        ));
    }
    let headers = input.headers().clone();
    let delimiter = rules.delimiter;

    let mut import = store.begin_import(
        campaign.id,
        args.source.unwrap_or(Source::Online),
        entered_by,
    )?;
    let mut seen = import.take_seen_keys();
    // About 50 bytes a row: room for the file's keys without growing the set as we go.
    seen.reserve(size.map_or(0, |s| (s / 50) as usize));

    // Reading, validating (parallel) and the first dedupe pass (in file order) run on
    // their own thread while this one inserts.
    let (tx, rx) = mpsc::sync_channel::<anyhow::Result<(Batch, u64)>>(4);
    let producer = std::thread::spawn(move || {
        let mut record = csv::ByteRecord::new();
        let mut decoded = DecodedRows::default();
        loop {
            let mut raw: Vec<(u64, csv::ByteRecord)> = Vec::with_capacity(BATCH);
            let mut done = false;
            while raw.len() < BATCH {
                match input.read(&mut record) {
                    Ok(Some(row)) => raw.push((row, record.clone())),
                    Ok(None) => {
                        done = true;
                        break;
                    }
                    Err(e) => {
                        let _ = tx.send(Err(e.into()));
                        return decoded;
                    }
                }
            }
            let position = input.position();
            let mut batch: Batch = raw
                .into_par_iter()
                .map(|(row, bytes)| {
                    let checked = rules.check(bytes, region);
                    let hash = checked
                        .result
                        .as_ref()
                        .map_or(0, |s| key_hash(&s.dedupe_key));
                    (row, checked, hash)
                })
                .collect();
            for (row, checked, key) in &mut batch {
                if checked.decoded {
                    if decoded.count == 0 {
                        decoded.first = *row;
                    }
                    decoded.count += 1;
                    decoded.last = *row;
                }
                *key = u64::from(checked.result.is_ok() && seen.first_time(*key));
            }
            if tx.send(Ok((batch, position))).is_err() || done {
                return decoded;
            }
        }
    });

    let bar = ui::progress::bar(ctx, size.unwrap_or(0), "importing");
    // The rows as they were, every column in its place, after a row and a reason column:
    // fixed in a spreadsheet, the file imports again as it is (see `Column::RejectsNote`).
    // Same delimiter as the input, so it opens the way the input did.
    let mut reject_csv = match rejects.as_mut() {
        Some(w) => {
            w.write_all(UTF8_BOM)?;
            let mut w = csv::WriterBuilder::new()
                .flexible(true)
                .delimiter(delimiter)
                .from_writer(w);
            let header: Vec<_> = ["row", "reason"]
                .into_iter()
                .map(std::borrow::Cow::Borrowed)
                .chain(headers.iter().map(neutralize))
                .collect();
            w.write_record(header.iter().map(|c| c.as_bytes()))?;
            Some(w)
        }
        None => None,
    };
    let mut shown = Vec::new();
    for message in rx {
        let (batch, position) = message?;
        let mut failed = Ok(());
        // The store hears of a rejected row as it takes it from the iterator, before the
        // next one: the row as read waits here for the rejects file meanwhile.
        let original = std::cell::Cell::new(None);
        let rows = batch.into_iter().map(|(row, checked, first)| {
            let signer = checked.result.map_err(|rejection| {
                original.set(Some(rejection.original));
                rejection.problem
            });
            (row, signer, first == 1)
        });
        import.add_all_checked(rows, |r| {
            let rows: Vec<csv::StringRecord> = original.take().unwrap_or_default();
            if let Some(w) = reject_csv.as_mut() {
                let row = r.row.to_string();
                for cells in &rows {
                    let record: Vec<_> = [row.as_str(), r.reason.as_str()]
                        .into_iter()
                        .map(std::borrow::Cow::Borrowed)
                        .chain(cells.iter().map(neutralize))
                        .collect();
                    if let Err(e) = w.write_record(record.iter().map(|c| c.as_bytes())) {
                        failed = Err(e);
                    }
                }
            }
            if shown.len() < 5 {
                shown.push(format!("row {}: {}", r.row, r.reason));
            }
        })?;
        failed?;
        if size.is_none() {
            bar.set_length(position);
        }
        bar.set_position(position);
    }
    let decoded = producer
        .join()
        .map_err(|_| anyhow::anyhow!("the CSV reader stopped unexpectedly"))?;
    if let Some(mut w) = reject_csv.take() {
        w.flush()?;
    }
    drop(reject_csv);
    // In place only now, before the import commits: a rejects file that cannot be
    // written leaves nothing imported.
    if let Some(rejects) = rejects {
        rejects.into_inner().map_err(|e| e.into_error())?.commit()?;
    }
    let unknown_sheets = import.unknown_sheets().to_vec();
    let counts = import.commit()?;
    bar.finish_and_clear();

    if decoded.count > 0 {
        let rows = if decoded.count == 1 {
            format!("row {} was", decoded.first)
        } else {
            format!(
                "rows {} to {} ({} rows) were",
                decoded.first, decoded.last, decoded.count
            )
        };
        ui::warn(format!(
            "{rows} not UTF-8 and read as Windows-1252 (the rows before were plain ASCII): \
             check their names with `campaign export`; if they look wrong, import the file \
             again with --encoding"
        ));
    }

    // Kept as provenance (an export from another campaign names its sheets): one line
    // per sheet id, not per row.
    for sheet in &unknown_sheets {
        ui::warn(format!(
            "sheet {} was never printed for this campaign: its {} row{} kept that sheet id as written",
            sheet.sheet_id,
            sheet.rows,
            if sheet.rows == 1 { " was" } else { "s were" }
        ));
    }

    if counts.rejected > 0 {
        let more = counts.rejected as usize - shown.len();
        let mut message = format!("{} rows not imported:", counts.rejected);
        for line in &shown {
            message.push_str(&format!("\n  {line}"));
        }
        if more > 0 {
            message.push_str(&format!("\n  ... and {more} more"));
        }
        match &args.rejects {
            Some(path) => message.push_str(&format!(
                "\n  (all listed in {}: fix them there, delete its reason column and import it again)",
                path.display()
            )),
            None => message.push_str("\n  (pass --rejects FILE to list them all)"),
        }
        ui::warn(message);
    }
    render_counts(ctx, &counts)
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

fn render_counts(ctx: &Ctx, counts: &ImportCounts) -> anyhow::Result<()> {
    if ctx.output.json {
        ui::out_json(counts)?;
    } else {
        ui::out_line(format!(
            "read {}, added {}, duplicates {}, rejected {}",
            counts.read, counts.added, counts.duplicates, counts.rejected
        ))?;
    }
    Ok(())
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
