//! `campaign export`: the signers as CSV (for spreadsheets) or JSON lines.

use std::io::{self, Write};
use std::path::PathBuf;

use clap::{Args, ValueEnum};
use serde::Serialize;

use super::{load_campaign, Access};
use crate::context::Ctx;
use crate::model::Signature;
use crate::ui;

/// Writes a campaign's signers: everyone, or with --opted-in just those who joined the
/// mailing list (to hand to the organization). Files are private to you (0600).
#[derive(Debug, Args)]
pub struct ExportArgs {
    /// Campaign slug or id
    pub campaign: String,

    /// Only signers who asked to join the mailing list
    #[arg(long)]
    pub opted_in: bool,

    /// File format [default: csv; jsonl with --json]
    #[arg(long, value_enum)]
    pub format: Option<Format>,

    /// Write to FILE instead of standard output. An existing FILE is replaced only once
    /// the export is complete (never the database or the account file)
    #[arg(long, short, value_name = "FILE")]
    pub out: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Comma-separated, with a header; cells a spreadsheet would run as formulas are defused
    Csv,
    /// One JSON object per line
    Jsonl,
}

/// The exported fields, in order.
pub const COLUMNS: [&str; 10] = [
    "name",
    "email",
    "postcode",
    "phone",
    "opt_in",
    "private",
    "source",
    "sheet",
    "line",
    "signed_at",
];

#[derive(Serialize)]
struct Row<'a> {
    name: &'a str,
    email: Option<&'a str>,
    postcode: Option<&'a str>,
    phone: Option<&'a str>,
    opt_in: bool,
    private: bool,
    source: &'a str,
    sheet: Option<&'a str>,
    line: Option<i64>,
    signed_at: &'a str,
}

/// Prefixes a quote to a cell a spreadsheet would treat as a formula (`=`, `+`, `-`,
/// `@`, tab, CR), so `=HYPERLINK(...)` typed as a name stays text. A plain signed number
/// (`+15105550101`, `-5`, `-5.5`) is no formula and is left as it is: a phone in E.164
/// comes out as written.
pub fn neutralize(cell: &str) -> std::borrow::Cow<'_, str> {
    match cell.as_bytes().first() {
        Some(b'+' | b'-') if plain_number(&cell[1..]) => cell.into(),
        Some(b'=' | b'+' | b'-' | b'@' | b'\t' | b'\r') => format!("'{cell}").into(),
        _ => cell.into(),
    }
}

/// Digits, with at most one decimal point between digits: nothing a spreadsheet could
/// run (`5`, `15105550101`, `5.5`; not `1+2`, `5.`, `SUM(A1)`, `1e3`).
fn plain_number(text: &str) -> bool {
    let mut parts = text.split('.');
    let digits = |p: &str| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit());
    match (parts.next(), parts.next(), parts.next()) {
        (Some(whole), None, _) => digits(whole),
        (Some(whole), Some(fraction), None) => digits(whole) && digits(fraction),
        _ => false,
    }
}

impl<'a> Row<'a> {
    fn new(s: &'a Signature) -> Self {
        Row {
            name: &s.name,
            email: s.email.as_deref(),
            postcode: s.postcode.as_deref(),
            phone: s.phone.as_deref(),
            opt_in: s.opt_in,
            private: s.private,
            source: s.source.as_str(),
            sheet: s.sheet_id.as_deref(),
            line: s.line,
            signed_at: &s.signed_at,
        }
    }
}

/// The I/O error inside a CSV error, so a closed pipe (`| head`) stays recognizable.
fn csv_io(e: csv::Error) -> io::Error {
    match e.into_kind() {
        csv::ErrorKind::Io(e) => e,
        other => io::Error::other(format!("{other:?}")),
    }
}

