//! Plain data shared by every layer. Serialized as-is by `--json`.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

macro_rules! string_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(rename_all = "lowercase")]
        pub enum $name { $($variant),+ }

        impl $name {
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = String;
            fn from_str(s: &str) -> Result<Self, String> {
                match s {
                    $($text => Ok($name::$variant),)+
                    other => Err(format!(concat!("unknown ", stringify!($name), " {:?}"), other)),
                }
            }
        }
    };
}

string_enum!(
    /// Where a campaign is: a place, or the whole country, or the world.
    Scope { Local => "local", National => "national", Global => "global" }
);
string_enum!(
    /// New campaigns are drafts; launching makes them live; they can go offline and back.
    Status { Draft => "draft", Live => "live", Offline => "offline" }
);
string_enum!(
    /// Languages of the tool's own words (documents, emails, share texts).
    Lang { En => "en", Es => "es" }
);
string_enum!(
    /// Where a signature came from.
    Source { Paper => "paper", Online => "online" }
);
string_enum!(
    /// An admin is invited until they first use the campaign with a matching account.
    AdminStatus { Invited => "invited", Active => "active" }
);

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Campaign {
    pub id: i64,
    pub slug: String,
    pub title: String,
    pub target: String,
    pub ask: String,
    pub why: String,
    pub scope: Scope,
    pub location: Option<String>,
    pub postcode: Option<String>,
    pub country: Option<String>,
    pub goal: Option<i64>,
    pub url: Option<String>,
    pub lang: Lang,
    pub status: Status,
    /// MIME type of the stored picture (`image/png` or `image/jpeg`), if any.
    pub picture_mime: Option<String>,
    pub owner_email: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    /// How long the signers' personal data is kept after the last delivery (`180d`).
    #[serde(default)]
    pub retain: Option<String>,
    /// When its signers' personal data was purged (counts and deliveries are kept).
    #[serde(default)]
    pub purged_at: Option<String>,
}

impl Campaign {
    /// "Oakland, CA", "National", "Global": where the campaign is, for people.
    pub fn place(&self) -> String {
        match self.scope {
            Scope::Local => {
                let mut place = self.location.clone().unwrap_or_default();
                if let Some(code) = &self.postcode {
                    place.push_str(&format!(" {code}"));
                }
                place
            }
            Scope::National => match &self.country {
                Some(c) => format!("National ({c})"),
                None => "National".into(),
            },
            Scope::Global => "Global".into(),
        }
    }
}

/// The editable text fields of a campaign: what `new` gathers and `edit` changes.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CampaignDraft {
    pub title: String,
    pub target: String,
    pub ask: String,
    pub why: String,
    pub scope: Option<Scope>,
    pub location: Option<String>,
    pub postcode: Option<String>,
    pub country: Option<String>,
    pub goal: Option<i64>,
    pub url: Option<String>,
    pub lang: Option<Lang>,
}

/// Signature counts for a campaign, by source and by privacy.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignatureCounts {
    pub total: i64,
    pub paper: i64,
    pub online: i64,
    /// Signers who asked not to be named to the target.
    pub private: i64,
}

/// One row of `campaign list`: a campaign and its counts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CampaignSummary {
    #[serde(flatten)]
    pub campaign: Campaign,
    pub signatures: SignatureCounts,
    /// When it was last delivered, if ever.
    pub last_delivered_at: Option<String>,
    /// The day its purge is due (`--retain` after the last delivery), if it has one
    /// (see `domain::privacy::summary`).
    pub purge_due: Option<String>,
}

/// One change to a campaign's text, kept because people signed the old text.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CampaignEdit {
    pub field: String,
    pub old_value: Option<String>,
    pub new_value: Option<String>,
    pub edited_by: Option<String>,
    pub edited_at: String,
}

/// How an edit of a saved signer went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignerEdited {
    Saved,
    /// Another signer of the campaign already has the new email (or name and postcode).
    KeyTaken,
    /// The row changed (or was removed) since it was read: nothing saved.
    ChangedMeanwhile,
}

/// The petition's own words in one language: what documents, share texts and emails in
/// that language print.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CampaignTexts {
    pub title: String,
    pub target: String,
    pub ask: String,
    pub why: String,
}

