//! `campaign enter-signatures`: a fast typing loop for paper sheets on a terminal, or a
//! CSV import (`--from`) in one all-or-nothing transaction.

use std::fs::File;
use std::io::{self, BufWriter, Read, Write};
use std::path::PathBuf;

use anyhow::Context as _;
use clap::Args;
use encoding_rs::Encoding;
use serde::Serialize;

use super::export::neutralize;
use super::{load_campaign, Access};
use crate::context::Ctx;
use crate::domain::signer::{self, RawSigner, Region};
use crate::error::Error;
use crate::fsutil::Output;
use crate::model::{Campaign, Signature, Source};
use crate::ops;
use crate::ops::import::{ImportCounts, ImportOptions, ImportReport, Progress, Rejects};
use crate::store::{ImportDefaults, Store};
use crate::ui;
use crate::ui::entry::{Answer, LineReader};

/// Type in signatures from paper sheets, or import a CSV file of signatures.
///
/// On a terminal without --from: asks the sheet id once, then line, name, email,
/// ZIP/postcode, phone, mailing list and "don't show my name" for each signer. Every row
/// is saved as soon as it is accepted. Type `<` to correct the previous row, `.` (or
/// Ctrl-D) to finish; at the line prompt a sheet id switches to that sheet.
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
    #[arg(long, value_enum)]
    pub source: Option<Source>,

    /// Sheet id to start typing from (as printed in the sheet's footer, e.g. OAK-0007)
    #[arg(long, value_name = "ID", conflicts_with = "from")]
    pub sheet: Option<String>,
}

pub fn run(ctx: &Ctx, args: EnterSignaturesArgs) -> anyhow::Result<()> {
    let mut store = ctx.store()?;
    let campaign = load_campaign(ctx, &mut store, &args.campaign, Access::Manage)?;
    let account = ctx.account()?;
    let region = Region::new(
        account.country.as_deref(),
        campaign.country.as_deref(),
        campaign.scope,
    );
    let entered_by = account.email.clone();
    match &args.from {
        Some(from) => import(ctx, &mut store, &campaign, &args, from, region, entered_by),
        None if ctx.interactive => {
            let summary = Entry::new(&mut store, &campaign, region, entered_by, &args)?.run()?;
            if ctx.global.json {
                ui::out_json(&summary)?;
            }
            Ok(())
        }
        None => Err(ctx.missing("a CSV file to import", "--from FILE").into()),
    }
}

/// A byte order mark before the rejects file: Excel reads a CSV without one as
/// Windows-1252 and would garble every accent the organizer is about to fix.
const UTF8_BOM: &[u8] = "\u{feff}".as_bytes();

/// `--from`: a short adapter over [`ops::import`]: opens the input and the rejects file,
/// says how the file is read, runs the import and renders what it did.
fn import(
    ctx: &Ctx,
    store: &mut Store,
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
            signed_at: crate::store::now(),
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
    render_report(ctx, args, &report)
}

/// The progress bar, over bytes read (growing with them when the size is unknown).
struct Bar {
    bar: indicatif::ProgressBar,
    growing: bool,
}

impl Progress for Bar {
    fn advance(&self, bytes_read: u64) {
        if self.growing {
            self.bar.set_length(bytes_read);
        }
        self.bar.set_position(bytes_read);
    }
}

/// The rejects file: the rows as they were, every column in its place, after a row and
/// a reason column, so that fixed in a spreadsheet it imports again as it is (see
/// `Column::RejectsNote`). Same delimiter as the input, so it opens the way the input
/// did; cells a spreadsheet would run as formulas are defused.
struct RejectsFile {
    csv: Option<csv::Writer<BufWriter<Output>>>,
}

impl RejectsFile {
    fn start(out: Output, headers: &csv::StringRecord, delimiter: u8) -> anyhow::Result<Self> {
        let mut w = BufWriter::new(out);
        w.write_all(UTF8_BOM)?;
        let mut csv = csv::WriterBuilder::new()
            .flexible(true)
            .delimiter(delimiter)
            .from_writer(w);
        let header: Vec<_> = ["row", "reason"]
            .into_iter()
            .map(std::borrow::Cow::Borrowed)
            .chain(headers.iter().map(neutralize))
            .collect();
        csv.write_record(header.iter().map(|c| c.as_bytes()))?;
        Ok(RejectsFile { csv: Some(csv) })
    }
}

fn csv_error(e: csv::Error) -> Error {
    match e.into_kind() {
        csv::ErrorKind::Io(e) => Error::Io(e),
        other => Error::Invalid(format!("cannot write the rejects file: {other:?}")),
    }
}

