//! Printable paper signature forms, one page per sheet.
//!
//! Modelled on ControlShift's form, the one the #HereToStay guide describes: landscape,
//! the organization, "To:" the target in large type, the ask (and a short why), then a
//! table of numbered lines with a grey example row, a short privacy notice, and a footer
//! with the sheet id, where to return the sheet and how the organizer enters it.
//!
//! Layout decisions (how many lines fit, column widths, wrapping and shortening) are
//! plain functions over a `measure` closure so they can be tested without fonts. The
//! renderer returns bytes; it never prints or writes files.

use std::collections::BTreeSet;

use printpdf::{
    Color, Greyscale, Line, LinePoint, Op, PdfDocument, PdfPage, PdfSaveOptions, Point, Pt,
    RawImage, RawImageData, RawImageFormat, Rect, Rgb, TextRenderingMode, XObjectId,
    XObjectTransform,
};
use serde::{Deserialize, Serialize};

use super::text::PdfText;
use crate::model::Lang;

// ---------------------------------------------------------------------------------------
// The form's own words
// ---------------------------------------------------------------------------------------

/// Every word the form prints that is not the campaign's own text. `{org}`, `{contact}`
/// and `{slug}` are filled in when drawing. Labels carry no colon: with both languages
/// they are joined first ("To / Para:").
pub struct Words {
    pub to: &'static str,
    pub why: &'static str,
    pub place: &'static str,
    pub name: &'static str,
    pub email: &'static str,
    pub postcode: &'static str,
    pub phone: &'static str,
    pub join: &'static str,
    pub private: &'static str,
    pub example: &'static str,
    pub sign_online: &'static str,
    pub privacy: &'static str,
    pub sheet: &'static str,
    pub return_to: &'static str,
    pub organizer: &'static str,
}

pub const EN: Words = Words {
    to: "To",
    why: "Why",
    place: "Where",
    name: "Name",
    email: "Email",
    postcode: "ZIP/Postcode",
    phone: "Phone",
    join: "Join {org}'s mailing list",
    private: "Count me, but don't show my name to the target",
    example: "Example",
    sign_online: "Or sign online",
    privacy: "Privacy: {org} collects this information to deliver this petition and to count your support. Tick \u{201c}Count me, but don't show my name\u{201d} and your name will not be shown to the target. Joining {org}'s mailing list is optional: the box is never pre-ticked, and only people who tick it get emails.",
    sheet: "Sheet",
    return_to: "Please return this sheet to {contact}.",
    organizer: "Organizers: enter this sheet's signatures with  campaign enter-signatures {slug}",
};

pub const ES: Words = Words {
    to: "Para",
    why: "Por qué",
    place: "Dónde",
    name: "Nombre",
    email: "Correo electrónico",
    postcode: "Código postal",
    phone: "Teléfono",
    join: "Unirme a la lista de correo de {org}",
    private: "Cuenten mi firma, pero no muestren mi nombre a quien recibe la petición",
    example: "Ejemplo",
    sign_online: "O firme en línea",
    privacy: "Privacidad: {org} recoge estos datos para entregar esta petición y contar su apoyo. Si marca \u{201c}Cuenten mi firma, pero no muestren mi nombre\u{201d}, su nombre no se mostrará a quien recibe la petición. Unirse a la lista de correo de {org} es opcional: la casilla nunca viene marcada y solo recibirá correos si la marca.",
    sheet: "Hoja",
    return_to: "Por favor, devuelva esta hoja a {contact}.",
    organizer: "Organizadores: ingresen las firmas de esta hoja con  campaign enter-signatures {slug}",
};

/// Which languages a form speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum FormLang {
    /// English
    En,
    /// Spanish
    Es,
    /// English and Spanish on the same page.
    Both,
}

impl From<Lang> for FormLang {
    fn from(lang: Lang) -> Self {
        match lang {
            Lang::En => FormLang::En,
            Lang::Es => FormLang::Es,
        }
    }
}

impl FormLang {
    fn catalogs(self) -> &'static [&'static Words] {
        match self {
            FormLang::En => &[&EN],
            FormLang::Es => &[&ES],
            FormLang::Both => &[&EN, &ES],
        }
    }

    /// A short label in every language of the form: "Name / Nombre".
    pub fn label(self, pick: fn(&Words) -> &'static str) -> String {
        let mut seen: Vec<&str> = Vec::new();
        for w in self.catalogs() {
            let s = pick(w);
            if !seen.contains(&s) {
                seen.push(s);
            }
        }
        seen.join(" / ")
    }

    /// A sentence in every language of the form, one paragraph each.
    pub fn paragraphs(self, pick: fn(&Words) -> &'static str) -> Vec<&'static str> {
        self.catalogs().iter().map(|w| pick(w)).collect()
    }
}

/// Fills `{org}`, `{contact}` and `{slug}`.
fn fill(template: &str, org: &str, contact: &str, slug: &str) -> String {
    template
        .replace("{org}", org)
        .replace("{contact}", contact)
        .replace("{slug}", slug)
}

