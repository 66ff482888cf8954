//! The share card: the 1200x630 picture Facebook, X, WhatsApp and others show beside a
//! link (the Open Graph size), made from the campaign picture and its title, so an
//! organizer posting by hand has the picture a petition platform would show.
//!
//! The picture is scaled to cover the card and cropped in the middle; without one the
//! card is a plain colour. The title is shaped by the PDF text engine
//! ([`crate::render::pdf::text::shape`]: any script, right-to-left in visual order,
//! the same fonts) and drawn from the fonts' outlines with tiny-skia, white over a dark
//! band so it reads on any photo.

use tiny_skia::{
    Color, FillRule, GradientStop, LinearGradient, Paint, PathBuilder, Pixmap, Point, Rect,
    SpreadMode, Transform,
};

use crate::render::pdf::fonts::FontSet;
use crate::render::pdf::text::{shape, Shaped};

pub const WIDTH: u32 = 1200;
pub const HEIGHT: u32 = 630;

/// Left and right margin, and the room under the last line.
const MARGIN: f32 = 64.0;
const FOOTER_SIZE: f32 = 30.0;
/// Title sizes in pixels, largest first.
const TITLE_SIZES: [f32; 8] = [80.0, 72.0, 66.0, 60.0, 56.0, 52.0, 48.0, 44.0];
const MAX_LINES: usize = 3;
/// The plain background: the deep teal of the paper forms' headings.
const BACKGROUND: [u8; 3] = [14, 84, 92];

/// What goes on a card.
pub struct Card<'a> {
    pub title: &'a str,
    /// The campaign picture (PNG or JPEG bytes), if it has one.
    pub picture: Option<&'a [u8]>,
    /// A short line under the title (the organization).
    pub footer: Option<&'a str>,
}

/// A drawn card.
pub struct Drawn {
    /// RGBA pixels, WIDTH x HEIGHT, opaque.
    pub rgba: Vec<u8>,
    /// Characters no font has, left out of the title.
    pub uncovered: Vec<char>,
    /// Why the picture was left out, if it was.
    pub picture_problem: Option<String>,
    /// The title did not fit in three lines even in the smallest size: it ends in "…".
    pub title_cut: bool,
}

/// The card as a PNG file's bytes, with what could not be drawn.
pub fn render_png(card: &Card<'_>) -> Result<(Vec<u8>, Drawn), String> {
    let drawn = draw(card)?;
    let rgb: Vec<u8> = drawn
        .rgba
        .chunks_exact(4)
        .flat_map(|p| [p[0], p[1], p[2]])
        .collect();
    let mut png = Vec::new();
    image::ImageEncoder::write_image(
        image::codecs::png::PngEncoder::new(&mut png),
        &rgb,
        WIDTH,
        HEIGHT,
        image::ExtendedColorType::Rgb8,
    )
    .map_err(|e| format!("cannot encode the card as PNG: {e}"))?;
    Ok((png, drawn))
}

