//! The delivery document: a cover letter for the target, then the numbered signer list
//! (or a table of counts per postcode), "page x of y" and the title on every page.
//!
//! Written with the streaming writer ([`super::writer`]): signers arrive one at a time
//! from the store, pages are built in parallel batches and written in order, so memory
//! does not grow with the number of signers.

use std::collections::BTreeMap;
use std::io::Write;

use rayon::prelude::*;

use unicode_normalization::char::is_combining_mark;

use super::text::shape;
use super::writer::{Align, FinishedPage, PageBuilder, PdfStream, SharedUsage, A4};
use crate::domain::delivery::{postcode_key, shown_signer, ContactField, ShowLevel, ShownSigner};
use crate::error::{Error, Result};
use crate::model::{Campaign, Lang, Signature, SignatureCounts};

/// The document's own words, in every language it speaks.
struct Words {
    to: &'static str,
    ask: &'static str,
    why: &'static str,
    place: &'static str,
    date: &'static str,
    postcode_label: &'static str,
    signed_by: fn(&str, i64) -> String,
    sources: fn(&str, &str) -> String,
    private_note: fn(&str) -> String,
    contact_note: fn(&str) -> String,
    email: &'static str,
    phone: &'static str,
    and: &'static str,
    page_of: fn(u32, u32) -> String,
    name: &'static str,
    initials: &'static str,
    postcode: &'static str,
    count: &'static str,
    no_postcode: &'static str,
    thousands: char,
}

const EN: Words = Words {
    to: "To:",
    ask: "We ask",
    why: "Why it matters",
    place: "Where",
    date: "Date",
    postcode_label: "Postcode",
    signed_by: |n, count| {
        if count == 1 {
            format!("Signed by {n} person")
        } else {
            format!("Signed by {n} people")
        }
    },
    sources: |paper, online| format!("{paper} on paper, {online} online"),
    private_note: |n| {
        format!("Including {n} who asked not to be named: they are counted, not listed.")
    },
    contact_note: |fields| {
        format!("At the organizers' request, this document includes signers' {fields}.")
    },
    email: "email",
    phone: "phone",
    and: "and",
    page_of: |x, y| format!("page {x} of {y}"),
    name: "Name",
    initials: "Initials",
    postcode: "Postcode",
    count: "Signers",
    no_postcode: "(no postcode)",
    thousands: ',',
};

const ES: Words = Words {
    to: "Para:",
    ask: "Pedimos",
    why: "Por qué importa",
    place: "Dónde",
    date: "Fecha",
    postcode_label: "Código postal",
    signed_by: |n, count| {
        if count == 1 {
            format!("Firmada por {n} persona")
        } else {
            format!("Firmada por {n} personas")
        }
    },
    sources: |paper, online| format!("{paper} en papel, {online} en línea"),
    private_note: |n| {
        format!("Incluye a {n} que pidieron no aparecer con su nombre: se cuentan, no se nombran.")
    },
    contact_note: |fields| {
        format!(
            "A petición de los organizadores, este documento incluye {fields} de quienes firmaron."
        )
    },
    email: "el correo electrónico",
    phone: "el teléfono",
    and: "y",
    page_of: |x, y| format!("página {x} de {y}"),
    name: "Nombre",
    initials: "Iniciales",
    postcode: "Código postal",
    count: "Firmantes",
    no_postcode: "(sin código postal)",
    thousands: '.',
};

fn words(lang: Lang) -> &'static Words {
    match lang {
        Lang::En => &EN,
        Lang::Es => &ES,
    }
}

fn number(n: i64, sep: char) -> String {
    let digits = n.abs().to_string();
    let mut out = String::new();
    for (i, d) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(sep);
        }
        out.push(d);
    }
    if n < 0 {
        out.insert(0, '-');
    }
    out
}

/// Everything the document says apart from the signers themselves.
pub struct DeliveryDoc<'a> {
    pub campaign: &'a Campaign,
    pub organization: &'a str,
    /// As printed on the cover, e.g. "2025-03-14".
    pub date: &'a str,
    pub lang: Lang,
    pub show: ShowLevel,
    pub include: &'a [ContactField],
    /// The signers this document covers (all, or one postcode's).
    pub counts: SignatureCounts,
    /// Set when the document covers one postcode (`--split-by postcode`); "" = none.
    pub postcode: Option<&'a str>,
    /// Signers per postcode, for `--show postcodes`.
    pub postcode_counts: Option<&'a BTreeMap<String, i64>>,
}

