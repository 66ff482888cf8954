//! The fonts names are drawn with: the bundled ones (compiled in, so the tool needs
//! nothing installed) and, for scripts they lack, the system's fonts found with `fontdb`.
//!
//! The font set is one per process ([`FontSet::global`]), shared by every thread. A
//! bundled font is parsed the first time a character of its script needs it, so a
//! document in Latin script never touches the Ethiopic or Sinhala fonts.
//!
//! Two kinds of outlines are drawn ([`Outlines`]): TrueType `glyf` fonts (every bundled
//! font) are subset by [`subset_keeping_ids`] without renumbering glyphs, so text can be
//! written before the document knows which glyphs it uses; CFF (PostScript-outline)
//! fonts, such as Debian's `fonts-noto-cjk`, are subset by the `subsetter` crate, which
//! numbers glyphs anew: writers give each glyph its new number as they first use it (see
//! [`Font::keeps_ids`]).

use std::collections::{BTreeSet, HashMap};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};

use unicode_script::{Script, UnicodeScript};

/// At most this many system fonts per process (bundled ones come on top).
const MAX_SYSTEM_FONTS: usize = 256;

/// Index of a font in the global [`FontSet`]; stable for the life of the process.
/// Bundled fonts have the indexes of [`BUNDLED`]; system fonts follow.
pub type FontRef = usize;

/// A bundled font: file name under `assets/fonts/`, its bytes, and the scripts it is
/// there for (where a character of that script looks first).
struct Bundled {
    file: &'static str,
    bytes: &'static [u8],
    scripts: &'static [Script],
}

macro_rules! bundled {
    ($file:literal, [$($script:ident),* $(,)?]) => {
        Bundled {
            file: $file,
            bytes: include_bytes!(concat!("../../../assets/fonts/", $file)),
            scripts: &[$(Script::$script),*],
        }
    };
}

/// In fallback order: a character is drawn by the first font made for its script that
/// has it, else by the first font here that has it, else by a system font. A `static`:
/// a `const` put a copy of every font in the binary for each function naming it.
static BUNDLED: &[Bundled] = &[
    // Latin (with Vietnamese), Greek, Cyrillic, and the digits and punctuation every
    // script shares.
    bundled!(
        "NotoSans-Regular.ttf",
        [Latin, Greek, Cyrillic, Common, Inherited]
    ),
    bundled!("NotoSansArabic-Regular.ttf", [Arabic]),
    bundled!("NotoSansHebrew-Regular.ttf", [Hebrew]),
    bundled!("NotoSansDevanagari-Regular.ttf", [Devanagari]),
    bundled!("NotoSansBengali-Regular.ttf", [Bengali]),
    bundled!("NotoSansGurmukhi-Regular.ttf", [Gurmukhi]),
    bundled!("NotoSansGujarati-Regular.ttf", [Gujarati]),
    bundled!("NotoSansTamil-Regular.ttf", [Tamil]),
    bundled!("NotoSansTelugu-Regular.ttf", [Telugu]),
    bundled!("NotoSansKannada-Regular.ttf", [Kannada]),
    bundled!("NotoSansMalayalam-Regular.ttf", [Malayalam]),
    bundled!("NotoSansSinhala-Regular.ttf", [Sinhala]),
    bundled!("NotoSansThai-Regular.ttf", [Thai]),
    bundled!("NotoSansLao-Regular.ttf", [Lao]),
    bundled!("NotoSansKhmer-Regular.ttf", [Khmer]),
    // Burmese, and Karen, Mon and Shan written in Myanmar script.
    bundled!("NotoSansMyanmar-Regular.ttf", [Myanmar]),
    // Amharic, Tigrinya, Oromo in Ge'ez script.
    bundled!("NotoSansEthiopic-Regular.ttf", [Ethiopic]),
    bundled!("NotoSansArmenian-Regular.ttf", [Armenian]),
    bundled!("NotoSansGeorgian-Regular.ttf", [Georgian]),
    // Chinese, Japanese kana.
    bundled!(
        "DroidSansFallbackFull.ttf",
        [Han, Hiragana, Katakana, Bopomofo]
    ),
    // Korean Hangul (Droid Sans Fallback has none).
    bundled!("CampaignHangul-Regular.ttf", [Hangul]),
];