impl Rejects for RejectsFile {
    fn row(
        &mut self,
        row: u64,
        reason: &str,
        cells: &csv::StringRecord,
    ) -> crate::error::Result<()> {
        let Some(csv) = self.csv.as_mut() else {
            return Ok(());
        };
        let row = row.to_string();
        let record: Vec<_> = [row.as_str(), reason]
            .into_iter()
            .map(std::borrow::Cow::Borrowed)
            .chain(cells.iter().map(neutralize))
            .collect();
        csv.write_record(record.iter().map(|c| c.as_bytes()))
            .map_err(csv_error)
    }

    fn finish(&mut self) -> crate::error::Result<()> {
        let Some(csv) = self.csv.take() else {
            return Ok(());
        };
        let w = csv
            .into_inner()
            .map_err(|e| Error::Io(io::Error::other(e.error().to_string())))?;
        w.into_inner().map_err(|e| e.into_error())?.commit()?;
        Ok(())
    }
}

/// Says what the import did: warnings on stderr, the counts on stdout.
fn render_report(
    ctx: &Ctx,
    args: &EnterSignaturesArgs,
    report: &ImportReport,
) -> anyhow::Result<()> {
    let decoded = &report.decoded;
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
    for sheet in &report.unknown_sheets {
        ui::warn(format!(
            "sheet {} was never printed for this campaign: its {} row{} kept that sheet id as written",
            sheet.sheet_id,
            sheet.rows,
            if sheet.rows == 1 { " was" } else { "s were" }
        ));
    }

    let counts = &report.counts;
    if counts.rejected > 0 {
        let shown = &report.first_rejected;
        let more = counts.rejected as usize - shown.len();
        let mut message = format!("{} rows not imported:", counts.rejected);
        for r in shown {
            message.push_str(&format!("\n  row {}: {}", r.row, r.reason));
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
    render_counts(ctx, counts)
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
    if ctx.global.json {
        ui::out_json(counts)?;
    } else {
        ui::out_line(format!(
            "read {}, added {}, duplicates {}, rejected {}",
            counts.read, counts.added, counts.duplicates, counts.rejected
        ))?;
    }
    Ok(())
}

/// What a typing session did.
#[derive(Debug, Default, Serialize)]
pub struct EntrySummary {
    pub added: u64,
    pub skipped: u64,
    pub corrected: u64,
    pub total: i64,
    pub goal: Option<i64>,
}

/// A row as typed: the defaults when it is reopened with `<`.
#[derive(Debug, Clone, Default, PartialEq)]
struct Typed {
    line: String,
    name: String,
    email: String,
    postcode: String,
    phone: String,
    opt_in: bool,
    private: bool,
}

enum Step {
    Row,
    Back,
    End,
    Skip,
}

struct Entry<'a> {
    store: &'a mut Store,
    campaign: &'a Campaign,
    region: Region,
    entered_by: Option<String>,
    source: Source,
    sheet: Option<String>,
    input: LineReader<io::StdinLock<'static>>,
    /// Accepted rows of this session (id, as typed), in entry order. A correction edits
    /// its row in place: a row never leaves this list, so `<` can always reach it.
    accepted: Vec<(i64, Typed)>,
    last_postcode: String,
    /// The campaign's signatures: counted once at the start, then kept up to date here
    /// (a COUNT at every prompt is slow in a large campaign).
    total: i64,
    summary: EntrySummary,
}

impl<'a> Entry<'a> {
    fn new(
        store: &'a mut Store,
        campaign: &'a Campaign,
        region: Region,
        entered_by: Option<String>,
        args: &EnterSignaturesArgs,
    ) -> anyhow::Result<Self> {
        Ok(Entry {
            store,
            campaign,
            region,
            entered_by,
            source: args.source.unwrap_or(Source::Paper),
            sheet: args.sheet.clone(),
            input: LineReader::stdin(),
            accepted: Vec::new(),
            last_postcode: String::new(),
            total: 0,
            summary: EntrySummary::default(),
        })
    }

    fn count(&mut self) -> anyhow::Result<i64> {
        let id = self.campaign.id;
        Ok(patiently(self.store, LOOKING, |s| s.signature_counts(id))?.total)
    }

    /// The next line of the current sheet.
    fn next_line(&mut self) -> anyhow::Result<i64> {
        let id = self.campaign.id;
        let sheet = self.sheet.as_deref();
        Ok(patiently(self.store, LOOKING, |s| s.last_line(id, sheet))? + 1)
    }

    fn goal_text(&self, total: i64) -> String {
        match self.campaign.goal {
            Some(goal) => format!("{total} of {goal}"),
            None => total.to_string(),
        }
    }

    fn run(mut self) -> anyhow::Result<EntrySummary> {
        self.total = self.count()?;
        eprintln!(
            "Entering signatures for \"{}\" ({} so far). `<` corrects the previous row, `.` or Ctrl-D finishes.",
            self.campaign.title,
            self.goal_text(self.total)
        );
        if let Some(sheet) = self.sheet.take() {
            let sheet = signer::sheet_id(&sheet).unwrap_or_default();
            let id = self.campaign.id;
            match patiently(self.store, LOOKING, |s| s.find_sheet(id, &sheet))? {
                Some(s) => self.sheet = Some(s.sheet_id),
                None => eprintln!("  sheet {sheet} was never printed for this campaign"),
            }
        }
        if self.sheet.is_none() && !self.ask_sheet(None)? {
            return self.finish();
        }
        'rows: loop {
            let next_line = self.next_line()?;
            let fresh = Typed {
                line: next_line.to_string(),
                postcode: self.last_postcode.clone(),
                ..Default::default()
            };
            match self.row(fresh, None)? {
                Step::End => break,
                Step::Skip => self.summary.skipped += 1,
                Step::Row => {}
                Step::Back => {
                    // `<` at a new row reopens the latest row of the session; `<` while
                    // correcting, the one before it. After a correction (saved, skipped or
                    // unchanged) the next `<` starts again from the latest row.
                    let mut at = self.accepted.len();
                    loop {
                        if at == 0 {
                            eprintln!("  nothing earlier to go back to in this session");
                            continue 'rows;
                        }
                        at -= 1;
                        eprintln!(
                            "  correcting {} (Enter keeps a value, `-` clears it, `<` goes further back)",
                            if at + 1 == self.accepted.len() {
                                "the previous row"
                            } else {
                                "the row before it"
                            }
                        );
                        match self.correct(at)? {
                            Step::Back => continue,
                            Step::End => break 'rows,
                            Step::Skip => {
                                self.summary.skipped += 1;
                                eprintln!("  correction skipped: the row stays as it was");
                            }
                            Step::Row => {}
                        }
                        continue 'rows;
                    }
                }
            }
        }
        self.finish()
    }

    /// Reopens accepted row `at`, saves what changed and keeps it in place.
    fn correct(&mut self, at: usize) -> anyhow::Result<Step> {
        let (id, before) = self.accepted[at].clone();
        self.row(before, Some((at, id)))
    }

    fn finish(mut self) -> anyhow::Result<EntrySummary> {
        self.summary.total = self.count()?;
        self.summary.goal = self.campaign.goal;
        eprintln!(
            "added {}, skipped {}, corrected {}; the campaign now has {} signatures",
            self.summary.added,
            self.summary.skipped,
            self.summary.corrected,
            self.goal_text(self.summary.total)
        );
        Ok(self.summary)
    }

    /// Asks for a sheet id until one printed for this campaign is given. `false` to end.
    fn ask_sheet(&mut self, typed: Option<String>) -> anyhow::Result<bool> {
        let mut typed = typed;
        loop {
            let answer = match typed.take() {
                Some(t) => t,
                None => match self.input.ask("Sheet id (from the sheet's footer)", None)? {
                    Answer::Text(t) => t,
                    Answer::Back => String::new(),
                    Answer::End => return Ok(false),
                },
            };
            let Some(answer) = signer::sheet_id(&answer) else {
                // Hand-made sheets: rows without a sheet id, if none were ever printed.
                let id = self.campaign.id;
                let printed = patiently(self.store, LOOKING, |s| s.sheets(id))?;
                let Some(example) = printed.first() else {
                    eprintln!(
                        "  no printed sheets for this campaign: rows are saved without a sheet id"
                    );
                    return Ok(true);
                };
                eprintln!(
                    "  type the sheet id printed in the sheet's footer, e.g. {} (`.` to finish)",
                    example.sheet_id
                );
                continue;
            };
            let id = self.campaign.id;
            match patiently(self.store, LOOKING, |s| s.find_sheet(id, &answer))? {
                Some(sheet) => {
                    self.sheet = Some(sheet.sheet_id);
                    return Ok(true);
                }
                None => eprintln!(
                    "  sheet {answer} was never printed for this campaign: check the footer and type it again"
                ),
            }
        }
    }

    /// Types one row (a new one, or accepted row `correcting`: its place and id) and
    /// saves it.
    fn row(&mut self, mut t: Typed, correcting: Option<(usize, i64)>) -> anyhow::Result<Step> {
        let total = self.total;
        let before = t.clone();
        let sheet = self.sheet.clone().unwrap_or_default();
        // Line (a sheet id here switches sheets).
        loop {
            let prompt = format!(
                "[{} · {} entered · {}] Line",
                if sheet.is_empty() { "no sheet" } else { &sheet },
                self.summary.added,
                self.goal_text(total)
            );
            match self.input.ask(&prompt, Some(&t.line))? {
                Answer::Text(l) if l.parse::<i64>().is_ok_and(|n| n > 0) => {
                    t.line = l;
                    break;
                }
                Answer::Text(l)
                    if l.chars().any(|c| c.is_ascii_alphabetic()) && correcting.is_none() =>
                {
                    if !self.ask_sheet(Some(l))? {
                        return Ok(Step::End);
                    }
                    let next = self.next_line()?;
                    return self.row(
                        Typed {
                            line: next.to_string(),
                            ..t
                        },
                        None,
                    );
                }
                Answer::Text(l) => eprintln!("  {l:?} is not a line number (1, 2, 3, ...)"),
                Answer::Back => return Ok(Step::Back),
                Answer::End => return Ok(Step::End),
            }
        }
        // Name.
        loop {
            match self.input.ask("  Name", Some(&t.name))? {
                Answer::Text(n) => match signer::check_name(&n) {
                    Ok(_) => {
                        t.name = n;
                        break;
                    }
                    Err(p) => eprintln!("  {}", p.message),
                },
                Answer::Back => return Ok(Step::Back),
                Answer::End => return Ok(Step::End),
            }
        }
        // Email and ZIP, each followed by the duplicate check once the signer's key is known.
        loop {
            loop {
                match self.input.ask("  Email", Some(&t.email))? {
                    Answer::Text(e) => match signer::check_email(&e) {
                        Ok(_) => {
                            t.email = e;
                            break;
                        }
                        Err(p) => eprintln!("  {}", p.message),
                    },
                    Answer::Back => return Ok(Step::Back),
                    Answer::End => return Ok(Step::End),
                }
            }
            // Warn at once: no need to type the rest of a signer already in.
            if !t.email.trim().is_empty() {
                match self.duplicate(&t, correcting)? {
                    Dup::New => {}
                    Dup::Correct => continue,
                    Dup::Leave(step) => return Ok(step),
                }
            }
            loop {
                match self.input.ask("  ZIP/postcode", Some(&t.postcode))? {
                    Answer::Text(z) => match signer::check_postcode(&z, self.region) {
                        Ok(Some(code)) if self.region.us && signer::unusual_us_zip(&code) => {
                            match self.input.yes_no(
                                &format!("  {code} is not a 5 or 9 digit ZIP; keep it?"),
                                false,
                            )? {
                                Answer::Text(y) if y == "yes" => {
                                    t.postcode = z;
                                    break;
                                }
                                Answer::Text(_) => {}
                                Answer::Back => return Ok(Step::Back),
                                Answer::End => return Ok(Step::End),
                            }
                        }
                        Ok(_) => {
                            t.postcode = z;
                            break;
                        }
                        Err(p) => eprintln!("  {}", p.message),
                    },
                    Answer::Back => return Ok(Step::Back),
                    Answer::End => return Ok(Step::End),
                }
            }
            if t.email.trim().is_empty() && t.postcode.trim().is_empty() {
                eprintln!("  a signer needs an email or a ZIP/postcode");
                continue;
            }
            // Without an email the signer is known by name and postcode.
            if t.email.trim().is_empty() {
                match self.duplicate(&t, correcting)? {
                    Dup::New => {}
                    Dup::Correct => continue,
                    Dup::Leave(step) => return Ok(step),
                }
            }
            break;
        }
        // Phone: a number we do not recognize is kept and flagged; only a phone that could
        // not be stored (too long, control characters) is asked again.
        loop {
            match self.input.ask("  Phone", Some(&t.phone))? {
                Answer::Text(p) => match signer::check_phone(&p, self.region) {
                    Ok(parsed) => {
                        if let Some((_, false)) = parsed {
                            eprintln!("  (kept as written: not a phone number we recognize)");
                        }
                        t.phone = p;
                        break;
                    }
                    Err(problem) => eprintln!("  {}", problem.message),
                },
                Answer::Back => return Ok(Step::Back),
                Answer::End => return Ok(Step::End),
            }
        }
        // Never pre-ticked: Enter means no.
        match self.input.yes_no("  Join the mailing list?", t.opt_in)? {
            Answer::Text(y) => t.opt_in = y == "yes",
            Answer::Back => return Ok(Step::Back),
            Answer::End => return Ok(Step::End),
        }
        match self
            .input
            .yes_no("  Count me, but don't show my name?", t.private)?
        {
            Answer::Text(y) => t.private = y == "yes",
            Answer::Back => return Ok(Step::Back),
            Answer::End => return Ok(Step::End),
        }

        let yes = |b: bool| if b { "yes" } else { "" };
        let raw = RawSigner {
            name: t.name.as_str().into(),
            email: &t.email,
            postcode: &t.postcode,
            phone: &t.phone,
            opt_in: yes(t.opt_in),
            private: yes(t.private),
            sheet: &sheet,
            line: &t.line,
            ..Default::default()
        };
        let mut signature =
            signer::validate(&raw, self.region).map_err(|p| Error::Invalid(p.to_string()))?;
        signature.source = Some(self.source);
        signature.entered_by = self.entered_by.clone();
        if let Some((at, id)) = correcting {
            if t == before {
                eprintln!("  unchanged");
                return Ok(Step::Row);
            }
            if !patiently(self.store, SAVING, |s| s.update_signature(id, &signature))? {
                eprintln!("  another signer already has this email");
                return Ok(Step::Skip);
            }
            self.summary.corrected += 1;
            eprintln!("  corrected ✓");
            self.accepted[at].1 = t;
            return Ok(Step::Row);
        }
        let campaign_id = self.campaign.id;
        match patiently(self.store, SAVING, |s| {
            s.insert_signature(campaign_id, &signature)
        })? {
            Some(id) => {
                self.summary.added += 1;
                self.total += 1;
                self.last_postcode = t.postcode.clone();
                eprintln!("  saved ✓ ({} total)", self.goal_text(self.total));
                self.accepted.push((id, t));
                Ok(Step::Row)
            }
            None => {
                eprintln!("  already in the campaign: skipped");
                Ok(Step::Skip)
            }
        }
    }
}

