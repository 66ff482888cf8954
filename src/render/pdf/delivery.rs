//! The delivery document: a cover letter for the target, then the numbered signer list
//! (or a table of counts per postcode), "page x of y" and the title on every page.
//!
//! Written with the streaming writer ([`super::writer`]): signers arrive one at a time
//! from the store, pages are built in parallel batches and written in order, so memory
//! does not grow with the number of signers. The cover is built last and put first, so
//! it can count what the list held (names shown as a placeholder).
//!
//! Every word the document prints comes from the catalog (`delivery.*` keys).

use std::collections::BTreeMap;
use std::io::Write;

use rayon::prelude::*;

use unicode_normalization::char::is_combining_mark;

use super::fonts::font_hint;
use super::text::{shape, unprintable};
use super::writer::{Align, FinishedPage, PageBuilder, PdfStream, SharedUsage};
use super::{Paper, PetitionText};
use crate::domain::delivery::{postcode_key, shown_signer, ContactField, ShowLevel, ShownSigner};
use crate::error::{Error, Result};
use crate::i18n;
use crate::model::{Lang, Signature, SignatureCounts};

/// A number with the language's thousands separator ("1,234", "1.234").
fn number(lang: Lang, n: i64) -> String {
    let sep = i18n::t(lang, "delivery.thousands", &[]);
    let digits = n.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, d) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push_str(&sep);
        }
        out.push(d);
    }
    if n < 0 {
        out.insert(0, '-');
    }
    out
}

/// A counted message (`KEY.one` / `KEY.other`, the language's plural rules) with the
/// count written as [`number`] writes it.
fn counted(lang: Lang, key: &str, n: i64) -> String {
    // The catalog's text holds no digits of its own, so the count is the only match.
    i18n::count(lang, key, n).replacen(&n.to_string(), &number(lang, n), 1)
}

/// A date as a letter writes it: "December 1, 2026", "1 de diciembre de 2026".
pub fn written_date(lang: Lang, date: time::Date) -> String {
    let month = i18n::t(lang, &format!("delivery.month.{}", date.month() as u8), &[]);
    i18n::t(
        lang,
        "delivery.date",
        &[
            ("month", &month),
            ("day", &date.day().to_string()),
            ("year", &date.year().to_string()),
        ],
    )
}

/// Who signs the letter (the delivery's signatory).
#[derive(Debug, Clone, Default)]
pub struct Signatory<'a> {
    /// The organization (the organizer's name when there is none).
    pub organization: &'a str,
    /// The organizer, who signs the letter ("" for an account without a name).
    pub name: &'a str,
    /// Printed under the sender only when asked for (`--include-sender-email`).
    pub email: Option<&'a str>,
}

/// What to do with a name that has characters no font here draws.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Unprintable {
    /// Write nothing: the delivery fails, listing the rows and characters.
    #[default]
    Refuse,
    /// Print a visible placeholder for the name, and count those rows on the cover.
    Placeholder,
}

/// Everything the document says apart from the signers themselves.
pub struct DeliveryDoc<'a> {
    /// The petition in the letter's language.
    pub petition: &'a PetitionText,
    pub sender: Signatory<'a>,
    /// The day of the letter, written out in its language.
    pub date: time::Date,
    pub lang: Lang,
    pub paper: Paper,
    pub show: ShowLevel,
    pub include: &'a [ContactField],
    /// The signers this document covers (all, or one postcode's).
    pub counts: SignatureCounts,
    /// Set when the document covers one postcode (`--split-by postcode`); "" = none.
    pub postcode: Option<&'a str>,
    /// Everyone who signed the campaign, printed beside a postcode's part.
    pub campaign_total: i64,
    /// Signers per postcode, for `--show postcodes`.
    pub postcode_counts: Option<&'a BTreeMap<String, i64>>,
    pub unprintable: Unprintable,
}

/// A signer whose name has characters no available font draws.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Uncovered {
    /// Position in the signer list (of its postcode's file, with `postcode`).
    pub row: u64,
    pub signature_id: i64,
    pub chars: Vec<char>,
    /// The postcode whose file lists the signer (split deliveries only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub postcode: Option<String>,
}