// ---------------------------------------------------------------------------------------
// Input
// ---------------------------------------------------------------------------------------

/// Paper sizes, printed landscape.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Paper {
    /// US Letter, 11 x 8.5 in
    Letter,
    /// A4, 297 x 210 mm
    A4,
}

impl Paper {
    /// Width and height in points, landscape.
    pub fn size(self) -> (f32, f32) {
        match self {
            Paper::Letter => (792.0, 612.0),
            Paper::A4 => (841.89, 595.28),
        }
    }
}

/// A campaign picture for the header.
pub struct Picture {
    pub bytes: Vec<u8>,
}

/// What a form shows: everything comes in as plain text, already chosen by the command.
pub struct FormInput {
    pub organization: String,
    /// Who collects the sheets: "Ana Reyes, Oakland Sanctuary Coalition, ana@example.org".
    pub contact: String,
    pub slug: String,
    pub target: String,
    pub ask: String,
    pub why: String,
    pub place: String,
    pub url: Option<String>,
    /// A postcode for the example row (the campaign's own, so the example looks local).
    pub example_postcode: Option<String>,
    pub picture: Option<Picture>,
    pub lang: FormLang,
    pub paper: Paper,
}

/// The rendered document.
pub struct Rendered {
    pub bytes: Vec<u8>,
    /// Characters no font has (left out of the drawing): name them to the organizer.
    pub uncovered: Vec<char>,
    /// Why the picture was left out, if it was.
    pub picture_problem: Option<String>,
}

// ---------------------------------------------------------------------------------------
// Pure layout
// ---------------------------------------------------------------------------------------

const MARGIN: f32 = 36.0;
/// Row height that is comfortable to write in by hand on a clipboard.
pub const COMFORTABLE_ROW: f32 = 32.0;
/// Below this, handwriting does not fit.
pub const MIN_ROW: f32 = 20.0;
/// Rows never grow past this; extra space stays blank.
pub const MAX_ROW: f32 = 44.0;
/// Field guides for canvassers: 6 to 10 lines a page.
pub const DEFAULT_LINES: std::ops::RangeInclusive<usize> = 6..=10;

/// How many lines a form may have given the height the rows share (the example row
/// takes one row's height too).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct LineBounds {
    pub default: usize,
    pub max: usize,
}

/// Lines that fit in `rows_height` points: the default (comfortable rows, 6-10) and the
/// most that still leave room to write.
pub fn line_bounds(rows_height: f32) -> LineBounds {
    let rows = |h: f32| ((rows_height / h).floor() as usize).saturating_sub(1);
    let max = rows(MIN_ROW).max(1);
    let default = rows(COMFORTABLE_ROW)
        .clamp(*DEFAULT_LINES.start(), *DEFAULT_LINES.end())
        .min(max);
    LineBounds { default, max }
}

/// Height of each row (example row included) for `lines` lines in `rows_height`.
pub fn row_height(rows_height: f32, lines: usize) -> f32 {
    (rows_height / (lines as f32 + 1.0)).min(MAX_ROW)
}

/// Column widths for a table `total` points wide: number, name, email, postcode, phone,
/// mailing list box, "don't show my name" box.
pub fn column_widths(total: f32) -> [f32; 7] {
    // Wide enough for "Example" in small type as well as the line numbers.
    let number = 30.0;
    let boxes = (total * 0.13).clamp(80.0, 120.0);
    let rest = total - number - 2.0 * boxes;
    [
        number,
        rest * 0.33,
        rest * 0.33,
        rest * 0.14,
        rest * 0.20,
        boxes,
        boxes,
    ]
}

/// Greedy word wrap to `max_width` by `measure`. A word longer than a line is cut
/// between characters so nothing runs off the page.
pub fn wrap(text: &str, max_width: f32, measure: &dyn Fn(&str) -> f32) -> Vec<String> {
    let mut lines = Vec::new();
    for paragraph in text.split('\n') {
        let mut line = String::new();
        for word in paragraph.split_whitespace() {
            let candidate = if line.is_empty() {
                word.to_string()
            } else {
                format!("{line} {word}")
            };
            if measure(&candidate) <= max_width {
                line = candidate;
                continue;
            }
            if !line.is_empty() {
                lines.push(std::mem::take(&mut line));
            }
            if measure(word) <= max_width {
                line = word.to_string();
            } else {
                for c in word.chars() {
                    let mut next = line.clone();
                    next.push(c);
                    if measure(&next) > max_width && !line.is_empty() {
                        lines.push(std::mem::replace(&mut line, c.to_string()));
                    } else {
                        line = next;
                    }
                }
            }
        }
        if !line.is_empty() {
            lines.push(line);
        }
    }
    lines
}