/// Said when a save has waited as long as the store waits (see [`patiently`]).
const SAVING: &str = "your row is kept and will be saved as soon as that process is done";
/// Said when a lookup has.
const LOOKING: &str = "nothing you typed is lost";

/// Runs one store call of typed entry until it gets through. While another process (an
/// import) holds the database the store waits and says so; if even that wait runs out,
/// the row stays in memory and the call is tried again, so a volunteer never loses a
/// typed row to a busy database and can keep the terminal open.
fn patiently<T>(
    store: &mut Store,
    note: &str,
    mut call: impl FnMut(&mut Store) -> crate::error::Result<T>,
) -> anyhow::Result<T> {
    loop {
        match call(store) {
            Err(Error::Busy { .. }) => eprintln!(
                "  the database is still busy (another campaign process is writing to it): {note}; trying again"
            ),
            result => return Ok(result?),
        }
    }
}

/// What to do after looking for the signer in the campaign.
enum Dup {
    New,
    /// Re-type the email (and postcode).
    Correct,
    Leave(Step),
}

impl Entry<'_> {
    /// Shows the earlier entry when this signer is already in, and asks skip or correct.
    fn duplicate(&mut self, t: &Typed, correcting: Option<(usize, i64)>) -> anyhow::Result<Dup> {
        let email = signer::check_email(&t.email).ok().flatten();
        let postcode = signer::check_postcode(&t.postcode, self.region)
            .ok()
            .flatten();
        let key = signer::dedupe_key(&t.name, email.as_deref(), postcode.as_deref());
        let id = self.campaign.id;
        match patiently(self.store, LOOKING, |s| s.find_signature_by_key(id, &key))? {
            Some(earlier) if Some(earlier.id) != correcting.map(|(_, id)| id) => {
                eprintln!("  already signed: {}", describe(&earlier));
                Ok(
                    match self
                        .input
                        .ask("  [s]kip this row or [c]orrect it?", Some("s"))?
                    {
                        Answer::Text(a) if a.to_lowercase().starts_with('c') => Dup::Correct,
                        Answer::Text(_) => Dup::Leave(Step::Skip),
                        Answer::Back => Dup::Leave(Step::Back),
                        Answer::End => Dup::Leave(Step::End),
                    },
                )
            }
            _ => Ok(Dup::New),
        }
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
    if let (Some(sheet), Some(line)) = (&s.sheet_id, s.line) {
        out.push_str(&format!(" (sheet {sheet} line {line})"));
    }
    out
}
