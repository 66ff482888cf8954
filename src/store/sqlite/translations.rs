//! The petition's text in other languages (`campaign_texts`, migration 5). Each change
//! is recorded in the campaign's edit history as `title (es)`, `ask (es)`, ...

use rusqlite::params;

use super::SqliteStore;
use crate::error::Result;
use crate::model::{Lang, Translation};

impl SqliteStore {
    /// Sets the fields of `texts` that are `Some` for `lang` (the others stay as they
    /// were), recording each change in the edit history. Returns how many changed.
    pub fn set_translation(
        &mut self,
        campaign_id: i64,
        lang: Lang,
        texts: &Translation,
        edited_by: Option<&str>,
    ) -> Result<usize> {
        let ts = self.now();
        let before = self
            .translations(campaign_id)?
            .into_iter()
            .find(|t| t.lang == Some(lang))
            .unwrap_or_default();
        let tx = self.conn_mut().transaction()?;
        tx.execute(
            "INSERT OR IGNORE INTO campaign_texts (campaign_id, lang, updated_at) VALUES (?1, ?2, ?3)",
            params![campaign_id, lang.as_str(), ts],
        )?;
        let mut changed = 0;
        for (field, new, old) in [
            ("title", &texts.title, &before.title),
            ("target", &texts.target, &before.target),
            ("ask", &texts.ask, &before.ask),
            ("why", &texts.why, &before.why),
        ] {
            let Some(new) = new else { continue };
            if old.as_ref() == Some(new) {
                continue;
            }
            // `field` is one of the four above, never from input.
            tx.execute(
                &format!(
                    "UPDATE campaign_texts SET {field} = ?3, updated_at = ?4 WHERE campaign_id = ?1 AND lang = ?2"
                ),
                params![campaign_id, lang.as_str(), new, ts],
            )?;
            tx.execute(
                "INSERT INTO campaign_edits (campaign_id, field, old_value, new_value, edited_by, edited_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![campaign_id, format!("{field} ({lang})"), old, new, edited_by, ts],
            )?;
            changed += 1;
        }
        tx.commit()?;
        Ok(changed)
    }

    /// Every translation of the campaign, by language.
    pub fn translations(&self, campaign_id: i64) -> Result<Vec<Translation>> {
        let mut stmt = self.conn().prepare_cached(
            "SELECT lang, title, target, ask, why FROM campaign_texts WHERE campaign_id = ?1 ORDER BY lang",
        )?;
        let rows = stmt.query_map([campaign_id], |r| {
            let lang: String = r.get(0)?;
            Ok(Translation {
                // A language this binary does not know (written by a newer one) is skipped.
                lang: lang.parse().ok(),
                title: r.get(1)?,
                target: r.get(2)?,
                ask: r.get(3)?,
                why: r.get(4)?,
            })
        })?;
        let all: Vec<Translation> = rows.collect::<rusqlite::Result<_>>()?;
        Ok(all.into_iter().filter(|t| t.lang.is_some()).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{CampaignDraft, CampaignTexts, Scope};
    use crate::store::Store;

    #[test]
    fn a_translation_is_kept_per_field_and_falls_back_to_the_campaigns_own() {
        let mut store = SqliteStore::open_in_memory().unwrap();
        let draft = CampaignDraft {
            title: "Make Oakland a sanctuary".into(),
            target: "Mayor Lee".into(),
            ask: "Declare it".into(),
            why: "Our neighbors".into(),
            scope: Some(Scope::Global),
            ..Default::default()
        };
        let c = store.insert_campaign(&draft, "t", None).unwrap();
        assert_eq!(
            store.campaign_texts(&c, Lang::Es).unwrap(),
            CampaignTexts::of(&c)
        );
        let es = Translation {
            title: Some("Oakland santuario".into()),
            ask: Some("Declárenlo".into()),
            ..Default::default()
        };
        assert_eq!(
            store
                .set_translation(c.id, Lang::Es, &es, Some("a@x.org"))
                .unwrap(),
            2
        );
        // Again: nothing changes.
        assert_eq!(store.set_translation(c.id, Lang::Es, &es, None).unwrap(), 0);
        let texts = store.campaign_texts(&c, Lang::Es).unwrap();
        assert_eq!(texts.title, "Oakland santuario");
        assert_eq!(texts.ask, "Declárenlo");
        assert_eq!(
            texts.target, "Mayor Lee",
            "not translated: the campaign's own"
        );
        assert_eq!(
            store.campaign_texts(&c, Lang::En).unwrap(),
            CampaignTexts::of(&c)
        );
        let all = store.translations(c.id).unwrap();
        assert_eq!(all.len(), 1);
        assert_eq!(all[0].missing(), ["target", "why"]);
        let history = store.campaign_edits(c.id).unwrap();
        assert_eq!(history[0].field, "title (es)");
    }
}