/// Wraps and keeps at most `max_lines`, ending the last kept line with "…" when text was
/// cut (at a word boundary when one is close).
pub fn wrap_shortened(
    text: &str,
    max_width: f32,
    max_lines: usize,
    measure: &dyn Fn(&str) -> f32,
) -> Vec<String> {
    let mut lines = wrap(text, max_width, measure);
    if lines.len() <= max_lines || max_lines == 0 {
        lines.truncate(max_lines);
        return lines;
    }
    lines.truncate(max_lines);
    let last = lines.last_mut().expect("max_lines > 0");
    *last = shorten(&format!("{last} …"), max_width, measure);
    lines
}

/// `text` if it fits in `max_width`, otherwise cut and ended with "…".
pub fn shorten(text: &str, max_width: f32, measure: &dyn Fn(&str) -> f32) -> String {
    if measure(text) <= max_width {
        return text.to_string();
    }
    let base = text.trim_end_matches([' ', '…']);
    let chars: Vec<char> = base.chars().collect();
    let mut keep = chars.len();
    while keep > 0 {
        let head: String = chars[..keep].iter().collect();
        let head = head.trim_end();
        // Prefer cutting at a word boundary within the last dozen characters.
        let cut = match head.rfind(' ') {
            Some(i) if head.len() - i < 12 && measure(&format!("{head}…")) > max_width => {
                head[..i].trim_end()
            }
            _ => head,
        };
        let candidate = format!("{}…", cut.trim_end_matches([',', ';', ':', '.', ' ']));
        if measure(&candidate) <= max_width {
            return candidate;
        }
        keep -= 1;
    }
    "…".to_string()
}

// ---------------------------------------------------------------------------------------
// Drawing
// ---------------------------------------------------------------------------------------

const INK: f32 = 0.1;
const GREY: f32 = 0.45;
const EXAMPLE: f32 = 0.55;
const RULE: f32 = 0.7;

fn grey(level: f32) -> Color {
    Color::Greyscale(Greyscale::new(level, None))
}

fn accent() -> Color {
    // A deep teal: reads as a heading on screen and prints as dark grey.
    Color::Rgb(Rgb::new(0.05, 0.33, 0.36, None))
}

/// One page's ops, with what the text engine could not draw.
struct Canvas<'a> {
    text: &'a PdfText,
    ops: Vec<Op>,
    uncovered: BTreeSet<char>,
}

impl<'a> Canvas<'a> {
    fn new(text: &'a PdfText) -> Self {
        Canvas {
            text,
            ops: Vec::new(),
            uncovered: BTreeSet::new(),
        }
    }

    fn text(&mut self, s: &str, x: f32, y: f32, size: f32, color: Color) -> f32 {
        self.ops.push(Op::SaveGraphicsState);
        self.ops.push(Op::SetFillColor { col: color });
        let drawn = self.text.draw(s, x, y, size);
        self.ops.extend(drawn.ops);
        self.ops.push(Op::RestoreGraphicsState);
        self.uncovered.extend(drawn.uncovered);
        drawn.width
    }

    /// Faux bold: fill and stroke the glyphs with a thin outline (the bundled fonts have
    /// no bold face).
    fn bold(&mut self, s: &str, x: f32, y: f32, size: f32, color: Color) -> f32 {
        self.ops.push(Op::SaveGraphicsState);
        self.ops.push(Op::SetTextRenderingMode {
            mode: TextRenderingMode::FillStroke,
        });
        self.ops.push(Op::SetOutlineColor { col: color.clone() });
        self.ops.push(Op::SetOutlineThickness {
            pt: Pt(size * 0.035),
        });
        let w = self.text(s, x, y, size, color);
        self.ops.push(Op::RestoreGraphicsState);
        w
    }

    fn line(&mut self, from: (f32, f32), to: (f32, f32), width: f32, color: Color) {
        self.ops.push(Op::SaveGraphicsState);
        self.ops.push(Op::SetOutlineColor { col: color });
        self.ops.push(Op::SetOutlineThickness { pt: Pt(width) });
        self.ops.push(Op::DrawLine {
            line: Line {
                points: [from, to]
                    .iter()
                    .map(|&(x, y)| LinePoint {
                        p: Point { x: Pt(x), y: Pt(y) },
                        bezier: false,
                    })
                    .collect(),
                is_closed: false,
            },
        });
        self.ops.push(Op::RestoreGraphicsState);
    }

    fn polyline(&mut self, points: &[(f32, f32)], width: f32, color: Color) {
        self.ops.push(Op::SaveGraphicsState);
        self.ops.push(Op::SetOutlineColor { col: color });
        self.ops.push(Op::SetOutlineThickness { pt: Pt(width) });
        self.ops.push(Op::DrawLine {
            line: Line {
                points: points
                    .iter()
                    .map(|&(x, y)| LinePoint {
                        p: Point { x: Pt(x), y: Pt(y) },
                        bezier: false,
                    })
                    .collect(),
                is_closed: false,
            },
        });
        self.ops.push(Op::RestoreGraphicsState);
    }

