//! A streaming PDF writer: pages go to the output as they are made, so memory stays flat
//! however many pages a document has (printpdf keeps a whole document in memory).
//!
//! Text comes from [`super::text`]: glyph ids of fonts subset at the end, keeping ids.
//! Pages are built independently ([`PageBuilder`], fine to build on several threads) and
//! written in order with [`PdfStream::write_page`]; a page made last can still come
//! first ([`PdfStream::write_first_page`]: a cover that counts what the list held).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt::Write as _;
use std::io::{self, Write};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};

use flate2::write::ZlibEncoder;
use flate2::Compression;

use super::fonts::{FontRef, FontSet};
use super::text::{segments, shape, GlyphUsage, Shaped};

/// Portrait page sizes in points.
pub const A4: (f32, f32) = (595.28, 841.89);
pub const LETTER: (f32, f32) = (612.0, 792.0);

/// Counts bytes so object offsets can go into the xref table.
struct Counting<W> {
    inner: W,
    pos: u64,
}

impl<W: Write> Write for Counting<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.pos += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// Text alignment for [`PageBuilder::text`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Align {
    Left,
    Right,
    Center,
}

/// Fonts with a lock-free "glyph already recorded" bitset; others take the lock.
const FAST_FONTS: usize = 64;

/// The glyphs a whole document uses, shared by the threads building its pages. Most
/// glyphs repeat, so checking a bit first keeps the lock off the hot path.
pub struct SharedUsage {
    seen: Vec<OnceLock<Box<[AtomicU64]>>>,
    texts: Mutex<GlyphUsage>,
    /// Glyph numbers of the fonts that are subset with new ones (CFF, see
    /// [`super::fonts::Font::keeps_ids`]), given as each glyph is first written.
    codes: Mutex<HashMap<FontRef, subsetter::GlyphRemapper>>,
}

impl Default for SharedUsage {
    fn default() -> Self {
        Self::new()
    }
}

impl SharedUsage {
    pub fn new() -> SharedUsage {
        SharedUsage {
            // Plain-string bits for each fast font, then ActualText-string bits.
            seen: (0..2 * FAST_FONTS).map(|_| OnceLock::new()).collect(),
            texts: Mutex::new(GlyphUsage::default()),
            codes: Mutex::new(HashMap::new()),
        }
    }

    /// The number `gid` of `font` has in this document's subset of it: the glyph id
    /// itself for fonts subset keeping ids, else the next free number the first time.
    fn code(&self, font: FontRef, gid: u16) -> u16 {
        let mut codes = self.codes.lock().unwrap_or_else(|e| e.into_inner());
        codes.entry(font).or_default().remap(gid)
    }

    pub fn record(&self, shaped: &Shaped) {
        // Glyphs of strings with ActualText give only fallback texts (see
        // `GlyphUsage::record_glyph_weak`), tracked in a second set of bits.
        let weak = shaped.actual_text.is_some();
        let bits_of = |i: usize| {
            self.seen
                .get(i)
                .map(|cell| cell.get_or_init(|| (0..1024).map(|_| AtomicU64::new(0)).collect()))
        };
        for run in &shaped.runs {
            let (strong_bits, weak_bits) = if run.font < FAST_FONTS {
                (bits_of(run.font), bits_of(FAST_FONTS + run.font))
            } else {
                (None, None)
            };
            for g in &run.glyphs {
                let text = g.text.as_deref().unwrap_or("");
                if let (Some(strong), Some(weak_seen), false) =
                    (strong_bits, weak_bits, text.is_empty())
                {
                    let (word, bit) = (g.gid as usize / 64, 1u64 << (g.gid % 64));
                    let mine = if weak { weak_seen } else { strong };
                    if strong[word].load(Ordering::Relaxed) & bit != 0
                        || mine[word].fetch_or(bit, Ordering::Relaxed) & bit != 0
                    {
                        continue;
                    }
                }
                let mut texts = self.texts.lock().unwrap_or_else(|e| e.into_inner());
                if weak {
                    texts.record_glyph_weak(run.font, g.gid, text);
                } else {
                    texts.record_glyph(run.font, g.gid, text);
                }
            }
        }
    }