/// Draws the card.
pub fn draw(card: &Card<'_>) -> Result<Drawn, String> {
    let mut pixmap =
        Pixmap::new(WIDTH, HEIGHT).ok_or_else(|| "cannot allocate the card".to_string())?;
    let mut picture_problem = None;
    let photo = match card.picture {
        Some(bytes) => match cover(bytes) {
            Ok(rgba) => Some(rgba),
            Err(e) => {
                picture_problem = Some(e);
                None
            }
        },
        None => None,
    };
    match &photo {
        Some(rgba) => pixmap.data_mut().copy_from_slice(rgba),
        None => {
            let [r, g, b] = BACKGROUND;
            pixmap.fill(Color::from_rgba8(r, g, b, 255));
        }
    }

    // The title, in the largest size that fits in three lines.
    let width = WIDTH as f32 - 2.0 * MARGIN;
    let title = card.title.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut title_cut = false;
    let (size, lines) = TITLE_SIZES
        .iter()
        .map(|&size| (size, wrap(&title, size, width)))
        .find(|(_, lines)| lines.len() <= MAX_LINES)
        .unwrap_or_else(|| {
            let size = TITLE_SIZES[TITLE_SIZES.len() - 1];
            let mut lines = wrap(&title, size, width);
            lines.truncate(MAX_LINES);
            if let Some(last) = lines.last_mut() {
                // The third line may fit whole: the "…" still says the title goes on.
                *last = ending_in_ellipsis(last, size, width);
            }
            title_cut = true;
            (size, lines)
        });
    let line_height = size * 1.16;
    let footer_room = if card.footer.is_some_and(|f| !f.trim().is_empty()) {
        FOOTER_SIZE * 2.2
    } else {
        0.0
    };
    let last_baseline = HEIGHT as f32 - 56.0 - footer_room;
    let first_baseline = last_baseline - line_height * (lines.len().max(1) - 1) as f32;

    // A dark band from above the title down, so white type reads on any photo.
    if photo.is_some() {
        let top = (first_baseline - size * 1.6).max(0.0);
        scrim(&mut pixmap, top);
    }

    let rtl = starts_right_to_left(&title);
    let mut uncovered = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let shaped = shape(line);
        for c in &shaped.uncovered {
            if !uncovered.contains(c) {
                uncovered.push(*c);
            }
        }
        let baseline = first_baseline + i as f32 * line_height;
        draw_line(&mut pixmap, &shaped, size, baseline, rtl, 255);
    }
    if let Some(footer) = card.footer.map(str::trim).filter(|f| !f.is_empty()) {
        let shaped = shape(&with_ellipsis(footer, FOOTER_SIZE, width));
        let baseline = HEIGHT as f32 - 52.0;
        draw_line(&mut pixmap, &shaped, FOOTER_SIZE, baseline, rtl, 225);
    }
    Ok(Drawn {
        rgba: pixmap.take(),
        uncovered,
        picture_problem,
        title_cut,
    })
}

/// The picture scaled to cover the card and cropped in the middle, as opaque RGBA.
fn cover(bytes: &[u8]) -> Result<Vec<u8>, String> {
    let img = image::load_from_memory(bytes).map_err(|e| format!("cannot read it: {e}"))?;
    let (w, h) = (img.width().max(1) as f32, img.height().max(1) as f32);
    let scale = (WIDTH as f32 / w).max(HEIGHT as f32 / h);
    let (sw, sh) = (
        ((w * scale).ceil() as u32).max(WIDTH),
        ((h * scale).ceil() as u32).max(HEIGHT),
    );
    let scaled = img.resize_exact(sw, sh, image::imageops::FilterType::Triangle);
    let cropped = scaled
        .crop_imm((sw - WIDTH) / 2, (sh - HEIGHT) / 2, WIDTH, HEIGHT)
        .to_rgba8();
    // Transparent parts of a PNG sit on the plain background.
    let [br, bg, bb] = BACKGROUND.map(u32::from);
    let mut out = Vec::with_capacity((WIDTH * HEIGHT * 4) as usize);
    for p in cropped.pixels() {
        let [r, g, b, a] = p.0.map(u32::from);
        let mix = |c: u32, back: u32| ((c * a + back * (255 - a)) / 255) as u8;
        out.extend_from_slice(&[mix(r, br), mix(g, bg), mix(b, bb), 255]);
    }
    Ok(out)
}

/// Darkens the card from `top` to the bottom, more towards the bottom.
fn scrim(pixmap: &mut Pixmap, top: f32) {
    let Some(shader) = LinearGradient::new(
        Point::from_xy(0.0, top),
        Point::from_xy(0.0, HEIGHT as f32),
        vec![
            GradientStop::new(0.0, Color::from_rgba8(0, 0, 0, 0)),
            GradientStop::new(0.35, Color::from_rgba8(0, 0, 0, 150)),
            GradientStop::new(1.0, Color::from_rgba8(0, 0, 0, 200)),
        ],
        SpreadMode::Pad,
        Transform::identity(),
    ) else {
        return;
    };
    let paint = Paint {
        shader,
        ..Paint::default()
    };
    if let Some(rect) = Rect::from_xywh(0.0, top, WIDTH as f32, HEIGHT as f32 - top) {
        pixmap.fill_rect(rect, &paint, Transform::identity(), None);
    }
}

/// Whether a title reads right to left (its first strong character does).
fn starts_right_to_left(text: &str) -> bool {
    unicode_bidi::get_base_direction(text) == unicode_bidi::Direction::Rtl
}