/// How a font's glyphs are described, which decides how it is subset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outlines {
    /// TrueType quadratic outlines (`glyf`): subset keeping glyph ids.
    Glyf,
    /// PostScript cubic outlines (`CFF `): subset with glyphs numbered anew.
    Cff,
}

/// One loaded font face, ready to shape with and to embed.
pub struct Font {
    /// PostScript name ("NotoSans-Regular"), used as the PDF BaseFont.
    pub name: String,
    /// Where it came from: a bundled file name or a system path.
    pub origin: String,
    pub data: &'static [u8],
    pub index: u32,
    pub face: rustybuzz::Face<'static>,
    pub outlines: Outlines,
    pub units_per_em: u16,
    pub ascender: i16,
    pub descender: i16,
    pub bbox: [i16; 4],
}

impl Font {
    /// A font from its bytes, or `None` when it cannot be parsed or has outlines this
    /// module cannot subset (CFF2, bitmaps only).
    pub fn load(data: &'static [u8], index: u32, origin: String) -> Option<Font> {
        let face = rustybuzz::Face::from_slice(data, index)?;
        let outlines = if face.tables().glyf.is_some() {
            Outlines::Glyf
        } else if face.tables().cff.is_some() {
            Outlines::Cff
        } else {
            return None;
        };
        let name = face
            .names()
            .into_iter()
            .find(|n| n.name_id == ttf_parser::name_id::POST_SCRIPT_NAME)
            .and_then(|n| n.to_string())
            .unwrap_or_else(|| "Font".to_string())
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
            .collect();
        let bb = face.global_bounding_box();
        Some(Font {
            name,
            origin,
            outlines,
            units_per_em: ttf_parser::Face::units_per_em(&face),
            ascender: ttf_parser::Face::ascender(&face),
            descender: ttf_parser::Face::descender(&face),
            bbox: [bb.x_min, bb.y_min, bb.x_max, bb.y_max],
            data,
            index,
            face,
        })
    }

    /// Whether the font has a glyph for `c`.
    pub fn covers(&self, c: char) -> bool {
        self.face.glyph_index(c).is_some_and(|g| g.0 != 0)
    }

    /// A glyph's advance in em (the width a PDF reader uses: the font's `hmtx`).
    pub fn advance_em(&self, gid: u16) -> f32 {
        self.face
            .glyph_hor_advance(ttf_parser::GlyphId(gid))
            .unwrap_or(0) as f32
            / self.units_per_em as f32
    }

    /// Whether [`Font::subset`] keeps glyph ids: true for `glyf` fonts. For CFF fonts a
    /// writer numbers glyphs itself with a [`subsetter::GlyphRemapper`] as it uses them,
    /// writes those numbers, and subsets with [`Font::subset_remapped`].
    pub fn keeps_ids(&self) -> bool {
        self.outlines == Outlines::Glyf
    }

    /// The font program to embed: only `used` glyphs keep outlines, ids unchanged.
    /// For `glyf` fonts only (see [`Font::keeps_ids`]).
    pub fn subset(&self, used: &BTreeSet<u16>) -> Result<Vec<u8>, String> {
        subset_keeping_ids(self.data, self.index, used)
    }

    /// The bare CFF font program (CID-keyed, CID = the remapped glyph number) with the
    /// glyphs `remapper` numbered: what a PDF embeds as `/FontFile3 /CIDFontType0C`.
    pub fn subset_remapped(&self, remapper: &subsetter::GlyphRemapper) -> Result<Vec<u8>, String> {
        let sfnt = subsetter::subset(self.data, self.index, remapper)
            .map_err(|e| format!("cannot subset {} ({}): {e}", self.name, self.origin))?;
        sfnt_table(&sfnt, 0, b"CFF ")
            .map(<[u8]>::to_vec)
            .ok_or_else(|| format!("the subset of {} has no CFF table", self.name))
    }
}

