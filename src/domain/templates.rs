//! Starting points for the three kinds of #HereToStay campaign. Every field can still
//! be overridden by its flag or edited at the prompt. The words are in the catalog
//! (`template.KIND.target`, `.ask`, `.why` in `i18n/*.toml`).

use crate::i18n;
use crate::model::Lang;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Template {
    /// A sanctuary city: the council refuses to help deportations.
    City,
    /// A sanctuary school, college or university campus.
    Campus,
    /// Undocu-friendly classrooms and educators.
    Classroom,
}

impl Template {
    pub const ALL: [Template; 3] = [Template::City, Template::Campus, Template::Classroom];

    /// The name in the catalog's keys and on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Template::City => "city",
            Template::Campus => "campus",
            Template::Classroom => "classroom",
        }
    }
}

/// Prefilled target, ask and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateText {
    pub target: &'static str,
    pub ask: &'static str,
    pub why: &'static str,
}

pub fn template(kind: Template, lang: Lang) -> TemplateText {
    let field = |name: &str| i18n::text(lang, &format!("template.{}.{name}", kind.as_str()));
    TemplateText {
        target: field("target"),
        ask: field("ask"),
        why: field("why"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_template_exists_in_both_languages() {
        for kind in Template::ALL {
            for lang in [Lang::En, Lang::Es] {
                let t = template(kind, lang);
                assert!(!t.target.is_empty() && t.ask.len() > 40 && t.why.len() > 40);
                assert!(!t.ask.contains("  "), "double spaces");
            }
        }
        assert_eq!(
            template(Template::City, Lang::En).target,
            "The Mayor and City Council"
        );
        assert_eq!(
            template(Template::Campus, Lang::Es).target,
            "La rectoría y la Junta Directiva"
        );
    }
}
