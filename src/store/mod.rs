//! Storage: the [`Store`] interface and its backends. Typed operations take and return
//! plain data (`model`); SQL, column lists and migrations belong to a backend, written
//! once there. Nothing here prints, and nothing here reads the clock: the caller gives
//! the time (`crate::clock`).
//!
//! Two backends: [`sqlite::SqliteStore`] (one private file, the default) and
//! [`postgres::PgStore`] (a database a team shares, `--db postgres://...`). Each is a
//! `DbLocation` variant, a module with its own migrations, and a branch in [`open`];
//! their modules mirror each other area by area (campaigns, signatures, sheets, admins,
//! deliveries, delivery reads, import), so a new method is written once in each, in the
//! same place. Commands and `ops` only ever see `dyn Store`.

pub mod postgres;
pub mod sqlite;
pub mod tombstones;

use std::ffi::OsStr;
use std::path::{Path, PathBuf};

pub use postgres::{PgStore, PgTarget};
pub(crate) use sqlite::busy::{database as busy_database, gave_up_after};
pub use sqlite::busy::{
    describe as describe_wait, on_busy, parse_timeout as parse_busy_timeout, set_busy_timeout, Wait,
};
pub use sqlite::migrations;
pub use sqlite::{SqliteStore, UnknownSheet};

use crate::error::Result;
pub use crate::model::NewTeamMember;
use crate::model::{
    Admin, Campaign, CampaignDraft, CampaignEdit, CampaignSummary, CampaignTexts, Delivery, Lang,
    Sheet, Signature, SignatureCounts, SignatureEdit, SignerEdited, Source, Status, TeamKind,
    TeamMember, Translation,
};
use crate::model::{
    CampaignFile, FileKind, Forgotten, PersonKey, PersonMatch, PurgedSigners, Scrub,
};
pub use crate::model::{CampaignUpdate, FieldChange, NewDelivery, NewSignature};
pub use crate::uid::Uuid;

/// Where the database is: `--db` (or `$CAMPAIGN_DB`), or the default file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DbLocation {
    /// A SQLite file on this machine.
    Sqlite(PathBuf),
    /// A PostgreSQL database (`postgres://` or `postgresql://`).
    Postgres(PgTarget),
}

impl DbLocation {
    /// Reads `--db`: a PostgreSQL URL, or the path of a SQLite file. A malformed URL is
    /// a usage error (never a file named `postgres:`), and the error never quotes it.
    pub fn parse(text: &OsStr) -> Result<DbLocation> {
        let shown = text.to_string_lossy();
        if PgTarget::is_url(&shown) {
            return Ok(DbLocation::Postgres(PgTarget::parse(&shown)?));
        }
        Ok(DbLocation::Sqlite(PathBuf::from(text)))
    }

    /// The file, for a backend that has one (what no output may overwrite).
    pub fn file(&self) -> Option<&Path> {
        match self {
            DbLocation::Sqlite(path) => Some(path),
            DbLocation::Postgres(_) => None,
        }
    }
}

/// The database for a person to read: the file, or the URL with its password masked.
impl std::fmt::Display for DbLocation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DbLocation::Sqlite(path) => write!(f, "{}", path.display()),
            DbLocation::Postgres(target) => write!(f, "{target}"),
        }
    }
}

/// Opens (creating and migrating) the database at `location`.
pub fn open(location: &DbLocation) -> Result<Box<dyn Store>> {
    match location {
        DbLocation::Sqlite(path) => Ok(Box::new(SqliteStore::open(path)?)),
        DbLocation::Postgres(target) => Ok(Box::new(PgStore::open(target)?)),
    }
}

/// What every signer of an import gets unless its row says otherwise.
#[derive(Debug, Clone)]
pub struct ImportDefaults {
    pub source: Source,
    pub entered_by: Option<String>,
    /// When the rows were signed, for rows without a date (ISO 8601).
    pub signed_at: String,
}

/// What an import did, once committed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportOutcome {
    pub added: u64,
    pub duplicates: u64,
    /// Rows left out because their signer asked to be forgotten (`campaign forget`).
    pub forgotten: u64,
    /// Sheet ids never printed for the campaign, with their rows (kept as written).
    pub unknown_sheets: Vec<UnknownSheet>,
}

