//! Reads for `deliver --split-by postcode` (the twin of `sqlite/delivery_reads.rs`):
//! counts per postcode in one aggregate, the signers in one pass ordered by postcode.

use super::signatures::{signature_from_row, SIGNATURE_COLUMNS};
use super::PgStore;
use crate::error::Result;
use crate::model::{Signature, SignatureCounts};

/// The SQL twin of `domain::delivery::postcode_key` (and of SQLite's): both trim exactly
/// these characters, and order by bytes (`COLLATE "C"`), as SQLite does.
pub(super) const POSTCODE_KEY: &str = "btrim(COALESCE(postcode, ''), E' \\t\\n\\r') COLLATE \"C\"";

impl PgStore {
    /// The campaign's signers counted per postcode key, in key (byte) order.
    pub fn signature_counts_by_postcode(
        &self,
        campaign_id: i64,
    ) -> Result<Vec<(String, SignatureCounts)>> {
        let rows = self.client().query(
            &format!(
                // Live rows plus the tallies a purge kept (SQLite's twin).
                "SELECT k, sum(t)::bigint, sum(p)::bigint, sum(o)::bigint, sum(v)::bigint FROM ( \
                   SELECT {POSTCODE_KEY} AS k, count(*) AS t, \
                        count(*) FILTER (WHERE source = 'paper') AS p, \
                        count(*) FILTER (WHERE source = 'online') AS o, \
                        count(*) FILTER (WHERE private) AS v \
                   FROM signatures WHERE campaign_id = $1 GROUP BY 1 \
                   UNION ALL SELECT postcode_key COLLATE \"C\", total, paper, online, private \
                   FROM purged_counts_by_postcode WHERE campaign_id = $1) u \
                 GROUP BY k ORDER BY k"
            ),
            &[&campaign_id],
        )?;
        rows.iter()
            .map(|r| {
                Ok((
                    r.try_get(0)?,
                    SignatureCounts {
                        total: r.try_get(1)?,
                        paper: r.try_get(2)?,
                        online: r.try_get(3)?,
                        private: r.try_get(4)?,
                    },
                ))
            })
            .collect()
    }

    /// The campaign's signers by postcode key (key order, then entry order), each with
    /// its key, through a cursor: one pass, a chunk in memory at a time.
    pub fn for_each_signature_by_postcode(
        &self,
        campaign_id: i64,
        f: &mut dyn FnMut(&str, Signature) -> Result<()>,
    ) -> Result<()> {
        self.stream(
            &format!(
                "SELECT {SIGNATURE_COLUMNS}, {POSTCODE_KEY} AS k FROM signatures \
                 WHERE campaign_id = $1 ORDER BY k, id"
            ),
            &[&campaign_id],
            &mut |row| {
                let key: &str = row.try_get(14)?;
                f(key, signature_from_row(row)?)
            },
        )
    }
}