    fn take(&self) -> (GlyphUsage, HashMap<FontRef, subsetter::GlyphRemapper>) {
        (
            std::mem::take(&mut *self.texts.lock().unwrap_or_else(|e| e.into_inner())),
            std::mem::take(&mut *self.codes.lock().unwrap_or_else(|e| e.into_inner())),
        )
    }
}

/// Appends `v` with at most two decimals, without float formatting (hot path).
fn num(out: &mut String, v: f32) {
    let n = (v * 100.0).round() as i64;
    if n < 0 {
        out.push('-');
    }
    let n = n.unsigned_abs();
    let _ = write!(out, "{}", n / 100);
    let frac = n % 100;
    if frac != 0 {
        out.push('.');
        out.push((b'0' + (frac / 10) as u8) as char);
        if frac % 10 != 0 {
            out.push((b'0' + (frac % 10) as u8) as char);
        }
    }
}

/// One page's content, built without the writer.
pub struct PageBuilder<'u> {
    content: String,
    fonts: BTreeSet<FontRef>,
    usage: &'u SharedUsage,
}

/// A page ready to write: compressed content and the fonts it names.
pub struct FinishedPage {
    content: Vec<u8>,
    fonts: BTreeSet<FontRef>,
}

impl<'u> PageBuilder<'u> {
    pub fn new(usage: &'u SharedUsage) -> PageBuilder<'u> {
        PageBuilder {
            content: String::with_capacity(8192),
            fonts: BTreeSet::new(),
            usage,
        }
    }

    /// Draws `text` at (`x`, `y`) (baseline; x is the left, right or center edge), at
    /// `size` points, squeezed horizontally (never cut) to fit `max_width` if given.
    /// Returns the characters no font has (not drawn).
    pub fn text(
        &mut self,
        text: &str,
        x: f32,
        y: f32,
        size: f32,
        align: Align,
        max_width: Option<f32>,
    ) -> Vec<char> {
        let shaped = shape(text);
        self.shaped(&shaped, x, y, size, align, max_width);
        shaped.uncovered
    }

    /// Like [`PageBuilder::text`] for text already shaped.
    pub fn shaped(
        &mut self,
        shaped: &Shaped,
        x: f32,
        y: f32,
        size: f32,
        align: Align,
        max_width: Option<f32>,
    ) {
        if shaped.runs.is_empty() {
            return;
        }
        let natural = shaped.width(size);
        let scale = match max_width {
            Some(w) if natural > w && natural > 0.0 => w / natural,
            _ => 1.0,
        };
        let width = natural * scale;
        let x0 = match align {
            Align::Left => x,
            Align::Right => x - width,
            Align::Center => x - width / 2.0,
        };
        self.usage.record(shaped);
        let c = &mut self.content;
        // Extractors give back per-glyph ToUnicode text in drawing order, which splits
        // or scrambles shaped scripts ("रा म शम"); ActualText hands them the exact string.
        if let Some(actual) = &shaped.actual_text {
            c.push_str("/Span <</ActualText <FEFF");
            push_utf16_hex(c, actual);
            c.push_str(">>> BDC\n");
        }
        c.push_str("BT\n");
        if scale < 1.0 {
            num(c, scale * 100.0);
            c.push_str(" Tz\n");
        }
        let mut current: Option<FontRef> = None;
        let set = FontSet::global();
        for seg in segments(shaped) {
            let renumbered = !set.font(seg.font).keeps_ids();
            if current != Some(seg.font) {
                let _ = write!(c, "/F{} ", seg.font);
                num(c, size);
                c.push_str(" Tf\n");
                self.fonts.insert(seg.font);
                current = Some(seg.font);
            }
            c.push_str("1 0 0 1 ");
            num(c, x0 + seg.x * size * scale);
            c.push(' ');
            num(c, y + seg.y * size);
            c.push_str(" Tm [");
            const HEX: &[u8; 16] = b"0123456789ABCDEF";
            for (gid, adjust) in seg.glyphs {
                let gid = if renumbered {
                    self.usage.code(seg.font, gid)
                } else {
                    gid
                };
                c.push('<');
                for shift in [12, 8, 4, 0] {
                    c.push(HEX[((gid >> shift) & 0xF) as usize] as char);
                }
                c.push('>');
                let adjust = adjust.round() as i64;
                if adjust != 0 {
                    let _ = write!(c, "{adjust}");
                }
            }
            c.push_str("] TJ\n");
        }
        c.push_str("ET\n");
        if shaped.actual_text.is_some() {
            c.push_str("EMC\n");
        }
    }

    /// A straight line, `width` points thick, in grey `gray` (0 black, 1 white).
    pub fn line(&mut self, x1: f32, y1: f32, x2: f32, y2: f32, width: f32, gray: f32) {
        let _ = writeln!(
            self.content,
            "q {gray:.2} G {width:.2} w {x1:.2} {y1:.2} m {x2:.2} {y2:.2} l S Q"
        );
    }

    /// Sets the grey for the text that follows (0 black), fill and outline.
    pub fn fill_gray(&mut self, gray: f32) {
        let _ = writeln!(self.content, "{gray:.2} g {gray:.2} G");
    }

    /// Faux bold for the text that follows, `size` points (the bundled fonts have no
    /// bold face): glyphs are filled and stroked with a thin outline. `None` ends it.
    pub fn bold(&mut self, size: Option<f32>) {
        match size {
            Some(size) => {
                let _ = writeln!(self.content, "2 Tr {:.2} w", size * 0.03);
            }
            None => self.content.push_str("0 Tr\n"),
        }
    }

    /// Compresses the content (fast level: delivery documents are large and
    /// mostly text; the default level costs several times the time for ~10% less).
    pub fn finish(self) -> io::Result<FinishedPage> {
        // One compressor per thread, reset between pages: a new one per page allocated
        // and zeroed its tables each time, and the page faults serialized the threads.
        thread_local! {
            static DEFLATE: std::cell::RefCell<flate2::Compress> =
                std::cell::RefCell::new(flate2::Compress::new(Compression::fast(), true));
        }
        let input = self.content.as_bytes();
        let content = DEFLATE.with(|z| -> io::Result<Vec<u8>> {
            let mut z = z.borrow_mut();
            z.reset();
            let mut out = Vec::with_capacity(input.len() / 2 + 64);
            let mut consumed = 0usize;
            loop {
                let before = z.total_in();
                let status = z
                    .compress_vec(&input[consumed..], &mut out, flate2::FlushCompress::Finish)
                    .map_err(io::Error::other)?;
                consumed += (z.total_in() - before) as usize;
                if status == flate2::Status::StreamEnd {
                    break;
                }
                out.reserve(out.capacity().max(4096));
            }
            Ok(out)
        })?;
        Ok(FinishedPage {
            content,
            fonts: self.fonts,
        })
    }
}

/// The document being written.
pub struct PdfStream<W: Write> {
    out: Counting<W>,
    /// Offset of each object, by number (0 unused).
    offsets: Vec<u64>,
    page_objects: Vec<u32>,
    font_objects: BTreeMap<FontRef, u32>,
    size: (f32, f32),
}

const CATALOG: u32 = 1;
const PAGES: u32 = 2;
const INFO: u32 = 3;

impl<W: Write> PdfStream<W> {
    pub fn new(out: W, size: (f32, f32)) -> io::Result<PdfStream<W>> {
        let mut out = Counting { inner: out, pos: 0 };
        out.write_all(b"%PDF-1.7\n%\xE2\xE3\xCF\xD3\n")?;
        Ok(PdfStream {
            out,
            offsets: vec![0; 4],
            page_objects: Vec::new(),
            font_objects: BTreeMap::new(),
            size,
        })
    }

