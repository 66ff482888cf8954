//! [`Store`] for [`PgStore`]: each operation is the query written once in its module
//! (campaigns.rs, signatures.rs, ...), as for SQLite.

use std::path::Path;

use super::PgStore;
use crate::error::Result;
use crate::model::{
    Admin, Campaign, CampaignDraft, CampaignEdit, CampaignSummary, Delivery, FieldChange, Lang,
    NewDelivery, NewSignature, Sheet, Signature, SignatureCounts, SignatureEdit, SignerEdited,
    Status, TeamKind, TeamMember, Translation,
};
use crate::store::{
    Import, ImportDefaults, MergeIds, MergeWrite, NewTeamMember, SignerRow, Store, Uuid,
};

impl Store for PgStore {
    /// Not a file: nothing on this machine to protect or to name.
    fn path(&self) -> Option<&Path> {
        None
    }
    fn schema_version(&self) -> Result<i64> {
        PgStore::schema_version(self)
    }
    fn insert_campaign(
        &mut self,
        draft: &CampaignDraft,
        slug_base: &str,
        owner_email: Option<&str>,
    ) -> Result<Campaign> {
        PgStore::insert_campaign(self, draft, slug_base, owner_email)
    }
    fn campaign_by_id(&self, id: i64) -> Result<Campaign> {
        PgStore::campaign_by_id(self, id)
    }
    fn find_campaign(&self, reference: &str) -> Result<Campaign> {
        PgStore::find_campaign(self, reference)
    }
    fn list_campaigns(&self, status: Option<Status>) -> Result<Vec<CampaignSummary>> {
        PgStore::list_campaigns(self, status)
    }
    fn update_campaign(
        &mut self,
        campaign_id: i64,
        changes: &[FieldChange],
        edited_by: Option<&str>,
    ) -> Result<usize> {
        PgStore::update_campaign(self, campaign_id, changes, edited_by)
    }
    fn campaign_edits(&self, campaign_id: i64) -> Result<Vec<CampaignEdit>> {
        PgStore::campaign_edits(self, campaign_id)
    }
    fn set_status(
        &mut self,
        campaign: &Campaign,
        status: Status,
        edited_by: Option<&str>,
    ) -> Result<()> {
        PgStore::set_status(self, campaign, status, edited_by)
    }
    fn set_picture(&mut self, campaign_id: i64, bytes: &[u8], mime: &str) -> Result<()> {
        PgStore::set_picture(self, campaign_id, bytes, mime)
    }
    fn set_translation(
        &mut self,
        campaign_id: i64,
        lang: Lang,
        texts: &Translation,
        edited_by: Option<&str>,
    ) -> Result<usize> {
        PgStore::set_translation(self, campaign_id, lang, texts, edited_by)
    }
    fn translations(&self, campaign_id: i64) -> Result<Vec<Translation>> {
        PgStore::translations(self, campaign_id)
    }
    fn picture(&self, campaign_id: i64) -> Result<Option<(Vec<u8>, String)>> {
        PgStore::picture(self, campaign_id)
    }
    fn signature_counts(&self, campaign_id: i64) -> Result<SignatureCounts> {
        PgStore::signature_counts(self, campaign_id)
    }
    fn insert_signature(&mut self, campaign_id: i64, s: &NewSignature) -> Result<Option<i64>> {
        PgStore::insert_signature(self, campaign_id, s)
    }
    fn update_signature(&mut self, id: i64, s: &NewSignature) -> Result<bool> {
        PgStore::update_signature(self, id, s)
    }
    fn find_signature_by_key(&self, campaign_id: i64, key: &str) -> Result<Option<Signature>> {
        PgStore::find_signature_by_key(self, campaign_id, key)
    }
    fn for_each_signer_after(
        &self,
        campaign_id: i64,
        after_id: i64,
        f: &mut dyn FnMut(Signature) -> Result<()>,
    ) -> Result<()> {
        PgStore::for_each_signer_after(self, campaign_id, after_id, f)
    }
    fn signature(&self, campaign_id: i64, id: i64) -> Result<Option<Signature>> {
        PgStore::signature(self, campaign_id, id)
    }
    fn signatures_at(&self, campaign_id: i64, sheet_id: &str, line: i64) -> Result<Vec<Signature>> {
        PgStore::signatures_at(self, campaign_id, sheet_id, line)
    }
    fn edit_signature(
        &mut self,
        old: &Signature,
        new: &NewSignature,
        changes: &[FieldChange],
        edited_by: Option<&str>,
    ) -> Result<SignerEdited> {
        PgStore::edit_signature(self, old, new, changes, edited_by)
    }
    fn remove_signature(&mut self, s: &Signature, edited_by: Option<&str>) -> Result<bool> {
        PgStore::remove_signature(self, s, edited_by)
    }
    fn signature_edits(&self, campaign_id: i64) -> Result<Vec<SignatureEdit>> {
        PgStore::signature_edits(self, campaign_id)
    }
    fn last_line(&self, campaign_id: i64, sheet_id: Option<&str>) -> Result<i64> {
        PgStore::last_line(self, campaign_id, sheet_id)
    }
    fn for_each_signer(
        &self,
        campaign_id: i64,
        f: &mut dyn FnMut(Signature) -> Result<()>,
    ) -> Result<()> {
        PgStore::for_each_signature(self, campaign_id, false, f)
    }
    fn for_each_opted_in(
        &self,
        campaign_id: i64,
        f: &mut dyn FnMut(Signature) -> Result<()>,
    ) -> Result<()> {
        PgStore::for_each_signature(self, campaign_id, true, f)
    }
    fn signature_counts_by_postcode(
        &self,
        campaign_id: i64,
    ) -> Result<Vec<(String, SignatureCounts)>> {
        PgStore::signature_counts_by_postcode(self, campaign_id)
    }
    fn for_each_signer_by_postcode(
        &self,
        campaign_id: i64,
        f: &mut dyn FnMut(&str, Signature) -> Result<()>,
    ) -> Result<()> {
        PgStore::for_each_signature_by_postcode(self, campaign_id, f)
    }
    fn read_consistently(&self, f: &mut dyn FnMut(&dyn Store) -> Result<()>) -> Result<()> {
        PgStore::read_consistently(self, |store| f(store))
    }
    fn begin_import(
        &mut self,
        campaign_id: i64,
        defaults: ImportDefaults,
    ) -> Result<Box<dyn Import + '_>> {
        Ok(Box::new(PgStore::begin_import(
            self,
            campaign_id,
            defaults,
        )?))
    }
    fn record_sheets(
        &mut self,
        campaign_id: i64,
        prefix: &str,
        count: usize,
        lines: i64,
    ) -> Result<Vec<Sheet>> {
        PgStore::record_sheets(self, campaign_id, prefix, count, lines)
    }
    fn find_sheet(&self, campaign_id: i64, sheet_id: &str) -> Result<Option<Sheet>> {
        PgStore::find_sheet(self, campaign_id, sheet_id)
    }
    fn sheets(&self, campaign_id: i64) -> Result<Vec<Sheet>> {
        PgStore::sheets(self, campaign_id)
    }
    fn admins(&self, campaign_id: i64) -> Result<Vec<Admin>> {
        PgStore::admins(self, campaign_id)
    }
    fn admin(&self, campaign_id: i64, email: &str) -> Result<Option<Admin>> {
        PgStore::admin(self, campaign_id, email)
    }
    fn add_admin(
        &mut self,
        campaign_id: i64,
        email: &str,
        invited_by: Option<&str>,
    ) -> Result<bool> {
        PgStore::add_admin(self, campaign_id, email, invited_by)
    }
    fn remove_admin(&mut self, campaign_id: i64, email: &str) -> Result<bool> {
        PgStore::remove_admin(self, campaign_id, email)
    }
    fn activate_admin(&mut self, campaign_id: i64, email: &str) -> Result<bool> {
        PgStore::activate_admin(self, campaign_id, email)
    }
    fn record_delivery(&mut self, d: &NewDelivery<'_>) -> Result<Delivery> {
        PgStore::record_delivery(self, d)
    }
    fn deliveries(&self, campaign_id: i64) -> Result<Vec<Delivery>> {
        PgStore::deliveries(self, campaign_id)
    }
    fn team_kind(&self) -> Option<TeamKind> {
        self.kind
    }
    fn team_add(&mut self, member: &NewTeamMember<'_>) -> Result<String> {
        PgStore::team_add(self, member)
    }
    fn team_list(&self) -> Result<Vec<TeamMember>> {
        PgStore::team_list(self)
    }
    fn team_remove(&mut self, email: &str) -> Result<Option<String>> {
        PgStore::team_remove(self, email)
    }
    fn identity(&self) -> Result<String> {
        PgStore::identity(self)
    }
    fn campaign_by_uid(&self, uid: Uuid) -> Result<Option<Campaign>> {
        PgStore::campaign_by_uid(self, uid)
    }
    fn merge_ids(&self, campaign_id: i64) -> Result<MergeIds> {
        PgStore::merge_ids(self, campaign_id)
    }
    fn for_each_signer_row(
        &self,
        campaign_id: i64,
        f: &mut dyn FnMut(SignerRow) -> Result<()>,
    ) -> Result<()> {
        PgStore::for_each_signer_row(self, campaign_id, f)
    }
    fn begin_merge(&mut self) -> Result<Box<dyn MergeWrite + '_>> {
        Ok(Box::new(PgStore::begin_merge(self)?))
    }
    fn signature_counts_by_day(&self, campaign_id: i64) -> Result<Vec<(String, SignatureCounts)>> {
        PgStore::signature_counts_by_day(self, campaign_id)
    }
    fn purge_signers(&mut self, campaign_id: i64) -> Result<crate::model::PurgedSigners> {
        PgStore::purge_signers(self, campaign_id)
    }
    fn scrub(&mut self) -> Result<crate::model::Scrub> {
        PgStore::scrub(self)
    }
    fn record_campaign_file(
        &mut self,
        campaign_id: i64,
        kind: crate::model::FileKind,
        path: &str,
        sha256: Option<&str>,
    ) -> Result<()> {
        PgStore::record_campaign_file(self, campaign_id, kind, path, sha256)
    }
    fn campaign_files(&self, campaign_id: i64) -> Result<Vec<crate::model::CampaignFile>> {
        PgStore::campaign_files(self, campaign_id)
    }
    fn find_person(
        &self,
        person: &crate::model::PersonKey,
    ) -> Result<Vec<crate::model::PersonMatch>> {
        PgStore::find_person(self, person)
    }
    fn forget_person(
        &mut self,
        person: &crate::model::PersonKey,
    ) -> Result<crate::model::Forgotten> {
        PgStore::forget_person(self, person)
    }
    fn tombstones(&self) -> Result<crate::store::tombstones::Tombstones> {
        super::privacy::load_tombstones(self)
    }
    fn is_forgotten(&self, dedupe_key: &str) -> Result<bool> {
        PgStore::is_forgotten(self, dedupe_key)
    }
}
