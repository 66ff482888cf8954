//! The campaign text flags shared by `new` and `edit`.

use clap::Args;

use crate::domain::templates::Template;
use crate::model::{Lang, Scope};

#[derive(Debug, Clone, Default, Args)]
pub struct CampaignFields {
    /// Petition title: short and specific, e.g. "Make Oakland a sanctuary city"
    #[arg(long, value_name = "TEXT")]
    pub title: Option<String>,

    /// Who can give you what you want: a person or body, e.g. "Mayor Barbara Lee"
    #[arg(long, value_name = "WHO")]
    pub target: Option<String>,

    /// What exactly the target should do
    #[arg(long, value_name = "WHAT")]
    pub ask: Option<String>,

    /// Why it matters: the reason people will sign
    #[arg(long, value_name = "WHY")]
    pub why: Option<String>,

    /// Where the campaign is, e.g. "Oakland, CA"
    #[arg(long, value_name = "PLACE", conflicts_with_all = ["national", "global"])]
    pub location: Option<String>,

    /// ZIP or postcode of the place
    #[arg(long, value_name = "CODE")]
    pub postcode: Option<String>,

    /// The campaign is national rather than about one place
    #[arg(long, conflicts_with = "global")]
    pub national: bool,

    /// The campaign is global
    #[arg(long)]
    pub global: bool,

    /// Country code (e.g. US, MX), used for phone numbers and ZIP codes [default: US]
    #[arg(long, value_name = "CC")]
    pub country: Option<String>,

    /// How many signatures you aim for
    #[arg(long, value_name = "N")]
    pub goal: Option<i64>,

    /// Web address where people can sign online
    #[arg(long, value_name = "URL")]
    pub url: Option<String>,

    /// Language of the petition's documents, emails and share texts
    #[arg(long, value_parser = super::values::lang())]
    pub lang: Option<Lang>,

    /// Delete the signers' personal data this long after the last delivery, e.g. 180d,
    /// 26w, 6m or 1y (counts are kept; see `campaign purge --due`); `none` to clear
    #[arg(long, value_name = "PERIOD", value_parser = super::values::retain)]
    pub retain: Option<String>,
}

impl CampaignFields {
    /// The scope the flags ask for, if any.
    pub fn scope(&self) -> Option<Scope> {
        if self.national {
            Some(Scope::National)
        } else if self.global {
            Some(Scope::Global)
        } else if self.location.is_some() {
            Some(Scope::Local)
        } else {
            None
        }
    }

    pub fn is_empty(&self) -> bool {
        self.title.is_none()
            && self.target.is_none()
            && self.ask.is_none()
            && self.why.is_none()
            && self.scope().is_none()
            && self.postcode.is_none()
            && self.country.is_none()
            && self.goal.is_none()
            && self.url.is_none()
            && self.lang.is_none()
            && self.retain.is_none()
    }
}

/// `--template` for `new`.
#[derive(Debug, Clone, Default, Args)]
pub struct TemplateArg {
    /// Prefill target, ask and why for a kind of #HereToStay campaign
    #[arg(long, value_enum)]
    pub template: Option<TemplateKind>,
}

/// The kinds of campaign `--template` offers (clap's face of `domain::templates::Template`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum TemplateKind {
    /// A sanctuary city: the council refuses to help deportations.
    City,
    /// A sanctuary school, college or university campus.
    Campus,
    /// Undocu-friendly classrooms and educators.
    Classroom,
}

impl From<TemplateKind> for Template {
    fn from(kind: TemplateKind) -> Template {
        match kind {
            TemplateKind::City => Template::City,
            TemplateKind::Campus => Template::Campus,
            TemplateKind::Classroom => Template::Classroom,
        }
    }
}
