//! Campaign admins (the twin of `sqlite/admins.rs`): one per email in any case.

use postgres::Row;

use super::PgStore;
use crate::error::Result;
use crate::model::{Admin, AdminStatus};

const ADMIN_COLUMNS: &str = "email, status, invited_by, invited_at, activated_at";

fn admin_from_row(row: &Row) -> Result<Admin> {
    let status: &str = row.try_get(1)?;
    Ok(Admin {
        email: row.try_get(0)?,
        status: status.parse().unwrap_or(AdminStatus::Invited),
        invited_by: row.try_get(2)?,
        invited_at: row.try_get(3)?,
        activated_at: row.try_get(4)?,
    })
}

impl PgStore {
    /// A campaign's admins, in the order they were invited.
    pub fn admins(&self, campaign_id: i64) -> Result<Vec<Admin>> {
        let rows = self.client().query(
            &format!(
                "SELECT {ADMIN_COLUMNS} FROM admins WHERE campaign_id = $1 \
                 ORDER BY invited_at, lower(email) COLLATE \"C\""
            ),
            &[&campaign_id],
        )?;
        rows.iter().map(admin_from_row).collect()
    }

    /// The admin with this email (any case), if any.
    pub fn admin(&self, campaign_id: i64, email: &str) -> Result<Option<Admin>> {
        let row = self.client().query_opt(
            &format!(
                "SELECT {ADMIN_COLUMNS} FROM admins WHERE campaign_id = $1 AND lower(email) = lower($2)"
            ),
            &[&campaign_id, &email.trim()],
        )?;
        row.as_ref().map(admin_from_row).transpose()
    }

    /// Records an invitation; false when the email is already an admin.
    pub fn add_admin(
        &mut self,
        campaign_id: i64,
        email: &str,
        invited_by: Option<&str>,
    ) -> Result<bool> {
        let ts = self.now();
        let added = self.client().execute(
            "INSERT INTO admins (campaign_id, email, status, invited_by, invited_at) \
             VALUES ($1, $2, 'invited', $3, $4) ON CONFLICT (campaign_id, lower(email)) DO NOTHING",
            &[&campaign_id, &email.trim(), &invited_by, &ts],
        )?;
        Ok(added == 1)
    }

    /// Removes an admin; false when there was none with that email.
    pub fn remove_admin(&mut self, campaign_id: i64, email: &str) -> Result<bool> {
        let removed = self.client().execute(
            "DELETE FROM admins WHERE campaign_id = $1 AND lower(email) = lower($2)",
            &[&campaign_id, &email.trim()],
        )?;
        Ok(removed == 1)
    }

    /// Marks an invited admin active; false when already active or not an admin.
    pub fn activate_admin(&mut self, campaign_id: i64, email: &str) -> Result<bool> {
        let ts = self.now();
        let changed = self.client().execute(
            "UPDATE admins SET status = 'active', activated_at = $3 \
             WHERE campaign_id = $1 AND lower(email) = lower($2) AND status = 'invited'",
            &[&campaign_id, &email.trim(), &ts],
        )?;
        Ok(changed == 1)
    }
}