    fn reserve(&mut self) -> u32 {
        self.offsets.push(0);
        (self.offsets.len() - 1) as u32
    }

    fn begin(&mut self, id: u32) -> io::Result<()> {
        self.offsets[id as usize] = self.out.pos;
        writeln!(self.out, "{id} 0 obj")
    }

    fn object(&mut self, id: u32, body: &str) -> io::Result<()> {
        self.begin(id)?;
        self.out.write_all(body.as_bytes())?;
        self.out.write_all(b"\nendobj\n")
    }

    fn stream(&mut self, id: u32, dict: &str, data: &[u8]) -> io::Result<()> {
        self.begin(id)?;
        write!(self.out, "<< {dict} /Length {} >>\nstream\n", data.len())?;
        self.out.write_all(data)?;
        self.out.write_all(b"\nendstream\nendobj\n")
    }

    fn font_object(&mut self, font: FontRef) -> u32 {
        if let Some(&id) = self.font_objects.get(&font) {
            return id;
        }
        let id = self.reserve();
        self.font_objects.insert(font, id);
        id
    }

    /// Writes one page (pages appear in the order written).
    pub fn write_page(&mut self, page: FinishedPage) -> io::Result<()> {
        let id = self.write_page_object(page)?;
        self.page_objects.push(id);
        Ok(())
    }

