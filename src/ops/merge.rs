//! `campaign merge FROM`: brings into the target everything another campaign database
//! has that the target lacks, matched by stable ids (`crate::uid`), in one target
//! transaction (all or nothing). Nothing here overwrites: a campaign whose text differs
//! keeps the target's text and each difference is reported for a person to settle; a
//! signer whose key (email, or name and postcode) the campaign already has is counted
//! as a duplicate, not stored. Merging twice adds nothing the second time.

use std::collections::HashMap;

use serde::Serialize;

use crate::error::Result;
use crate::model::{Campaign, Translation};
use crate::store::tombstones::Tombstones;
use crate::store::{MergeWrite, MergedSigner, SignerRow, Store};

/// What a merge brought in (or, with `--dry-run`, would bring in).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct MergeReport {
    /// True when nothing was kept (`--dry-run`).
    pub dry_run: bool,
    pub campaigns: Vec<CampaignMerge>,
    /// Conflicts in every campaign (text differences, skipped campaigns, sheet ids).
    pub conflicts: usize,
}

impl MergeReport {
    /// Rows added, whatever their kind.
    pub fn added(&self) -> u64 {
        self.campaigns
            .iter()
            .map(|c| {
                u64::from(c.new_campaign)
                    + c.signatures_added
                    + c.sheets_added
                    + c.deliveries_added
                    + c.admins_added
                    + c.translations_added
                    + c.history_added
            })
            .sum()
    }
}

/// One incoming campaign.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct CampaignMerge {
    /// Its slug in FROM.
    pub slug: String,
    /// Its slug here, when it is (or now is) here.
    pub slug_here: Option<String>,
    /// New here (brought in whole).
    pub new_campaign: bool,
    /// Why nothing of it came in (its slug is another campaign's here).
    pub skipped: Option<String>,
    pub signatures_added: u64,
    /// Signers merged before (the same stable id is here).
    pub signatures_already_here: u64,
    /// Signers the campaign already has by key, entered elsewhere: counted, not stored.
    pub duplicates: u64,
    /// Signers that `admit` held back.
    pub held_back: u64,
    pub sheets_added: u64,
    pub deliveries_added: u64,
    pub admins_added: u64,
    pub translations_added: u64,
    /// Campaign and signer history entries added.
    pub history_added: u64,
    /// Text that differs: the target's stays.
    pub conflicts: Vec<Conflict>,
    /// Sheet ids that are another sheet here.
    pub sheet_conflicts: Vec<SheetConflict>,
}

impl CampaignMerge {
    fn conflict_count(&self) -> usize {
        self.conflicts.len() + self.sheet_conflicts.len() + usize::from(self.skipped.is_some())
    }
}

/// A field whose value differs: `here` stays, `incoming` was not taken.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Conflict {
    /// `title`, `why`, ..., or `title (es)` for a translation.
    pub field: String,
    /// The target's value, shortened.
    pub here: Option<String>,
    /// FROM's value, shortened.
    pub incoming: Option<String>,
}

/// A sheet id FROM has that is another sheet here.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SheetConflict {
    pub sheet_id: String,
    /// The campaign here that has that sheet id (its slug).
    pub here_in: String,
}

/// What to do with one incoming signer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admit {
    Store,
    /// Not stored, counted as held back.
    HoldBack,
}

/// The one place every incoming signer passes before it is stored: a signer who asked
/// this database to forget them (`campaign forget`, by email or by name and postcode)
/// stays out, whatever the other database still holds.
pub fn admit(forgotten: &Tombstones, row: &SignerRow) -> Admit {
    let s = &row.signature;
    if forgotten.forgets_signer(
        &row.dedupe_key,
        &s.name,
        s.email.is_some(),
        s.postcode.as_deref(),
    ) {
        Admit::HoldBack
    } else {
        Admit::Store
    }
}

/// Signers stored per batch (one round trip to a server).
const BATCH: usize = 5000;

