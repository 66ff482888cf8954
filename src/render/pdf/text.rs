//! Unicode text for PDFs: every name drawn exactly as typed, and extractable again.
//!
//! printpdf's built-in fonts cover only WinAnsi and its text ops do no shaping, so this
//! module shapes text itself (rustybuzz), picks a font per run of characters (the bundled
//! Noto Sans fonts for Latin, Greek, Cyrillic, Arabic, Hebrew, the Indic scripts, Thai,
//! Lao, Khmer, Myanmar, Ethiopic, Armenian and Georgian, Droid Sans Fallback for CJK, a
//! Hangul font; then system fonts through `fontdb`), lays right-to-left text out in visual
//! order (Unicode bidi), and emits glyph ids together with the text each glyph stands for,
//! which becomes the PDF's ToUnicode map (copy/paste and `pdftotext` give the name back).
//!
//! # Using it with printpdf
//!
//! ```no_run
//! use campaign::render::pdf::text::PdfText;
//! use printpdf::{Mm, Op, PdfDocument, PdfPage, PdfSaveOptions};
//!
//! // 1. Once per document (fonts themselves load once per process).
//! let text = PdfText::new();
//! let mut doc = PdfDocument::new("Petition");
//!
//! // 2. Measure: width in points of a string at 12 pt.
//! let w = text.width("Nguyễn Thị Minh Khai", 12.0);
//!
//! // 3. Emit ops for a string with its baseline starting at (x, y) points, 12 pt.
//! let mut ops: Vec<Op> = Vec::new();
//! let drawn = text.draw("محمد الأحمد", 72.0, 700.0, 12.0);
//! ops.extend(drawn.ops);
//! // 4. Characters no font has are left out of the drawing and reported, never a box:
//! for c in &drawn.uncovered {
//!     eprintln!("no font for {c:?}: install {}", campaign::render::pdf::fonts::font_hint(*c));
//! }
//! doc.pages.push(PdfPage::new(Mm(210.0), Mm(297.0), ops));
//!
//! // 5. After the last page: embed the fonts (subset to the glyphs used), then save.
//! text.embed(&mut doc).expect("fonts embed");
//! let bytes = doc.save(&PdfSaveOptions::default(), &mut Vec::new());
//! ```
//!
//! [`PdfText::draw`] records which glyphs each font used; [`PdfText::embed`] registers only
//! those fonts, each subset to its used glyphs with glyph ids unchanged
//! ([`super::fonts::subset_keeping_ids`]), under the `FontId`s the ops already name.
//!
//! For other writers (the streaming delivery writer), [`shape`] returns glyph runs in
//! visual order with advances in em, and [`Shaped::uncovered`] the characters no font has.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Mutex;

use printpdf::{Codepoint, FontId, Op, PdfDocument, PdfFontHandle, Point, Pt, TextItem};
use rustc_hash::FxHashMap;
use unicode_script::{Script, UnicodeScript};

use super::fonts::{FontRef, FontSet};

/// One glyph, positioned relative to the pen, in em (multiply by the font size).
#[derive(Debug, Clone, PartialEq)]
pub struct ShapedGlyph {
    pub gid: u16,
    /// How far the pen moves after this glyph.
    pub advance: f32,
    pub x_offset: f32,
    pub y_offset: f32,
    /// The characters this glyph stands for (first glyph of a cluster); `None` for the
    /// other glyphs of a cluster.
    pub text: Option<Box<str>>,
}

/// Glyphs of one font, in visual (left to right drawing) order.
#[derive(Debug, Clone, PartialEq)]
pub struct GlyphRun {
    pub font: FontRef,
    pub glyphs: Vec<ShapedGlyph>,
}

/// A shaped string: runs in visual order, its width, and what could not be drawn.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Shaped {
    pub runs: Vec<GlyphRun>,
    /// Total advance in em.
    pub advance: f32,
    /// Characters no available font has, in order of appearance (without repeats).
    /// They are left out of `runs`: never drawn as a box or a question mark.
    pub uncovered: Vec<char>,
    /// The text drawn (without `uncovered`), set when its glyphs are not one per
    /// character in order (right to left, reordered, ligatures, several glyphs for one
    /// character) or come from several fonts: per-glyph ToUnicode cannot give such text
    /// back exactly (extractors put spaces between fonts), so writers
    /// attach this as the drawing's ActualText. Right-to-left runs are in drawing order
    /// (characters reversed), like the per-glyph texts: pdftotext treats ActualText as
    /// drawn left to right and reverses right-to-left words into logical order, so this
    /// form is the one that comes back exactly (checked with poppler 22.12).
    pub actual_text: Option<Box<str>>,
}