/// What was written.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Written {
    pub pages: u32,
    /// Signers named (or initialed) in the list.
    pub listed: u64,
    /// The first signers with characters no font has (capped at [`MAX_UNCOVERED`]),
    /// shown as a placeholder.
    pub uncovered: Vec<Uncovered>,
    pub uncovered_total: u64,
}

/// How many uncovered-name reports are kept (the total is still counted).
pub const MAX_UNCOVERED: usize = 200;

/// The error for names no font draws: which rows, which characters, what to install,
/// and the flag that prints them as a placeholder instead.
pub fn unprintable_error(rows: &[Uncovered], total: u64) -> Error {
    let mut lines = Vec::new();
    let mut hints = std::collections::BTreeSet::new();
    for u in rows.iter().take(20) {
        let chars: String = u.chars.iter().collect();
        let codes: Vec<String> = u
            .chars
            .iter()
            .map(|c| format!("U+{:04X}", *c as u32))
            .collect();
        hints.extend(u.chars.iter().map(|c| font_hint(*c)));
        let place = match &u.postcode {
            Some(code) if code.is_empty() => format!("row {} of the no-postcode file", u.row),
            Some(code) => format!("row {} of postcode {code}", u.row),
            None => format!("row {}", u.row),
        };
        lines.push(format!(
            "{place} (signature id {}): {chars:?} ({})",
            u.signature_id,
            codes.join(" ")
        ));
    }
    if total > lines.len() as u64 {
        lines.push(format!("and {} more", total - lines.len() as u64));
    }
    let names = if total == 1 {
        "1 signer's name has".to_string()
    } else {
        format!("{total} signers' names have")
    };
    Error::Refused(format!(
        "{names} characters no font here can draw, so nothing was written:\n  {}\n\
         What draws them: {}. Then deliver again, or pass --allow-unprintable to print \
         \"{}\" in their place (the cover counts them).",
        lines.join("\n  "),
        hints.into_iter().collect::<Vec<_>>().join("; or "),
        i18n::t(Lang::En, "delivery.unprintable_name", &[]),
    ))
}

/// Checks that every name the document would list can be drawn, before anything is
/// written (for outputs that cannot be taken back: a pipe, one file of several).
/// `signers` streams the signatures with the postcode of the file each goes to (`None`
/// for a single file), in list order.
pub fn check_printable<F>(show: ShowLevel, include: &[ContactField], signers: F) -> Result<()>
where
    F: FnOnce(&mut dyn FnMut(Option<&str>, Signature) -> Result<()>) -> Result<()>,
{
    let mut rows: Vec<Uncovered> = Vec::new();
    let mut total = 0u64;
    let mut current: Option<String> = None;
    let mut row = 0u64;
    signers(&mut |postcode, s| {
        let Some(shown) = shown_signer(&s, show, include) else {
            return Ok(());
        };
        if postcode.map(str::to_string) != current {
            current = postcode.map(str::to_string);
            row = 0;
        }
        row += 1;
        let missing = unprintable(&shown.name);
        if !missing.is_empty() {
            total += 1;
            if rows.len() < MAX_UNCOVERED {
                rows.push(Uncovered {
                    row,
                    signature_id: s.id,
                    chars: missing,
                    postcode: current.clone(),
                });
            }
        }
        Ok(())
    })?;
    if total > 0 {
        return Err(unprintable_error(&rows, total));
    }
    Ok(())
}

/// Where things go on a page of this size.
#[derive(Debug, Clone, Copy)]
struct Layout {
    width: f32,
    height: f32,
    left: f32,
    right: f32,
    /// Baseline of the first signer row.
    top_row: f32,
    rows_per_page: usize,
}

impl Layout {
    fn new(paper: Paper) -> Layout {
        let (width, height) = paper.portrait();
        let top_row = height - 90.0;
        Layout {
            width,
            height,
            left: LEFT,
            right: width - LEFT,
            top_row,
            rows_per_page: ((top_row - LIST_FLOOR) / ROW_HEIGHT) as usize + 1,
        }
    }
}

const ROW_HEIGHT: f32 = 16.0;
const LEFT: f32 = 56.0;
/// The last signer row's baseline is at or above this.
const LIST_FLOOR: f32 = 60.0;
/// Pages built per parallel batch: enough to keep both cores busy, small enough that
/// memory stays flat.
const BATCH_PAGES: usize = 48;

