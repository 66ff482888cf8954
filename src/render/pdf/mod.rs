//! PDF documents: paper forms and deliveries.

pub mod delivery;
pub mod fonts;
pub mod paper_form;
pub mod text;
pub mod writer;

use serde::{Deserialize, Serialize};

use crate::model::Campaign;

/// The petition's own words as a document prints them, in one language. Documents take
/// these rather than a `Campaign`, so a translated petition can be printed in the
/// language of the form or letter.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PetitionText {
    pub title: String,
    pub target: String,
    pub ask: String,
    pub why: String,
    /// Where the campaign is ("Oakland, CA 94612").
    pub place: String,
}

impl PetitionText {
    /// The campaign's text as written.
    pub fn of(campaign: &Campaign) -> PetitionText {
        PetitionText {
            title: campaign.title.clone(),
            target: campaign.target.clone(),
            ask: campaign.ask.clone(),
            why: campaign.why.clone(),
            place: campaign.place(),
        }
    }
}

/// Paper sizes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Paper {
    /// US Letter, 8.5 x 11 in (the US, Canada, Mexico and much of Latin America)
    Letter,
    /// A4, 210 x 297 mm (most of the world)
    A4,
}

/// Countries that print on Letter (ISO 3166 codes): North America, the US territories,
/// and the Latin American countries and the Philippines that kept the US size.
const LETTER_COUNTRIES: [&str; 19] = [
    "US", "CA", "MX", "PR", "GU", "VI", "AS", "MP", "UM", "CL", "CO", "CR", "DO", "GT", "PA", "PH",
    "SV", "VE", "NI",
];

impl Paper {
    /// Width and height in points, portrait.
    pub fn portrait(self) -> (f32, f32) {
        match self {
            Paper::Letter => writer::LETTER,
            Paper::A4 => writer::A4,
        }
    }

    /// Width and height in points, landscape.
    pub fn landscape(self) -> (f32, f32) {
        let (w, h) = self.portrait();
        (h, w)
    }

    /// The paper a country prints on: Letter in the Letter countries, A4 elsewhere.
    /// Unknown (`None`) is Letter, like the rest of the tool's US defaults.
    pub fn for_country(country: Option<&str>) -> Paper {
        match country.map(|c| c.trim().to_ascii_uppercase()) {
            Some(c) if !c.is_empty() && !LETTER_COUNTRIES.contains(&c.as_str()) => Paper::A4,
            _ => Paper::Letter,
        }
    }

    /// The value `--paper` takes: `letter`, `a4`.
    pub fn as_str(self) -> &'static str {
        match self {
            Paper::Letter => "letter",
            Paper::A4 => "a4",
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Paper::Letter => "letter",
            Paper::A4 => "A4",
        }
    }
}

impl std::str::FromStr for Paper {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        [Paper::Letter, Paper::A4]
            .into_iter()
            .find(|p| p.as_str().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| format!("unknown paper size {s:?}: use letter or a4"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn letter_where_letter_is_bought() {
        for c in ["US", "us", "CA", "MX", "PR", "PH", "CL", " co "] {
            assert_eq!(Paper::for_country(Some(c)), Paper::Letter, "{c}");
        }
        for c in ["ES", "GB", "DE", "AR", "BR", "ET", "IN", "NO"] {
            assert_eq!(Paper::for_country(Some(c)), Paper::A4, "{c}");
        }
        assert_eq!(Paper::for_country(None), Paper::Letter);
        assert_eq!(Paper::for_country(Some("")), Paper::Letter);
        assert_eq!(Paper::Letter.landscape(), (792.0, 612.0));
    }
}