impl Shaped {
    /// Width in points at `size` points.
    pub fn width(&self, size: f32) -> f32 {
        self.advance * size
    }
}

fn is_rtl_char(c: char) -> bool {
    matches!(c as u32, 0x0590..=0x08FF | 0xFB1D..=0xFDFF | 0xFE70..=0xFEFF | 0x10800..=0x10FFF | 0x1E800..=0x1EFFF)
}

/// Scripts drawn glyph by glyph straight from the font's cmap: no joining, reordering or
/// marks to position. Everything else goes through the shaper.
fn is_simple(c: char) -> bool {
    matches!(
        c.script(),
        Script::Latin
            | Script::Greek
            | Script::Cyrillic
            | Script::Han
            | Script::Hangul
            | Script::Hiragana
            | Script::Katakana
            | Script::Bopomofo
            | Script::Armenian
            | Script::Georgian
            | Script::Common
    ) && !matches!(c as u32, 0x1100..=0x11FF | 0x200C | 0x200D | 0xFE00..=0xFE0F)
}

/// Characters that keep the font of the text around them (spaces, punctuation, marks).
fn is_neutral(c: char) -> bool {
    matches!(c.script(), Script::Common | Script::Inherited)
}

/// A glyph id and its advance in em.
type GlyphMetrics = (u16, f32);

/// What shaping needs to know about a character, worked out once per thread.
#[derive(Clone, Copy)]
struct CharInfo {
    /// The first font that has it.
    font: Option<FontRef>,
    simple: bool,
    neutral: bool,
}

thread_local! {
    static CHARS: RefCell<FxHashMap<char, CharInfo>> = RefCell::new(FxHashMap::default());
    static PLANS: RefCell<FxHashMap<(FontRef, bool, rustybuzz::Script), rustybuzz::ShapePlan>> =
        RefCell::new(FxHashMap::default());
    static GLYPHS: RefCell<FxHashMap<(FontRef, char), Option<GlyphMetrics>>> = RefCell::new(FxHashMap::default());
}

fn char_info(set: &FontSet, c: char) -> CharInfo {
    if let Some(info) = CHARS.with(|m| m.borrow().get(&c).copied()) {
        return info;
    }
    let info = CharInfo {
        font: set.font_for(c),
        simple: is_simple(c),
        neutral: is_neutral(c),
    };
    CHARS.with(|m| m.borrow_mut().insert(c, info));
    info
}

/// A character's glyph and advance (em) in a font, cached per thread.
fn glyph(set: &FontSet, font: FontRef, c: char) -> Option<(u16, f32)> {
    if let Some(g) = GLYPHS.with(|m| m.borrow().get(&(font, c)).copied()) {
        return g;
    }
    let f = set.font(font);
    let g = f
        .face
        .glyph_index(c)
        .filter(|g| g.0 != 0)
        .map(|g| (g.0, f.advance_em(g.0)));
    GLYPHS.with(|m| m.borrow_mut().insert((font, c), g));
    g
}

/// The characters of `text` no font here draws, in order of appearance, without
/// repeats (whitespace and control characters are never drawn, so never missing). The
/// same characters [`shape`] reports as [`Shaped::uncovered`], without shaping.
pub fn unprintable(text: &str) -> Vec<char> {
    let set = FontSet::global();
    let mut out: Vec<char> = Vec::new();
    for c in text.chars() {
        if c.is_whitespace() || c.is_control() || out.contains(&c) {
            continue;
        }
        if char_info(set, c).font.is_none() {
            out.push(c);
        }
    }
    out
}

/// `text` with every character no font here draws replaced by `placeholder`, so what
/// cannot be printed shows instead of silently vanishing.
pub fn with_placeholder(text: &str, placeholder: char) -> String {
    let missing = unprintable(text);
    if missing.is_empty() {
        return text.to_string();
    }
    text.chars()
        .map(|c| if missing.contains(&c) { placeholder } else { c })
        .collect()
}

