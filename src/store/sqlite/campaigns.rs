//! Campaign queries.

use rusqlite::{params, OptionalExtension, Row};

use super::SqliteStore;
use crate::error::{Error, Result};
use crate::model::{
    Campaign, CampaignDraft, CampaignEdit, CampaignSummary, FieldChange, Lang, Scope,
    SignatureCounts, Status,
};

/// The columns `update_campaign` may change.
const EDITABLE: [&str; 12] = [
    "title", "target", "ask", "why", "scope", "location", "postcode", "country", "goal", "url",
    "lang", "retain",
];

pub(super) const CAMPAIGN_COLUMNS: &str =
    "id, slug, title, target, ask, why, scope, location, postcode, country, goal, url, \
     lang, status, picture_mime, owner_email, created_at, updated_at, retain, purged_at";
/// The same before the privacy migration added `retain` and `purged_at`.
const CAMPAIGN_COLUMNS_BEFORE_PRIVACY: &str =
    "id, slug, title, target, ask, why, scope, location, postcode, country, goal, url, \
     lang, status, picture_mime, owner_email, created_at, updated_at, NULL, NULL";

/// The campaign columns a schema of `version` has.
pub(super) fn columns(version: i64) -> &'static str {
    if version >= super::migrations::privacy_version() {
        CAMPAIGN_COLUMNS
    } else {
        CAMPAIGN_COLUMNS_BEFORE_PRIVACY
    }
}

pub(super) fn campaign_from_row(row: &Row<'_>) -> rusqlite::Result<Campaign> {
    let parse_err = |i: usize, e: String| {
        rusqlite::Error::FromSqlConversionFailure(i, rusqlite::types::Type::Text, e.into())
    };
    let scope: String = row.get(6)?;
    let lang: String = row.get(12)?;
    let status: String = row.get(13)?;
    Ok(Campaign {
        id: row.get(0)?,
        slug: row.get(1)?,
        title: row.get(2)?,
        target: row.get(3)?,
        ask: row.get(4)?,
        why: row.get(5)?,
        scope: scope.parse().map_err(|e| parse_err(6, e))?,
        location: row.get(7)?,
        postcode: row.get(8)?,
        country: row.get(9)?,
        goal: row.get(10)?,
        url: row.get(11)?,
        lang: lang.parse().map_err(|e| parse_err(12, e))?,
        status: status.parse().map_err(|e| parse_err(13, e))?,
        picture_mime: row.get(14)?,
        owner_email: row.get(15)?,
        created_at: row.get(16)?,
        updated_at: row.get(17)?,
        retain: row.get(18)?,
        purged_at: row.get(19)?,
    })
}

impl SqliteStore {
    /// Saves a new draft campaign under a unique slug derived from `slug_base`.
    pub fn insert_campaign(
        &mut self,
        draft: &CampaignDraft,
        slug_base: &str,
        owner_email: Option<&str>,
    ) -> Result<Campaign> {
        let ts = self.now();
        let tx = self.conn_mut().transaction()?;
        let slug = {
            let mut candidate = slug_base.to_string();
            let mut n = 2;
            while tx
                .query_row(
                    "SELECT 1 FROM campaigns WHERE slug = ?1",
                    [&candidate],
                    |_| Ok(()),
                )
                .optional()?
                .is_some()
            {
                candidate = format!("{slug_base}-{n}");
                n += 1;
            }
            candidate
        };
        tx.execute(
            "INSERT INTO campaigns (slug, title, target, ask, why, scope, location, postcode, country, goal, url, lang, \
             status, owner_email, created_at, updated_at, uid) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, 'draft', ?13, ?14, ?14, ?15)",
            params![
                slug,
                draft.title,
                draft.target,
                draft.ask,
                draft.why,
                draft.scope.unwrap_or(Scope::Local).as_str(),
                draft.location,
                draft.postcode,
                draft.country,
                draft.goal,
                draft.url,
                draft.lang.unwrap_or(Lang::En).as_str(),
                owner_email,
                ts,
                crate::uid::fresh().as_bytes(),
            ],
        )?;
        let id = tx.last_insert_rowid();
        tx.commit()?;
        self.campaign_by_id(id)
    }

