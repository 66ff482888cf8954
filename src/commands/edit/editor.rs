//! `edit` with no flags on a terminal: the whole campaign as text in $EDITOR.

use super::update_from_flags;
use crate::commands::fields::CampaignFields;
use crate::error::Error;
use crate::model::{Campaign, Lang, Scope};
use crate::store::CampaignUpdate;
use crate::ui::{self, prompt};

const EDITOR_HELP: &str =
    "# Edit the campaign below, save and quit. Lines starting with # are ignored.\n\
# Each field follows its '## name' line. 'where' is a place, or 'national' or 'global'.\n\
# Leave an optional field (postcode, country, goal, url) empty to clear it.\n";

/// Renders the campaign as readable sections for $EDITOR.
pub fn to_editor_text(c: &Campaign) -> String {
    let place = match c.scope {
        Scope::Local => c.location.clone().unwrap_or_default(),
        other => other.to_string(),
    };
    let opt = |v: &Option<String>| v.clone().unwrap_or_default();
    format!(
        "{EDITOR_HELP}\n## title\n{}\n\n## target\n{}\n\n## ask\n{}\n\n## why\n{}\n\n## where\n{place}\n\n## postcode\n{}\n\n## country\n{}\n\n## goal\n{}\n\n## url\n{}\n\n## lang\n{}\n",
        c.title,
        c.target,
        c.ask,
        c.why,
        opt(&c.postcode),
        opt(&c.country),
        c.goal.map(|g| g.to_string()).unwrap_or_default(),
        opt(&c.url),
        c.lang,
    )
}

/// Parses the editor text back into an update. Unknown sections are an error naming them.
pub fn from_editor_text(text: &str) -> Result<CampaignUpdate, Error> {
    let mut sections: Vec<(String, String)> = Vec::new();
    for line in text.lines() {
        if let Some(name) = line.strip_prefix("## ") {
            sections.push((name.trim().to_ascii_lowercase(), String::new()));
        } else if line.starts_with('#') {
            continue;
        } else if let Some((_, body)) = sections.last_mut() {
            body.push_str(line);
            body.push('\n');
        }
    }
    let mut fields = CampaignFields::default();
    for (name, body) in sections {
        let value = Some(body.trim().to_string());
        match name.as_str() {
            "title" => fields.title = value,
            "target" => fields.target = value,
            "ask" => fields.ask = value,
            "why" => fields.why = value,
            "where" => match body.trim().to_ascii_lowercase().as_str() {
                "national" => fields.national = true,
                "global" => fields.global = true,
                _ => fields.location = value,
            },
            "postcode" => fields.postcode = value,
            "country" => fields.country = value,
            "goal" => {
                fields.goal = match body.trim() {
                    "" => None,
                    g => Some(
                        g.parse()
                            .map_err(|_| Error::Invalid(format!("goal {g:?} is not a number")))?,
                    ),
                }
            }
            "url" => fields.url = value,
            "lang" => {
                fields.lang =
                    Some(body.trim().parse::<Lang>().map_err(|_| {
                        Error::Invalid(format!("lang {:?}: use en or es", body.trim()))
                    })?)
            }
            other => {
                return Err(Error::Invalid(format!(
                    "unknown section '## {other}' in the edited text"
                )))
            }
        }
    }
    let mut update = update_from_flags(&fields).map_err(|e| Error::Invalid(e.to_string()))?;
    if fields.goal.is_none() {
        update.goal = Some(None);
    }
    Ok(update)
}

pub(super) fn edit_in_editor(campaign: &Campaign) -> anyhow::Result<Option<CampaignUpdate>> {
    let mut text = to_editor_text(campaign);
    loop {
        let Some(edited) = prompt::edit(&text, ".md")? else {
            return Ok(None);
        };
        match from_editor_text(&edited) {
            Ok(update) => return Ok(Some(update)),
            Err(e) => {
                ui::warn(e.to_string());
                if !prompt::confirm("Edit again?", true)? {
                    return Ok(None);
                }
                text = edited;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::campaign::changes;
    use crate::model::{CampaignDraft, Status};

    #[test]
    fn editor_text_round_trips() {
        let mut store = crate::store::SqliteStore::open_in_memory().unwrap();
        let draft = CampaignDraft {
            title: "Ciudad santuario".into(),
            target: "Alcaldía".into(),
            ask: "Declarar".into(),
            why: "Primera línea\n\nSegunda".into(),
            scope: Some(Scope::Local),
            location: Some("Oakland, CA".into()),
            goal: Some(500),
            ..Default::default()
        };
        let c = store.insert_campaign(&draft, "ciudad", None).unwrap();
        assert_eq!(c.status, Status::Draft);
        let update = from_editor_text(&to_editor_text(&c)).unwrap();
        assert!(
            changes(&update, &c).is_empty(),
            "{:?}",
            changes(&update, &c)
        );
        let edited = to_editor_text(&c).replace("## where\nOakland, CA", "## where\nglobal");
        let update = from_editor_text(&edited).unwrap();
        let fields: Vec<_> = changes(&update, &c).into_iter().map(|c| c.field).collect();
        assert_eq!(fields, ["scope", "location"]);
    }
}
