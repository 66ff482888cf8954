//! What `paper-form` refuses: text no font draws, a petition too long for a sheet.

use super::PaperFormArgs;
use crate::error::Error;
use crate::render::pdf::fonts::font_hint;
use crate::render::pdf::paper_form::{Field, FormInput};
use crate::render::pdf::text::{unprintable, with_placeholder};
use crate::render::pdf::Paper;

/// Every text the form prints must be drawable: refused, listing the characters, or
/// with `allow` each such character printed as U+FFFD, so nothing silently vanishes.
pub(super) fn printable(input: &mut FormInput, allow: bool) -> Result<(), Error> {
    let p = &mut input.petition;
    let mut fields: Vec<(&str, &mut String)> = vec![
        ("the title", &mut p.title),
        ("the target", &mut p.target),
        ("the ask", &mut p.ask),
        ("the why", &mut p.why),
        ("the place", &mut p.place),
        ("your organization", &mut input.organization),
        ("your name and email", &mut input.contact),
    ];
    if let Some(p) = input.second.as_mut() {
        fields.push(("the translated title", &mut p.title));
        fields.push(("the translated target", &mut p.target));
        fields.push(("the translated ask", &mut p.ask));
        fields.push(("the translated why", &mut p.why));
    }
    if let Some(url) = input.url.as_mut() {
        fields.push(("the URL", url));
    }
    if let Some(code) = input.example_postcode.as_mut() {
        fields.push(("the postcode", code));
    }
    let mut problems = Vec::new();
    for (what, text) in fields {
        let missing = unprintable(text);
        if missing.is_empty() {
            continue;
        }
        if allow {
            *text = with_placeholder(text, '\u{FFFD}');
            continue;
        }
        let chars: Vec<String> = missing
            .iter()
            .map(|c| format!("{c:?} U+{:04X} ({})", *c as u32, font_hint(*c)))
            .collect();
        problems.push(format!("{what}: {}", chars.join(", ")));
    }
    if problems.is_empty() {
        return Ok(());
    }
    Err(Error::Refused(format!(
        "the form's text has characters no font here can draw, so nothing was printed:\n  {}\n\
         Fix the text (`campaign edit`), or pass --allow-unprintable to print the \
         replacement mark U+FFFD in their place",
        problems.join("\n  ")
    )))
}

/// The refusal for a petition that does not fit on a sheet even in 9 pt type.
pub(super) fn too_long(
    slug: &str,
    paper: Paper,
    field: Field,
    cut: usize,
    args: &PaperFormArgs,
) -> Error {
    let lines = match args.lines {
        Some(n) if n < 8 => format!("{n} lines"),
        _ => "8 lines".to_string(),
    };
    let why = if args.short_why.is_some() {
        "--short-why"
    } else {
        "the why"
    };
    let fix = match field {
        Field::Why => format!(
            "{why} is about {cut} characters too long to print in full on a {} sheet with \
             {lines} to sign on, even in 9 pt type. Shorten it (`campaign edit {slug} --why`), \
             or print a shorter one on the sheets only with --short-why TEXT",
            paper.name()
        ),
        Field::Ask => format!(
            "the ask is about {cut} characters too long to print in full on a {} sheet with \
             {lines} to sign on, even in 9 pt type and without the why: shorten it \
             (`campaign edit {slug} --ask`)",
            paper.name()
        ),
        Field::Header => format!(
            "the title and the target are too long to print on a {} sheet with {lines} to \
             sign on: shorten them (`campaign edit {slug}`)",
            paper.name()
        ),
    };
    Error::Invalid(fix)
}