impl CampaignTexts {
    /// The campaign's own text (in its language).
    pub fn of(c: &Campaign) -> CampaignTexts {
        CampaignTexts {
            title: c.title.clone(),
            target: c.target.clone(),
            ask: c.ask.clone(),
            why: c.why.clone(),
        }
    }

    /// `c` speaking these words (for code that takes a whole campaign).
    pub fn applied_to(&self, c: &Campaign) -> Campaign {
        Campaign {
            title: self.title.clone(),
            target: self.target.clone(),
            ask: self.ask.clone(),
            why: self.why.clone(),
            ..c.clone()
        }
    }
}

/// A translation of the petition's text as stored: a field not translated yet is `None`
/// (the campaign's own is used there).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Translation {
    pub lang: Option<Lang>,
    pub title: Option<String>,
    pub target: Option<String>,
    pub ask: Option<String>,
    pub why: Option<String>,
}

impl Translation {
    /// The fields not translated yet.
    pub fn missing(&self) -> Vec<&'static str> {
        [
            ("title", &self.title),
            ("target", &self.target),
            ("ask", &self.ask),
            ("why", &self.why),
        ]
        .into_iter()
        .filter(|(_, v)| v.as_deref().is_none_or(|v| v.trim().is_empty()))
        .map(|(f, _)| f)
        .collect()
    }

    /// The texts in this language, each missing field from `own`.
    pub fn texts(&self, own: &Campaign) -> CampaignTexts {
        let pick = |t: &Option<String>, o: &str| {
            t.clone()
                .filter(|t| !t.trim().is_empty())
                .unwrap_or_else(|| o.to_string())
        };
        CampaignTexts {
            title: pick(&self.title, &own.title),
            target: pick(&self.target, &own.target),
            ask: pick(&self.ask, &own.ask),
            why: pick(&self.why, &own.why),
        }
    }
}

/// One change to a saved signer (`campaign signer edit|remove`): a field's old and new
/// value, or a removal (no field, no values: a removed signer's data is not kept).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SignatureEdit {
    pub signature_id: i64,
    /// Where the row was when it changed.
    pub sheet_id: Option<String>,
    pub line: Option<i64>,
    /// `edit` or `remove`.
    pub action: String,
    pub field: Option<String>,
    pub old_value: Option<String>,
    pub new_value: Option<String>,
    pub edited_by: Option<String>,
    pub edited_at: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Admin {
    pub email: String,
    pub status: AdminStatus,
    pub invited_by: Option<String>,
    pub invited_at: String,
    pub activated_at: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Signature {
    pub id: i64,
    pub campaign_id: i64,
    pub name: String,
    pub email: Option<String>,
    pub postcode: Option<String>,
    /// E.164 when it parsed; as written otherwise (see `phone_valid`).
    pub phone: Option<String>,
    pub phone_valid: bool,
    pub opt_in: bool,
    /// Counted, never named to the target.
    pub private: bool,
    pub source: Source,
    pub sheet_id: Option<String>,
    pub line: Option<i64>,
    pub entered_by: Option<String>,
    pub signed_at: String,
}

/// A printed paper sheet; entered rows point back to it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Sheet {
    pub sheet_id: String,
    pub campaign_id: i64,
    pub lines: i64,
    pub printed_at: String,
}

impl Sheet {
    /// A sheet's id from its prefix and number: `OAK-0007`.
    pub fn id(prefix: &str, seq: i64) -> String {
        format!("{prefix}-{seq:04}")
    }
}

/// A record of one delivery document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Delivery {
    pub id: i64,
    pub campaign_id: i64,
    pub delivered_at: String,
    pub show_level: String,
    pub included_fields: Vec<String>,
    pub recipient: Option<String>,
    pub file: String,
    pub file_sha256: String,
    pub signatures: i64,
}

/// A validated, normalized signer ready to store (see `domain::signer`).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct NewSignature {
    pub name: String,
    pub email: Option<String>,
    pub postcode: Option<String>,
    pub phone: Option<String>,
    pub phone_valid: bool,
    pub opt_in: bool,
    pub private: bool,
    pub source: Option<Source>,
    pub sheet_id: Option<String>,
    pub line: Option<i64>,
    pub entered_by: Option<String>,
    /// RFC 3339, when the row says when it was signed (an export); else the time stored.
    pub signed_at: Option<String>,
    /// Normalized email, or name+postcode without one: one signer, one row.
    pub dedupe_key: String,
}

