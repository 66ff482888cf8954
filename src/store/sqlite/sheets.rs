//! Printed paper sheets. Each has a unique id (e.g. `OAK-0007`) so entered rows trace
//! back to paper and a mistyped sheet id is caught.

use rusqlite::{params, OptionalExtension};

use super::SqliteStore;
use crate::error::Result;
use crate::model::Sheet;

impl SqliteStore {
    /// Records `count` new sheets of `lines` lines for `campaign_id`, with ids `prefix`
    /// (see `domain::sheets::prefix`) and numbers after every sheet already printed with
    /// the same prefix (by any campaign), so ids are unique.
    pub fn record_sheets(
        &mut self,
        campaign_id: i64,
        prefix: &str,
        count: usize,
        lines: i64,
    ) -> Result<Vec<Sheet>> {
        let ts = self.now();
        let tx = self.conn_mut().transaction()?;
        let last: i64 = tx.query_row(
            "SELECT COALESCE(MAX(seq), 0) FROM sheets WHERE sheet_id LIKE ?1 || '-%'",
            [&prefix],
            |r| r.get(0),
        )?;
        let mut sheets = Vec::with_capacity(count);
        for n in 1..=count as i64 {
            let seq = last + n;
            let sheet_id = Sheet::id(prefix, seq);
            tx.execute(
                "INSERT INTO sheets (sheet_id, campaign_id, seq, lines, printed_at, uid) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![sheet_id, campaign_id, seq, lines, ts, crate::uid::fresh().as_bytes()],
            )?;
            sheets.push(Sheet {
                sheet_id,
                campaign_id,
                lines,
                printed_at: ts.clone(),
            });
        }
        tx.commit()?;
        Ok(sheets)
    }

    /// The sheet with this id if it was printed for `campaign_id` (ids compare
    /// case-insensitively: volunteers type `oak-0007`).
    pub fn find_sheet(&self, campaign_id: i64, sheet_id: &str) -> Result<Option<Sheet>> {
        Ok(self
            .conn()
            .query_row(
                "SELECT sheet_id, campaign_id, lines, printed_at FROM sheets WHERE campaign_id = ?1 AND sheet_id = upper(trim(?2))",
                params![campaign_id, sheet_id],
                |r| Ok(Sheet { sheet_id: r.get(0)?, campaign_id: r.get(1)?, lines: r.get(2)?, printed_at: r.get(3)? }),
            )
            .optional()?)
    }

    pub fn sheets(&self, campaign_id: i64) -> Result<Vec<Sheet>> {
        let mut stmt = self
            .conn()
            .prepare("SELECT sheet_id, campaign_id, lines, printed_at FROM sheets WHERE campaign_id = ?1 ORDER BY seq")?;
        let rows = stmt.query_map([campaign_id], |r| {
            Ok(Sheet {
                sheet_id: r.get(0)?,
                campaign_id: r.get(1)?,
                lines: r.get(2)?,
                printed_at: r.get(3)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{CampaignDraft, Scope};

    #[test]
    fn sheet_ids_are_unique_across_campaigns_with_one_prefix() {
        let mut store = SqliteStore::open_in_memory().unwrap();
        let draft = CampaignDraft {
            title: "t".into(),
            scope: Some(Scope::Global),
            ..Default::default()
        };
        let a = store.insert_campaign(&draft, "oakland", None).unwrap();
        let b = store.insert_campaign(&draft, "oakdale", None).unwrap();
        let first = store.record_sheets(a.id, "OAK", 2, 10).unwrap();
        let second = store.record_sheets(b.id, "OAK", 1, 8).unwrap();
        let ids: Vec<_> = first
            .iter()
            .chain(&second)
            .map(|s| s.sheet_id.as_str())
            .collect();
        assert_eq!(ids, ["OAK-0001", "OAK-0002", "OAK-0003"]);
        assert!(store.find_sheet(a.id, "oak-0002").unwrap().is_some());
        assert!(
            store.find_sheet(a.id, "OAK-0003").unwrap().is_none(),
            "belongs to another campaign"
        );
    }
}