/// Stores a batch of admitted signers and counts what became of each.
fn add_signers(
    tx: &mut dyn MergeWrite,
    campaign_here: i64,
    batch: &mut Vec<SignerRow>,
    entry: &mut CampaignMerge,
    ids_here: &mut HashMap<i64, i64>,
) -> Result<()> {
    let outcomes = tx.add_signatures(campaign_here, batch)?;
    for (row, outcome) in batch.iter().zip(outcomes) {
        match outcome {
            MergedSigner::Added(id) => {
                entry.signatures_added += 1;
                ids_here.insert(row.signature.id, id);
            }
            MergedSigner::Already(id) => {
                entry.signatures_already_here += 1;
                ids_here.insert(row.signature.id, id);
            }
            MergedSigner::Duplicate => entry.duplicates += 1,
        }
    }
    batch.clear();
    Ok(())
}

/// At most this many characters of a conflicting value are reported.
const SHOWN_CHARS: usize = 60;

fn shorten(value: Option<&str>) -> Option<String> {
    value.map(|v| {
        let v = v.trim();
        if v.chars().count() <= SHOWN_CHARS {
            v.to_string()
        } else {
            let head: String = v.chars().take(SHOWN_CHARS - 1).collect();
            format!("{}…", head.trim_end())
        }
    })
}

/// The fields a person settles with `campaign edit` when two databases disagree.
fn campaign_fields(c: &Campaign) -> Vec<(&'static str, Option<String>)> {
    vec![
        ("slug", Some(c.slug.clone())),
        ("title", Some(c.title.clone())),
        ("target", Some(c.target.clone())),
        ("ask", Some(c.ask.clone())),
        ("why", Some(c.why.clone())),
        ("scope", Some(c.scope.to_string())),
        ("location", c.location.clone()),
        ("postcode", c.postcode.clone()),
        ("country", c.country.clone()),
        ("goal", c.goal.map(|g| g.to_string())),
        ("url", c.url.clone()),
        ("lang", Some(c.lang.to_string())),
        ("status", Some(c.status.to_string())),
        ("owner", c.owner_email.clone()),
    ]
}