    /// Writes a page that comes before every page written so far (a cover made last).
    pub fn write_first_page(&mut self, page: FinishedPage) -> io::Result<()> {
        let id = self.write_page_object(page)?;
        self.page_objects.insert(0, id);
        Ok(())
    }

    fn write_page_object(&mut self, page: FinishedPage) -> io::Result<u32> {
        let content = self.reserve();
        let page_id = self.reserve();
        self.stream(content, "/Filter /FlateDecode", &page.content)?;
        let mut fonts = String::new();
        for f in &page.fonts {
            let id = self.font_object(*f);
            let _ = write!(fonts, "/F{f} {id} 0 R ");
        }
        let body = format!(
            "<< /Type /Page /Parent {PAGES} 0 R /MediaBox [0 0 {:.2} {:.2}] /Resources << /Font << {fonts}>> >> /Contents {content} 0 R >>",
            self.size.0, self.size.1
        );
        self.object(page_id, &body)?;
        Ok(page_id)
    }

    /// Writes the fonts (subset), page tree, catalog and cross-reference table.
    pub fn finish(mut self, title: &str, usage: &SharedUsage) -> io::Result<W> {
        let set = FontSet::global();
        let (usage, mut codes) = usage.take();
        let fonts: Vec<(FontRef, u32)> = self.font_objects.iter().map(|(a, b)| (*a, *b)).collect();
        for (font, type0) in fonts {
            let f = set.font(font);
            let glyphs = usage.fonts.get(&font).cloned().unwrap_or_default();
            // What the content streams call each glyph: its id, or its new number.
            let (glyphs, program, file_key, file_subtype, cid_subtype) = if f.keeps_ids() {
                let used: BTreeSet<u16> = glyphs.keys().copied().collect();
                let program = f.subset(&used).map_err(io::Error::other)?;
                let glyphs: Vec<(u16, u16, String)> =
                    glyphs.into_iter().map(|(g, t)| (g, g, t)).collect();
                (glyphs, program, "FontFile2", "", "CIDFontType2")
            } else {
                let remapper = codes.remove(&font).unwrap_or_default();
                let mut glyphs: Vec<(u16, u16, String)> = glyphs
                    .into_iter()
                    .filter_map(|(g, t)| Some((remapper.get(g)?, g, t)))
                    .collect();
                glyphs.sort_by_key(|(code, _, _)| *code);
                let program = f.subset_remapped(&remapper).map_err(io::Error::other)?;
                // A bare CID-keyed CFF: every reader maps codes through its charset,
                // which the subsetter made the identity (PDF 32000-1 9.7.4.2).
                (
                    glyphs,
                    program,
                    "FontFile3",
                    "/Subtype /CIDFontType0C ",
                    "CIDFontType0",
                )
            };
            let codes_used: BTreeSet<u16> = glyphs.iter().map(|(code, _, _)| *code).collect();
            let tag = subset_tag(&codes_used);
            let name = format!("{tag}+{}", f.name);
            let scale = 1000.0 / f.units_per_em as f32;

            let file = self.reserve();
            let mut z = ZlibEncoder::new(Vec::new(), Compression::default());
            z.write_all(&program)?;
            let packed = z.finish()?;
            let length1 = if f.keeps_ids() {
                format!(" /Length1 {}", program.len())
            } else {
                String::new()
            };
            self.stream(
                file,
                &format!("/Filter /FlateDecode {file_subtype}{length1}"),
                &packed,
            )?;

            let descriptor = self.reserve();
            let s = |v: i16| (v as f32 * scale).round() as i32;
            self.object(
                descriptor,
                &format!(
                    "<< /Type /FontDescriptor /FontName /{name} /Flags 4 /FontBBox [{} {} {} {}] /ItalicAngle 0 /Ascent {} /Descent {} /CapHeight {} /StemV 80 /{file_key} {file} 0 R >>",
                    s(f.bbox[0]), s(f.bbox[1]), s(f.bbox[2]), s(f.bbox[3]),
                    s(f.ascender), s(f.descender), s(f.ascender)
                ),
            )?;

            let mut widths = String::new();
            for (code, gid, _) in &glyphs {
                let w = (f.advance_em(*gid) * 1000.0).round() as i32;
                let _ = write!(widths, "{code} [{w}] ");
            }
            let cid_to_gid = if f.keeps_ids() {
                "/CIDToGIDMap /Identity "
            } else {
                ""
            };
            let cid = self.reserve();
            self.object(
                cid,
                &format!(
                    "<< /Type /Font /Subtype /{cid_subtype} /BaseFont /{name} /CIDSystemInfo << /Registry (Adobe) /Ordering (Identity) /Supplement 0 >> /FontDescriptor {descriptor} 0 R {cid_to_gid}/DW 1000 /W [{widths}] >>"
                ),
            )?;

            let texts: BTreeMap<u16, String> = glyphs
                .into_iter()
                .map(|(code, _, text)| (code, text))
                .collect();
            let cmap = to_unicode_cmap(&texts);
            let tounicode = self.reserve();
            self.stream(tounicode, "", cmap.as_bytes())?;

            self.object(
                type0,
                &format!(
                    "<< /Type /Font /Subtype /Type0 /BaseFont /{name} /Encoding /Identity-H /DescendantFonts [{cid} 0 R] /ToUnicode {tounicode} 0 R >>"
                ),
            )?;
        }

        let mut kids = String::with_capacity(self.page_objects.len() * 9);
        for p in &self.page_objects {
            let _ = write!(kids, "{p} 0 R ");
        }
        let pages = format!(
            "<< /Type /Pages /Kids [{kids}] /Count {} >>",
            self.page_objects.len()
        );
        self.object(PAGES, &pages)?;
        self.object(CATALOG, &format!("<< /Type /Catalog /Pages {PAGES} 0 R >>"))?;
        self.object(
            INFO,
            &format!(
                "<< /Title <{}> /Producer (campaign) >>",
                utf16_hex(&format!("\u{FEFF}{title}"))
            ),
        )?;

        let xref = self.out.pos;
        write!(
            self.out,
            "xref\n0 {}\n0000000000 65535 f \n",
            self.offsets.len()
        )?;
        for off in &self.offsets[1..] {
            writeln!(self.out, "{off:010} 00000 n ")?;
        }
        write!(
            self.out,
            "trailer\n<< /Size {} /Root {CATALOG} 0 R /Info {INFO} 0 R >>\nstartxref\n{xref}\n%%EOF\n",
            self.offsets.len()
        )?;
        self.out.flush()?;
        Ok(self.out.inner)
    }

