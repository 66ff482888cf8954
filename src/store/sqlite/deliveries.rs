//! The record of what was delivered: when, what was shown, to whom, and the file's hash.

use rusqlite::params;

use super::SqliteStore;
use crate::error::Result;
use crate::model::{Delivery, NewDelivery};

impl SqliteStore {
    pub fn record_delivery(&mut self, d: &NewDelivery<'_>) -> Result<Delivery> {
        let ts = self.now();
        self.conn().execute(
            "INSERT INTO deliveries (campaign_id, delivered_at, show_level, included_fields, recipient, file, file_sha256, signatures, uid) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            params![d.campaign_id, ts, d.show_level, d.included_fields.join(","), d.recipient, d.file, d.file_sha256, d.signatures, crate::uid::fresh().as_bytes()],
        )?;
        Ok(Delivery {
            id: self.conn().last_insert_rowid(),
            campaign_id: d.campaign_id,
            delivered_at: ts,
            show_level: d.show_level.to_string(),
            included_fields: d.included_fields.to_vec(),
            recipient: d.recipient.map(str::to_string),
            file: d.file.to_string(),
            file_sha256: d.file_sha256.to_string(),
            signatures: d.signatures,
        })
    }

    pub fn deliveries(&self, campaign_id: i64) -> Result<Vec<Delivery>> {
        let mut stmt = self.conn().prepare(
            "SELECT id, campaign_id, delivered_at, show_level, included_fields, recipient, file, file_sha256, signatures \
             FROM deliveries WHERE campaign_id = ?1 ORDER BY id",
        )?;
        let rows = stmt.query_map([campaign_id], |r| {
            let fields: String = r.get(4)?;
            Ok(Delivery {
                id: r.get(0)?,
                campaign_id: r.get(1)?,
                delivered_at: r.get(2)?,
                show_level: r.get(3)?,
                included_fields: fields
                    .split(',')
                    .filter(|f| !f.is_empty())
                    .map(str::to_string)
                    .collect(),
                recipient: r.get(5)?,
                file: r.get(6)?,
                file_sha256: r.get(7)?,
                signatures: r.get(8)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }
}