/// Writes the document to `out`. `signers` streams the campaign's signatures (in entry
/// order) into the callback it is given; those outside `doc.postcode` are skipped.
///
/// A name no font draws is drawn as the placeholder; with [`Unprintable::Refuse`] the
/// whole document is refused at the end ([`unprintable_error`]), so the caller drops
/// its output uncommitted and nothing lands.
///
/// Never call this from rayon pool work: it waits on its renderer thread, which spreads
/// pages over the pool, so a pool worker waiting here can hold the thread its own pages
/// need (that froze `deliver --all`). Callers run it on plain threads; called from the
/// pool, it refuses at once instead of hanging.
pub fn write_delivery<W, F>(out: W, doc: &DeliveryDoc<'_>, signers: F) -> Result<(W, Written)>
where
    W: Write + Send,
    F: FnOnce(&mut dyn FnMut(Signature) -> Result<()>) -> Result<()>,
{
    if rayon::current_thread_index().is_some() {
        return Err(Error::Invalid(
            "internal error: a delivery was written from rayon pool work, where it could wait on itself".into(),
        ));
    }
    let layout = Layout::new(doc.paper);
    let rows_per_page = layout.rows_per_page;
    let listed_expected = if doc.show.lists_signers() {
        (doc.counts.total - doc.counts.private).max(0) as usize
    } else {
        0
    };
    let table_rows = match (doc.show, doc.postcode_counts) {
        (ShowLevel::Postcodes, Some(m)) => m.len(),
        _ => 0,
    };
    let list_pages = (listed_expected + table_rows).div_ceil(rows_per_page);
    let total_pages = 1 + list_pages as u32;

    let mut pdf = PdfStream::new(out, layout_size(&layout))?;
    let usage = SharedUsage::new();
    let usage = &usage;
    let mut written = Written::default();
    let header = header_title(doc);
    let header = header.as_str();
    let placeholder = i18n::t(doc.lang, "delivery.unprintable_name", &[]);
    let placeholder = placeholder.as_str();

    match doc.show {
        ShowLevel::Names | ShowLevel::Initials => {
            // Reading from SQLite (this thread) overlaps with building and writing pages
            // (a second thread, itself spreading each batch of pages over the cores).
            // At most a few batches are in flight, so memory stays flat.
            let batch_rows = BATCH_PAGES * rows_per_page;
            let (pdf_back, written_back) = std::thread::scope(|scope| -> Result<_> {
                let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<(i64, ShownSigner)>>(2);
                let renderer = scope.spawn(move || -> Result<(PdfStream<W>, Written)> {
                    let mut next_row: u64 = 1;
                    for batch in rx {
                        // The cover (page 1) is written last.
                        let first_page = 2 + pdf.pages() as u32;
                        let pages: Vec<Result<(FinishedPage, Vec<Uncovered>)>> = batch
                            .par_chunks(rows_per_page)
                            .enumerate()
                            .map(|(i, rows)| {
                                let row0 = next_row + (i * rows_per_page) as u64;
                                list_page(
                                    doc,
                                    &layout,
                                    header,
                                    placeholder,
                                    (first_page + i as u32, total_pages),
                                    row0,
                                    rows,
                                    usage,
                                )
                            })
                            .collect();
                        for page in pages {
                            let (page, uncovered) = page?;
                            pdf.write_page(page)?;
                            for u in uncovered {
                                written.uncovered_total += 1;
                                if written.uncovered.len() < MAX_UNCOVERED {
                                    written.uncovered.push(u);
                                }
                            }
                        }
                        next_row += batch.len() as u64;
                        written.listed += batch.len() as u64;
                    }
                    Ok((pdf, written))
                });
                let mut batch: Vec<(i64, ShownSigner)> = Vec::with_capacity(batch_rows);
                let mut seen = 0usize;
                let read = signers(&mut |s: Signature| {
                    if doc.postcode.is_some_and(|p| postcode_key(&s) != p) {
                        return Ok(());
                    }
                    let Some(shown) = shown_signer(&s, doc.show, doc.include) else {
                        return Ok(());
                    };
                    // Never more rows than the page count promised on every page.
                    if seen >= listed_expected {
                        return Ok(());
                    }
                    seen += 1;
                    batch.push((s.id, shown));
                    if batch.len() == batch_rows {
                        let full = std::mem::replace(&mut batch, Vec::with_capacity(batch_rows));
                        // A closed channel means the renderer failed: its error wins below.
                        tx.send(full)
                            .map_err(|_| Error::Invalid("delivery stopped".into()))?;
                    }
                    Ok(())
                });
                if read.is_ok() && !batch.is_empty() {
                    let _ = tx.send(batch);
                }
                drop(tx);
                let rendered = renderer
                    .join()
                    .map_err(|_| Error::Invalid("the page renderer crashed".into()))?;
                let rendered = rendered?;
                read?;
                Ok(rendered)
            })?;
            pdf = pdf_back;
            written = written_back;
        }
        ShowLevel::Postcodes => {
            let rows: Vec<(String, i64)> = doc
                .postcode_counts
                .map(|m| m.iter().map(|(k, v)| (k.clone(), *v)).collect())
                .unwrap_or_default();
            for (i, chunk) in rows.chunks(rows_per_page).enumerate() {
                let page = postcode_page(
                    doc.lang,
                    &layout,
                    header,
                    2 + i as u32,
                    total_pages,
                    chunk,
                    usage,
                )?;
                pdf.write_page(page)?;
            }
        }
        ShowLevel::Count => {}
    }
    if doc.unprintable == Unprintable::Refuse && written.uncovered_total > 0 {
        return Err(unprintable_error(
            &written.uncovered,
            written.uncovered_total,
        ));
    }
    let cover = cover_page(doc, &layout, total_pages, written.uncovered_total, usage)?;
    pdf.write_first_page(cover)?;
    written.pages = pdf.pages() as u32;
    let out = pdf.finish(&doc.petition.title, usage)?;
    Ok((out, written))
}

fn layout_size(layout: &Layout) -> (f32, f32) {
    (layout.width, layout.height)
}

/// Greedy word wrap by measured width; a word wider than the line is broken between
/// characters (never inside a character and its combining marks). Stops after
/// `max_lines + 1` lines: enough to know the text does not fit in `max_lines`.
fn wrap(text: &str, size: f32, width: f32, max_lines: usize) -> Vec<String> {
    let fits = |s: &str| shape(s).width(size) <= width;
    let mut lines = Vec::new();
    for para in text.lines() {
        let mut line = String::new();
        for word in para.split_whitespace() {
            if lines.len() > max_lines {
                return lines;
            }
            let candidate = if line.is_empty() {
                word.to_string()
            } else {
                format!("{line} {word}")
            };
            if fits(&candidate) {
                line = candidate;
                continue;
            }
            if !line.is_empty() {
                lines.push(std::mem::take(&mut line));
            }
            if fits(word) {
                line = word.to_string();
                continue;
            }
            // A word longer than the line (a pasted URL, a run of characters).
            for c in word.chars() {
                if !line.is_empty() && !is_combining_mark(c) && !fits(&format!("{line}{c}")) {
                    lines.push(std::mem::take(&mut line));
                    if lines.len() > max_lines {
                        return lines;
                    }
                }
                line.push(c);
            }
        }
        lines.push(line);
    }
    lines
}

/// At most `max_lines` lines of `text`; when it is longer, the last line ends in "…"
/// so the cut shows (the full text is the campaign's, not the cover's).
fn fit(text: &str, size: f32, width: f32, max_lines: usize) -> Vec<String> {
    let mut lines = wrap(text, size, width, max_lines);
    if lines.len() <= max_lines || max_lines == 0 {
        return lines;
    }
    lines.truncate(max_lines);
    if let Some(last) = lines.last_mut() {
        *last = with_ellipsis(last, size, width);
    }
    lines
}

/// `line` shortened until it and a trailing "…" fit `width`.
fn with_ellipsis(line: &str, size: f32, width: f32) -> String {
    let mut line = line.trim_end().to_string();
    while !line.is_empty() && shape(&format!("{line}…")).width(size) > width {
        // Drop a whole character with its marks.
        while let Some(c) = line.pop() {
            if !is_combining_mark(c) {
                break;
            }
        }
        line.truncate(line.trim_end().len());
    }
    line.push('…');
    line
}

/// The campaign title as the running header shows it: one line, "…" when longer.
fn header_title(doc: &DeliveryDoc<'_>) -> String {
    fit(&doc.petition.title, 9.0, HEADER_WIDTH, 1)
        .into_iter()
        .next()
        .unwrap_or_default()
}

const HEADER_WIDTH: f32 = 360.0;

fn page_of(lang: Lang, page: u32, pages: u32) -> String {
    i18n::t(
        lang,
        "delivery.page_of",
        &[("page", &page.to_string()), ("pages", &pages.to_string())],
    )
}

fn header(p: &mut PageBuilder<'_>, l: &Layout, title: &str, lang: Lang, page: u32, pages: u32) {
    let y = l.height - 36.0;
    p.fill_gray(0.35);
    p.text(title, l.left, y, 9.0, Align::Left, Some(HEADER_WIDTH));
    p.text(
        &page_of(lang, page, pages),
        l.right,
        y,
        9.0,
        Align::Right,
        None,
    );
    p.line(l.left, y - 8.0, l.right, y - 8.0, 0.5, 0.6);
    p.fill_gray(0.0);
}

/// Draws `lines` from `*y` down, `step` apart.
fn lines_at(
    p: &mut PageBuilder<'_>,
    lines: &[String],
    x: f32,
    y: &mut f32,
    size: f32,
    step: f32,
    width: f32,
) {
    for line in lines {
        p.text(line, x, *y, size, Align::Left, Some(width));
        *y -= step;
    }
}

/// The cover, a letter: the sender and the date, "To:" the target, the title, how many
/// signed (prominent, near the top), what the list holds, then the ask and the why and
/// a closing signed by the organizer. Every text has a budget of lines so the count and
/// the closing always stay on the page: the ask and the why get the room left, in
/// smaller type before anything is shortened (with "…").
fn cover_page(
    doc: &DeliveryDoc<'_>,
    l: &Layout,
    pages: u32,
    unprintable_rows: u64,
    usage: &SharedUsage,
) -> Result<FinishedPage> {
    let mut p = PageBuilder::new(usage);
    let lang = doc.lang;
    let t = |key: &str, args: &[(&str, &str)]| i18n::t(lang, key, args);
    let c = doc.petition;
    let (left, right) = (l.left, l.right);
    let width = right - left;
    const GREY: f32 = 0.35;

    // Sender and date.
    let mut y = l.height - 64.0;
    let date = written_date(lang, doc.date);
    let date_width = shape(&date).width(11.0);
    let sender_width = width - date_width - 24.0;
    p.text(&date, right, y, 11.0, Align::Right, None);
    let org = doc.sender.organization.trim();
    let name = doc.sender.name.trim();
    if !org.is_empty() {
        p.bold(Some(12.0));
        lines_at(
            &mut p,
            &fit(org, 12.0, sender_width, 2),
            left,
            &mut y,
            12.0,
            15.0,
            sender_width,
        );
        p.bold(None);
    }
    p.fill_gray(GREY);
    if !name.is_empty() && name != org {
        lines_at(
            &mut p,
            &fit(name, 11.0, sender_width, 1),
            left,
            &mut y,
            11.0,
            14.0,
            sender_width,
        );
    }
    if let Some(email) = doc.sender.email.map(str::trim).filter(|e| !e.is_empty()) {
        lines_at(
            &mut p,
            &fit(email, 11.0, sender_width, 1),
            left,
            &mut y,
            11.0,
            14.0,
            sender_width,
        );
    }
    p.fill_gray(0.0);

    // To: the target (its lines after the label).
    y -= 34.0;
    let to = t("delivery.to", &[]);
    let to_width = shape(&to).width(11.0) + 6.0;
    p.fill_gray(GREY);
    p.text(&to, left, y, 11.0, Align::Left, None);
    p.fill_gray(0.0);
    let target_width = width - to_width;
    let target = fit(&c.target, 15.0, target_width, 3);
    let x = left + to_width;
    lines_at(&mut p, &target, x, &mut y, 15.0, 19.0, target_width);

    // The title, then the count.
    y -= 14.0;
    p.bold(Some(20.0));
    lines_at(
        &mut p,
        &fit(&c.title, 20.0, width, 3),
        left,
        &mut y,
        20.0,
        25.0,
        width,
    );
    p.bold(None);
    y -= 12.0;
    p.bold(Some(24.0));
    let signed = counted(lang, "delivery.signed_by", doc.counts.total);
    p.text(&signed, left, y, 24.0, Align::Left, Some(width));
    p.bold(None);
    y -= 22.0;

    // What the count is made of, and what the list holds.
    let mut notes = vec![t(
        "delivery.sources",
        &[
            ("paper", &number(lang, doc.counts.paper)),
            ("online", &number(lang, doc.counts.online)),
        ],
    )];
    if let Some(code) = doc.postcode {
        let part = number(lang, doc.counts.total);
        let total = counted(lang, "delivery.total", doc.campaign_total);
        notes.push(if code.is_empty() {
            t("delivery.part_none", &[("part", &part), ("total", &total)])
        } else {
            t(
                "delivery.part",
                &[("postcode", code), ("part", &part), ("total", &total)],
            )
        });
    }
    if doc.counts.private > 0 {
        notes.push(counted(lang, "delivery.private", doc.counts.private));
    }
    if unprintable_rows > 0 {
        notes.push(counted(
            lang,
            "delivery.unprintable",
            unprintable_rows as i64,
        ));
    }
    if !doc.include.is_empty() {
        let fields: Vec<String> = doc
            .include
            .iter()
            .map(|f| match f {
                ContactField::Email => t("delivery.field.email", &[]),
                ContactField::Phone => t("delivery.field.phone", &[]),
            })
            .collect();
        let and = format!(" {} ", t("delivery.and", &[]));
        notes.push(t(
            "delivery.contact_note",
            &[("fields", &fields.join(&and))],
        ));
    }
    for note in &notes {
        lines_at(
            &mut p,
            &fit(note, 11.0, width, 3),
            left,
            &mut y,
            11.0,
            14.5,
            width,
        );
    }
    y -= 6.0;
    p.line(left, y, right, y, 0.8, 0.2);
    y -= 24.0;

    // The letter: a sentence, the ask, the why and where, then the closing.
    let intro = t("delivery.intro", &[("org", org)]);
    let closing_lines =
        1 + usize::from(!name.is_empty()) + usize::from(!org.is_empty() && org != name);
    let closing_height = 22.0 + 15.0 * closing_lines as f32;
    let place = fit(&c.place, 11.0, width, 2);
    let floor = 56.0 + closing_height;
    let (size, ask_lines, why_lines) = letter_body(&c.ask, &c.why, &place, y - floor, width);
    let step = size * 1.32;
    let section = |p: &mut PageBuilder<'_>, y: &mut f32, heading: &str, lines: &[String]| {
        if lines.is_empty() || lines.iter().all(|l| l.trim().is_empty()) {
            return;
        }
        p.fill_gray(GREY);
        p.text(heading, left, *y, 10.0, Align::Left, None);
        p.fill_gray(0.0);
        *y -= 15.0;
        lines_at(p, lines, left, y, size, step, width);
        *y -= 8.0;
    };
    if !org.is_empty() {
        lines_at(
            &mut p,
            &fit(&intro, size, width, 2),
            left,
            &mut y,
            size,
            step,
            width,
        );
        y -= 10.0;
    }
    section(&mut p, &mut y, &t("delivery.ask", &[]), &ask_lines);
    section(&mut p, &mut y, &t("delivery.why", &[]), &why_lines);
    section(&mut p, &mut y, &t("delivery.place", &[]), &place);

    // The closing follows the letter (the body's budget keeps it above the floor).
    y = (y - 14.0).max(floor - 10.0);
    p.text(
        &t("delivery.closing", &[]),
        left,
        y,
        11.0,
        Align::Left,
        None,
    );
    y -= 30.0;
    if !name.is_empty() {
        lines_at(
            &mut p,
            &fit(name, 11.0, width, 1),
            left,
            &mut y,
            11.0,
            15.0,
            width,
        );
    }
    if !org.is_empty() && org != name {
        p.fill_gray(GREY);
        lines_at(
            &mut p,
            &fit(org, 11.0, width, 1),
            left,
            &mut y,
            11.0,
            15.0,
            width,
        );
    }
    p.fill_gray(GREY);
    p.text(
        &page_of(lang, 1, pages),
        right,
        40.0,
        9.0,
        Align::Right,
        None,
    );
    Ok(p.finish()?)
}