/// Draws one shaped line at `size` pixels, its baseline at `baseline`: from the left
/// margin, or ending at the right one for a right-to-left title. White with a soft
/// shadow, `alpha` opaque.
fn draw_line(pixmap: &mut Pixmap, shaped: &Shaped, size: f32, baseline: f32, rtl: bool, alpha: u8) {
    let width = shaped.width(size);
    let x0 = if rtl {
        WIDTH as f32 - MARGIN - width
    } else {
        MARGIN
    };
    let set = FontSet::global();
    let mut path = PathBuilder::new();
    let mut pen = x0;
    for run in &shaped.runs {
        let font = set.font(run.font);
        let scale = size / font.units_per_em as f32;
        for g in &run.glyphs {
            let mut outline = Outline {
                path: &mut path,
                x: pen + g.x_offset * size,
                y: baseline - g.y_offset * size,
                scale,
            };
            font.face
                .outline_glyph(ttf_parser::GlyphId(g.gid), &mut outline);
            pen += g.advance * size;
        }
    }
    let Some(path) = path.finish() else { return };
    let mut paint = Paint {
        anti_alias: true,
        ..Paint::default()
    };
    paint.set_color_rgba8(0, 0, 0, 90);
    let shadow = Transform::from_translate(0.0, size * 0.04);
    pixmap.fill_path(&path, &paint, FillRule::Winding, shadow, None);
    paint.set_color_rgba8(255, 255, 255, alpha);
    pixmap.fill_path(
        &path,
        &paint,
        FillRule::Winding,
        Transform::identity(),
        None,
    );
    // Semi-bold: the bundled fonts have one weight, so the outline is stroked too.
    let stroke = tiny_skia::Stroke {
        width: size * 0.025,
        line_join: tiny_skia::LineJoin::Round,
        ..tiny_skia::Stroke::default()
    };
    pixmap.stroke_path(&path, &paint, &stroke, Transform::identity(), None);
}

/// A glyph outline into a tiny-skia path: font units, y up, to pixels, y down.
struct Outline<'a> {
    path: &'a mut PathBuilder,
    x: f32,
    y: f32,
    scale: f32,
}

impl Outline<'_> {
    fn at(&self, x: f32, y: f32) -> (f32, f32) {
        (self.x + x * self.scale, self.y - y * self.scale)
    }
}

impl ttf_parser::OutlineBuilder for Outline<'_> {
    fn move_to(&mut self, x: f32, y: f32) {
        let (x, y) = self.at(x, y);
        self.path.move_to(x, y);
    }
    fn line_to(&mut self, x: f32, y: f32) {
        let (x, y) = self.at(x, y);
        self.path.line_to(x, y);
    }
    fn quad_to(&mut self, x1: f32, y1: f32, x: f32, y: f32) {
        let (x1, y1) = self.at(x1, y1);
        let (x, y) = self.at(x, y);
        self.path.quad_to(x1, y1, x, y);
    }
    fn curve_to(&mut self, x1: f32, y1: f32, x2: f32, y2: f32, x: f32, y: f32) {
        let (x1, y1) = self.at(x1, y1);
        let (x2, y2) = self.at(x2, y2);
        let (x, y) = self.at(x, y);
        self.path.cubic_to(x1, y1, x2, y2, x, y);
    }
    fn close(&mut self) {
        self.path.close();
    }
}