/// Why a row cannot be stored: the field and what is wrong, in words for a volunteer.
/// `message` never quotes the signer's data (it may reach logs); `value` holds what was
/// written, for the private rejects file only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub field: &'static str,
    pub message: String,
    pub value: Option<String>,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

/// Changes to a campaign: `None` leaves a field alone; `Some(None)` clears an optional one.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CampaignUpdate {
    pub title: Option<String>,
    pub target: Option<String>,
    pub ask: Option<String>,
    pub why: Option<String>,
    pub scope: Option<Scope>,
    pub location: Option<Option<String>>,
    pub postcode: Option<Option<String>>,
    pub country: Option<Option<String>>,
    pub goal: Option<Option<i64>>,
    pub url: Option<Option<String>>,
    pub lang: Option<Lang>,
    /// `--retain`: a period, or `Some(None)` to clear it.
    pub retain: Option<Option<String>>,
}

impl CampaignUpdate {
    pub fn is_empty(&self) -> bool {
        *self == CampaignUpdate::default()
    }
}

/// What to record about one delivery document.
#[derive(Debug, Clone)]
pub struct NewDelivery<'a> {
    pub campaign_id: i64,
    pub show_level: &'a str,
    pub included_fields: &'a [String],
    pub recipient: Option<&'a str>,
    pub file: &'a str,
    pub file_sha256: &'a str,
    pub signatures: i64,
}

/// One field of a campaign changed: its column, and the values before and after (as
/// text; `None` when empty).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldChange {
    pub field: &'static str,
    pub old: Option<String>,
    pub new: Option<String>,
}

string_enum!(
    /// A person of a team on a shared PostgreSQL database (`campaign team`): an organizer
    /// does everything on their campaigns; a volunteer adds signatures and reads none.
    TeamKind { Organizer => "organizer", Volunteer => "volunteer" }
);

/// A person of the team, as `campaign team list` shows them (never a password).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TeamMember {
    pub email: String,
    pub role: TeamKind,
    /// The PostgreSQL user they log in as.
    pub user: String,
    /// The slugs of their campaigns; `None`: every campaign.
    pub campaigns: Option<Vec<String>>,
    pub created_at: String,
}

/// Someone to add to the team.
#[derive(Debug, Clone)]
pub struct NewTeamMember<'a> {
    pub email: &'a str,
    pub role: TeamKind,
    /// Campaign ids; `None`: every campaign.
    pub campaigns: Option<&'a [i64]>,
    /// Sent to the server only as its SCRAM verifier.
    pub password: &'a str,
}

/// What `Store::purge_signers` did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PurgedSigners {
    /// Signer rows deleted (0 when the campaign was purged already).
    pub signers: u64,
    pub purged_at: String,
}

/// What `Store::scrub` did: whether deleted rows are gone from the file and its log.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Scrub {
    pub complete: bool,
    /// For a person, when it was not complete (another process reading, no right to VACUUM).
    pub note: Option<String>,
}

/// A file campaign wrote that carries signers' data (kept to remove at a purge).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum FileKind {
    Rejects,
    Export,
}

impl FileKind {
    pub fn as_str(self) -> &'static str {
        match self {
            FileKind::Rejects => "rejects",
            FileKind::Export => "export",
        }
    }
}

/// A recorded file of a campaign.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CampaignFile {
    pub kind: FileKind,
    pub path: String,
    pub sha256: Option<String>,
    pub written_at: String,
}

/// Who `campaign forget` is about: the dedupe keys they would have (email, or name and
/// postcode, see `domain::signer::dedupe_key`; more than one when postcode rules differ
/// between campaigns), and whether they were named by name and postcode (then rows that
/// have an email too match when their name and postcode give one of the keys).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonKey {
    pub keys: Vec<String>,
    pub by_name: bool,
}

/// Where a person appears: one campaign.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PersonMatch {
    pub campaign_id: i64,
    pub slug: String,
    pub rows: u64,
}

/// What `Store::forget_person` did.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct Forgotten {
    pub rows: u64,
    pub campaigns: u64,
    /// Tombstones added (keys already forgotten are not counted twice).
    pub tombstones: u64,
}
