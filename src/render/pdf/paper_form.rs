//! Printable paper signature forms, one page per sheet, and an optional first page of
//! instructions for the organizers.
//!
//! Designed as canvassers' forms are: landscape; the petition's title as the headline,
//! "To:" the target under it, the ask and the why in full (wrapped, in smaller type when
//! long, never below 9 pt: a text that still does not fit is refused, saying how much to
//! cut); the organization, the URL in full beside its QR code (or the code alone), a
//! table of numbered lines sized for handwriting (the email column widest, the two check
//! boxes narrow, short headings of at least 8 pt explained by a legend under the table),
//! a grey example row, a privacy notice, and a footer with the sheet id and where to
//! return the sheet. Nothing on a sheet names the tool or a command: those go on the
//! organizers' page.
//!
//! Every word the form prints comes from the catalog (`paper.*` keys); the petition's
//! own text comes in as [`PetitionText`], so a translated petition can be printed too.
//! Layout is decided once ([`fit`]) by plain functions over a `measure` closure, so it
//! can be tested without fonts. The renderer returns bytes; it never prints or writes
//! files.

use std::cell::RefCell;
use std::collections::{BTreeSet, HashMap};

use printpdf::{
    Color, Greyscale, Line, LinePoint, Op, PdfDocument, PdfPage, PdfSaveOptions, Point, Pt,
    RawImage, RawImageData, RawImageFormat, Rect, Rgb, TextRenderingMode, XObjectId,
    XObjectTransform,
};
use serde::{Deserialize, Serialize};

use super::text::{shape, PdfText};
use super::{Paper, PetitionText};
use crate::i18n;
use crate::model::Lang;

// ---------------------------------------------------------------------------------------
// The form's own words
// ---------------------------------------------------------------------------------------

/// Which languages a form speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FormLang {
    /// English
    En,
    /// Spanish
    Es,
    /// English and Spanish on the same page.
    Both,
}

impl FormLang {
    pub fn as_str(self) -> &'static str {
        match self {
            FormLang::En => "en",
            FormLang::Es => "es",
            FormLang::Both => "both",
        }
    }
}

impl std::str::FromStr for FormLang {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        [FormLang::En, FormLang::Es, FormLang::Both]
            .into_iter()
            .find(|l| l.as_str() == s)
            .ok_or_else(|| format!("unknown form language {s:?}: use en, es or both"))
    }
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
    /// The languages, in the order the form prints them.
    pub fn langs(self) -> &'static [Lang] {
        match self {
            FormLang::En => &[Lang::En],
            FormLang::Es => &[Lang::Es],
            FormLang::Both => &[Lang::En, Lang::Es],
        }
    }

    /// A short label in every language of the form: "Name / Nombre".
    pub fn label(self, key: &str) -> String {
        let mut seen: Vec<String> = Vec::new();
        for lang in self.langs() {
            let s = i18n::t(*lang, key, &[]);
            if !seen.contains(&s) {
                seen.push(s);
            }
        }
        seen.join(" / ")
    }

    /// A sentence in every language of the form, one each.
    pub fn paragraphs(self, key: &str, args: &[(&str, &str)]) -> Vec<String> {
        self.langs()
            .iter()
            .map(|lang| i18n::t(*lang, key, args))
            .collect()
    }
}

// ---------------------------------------------------------------------------------------
// Input
// ---------------------------------------------------------------------------------------

/// A campaign picture for the header.
pub struct Picture {
    pub bytes: Vec<u8>,
}

/// What a form shows: everything comes in as plain text, already chosen by the command
/// (and already printable: see `text::with_placeholder`).
pub struct FormInput {
    pub organization: String,
    /// Who collects the sheets: "Ana Reyes, Oakland Sanctuary Coalition, ana@example.org".
    pub contact: String,
    pub slug: String,
    /// The petition as the form prints it (in the first of `lang`'s languages).
    pub petition: PetitionText,
    /// With `lang` both, the petition in the second language when it has a text of its
    /// own (a translation); printed under the first. `None`: the one text is printed once.
    pub second: Option<PetitionText>,
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

/// Which text makes a form too long.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    Why,
    Ask,
    /// The title, the target and the ask together, even without a why.
    Header,
}

/// Why a form cannot be laid out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unfit {
    /// Even in the smallest type (9 pt) the text leaves too little room to write in:
    /// about `cut` characters of `field` must go.
    TooLong { field: Field, cut: usize },
    /// More lines were asked for than fit with room to write: at most `max`.
    Lines { max: usize },
}

// ---------------------------------------------------------------------------------------
// Pure layout
// ---------------------------------------------------------------------------------------

const MARGIN_X: f32 = 30.0;
const MARGIN_Y: f32 = 26.0;
/// Row height that is comfortable to write in by hand on a clipboard (0.4 in).
pub const COMFORTABLE_ROW: f32 = 28.0;
/// The smallest row the default number of lines may have.
pub const DEFAULT_MIN_ROW: f32 = 24.0;
/// Below this, handwriting does not fit.
pub const MIN_ROW: f32 = 20.0;
/// Rows never grow past this; extra space stays blank.
pub const MAX_ROW: f32 = 44.0;
/// Canvassing guides: 8 to 10 lines a page.
pub const DEFAULT_LINES: std::ops::RangeInclusive<usize> = 8..=10;

/// How many lines a form may have given the height the rows share (the example row
/// takes one row's height too).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct LineBounds {
    pub default: usize,
    pub max: usize,
}

