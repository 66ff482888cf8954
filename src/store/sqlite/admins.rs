//! Campaign admins (co-organizers): invited, then active once they use the campaign.

use rusqlite::{params, OptionalExtension, Row};

use super::SqliteStore;
use crate::error::Result;
use crate::model::{Admin, AdminStatus};

const ADMIN_COLUMNS: &str = "email, status, invited_by, invited_at, activated_at";

fn admin_from_row(row: &Row<'_>) -> rusqlite::Result<Admin> {
    let status: String = row.get(1)?;
    Ok(Admin {
        email: row.get(0)?,
        status: status.parse().unwrap_or(AdminStatus::Invited),
        invited_by: row.get(2)?,
        invited_at: row.get(3)?,
        activated_at: row.get(4)?,
    })
}

impl SqliteStore {
    /// A campaign's admins, in the order they were invited.
    pub fn admins(&self, campaign_id: i64) -> Result<Vec<Admin>> {
        let mut stmt = self.conn().prepare(&format!(
            "SELECT {ADMIN_COLUMNS} FROM admins WHERE campaign_id = ?1 ORDER BY invited_at, email"
        ))?;
        let rows = stmt.query_map([campaign_id], admin_from_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// The admin with this email (any case), if any.
    pub fn admin(&self, campaign_id: i64, email: &str) -> Result<Option<Admin>> {
        Ok(self
            .conn()
            .query_row(
                &format!(
                    "SELECT {ADMIN_COLUMNS} FROM admins WHERE campaign_id = ?1 AND email = ?2"
                ),
                params![campaign_id, email.trim()],
                admin_from_row,
            )
            .optional()?)
    }

    /// Records an invitation; false when the email is already an admin.
    pub fn add_admin(
        &mut self,
        campaign_id: i64,
        email: &str,
        invited_by: Option<&str>,
    ) -> Result<bool> {
        let added = self.conn().execute(
            "INSERT OR IGNORE INTO admins (campaign_id, email, status, invited_by, invited_at) \
             VALUES (?1, ?2, 'invited', ?3, ?4)",
            params![campaign_id, email.trim(), invited_by, self.now()],
        )?;
        Ok(added == 1)
    }

    /// Removes an admin; false when there was none with that email.
    pub fn remove_admin(&mut self, campaign_id: i64, email: &str) -> Result<bool> {
        let removed = self.conn().execute(
            "DELETE FROM admins WHERE campaign_id = ?1 AND email = ?2",
            params![campaign_id, email.trim()],
        )?;
        Ok(removed == 1)
    }

    /// Marks an invited admin active; false when already active or not an admin.
    pub fn activate_admin(&mut self, campaign_id: i64, email: &str) -> Result<bool> {
        let changed = self.conn().execute(
            "UPDATE admins SET status = 'active', activated_at = ?3 \
             WHERE campaign_id = ?1 AND email = ?2 AND status = 'invited'",
            params![campaign_id, email.trim(), self.now()],
        )?;
        Ok(changed == 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::CampaignDraft;

    #[test]
    fn invite_activate_remove() {
        let mut store = SqliteStore::open_in_memory().unwrap();
        let draft = CampaignDraft {
            title: "T".into(),
            target: "X".into(),
            ask: "A".into(),
            why: "W".into(),
            ..Default::default()
        };
        let c = store
            .insert_campaign(&draft, "t", Some("ana@example.org"))
            .unwrap();
        assert!(store
            .add_admin(c.id, "Luis@Example.org", Some("ana@example.org"))
            .unwrap());
        assert!(!store.add_admin(c.id, "luis@example.org", None).unwrap());
        let admin = store.admin(c.id, "LUIS@example.org").unwrap().unwrap();
        assert_eq!(admin.status, AdminStatus::Invited);
        assert!(store.activate_admin(c.id, "luis@example.org").unwrap());
        assert!(!store.activate_admin(c.id, "luis@example.org").unwrap());
        assert_eq!(store.admins(c.id).unwrap()[0].status, AdminStatus::Active);
        assert!(store.remove_admin(c.id, "luis@example.org").unwrap());
        assert!(store.admins(c.id).unwrap().is_empty());
    }
}