/// Shapes `text` with the process's fonts: runs in visual order.
pub fn shape(text: &str) -> Shaped {
    let set = FontSet::global();
    let mut out = Shaped::default();
    if text.is_empty() {
        return out;
    }
    if !text.chars().any(is_rtl_char) {
        // A word drawn with two fonts ("𠮷田", a character only a fallback font has) is
        // split into text objects that naive extractors separate with a space:
        // ActualText keeps it whole. Fonts that change at a space need none.
        if shape_directional(set, text, false, &mut out) | splits_a_word(&out.runs) {
            let drawn = text
                .chars()
                .filter(|c| !out.uncovered.contains(c))
                .collect();
            out.actual_text = Some(drawn);
        }
        return out;
    }
    let bidi = unicode_bidi::BidiInfo::new(text, None);
    let mut drawn = String::with_capacity(text.len());
    for para in &bidi.paragraphs {
        let line = para.range.clone();
        let (levels, runs) = bidi.visual_runs(para, line);
        for run in runs {
            let rtl = levels[run.start].is_rtl();
            let piece = &text[run];
            shape_directional(set, piece, rtl, &mut out);
            if rtl {
                drawn.extend(piece.chars().rev());
            } else {
                drawn.push_str(piece);
            }
        }
    }
    drawn.retain(|c| !out.uncovered.contains(&c));
    out.actual_text = Some(drawn.into());
    out
}

/// Whether two runs (fonts) meet inside a word: no whitespace on either side.
fn splits_a_word(runs: &[GlyphRun]) -> bool {
    let text_of = |g: &ShapedGlyph| g.text.as_deref().and_then(|t| t.chars().next());
    runs.windows(2).any(|pair| {
        let before = pair[0]
            .glyphs
            .iter()
            .rev()
            .find_map(|g| g.text.as_deref().and_then(|t| t.chars().next_back()));
        let after = pair[1].glyphs.iter().find_map(text_of);
        !(before.is_some_and(char::is_whitespace) || after.is_some_and(char::is_whitespace))
    })
}

/// Whether `glyphs` (left to right) stand for `text` one glyph per character, in order.
fn one_to_one(glyphs: &[ShapedGlyph], text: &str) -> bool {
    let mut chars = text.chars();
    glyphs.iter().all(|g| {
        let mut t = g.text.as_deref().unwrap_or("").chars();
        matches!((t.next(), t.next()), (Some(c), None) if chars.next() == Some(c))
    }) && chars.next().is_none()
}

/// Shapes one directional run, splitting it by font. True when its glyphs are not one
/// per character in order (see [`Shaped::actual_text`]).
fn shape_directional(set: &FontSet, text: &str, rtl: bool, out: &mut Shaped) -> bool {
    // Logical font runs: (font, byte range).
    let mut runs: Vec<(FontRef, std::ops::Range<usize>)> = Vec::new();
    let mut current: Option<FontRef> = None;
    for (i, c) in text.char_indices() {
        let end = i + c.len_utf8();
        let info = char_info(set, c);
        let keep = current.filter(|&f| info.neutral && glyph(set, f, c).is_some());
        let font = keep.or(info.font);
        match font {
            None => {
                if c.is_whitespace() || c.is_control() {
                    continue;
                }
                if !out.uncovered.contains(&c) {
                    out.uncovered.push(c);
                }
            }
            Some(f) => {
                match runs.last_mut() {
                    Some((lf, r)) if *lf == f && r.end == i => r.end = end,
                    _ => runs.push((f, i..end)),
                }
                current = Some(f);
            }
        }
    }
    if rtl {
        runs.reverse();
    }
    let mut complex = rtl;
    for (font, range) in runs {
        let piece = &text[range];
        let glyphs = if !rtl && piece.chars().all(|c| char_info(set, c).simple) {
            simple_glyphs(set, font, piece)
        } else {
            let glyphs = shaped_glyphs(set, font, piece, rtl);
            complex = complex || !one_to_one(&glyphs, piece);
            glyphs
        };
        out.advance += glyphs.iter().map(|g| g.advance).sum::<f32>();
        out.runs.push(GlyphRun { font, glyphs });
    }
    complex
}