fn translation_fields(t: &Translation) -> [(&'static str, Option<&String>); 4] {
    [
        ("title", t.title.as_ref()),
        ("target", t.target.as_ref()),
        ("ask", t.ask.as_ref()),
        ("why", t.why.as_ref()),
    ]
}

/// Merges `from` into `target`; with `dry_run`, does it all in the target's transaction
/// and rolls it back, so the report is exact and nothing changes. `may_manage` is asked
/// before anything comes into a campaign the target already has (the same rights as
/// managing it); its error ends the merge with nothing kept.
pub fn merge(
    from: &dyn Store,
    target: &mut dyn Store,
    dry_run: bool,
    may_manage: &mut dyn FnMut(&dyn Store, &Campaign) -> Result<()>,
) -> Result<MergeReport> {
    let mut report = MergeReport {
        dry_run,
        ..Default::default()
    };
    let mut tx = target.begin_merge()?;
    from.read_consistently(&mut |from| {
        for summary in from.list_campaigns(None)? {
            let entry = merge_campaign(from, tx.as_mut(), &summary.campaign, may_manage)?;
            report.campaigns.push(entry);
        }
        Ok(())
    })?;
    report.conflicts = report
        .campaigns
        .iter()
        .map(CampaignMerge::conflict_count)
        .sum();
    if dry_run {
        drop(tx);
    } else {
        tx.commit()?;
    }
    Ok(report)
}

fn merge_campaign(
    from: &dyn Store,
    tx: &mut dyn MergeWrite,
    c: &Campaign,
    may_manage: &mut dyn FnMut(&dyn Store, &Campaign) -> Result<()>,
) -> Result<CampaignMerge> {
    let mut entry = CampaignMerge {
        slug: c.slug.clone(),
        ..Default::default()
    };
    let ids = from.merge_ids(c.id)?;
    // Every campaign has one since the merge-ids migration; a row written by hand may not.
    let uid = ids.campaign.unwrap_or_else(crate::uid::fresh);
    let here = match tx.store().campaign_by_uid(uid)? {
        Some(here) => {
            may_manage(tx.store(), &here)?;
            for ((field, mine), (_, theirs)) in
                campaign_fields(&here).into_iter().zip(campaign_fields(c))
            {
                if mine != theirs {
                    entry.conflicts.push(Conflict {
                        field: field.to_string(),
                        here: shorten(mine.as_deref()),
                        incoming: shorten(theirs.as_deref()),
                    });
                }
            }
            let (mine, theirs) = (tx.store().picture(here.id)?, from.picture(c.id)?);
            if theirs.is_some() && mine != theirs {
                entry.conflicts.push(Conflict {
                    field: "picture".into(),
                    here: mine.map(|(_, mime)| mime),
                    incoming: theirs.map(|(_, mime)| mime),
                });
            }
            here
        }
        None => {
            if let Ok(other) = tx.store().find_campaign(&c.slug) {
                if other.slug == c.slug {
                    entry.skipped = Some(format!(
                        "another campaign here already has the slug {} (id {})",
                        c.slug, other.id
                    ));
                    return Ok(entry);
                }
            }
            let picture = from.picture(c.id)?;
            let Some(id) = tx.add_campaign(uid, c, picture.as_ref())? else {
                entry.skipped = Some(format!(
                    "another campaign here already has the slug {}",
                    c.slug
                ));
                return Ok(entry);
            };
            entry.new_campaign = true;
            tx.store().campaign_by_id(id)?
        }
    };
    entry.slug_here = Some(here.slug.clone());

    let translations_here = tx.store().translations(here.id)?;
    for t in from.translations(c.id)? {
        let Some(lang) = t.lang else { continue };
        match translations_here.iter().find(|m| m.lang == Some(lang)) {
            None => entry.translations_added += u64::from(tx.add_translation(here.id, &t)?),
            Some(mine) => {
                for ((field, m), (_, theirs)) in translation_fields(mine)
                    .into_iter()
                    .zip(translation_fields(&t))
                {
                    if m != theirs {
                        entry.conflicts.push(Conflict {
                            field: format!("{field} ({lang})"),
                            here: shorten(m.map(String::as_str)),
                            incoming: shorten(theirs.map(String::as_str)),
                        });
                    }
                }
            }
        }
    }
    for admin in from.admins(c.id)? {
        entry.admins_added += u64::from(tx.add_admin(here.id, &admin)?);
    }
    for sheet in from.sheets(c.id)? {
        let uid = ids.sheet(&sheet.sheet_id);
        match tx.sheet_owner(&sheet.sheet_id)? {
            None => entry.sheets_added += u64::from(tx.add_sheet(here.id, uid, &sheet)?),
            Some((owner, theirs)) if owner == here.id && (theirs == uid || uid.is_none()) => {}
            Some((owner, _)) => entry.sheet_conflicts.push(SheetConflict {
                sheet_id: sheet.sheet_id.clone(),
                here_in: tx.store().campaign_by_id(owner)?.slug,
            }),
        }
    }

    // FROM's signer ids to the target's, for the signer history.
    let mut ids_here: HashMap<i64, i64> = HashMap::new();
    let mut batch: Vec<SignerRow> = Vec::with_capacity(BATCH);
    // Read in the merge's transaction: a forget committed before it is seen.
    let forgotten = tx.store().tombstones()?;
    from.for_each_signer_row(c.id, &mut |row| {
        if admit(&forgotten, &row) == Admit::HoldBack {
            entry.held_back += 1;
            return Ok(());
        }
        batch.push(row);
        if batch.len() == BATCH {
            add_signers(tx, here.id, &mut batch, &mut entry, &mut ids_here)?;
        }
        Ok(())
    })?;
    add_signers(tx, here.id, &mut batch, &mut entry, &mut ids_here)?;

    for d in from.deliveries(c.id)? {
        entry.deliveries_added += u64::from(tx.add_delivery(here.id, ids.delivery(d.id), &d)?);
    }
    for e in from.campaign_edits(c.id)? {
        entry.history_added += u64::from(tx.add_campaign_edit(here.id, &e)?);
    }
    for mut e in from.signature_edits(c.id)? {
        // A removed signer has no row anywhere: 0 says "not in this database".
        e.signature_id = ids_here.get(&e.signature_id).copied().unwrap_or(0);
        entry.history_added += u64::from(tx.add_signature_edit(here.id, &e)?);
    }
    Ok(entry)
}