pub fn run(ctx: &Ctx, args: ExportArgs) -> anyhow::Result<()> {
    let mut store = ctx.store()?;
    let campaign = load_campaign(ctx, &mut *store, &args.campaign, Access::Manage)?;
    crate::ops::privacy::refuse_purged(&campaign, "an export of its signers")?;
    // Through a temporary file renamed into place at the end: an error or a full disk
    // leaves an earlier export as it was. Never over the database or the account file.
    // Into a pipe or file the bytes are exact; a person reading on a terminal gets them
    // sanitized.
    let mut output = match &args.out {
        Some(path) => Some(ctx.files().create(path)?),
        None if !ui::stdout_is_terminal() => Some(ctx.files().stdout()?),
        None => None,
    };
    let mut terminal: Box<dyn Write> = if output.is_none() {
        ui::data_out()
    } else {
        Box::new(io::sink())
    };
    let mut out: &mut dyn Write = match output.as_mut() {
        Some(file) => file,
        None => &mut terminal,
    };
    let mut count = 0u64;
    let each = |f: &mut dyn FnMut(Signature) -> crate::error::Result<()>| {
        if args.opted_in {
            store.for_each_opted_in(campaign.id, f)
        } else {
            store.for_each_signer(campaign.id, f)
        }
    };
    // `--json` asks for JSON on stdout: give JSON lines unless CSV was named.
    let format = args.format.unwrap_or(if ctx.output.json {
        Format::Jsonl
    } else {
        Format::Csv
    });
    match format {
        Format::Csv => {
            let mut w = csv::Writer::from_writer(&mut *out);
            w.write_record(COLUMNS).map_err(csv_io)?;
            let yes = |b: bool| if b { "yes" } else { "no" };
            each(&mut |s| {
                count += 1;
                let row = Row::new(&s);
                let line = row.line.map(|l| l.to_string()).unwrap_or_default();
                w.write_record([
                    neutralize(row.name).as_ref(),
                    &neutralize(row.email.unwrap_or("")),
                    &neutralize(row.postcode.unwrap_or("")),
                    &neutralize(row.phone.unwrap_or("")),
                    yes(row.opt_in),
                    yes(row.private),
                    row.source,
                    &neutralize(row.sheet.unwrap_or("")),
                    &line,
                    row.signed_at,
                ])
                .map_err(csv_io)?;
                Ok(())
            })?;
            w.flush()?;
        }
        Format::Jsonl => {
            // Control characters JSON-escaped: exact values, safe bytes on a terminal.
            let mut line = Vec::new();
            each(&mut |s| {
                count += 1;
                ui::write_json_line(&mut out, &mut line, &Row::new(&s))?;
                Ok(())
            })?;
        }
    }
    match output {
        Some(file) => {
            let done = file.commit()?;
            // Listed by a purge as a copy to delete (a pipe or device is not a copy).
            if args.out.is_some()
                && std::fs::symlink_metadata(&done.path).is_ok_and(|m| m.is_file())
            {
                store.record_campaign_file(
                    campaign.id,
                    crate::model::FileKind::Export,
                    &done.path.to_string_lossy(),
                    done.sha256.as_deref(),
                )?;
            }
        }
        None => terminal.flush()?,
    }
    if let Some(path) = &args.out {
        ui::status(ctx, format!("wrote {count} signers to {}", path.display()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_are_defused() {
        assert_eq!(neutralize("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        // A phone in E.164 is a plain number, not a formula.
        assert_eq!(neutralize("+15105550199"), "+15105550199");
        assert_eq!(neutralize("@foo"), "'@foo");
        assert_eq!(neutralize("\tx"), "'\tx");
        assert_eq!(neutralize("Nguyễn Thị Minh Khai"), "Nguyễn Thị Minh Khai");
    }

    #[test]
    fn plain_numbers_are_left_alone_and_formulas_are_guarded() {
        for plain in ["+15105550101", "-5", "-5.5", "+0", "5", "Ana", "94612"] {
            assert_eq!(neutralize(plain), plain);
        }
        for formula in [
            "=1+1",
            "@SUM(A1)",
            "+SUM(A1:A9)",
            "-1+2",
            "+1 510",
            "-5.",
            "-.5",
            "+",
            "-",
            "+1e3",
            "-5.5.5",
            "\t=1",
            "\r=1",
            "=HYPERLINK(\"x\")",
        ] {
            assert_eq!(neutralize(formula), format!("'{formula}"), "{formula:?}");
        }
    }
}