/// Every font available to this process, in fallback order: bundled first (parsed when
/// first needed), then system fonts added the first time a character needs one.
pub struct FontSet {
    /// One slot per [`BUNDLED`] font, filled the first time its script comes up.
    bundled: Box<[OnceLock<Option<&'static Font>>]>,
    /// Append-only and read on every glyph run by every thread: slots set once, so
    /// reading takes no lock (a shared RwLock's counter bounced between the cores).
    system: Box<[OnceLock<&'static Font>]>,
    system_len: AtomicUsize,
    lookup: Mutex<SystemFonts>,
}

struct SystemFonts {
    db: Option<fontdb::Database>,
    /// Characters already looked up: the font that has them, or none.
    by_char: HashMap<char, Option<FontRef>>,
    /// System faces already loaded, by (path, index).
    loaded: HashMap<(String, u32), FontRef>,
}

impl FontSet {
    /// The process-wide font set. Nothing is parsed until a character asks for a font.
    pub fn global() -> &'static FontSet {
        static SET: OnceLock<FontSet> = OnceLock::new();
        SET.get_or_init(|| FontSet {
            bundled: BUNDLED.iter().map(|_| OnceLock::new()).collect(),
            system: (0..MAX_SYSTEM_FONTS).map(|_| OnceLock::new()).collect(),
            system_len: AtomicUsize::new(0),
            lookup: Mutex::new(SystemFonts {
                db: None,
                by_char: HashMap::new(),
                loaded: HashMap::new(),
            }),
        })
    }

    /// Bundled font `i`, parsed on first use (`None` if it failed to parse: a bug
    /// caught by the tests, never a crash).
    fn bundled_font(&self, i: usize) -> Option<&'static Font> {
        *self.bundled[i].get_or_init(|| {
            let b = &BUNDLED[i];
            Font::load(b.bytes, 0, b.file.to_string()).map(|f| &*Box::leak(Box::new(f)))
        })
    }

    /// The font behind a [`FontRef`].
    pub fn font(&self, font: FontRef) -> &'static Font {
        match font.checked_sub(BUNDLED.len()) {
            None => self.bundled_font(font),
            Some(i) => self.system[i].get().copied(),
        }
        .expect("a FontRef names a loaded font")
    }

    /// How many bundled fonts there are (their [`FontRef`]s come first).
    pub fn bundled_len(&self) -> usize {
        BUNDLED.len()
    }

    /// The first font that has `c`: a bundled one made for its script, else any bundled
    /// one (in order), else (loading them on demand) the system's. `None` when no font
    /// here has it.
    pub fn font_for(&self, c: char) -> Option<FontRef> {
        let script = c.script();
        let made_for = |i: &usize| BUNDLED[*i].scripts.contains(&script);
        let covers = |i: &usize| self.bundled_font(*i).is_some_and(|f| f.covers(c));
        let bundled = (0..BUNDLED.len())
            .filter(made_for)
            .find(covers)
            .or_else(|| (0..BUNDLED.len()).filter(|i| !made_for(i)).find(covers));
        bundled.or_else(|| self.system_font_for(c))
    }

    /// Which bundled fonts are parsed so far (for tests of lazy loading).
    pub fn bundled_loaded(&self) -> Vec<&'static str> {
        BUNDLED
            .iter()
            .zip(self.bundled.iter())
            .filter(|(_, slot)| matches!(slot.get(), Some(Some(_))))
            .map(|(b, _)| b.file)
            .collect()
    }

    fn system_font_for(&self, c: char) -> Option<FontRef> {
        let mut guard = self.lookup.lock().unwrap_or_else(|e| e.into_inner());
        let sys = &mut *guard;
        if let Some(found) = sys.by_char.get(&c) {
            return *found;
        }
        // Fonts already loaded from the system first.
        let mut loaded: Vec<FontRef> = sys.loaded.values().copied().collect();
        loaded.sort_unstable();
        for i in loaded {
            if self.font(i).covers(c) {
                sys.by_char.insert(c, Some(i));
                return Some(i);
            }
        }
        let db = sys.db.get_or_insert_with(|| {
            let mut db = fontdb::Database::new();
            db.load_system_fonts();
            db
        });
        // Candidates in path order, so the same machine always picks the same font.
        let mut candidates: Vec<(String, u32, fontdb::ID)> = Vec::new();
        for face in db.faces() {
            let fontdb::Source::File(path) = &face.source else {
                continue;
            };
            if face.style != fontdb::Style::Normal || face.weight != fontdb::Weight::NORMAL {
                continue;
            }
            candidates.push((path.display().to_string(), face.index, face.id));
        }
        candidates.sort();
        let mut found = None;
        for (path, index, id) in candidates {
            if sys.loaded.contains_key(&(path.clone(), index)) {
                continue;
            }
            // Memory-mapped: only the cmap pages of each file are read.
            let bytes = db.with_face_data(id, |data, i| {
                let usable = ttf_parser::Face::parse(data, i).ok().filter(|f| {
                    f.glyph_index(c).is_some_and(|g| g.0 != 0)
                        && (f.tables().glyf.is_some() || f.tables().cff.is_some())
                });
                usable.map(|_| data.to_vec())
            });
            let Some(Some(bytes)) = bytes else { continue };
            let r = self.system_len.load(Ordering::Acquire);
            if r >= MAX_SYSTEM_FONTS {
                break;
            }
            let data: &'static [u8] = Box::leak(bytes.into_boxed_slice());
            if let Some(font) = Font::load(data, index, path.clone()) {
                // Only this thread appends (we hold the lookup lock).
                let _ = self.system[r].set(Box::leak(Box::new(font)));
                self.system_len.store(r + 1, Ordering::Release);
                let font_ref = BUNDLED.len() + r;
                sys.loaded.insert((path, index), font_ref);
                found = Some(font_ref);
                break;
            }
        }
        sys.by_char.insert(c, found);
        found
    }
}