/// An import in progress: one all-or-nothing write. Dropped without `commit` (an error,
/// a kill), nothing of it is kept.
pub trait Import {
    /// Adds valid signers, in file order: new ones are stored, repeats counted.
    fn add_batch(&mut self, rows: &[NewSignature]) -> Result<()>;
    /// Makes every added row visible at once.
    fn commit(self: Box<Self>) -> Result<ImportOutcome>;
}

/// The operations of a campaign database, shaped by the data. Object-safe: streaming
/// reads take a callback, so a backend never builds a whole campaign in memory.
///
/// A backend maps its own "busy" and "too new" failures to the crate's
/// [`Error::Busy`] and [`Error::DatabaseTooNew`], so callers handle them once.
pub trait Store: Send {
    /// The database file, when the backend has one.
    fn path(&self) -> Option<&Path>;
    fn schema_version(&self) -> Result<i64>;

    // Campaigns.
    /// Saves a new draft under a unique slug made from `slug_base` (`-2`, `-3` when taken).
    fn insert_campaign(
        &mut self,
        draft: &CampaignDraft,
        slug_base: &str,
        owner_email: Option<&str>,
    ) -> Result<Campaign>;
    fn campaign_by_id(&self, id: i64) -> Result<Campaign>;
    /// By slug, or by id.
    fn find_campaign(&self, reference: &str) -> Result<Campaign>;
    fn list_campaigns(&self, status: Option<Status>) -> Result<Vec<CampaignSummary>>;
    /// Applies `changes` (see `domain::campaign::changes`) and records each in the
    /// edit history, at once. Returns how many fields changed.
    fn update_campaign(
        &mut self,
        campaign_id: i64,
        changes: &[FieldChange],
        edited_by: Option<&str>,
    ) -> Result<usize>;
    fn campaign_edits(&self, campaign_id: i64) -> Result<Vec<CampaignEdit>>;
    fn set_status(
        &mut self,
        campaign: &Campaign,
        status: Status,
        edited_by: Option<&str>,
    ) -> Result<()>;
    fn set_picture(&mut self, campaign_id: i64, bytes: &[u8], mime: &str) -> Result<()>;
    /// Sets the translated fields of `texts` that are `Some` for `lang` (the others stay),
    /// recording each change in the edit history (`title (es)`). Returns how many changed.
    fn set_translation(
        &mut self,
        campaign_id: i64,
        lang: Lang,
        texts: &Translation,
        edited_by: Option<&str>,
    ) -> Result<usize>;
    /// The campaign's translations, by language.
    fn translations(&self, campaign_id: i64) -> Result<Vec<Translation>>;
    /// The petition's words in `lang`: its own in its language, else the translation,
    /// each field not translated yet from the campaign's own.
    fn campaign_texts(&self, campaign: &Campaign, lang: Lang) -> Result<CampaignTexts> {
        if lang == campaign.lang {
            return Ok(CampaignTexts::of(campaign));
        }
        Ok(self
            .translations(campaign.id)?
            .into_iter()
            .find(|t| t.lang == Some(lang))
            .map_or_else(|| CampaignTexts::of(campaign), |t| t.texts(campaign)))
    }
    fn picture(&self, campaign_id: i64) -> Result<Option<(Vec<u8>, String)>>;

