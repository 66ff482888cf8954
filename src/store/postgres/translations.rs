//! The petition's text in other languages (`campaign_texts`, migration 3), each change
//! recorded in the campaign's edit history as `title (es)`, ... (the twin of
//! `sqlite/translations.rs`).

use super::PgStore;
use crate::error::Result;
use crate::model::{Lang, Translation};

impl PgStore {
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
        let mut client = self.client();
        let mut tx = client.transaction()?;
        tx.execute(
            "INSERT INTO campaign_texts (campaign_id, lang, updated_at) VALUES ($1, $2, $3) \
             ON CONFLICT (campaign_id, lang) DO NOTHING",
            &[&campaign_id, &lang.as_str(), &ts],
        )?;
        // Read under a row lock: two organizers translating at once record each change
        // against what the other saved.
        let row = tx.query_one(
            "SELECT title, target, ask, why FROM campaign_texts \
             WHERE campaign_id = $1 AND lang = $2 FOR UPDATE",
            &[&campaign_id, &lang.as_str()],
        )?;
        let before: [Option<String>; 4] = [
            row.try_get(0)?,
            row.try_get(1)?,
            row.try_get(2)?,
            row.try_get(3)?,
        ];
        let mut changed = 0;
        for ((field, new), old) in [
            ("title", &texts.title),
            ("target", &texts.target),
            ("ask", &texts.ask),
            ("why", &texts.why),
        ]
        .into_iter()
        .zip(&before)
        {
            let Some(new) = new else { continue };
            if old.as_ref() == Some(new) {
                continue;
            }
            // `field` is one of the four above, never from input.
            tx.execute(
                &format!(
                    "UPDATE campaign_texts SET {field} = $3, updated_at = $4 \
                     WHERE campaign_id = $1 AND lang = $2"
                ),
                &[&campaign_id, &lang.as_str(), new, &ts],
            )?;
            tx.execute(
                "INSERT INTO campaign_edits (campaign_id, field, old_value, new_value, edited_by, edited_at) \
                 VALUES ($1, $2, $3, $4, $5, $6)",
                &[
                    &campaign_id,
                    &format!("{field} ({lang})"),
                    old,
                    new,
                    &edited_by,
                    &ts,
                ],
            )?;
            changed += 1;
        }
        tx.commit()?;
        Ok(changed)
    }

    /// Every translation of the campaign, by language.
    pub fn translations(&self, campaign_id: i64) -> Result<Vec<Translation>> {
        let rows = self.client().query(
            "SELECT lang, title, target, ask, why FROM campaign_texts WHERE campaign_id = $1 \
             ORDER BY lang",
            &[&campaign_id],
        )?;
        let mut all = Vec::with_capacity(rows.len());
        for r in &rows {
            let lang: &str = r.try_get(0)?;
            // A language this binary does not know (written by a newer one) is skipped.
            let Ok(lang) = lang.parse() else { continue };
            all.push(Translation {
                lang: Some(lang),
                title: r.try_get(1)?,
                target: r.try_get(2)?,
                ask: r.try_get(3)?,
                why: r.try_get(4)?,
            });
        }
        Ok(all)
    }
}