/// One glyph per character from the cmap, hmtx advances.
fn simple_glyphs(set: &FontSet, font: FontRef, text: &str) -> Vec<ShapedGlyph> {
    let mut tmp = [0u8; 4];
    text.chars()
        .filter_map(|c| {
            let (gid, advance) = glyph(set, font, c)?;
            Some(ShapedGlyph {
                gid,
                advance,
                x_offset: 0.0,
                y_offset: 0.0,
                text: Some(c.encode_utf8(&mut tmp).into()),
            })
        })
        .collect()
}

/// rustybuzz: joining, marks, reordering; glyphs come back in visual order.
fn shaped_glyphs(set: &FontSet, font: FontRef, text: &str, rtl: bool) -> Vec<ShapedGlyph> {
    let f = set.font(font);
    let mut buffer = rustybuzz::UnicodeBuffer::new();
    buffer.push_str(text);
    buffer.set_direction(if rtl {
        rustybuzz::Direction::RightToLeft
    } else {
        rustybuzz::Direction::LeftToRight
    });
    buffer.guess_segment_properties();
    // Shape plans are costly to build and depend only on font, direction and script.
    let key = (font, rtl, buffer.script());
    let shaped = PLANS.with(|plans| {
        let mut plans = plans.borrow_mut();
        let plan = plans.entry(key).or_insert_with(|| {
            rustybuzz::ShapePlan::new(
                &f.face,
                buffer.direction(),
                Some(buffer.script()),
                None,
                &[],
            )
        });
        rustybuzz::shape_with_plan(&f.face, plan, buffer)
    });
    let infos = shaped.glyph_infos();
    let positions = shaped.glyph_positions();
    let upem = f.units_per_em as f32;
    // Cluster starts, to cut the text each cluster stands for.
    let mut starts: Vec<usize> = infos.iter().map(|i| i.cluster as usize).collect();
    starts.sort_unstable();
    starts.dedup();
    let mut seen = BTreeSet::new();
    infos
        .iter()
        .zip(positions)
        .map(|(info, pos)| {
            let cluster = info.cluster as usize;
            let text = seen.insert(cluster).then(|| {
                let next = starts
                    .iter()
                    .find(|&&s| s > cluster)
                    .copied()
                    .unwrap_or(text.len());
                let cluster_text = text.get(cluster..next).unwrap_or("");
                // Extractors (pdftotext, copy/paste) read right-to-left glyphs and then
                // reverse the line into logical order; a ligature standing for several
                // characters (Arabic lam-alef) is reversed with it, so store it reversed.
                if rtl && cluster_text.chars().nth(1).is_some() {
                    cluster_text.chars().rev().collect::<String>().into()
                } else {
                    cluster_text.into()
                }
            });
            ShapedGlyph {
                gid: info.glyph_id as u16,
                advance: pos.x_advance as f32 / upem,
                x_offset: pos.x_offset as f32 / upem,
                y_offset: pos.y_offset as f32 / upem,
                text,
            }
        })
        .collect()
}

/// A piece of text ready to write: glyphs of one font from one origin, each with the
/// TJ adjustment (thousandths of an em, PDF sign) that puts the next glyph where the
/// shaper wants it when the reader advances by the font's own widths.
#[derive(Debug, Clone, PartialEq)]
pub struct Segment {
    pub font: FontRef,
    /// Origin in em relative to the string's origin.
    pub x: f32,
    pub y: f32,
    /// (gid, adjustment after the glyph)
    pub glyphs: Vec<(u16, f32)>,
}

/// Splits shaped text into [`Segment`]s: a new one per font, and a glyph of its own for
/// each glyph the shaper moved off the baseline (marks), since TJ only moves along it.
pub fn segments(shaped: &Shaped) -> Vec<Segment> {
    let set = FontSet::global();
    let mut out: Vec<Segment> = Vec::new();
    let mut pen = 0.0f32;
    for run in &shaped.runs {
        let f = set.font(run.font);
        let mut seg: Option<Segment> = None;
        for g in &run.glyphs {
            let moved = g.x_offset != 0.0 || g.y_offset != 0.0;
            if moved {
                if let Some(s) = seg.take() {
                    out.push(s);
                }
                out.push(Segment {
                    font: run.font,
                    x: pen + g.x_offset,
                    y: g.y_offset,
                    glyphs: vec![(g.gid, 0.0)],
                });
            } else {
                let s = seg.get_or_insert_with(|| Segment {
                    font: run.font,
                    x: pen,
                    y: 0.0,
                    glyphs: Vec::new(),
                });
                let adjust = (f.advance_em(g.gid) - g.advance) * 1000.0;
                s.glyphs
                    .push((g.gid, if adjust.abs() < 0.01 { 0.0 } else { adjust }));
            }
            pen += g.advance;
        }
        if let Some(s) = seg.take() {
            out.push(s);
        }
    }
    out
}