    // Signers.
    fn signature_counts(&self, campaign_id: i64) -> Result<SignatureCounts>;
    /// Saves one typed signer; `None` when the campaign already has them.
    fn insert_signature(&mut self, campaign_id: i64, s: &NewSignature) -> Result<Option<i64>>;
    /// Replaces signer `id`; false when another signer already has the new key.
    fn update_signature(&mut self, id: i64, s: &NewSignature) -> Result<bool>;
    fn find_signature_by_key(&self, campaign_id: i64, key: &str) -> Result<Option<Signature>>;
    /// The signers added after signer `after_id` (every one from 0), in entry order:
    /// typed entry reads the campaign once, then only what is new (the same-person check).
    fn for_each_signer_after(
        &self,
        campaign_id: i64,
        after_id: i64,
        f: &mut dyn FnMut(Signature) -> Result<()>,
    ) -> Result<()>;
    /// Signer `id` of the campaign.
    fn signature(&self, campaign_id: i64, id: i64) -> Result<Option<Signature>>;
    /// The signers entered at `line` of `sheet_id`, in entry order (one, unless two
    /// imports named the same line).
    fn signatures_at(&self, campaign_id: i64, sheet_id: &str, line: i64) -> Result<Vec<Signature>>;
    /// Replaces `old`'s fields with `new` and records `changes` in the signer history,
    /// at once, only if the row is still as `old` says (else nothing changes).
    fn edit_signature(
        &mut self,
        old: &Signature,
        new: &NewSignature,
        changes: &[FieldChange],
        edited_by: Option<&str>,
    ) -> Result<SignerEdited>;
    /// Removes a signer and records where it was, by whom and when (not its data);
    /// false when it was already gone.
    fn remove_signature(&mut self, s: &Signature, edited_by: Option<&str>) -> Result<bool>;
    /// The signer history (edits and removals), oldest first.
    fn signature_edits(&self, campaign_id: i64) -> Result<Vec<SignatureEdit>>;
    /// The highest line entered on `sheet_id` (0 for none).
    fn last_line(&self, campaign_id: i64, sheet_id: Option<&str>) -> Result<i64>;
    /// Every signer, in entry order, one at a time.
    fn for_each_signer(
        &self,
        campaign_id: i64,
        f: &mut dyn FnMut(Signature) -> Result<()>,
    ) -> Result<()>;
    /// The signers who joined the mailing list, in entry order.
    fn for_each_opted_in(
        &self,
        campaign_id: i64,
        f: &mut dyn FnMut(Signature) -> Result<()>,
    ) -> Result<()>;
    /// Counts per postcode key (see `domain::delivery::postcode_key`), in key order.
    fn signature_counts_by_postcode(
        &self,
        campaign_id: i64,
    ) -> Result<Vec<(String, SignatureCounts)>>;
    /// Counts per postcode key and per day signed together (`show --json`): one read of
    /// the signers where a backend can, rather than one per breakdown.
    fn signature_breakdown(&self, campaign_id: i64) -> Result<Breakdown> {
        Ok(Breakdown {
            by_postcode: self.signature_counts_by_postcode(campaign_id)?,
            by_day: self.signature_counts_by_day(campaign_id)?,
        })
    }
    /// Every signer with their postcode key, in key order then entry order.
    fn for_each_signer_by_postcode(
        &self,
        campaign_id: i64,
        f: &mut dyn FnMut(&str, Signature) -> Result<()>,
    ) -> Result<()>;
    /// Runs `f` on one snapshot: every read it makes agrees while others write.
    fn read_consistently(&self, f: &mut dyn FnMut(&dyn Store) -> Result<()>) -> Result<()>;

    /// Starts an import into `campaign_id`: one write transaction until `commit`.
    fn begin_import(
        &mut self,
        campaign_id: i64,
        defaults: ImportDefaults,
    ) -> Result<Box<dyn Import + '_>>;

    // Paper sheets.
    /// Records `count` sheets with ids `prefix-NNNN` (see `domain::sheets`), numbered
    /// after every sheet with that prefix, so ids stay unique across campaigns.
    fn record_sheets(
        &mut self,
        campaign_id: i64,
        prefix: &str,
        count: usize,
        lines: i64,
    ) -> Result<Vec<Sheet>>;
    fn find_sheet(&self, campaign_id: i64, sheet_id: &str) -> Result<Option<Sheet>>;
    fn sheets(&self, campaign_id: i64) -> Result<Vec<Sheet>>;

    // Organizers.
    fn admins(&self, campaign_id: i64) -> Result<Vec<Admin>>;
    fn admin(&self, campaign_id: i64, email: &str) -> Result<Option<Admin>>;
    fn add_admin(
        &mut self,
        campaign_id: i64,
        email: &str,
        invited_by: Option<&str>,
    ) -> Result<bool>;
    fn remove_admin(&mut self, campaign_id: i64, email: &str) -> Result<bool>;
    fn activate_admin(&mut self, campaign_id: i64, email: &str) -> Result<bool>;