    fn rect(
        &mut self,
        x: f32,
        y: f32,
        w: f32,
        h: f32,
        stroke: Option<(f32, Color)>,
        fill: Option<Color>,
    ) {
        use printpdf::PaintMode;
        self.ops.push(Op::SaveGraphicsState);
        let mode = match (&stroke, &fill) {
            (Some(_), Some(_)) => PaintMode::FillStroke,
            (Some(_), None) => PaintMode::Stroke,
            _ => PaintMode::Fill,
        };
        if let Some((width, color)) = stroke {
            self.ops.push(Op::SetOutlineColor { col: color });
            self.ops.push(Op::SetOutlineThickness { pt: Pt(width) });
        }
        if let Some(color) = fill {
            self.ops.push(Op::SetFillColor { col: color });
        }
        self.ops.push(Op::DrawRectangle {
            rectangle: Rect {
                x: Pt(x),
                y: Pt(y),
                width: Pt(w),
                height: Pt(h),
                mode: Some(mode),
                winding_order: None,
            },
        });
        self.ops.push(Op::RestoreGraphicsState);
    }
}

/// Dark modules of a QR code as horizontal runs: (column, row, length) from the top-left.
pub type QrRuns = Vec<(usize, usize, usize)>;

/// The dark modules of a QR code for `data` as runs (one filled rectangle each, so the
/// code needs no image), and the code's width in modules.
pub fn qr_runs(data: &str) -> Option<(usize, QrRuns)> {
    let code = qrcode::QrCode::with_error_correction_level(data, qrcode::EcLevel::M).ok()?;
    let width = code.width();
    let colors = code.to_colors();
    let mut runs = Vec::new();
    for row in 0..width {
        let mut col = 0;
        while col < width {
            if colors[row * width + col] == qrcode::Color::Dark {
                let start = col;
                while col < width && colors[row * width + col] == qrcode::Color::Dark {
                    col += 1;
                }
                runs.push((start, row, col - start));
            } else {
                col += 1;
            }
        }
    }
    Some((width, runs))
}

/// Everything that is the same on every page: measured once.
struct Plan {
    width: f32,
    height: f32,
    org: String,
    to_label: String,
    target_lines: Vec<String>,
    target_size: f32,
    ask_lines: Vec<String>,
    why_lines: Vec<String>,
    place_line: Option<String>,
    /// Right-hand block: QR code side and its caption lines.
    qr: Option<(f32, usize, QrRuns)>,
    qr_caption: Vec<String>,
    picture: Option<(f32, f32)>,
    columns: [f32; 7],
    headings: Vec<Vec<String>>,
    heading_size: f32,
    heading_height: f32,
    table_top: f32,
    rows_height: f32,
    privacy_lines: Vec<String>,
    return_lines: Vec<String>,
    organizer_lines: Vec<String>,
    bottom_block: f32,
}

const TARGET_SIZE: f32 = 22.0;
const ASK_SIZE: f32 = 12.5;
const SMALL_SIZE: f32 = 9.0;
const HEADING_SIZE: f32 = 8.5;
const PRIVACY_SIZE: f32 = 7.5;
const FOOTER_SIZE: f32 = 8.0;
const QR_SIDE: f32 = 74.0;
const PICTURE_HEIGHT: f32 = 74.0;