    /// Pages written so far.
    pub fn pages(&self) -> usize {
        self.page_objects.len()
    }
}

/// Six capital letters naming a subset (ISO 32000 9.6.4), derived from its glyphs.
fn subset_tag(used: &BTreeSet<u16>) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for g in used {
        h ^= *g as u64;
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    (0..6)
        .map(|i| (b'A' + ((h >> (i * 5)) % 26) as u8) as char)
        .collect()
}

fn utf16_hex(s: &str) -> String {
    let mut out = String::new();
    push_utf16_hex(&mut out, s);
    out
}

fn push_utf16_hex(out: &mut String, s: &str) {
    for u in s.encode_utf16() {
        let _ = write!(out, "{u:04X}");
    }
}

fn to_unicode_cmap(glyphs: &BTreeMap<u16, String>) -> String {
    let mut out = String::from(
        "/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n/CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n",
    );
    let entries: Vec<(&u16, &String)> = glyphs.iter().filter(|(_, t)| !t.is_empty()).collect();
    for chunk in entries.chunks(100) {
        let _ = writeln!(out, "{} beginbfchar", chunk.len());
        for (gid, text) in chunk {
            let _ = writeln!(out, "<{:04X}> <{}>", gid, utf16_hex(text));
        }
        out.push_str("endbfchar\n");
    }
    out.push_str("endcmap\nCMapName currentdict /CMap defineresource pop\nend\nend\n");
    out
}
