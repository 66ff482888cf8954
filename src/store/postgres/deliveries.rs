//! The record of what was delivered (the twin of `sqlite/deliveries.rs`).

use super::PgStore;
use crate::error::Result;
use crate::model::{Delivery, NewDelivery};

impl PgStore {
    pub fn record_delivery(&mut self, d: &NewDelivery<'_>) -> Result<Delivery> {
        let ts = self.now();
        let id: i64 = self
            .client()
            .query_one(
                "INSERT INTO deliveries (campaign_id, delivered_at, show_level, included_fields, \
                 recipient, file, file_sha256, signatures, uid) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
                &[
                    &d.campaign_id,
                    &ts,
                    &d.show_level,
                    &d.included_fields.join(","),
                    &d.recipient,
                    &d.file,
                    &d.file_sha256,
                    &d.signatures,
                    &crate::uid::fresh(),
                ],
            )?
            .try_get(0)?;
        Ok(Delivery {
            id,
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
        let rows = self.client().query(
            "SELECT id, campaign_id, delivered_at, show_level, included_fields, recipient, file, \
             file_sha256, signatures FROM deliveries WHERE campaign_id = $1 ORDER BY id",
            &[&campaign_id],
        )?;
        rows.iter()
            .map(|r| {
                let fields: &str = r.try_get(4)?;
                Ok(Delivery {
                    id: r.try_get(0)?,
                    campaign_id: r.try_get(1)?,
                    delivered_at: r.try_get(2)?,
                    show_level: r.try_get(3)?,
                    included_fields: fields
                        .split(',')
                        .filter(|f| !f.is_empty())
                        .map(str::to_string)
                        .collect(),
                    recipient: r.try_get(5)?,
                    file: r.try_get(6)?,
                    file_sha256: r.try_get(7)?,
                    signatures: r.try_get(8)?,
                })
            })
            .collect()
    }
}