/// Which font package would draw `c`, for the "no font has these characters" report.
/// Every package named here has fonts this module can use (TrueType or CFF).
pub fn font_hint(c: char) -> String {
    let script = c.script();
    match script {
        Script::Common | Script::Inherited if (c as u32) >= 0x1F000 => {
            "installing an emoji font (Debian: fonts-noto-color-emoji)".to_string()
        }
        Script::Han | Script::Hiragana | Script::Katakana | Script::Hangul | Script::Bopomofo => {
            "installing Noto Sans CJK (Debian: fonts-noto-cjk)".to_string()
        }
        Script::Unknown => {
            if matches!(c as u32, 0xE000..=0xF8FF | 0xF0000..=0x10FFFF) {
                "no installable font: it is a private-use code point (a custom font's \
                 symbol or a typing slip), so correct the name"
                    .to_string()
            } else {
                "no font yet: the code point is unassigned in Unicode, so correct the name"
                    .to_string()
            }
        }
        s => format!(
            "installing Noto Sans {} (Debian: fonts-noto-core or fonts-noto-extra)",
            s.full_name().replace('_', " ")
        ),
    }
}

/// A table of an sfnt (or of face `index` of a collection).
fn sfnt_table<'a>(data: &'a [u8], index: u32, wanted: &[u8; 4]) -> Option<&'a [u8]> {
    let base = if data.get(..4) == Some(b"ttcf") {
        be32(data, 12 + 4 * index as usize)? as usize
    } else {
        0
    };
    let num_tables = be16(data, base + 4)? as usize;
    (0..num_tables).find_map(|i| {
        let rec = base + 12 + 16 * i;
        if data.get(rec..rec + 4)? != wanted {
            return None;
        }
        let off = be32(data, rec + 8)? as usize;
        let len = be32(data, rec + 12)? as usize;
        data.get(off..off.checked_add(len)?)
    })
}

// ---- Subsetting ---------------------------------------------------------------------

fn be16(d: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes([*d.get(at)?, *d.get(at + 1)?]))
}
fn be32(d: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes([
        *d.get(at)?,
        *d.get(at + 1)?,
        *d.get(at + 2)?,
        *d.get(at + 3)?,
    ]))
}

/// Tables a PDF TrueType font program needs (ISO 32000 9.9); the rest (cmap, names,
/// layout tables) stay behind because the PDF carries widths and ToUnicode itself.
const KEEP: [&[u8; 4]; 9] = [
    b"cvt ", b"fpgm", b"glyf", b"head", b"hhea", b"hmtx", b"loca", b"maxp", b"prep",
];

