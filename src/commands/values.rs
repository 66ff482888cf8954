//! How the command line reads the plain enums of `model` and `domain`: each flag's
//! possible values (with their help), parsed through the type's `FromStr`. Clap stays
//! here; the types below know nothing of it.

use std::str::FromStr;

use clap::builder::{PossibleValue, PossibleValuesParser, TypedValueParser};

use crate::domain::delivery::{ContactField, ShowLevel};
use crate::model::{Lang, Source, Status};
use crate::ops::deliver::SplitBy;
use crate::render::pdf::paper_form::FormLang;
use crate::render::pdf::Paper;

/// A parser offering `values` (each with its help, "" for none) and giving a `T`.
fn parser<T>(values: &'static [(&'static str, &'static str)]) -> impl TypedValueParser<Value = T>
where
    T: FromStr<Err = String> + Clone + Send + Sync + 'static,
{
    PossibleValuesParser::new(values.iter().map(|(value, help)| {
        let value = PossibleValue::new(*value);
        if help.is_empty() {
            value
        } else {
            value.help(*help)
        }
    }))
    .try_map(|text: String| text.parse::<T>())
}

pub fn lang() -> impl TypedValueParser<Value = Lang> {
    parser(&[("en", ""), ("es", "")])
}

pub fn status() -> impl TypedValueParser<Value = Status> {
    parser(&[("draft", ""), ("live", ""), ("offline", "")])
}

pub fn source() -> impl TypedValueParser<Value = Source> {
    parser(&[("paper", ""), ("online", "")])
}

pub fn show_level() -> impl TypedValueParser<Value = ShowLevel> {
    parser(&[
        ("names", "Name and postcode of each signer"),
        ("initials", "Initials and postcode of each signer"),
        (
            "postcodes",
            "A table of how many signed per postcode, no names",
        ),
        ("count", "The cover page with the count only"),
    ])
}

pub fn contact_field() -> impl TypedValueParser<Value = ContactField> {
    parser(&[("email", ""), ("phone", "")])
}

pub fn split_by() -> impl TypedValueParser<Value = SplitBy> {
    parser(&[("postcode", "")])
}

pub fn paper() -> impl TypedValueParser<Value = Paper> {
    parser(&[
        (
            "letter",
            "US Letter, 8.5 x 11 in (the US, Canada, Mexico and much of Latin America)",
        ),
        ("a4", "A4, 210 x 297 mm (most of the world)"),
    ])
}

/// The languages of a paper form's own words: one, or both on the same page.
pub fn form_lang() -> impl TypedValueParser<Value = FormLang> {
    parser(&[
        ("en", "English"),
        ("es", "Spanish"),
        ("both", "English and Spanish on the same page"),
    ])
}

pub fn team_role() -> impl TypedValueParser<Value = crate::model::TeamKind> {
    parser(&[
        ("organizer", "everything on their campaigns"),
        (
            "volunteer",
            "adds signatures to their campaigns, reads none",
        ),
    ])
}

/// `--retain`: a period (`180d`, `26w`, `6m`, `1y`), given back normalized, or `none`.
pub fn retain(text: &str) -> Result<String, String> {
    if text.trim().eq_ignore_ascii_case("none") {
        return Ok("none".into());
    }
    crate::domain::privacy::Retention::parse(text).map(|r| r.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every value a flag offers parses, and every value of the type is offered.
    #[test]
    fn the_offered_values_are_the_types_values() {
        fn offered<T>(p: impl TypedValueParser<Value = T>) -> Vec<String> {
            p.possible_values()
                .unwrap()
                .map(|v| v.get_name().to_string())
                .collect()
        }
        assert_eq!(offered(lang()), ["en", "es"]);
        for v in offered(lang()) {
            assert_eq!(v.parse::<Lang>().unwrap().as_str(), v);
        }
        for v in offered(status()) {
            assert_eq!(v.parse::<Status>().unwrap().as_str(), v);
        }
        for v in offered(source()) {
            assert_eq!(v.parse::<Source>().unwrap().as_str(), v);
        }
        for v in offered(show_level()) {
            assert_eq!(v.parse::<ShowLevel>().unwrap().as_str(), v);
        }
        for v in offered(contact_field()) {
            assert_eq!(v.parse::<ContactField>().unwrap().as_str(), v);
        }
        assert_eq!(offered(show_level()).len(), 4);
        assert_eq!(offered(split_by()), ["postcode"]);
        for v in offered(split_by()) {
            assert_eq!(v.parse::<SplitBy>().unwrap().as_str(), v);
        }
        for v in offered(paper()) {
            assert_eq!(v.parse::<Paper>().unwrap().as_str(), v);
        }
        for v in offered(form_lang()) {
            assert_eq!(v.parse::<FormLang>().unwrap().as_str(), v);
        }
        assert_eq!(offered(paper()).len(), 2);
        assert_eq!(offered(form_lang()).len(), 3);
    }
}