    // Deliveries.
    fn record_delivery(&mut self, d: &NewDelivery<'_>) -> Result<Delivery>;
    fn deliveries(&self, campaign_id: i64) -> Result<Vec<Delivery>>;

    // Teams (`campaign team`): people of a shared PostgreSQL database, each with their
    // own login; a file has no users, so SQLite refuses these.
    /// What this connection's user is in the team; `None` outside one (the owner, a
    /// file, anyone given access by hand): the database then decides nothing more.
    fn team_kind(&self) -> Option<TeamKind> {
        None
    }
    /// Adds a person: a login of their own with `password`, in their role's group.
    /// Returns the user name they log in as.
    fn team_add(&mut self, member: &NewTeamMember<'_>) -> Result<String>;
    /// The people of the team, by email.
    fn team_list(&self) -> Result<Vec<TeamMember>>;
    /// Removes a person and their login; `None` when not in the team, else their user.
    fn team_remove(&mut self, email: &str) -> Result<Option<String>>;
    // Merging (`campaign merge`).
    /// What tells this database from every other, the same whatever name reached it (a
    /// symlink, a relative path): a merge into itself is refused by it.
    fn identity(&self) -> Result<String>;
    /// The campaign with this stable id.
    fn campaign_by_uid(&self, uid: Uuid) -> Result<Option<Campaign>>;
    /// The stable ids of a campaign, its sheets and its deliveries.
    fn merge_ids(&self, campaign_id: i64) -> Result<MergeIds>;
    /// Every signer with their stable id and dedupe key, in entry order.
    fn for_each_signer_row(
        &self,
        campaign_id: i64,
        f: &mut dyn FnMut(SignerRow) -> Result<()>,
    ) -> Result<()>;
    /// Starts a merge into this database: one write transaction until `commit`; dropped
    /// without it (an error, `--dry-run`, a kill), nothing of it is kept.
    fn begin_merge(&mut self) -> Result<Box<dyn MergeWrite + '_>>;
    // Privacy (issue 13): purge, the files a campaign wrote, forgetting a person.
    /// Counts per day signed (`YYYY-MM-DD` of `signed_at`), in day order; from the kept
    /// tallies once purged.
    fn signature_counts_by_day(&self, campaign_id: i64) -> Result<Vec<(String, SignatureCounts)>>;
    /// One write transaction: tallies per postcode and day from the signers, then deletes
    /// them and sets `purged_at` (kept when already set). The total stays.
    fn purge_signers(&mut self, campaign_id: i64) -> Result<PurgedSigners>;
    /// Gives back the space of deleted rows and empties the write-ahead log. Never
    /// inside a transaction.
    fn scrub(&mut self) -> Result<Scrub>;
    /// Records a file written with the campaign's signers in it (a rejects file, an
    /// export), for a purge to remove or list.
    fn record_campaign_file(
        &mut self,
        campaign_id: i64,
        kind: FileKind,
        path: &str,
        sha256: Option<&str>,
    ) -> Result<()>;
    fn campaign_files(&self, campaign_id: i64) -> Result<Vec<CampaignFile>>;
    /// Where this person appears, per campaign (reads only).
    fn find_person(&self, person: &PersonKey) -> Result<Vec<PersonMatch>>;
    /// Deletes the person from every campaign and records the tombstones of every key
    /// they had (keyed hashes, no email or name), in one write transaction.
    fn forget_person(&mut self, person: &PersonKey) -> Result<Forgotten>;
    /// Whether this dedupe key belongs to someone who asked to be forgotten (typed entry
    /// and imports check it themselves; `merge` asks here).
    fn is_forgotten(&self, dedupe_key: &str) -> Result<bool>;
    /// Every tombstone, loaded once for many checks (a merge's signers).
    fn tombstones(&self) -> Result<tombstones::Tombstones>;
}

/// A campaign's counts per postcode key and per day signed, each in key order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Breakdown {
    pub by_postcode: Vec<(String, SignatureCounts)>,
    pub by_day: Vec<(String, SignatureCounts)>,
}

/// A campaign's stable ids (see `crate::uid`); `None` for a row written without one.
#[derive(Debug, Clone, Default)]
pub struct MergeIds {
    pub campaign: Option<Uuid>,
    /// By sheet id.
    pub sheets: Vec<(String, Option<Uuid>)>,
    /// By delivery id.
    pub deliveries: Vec<(i64, Option<Uuid>)>,
}

impl MergeIds {
    pub fn sheet(&self, sheet_id: &str) -> Option<Uuid> {
        self.sheets
            .iter()
            .find(|(id, _)| id == sheet_id)
            .and_then(|(_, u)| *u)
    }
    pub fn delivery(&self, id: i64) -> Option<Uuid> {
        self.deliveries
            .iter()
            .find(|(d, _)| *d == id)
            .and_then(|(_, u)| *u)
    }
}

/// A stored signer as a merge carries it: with its stable id and its dedupe key.
#[derive(Debug, Clone)]
pub struct SignerRow {
    pub uid: Option<Uuid>,
    pub dedupe_key: String,
    pub signature: Signature,
}

/// What became of one incoming signer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MergedSigner {
    /// New here: stored with its id (the new row's local id).
    Added(i64),
    /// Merged before: the row with the same stable id.
    Already(i64),
    /// Another signer of the campaign has the same key (email, or name and postcode).
    Duplicate,
}