/// Records which glyphs each font used and the text each stands for: what subsetting
/// and the ToUnicode map need. The first text seen for a glyph wins.
#[derive(Debug, Default, Clone)]
pub struct GlyphUsage {
    pub fonts: BTreeMap<FontRef, BTreeMap<u16, String>>,
    /// Glyphs whose text so far comes only from strings that carry ActualText: the
    /// first text from a plain string replaces it, so a precomposed "ễ" drawn plainly
    /// is not read back as the decomposed "ễ" another signer typed.
    weak: BTreeSet<(FontRef, u16)>,
}

impl GlyphUsage {
    pub fn record(&mut self, shaped: &Shaped) {
        for run in &shaped.runs {
            let used = self.fonts.entry(run.font).or_default();
            for g in &run.glyphs {
                let text = g.text.as_deref().unwrap_or("");
                match used.get_mut(&g.gid) {
                    Some(t) if t.is_empty() && !text.is_empty() => *t = text.to_string(),
                    Some(_) => {}
                    None => {
                        used.insert(g.gid, text.to_string());
                    }
                }
            }
        }
    }

    /// Records one glyph (see [`GlyphUsage::record`]).
    pub fn record_glyph(&mut self, font: FontRef, gid: u16, text: &str) {
        let used = self.fonts.entry(font).or_default();
        let weak = !text.is_empty() && self.weak.remove(&(font, gid));
        match used.get_mut(&gid) {
            Some(t) if (t.is_empty() || weak) && !text.is_empty() => *t = text.to_string(),
            Some(_) => {}
            None => {
                used.insert(gid, text.to_string());
            }
        }
    }

    /// Records one glyph of a string that carries ActualText: its text is only a
    /// fallback until a plain string uses the glyph.
    pub fn record_glyph_weak(&mut self, font: FontRef, gid: u16, text: &str) {
        let used = self.fonts.entry(font).or_default();
        if let std::collections::btree_map::Entry::Vacant(e) = used.entry(gid) {
            e.insert(text.to_string());
            if !text.is_empty() {
                self.weak.insert((font, gid));
            }
        }
    }

    pub fn merge(&mut self, other: GlyphUsage) {
        for (font, glyphs) in other.fonts {
            let used = self.fonts.entry(font).or_default();
            for (gid, text) in glyphs {
                match used.get_mut(&gid) {
                    Some(t) if t.is_empty() => *t = text,
                    Some(_) => {}
                    None => {
                        used.insert(gid, text);
                    }
                }
            }
        }
    }
}

/// Ops for one string, with what could not be drawn.
#[derive(Debug, Clone)]
pub struct Drawn {
    pub ops: Vec<Op>,
    /// Width in points.
    pub width: f32,
    /// Characters no font has (left out of `ops`); name them to the user.
    pub uncovered: Vec<char>,
}

/// `BDC /Span << /ActualText <FEFF...> >>`: what extractors read instead of the glyphs
/// up to the matching `EMC` (UTF-16BE with a byte-order mark).
fn actual_text_begin(text: &str) -> Op {
    let mut data = vec![0xFE, 0xFF];
    data.extend(text.encode_utf16().flat_map(u16::to_be_bytes));
    Op::BeginMarkedContentWithProperties {
        tag: "Span".to_string(),
        properties: printpdf::DictItem::Dict {
            map: BTreeMap::from([(
                "ActualText".to_string(),
                printpdf::DictItem::String {
                    data,
                    literal: false,
                },
            )]),
        },
    }
}

/// Unicode text for one printpdf document. See the module doc for the steps.
pub struct PdfText {
    ids: Mutex<HashMap<FontRef, FontId>>,
    usage: Mutex<GlyphUsage>,
}

impl Default for PdfText {
    fn default() -> Self {
        Self::new()
    }
}

impl PdfText {
    pub fn new() -> PdfText {
        PdfText {
            ids: Mutex::new(HashMap::new()),
            usage: Mutex::new(GlyphUsage::default()),
        }
    }