/// The letter's body size and the lines of the ask and the why in `room` points: the
/// largest size (11.5 down to 9.5 pt) at which both fit whole, else 9.5 pt with each
/// shortened (with "…") to its share of the room.
fn letter_body(
    ask: &str,
    why: &str,
    place: &[String],
    room: f32,
    width: f32,
) -> (f32, Vec<String>, Vec<String>) {
    let mut size = 11.5f32;
    loop {
        let step = size * 1.32;
        // Headings (15 pt each, 8 after each section), the intro, where.
        let fixed = 3.0 * 23.0 + 2.0 * step + 10.0 + place.len() as f32 * step;
        let room_lines = (((room - fixed) / step).floor().max(2.0)) as usize;
        let ask_all = wrap(ask, size, width, room_lines);
        let why_all = wrap(why, size, width, room_lines);
        if ask_all.len() + why_all.len() <= room_lines {
            return (size, ask_all, why_all);
        }
        if size <= 9.5 {
            let ask_lines = ask_all
                .len()
                .min((room_lines / 2).max(room_lines.saturating_sub(why_all.len())));
            let why_lines = why_all.len().min(room_lines - ask_lines);
            return (
                size,
                fit(ask, size, width, ask_lines.max(1)),
                fit(why, size, width, why_lines.max(1)),
            );
        }
        size -= 0.5;
    }
}