fn plan(input: &FormInput, text: &PdfText, picture_size: Option<(u32, u32)>) -> Plan {
    let (width, height) = input.paper.size();
    let measure_at = |size: f32| move |s: &str| text.width(s, size);
    let lang = input.lang;
    let content = width - 2.0 * MARGIN;
    let top = height - MARGIN;

    // Right block: QR code (and the picture left of it).
    let qr = input
        .url
        .as_deref()
        .filter(|u| !u.trim().is_empty())
        .and_then(qr_runs)
        .map(|(w, runs)| (QR_SIDE, w, runs));
    let qr_caption = match (&qr, input.url.as_deref()) {
        (Some(_), Some(url)) => {
            let m = measure_at(6.5);
            let mut lines = wrap(
                &format!("{}:", lang.label(|w| w.sign_online)),
                QR_SIDE + 30.0,
                &m,
            );
            lines.push(shorten(url, QR_SIDE + 30.0, &m));
            lines
        }
        _ => Vec::new(),
    };
    let picture = picture_size.map(|(pw, ph)| {
        let h = PICTURE_HEIGHT;
        let w = (pw as f32 / ph.max(1) as f32 * h).clamp(40.0, 130.0);
        (w, h)
    });
    let mut right = 0.0;
    if qr.is_some() {
        right += QR_SIDE + 30.0 + 12.0;
    }
    if let Some((w, _)) = picture {
        right += w + 12.0;
    }
    let header_width = content - right;

    let org = shorten(&input.organization, header_width, &measure_at(10.0));
    let to_label = format!("{}:", lang.label(|w| w.to));
    let label_w = text.width(&to_label, TARGET_SIZE * 0.6) + 8.0;
    // Long targets drop to a smaller size before being shortened.
    let mut target_size = TARGET_SIZE;
    let mut target_lines = wrap(
        &input.target,
        header_width - label_w,
        &measure_at(target_size),
    );
    if target_lines.len() > 2 {
        target_size = 17.0;
        target_lines = wrap_shortened(
            &input.target,
            header_width - label_w,
            2,
            &measure_at(target_size),
        );
    }
    let ask_lines = wrap_shortened(&input.ask, header_width, 3, &measure_at(ASK_SIZE));
    let why_label = lang.label(|w| w.why);
    let why_lines = if input.why.trim().is_empty() {
        Vec::new()
    } else {
        wrap_shortened(
            &format!("{why_label}: {}", input.why.trim()),
            header_width,
            2,
            &measure_at(SMALL_SIZE),
        )
    };
    let place_line = (!input.place.trim().is_empty()).then(|| {
        shorten(
            &format!("{}: {}", lang.label(|w| w.place), input.place.trim()),
            header_width,
            &measure_at(SMALL_SIZE),
        )
    });

    let text_height = 14.0
        + target_lines.len() as f32 * target_size * 1.15
        + 4.0
        + ask_lines.len() as f32 * ASK_SIZE * 1.3
        + why_lines.len() as f32 * SMALL_SIZE * 1.35
        + place_line.iter().count() as f32 * SMALL_SIZE * 1.35;
    let right_height = if qr.is_some() {
        QR_SIDE + 4.0 + qr_caption.len() as f32 * 8.0
    } else {
        picture.map(|(_, h)| h).unwrap_or(0.0)
    };
    let header_bottom = top - text_height.max(right_height) - 8.0;

    // Table headings: wrapped into their columns, shrinking a little when long.
    let columns = column_widths(content);
    let org_name = &input.organization;
    let heading_texts = [
        "#".to_string(),
        lang.label(|w| w.name),
        lang.label(|w| w.email),
        lang.label(|w| w.postcode),
        lang.label(|w| w.phone),
        fill(&lang.label(|w| w.join), org_name, "", ""),
        lang.label(|w| w.private),
    ];
    let mut heading_size = HEADING_SIZE;
    let headings = loop {
        let m = measure_at(heading_size);
        let wrapped: Vec<Vec<String>> = heading_texts
            .iter()
            .zip(columns)
            .map(|(t, w)| wrap(t, w - 6.0, &m))
            .collect();
        let most = wrapped.iter().map(Vec::len).max().unwrap_or(1);
        if most <= 4 || heading_size <= 6.0 {
            break wrapped;
        }
        heading_size -= 0.5;
    };
    let heading_lines = headings.iter().map(Vec::len).max().unwrap_or(1) as f32;
    let heading_height = heading_lines * heading_size * 1.2 + 8.0;
    let table_top = header_bottom;

    // Bottom block: privacy notice, then the footer.
    let m = measure_at(PRIVACY_SIZE);
    let privacy_lines: Vec<String> = lang
        .paragraphs(|w| w.privacy)
        .into_iter()
        .flat_map(|p| wrap(&fill(p, org_name, "", ""), content, &m))
        .collect();
    let fm = measure_at(FOOTER_SIZE);
    let footer_text_width = content - 150.0;
    let return_lines: Vec<String> = lang
        .paragraphs(|w| w.return_to)
        .into_iter()
        .map(|p| {
            shorten(
                &fill(p, org_name, &input.contact, ""),
                footer_text_width,
                &fm,
            )
        })
        .collect();
    let organizer_lines: Vec<String> = lang
        .paragraphs(|w| w.organizer)
        .into_iter()
        .map(|p| {
            shorten(
                &fill(p, org_name, "", &input.slug),
                footer_text_width,
                &measure_at(7.0),
            )
        })
        .collect();
    let footer_height = (return_lines.len() as f32 * FOOTER_SIZE * 1.3
        + organizer_lines.len() as f32 * 7.0 * 1.3)
        .max(26.0);
    let bottom_block = 6.0 + privacy_lines.len() as f32 * PRIVACY_SIZE * 1.3 + 6.0 + footer_height;
    let rows_height = table_top - heading_height - (MARGIN + bottom_block);

    Plan {
        width,
        height,
        org,
        to_label,
        target_lines,
        target_size,
        ask_lines,
        why_lines,
        place_line,
        qr,
        qr_caption,
        picture,
        columns,
        headings,
        heading_size,
        heading_height,
        table_top,
        rows_height,
        privacy_lines,
        return_lines,
        organizer_lines,
        bottom_block,
    }
}

/// How many lines this form can have on its paper: the default and the most that fit.
pub fn form_line_bounds(input: &FormInput) -> LineBounds {
    let text = PdfText::new();
    let size = input
        .picture
        .as_ref()
        .and_then(|p| picture_dimensions(&p.bytes));
    line_bounds(plan(input, &text, size).rows_height)
}

