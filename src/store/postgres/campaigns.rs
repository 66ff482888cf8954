//! Campaign queries (the twin of `sqlite/campaigns.rs`).

use postgres::Row;

use super::PgStore;
use crate::error::{Error, Result};
use crate::model::{
    Campaign, CampaignDraft, CampaignEdit, CampaignSummary, FieldChange, Lang, Scope,
    SignatureCounts, Status,
};

/// The columns `update_campaign` may change, with how a text value is written to each.
const EDITABLE: [(&str, &str); 12] = [
    ("title", "$1"),
    ("target", "$1"),
    ("ask", "$1"),
    ("why", "$1"),
    ("scope", "$1"),
    ("location", "$1"),
    ("postcode", "$1"),
    ("country", "$1"),
    ("goal", "$1::text::bigint"),
    ("url", "$1"),
    ("lang", "$1"),
    ("retain", "$1"),
];

pub(super) const CAMPAIGN_COLUMNS: &str =
    "c.id, c.slug, c.title, c.target, c.ask, c.why, c.scope, c.location, c.postcode, c.country, \
     c.goal, c.url, c.lang, c.status, c.picture_mime, c.owner_email, c.created_at, c.updated_at, c.retain, c.purged_at";

pub(super) fn campaign_from_row(row: &Row) -> Result<Campaign> {
    let parse = |i: usize, e: String| Error::Invalid(format!("campaign column {i}: {e}"));
    Ok(Campaign {
        id: row.try_get(0)?,
        slug: row.try_get(1)?,
        title: row.try_get(2)?,
        target: row.try_get(3)?,
        ask: row.try_get(4)?,
        why: row.try_get(5)?,
        scope: row
            .try_get::<_, &str>(6)?
            .parse()
            .map_err(|e| parse(6, e))?,
        location: row.try_get(7)?,
        postcode: row.try_get(8)?,
        country: row.try_get(9)?,
        goal: row.try_get(10)?,
        url: row.try_get(11)?,
        lang: row
            .try_get::<_, &str>(12)?
            .parse()
            .map_err(|e| parse(12, e))?,
        status: row
            .try_get::<_, &str>(13)?
            .parse()
            .map_err(|e| parse(13, e))?,
        picture_mime: row.try_get(14)?,
        owner_email: row.try_get(15)?,
        created_at: row.try_get(16)?,
        updated_at: row.try_get(17)?,
        retain: row.try_get(18)?,
        purged_at: row.try_get(19)?,
    })
}

/// Counts read from `signature_counts` at `first` (total, paper, online, private).
pub(super) fn counts_from_row(row: &Row, first: usize) -> Result<SignatureCounts> {
    Ok(SignatureCounts {
        total: row.try_get(first)?,
        paper: row.try_get(first + 1)?,
        online: row.try_get(first + 2)?,
        private: row.try_get(first + 3)?,
    })
}

impl PgStore {
    /// Saves a new draft under a unique slug made from `slug_base`: the unique index
    /// decides, so two organizers creating the same title at once get `x` and `x-2`.
    pub fn insert_campaign(
        &mut self,
        draft: &CampaignDraft,
        slug_base: &str,
        owner_email: Option<&str>,
    ) -> Result<Campaign> {
        let ts = self.now();
        let scope = draft.scope.unwrap_or(Scope::Local).as_str();
        let lang = draft.lang.unwrap_or(Lang::En).as_str();
        let mut n = 1;
        let id: i64 = loop {
            let slug = if n == 1 {
                slug_base.to_string()
            } else {
                format!("{slug_base}-{n}")
            };
            let row = self.client().query_opt(
                "INSERT INTO campaigns (slug, title, target, ask, why, scope, location, postcode, \
                 country, goal, url, lang, status, owner_email, created_at, updated_at, uid) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, 'draft', $13, $14, $14, $15) \
                 ON CONFLICT (slug) DO NOTHING RETURNING id",
                &[
                    &slug,
                    &draft.title,
                    &draft.target,
                    &draft.ask,
                    &draft.why,
                    &scope,
                    &draft.location,
                    &draft.postcode,
                    &draft.country,
                    &draft.goal,
                    &draft.url,
                    &lang,
                    &owner_email,
                    &ts,
                    &crate::uid::fresh(),
                ],
            )?;
            if let Some(row) = row {
                break row.try_get(0)?;
            }
            n += 1;
        };
        self.campaign_by_id(id)
    }

    pub fn campaign_by_id(&self, id: i64) -> Result<Campaign> {
        let row = self.client().query_opt(
            &format!("SELECT {CAMPAIGN_COLUMNS} FROM campaigns c WHERE c.id = $1"),
            &[&id],
        )?;
        match row {
            Some(row) => campaign_from_row(&row),
            None => Err(Error::CampaignNotFound(id.to_string())),
        }
    }

    /// By slug, or by id.
    pub fn find_campaign(&self, reference: &str) -> Result<Campaign> {
        let reference = reference.trim();
        let row = self.client().query_opt(
            &format!("SELECT {CAMPAIGN_COLUMNS} FROM campaigns c WHERE c.slug = $1"),
            &[&reference],
        )?;
        if let Some(row) = row {
            return campaign_from_row(&row);
        }
        match reference.parse::<i64>() {
            Ok(id) => self
                .campaign_by_id(id)
                .map_err(|_| Error::CampaignNotFound(reference.into())),
            Err(_) => Err(Error::CampaignNotFound(reference.into())),
        }
    }