/// Column layout of the signer list: x of each column and the name column's width.
struct Columns {
    number: f32,
    name: f32,
    name_width: f32,
    postcode: f32,
    email: Option<(f32, f32)>,
    phone: Option<(f32, f32)>,
}

fn columns(left: f32, include: &[ContactField]) -> Columns {
    let email = include.contains(&ContactField::Email);
    let phone = include.contains(&ContactField::Phone);
    match (email, phone) {
        (false, false) => Columns {
            number: left + 36.0,
            name: left + 46.0,
            name_width: 300.0,
            postcode: left + 360.0,
            email: None,
            phone: None,
        },
        (true, false) => Columns {
            number: left + 36.0,
            name: left + 46.0,
            name_width: 190.0,
            postcode: left + 240.0,
            email: Some((left + 300.0, 180.0)),
            phone: None,
        },
        (false, true) => Columns {
            number: left + 36.0,
            name: left + 46.0,
            name_width: 220.0,
            postcode: left + 270.0,
            email: None,
            phone: Some((left + 340.0, 140.0)),
        },
        (true, true) => Columns {
            number: left + 36.0,
            name: left + 46.0,
            name_width: 150.0,
            postcode: left + 200.0,
            email: Some((left + 255.0, 140.0)),
            phone: Some((left + 400.0, 83.0)),
        },
    }
}