fn picture_dimensions(bytes: &[u8]) -> Option<(u32, u32)> {
    image::ImageReader::new(std::io::Cursor::new(bytes))
        .with_guessed_format()
        .ok()?
        .into_dimensions()
        .ok()
}

/// Decodes the picture and shrinks it to what a printer needs at the header's size, so
/// a 10 MB photo does not become a 10 MB form.
fn thumbnail(bytes: &[u8], height_pt: f32) -> Result<RawImage, String> {
    let img = image::load_from_memory(bytes).map_err(|e| format!("cannot read it: {e}"))?;
    // About 200 dpi at the printed size.
    let target_h = (height_pt / 72.0 * 200.0) as u32;
    let img = if img.height() > target_h {
        img.resize(u32::MAX, target_h, image::imageops::FilterType::Triangle)
    } else {
        img
    };
    let rgb = img.to_rgb8();
    Ok(RawImage {
        width: rgb.width() as usize,
        height: rgb.height() as usize,
        pixels: RawImageData::U8(rgb.into_raw()),
        data_format: RawImageFormat::RGB8,
        tag: Vec::new(),
    })
}

/// Renders a form with one page per sheet id, each with `lines` numbered lines.
/// `lines` should be within [`form_line_bounds`]; rows are clamped to stay writable.
pub fn render(input: &FormInput, lines: usize, sheet_ids: &[String]) -> Result<Rendered, String> {
    let text = PdfText::new();
    let mut doc = PdfDocument::new(&format!("Petition to {}", input.target));
    let mut picture_problem = None;
    let picture = match &input.picture {
        Some(p) => match thumbnail(&p.bytes, PICTURE_HEIGHT) {
            Ok(raw) => {
                let size = (raw.width as u32, raw.height as u32);
                Some((doc.add_image(&raw), size))
            }
            Err(e) => {
                picture_problem = Some(e);
                None
            }
        },
        None => None,
    };
    let plan = plan(input, &text, picture.as_ref().map(|(_, s)| *s));
    let mut uncovered = BTreeSet::new();
    let total = sheet_ids.len();
    for (i, sheet_id) in sheet_ids.iter().enumerate() {
        let mut canvas = Canvas::new(&text);
        draw_page(
            &mut canvas,
            input,
            &plan,
            lines.max(1),
            sheet_id,
            (i + 1, total),
            picture.as_ref().map(|(id, s)| (id, *s)),
        );
        uncovered.extend(canvas.uncovered);
        doc.pages.push(PdfPage {
            media_box: Rect::from_wh(Pt(plan.width), Pt(plan.height)),
            trim_box: Rect::from_wh(Pt(plan.width), Pt(plan.height)),
            crop_box: Rect::from_wh(Pt(plan.width), Pt(plan.height)),
            ops: canvas.ops,
        });
    }
    text.embed(&mut doc)?;
    let bytes = doc.save(&PdfSaveOptions::default(), &mut Vec::new());
    Ok(Rendered {
        bytes,
        uncovered: uncovered.into_iter().collect(),
        picture_problem,
    })
}