    /// Width in points of `text` at `size` points.
    pub fn width(&self, text: &str, size: f32) -> f32 {
        shape(text).width(size)
    }

    fn font_id(&self, font: FontRef) -> FontId {
        let mut ids = self.ids.lock().unwrap_or_else(|e| e.into_inner());
        ids.entry(font).or_insert_with(FontId::new).clone()
    }

    /// Ops drawing `text` with its baseline starting at (`x`, `y`) points, `size` points.
    /// Each run is its own text section, so the ops can go anywhere in a page.
    pub fn draw(&self, text: &str, x: f32, y: f32, size: f32) -> Drawn {
        let shaped = shape(text);
        let ops = self.ops(&shaped, x, y, size);
        Drawn {
            ops,
            width: shaped.width(size),
            uncovered: shaped.uncovered,
        }
    }

    /// Ops for already shaped text (see [`shape`]).
    pub fn ops(&self, shaped: &Shaped, x: f32, y: f32, size: f32) -> Vec<Op> {
        let texts = {
            let mut usage = self.usage.lock().unwrap_or_else(|e| e.into_inner());
            usage.record(shaped);
            usage.clone()
        };
        let mut ops = Vec::new();
        // As in the delivery writer: per-glyph ToUnicode cannot give shaped or reordered
        // text back (pointed Hebrew came back with a repeated letter and two U+FFFD), so
        // the exact string rides along as ActualText.
        if let Some(actual) = &shaped.actual_text {
            ops.push(actual_text_begin(actual));
        }
        for seg in segments(shaped) {
            let id = self.font_id(seg.font);
            let used = texts.fonts.get(&seg.font);
            ops.push(Op::StartTextSection);
            ops.push(Op::SetFont {
                font: PdfFontHandle::External(id),
                size: Pt(size),
            });
            ops.push(Op::SetTextCursor {
                pos: Point {
                    x: Pt(x + seg.x * size),
                    y: Pt(y + seg.y * size),
                },
            });
            let glyphs = seg
                .glyphs
                .iter()
                .map(|&(gid, adjust)| Codepoint {
                    gid,
                    offset: adjust,
                    // The same text for a glyph everywhere: ToUnicode is per glyph.
                    cid: Some(used.and_then(|u| u.get(&gid)).cloned().unwrap_or_default()),
                })
                .collect();
            ops.push(Op::ShowText {
                items: vec![TextItem::GlyphIds(glyphs)],
            });
            ops.push(Op::EndTextSection);
        }
        if shaped.actual_text.is_some() {
            ops.push(Op::EndMarkedContent);
        }
        ops
    }