#[allow(clippy::too_many_arguments)]
fn list_page(
    doc: &DeliveryDoc<'_>,
    l: &Layout,
    title: &str,
    placeholder: &str,
    (page, pages): (u32, u32),
    first_row: u64,
    rows: &[(i64, ShownSigner)],
    usage: &SharedUsage,
) -> Result<(FinishedPage, Vec<Uncovered>)> {
    let lang = doc.lang;
    let t = |key: &str| i18n::t(lang, key, &[]);
    let mut p = PageBuilder::new(usage);
    header(&mut p, l, title, lang, page, pages);
    let cols = columns(l.left, doc.include);
    let y = l.top_row + 18.0;
    p.fill_gray(0.35);
    p.text("#", cols.number, y, 9.0, Align::Right, None);
    let name_heading = if doc.show == ShowLevel::Initials {
        t("delivery.col.initials")
    } else {
        t("delivery.col.name")
    };
    p.text(&name_heading, cols.name, y, 9.0, Align::Left, None);
    p.text(
        &t("delivery.col.postcode"),
        cols.postcode,
        y,
        9.0,
        Align::Left,
        None,
    );
    if let Some((x, _)) = cols.email {
        p.text(&t("delivery.col.email"), x, y, 9.0, Align::Left, None);
    }
    if let Some((x, _)) = cols.phone {
        p.text(&t("delivery.col.phone"), x, y, 9.0, Align::Left, None);
    }
    p.fill_gray(0.0);
    let mut uncovered = Vec::new();
    for (i, (id, s)) in rows.iter().enumerate() {
        let y = l.top_row - i as f32 * ROW_HEIGHT;
        let row = first_row + i as u64;
        p.text(&row.to_string(), cols.number, y, 10.0, Align::Right, None);
        let shaped = shape(&s.name);
        if shaped.uncovered.is_empty() {
            p.shaped(
                &shaped,
                cols.name,
                y,
                10.5,
                Align::Left,
                Some(cols.name_width),
            );
        } else {
            // Never part of a name: the whole name gives way to a visible placeholder.
            p.fill_gray(0.35);
            p.text(
                placeholder,
                cols.name,
                y,
                10.5,
                Align::Left,
                Some(cols.name_width),
            );
            p.fill_gray(0.0);
            uncovered.push(Uncovered {
                row,
                signature_id: *id,
                chars: shaped.uncovered,
                postcode: doc.postcode.map(str::to_string),
            });
        }
        p.text(&s.postcode, cols.postcode, y, 10.0, Align::Left, Some(55.0));
        if let (Some((x, width)), Some(email)) = (cols.email, &s.email) {
            p.text(email, x, y, 9.0, Align::Left, Some(width));
        }
        if let (Some((x, width)), Some(phone)) = (cols.phone, &s.phone) {
            p.text(phone, x, y, 9.0, Align::Left, Some(width));
        }
    }
    Ok((p.finish()?, uncovered))
}