    pub fn campaign_by_id(&self, id: i64) -> Result<Campaign> {
        self.conn()
            .query_row(
                &format!(
                    "SELECT {} FROM campaigns WHERE id = ?1",
                    self.campaign_columns
                ),
                [id],
                campaign_from_row,
            )
            .optional()?
            .ok_or_else(|| Error::CampaignNotFound(id.to_string()))
    }

    /// Finds a campaign by slug or numeric id.
    pub fn find_campaign(&self, reference: &str) -> Result<Campaign> {
        let reference = reference.trim();
        let by_slug = self
            .conn()
            .query_row(
                &format!(
                    "SELECT {} FROM campaigns WHERE slug = ?1",
                    self.campaign_columns
                ),
                [reference],
                campaign_from_row,
            )
            .optional()?;
        if let Some(c) = by_slug {
            return Ok(c);
        }
        match reference.parse::<i64>() {
            Ok(id) => self
                .campaign_by_id(id)
                .map_err(|_| Error::CampaignNotFound(reference.into())),
            Err(_) => Err(Error::CampaignNotFound(reference.into())),
        }
    }

    /// All campaigns (optionally of one status) with their counts, oldest first.
    pub fn list_campaigns(&self, status: Option<Status>) -> Result<Vec<CampaignSummary>> {
        let mut stmt = self.conn().prepare(&format!(
            "SELECT {} FROM campaigns WHERE ?1 IS NULL OR status = ?1 ORDER BY id",
            self.campaign_columns
        ))?;
        let campaigns = stmt
            .query_map([status.map(Status::as_str)], campaign_from_row)?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        let mut out = Vec::with_capacity(campaigns.len());
        for campaign in campaigns {
            let signatures = self.signature_counts(campaign.id)?;
            let last: Option<String> = self
                .conn()
                .prepare_cached("SELECT MAX(delivered_at) FROM deliveries WHERE campaign_id = ?1")?
                .query_row([campaign.id], |r| r.get(0))?;
            out.push(crate::domain::privacy::summary(campaign, signatures, last));
        }
        Ok(out)
    }

    /// One row of `signature_counts` (migration 4, kept exact by its triggers and the
    /// import): as cheap for a million signers as for none.
    pub fn signature_counts(&self, campaign_id: i64) -> Result<SignatureCounts> {
        Ok(self
            .conn()
            .prepare_cached(
                "SELECT total, paper, online, private FROM signature_counts WHERE campaign_id = ?1",
            )?
            .query_row([campaign_id], |r| {
                Ok(SignatureCounts {
                    total: r.get(0)?,
                    paper: r.get(1)?,
                    online: r.get(2)?,
                    private: r.get(3)?,
                })
            })
            .optional()?
            .unwrap_or_default())
    }

    /// Applies `update`, recording every changed field in the edit history, in one
    /// transaction. Returns the number of fields changed.
    pub fn update_campaign(
        &mut self,
        campaign_id: i64,
        changes: &[FieldChange],
        edited_by: Option<&str>,
    ) -> Result<usize> {
        if changes.is_empty() {
            return Ok(0);
        }
        // Column names are written into the SQL: only the campaign's own text fields.
        if let Some(bad) = changes.iter().find(|c| !EDITABLE.contains(&c.field)) {
            return Err(Error::Invalid(format!(
                "{:?} is not a campaign field that can be edited",
                bad.field
            )));
        }
        let ts = self.now();
        let tx = self.conn_mut().transaction()?;
        for FieldChange { field, old, new } in changes {
            // `field` is one of EDITABLE (checked above), never from input.
            tx.execute(
                &format!("UPDATE campaigns SET {field} = ?1, updated_at = ?2 WHERE id = ?3"),
                params![new, ts, campaign_id],
            )?;
            tx.execute(
                "INSERT INTO campaign_edits (campaign_id, field, old_value, new_value, edited_by, edited_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![campaign_id, field, old, new, edited_by, ts],
            )?;
        }
        tx.commit()?;
        Ok(changes.len())
    }