/// Greedy wrap by shaped width; a word longer than a line (or a title in a script
/// without spaces) is broken between characters, never inside one with its marks.
fn wrap(text: &str, size: f32, width: f32) -> Vec<String> {
    let fits = |s: &str| shape(s).width(size) <= width;
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
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
        for c in word.chars() {
            let next = format!("{line}{c}");
            if !line.is_empty()
                && !unicode_normalization::char::is_combining_mark(c)
                && !fits(&next)
            {
                lines.push(std::mem::replace(&mut line, c.to_string()));
            } else {
                line = next;
            }
        }
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

/// `line`, shortened until it and a trailing "…" fit `width` (unchanged if it fits).
fn with_ellipsis(line: &str, size: f32, width: f32) -> String {
    if shape(line).width(size) <= width {
        return line.to_string();
    }
    ending_in_ellipsis(line, size, width)
}

/// `line` with a trailing "…", shortened until both fit `width`.
fn ending_in_ellipsis(line: &str, size: f32, width: f32) -> String {
    let mut line = line.trim_end().to_string();
    while !line.is_empty() && shape(&format!("{line}…")).width(size) > width {
        while let Some(c) = line.pop() {
            if !unicode_normalization::char::is_combining_mark(c) {
                break;
            }
        }
        line.truncate(line.trim_end().len());
    }
    line.push('…');
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Pixels that differ between two cards, inside the band where titles go.
    fn title_pixels(a: &[u8], b: &[u8]) -> usize {
        let row = (WIDTH * 4) as usize;
        let band = (HEIGHT as usize / 3) * row..(HEIGHT as usize - 40) * row;
        a[band.clone()]
            .chunks_exact(4)
            .zip(b[band].chunks_exact(4))
            .filter(|(p, q)| p.iter().zip(q.iter()).any(|(x, y)| x.abs_diff(*y) > 40))
            .count()
    }

    fn photo() -> Vec<u8> {
        let img = image::RgbImage::from_fn(900, 700, |x, y| {
            image::Rgb([(x % 256) as u8, (y % 256) as u8, 140])
        });
        let mut png = Vec::new();
        img.write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
            .unwrap();
        png
    }

    #[test]
    fn titles_in_any_script_leave_ink_where_titles_go() {
        let picture = photo();
        for picture in [None, Some(picture.as_slice())] {
            let blank = draw(&Card {
                title: "",
                picture,
                footer: None,
            })
            .unwrap();
            assert_eq!(blank.rgba.len(), (WIDTH * HEIGHT * 4) as usize);
            for title in [
                "Make Oakland a sanctuary city",
                "اجعلوا أوكلاند مدينة ملاذ",
                "让奥克兰成为庇护城市",
            ] {
                let card = draw(&Card {
                    title,
                    picture,
                    footer: None,
                })
                .unwrap();
                assert!(card.uncovered.is_empty(), "{title}: {:?}", card.uncovered);
                let ink = title_pixels(&card.rgba, &blank.rgba);
                assert!(ink > 5_000, "{title}: {ink} pixels of title");
            }
        }
    }

    #[test]
    fn right_to_left_titles_end_at_the_right_margin() {
        let ink_columns = |title: &str| {
            let card = draw(&Card {
                title,
                picture: None,
                footer: None,
            })
            .unwrap();
            let white = |x: u32, y: u32| card.rgba[((y * WIDTH + x) * 4) as usize] > 200;
            let cols: Vec<u32> = (0..WIDTH)
                .filter(|&x| (HEIGHT / 3..HEIGHT).any(|y| white(x, y)))
                .collect();
            (*cols.first().unwrap(), *cols.last().unwrap())
        };
        let (_, right) = ink_columns("محمد");
        assert!(right > WIDTH - MARGIN as u32 - 10, "{right}");
        let (left, _) = ink_columns("Ana");
        assert!(left < MARGIN as u32 + 10, "{left}");
    }

    #[test]
    fn a_long_title_wraps_to_three_lines_and_shows_the_cut() {
        let long = "Sanctuary for every family in Oakland ".repeat(20);
        let lines = wrap(&long, TITLE_SIZES[7], WIDTH as f32 - 2.0 * MARGIN);
        assert!(lines.len() > MAX_LINES);
        let card = draw(&Card {
            title: &long,
            picture: None,
            footer: Some("Oakland Sanctuary Coalition"),
        })
        .unwrap();
        assert!(card.uncovered.is_empty());
        assert!(card.title_cut);
        // The cut shows even when the third line ends at a word that fits.
        let last = ending_in_ellipsis("Oakland", TITLE_SIZES[7], WIDTH as f32);
        assert_eq!(last, "Oakland…");
        let short = draw(&Card {
            title: "Sanctuary for all",
            picture: None,
            footer: None,
        })
        .unwrap();
        assert!(!short.title_cut);
    }

    #[test]
    fn png_is_the_open_graph_size() {
        let (png, _) = render_png(&Card {
            title: "Make Oakland a sanctuary city",
            picture: Some(&photo()),
            footer: Some("Oakland Sanctuary Coalition"),
        })
        .unwrap();
        let img = image::load_from_memory(&png).unwrap();
        assert_eq!((img.width(), img.height()), (WIDTH, HEIGHT));
    }

    #[test]
    fn a_picture_that_is_not_one_gives_the_plain_card_and_says_why() {
        let card = draw(&Card {
            title: "Ana",
            picture: Some(b"not an image"),
            footer: None,
        })
        .unwrap();
        assert!(card.picture_problem.is_some());
        assert_eq!(&card.rgba[..3], &BACKGROUND);
    }
}