fn draw_page(
    c: &mut Canvas,
    input: &FormInput,
    p: &Plan,
    lines: usize,
    sheet_id: &str,
    (page, pages): (usize, usize),
    picture: Option<(&XObjectId, (u32, u32))>,
) {
    let lang = input.lang;
    let left = MARGIN;
    let right = p.width - MARGIN;
    let top = p.height - MARGIN;

    // Header: organization, "To:" target, ask, why, where.
    let mut y = top - 10.0;
    c.bold(&p.org, left, y, 10.0, accent());
    y -= 6.0;
    let label_size = p.target_size * 0.6;
    let label_w = c.text.width(&p.to_label, label_size) + 8.0;
    for (i, line) in p.target_lines.iter().enumerate() {
        y -= p.target_size * if i == 0 { 1.0 } else { 1.15 };
        if i == 0 {
            c.text(&p.to_label, left, y, label_size, grey(GREY));
        }
        c.bold(line, left + label_w, y, p.target_size, grey(INK));
    }
    y -= 4.0;
    for line in &p.ask_lines {
        y -= ASK_SIZE * 1.3;
        c.text(line, left, y, ASK_SIZE, grey(INK));
    }
    for line in p.why_lines.iter().chain(&p.place_line) {
        y -= SMALL_SIZE * 1.35;
        c.text(line, left, y, SMALL_SIZE, grey(GREY));
    }

    // Right block: picture, then the QR code at the far right.
    let mut block_right = right;
    if let Some((side, modules, runs)) = &p.qr {
        let caption_w = side + 30.0;
        let x0 = right - caption_w + 15.0;
        let y_top = top;
        let module = side / *modules as f32;
        for &(col, row, len) in runs {
            c.rect(
                x0 + col as f32 * module,
                y_top - (row + 1) as f32 * module,
                len as f32 * module + 0.05,
                module + 0.05,
                None,
                Some(grey(0.0)),
            );
        }
        let mut cy = y_top - side - 2.0;
        for line in &p.qr_caption {
            cy -= 8.0;
            let w = c.text.width(line, 6.5);
            c.text(line, right - caption_w / 2.0 - w / 2.0, cy, 6.5, grey(GREY));
        }
        block_right = right - caption_w - 12.0;
    }
    if let (Some((id, (pw, _))), Some((w, h))) = (picture, p.picture) {
        let x = block_right - w;
        // The image maps 1 px to 72/dpi points: pick the dpi that makes it `w` wide.
        let dpi = pw as f32 * 72.0 / w;
        c.ops.push(Op::UseXobject {
            id: id.clone(),
            transform: XObjectTransform {
                translate_x: Some(Pt(x)),
                translate_y: Some(Pt(top - h)),
                dpi: Some(dpi),
                ..Default::default()
            },
        });
    }

    // Table.
    let table_top = p.table_top;
    let heading_bottom = table_top - p.heading_height;
    let row_h = row_height(p.rows_height, lines).max(MIN_ROW.min(p.rows_height / 2.0));
    let rows = lines + 1;
    let table_bottom = heading_bottom - rows as f32 * row_h;
    let xs: Vec<f32> = std::iter::once(left)
        .chain(p.columns.iter().scan(left, |x, w| {
            *x += w;
            Some(*x)
        }))
        .collect();
    c.rect(
        left,
        heading_bottom,
        right - left,
        p.heading_height,
        None,
        Some(grey(0.9)),
    );
    for (col, heading) in p.headings.iter().enumerate() {
        let mut hy = table_top - 4.0 - p.heading_size;
        for line in heading {
            c.bold(line, xs[col] + 3.0, hy, p.heading_size, grey(INK));
            hy -= p.heading_size * 1.2;
        }
    }
    // Example row, in grey so signers see what goes where.
    let ex_top = heading_bottom;
    let ex_base = ex_top - row_h / 2.0 - 3.5;
    c.rect(
        left,
        ex_top - row_h,
        right - left,
        row_h,
        None,
        Some(grey(0.97)),
    );
    // "Example" stands where line numbers stand, one word per language, so it never
    // collides with the example's own text however short the rows are.
    let words = lang.paragraphs(|w| w.example);
    let label_size = 5.5;
    let first = ex_top - row_h / 2.0 + 2.0 - (words.len() as f32 - 1.0) * label_size * 0.6;
    for (i, word) in words.iter().enumerate() {
        let w = c.text.width(word, label_size);
        let y = first - i as f32 * label_size * 1.2;
        c.text(word, xs[1] - 3.0 - w, y, label_size, grey(EXAMPLE));
    }
    let postcode = input
        .example_postcode
        .clone()
        .unwrap_or_else(|| "94601".into());
    let example = [
        ("Rosa Martínez", 1),
        ("rosa.martinez@example.org", 2),
        (postcode.as_str(), 3),
        ("(510) 555-0142", 4),
    ];
    for (value, col) in example {
        let size = 10.5;
        let fitted = shorten(value, p.columns[col] - 8.0, &|s| c.text.width(s, size));
        c.text(&fitted, xs[col] + 4.0, ex_base, size, grey(EXAMPLE));
    }
    let box_side = (row_h * 0.45).clamp(8.0, 13.0);
    for row in 0..rows {
        let row_top = heading_bottom - row as f32 * row_h;
        let cy = row_top - row_h / 2.0;
        if row > 0 {
            let n = row.to_string();
            let w = c.text.width(&n, 9.0);
            c.text(&n, xs[1] - 6.0 - w, cy - 3.0, 9.0, grey(GREY));
        }
        for col in [5, 6] {
            let bx = xs[col] + p.columns[col] / 2.0 - box_side / 2.0;
            let by = cy - box_side / 2.0;
            let shade = if row == 0 { EXAMPLE } else { 0.2 };
            c.rect(
                bx,
                by,
                box_side,
                box_side,
                Some((0.8, grey(shade))),
                Some(grey(1.0)),
            );
            if row == 0 && col == 5 {
                // The example ticks the mailing list box: this is how to tick it.
                c.polyline(
                    &[
                        (bx + box_side * 0.2, by + box_side * 0.5),
                        (bx + box_side * 0.42, by + box_side * 0.22),
                        (bx + box_side * 0.85, by + box_side * 0.85),
                    ],
                    1.4,
                    grey(EXAMPLE),
                );
            }
        }
        c.line(
            (left, row_top - row_h),
            (right, row_top - row_h),
            0.5,
            grey(RULE),
        );
    }
    for &x in &xs[1..xs.len() - 1] {
        c.line((x, table_top), (x, table_bottom), 0.5, grey(RULE));
    }
    c.line(
        (left, heading_bottom),
        (right, heading_bottom),
        0.8,
        grey(GREY),
    );
    c.rect(
        left,
        table_bottom,
        right - left,
        table_top - table_bottom,
        Some((1.0, grey(0.2))),
        None,
    );

    // Privacy notice under the table.
    let mut y = table_bottom - 6.0;
    for line in &p.privacy_lines {
        y -= PRIVACY_SIZE * 1.3;
        c.text(line, left, y, PRIVACY_SIZE, grey(0.3));
    }

    // Footer: sheet id (large, for the person typing it in), where to return it, and the
    // organizer's reminder.
    let footer_top =
        MARGIN + p.bottom_block - 6.0 - p.privacy_lines.len() as f32 * PRIVACY_SIZE * 1.3 - 6.0;
    c.line((left, footer_top), (right, footer_top), 0.5, grey(RULE));
    let sheet_label = lang.label(|w| w.sheet);
    c.text(&sheet_label, left, footer_top - 9.0, 7.0, grey(GREY));
    c.bold(sheet_id, left, footer_top - 24.0, 15.0, grey(INK));
    let mut fy = footer_top;
    let fx = left + 150.0;
    for line in &p.return_lines {
        fy -= FOOTER_SIZE * 1.3;
        c.text(line, fx, fy, FOOTER_SIZE, grey(INK));
    }
    for line in &p.organizer_lines {
        fy -= 7.0 * 1.3;
        c.text(line, fx, fy, 7.0, grey(GREY));
    }
    let page_label = format!("{page}/{pages}");
    let w = c.text.width(&page_label, 7.0);
    c.text(&page_label, right - w, footer_top - 9.0, 7.0, grey(GREY));
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every character 5 points wide: layout without fonts.
    fn mono(s: &str) -> f32 {
        s.chars().count() as f32 * 5.0
    }

    #[test]
    fn default_lines_are_comfortable_and_bounded() {
        // Lots of room: capped at 10 lines.
        assert_eq!(line_bounds(600.0).default, 10);
        // Little room: never fewer than 6 by default, unless even that does not fit.
        assert_eq!(line_bounds(200.0).default, 6);
        assert_eq!(line_bounds(100.0).default, 4);
        // 330 pt: 10 comfortable rows, one of them the example.
        assert_eq!(
            line_bounds(330.0),
            LineBounds {
                default: 9,
                max: 15
            }
        );
    }

    #[test]
    fn rows_fill_the_space_but_stay_writable() {
        assert_eq!(row_height(330.0, 10), 30.0);
        assert_eq!(row_height(330.0, 1), MAX_ROW);
    }

    #[test]
    fn columns_fill_the_width() {
        for total in [720.0, 769.89] {
            let cols = column_widths(total);
            assert!((cols.iter().sum::<f32>() - total).abs() < 0.01);
            assert!(cols[1] > cols[3], "name is wider than postcode");
        }
    }

    #[test]
    fn wrap_breaks_at_words_and_cuts_long_words() {
        assert_eq!(wrap("aa bb cc", 25.0, &mono), ["aa bb", "cc"]);
        assert_eq!(wrap("abcdefghij", 25.0, &mono), ["abcde", "fghij"]);
        assert!(wrap("", 25.0, &mono).is_empty());
    }

    #[test]
    fn long_text_is_shortened_with_an_ellipsis() {
        let lines = wrap_shortened("one two three four five six", 30.0, 2, &mono);
        assert_eq!(lines.len(), 2);
        assert!(lines[1].ends_with('…'), "{lines:?}");
        assert!(lines.iter().all(|l| mono(l) <= 30.0));
        assert_eq!(shorten("short", 30.0, &mono), "short");
        let s = shorten("Nguyễn Thị Minh Khai", 40.0, &mono);
        assert!(s.ends_with('…') && mono(&s) <= 40.0, "{s}");
    }

    #[test]
    fn both_languages_label_headings() {
        assert_eq!(FormLang::Both.label(|w| w.name), "Name / Nombre");
        assert_eq!(FormLang::Es.label(|w| w.name), "Nombre");
        assert_eq!(FormLang::Both.paragraphs(|w| w.privacy).len(), 2);
    }

    #[test]
    fn catalogs_name_the_organization_where_they_should() {
        for w in [&EN, &ES] {
            assert!(w.join.contains("{org}"));
            assert!(w.privacy.contains("{org}"));
            assert!(w.return_to.contains("{contact}"));
            assert!(w.organizer.contains("campaign enter-signatures {slug}"));
        }
        assert_eq!(
            fill(EN.join, "Oakland Sanctuary Coalition", "", ""),
            "Join Oakland Sanctuary Coalition's mailing list"
        );
    }

    #[test]
    fn qr_code_has_dark_modules() {
        let (width, runs) = qr_runs("https://example.org/oakland").unwrap();
        assert!(width >= 21);
        assert!(runs.iter().all(|&(c, r, l)| c + l <= width && r < width));
    }
}