/// A merge in progress: one write transaction. Every `add_*` adds only what is missing
/// and says whether it did; reads through [`MergeWrite::store`] see what it has added.
pub trait MergeWrite {
    /// The target, read inside the merge's transaction.
    fn store(&self) -> &dyn Store;
    /// The campaign and stable id of the sheet `sheet_id`, whichever campaign has it.
    fn sheet_owner(&self, sheet_id: &str) -> Result<Option<(i64, Option<Uuid>)>>;
    /// Adds a campaign as it is elsewhere (slug, text, status, owner, times, picture);
    /// `None` when its slug is taken here.
    fn add_campaign(
        &mut self,
        uid: Uuid,
        c: &Campaign,
        picture: Option<&(Vec<u8>, String)>,
    ) -> Result<Option<i64>>;
    /// Adds a translation the campaign has not got in that language.
    fn add_translation(&mut self, campaign_id: i64, t: &Translation) -> Result<bool>;
    fn add_admin(&mut self, campaign_id: i64, a: &Admin) -> Result<bool>;
    /// Adds a sheet under its own id (no sheet may have that id yet).
    fn add_sheet(&mut self, campaign_id: i64, uid: Option<Uuid>, s: &Sheet) -> Result<bool>;
    /// Adds signers (a batch: one round trip to a server far away, not one per row),
    /// saying what became of each, in order.
    fn add_signatures(&mut self, campaign_id: i64, rows: &[SignerRow])
        -> Result<Vec<MergedSigner>>;
    /// Adds a delivery record unless one with its stable id is here.
    fn add_delivery(&mut self, campaign_id: i64, uid: Option<Uuid>, d: &Delivery) -> Result<bool>;
    /// Adds a campaign history entry unless the same one is here.
    fn add_campaign_edit(&mut self, campaign_id: i64, e: &CampaignEdit) -> Result<bool>;
    /// Adds a signer history entry unless the same one is here.
    fn add_signature_edit(&mut self, campaign_id: i64, e: &SignatureEdit) -> Result<bool>;
    /// Makes everything added visible at once.
    fn commit(self: Box<Self>) -> Result<()>;
}

/// The number of a sheet id (`OAK-0007` is 7); 0 for an id not written as `PREFIX-NNNN`.
pub fn sheet_seq(sheet_id: &str) -> i64 {
    sheet_id
        .rsplit_once('-')
        .and_then(|(_, n)| n.parse().ok())
        .unwrap_or(0)
}

/// Opens an existing campaign database to read from (what `campaign merge` takes in):
/// never created, never given a schema. One at the current schema is opened read-only;
/// an older one is brought up to date first (as any command would); a newer one, or
/// one that is not a campaign database, is refused untouched.
pub fn open_existing(location: &DbLocation) -> Result<Box<dyn Store>> {
    match location {
        DbLocation::Sqlite(path) => Ok(Box::new(SqliteStore::open_existing(path)?)),
        DbLocation::Postgres(target) => Ok(Box::new(PgStore::open_existing(target)?)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Error;

    #[test]
    fn a_postgres_url_is_a_server_and_a_path_is_a_file() {
        for url in ["postgres://u@h/db", "postgresql://h/db", "POSTGRES://h"] {
            let location = DbLocation::parse(OsStr::new(url)).unwrap();
            assert!(matches!(location, DbLocation::Postgres(_)), "{url}");
            assert_eq!(location.file(), None);
        }
        assert_eq!(
            DbLocation::parse(OsStr::new("postgres.db")).unwrap(),
            DbLocation::Sqlite("postgres.db".into())
        );
        let err = DbLocation::parse(OsStr::new("postgres://ana:pw@h/db?sslmod=x")).unwrap_err();
        assert!(matches!(err, Error::Usage(_)), "{err}");
        let shown = DbLocation::parse(OsStr::new("postgres://ana:pw@h/db"))
            .unwrap()
            .to_string();
        assert_eq!(shown, "postgres://ana:***@h:5432/db");
    }
}