/// A TrueType font program where only `used` glyphs (plus .notdef and the components of
/// composite glyphs) keep their outlines, with every glyph id unchanged. Keeping ids is
/// what lets text be written page by page before the set of used glyphs is known.
pub fn subset_keeping_ids(
    data: &[u8],
    index: u32,
    used: &BTreeSet<u16>,
) -> Result<Vec<u8>, String> {
    let bad = || "malformed font".to_string();
    let base = if data.get(..4) == Some(b"ttcf") {
        be32(data, 12 + 4 * index as usize).ok_or_else(bad)? as usize
    } else {
        0
    };
    let num_tables = be16(data, base + 4).ok_or_else(bad)? as usize;
    let mut tables: HashMap<[u8; 4], &[u8]> = HashMap::new();
    for i in 0..num_tables {
        let rec = base + 12 + 16 * i;
        let tag: [u8; 4] = data
            .get(rec..rec + 4)
            .ok_or_else(bad)?
            .try_into()
            .map_err(|_| bad())?;
        let off = be32(data, rec + 8).ok_or_else(bad)? as usize;
        let len = be32(data, rec + 12).ok_or_else(bad)? as usize;
        if KEEP.contains(&&tag) {
            tables.insert(tag, data.get(off..off + len).ok_or_else(bad)?);
        }
    }
    let head = *tables.get(b"head").ok_or("no head table")?;
    let maxp = *tables.get(b"maxp").ok_or("no maxp table")?;
    let loca = *tables.get(b"loca").ok_or("no loca table")?;
    let glyf = *tables.get(b"glyf").ok_or("no glyf table")?;
    let hhea = *tables.get(b"hhea").ok_or("no hhea table")?;
    let hmtx = *tables.get(b"hmtx").ok_or("no hmtx table")?;
    let long_loca = be16(head, 50).ok_or_else(bad)? == 1;
    let num_glyphs = be16(maxp, 4).ok_or_else(bad)? as usize;
    let offset = |g: usize| -> Option<usize> {
        if long_loca {
            be32(loca, 4 * g).map(|v| v as usize)
        } else {
            be16(loca, 2 * g).map(|v| 2 * v as usize)
        }
    };
    let glyph = |g: usize| -> Option<&[u8]> {
        let (a, b) = (offset(g)?, offset(g + 1)?);
        if b <= a {
            return Some(&[]);
        }
        glyf.get(a..b)
    };

    // Close over composite glyph components.
    let mut keep: BTreeSet<u16> = used
        .iter()
        .copied()
        .filter(|&g| (g as usize) < num_glyphs)
        .collect();
    keep.insert(0);
    let mut todo: Vec<u16> = keep.iter().copied().collect();
    while let Some(g) = todo.pop() {
        let Some(d) = glyph(g as usize) else { continue };
        if d.len() < 10 || (be16(d, 0).unwrap_or(0) as i16) >= 0 {
            continue;
        }
        let mut at = 10;
        while let (Some(flags), Some(comp)) = (be16(d, at), be16(d, at + 2)) {
            if (comp as usize) < num_glyphs && keep.insert(comp) {
                todo.push(comp);
            }
            at += 4 + if flags & 0x1 != 0 { 4 } else { 2 };
            at += if flags & 0x8 != 0 {
                2
            } else if flags & 0x40 != 0 {
                4
            } else if flags & 0x80 != 0 {
                8
            } else {
                0
            };
            if flags & 0x20 == 0 {
                break;
            }
        }
    }

    // Glyphs after the last one kept are cut off altogether (ids below stay the same).
    let num_glyphs = keep.last().map_or(1, |&g| g as usize + 1).min(num_glyphs);
    let mut new_glyf = Vec::new();
    let mut new_loca = Vec::with_capacity(4 * (num_glyphs + 1));
    for g in 0..num_glyphs {
        new_loca.extend_from_slice(&(new_glyf.len() as u32).to_be_bytes());
        if keep.contains(&(g as u16)) {
            new_glyf.extend_from_slice(glyph(g).ok_or_else(bad)?);
            while new_glyf.len() % 4 != 0 {
                new_glyf.push(0);
            }
        }
    }
    new_loca.extend_from_slice(&(new_glyf.len() as u32).to_be_bytes());

    // Metrics of unused glyphs are zeroed: same ids, and the table compresses to little.
    let n_hmetrics_in = be16(hhea, 34).ok_or_else(bad)? as usize;
    let n_hmetrics = n_hmetrics_in.min(num_glyphs);
    let hmtx_len = 4 * n_hmetrics + 2 * (num_glyphs - n_hmetrics);
    let mut new_hmtx = hmtx.get(..hmtx_len).ok_or_else(bad)?.to_vec();
    let mut new_hhea = hhea.to_vec();
    new_hhea
        .get_mut(34..36)
        .ok_or_else(bad)?
        .copy_from_slice(&(n_hmetrics as u16).to_be_bytes());
    let mut new_maxp = maxp.to_vec();
    new_maxp
        .get_mut(4..6)
        .ok_or_else(bad)?
        .copy_from_slice(&(num_glyphs as u16).to_be_bytes());
    for g in 0..num_glyphs {
        if keep.contains(&(g as u16)) {
            continue;
        }
        let (at, len) = if g < n_hmetrics {
            (4 * g, 4)
        } else {
            (4 * n_hmetrics + 2 * (g - n_hmetrics), 2)
        };
        if let Some(slot) = new_hmtx.get_mut(at..at + len) {
            slot.fill(0);
        }
    }

    let mut new_head = head.to_vec();
    new_head.get_mut(8..12).ok_or_else(bad)?.fill(0); // checkSumAdjustment
    new_head
        .get_mut(50..52)
        .ok_or_else(bad)?
        .copy_from_slice(&1u16.to_be_bytes());

    let mut out_tables: Vec<([u8; 4], Vec<u8>)> = Vec::new();
    for tag in KEEP {
        let bytes = match tag {
            b"glyf" => std::mem::take(&mut new_glyf),
            b"loca" => std::mem::take(&mut new_loca),
            b"head" => std::mem::take(&mut new_head),
            b"hmtx" => std::mem::take(&mut new_hmtx),
            b"hhea" => std::mem::take(&mut new_hhea),
            b"maxp" => std::mem::take(&mut new_maxp),
            _ => match tables.get(tag) {
                Some(t) => t.to_vec(),
                None => continue,
            },
        };
        out_tables.push((*tag, bytes));
    }
    Ok(write_sfnt(out_tables))
}