/// Lines that fit in `rows_height` points: the default (comfortable rows, 8-10) and the
/// most that still leave room to write.
pub fn line_bounds(rows_height: f32) -> LineBounds {
    let rows = |h: f32| ((rows_height / h).floor() as usize).saturating_sub(1);
    let max = rows(MIN_ROW).max(1);
    let default = rows(COMFORTABLE_ROW)
        .clamp(*DEFAULT_LINES.start(), *DEFAULT_LINES.end())
        .min(rows(DEFAULT_MIN_ROW).max(1))
        .min(max);
    LineBounds { default, max }
}

/// Height of each row (example row included) for `lines` lines in `rows_height`.
pub fn row_height(rows_height: f32, lines: usize) -> f32 {
    (rows_height / (lines as f32 + 1.0)).min(MAX_ROW)
}

/// Column widths for a table `total` points wide: number, name, email, postcode, phone,
/// mailing list box, "private" box. Sized for handwriting: an address such as
/// "rosa.martinez@example.org" needs the most room, a tick the least.
pub fn column_widths(total: f32) -> [f32; 7] {
    let number = 28.0;
    let boxes = 46.0;
    let rest = total - number - 2.0 * boxes;
    [
        number,
        rest * 0.31,
        rest * 0.38,
        rest * 0.12,
        rest * 0.19,
        boxes,
        boxes,
    ]
}