/// A signer whose name has characters no available font draws.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Uncovered {
    /// Position in the signer list.
    pub row: u64,
    pub signature_id: i64,
    pub chars: Vec<char>,
}

/// What was written.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Written {
    pub pages: u32,
    /// Signers named (or initialed) in the list.
    pub listed: u64,
    /// The first signers with characters no font has (capped at [`MAX_UNCOVERED`]).
    pub uncovered: Vec<Uncovered>,
    pub uncovered_total: u64,
}

/// How many uncovered-name reports are kept (the total is still counted).
pub const MAX_UNCOVERED: usize = 200;

const ROWS_PER_PAGE: usize = 44;
const TOP_ROW: f32 = 752.0;
const ROW_HEIGHT: f32 = 16.0;
const LEFT: f32 = 56.0;
const RIGHT: f32 = A4.0 - 56.0;
/// Pages built per parallel batch: enough to keep both cores busy, small enough that
/// memory stays flat.
const BATCH_PAGES: usize = 48;
/// The lowest baseline of the cover's texts: clear of the rule above the count.
const COVER_FLOOR: f32 = 216.0;

/// Writes the document to `out`. `signers` streams the campaign's signatures (in entry
/// order) into the callback it is given; those outside `doc.postcode` are skipped.
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
    let w = words(doc.lang);
    let listed_expected = if doc.show.lists_signers() {
        (doc.counts.total - doc.counts.private).max(0) as usize
    } else {
        0
    };
    let table_rows = match (doc.show, doc.postcode_counts) {
        (ShowLevel::Postcodes, Some(m)) => m.len(),
        _ => 0,
    };
    let list_pages = (listed_expected + table_rows).div_ceil(ROWS_PER_PAGE);
    let total_pages = 1 + list_pages as u32;

    let mut pdf = PdfStream::new(out, A4)?;
    let usage = SharedUsage::new();
    let usage = &usage;
    let mut written = Written::default();
    let header = header_title(doc);
    let header = header.as_str();
    let cover = cover_page(doc, w, total_pages, usage)?;
    pdf.write_page(cover)?;

    match doc.show {
        ShowLevel::Names | ShowLevel::Initials => {
            // Reading from SQLite (this thread) overlaps with building and writing pages
            // (a second thread, itself spreading each batch of pages over the cores).
            // At most a few batches are in flight, so memory stays flat.
            let batch_rows = BATCH_PAGES * ROWS_PER_PAGE;
            let (pdf_back, written_back) = std::thread::scope(|scope| -> Result<_> {
                let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<(i64, ShownSigner)>>(2);
                let renderer = scope.spawn(move || -> Result<(PdfStream<W>, Written)> {
                    let mut next_row: u64 = 1;
                    for batch in rx {
                        let first_page = 1 + pdf.pages() as u32;
                        let pages: Vec<Result<(FinishedPage, Vec<Uncovered>)>> = batch
                            .par_chunks(ROWS_PER_PAGE)
                            .enumerate()
                            .map(|(i, rows)| {
                                let row0 = next_row + (i * ROWS_PER_PAGE) as u64;
                                list_page(
                                    doc,
                                    w,
                                    header,
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
            for (i, chunk) in rows.chunks(ROWS_PER_PAGE).enumerate() {
                let page = postcode_page(w, header, 2 + i as u32, total_pages, chunk, usage)?;
                pdf.write_page(page)?;
            }
        }
        ShowLevel::Count => {}
    }
    written.pages = pdf.pages() as u32;
    let title = doc.campaign.title.clone();
    let out = pdf.finish(&title, usage)?;
    Ok((out, written))
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
    fit(&doc.campaign.title, 9.0, HEADER_WIDTH, 1)
        .into_iter()
        .next()
        .unwrap_or_default()
}

const HEADER_WIDTH: f32 = 360.0;

fn header(p: &mut PageBuilder<'_>, title: &str, w: &Words, page: u32, pages: u32) {
    p.fill_gray(0.35);
    p.text(title, LEFT, 806.0, 9.0, Align::Left, Some(HEADER_WIDTH));
    p.text(
        &(w.page_of)(page, pages),
        RIGHT,
        806.0,
        9.0,
        Align::Right,
        None,
    );
    p.line(LEFT, 798.0, RIGHT, 798.0, 0.5, 0.6);
    p.fill_gray(0.0);
}

fn cover_page(
    doc: &DeliveryDoc<'_>,
    w: &Words,
    pages: u32,
    usage: &SharedUsage,
) -> Result<FinishedPage> {
    let mut p = PageBuilder::new(usage);
    let c = doc.campaign;
    let width = RIGHT - LEFT;
    let mut y = 790.0;
    p.fill_gray(0.35);
    for line in fit(doc.organization, 11.0, 330.0, 1) {
        p.text(&line, LEFT, y, 11.0, Align::Left, Some(330.0));
    }
    p.text(
        &format!("{}: {}", w.date, doc.date),
        RIGHT,
        y,
        11.0,
        Align::Right,
        None,
    );
    p.fill_gray(0.0);
    y -= 50.0;
    p.text(w.to, LEFT, y, 12.0, Align::Left, None);
    y -= 22.0;
    // Every text has a budget of lines, shortened with "…" past it, so the count,
    // where, and the postcode of a split file always stay on the cover.
    for line in fit(&c.target, 18.0, width, 3) {
        p.text(&line, LEFT, y, 18.0, Align::Left, Some(width));
        y -= 23.0;
    }
    y -= 16.0;
    for line in fit(&c.title, 22.0, width, 4) {
        p.text(&line, LEFT, y, 22.0, Align::Left, Some(width));
        y -= 28.0;
    }
    const BODY: f32 = 11.5;
    const HEADING: f32 = 26.0;
    const LINE: f32 = 15.0;
    let section = |p: &mut PageBuilder<'_>, y: &mut f32, heading: &str, lines: &[String]| {
        *y -= 10.0;
        p.fill_gray(0.35);
        p.text(heading, LEFT, *y, 10.0, Align::Left, None);
        p.fill_gray(0.0);
        *y -= 16.0;
        for line in lines {
            p.text(line, LEFT, *y, BODY, Align::Left, Some(width));
            *y -= LINE;
        }
    };
    let place = fit(&c.place(), BODY, width, 2);
    let postcode = doc.postcode.map(|code| {
        let label = if code.is_empty() { w.no_postcode } else { code };
        fit(label, BODY, width, 1)
    });
    // Room left above the count for the ask and the why, in lines.
    let fixed = HEADING
        + LINE * place.len() as f32
        + postcode
            .as_ref()
            .map_or(0.0, |l| HEADING + LINE * l.len() as f32)
        + 2.0 * HEADING;
    let room = (((y - (COVER_FLOOR - LINE)) - fixed) / LINE)
        .floor()
        .max(2.0) as usize;
    let ask_all = wrap(&c.ask, BODY, width, room);
    let why_all = wrap(&c.why, BODY, width, room);
    let ask_lines = ask_all
        .len()
        .min((room / 2).max(room.saturating_sub(why_all.len())));
    let why_lines = why_all.len().min(room - ask_lines);
    section(
        &mut p,
        &mut y,
        w.ask,
        &fit(&c.ask, BODY, width, ask_lines.max(1)),
    );
    section(
        &mut p,
        &mut y,
        w.why,
        &fit(&c.why, BODY, width, why_lines.max(1)),
    );
    section(&mut p, &mut y, w.place, &place);
    if let Some(lines) = &postcode {
        section(&mut p, &mut y, w.postcode_label, lines);
    }

    let mut y = y.min(190.0);
    p.line(LEFT, y + 14.0, RIGHT, y + 14.0, 0.8, 0.2);
    y -= 14.0;
    let n = number(doc.counts.total, w.thousands);
    p.text(
        &(w.signed_by)(&n, doc.counts.total),
        LEFT,
        y,
        22.0,
        Align::Left,
        Some(width),
    );
    y -= 20.0;
    let sources = (w.sources)(
        &number(doc.counts.paper, w.thousands),
        &number(doc.counts.online, w.thousands),
    );
    p.text(&sources, LEFT, y, 12.0, Align::Left, Some(width));
    y -= 18.0;
    if doc.counts.private > 0 {
        let note = (w.private_note)(&number(doc.counts.private, w.thousands));
        for line in fit(&note, 10.0, width, 3) {
            p.text(&line, LEFT, y, 10.0, Align::Left, Some(width));
            y -= 13.0;
        }
    }
    if !doc.include.is_empty() {
        let fields: Vec<&str> = doc
            .include
            .iter()
            .map(|f| match f {
                ContactField::Email => w.email,
                ContactField::Phone => w.phone,
            })
            .collect();
        let note = (w.contact_note)(&fields.join(&format!(" {} ", w.and)));
        for line in fit(&note, 10.0, width, 3) {
            p.text(&line, LEFT, y, 10.0, Align::Left, Some(width));
            y -= 13.0;
        }
    }
    p.fill_gray(0.35);
    p.text(&(w.page_of)(1, pages), RIGHT, 40.0, 9.0, Align::Right, None);
    Ok(p.finish()?)
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

fn columns(include: &[ContactField]) -> Columns {
    let email = include.contains(&ContactField::Email);
    let phone = include.contains(&ContactField::Phone);
    match (email, phone) {
        (false, false) => Columns {
            number: LEFT + 36.0,
            name: LEFT + 46.0,
            name_width: 300.0,
            postcode: LEFT + 360.0,
            email: None,
            phone: None,
        },
        (true, false) => Columns {
            number: LEFT + 36.0,
            name: LEFT + 46.0,
            name_width: 190.0,
            postcode: LEFT + 240.0,
            email: Some((LEFT + 300.0, 180.0)),
            phone: None,
        },
        (false, true) => Columns {
            number: LEFT + 36.0,
            name: LEFT + 46.0,
            name_width: 220.0,
            postcode: LEFT + 270.0,
            email: None,
            phone: Some((LEFT + 340.0, 140.0)),
        },
        (true, true) => Columns {
            number: LEFT + 36.0,
            name: LEFT + 46.0,
            name_width: 150.0,
            postcode: LEFT + 200.0,
            email: Some((LEFT + 255.0, 140.0)),
            phone: Some((LEFT + 400.0, 83.0)),
        },
    }
}

fn list_page(
    doc: &DeliveryDoc<'_>,
    w: &Words,
    title: &str,
    (page, pages): (u32, u32),
    first_row: u64,
    rows: &[(i64, ShownSigner)],
    usage: &SharedUsage,
) -> Result<(FinishedPage, Vec<Uncovered>)> {
    let mut p = PageBuilder::new(usage);
    header(&mut p, title, w, page, pages);
    let cols = columns(doc.include);
    let y = TOP_ROW + 18.0;
    p.fill_gray(0.35);
    p.text("#", cols.number, y, 9.0, Align::Right, None);
    let name_heading = if doc.show == ShowLevel::Initials {
        w.initials
    } else {
        w.name
    };
    p.text(name_heading, cols.name, y, 9.0, Align::Left, None);
    p.text(w.postcode, cols.postcode, y, 9.0, Align::Left, None);
    if let Some((x, _)) = cols.email {
        let email = if doc.lang == Lang::Es {
            "Correo"
        } else {
            "Email"
        };
        p.text(email, x, y, 9.0, Align::Left, None);
    }
    if let Some((x, _)) = cols.phone {
        p.text(
            if doc.lang == Lang::Es {
                "Teléfono"
            } else {
                "Phone"
            },
            x,
            y,
            9.0,
            Align::Left,
            None,
        );
    }
    p.fill_gray(0.0);
    let mut uncovered = Vec::new();
    for (i, (id, s)) in rows.iter().enumerate() {
        let y = TOP_ROW - i as f32 * ROW_HEIGHT;
        let row = first_row + i as u64;
        p.text(&row.to_string(), cols.number, y, 10.0, Align::Right, None);
        let missing = p.text(
            &s.name,
            cols.name,
            y,
            10.5,
            Align::Left,
            Some(cols.name_width),
        );
        if !missing.is_empty() {
            uncovered.push(Uncovered {
                row,
                signature_id: *id,
                chars: missing,
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
    w: &Words,
    title: &str,
    page: u32,
    pages: u32,
    rows: &[(String, i64)],
    usage: &SharedUsage,
) -> Result<FinishedPage> {
    let mut p = PageBuilder::new(usage);
    header(&mut p, title, w, page, pages);
    let y = TOP_ROW + 18.0;
    p.fill_gray(0.35);
    p.text(w.postcode, LEFT, y, 9.0, Align::Left, None);
    p.text(w.count, LEFT + 260.0, y, 9.0, Align::Right, None);
    p.fill_gray(0.0);
    for (i, (code, n)) in rows.iter().enumerate() {
        let y = TOP_ROW - i as f32 * ROW_HEIGHT;
        let label = if code.is_empty() { w.no_postcode } else { code };
        p.text(label, LEFT, y, 10.5, Align::Left, Some(180.0));
        p.text(
            &number(*n, w.thousands),
            LEFT + 260.0,
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
    fn numbers_are_grouped() {
        assert_eq!(number(1_000_000, ','), "1,000,000");
        assert_eq!(number(999, '.'), "999");
        assert_eq!(number(1234, '.'), "1.234");
    }
}