fn checksum(bytes: &[u8]) -> u32 {
    bytes.chunks(4).fold(0u32, |sum, c| {
        let mut w = [0u8; 4];
        w[..c.len()].copy_from_slice(c);
        sum.wrapping_add(u32::from_be_bytes(w))
    })
}

/// Assembles an sfnt from tables (already in tag order).
fn write_sfnt(tables: Vec<([u8; 4], Vec<u8>)>) -> Vec<u8> {
    let n = tables.len() as u16;
    let entry_selector = 15 - n.leading_zeros() as u16;
    let search_range = (1u16 << entry_selector) * 16;
    let mut out = Vec::new();
    out.extend_from_slice(&0x0001_0000u32.to_be_bytes());
    out.extend_from_slice(&n.to_be_bytes());
    out.extend_from_slice(&search_range.to_be_bytes());
    out.extend_from_slice(&entry_selector.to_be_bytes());
    out.extend_from_slice(&(n * 16 - search_range).to_be_bytes());
    let mut offset = 12 + 16 * tables.len();
    for (tag, bytes) in &tables {
        out.extend_from_slice(tag);
        out.extend_from_slice(&checksum(bytes).to_be_bytes());
        out.extend_from_slice(&(offset as u32).to_be_bytes());
        out.extend_from_slice(&(bytes.len() as u32).to_be_bytes());
        offset += bytes.len().div_ceil(4) * 4;
    }
    for (_, bytes) in &tables {
        out.extend_from_slice(bytes);
        while out.len() % 4 != 0 {
            out.push(0);
        }
    }
    out
}