/// Greedy word wrap to `max_width` by `measure`. A word longer than a line is cut
/// between characters so nothing runs off the page; nothing is ever left out.
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
                    if measure(&next) > max_width
                        && !line.is_empty()
                        && !unicode_normalization::char::is_combining_mark(c)
                    {
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

/// A URL in lines of at most `max_width`, every character kept: broken after `/`, `-`,
/// `.`, `?`, `&`, `=` or `_` where it can be, else between any two characters.
pub fn wrap_url(url: &str, max_width: f32, measure: &dyn Fn(&str) -> f32) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for c in url.trim().chars() {
        let mut next = line.clone();
        next.push(c);
        if measure(&next) <= max_width || line.is_empty() {
            line = next;
            continue;
        }
        // Break after the last separator of the line, if there is one.
        let cut = line
            .char_indices()
            .rfind(|(_, ch)| "/-.?&=_".contains(*ch))
            .map(|(i, ch)| i + ch.len_utf8())
            .filter(|&i| i < line.len());
        match cut {
            Some(i) => {
                let rest = line.split_off(i);
                lines.push(std::mem::replace(&mut line, rest));
                line.push(c);
            }
            None => lines.push(std::mem::replace(&mut line, c.to_string())),
        }
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

/// `text` if it fits in `max_width`, otherwise cut and ended with "…". Only for the
/// organization and the return address, never for the petition.
pub fn shorten(text: &str, max_width: f32, measure: &dyn Fn(&str) -> f32) -> String {
    if measure(text) <= max_width {
        return text.to_string();
    }
    let chars: Vec<char> = text.trim_end_matches([' ', '…']).chars().collect();
    let mut keep = chars.len();
    while keep > 0 {
        let head: String = chars[..keep].iter().collect();
        let candidate = format!("{}…", head.trim_end_matches([',', ';', ':', '.', ' ']));
        if measure(&candidate) <= max_width {
            return candidate;
        }
        keep -= 1;
    }
    "…".to_string()
}

/// Text widths in em, measured once per string (layout measures the same words often).
#[derive(Default)]
struct Measure {
    em: RefCell<HashMap<String, f32>>,
}

impl Measure {
    fn width(&self, text: &str, size: f32) -> f32 {
        if let Some(em) = self.em.borrow().get(text) {
            return em * size;
        }
        let em = shape(text).advance;
        self.em.borrow_mut().insert(text.to_string(), em);
        em * size
    }

    /// A measure at `size` for the wrapping functions.
    fn at(&self, size: f32) -> impl Fn(&str) -> f32 + '_ {
        move |s: &str| self.width(s, size)
    }
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

// ---------------------------------------------------------------------------------------
// The plan: everything that is the same on every sheet, measured once
// ---------------------------------------------------------------------------------------

/// How a header line looks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Style {
    Org,
    Title,
    ToLabel,
    Target,
    Ask,
    Why,
    Place,
}

/// One line of the header, placed `dy` below the baseline of the one before.
#[derive(Debug, Clone)]
struct HeaderLine {
    text: String,
    x: f32,
    dy: f32,
    size: f32,
    style: Style,
}

/// Header type sizes, largest first: title, target, ask, and why and where. The last
/// is the smallest the form prints the petition in (9 pt for the why).
const STEPS: [(f32, f32, f32, f32); 8] = [
    (24.0, 14.0, 12.5, 10.5),
    (22.0, 13.5, 12.0, 10.0),
    (20.0, 13.0, 11.5, 10.0),
    (18.0, 12.5, 11.0, 9.5),
    (17.0, 12.0, 10.5, 9.5),
    (16.0, 11.5, 10.0, 9.0),
    (15.0, 11.0, 9.5, 9.0),
    (14.0, 10.5, 9.0, 9.0),
];

const ORG_SIZE: f32 = 10.0;
const HEADING_SIZE: f32 = 8.5;
const LEGEND_SIZE: f32 = 7.5;
const PRIVACY_SIZE: f32 = 7.0;
const FOOTER_SIZE: f32 = 8.0;
const CAPTION_SIZE: f32 = 7.0;
const QR_SIDE: f32 = 72.0;
/// The QR code's caption is this wide (the URL wraps in it).
const CAPTION_WIDTH: f32 = 118.0;
const CAPTION_LINES: usize = 4;
const PICTURE_HEIGHT: f32 = 72.0;
const FOOTER_HEIGHT: f32 = 30.0;
/// Where the footer's return address starts, from the left margin.
const FOOTER_TEXT_X: f32 = 150.0;

/// The block at the top right: the QR code with its caption, and the picture.
#[derive(Debug, Clone)]
struct RightBlock {
    qr: Option<(usize, QrRuns)>,
    caption: Vec<String>,
    /// The picture's printed size, when there is one.
    picture: Option<(f32, f32)>,
}

impl RightBlock {
    fn width(&self, with_picture: bool) -> f32 {
        let mut w = 0.0;
        if self.qr.is_some() || !self.caption.is_empty() {
            w += CAPTION_WIDTH + 14.0;
        }
        if let (true, Some((pw, _))) = (with_picture, self.picture) {
            w += pw + 14.0;
        }
        w
    }

    fn height(&self, with_picture: bool) -> f32 {
        let qr = if self.qr.is_some() {
            QR_SIDE + 4.0
        } else {
            0.0
        };
        let caption = self.caption.len() as f32 * CAPTION_SIZE * 1.25;
        let picture = match (with_picture, self.picture) {
            (true, Some((_, h))) => h,
            _ => 0.0,
        };
        (qr + caption).max(picture)
    }
}

/// A line of the legend under the table; the first line of each entry has a box and
/// starts with the heading it explains (in bold).
#[derive(Debug, Clone)]
struct LegendLine {
    label: Option<String>,
    text: String,
}

/// Everything that is the same on every page.
struct Plan {
    width: f32,
    height: f32,
    header: Vec<HeaderLine>,
    right: RightBlock,
    with_picture: bool,
    columns: [f32; 7],
    headings: Vec<Vec<String>>,
    heading_height: f32,
    table_top: f32,
    rows_height: f32,
    legend: Vec<LegendLine>,
    privacy_lines: Vec<String>,
    return_lines: Vec<String>,
}

/// A form laid out: its plan and how many lines each sheet gets.
pub struct Fitted {
    plan: Plan,
    /// Signature lines per sheet.
    pub lines: usize,
    /// The default and the most lines this form could have.
    pub bounds: LineBounds,
}

/// The header lines for `petition` (with `why` and `ask` as given) in `width` points.
fn header_lines(
    input: &FormInput,
    ask: &str,
    why: &str,
    m: &Measure,
    width: f32,
    (title_size, to_size, ask_size, why_size): (f32, f32, f32, f32),
) -> (Vec<HeaderLine>, f32) {
    let lang = input.lang;
    let p = &input.petition;
    let mut out = Vec::new();
    let mut push = |text: String, x: f32, dy: f32, size: f32, style: Style| {
        out.push(HeaderLine {
            text,
            x,
            dy,
            size,
            style,
        })
    };
    let left = MARGIN_X;
    push(
        shorten(input.organization.trim(), width, &m.at(ORG_SIZE)),
        left,
        ORG_SIZE,
        ORG_SIZE,
        Style::Org,
    );
    // One text in the form's language(s), or each language's text with its own labels
    // (the second's title smaller, so the page still reads as one petition).
    let texts: Vec<(FormLang, &PetitionText, &str, &str, f32)> = match &input.second {
        Some(second) => {
            let langs = lang.langs();
            vec![
                (FormLang::from(langs[0]), p, ask, why, title_size),
                (
                    FormLang::from(langs[langs.len() - 1]),
                    second,
                    second.ask.as_str(),
                    second.why.as_str(),
                    (title_size * 0.75).max(to_size),
                ),
            ]
        }
        None => vec![(lang, p, ask, why, title_size)],
    };
    for (n, (lang, p, ask, why, title_size)) in texts.into_iter().enumerate() {
        for (i, line) in wrap(p.title.trim(), width, &m.at(title_size))
            .into_iter()
            .enumerate()
        {
            let dy = match (n, i) {
                (0, 0) => title_size * 1.25,
                (_, 0) => title_size * 1.9,
                _ => title_size * 1.12,
            };
            push(line, left, dy, title_size, Style::Title);
        }
        let label = format!("{}:", lang.label("paper.to"));
        let label_size = to_size * 0.85;
        let label_w = m.width(&label, label_size) + 5.0;
        for (i, line) in wrap(p.target.trim(), width - label_w, &m.at(to_size))
            .into_iter()
            .enumerate()
        {
            let dy = if i == 0 {
                to_size * 1.55
            } else {
                to_size * 1.2
            };
            if i == 0 {
                push(label.clone(), left, dy, label_size, Style::ToLabel);
                push(line, left + label_w, 0.0, to_size, Style::Target);
            } else {
                push(line, left + label_w, dy, to_size, Style::Target);
            }
        }
        for (i, line) in wrap(ask.trim(), width, &m.at(ask_size))
            .into_iter()
            .enumerate()
        {
            let dy = if i == 0 {
                ask_size * 1.6
            } else {
                ask_size * 1.27
            };
            push(line, left, dy, ask_size, Style::Ask);
        }
        if !why.trim().is_empty() {
            let text = format!("{}: {}", lang.label("paper.why"), why.trim());
            for (i, line) in wrap(&text, width, &m.at(why_size)).into_iter().enumerate() {
                let dy = if i == 0 {
                    why_size * 1.6
                } else {
                    why_size * 1.3
                };
                push(line, left, dy, why_size, Style::Why);
            }
        }
    }
    if !p.place.trim().is_empty() {
        let text = format!("{}: {}", lang.label("paper.place"), p.place.trim());
        for (i, line) in wrap(&text, width, &m.at(why_size)).into_iter().enumerate() {
            let dy = if i == 0 {
                why_size * 1.5
            } else {
                why_size * 1.3
            };
            push(line, left, dy, why_size, Style::Place);
        }
    }
    let last = out.last().map_or(0.0, |l| l.size);
    let height = out.iter().map(|l| l.dy).sum::<f32>() + last * 0.3;
    (out, height)
}

fn right_block(input: &FormInput, m: &Measure, picture_size: Option<(u32, u32)>) -> RightBlock {
    let lang = input.lang;
    let url = input
        .url
        .as_deref()
        .map(str::trim)
        .filter(|u| !u.is_empty());
    let qr = url.and_then(qr_runs);
    let measure = m.at(CAPTION_SIZE);
    let caption = match url {
        None => Vec::new(),
        Some(url) => {
            // The URL in full, or the code alone: never a URL cut short.
            let mut lines = wrap(&lang.label("paper.sign_online"), CAPTION_WIDTH, &measure);
            let url_lines = wrap_url(url, CAPTION_WIDTH, &measure);
            let room = if qr.is_some() {
                CAPTION_LINES
            } else {
                3 * CAPTION_LINES
            };
            if lines.len() + url_lines.len() <= room {
                lines.extend(url_lines);
                lines
            } else if qr.is_some() {
                wrap(&lang.label("paper.scan"), CAPTION_WIDTH, &measure)
            } else {
                Vec::new()
            }
        }
    };
    let picture = picture_size.map(|(pw, ph)| {
        let h = PICTURE_HEIGHT;
        let w = (pw as f32 / ph.max(1) as f32 * h).clamp(40.0, 140.0);
        (w, h)
    });
    RightBlock {
        qr,
        caption,
        picture,
    }
}

/// The parts of the plan that do not depend on the header: table headings and the
/// bottom block.
struct Fixed {
    columns: [f32; 7],
    headings: Vec<Vec<String>>,
    heading_height: f32,
    legend: Vec<LegendLine>,
    privacy_lines: Vec<String>,
    return_lines: Vec<String>,
    bottom_block: f32,
}

fn fixed_parts(input: &FormInput, m: &Measure, content: f32) -> Fixed {
    let lang = input.lang;
    let org = input.organization.trim();
    let columns = column_widths(content);
    let heading_texts = [
        "#".to_string(),
        lang.label("paper.col.name"),
        lang.label("paper.col.email"),
        lang.label("paper.col.postcode"),
        lang.label("paper.col.phone"),
        lang.label("paper.col.join"),
        lang.label("paper.col.private"),
    ];
    let hm = m.at(HEADING_SIZE);
    // "ZIP code / Código postal": each language starts a line of its own when the
    // heading needs more than one.
    let headings: Vec<Vec<String>> = heading_texts
        .iter()
        .zip(columns)
        .map(|(t, w)| {
            let whole = wrap(t, w - 6.0, &hm);
            if whole.len() <= 1 || !t.contains(" / ") {
                return whole;
            }
            let parts: Vec<&str> = t.split(" / ").collect();
            let last = parts.len() - 1;
            parts
                .iter()
                .enumerate()
                .flat_map(|(i, part)| {
                    let part = if i < last {
                        format!("{part} /")
                    } else {
                        part.to_string()
                    };
                    wrap(&part, w - 6.0, &hm)
                })
                .collect()
        })
        .collect();
    let heading_lines = headings.iter().map(Vec::len).max().unwrap_or(1) as f32;
    let heading_height = heading_lines * HEADING_SIZE * 1.2 + 8.0;

    // The legend explains the two short box headings.
    let lm = m.at(LEGEND_SIZE);
    let mut legend = Vec::new();
    for (label, text) in [
        ("paper.col.join", "paper.legend.join"),
        ("paper.col.private", "paper.legend.private"),
    ] {
        let label = format!("{}:", lang.label(label));
        // The label's width in spaces' stead, so the first line leaves room for it.
        let indent = lm(&label) + lm(" ");
        // One space between words, so every wrapped line is a prefix of what is left.
        let text = lang.paragraphs(text, &[("org", org)]).join(" / ");
        let mut rest = text.split_whitespace().collect::<Vec<_>>().join(" ");
        let mut first = true;
        while !rest.is_empty() {
            let width = content - 12.0 - if first { indent } else { 0.0 };
            let lines = wrap(&rest, width, &lm);
            let Some(line) = lines.first().cloned() else {
                break;
            };
            rest = rest
                .get(line.len()..)
                .unwrap_or_default()
                .trim_start()
                .to_string();
            legend.push(LegendLine {
                label: first.then(|| label.clone()),
                text: line,
            });
            first = false;
        }
    }
    let pm = m.at(PRIVACY_SIZE);
    let privacy_lines: Vec<String> = lang
        .paragraphs("paper.privacy", &[("org", org)])
        .into_iter()
        .flat_map(|p| wrap(&p, content, &pm))
        .collect();
    let fm = m.at(FOOTER_SIZE);
    let return_lines: Vec<String> = lang
        .paragraphs("paper.return_to", &[("contact", input.contact.trim())])
        .into_iter()
        .map(|p| shorten(&p, content - FOOTER_TEXT_X - 40.0, &fm))
        .collect();
    let bottom_block = 6.0
        + legend.len() as f32 * LEGEND_SIZE * 1.3
        + 4.0
        + privacy_lines.len() as f32 * PRIVACY_SIZE * 1.3
        + 6.0
        + FOOTER_HEIGHT.max(return_lines.len() as f32 * FOOTER_SIZE * 1.35 + 4.0);
    Fixed {
        columns,
        headings,
        heading_height,
        legend,
        privacy_lines,
        return_lines,
        bottom_block,
    }
}

/// The plan at one header size, with or without the picture.
fn plan_at(
    input: &FormInput,
    (ask, why): (&str, &str),
    m: &Measure,
    fixed: &Fixed,
    right: &RightBlock,
    step: (f32, f32, f32, f32),
    with_picture: bool,
) -> Plan {
    let (width, height) = input.paper.landscape();
    let content = width - 2.0 * MARGIN_X;
    let top = height - MARGIN_Y;
    let header_width = content - right.width(with_picture);
    let (header, header_height) = header_lines(input, ask, why, m, header_width, step);
    let table_top = top - header_height.max(right.height(with_picture)) - 10.0;
    let rows_height = table_top - fixed.heading_height - (MARGIN_Y + fixed.bottom_block);
    Plan {
        width,
        height,
        header,
        right: right.clone(),
        with_picture,
        columns: fixed.columns,
        headings: fixed.headings.clone(),
        heading_height: fixed.heading_height,
        table_top,
        rows_height,
        legend: fixed.legend.clone(),
        privacy_lines: fixed.privacy_lines.clone(),
        return_lines: fixed.return_lines.clone(),
    }
}

/// Lays the form out: the largest type in which the whole petition leaves room for the
/// lines (`lines`, or 8 to 10 comfortable ones), dropping the picture before going below
/// the smallest size. When even that leaves too little room, says how much to cut.
pub fn fit(input: &FormInput, lines: Option<usize>) -> Result<Fitted, Unfit> {
    let m = Measure::default();
    let (width, _) = input.paper.landscape();
    let fixed = fixed_parts(input, &m, width - 2.0 * MARGIN_X);
    let picture_size = input
        .picture
        .as_ref()
        .and_then(|p| picture_dimensions(&p.bytes));
    let right = right_block(input, &m, picture_size);
    let needed = |lines: Option<usize>| match lines {
        None => (*DEFAULT_LINES.start() as f32 + 1.0) * DEFAULT_MIN_ROW,
        Some(n) => (n as f32 + 1.0) * MIN_ROW,
    };
    let text = (input.petition.ask.as_str(), input.petition.why.as_str());
    let smallest = STEPS[STEPS.len() - 1];
    let picture_choices: &[bool] = if right.picture.is_some() {
        &[true, false]
    } else {
        &[false]
    };
    for &with_picture in picture_choices {
        for step in STEPS {
            let plan = plan_at(input, text, &m, &fixed, &right, step, with_picture);
            if plan.rows_height >= needed(lines) {
                let bounds = line_bounds(plan.rows_height);
                return Ok(Fitted {
                    lines: lines.unwrap_or(bounds.default),
                    plan,
                    bounds,
                });
            }
        }
    }
    let best = plan_at(input, text, &m, &fixed, &right, smallest, false);
    if lines.is_some() && best.rows_height >= needed(None) {
        return Err(Unfit::Lines {
            max: line_bounds(best.rows_height).max,
        });
    }
    // Too long even in the smallest type: how much of the why (or else the ask) to cut.
    let room = needed(lines.filter(|&n| n < *DEFAULT_LINES.start()));
    let fits = |ask: &str, why: &str| {
        plan_at(input, (ask, why), &m, &fixed, &right, smallest, false).rows_height >= room
    };
    let longest = |text: &str, fits: &dyn Fn(&str) -> bool| -> usize {
        let chars: Vec<char> = text.trim().chars().collect();
        let (mut lo, mut hi) = (0usize, chars.len());
        while lo < hi {
            let mid = (lo + hi).div_ceil(2);
            let head: String = chars[..mid].iter().collect();
            if fits(&head) {
                lo = mid;
            } else {
                hi = mid - 1;
            }
        }
        chars.len() - lo
    };
    let (ask, why) = text;
    if fits(ask, "") {
        Err(Unfit::TooLong {
            field: Field::Why,
            cut: longest(why, &|w| fits(ask, w)).max(1),
        })
    } else if fits("", "") {
        Err(Unfit::TooLong {
            field: Field::Ask,
            cut: longest(ask, &|a| fits(a, "")).max(1),
        })
    } else {
        Err(Unfit::TooLong {
            field: Field::Header,
            cut: 0,
        })
    }
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

/// Renders a form laid out by [`fit`]: one page per sheet id, each with the fitted
/// number of lines, after a page of instructions for the organizers when
/// `instructions` is set.
pub fn render(
    input: &FormInput,
    form: &Fitted,
    sheet_ids: &[String],
    instructions: bool,
) -> Result<Rendered, String> {
    let text = PdfText::new();
    let plan = &form.plan;
    let mut doc = PdfDocument::new(input.petition.title.trim());
    let mut picture_problem = None;
    let picture = match (&input.picture, plan.with_picture) {
        (Some(p), true) => match thumbnail(&p.bytes, PICTURE_HEIGHT) {
            Ok(raw) => {
                let size = (raw.width as u32, raw.height as u32);
                Some((doc.add_image(&raw), size))
            }
            Err(e) => {
                picture_problem = Some(e);
                None
            }
        },
        (Some(_), false) => {
            picture_problem =
                Some("the petition's text needs the room, even in small type".to_string());
            None
        }
        (None, _) => None,
    };
    let mut uncovered = BTreeSet::new();
    let page = |ops: Vec<Op>| PdfPage {
        media_box: Rect::from_wh(Pt(plan.width), Pt(plan.height)),
        trim_box: Rect::from_wh(Pt(plan.width), Pt(plan.height)),
        crop_box: Rect::from_wh(Pt(plan.width), Pt(plan.height)),
        ops,
    };
    if instructions {
        let mut canvas = Canvas::new(&text);
        draw_instructions(&mut canvas, input, plan, sheet_ids);
        uncovered.extend(canvas.uncovered);
        doc.pages.push(page(canvas.ops));
    }
    let total = sheet_ids.len();
    for (i, sheet_id) in sheet_ids.iter().enumerate() {
        let mut canvas = Canvas::new(&text);
        draw_page(
            &mut canvas,
            input,
            plan,
            form.lines.max(1),
            sheet_id,
            (i + 1, total),
            picture.as_ref().map(|(id, s)| (id, *s)),
        );
        uncovered.extend(canvas.uncovered);
        doc.pages.push(page(canvas.ops));
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
    let left = MARGIN_X;
    let right = p.width - MARGIN_X;
    let top = p.height - MARGIN_Y;

    // Header: organization, title, "To:" target, ask, why, where.
    let mut y = top;
    for line in &p.header {
        y -= line.dy;
        match line.style {
            Style::Org => c.bold(&line.text, line.x, y, line.size, accent()),
            Style::Title => c.bold(&line.text, line.x, y, line.size, grey(INK)),
            Style::ToLabel | Style::Place => c.text(&line.text, line.x, y, line.size, grey(GREY)),
            Style::Target | Style::Ask => c.text(&line.text, line.x, y, line.size, grey(INK)),
            Style::Why => c.text(&line.text, line.x, y, line.size, grey(0.25)),
        };
    }

    // Right block: the QR code (far right) with its caption, the picture left of it.
    let mut block_right = right;
    if p.right.qr.is_some() || !p.right.caption.is_empty() {
        let center = right - CAPTION_WIDTH / 2.0;
        let mut cy = top;
        if let Some((modules, runs)) = &p.right.qr {
            let x0 = center - QR_SIDE / 2.0;
            let module = QR_SIDE / *modules as f32;
            for &(col, row, len) in runs {
                c.rect(
                    x0 + col as f32 * module,
                    top - (row + 1) as f32 * module,
                    len as f32 * module + 0.05,
                    module + 0.05,
                    None,
                    Some(grey(0.0)),
                );
            }
            cy -= QR_SIDE + 4.0;
        }
        for line in &p.right.caption {
            cy -= CAPTION_SIZE * 1.25;
            let w = c.text.width(line, CAPTION_SIZE);
            c.text(line, center - w / 2.0, cy, CAPTION_SIZE, grey(0.25));
        }
        block_right = right - CAPTION_WIDTH - 14.0;
    }
    if let (Some((id, (pw, _))), Some((w, h))) = (picture, p.right.picture) {
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
        let mut hy = table_top - 4.0 - HEADING_SIZE;
        for line in heading {
            c.bold(line, xs[col] + 3.0, hy, HEADING_SIZE, grey(INK));
            hy -= HEADING_SIZE * 1.2;
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
    // "Example" stands where line numbers stand, one word per language.
    let words = lang.paragraphs("paper.example", &[]);
    let label_size = 6.0;
    let first = ex_top - row_h / 2.0 + 2.0 - (words.len() as f32 - 1.0) * label_size * 0.6;
    for (i, word) in words.iter().enumerate() {
        let w = c.text.width(word, label_size);
        let y = first - i as f32 * label_size * 1.2;
        c.text(word, xs[1] - 3.0 - w, y, label_size, grey(EXAMPLE));
    }
    // The example signer, in the form's first language (the campaign's own postcode).
    let sample = |key: &str| i18n::t(input.lang.langs()[0], key, &[]);
    let postcode = input
        .example_postcode
        .clone()
        .unwrap_or_else(|| sample("paper.example.postcode"));
    let example = [
        (sample("paper.example.name"), 1),
        (sample("paper.example.email"), 2),
        (postcode, 3),
        (sample("paper.example.phone"), 4),
    ];
    for (value, col) in &example {
        let (value, col) = (value.as_str(), *col);
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
                tick(c, bx, by, box_side, grey(EXAMPLE));
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

    // Under the table: the legend of the boxes, then the privacy notice.
    let mut y = table_bottom - 6.0;
    for line in &p.legend {
        y -= LEGEND_SIZE * 1.3;
        let mut x = left + 12.0;
        if let Some(label) = &line.label {
            let side = LEGEND_SIZE * 0.9;
            c.rect(left, y - 0.5, side, side, Some((0.6, grey(0.2))), None);
            x += c.bold(label, x, y, LEGEND_SIZE, grey(0.1)) + c.text.width(" ", LEGEND_SIZE);
        }
        c.text(&line.text, x, y, LEGEND_SIZE, grey(0.2));
    }
    y -= 4.0;
    for line in &p.privacy_lines {
        y -= PRIVACY_SIZE * 1.3;
        c.text(line, left, y, PRIVACY_SIZE, grey(0.3));
    }

    // Footer: the sheet id (large, for the person typing it in) and where to return it.
    let footer_top =
        MARGIN_Y + FOOTER_HEIGHT.max(p.return_lines.len() as f32 * FOOTER_SIZE * 1.35 + 4.0);
    c.line((left, footer_top), (right, footer_top), 0.5, grey(RULE));
    let sheet_label = lang.label("paper.sheet");
    c.text(&sheet_label, left, footer_top - 9.0, 7.0, grey(GREY));
    c.bold(sheet_id, left, footer_top - 25.0, 15.0, grey(INK));
    let mut fy = footer_top - 2.0;
    for line in &p.return_lines {
        fy -= FOOTER_SIZE * 1.35;
        c.text(line, left + FOOTER_TEXT_X, fy, FOOTER_SIZE, grey(INK));
    }
    let page_label = format!("{page}/{pages}");
    let w = c.text.width(&page_label, 7.0);
    c.text(&page_label, right - w, footer_top - 9.0, 7.0, grey(GREY));
}

/// A tick mark in the box at (`x`, `y`) of side `side`.
fn tick(c: &mut Canvas, x: f32, y: f32, side: f32, color: Color) {
    c.polyline(
        &[
            (x + side * 0.2, y + side * 0.5),
            (x + side * 0.42, y + side * 0.22),
            (x + side * 0.85, y + side * 0.85),
        ],
        1.4,
        color,
    );
}

/// The organizers' page: what the sheets are, how to hand them out, what the boxes
/// mean, keeping them private, and the command that types them in. In every language
/// of the form, side by side.
fn draw_instructions(c: &mut Canvas, input: &FormInput, p: &Plan, sheet_ids: &[String]) {
    let left = MARGIN_X + 10.0;
    let right = p.width - MARGIN_X - 10.0;
    let top = p.height - MARGIN_Y - 10.0;
    let langs = input.lang.langs();
    let gap = 30.0;
    let col_width = (right - left - gap * (langs.len() as f32 - 1.0)) / langs.len() as f32;
    let ids = match sheet_ids {
        [] => String::new(),
        [one] => one.clone(),
        [first, .., last] => format!("{first} – {last}"),
    };
    let command = format!("campaign enter-signatures {}", input.slug);
    let org = input.organization.trim();
    let contact = input.contact.trim();
    let m = |size: f32| move |s: &str| shape(s).width(size);
    for (i, lang) in langs.iter().enumerate() {
        let x = left + i as f32 * (col_width + gap);
        let t = |key: &str, args: &[(&str, &str)]| i18n::t(*lang, key, args);
        let mut y = top;
        for line in wrap(&t("paper.howto.title", &[]), col_width, &m(20.0)) {
            y -= 24.0;
            c.bold(&line, x, y, 20.0, accent());
        }
        y -= 6.0;
        for line in wrap(&t("paper.howto.note", &[]), col_width, &m(11.0)) {
            y -= 14.0;
            c.text(&line, x, y, 11.0, grey(GREY));
        }
        y -= 8.0;
        for line in wrap(input.petition.title.trim(), col_width, &m(13.0)) {
            y -= 17.0;
            c.bold(&line, x, y, 13.0, grey(INK));
        }
        y -= 6.0;
        let sheets = i18n::count(*lang, "paper.howto.sheets", sheet_ids.len() as i64);
        let steps = [
            t("paper.howto.step1", &[("ids", &ids), ("sheets", &sheets)]),
            t("paper.howto.step2", &[]),
            t("paper.howto.step3", &[("org", org)]),
            t("paper.howto.step4", &[("contact", contact)]),
            t("paper.howto.step5", &[("command", &command)]),
        ];
        for (n, step) in steps.iter().enumerate() {
            y -= 8.0;
            let number = format!("{}.", n + 1);
            c.bold(&number, x, y - 14.0, 11.5, accent());
            for line in wrap(step, col_width - 20.0, &m(11.5)) {
                y -= 15.0;
                c.text(&line, x + 20.0, y, 11.5, grey(INK));
            }
        }
    }
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
        // Room for 8 lines at 24 pt: 8, never fewer by default.
        assert_eq!(line_bounds(216.0).default, 8);
        // Less than that: as many as fit at 24 pt.
        assert_eq!(line_bounds(150.0).default, 5);
        assert_eq!(
            line_bounds(308.0),
            LineBounds {
                default: 10,
                max: 14
            }
        );
    }

    #[test]
    fn rows_fill_the_space_but_stay_writable() {
        assert_eq!(row_height(330.0, 10), 30.0);
        assert_eq!(row_height(330.0, 1), MAX_ROW);
    }

    #[test]
    fn columns_fill_the_width_email_widest_boxes_narrow() {
        for total in [732.0, 781.89] {
            let cols = column_widths(total);
            assert!((cols.iter().sum::<f32>() - total).abs() < 0.01);
            // Room for "rosa.martinez@example.org" written by hand (about 3 in).
            assert!(cols[2] >= 215.0, "{cols:?}");
            assert!(cols.iter().all(|&w| w <= cols[2]));
            assert!(cols[5] < 60.0 && cols[6] < 60.0, "{cols:?}");
        }
    }

    #[test]
    fn wrap_breaks_at_words_and_cuts_long_words() {
        assert_eq!(wrap("aa bb cc", 25.0, &mono), ["aa bb", "cc"]);
        assert_eq!(wrap("abcdefghij", 25.0, &mono), ["abcde", "fghij"]);
        assert!(wrap("", 25.0, &mono).is_empty());
    }

    #[test]
    fn urls_wrap_whole_at_their_separators() {
        let url = "https://example.org/p/hacer-de-oakland-una-ciudad-santuario?ref=paper";
        let lines = wrap_url(url, 100.0, &mono);
        assert_eq!(lines.concat(), url, "nothing is lost");
        assert!(lines.iter().all(|l| mono(l) <= 100.0), "{lines:?}");
        assert!(
            lines[0].ends_with('/') || lines[0].ends_with('-'),
            "{lines:?}"
        );
        assert_eq!(wrap_url("https://x.org", 200.0, &mono), ["https://x.org"]);
    }

    #[test]
    fn shortened_texts_end_in_an_ellipsis() {
        assert_eq!(shorten("short", 30.0, &mono), "short");
        let s = shorten("Nguyễn Thị Minh Khai", 40.0, &mono);
        assert!(s.ends_with('…') && mono(&s) <= 40.0, "{s}");
    }

    #[test]
    fn both_languages_label_headings() {
        assert_eq!(FormLang::Both.label("paper.col.name"), "Name / Nombre");
        assert_eq!(FormLang::Es.label("paper.col.name"), "Nombre");
        assert_eq!(FormLang::Both.paragraphs("paper.privacy", &[]).len(), 2);
    }

    #[test]
    fn catalog_words_name_the_organization_and_no_command() {
        for lang in [Lang::En, Lang::Es] {
            let org = [("org", "Oakland Sanctuary Coalition")];
            for key in ["paper.legend.join", "paper.privacy", "paper.howto.step3"] {
                assert!(
                    i18n::t(lang, key, &org).contains("Oakland Sanctuary Coalition"),
                    "{lang} {key}"
                );
            }
            // What a signer reads never names the tool or a command.
            for key in [
                "paper.to",
                "paper.why",
                "paper.place",
                "paper.col.name",
                "paper.col.email",
                "paper.col.postcode",
                "paper.col.phone",
                "paper.col.join",
                "paper.col.private",
                "paper.legend.join",
                "paper.legend.private",
                "paper.example",
                "paper.sign_online",
                "paper.scan",
                "paper.privacy",
                "paper.sheet",
                "paper.return_to",
            ] {
                assert!(
                    !i18n::t(lang, key, &[]).contains("campaign "),
                    "{lang} {key}"
                );
            }
        }
    }

    #[test]
    fn qr_code_has_dark_modules() {
        let (width, runs) = qr_runs("https://example.org/oakland").unwrap();
        assert!(width >= 21);
        assert!(runs.iter().all(|&(c, r, l)| c + l <= width && r < width));
    }

    fn input(why: &str, lang: FormLang, paper: Paper) -> FormInput {
        FormInput {
            organization: "Oakland Sanctuary Coalition".into(),
            contact: "Ana Reyes, ana@example.org".into(),
            slug: "oakland".into(),
            petition: PetitionText {
                title: "Make Oakland a sanctuary city for every family".into(),
                target: "Mayor Barbara Lee and the Oakland City Council".into(),
                ask: "Declare Oakland a sanctuary city for all immigrants.".into(),
                why: why.into(),
                place: "Oakland, CA 94612".into(),
            },
            url: Some(
                "https://example.org/p/make-oakland-a-sanctuary-city-for-every-family".into(),
            ),
            example_postcode: Some("94612".into()),
            picture: None,
            second: None,
            lang,
            paper,
        }
    }

    #[test]
    fn every_variant_gets_8_to_10_lines_with_the_whole_text() {
        let why = "Our neighbors should live without fear of deportation. ".repeat(6);
        for lang in [FormLang::En, FormLang::Es, FormLang::Both] {
            for paper in [Paper::Letter, Paper::A4] {
                let form = fit(&input(&why, lang, paper), None).unwrap();
                assert!(
                    (8..=10).contains(&form.lines),
                    "{lang:?} {paper:?}: {}",
                    form.lines
                );
                let header: String = form
                    .plan
                    .header
                    .iter()
                    .map(|l| l.text.as_str())
                    .collect::<Vec<_>>()
                    .join(" ");
                assert!(header.contains("deportation. Our neighbors"), "{header}");
                assert!(!header.contains('…'), "{header}");
            }
        }
    }

    #[test]
    fn a_why_too_long_even_in_9_pt_is_refused_with_the_characters_to_cut() {
        let why = "Our neighbors should live without fear of deportation. ".repeat(60);
        let err = fit(&input(&why, FormLang::En, Paper::Letter), None)
            .err()
            .unwrap();
        let Unfit::TooLong {
            field: Field::Why,
            cut,
        } = err
        else {
            panic!("{err:?}")
        };
        assert!(cut > 100 && cut < why.len(), "{cut}");
        // Cutting that much (and a little more, for word wrap) fits.
        let kept: String = why.chars().take(why.chars().count() - cut - 60).collect();
        assert!(fit(&input(&kept, FormLang::En, Paper::Letter), None).is_ok());
        // Fewer lines leave more room: asked for, they are granted.
        assert!(
            fit(&input(&kept, FormLang::En, Paper::Letter), Some(3))
                .unwrap()
                .lines
                == 3
        );
    }

    #[test]
    fn too_many_lines_are_refused_with_the_most_that_fit() {
        let err = fit(&input("Short.", FormLang::En, Paper::Letter), Some(60))
            .err()
            .unwrap();
        let Unfit::Lines { max } = err else {
            panic!("{err:?}")
        };
        assert!((10..30).contains(&max), "{max}");
        assert_eq!(
            fit(&input("Short.", FormLang::En, Paper::Letter), Some(max))
                .unwrap()
                .lines,
            max
        );
    }
}