    pub fn campaign_edits(&self, campaign_id: i64) -> Result<Vec<CampaignEdit>> {
        let mut stmt = self.conn().prepare(
            "SELECT field, old_value, new_value, edited_by, edited_at FROM campaign_edits WHERE campaign_id = ?1 ORDER BY id",
        )?;
        let rows = stmt.query_map([campaign_id], |r| {
            Ok(CampaignEdit {
                field: r.get(0)?,
                old_value: r.get(1)?,
                new_value: r.get(2)?,
                edited_by: r.get(3)?,
                edited_at: r.get(4)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Moves a campaign to `status`, recording the change in its history.
    pub fn set_status(
        &mut self,
        campaign: &Campaign,
        status: Status,
        edited_by: Option<&str>,
    ) -> Result<()> {
        if campaign.status == status {
            return Ok(());
        }
        let ts = self.now();
        let tx = self.conn_mut().transaction()?;
        tx.execute(
            "UPDATE campaigns SET status = ?1, updated_at = ?2 WHERE id = ?3",
            params![status.as_str(), ts, campaign.id],
        )?;
        tx.execute(
            "INSERT INTO campaign_edits (campaign_id, field, old_value, new_value, edited_by, edited_at) \
             VALUES (?1, 'status', ?2, ?3, ?4, ?5)",
            params![campaign.id, campaign.status.as_str(), status.as_str(), edited_by, ts],
        )?;
        tx.commit()?;
        Ok(())
    }

    pub fn set_picture(&mut self, campaign_id: i64, bytes: &[u8], mime: &str) -> Result<()> {
        self.conn().execute(
            "UPDATE campaigns SET picture = ?1, picture_mime = ?2, updated_at = ?3 WHERE id = ?4",
            params![bytes, mime, self.now(), campaign_id],
        )?;
        Ok(())
    }

    /// The stored picture's bytes and MIME type.
    pub fn picture(&self, campaign_id: i64) -> Result<Option<(Vec<u8>, String)>> {
        Ok(self
            .conn()
            .query_row(
                "SELECT picture, picture_mime FROM campaigns WHERE id = ?1 AND picture IS NOT NULL",
                [campaign_id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::campaign::changes;
    use crate::model::CampaignUpdate;

    fn draft(title: &str) -> CampaignDraft {
        CampaignDraft {
            title: title.into(),
            target: "Mayor".into(),
            ask: "Declare".into(),
            why: "Because".into(),
            scope: Some(Scope::Local),
            location: Some("Oakland, CA".into()),
            ..Default::default()
        }
    }

    #[test]
    fn slugs_are_unique_and_lookup_works_by_slug_or_id() {
        let mut store = SqliteStore::open_in_memory().unwrap();
        let a = store
            .insert_campaign(&draft("A"), "oakland", Some("ana@example.org"))
            .unwrap();
        let b = store.insert_campaign(&draft("B"), "oakland", None).unwrap();
        assert_eq!(a.slug, "oakland");
        assert_eq!(b.slug, "oakland-2");
        assert_eq!(store.find_campaign("oakland-2").unwrap().id, b.id);
        assert_eq!(
            store.find_campaign(&a.id.to_string()).unwrap().slug,
            "oakland"
        );
        assert!(matches!(
            store.find_campaign("nope"),
            Err(Error::CampaignNotFound(_))
        ));
        assert_eq!(a.status, Status::Draft);
    }

    #[test]
    fn updates_keep_history_and_unicode() {
        let mut store = SqliteStore::open_in_memory().unwrap();
        let c = store.insert_campaign(&draft("Old"), "old", None).unwrap();
        let update = CampaignUpdate {
            title: Some("Nguyễn Thị Minh Khai".into()),
            ..Default::default()
        };
        assert_eq!(
            store
                .update_campaign(c.id, &changes(&update, &c), Some("ana@example.org"))
                .unwrap(),
            1
        );
        let c2 = store.campaign_by_id(c.id).unwrap();
        assert_eq!(c2.title, "Nguyễn Thị Minh Khai");
        let edits = store.campaign_edits(c.id).unwrap();
        assert_eq!(edits.len(), 1);
        assert_eq!(edits[0].old_value.as_deref(), Some("Old"));
        // Unchanged values are not recorded.
        assert_eq!(
            store
                .update_campaign(c2.id, &changes(&update, &c2), None)
                .unwrap(),
            0
        );
        store.set_status(&c2, Status::Live, None).unwrap();
        assert_eq!(store.campaign_by_id(c.id).unwrap().status, Status::Live);
        let listed = store.list_campaigns(Some(Status::Live)).unwrap();
        assert_eq!(listed.len(), 1);
        assert_eq!(listed[0].signatures.total, 0);
        assert!(store
            .list_campaigns(Some(Status::Draft))
            .unwrap()
            .is_empty());
    }
}