    /// Registers the fonts the drawn text used in `doc`, each subset to its glyphs.
    /// Call once, after the last [`PdfText::draw`], before saving.
    pub fn embed(&self, doc: &mut PdfDocument) -> Result<(), String> {
        let set = FontSet::global();
        let usage = self.usage.lock().unwrap_or_else(|e| e.into_inner()).clone();
        for (font, glyphs) in &usage.fonts {
            let f = set.font(*font);
            let used: BTreeSet<u16> = glyphs.keys().copied().collect();
            // printpdf subsets again when it saves, numbering glyphs itself, so a CFF font
            // (which our subsetter cannot keep ids in) goes to it whole.
            let parsed = if f.keeps_ids() {
                let program = f.subset(&used)?;
                printpdf::ParsedFont::from_bytes(&program, 0, &mut Vec::new())
            } else {
                printpdf::ParsedFont::from_bytes(f.data, f.index as usize, &mut Vec::new())
            }
            .ok_or_else(|| format!("cannot read back the subset of {}", f.name))?;
            let id = self.font_id(*font);
            doc.resources
                .fonts
                .map
                .insert(id, printpdf::font::PdfFont::new(parsed));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NAMES: [&str; 7] = [
        "José Núñez Ó Súilleabháin",
        "Nguyễn Thị Minh Khai",
        "李娜",
        "محمد الأحمد",
        "Дмитрий Иванов",
        "김민준",
        "דוד לוי",
    ];

    #[test]
    fn every_test_name_is_covered_by_bundled_fonts() {
        for name in NAMES {
            let s = shape(name);
            assert!(s.uncovered.is_empty(), "{name}: {:?}", s.uncovered);
            assert!(s.advance > 0.0);
            let text: String = s
                .runs
                .iter()
                .flat_map(|r| r.glyphs.iter().filter_map(|g| g.text.as_deref()))
                .collect();
            if !name.chars().any(is_rtl_char) {
                assert_eq!(text, name);
            }
        }
    }

    #[test]
    fn arabic_is_joined_in_visual_order() {
        let s = shape("محمد");
        // Joined forms differ from the isolated ones the cmap gives.
        let f = FontSet::global().font(s.runs[0].font);
        let isolated = f.face.glyph_index('م').unwrap().0;
        assert!(s.runs[0].glyphs.iter().all(|g| g.gid != isolated));
        // Visual order: the last letter (د) is drawn first.
        assert_eq!(s.runs[0].glyphs[0].text.as_deref(), Some("د"));
    }

    #[test]
    fn right_to_left_text_extracts_in_logical_order() {
        // A real PDF, read back: each right-to-left name comes out of the file in drawing
        // order, which an extractor (pdftotext) reverses into the order it was typed.
        use printpdf::{Mm, PdfPage, PdfSaveOptions};
        // Not "שָׁלוֹם": its marks, drawn as glyphs of their own, come back from the
        // per-glyph text with a repeated letter; both writers give it back exactly
        // through ActualText (CLI tests `shaped_names_carry_their_exact_text_as_actual_text`,
        // `paper_form_text_in_shaped_scripts_comes_back_exactly_as_actual_text`).
        let names = ["محمد الأحمد", "דוד לוי", "مريم"];
        let text = PdfText::new();
        let mut doc = PdfDocument::new("rtl");
        // One name a page: marks placed on their own (niqqud) are text sections of their own.
        for name in names {
            let ops = text.draw(name, 72.0, 700.0, 18.0).ops;
            doc.pages.push(PdfPage::new(Mm(210.0), Mm(297.0), ops));
        }
        text.embed(&mut doc).unwrap();
        let bytes = doc.save(&PdfSaveOptions::default(), &mut Vec::new());
        let pdf = lopdf::Document::load_mem(&bytes).expect("a PDF lopdf reads");
        for (page, name) in (1..).zip(names) {
            // Per glyph, through the ToUnicode maps embedded above, in drawing order; the
            // extractor ends each text section with a space and a line break.
            let extracted = pdf.extract_text(&[page]).expect("text");
            let drawn: String = extracted
                .split('\n')
                .map(|section| section.strip_suffix(' ').unwrap_or(section))
                .collect();
            let logical: String = drawn.chars().rev().collect();
            assert_eq!(logical, name, "extracted: {extracted:?}");
        }
    }

    #[test]
    fn actual_text_only_where_fonts_meet_inside_a_word() {
        // Fonts meeting at a space: extractors give the text back as is.
        assert_eq!(shape("José ሰላም").runs.len(), 2);
        assert_eq!(shape("José ሰላም").actual_text, None);
        assert_eq!(shape("Ana 李娜").actual_text, None);
        // Latin and Han in one word: kept whole.
        assert_eq!(shape("Ana李").actual_text.as_deref(), Some("Ana李"));
    }

    #[test]
    fn uncovered_characters_are_reported_not_drawn() {
        let s = shape("Ana \u{10FFFD}");
        assert_eq!(s.uncovered, vec!['\u{10FFFD}']);
    }

    #[test]
    fn printpdf_document_embeds_subsets() {
        use printpdf::{Mm, PdfPage, PdfSaveOptions};
        let text = PdfText::new();
        let mut doc = PdfDocument::new("t");
        let mut ops = Vec::new();
        for (i, name) in NAMES.iter().enumerate() {
            ops.extend(text.draw(name, 72.0, 700.0 - 30.0 * i as f32, 18.0).ops);
        }
        doc.pages.push(PdfPage::new(Mm(210.0), Mm(297.0), ops));
        text.embed(&mut doc).unwrap();
        let bytes = doc.save(&PdfSaveOptions::default(), &mut Vec::new());
        assert!(bytes.len() < 200_000, "{} bytes", bytes.len());
        if let Ok(path) = std::env::var("CAMPAIGN_TEXT_SMOKE") {
            std::fs::write(path, &bytes).unwrap();
        }
    }
}