fn postcode_page(
    lang: Lang,
    l: &Layout,
    title: &str,
    page: u32,
    pages: u32,
    rows: &[(String, i64)],
    usage: &SharedUsage,
) -> Result<FinishedPage> {
    let mut p = PageBuilder::new(usage);
    header(&mut p, l, title, lang, page, pages);
    let y = l.top_row + 18.0;
    let no_postcode = i18n::t(lang, "delivery.no_postcode", &[]);
    p.fill_gray(0.35);
    p.text(
        &i18n::t(lang, "delivery.col.postcode", &[]),
        l.left,
        y,
        9.0,
        Align::Left,
        None,
    );
    p.text(
        &i18n::t(lang, "delivery.col.signers", &[]),
        l.left + 260.0,
        y,
        9.0,
        Align::Right,
        None,
    );
    p.fill_gray(0.0);
    for (i, (code, n)) in rows.iter().enumerate() {
        let y = l.top_row - i as f32 * ROW_HEIGHT;
        let label = if code.is_empty() { &no_postcode } else { code };
        p.text(label, l.left, y, 10.5, Align::Left, Some(180.0));
        p.text(
            &number(lang, *n),
            l.left + 260.0,
            y,
            10.5,
            Align::Right,
            None,
        );
    }
    Ok(p.finish()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_grouped_in_the_language() {
        assert_eq!(number(Lang::En, 1_000_000), "1,000,000");
        assert_eq!(number(Lang::Es, 999), "999");
        assert_eq!(number(Lang::Es, 1234), "1.234");
        assert_eq!(
            counted(Lang::En, "delivery.signed_by", 1),
            "Signed by 1 person"
        );
        assert_eq!(
            counted(Lang::En, "delivery.signed_by", 12_345),
            "Signed by 12,345 people"
        );
    }

    #[test]
    fn dates_are_written_out_in_the_language() {
        let date = time::macros::date!(2026 - 12 - 01);
        assert_eq!(written_date(Lang::En, date), "December 1, 2026");
        assert_eq!(written_date(Lang::Es, date), "1 de diciembre de 2026");
    }

    #[test]
    fn counted_notes_agree_in_number() {
        assert_eq!(
            counted(Lang::Es, "delivery.private", 1),
            "Incluye a 1 persona que pidió no aparecer con su nombre: se cuenta, no se nombra."
        );
        assert_eq!(
            counted(Lang::Es, "delivery.private", 4),
            "Incluye a 4 personas que pidieron no aparecer con su nombre: se cuentan, no se nombran."
        );
        assert!(counted(Lang::En, "delivery.private", 1).contains("1 person who asked"));
        assert!(counted(Lang::En, "delivery.private", 2).contains("2 who asked"));
        for lang in [Lang::En, Lang::Es] {
            // The cover's note names the placeholder the list prints.
            let placeholder = i18n::t(lang, "delivery.unprintable_name", &[]);
            for n in [1, 2] {
                assert!(
                    counted(lang, "delivery.unprintable", n).contains(&placeholder),
                    "{lang}"
                );
            }
        }
    }
}
