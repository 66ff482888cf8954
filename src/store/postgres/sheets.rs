//! Printed paper sheets (the twin of `sqlite/sheets.rs`). Numbers come from one counter
//! row per prefix, taken and bumped in a single statement: two organizers printing at
//! once get different numbers, and the second waits for that one statement only.

use postgres::Row;

use super::PgStore;
use crate::error::Result;
use crate::model::Sheet;

const SHEET_COLUMNS: &str = "sheet_id, campaign_id, lines, printed_at";

fn sheet_from_row(r: &Row) -> Result<Sheet> {
    Ok(Sheet {
        sheet_id: r.try_get(0)?,
        campaign_id: r.try_get(1)?,
        lines: r.try_get(2)?,
        printed_at: r.try_get(3)?,
    })
}

/// `prefix` as a LIKE pattern matching itself literally.
fn like_literal(prefix: &str) -> String {
    prefix
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_")
}

impl PgStore {
    /// Records `count` sheets of `lines` lines with ids `prefix-NNNN`, numbered after
    /// every sheet given out with that prefix (by any campaign, any organizer).
    pub fn record_sheets(
        &mut self,
        campaign_id: i64,
        prefix: &str,
        count: usize,
        lines: i64,
    ) -> Result<Vec<Sheet>> {
        let ts = self.now();
        let count = i64::try_from(count).unwrap_or(i64::MAX);
        // Its own statement (autocommit): the counter row is locked for this statement
        // only. A failure after it leaves a gap in the numbers, never a repeat. The
        // first use of a prefix starts after sheets already there (a merged database).
        let last: i64 = self
            .client()
            .query_one(
                "INSERT INTO sheet_numbers AS n (prefix, last) \
                 SELECT $1, COALESCE(MAX(seq), 0) + $2 FROM sheets WHERE sheet_id LIKE $3 \
                 ON CONFLICT (prefix) DO UPDATE SET last = n.last + $2 \
                 RETURNING last",
                &[&prefix, &count, &format!("{}-%", like_literal(prefix))],
            )?
            .try_get(0)?;
        let mut client = self.client();
        let mut tx = client.transaction()?;
        let insert = tx.prepare(
            "INSERT INTO sheets (sheet_id, campaign_id, seq, lines, printed_at, uid) VALUES ($1, $2, $3, $4, $5, $6)",
        )?;
        let mut sheets = Vec::with_capacity(count as usize);
        for seq in last - count + 1..=last {
            let sheet_id = Sheet::id(prefix, seq);
            tx.execute(
                &insert,
                &[
                    &sheet_id,
                    &campaign_id,
                    &seq,
                    &lines,
                    &ts,
                    &crate::uid::fresh(),
                ],
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

    /// The sheet with this id if it was printed for `campaign_id` (any case).
    pub fn find_sheet(&self, campaign_id: i64, sheet_id: &str) -> Result<Option<Sheet>> {
        let row = self.client().query_opt(
            &format!(
                "SELECT {SHEET_COLUMNS} FROM sheets WHERE campaign_id = $1 AND sheet_id = upper(btrim($2))"
            ),
            &[&campaign_id, &sheet_id],
        )?;
        row.as_ref().map(sheet_from_row).transpose()
    }

    pub fn sheets(&self, campaign_id: i64) -> Result<Vec<Sheet>> {
        let rows = self.client().query(
            &format!("SELECT {SHEET_COLUMNS} FROM sheets WHERE campaign_id = $1 ORDER BY seq"),
            &[&campaign_id],
        )?;
        rows.iter().map(sheet_from_row).collect()
    }
}
