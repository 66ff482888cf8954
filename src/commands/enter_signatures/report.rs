//! What `enter-signatures --from` writes and shows besides the import itself: the
//! progress bar, the rejects file, the warnings and the counts.

use std::io::{self, BufWriter, Write};

use super::super::export::neutralize;
use super::{Ctx, EnterSignaturesArgs};
use crate::error::Error;
use crate::fsutil::OutFile;
use crate::ops::import::{ImportCounts, ImportReport, Progress, Rejects};
use crate::ui;

/// A byte order mark before the rejects file: Excel reads a CSV without one as
/// Windows-1252 and would garble every accent the organizer is about to fix.
const UTF8_BOM: &[u8] = "\u{feff}".as_bytes();

/// The progress bar, over bytes read (growing with them when the size is unknown).
pub(super) struct Bar {
    pub(super) bar: indicatif::ProgressBar,
    pub(super) growing: bool,
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
pub(super) struct RejectsFile {
    csv: Option<csv::Writer<BufWriter<OutFile>>>,
}

impl RejectsFile {
    pub(super) fn start(
        out: OutFile,
        headers: &csv::StringRecord,
        delimiter: u8,
    ) -> anyhow::Result<Self> {
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
pub(super) fn render_report(
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
    if counts.forgotten > 0 {
        ui::status(
            ctx,
            format!(
                "{} skipped: these people asked to be forgotten (`campaign forget`)",
                ui::plural(counts.forgotten, "row", "rows")
            ),
        );
    }
    render_counts(ctx, counts)
}

fn render_counts(ctx: &Ctx, counts: &ImportCounts) -> anyhow::Result<()> {
    if ctx.output.json {
        ui::out_json(counts)?;
    } else {
        let forgotten = if counts.forgotten > 0 {
            format!(", forgotten {}", counts.forgotten)
        } else {
            String::new()
        };
        ui::out_line(format!(
            "read {}, added {}, duplicates {}, rejected {}{forgotten}",
            counts.read, counts.added, counts.duplicates, counts.rejected
        ))?;
    }
    Ok(())
}
