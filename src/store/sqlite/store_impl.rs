//! [`Store`] for [`SqliteStore`]: each operation is the SQLite query written once in its
//! module (campaigns.rs, signatures.rs, ...).

use std::path::Path;

use super::SqliteStore;
use crate::error::Result;
use crate::model::{
    Admin, Campaign, CampaignDraft, CampaignEdit, CampaignSummary, Delivery, FieldChange, Lang,
    NewDelivery, NewSignature, Sheet, Signature, SignatureCounts, SignatureEdit, SignerEdited,
    Status, TeamMember, Translation,
};
use crate::store::{
    Import, ImportDefaults, MergeIds, MergeWrite, NewTeamMember, SignerRow, Store, Uuid,
};

impl Store for SqliteStore {
    fn path(&self) -> Option<&Path> {
        SqliteStore::path(self)
    }
    fn schema_version(&self) -> Result<i64> {
        SqliteStore::schema_version(self)
    }
    fn insert_campaign(
        &mut self,
        draft: &CampaignDraft,
        slug_base: &str,
        owner_email: Option<&str>,
    ) -> Result<Campaign> {
        SqliteStore::insert_campaign(self, draft, slug_base, owner_email)
    }
    fn campaign_by_id(&self, id: i64) -> Result<Campaign> {
        SqliteStore::campaign_by_id(self, id)
    }
    fn find_campaign(&self, reference: &str) -> Result<Campaign> {
        SqliteStore::find_campaign(self, reference)
    }
    fn list_campaigns(&self, status: Option<Status>) -> Result<Vec<CampaignSummary>> {
        SqliteStore::list_campaigns(self, status)
    }
    fn update_campaign(
        &mut self,
        campaign_id: i64,
        changes: &[FieldChange],
        edited_by: Option<&str>,
    ) -> Result<usize> {
        SqliteStore::update_campaign(self, campaign_id, changes, edited_by)
    }
    fn campaign_edits(&self, campaign_id: i64) -> Result<Vec<CampaignEdit>> {
        SqliteStore::campaign_edits(self, campaign_id)
    }
    fn set_status(
        &mut self,
        campaign: &Campaign,
        status: Status,
        edited_by: Option<&str>,
    ) -> Result<()> {
        SqliteStore::set_status(self, campaign, status, edited_by)
    }
    fn set_picture(&mut self, campaign_id: i64, bytes: &[u8], mime: &str) -> Result<()> {
        SqliteStore::set_picture(self, campaign_id, bytes, mime)
    }
    fn set_translation(
        &mut self,
        campaign_id: i64,
        lang: Lang,
        texts: &Translation,
        edited_by: Option<&str>,
    ) -> Result<usize> {
        SqliteStore::set_translation(self, campaign_id, lang, texts, edited_by)
    }
    fn translations(&self, campaign_id: i64) -> Result<Vec<Translation>> {
        SqliteStore::translations(self, campaign_id)
    }
    fn picture(&self, campaign_id: i64) -> Result<Option<(Vec<u8>, String)>> {
        SqliteStore::picture(self, campaign_id)
    }
    fn signature_counts(&self, campaign_id: i64) -> Result<SignatureCounts> {
        SqliteStore::signature_counts(self, campaign_id)
    }
    fn insert_signature(&mut self, campaign_id: i64, s: &NewSignature) -> Result<Option<i64>> {
        SqliteStore::insert_signature(self, campaign_id, s)
    }
    fn update_signature(&mut self, id: i64, s: &NewSignature) -> Result<bool> {
        SqliteStore::update_signature(self, id, s)
    }
    fn find_signature_by_key(&self, campaign_id: i64, key: &str) -> Result<Option<Signature>> {
        SqliteStore::find_signature_by_key(self, campaign_id, key)
    }
    fn signature(&self, campaign_id: i64, id: i64) -> Result<Option<Signature>> {
        SqliteStore::signature(self, campaign_id, id)
    }
    fn signatures_at(&self, campaign_id: i64, sheet_id: &str, line: i64) -> Result<Vec<Signature>> {
        SqliteStore::signatures_at(self, campaign_id, sheet_id, line)
    }
    fn edit_signature(
        &mut self,
        old: &Signature,
        new: &NewSignature,
        changes: &[FieldChange],
        edited_by: Option<&str>,
    ) -> Result<SignerEdited> {
        SqliteStore::edit_signature(self, old, new, changes, edited_by)
    }
    fn remove_signature(&mut self, s: &Signature, edited_by: Option<&str>) -> Result<bool> {
        SqliteStore::remove_signature(self, s, edited_by)
    }
    fn signature_edits(&self, campaign_id: i64) -> Result<Vec<SignatureEdit>> {
        SqliteStore::signature_edits(self, campaign_id)
    }
    fn for_each_signer_after(
        &self,
        campaign_id: i64,
        after_id: i64,
        f: &mut dyn FnMut(Signature) -> Result<()>,
    ) -> Result<()> {
        SqliteStore::for_each_signer_after(self, campaign_id, after_id, f)
    }
    fn last_line(&self, campaign_id: i64, sheet_id: Option<&str>) -> Result<i64> {
        SqliteStore::last_line(self, campaign_id, sheet_id)
    }
    fn for_each_signer(
        &self,
        campaign_id: i64,
        f: &mut dyn FnMut(Signature) -> Result<()>,
    ) -> Result<()> {
        SqliteStore::for_each_signature(self, campaign_id, f)
    }
    fn for_each_opted_in(
        &self,
        campaign_id: i64,
        f: &mut dyn FnMut(Signature) -> Result<()>,
    ) -> Result<()> {
        SqliteStore::for_each_opted_in(self, campaign_id, f)
    }
    fn signature_counts_by_postcode(
        &self,
        campaign_id: i64,
    ) -> Result<Vec<(String, SignatureCounts)>> {
        SqliteStore::signature_counts_by_postcode(self, campaign_id)
    }
    fn for_each_signer_by_postcode(
        &self,
        campaign_id: i64,
        f: &mut dyn FnMut(&str, Signature) -> Result<()>,
    ) -> Result<()> {
        SqliteStore::for_each_signature_by_postcode(self, campaign_id, f)
    }
    fn read_consistently(&self, f: &mut dyn FnMut(&dyn Store) -> Result<()>) -> Result<()> {
        SqliteStore::read_consistently(self, |store| f(store))
    }
    fn begin_import(
        &mut self,
        campaign_id: i64,
        defaults: ImportDefaults,
    ) -> Result<Box<dyn Import + '_>> {
        Ok(Box::new(SqliteStore::begin_import(
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
        SqliteStore::record_sheets(self, campaign_id, prefix, count, lines)
    }
    fn find_sheet(&self, campaign_id: i64, sheet_id: &str) -> Result<Option<Sheet>> {
        SqliteStore::find_sheet(self, campaign_id, sheet_id)
    }
    fn sheets(&self, campaign_id: i64) -> Result<Vec<Sheet>> {
        SqliteStore::sheets(self, campaign_id)
    }
    fn admins(&self, campaign_id: i64) -> Result<Vec<Admin>> {
        SqliteStore::admins(self, campaign_id)
    }
    fn admin(&self, campaign_id: i64, email: &str) -> Result<Option<Admin>> {
        SqliteStore::admin(self, campaign_id, email)
    }
    fn add_admin(
        &mut self,
        campaign_id: i64,
        email: &str,
        invited_by: Option<&str>,
    ) -> Result<bool> {
        SqliteStore::add_admin(self, campaign_id, email, invited_by)
    }
    fn remove_admin(&mut self, campaign_id: i64, email: &str) -> Result<bool> {
        SqliteStore::remove_admin(self, campaign_id, email)
    }
    fn activate_admin(&mut self, campaign_id: i64, email: &str) -> Result<bool> {
        SqliteStore::activate_admin(self, campaign_id, email)
    }
    fn record_delivery(&mut self, d: &NewDelivery<'_>) -> Result<Delivery> {
        SqliteStore::record_delivery(self, d)
    }
    fn deliveries(&self, campaign_id: i64) -> Result<Vec<Delivery>> {
        SqliteStore::deliveries(self, campaign_id)
    }
    fn team_add(&mut self, _member: &NewTeamMember<'_>) -> Result<String> {
        Err(teams_need_postgres())
    }
    fn team_list(&self) -> Result<Vec<TeamMember>> {
        Err(teams_need_postgres())
    }
    fn team_remove(&mut self, _email: &str) -> Result<Option<String>> {
        Err(teams_need_postgres())
    }
    fn identity(&self) -> Result<String> {
        SqliteStore::identity(self)
    }
    fn campaign_by_uid(&self, uid: Uuid) -> Result<Option<Campaign>> {
        SqliteStore::campaign_by_uid(self, uid)
    }
    fn merge_ids(&self, campaign_id: i64) -> Result<MergeIds> {
        SqliteStore::merge_ids(self, campaign_id)
    }
    fn for_each_signer_row(
        &self,
        campaign_id: i64,
        f: &mut dyn FnMut(SignerRow) -> Result<()>,
    ) -> Result<()> {
        SqliteStore::for_each_signer_row(self, campaign_id, f)
    }
    fn begin_merge(&mut self) -> Result<Box<dyn MergeWrite + '_>> {
        Ok(Box::new(SqliteStore::begin_merge(self)?))
    }
    fn signature_breakdown(&self, campaign_id: i64) -> Result<crate::store::Breakdown> {
        SqliteStore::signature_breakdown(self, campaign_id)
    }
    fn signature_counts_by_day(&self, campaign_id: i64) -> Result<Vec<(String, SignatureCounts)>> {
        SqliteStore::signature_counts_by_day(self, campaign_id)
    }
    fn purge_signers(&mut self, campaign_id: i64) -> Result<crate::model::PurgedSigners> {
        SqliteStore::purge_signers(self, campaign_id)
    }
    fn scrub(&mut self) -> Result<crate::model::Scrub> {
        SqliteStore::scrub(self)
    }
    fn record_campaign_file(
        &mut self,
        campaign_id: i64,
        kind: crate::model::FileKind,
        path: &str,
        sha256: Option<&str>,
    ) -> Result<()> {
        SqliteStore::record_campaign_file(self, campaign_id, kind, path, sha256)
    }
    fn campaign_files(&self, campaign_id: i64) -> Result<Vec<crate::model::CampaignFile>> {
        SqliteStore::campaign_files(self, campaign_id)
    }
    fn find_person(
        &self,
        person: &crate::model::PersonKey,
    ) -> Result<Vec<crate::model::PersonMatch>> {
        SqliteStore::find_person(self, person)
    }
    fn forget_person(
        &mut self,
        person: &crate::model::PersonKey,
    ) -> Result<crate::model::Forgotten> {
        SqliteStore::forget_person(self, person)
    }
    fn tombstones(&self) -> Result<crate::store::tombstones::Tombstones> {
        super::privacy::load_tombstones(self.conn())
    }
    fn is_forgotten(&self, dedupe_key: &str) -> Result<bool> {
        SqliteStore::is_forgotten(self, dedupe_key)
    }
}

/// A file has no users to give rights to: a team works on a shared PostgreSQL database.
fn teams_need_postgres() -> crate::error::Error {
    crate::error::Error::Refused(
        "a team needs a shared PostgreSQL database: this campaign lives in a file on this \
         computer, and whoever has the file can read every signer. Move it to PostgreSQL \
         (`campaign --db postgres://... merge THIS-FILE`; see \"Working as a team\" in the \
         README), then add people with `campaign --db postgres://... team add`"
            .into(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Scope, Source};

    #[test]
    fn an_import_through_the_interface_adds_new_signers_and_counts_repeats() {
        let mut store: Box<dyn Store> = Box::new(SqliteStore::open_in_memory().unwrap());
        let draft = CampaignDraft {
            title: "t".into(),
            scope: Some(Scope::Global),
            ..Default::default()
        };
        let c = store.insert_campaign(&draft, "t", None).unwrap();
        let signer = |name: &str, email: &str| NewSignature {
            name: name.into(),
            email: Some(email.into()),
            dedupe_key: format!("e:{email}"),
            ..Default::default()
        };
        let mut import = store
            .begin_import(
                c.id,
                ImportDefaults {
                    source: Source::Online,
                    entered_by: None,
                    signed_at: "2026-12-01T10:00:00Z".into(),
                },
            )
            .unwrap();
        import
            .add_batch(&[signer("Ana", "a@x.org"), signer("李娜", "l@x.org")])
            .unwrap();
        import.add_batch(&[signer("Ana again", "a@x.org")]).unwrap();
        let outcome = import.commit().unwrap();
        assert_eq!((outcome.added, outcome.duplicates), (2, 1));
        let mut names = Vec::new();
        store
            .for_each_signer(c.id, &mut |s| {
                names.push(s.name);
                Ok(())
            })
            .unwrap();
        assert_eq!(names, ["Ana", "李娜"]);
    }
}