    /// Every campaign (optionally of one status) with its counts, oldest first: one
    /// query, the counts read from their row, not counted.
    pub fn list_campaigns(&self, status: Option<Status>) -> Result<Vec<CampaignSummary>> {
        let status = status.map(Status::as_str);
        let rows = self.client().query(
            &format!(
                "SELECT {CAMPAIGN_COLUMNS}, COALESCE(n.total, 0), COALESCE(n.paper, 0), \
                        COALESCE(n.online, 0), COALESCE(n.private, 0), \
                        (SELECT max(d.delivered_at) FROM deliveries d WHERE d.campaign_id = c.id) \
                 FROM campaigns c LEFT JOIN signature_counts n ON n.campaign_id = c.id \
                 WHERE $1::text IS NULL OR c.status = $1 ORDER BY c.id"
            ),
            &[&status],
        )?;
        rows.iter()
            .map(|row| {
                Ok(crate::domain::privacy::summary(
                    campaign_from_row(row)?,
                    counts_from_row(row, 20)?,
                    row.try_get(24)?,
                ))
            })
            .collect()
    }

    pub fn signature_counts(&self, campaign_id: i64) -> Result<SignatureCounts> {
        let row = self.client().query_opt(
            "SELECT total, paper, online, private FROM signature_counts WHERE campaign_id = $1",
            &[&campaign_id],
        )?;
        match row {
            Some(row) => counts_from_row(&row, 0),
            None => Ok(SignatureCounts::default()),
        }
    }

    /// Applies `changes` and records each in the edit history, in one transaction.
    pub fn update_campaign(
        &mut self,
        campaign_id: i64,
        changes: &[FieldChange],
        edited_by: Option<&str>,
    ) -> Result<usize> {
        if changes.is_empty() {
            return Ok(0);
        }
        let mut sets = Vec::with_capacity(changes.len());
        for change in changes {
            // Column names are written into the SQL: only the campaign's own fields.
            let Some((_, value)) = EDITABLE.iter().find(|(f, _)| *f == change.field) else {
                return Err(Error::Invalid(format!(
                    "{:?} is not a campaign field that can be edited",
                    change.field
                )));
            };
            sets.push((change, *value));
        }
        let ts = self.now();
        let mut client = self.client();
        let mut tx = client.transaction()?;
        for (FieldChange { field, old, new }, value) in sets {
            tx.execute(
                &format!("UPDATE campaigns SET {field} = {value}, updated_at = $2 WHERE id = $3"),
                &[new, &ts, &campaign_id],
            )?;
            tx.execute(
                "INSERT INTO campaign_edits (campaign_id, field, old_value, new_value, edited_by, edited_at) \
                 VALUES ($1, $2, $3, $4, $5, $6)",
                &[&campaign_id, field, old, new, &edited_by, &ts],
            )?;
        }
        tx.commit()?;
        Ok(changes.len())
    }

    pub fn campaign_edits(&self, campaign_id: i64) -> Result<Vec<CampaignEdit>> {
        let rows = self.client().query(
            "SELECT field, old_value, new_value, edited_by, edited_at FROM campaign_edits \
             WHERE campaign_id = $1 ORDER BY id",
            &[&campaign_id],
        )?;
        rows.iter()
            .map(|r| {
                Ok(CampaignEdit {
                    field: r.try_get(0)?,
                    old_value: r.try_get(1)?,
                    new_value: r.try_get(2)?,
                    edited_by: r.try_get(3)?,
                    edited_at: r.try_get(4)?,
                })
            })
            .collect()
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
        let mut client = self.client();
        let mut tx = client.transaction()?;
        tx.execute(
            "UPDATE campaigns SET status = $1, updated_at = $2 WHERE id = $3",
            &[&status.as_str(), &ts, &campaign.id],
        )?;
        tx.execute(
            "INSERT INTO campaign_edits (campaign_id, field, old_value, new_value, edited_by, edited_at) \
             VALUES ($1, 'status', $2, $3, $4, $5)",
            &[
                &campaign.id,
                &campaign.status.as_str(),
                &status.as_str(),
                &edited_by,
                &ts,
            ],
        )?;
        tx.commit()?;
        Ok(())
    }

    pub fn set_picture(&mut self, campaign_id: i64, bytes: &[u8], mime: &str) -> Result<()> {
        let ts = self.now();
        self.client().execute(
            "UPDATE campaigns SET picture = $1, picture_mime = $2, updated_at = $3 WHERE id = $4",
            &[&bytes, &mime, &ts, &campaign_id],
        )?;
        Ok(())
    }

    /// The stored picture's bytes and MIME type.
    pub fn picture(&self, campaign_id: i64) -> Result<Option<(Vec<u8>, String)>> {
        let row = self.client().query_opt(
            "SELECT picture, picture_mime FROM campaigns WHERE id = $1 AND picture IS NOT NULL",
            &[&campaign_id],
        )?;
        row.map(|r| Ok((r.try_get(0)?, r.try_get(1)?))).transpose()
    }
}
