//! Purge after delivery and forgetting one person (issue 13), without a terminal: a plan
//! of what would go (shown, asked, or printed by `--dry-run`), then the work — the
//! database first, then the files, then a scrub of the deleted rows.

use std::collections::BTreeSet;
use std::io::Read;
use std::path::{Path, PathBuf};

use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};
use crate::fsutil::Files;
use crate::mail::Outbox;
use crate::model::{Campaign, FileKind, Forgotten, PersonKey, PersonMatch, Scrub};
use crate::paths::Paths;
use crate::store::Store;

/// What the purge does with one file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FileAction {
    /// It carries signers' names: removed.
    Remove,
    /// A delivery file that changed since it was delivered: not ours to remove any more.
    KeepChanged,
    /// Recorded, but not there (moved, removed, or on another computer).
    KeepMissing,
    /// Not a regular file (a symlink, a device): never followed, never removed.
    KeepNotAFile,
    /// An export written elsewhere: listed for the person to delete.
    ListOnly,
}

/// One file the purge knows about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PlannedFile {
    pub path: PathBuf,
    /// `delivery`, `email`, `sent email`, `rejects`, `export`.
    pub what: &'static str,
    pub action: FileAction,
}

/// Everything a purge would do to one campaign.
#[derive(Debug, Clone, Serialize)]
pub struct PurgePlan {
    pub slug: String,
    #[serde(skip)]
    pub campaign_id: i64,
    /// Signer rows that would be deleted (0 once purged).
    pub signers: i64,
    pub purged_at: Option<String>,
    pub files: Vec<PlannedFile>,
    /// Emails about this campaign still waiting in the outbox (never sent).
    pub unsent: usize,
}

impl PurgePlan {
    pub fn removing(&self) -> usize {
        self.files
            .iter()
            .filter(|f| f.action == FileAction::Remove)
            .count()
    }
}

/// What a purge did.
#[derive(Debug, Clone, Serialize)]
pub struct PurgeOutcome {
    pub slug: String,
    pub signers: u64,
    pub purged_at: String,
    pub removed: Vec<PathBuf>,
    pub kept: Vec<PlannedFile>,
    pub scrub_complete: bool,
    #[serde(skip)]
    pub note: Option<String>,
}

fn sha256_of(path: &Path) -> Option<String> {
    let mut file = std::fs::File::open(path).ok()?;
    let mut hash = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        match file.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => hash.update(&buf[..n]),
            Err(_) => return None,
        }
    }
    Some(format!("{:x}", hash.finalize()))
}

/// What is at `path`: a regular file (not followed through a symlink), nothing, or
/// something else.
fn kind_of(path: &Path) -> Option<bool> {
    match std::fs::symlink_metadata(path) {
        Ok(m) => Some(m.is_file()),
        Err(_) => None,
    }
}

/// The refusal for what needs the names of a purged campaign.
pub fn refuse_purged(campaign: &Campaign, needs: &str) -> Result<()> {
    match &campaign.purged_at {
        Some(at) => Err(Error::Purged {
            slug: campaign.slug.clone(),
            purged_at: at.clone(),
            needs: needs.to_string(),
        }),
        None => Ok(()),
    }
}

/// Reads what a purge of `campaign` would remove and keep. Reads only.
pub fn plan_purge(store: &dyn Store, paths: &Paths, campaign: &Campaign) -> Result<PurgePlan> {
    let signers = if campaign.purged_at.is_some() {
        0
    } else {
        store.signature_counts(campaign.id)?.total
    };
    let mut files = Vec::new();
    let mut seen = BTreeSet::new();
    let mut add = |files: &mut Vec<PlannedFile>, path: PathBuf, what, action| {
        if seen.insert(path.clone()) {
            files.push(PlannedFile { path, what, action });
        }
    };
    for d in store.deliveries(campaign.id)? {
        let path = PathBuf::from(&d.file);
        let action = match kind_of(&path) {
            None => FileAction::KeepMissing,
            Some(false) => FileAction::KeepNotAFile,
            Some(true) if sha256_of(&path).as_deref() == Some(d.file_sha256.as_str()) => {
                FileAction::Remove
            }
            Some(true) => FileAction::KeepChanged,
        };
        add(&mut files, path, "delivery", action);
    }
    let outbox = Outbox::new(paths);
    let ours = |slug: &Option<String>| slug.as_deref() == Some(campaign.slug.as_str());
    let mut unsent = 0;
    for (list, what) in [
        (outbox.list()?, "email"),
        (outbox.list_sent()?, "sent email"),
    ] {
        for q in list.into_iter().filter(|q| ours(&q.info.campaign)) {
            if what == "email" {
                unsent += 1;
            }
            let dir = q.file.parent().map(Path::to_path_buf).unwrap_or_default();
            for ext in ["eml", "json", "reason"] {
                let path = dir.join(format!("{}.{ext}", q.id));
                if let Some(regular) = kind_of(&path) {
                    let action = if regular {
                        FileAction::Remove
                    } else {
                        FileAction::KeepNotAFile
                    };
                    add(&mut files, path, what, action);
                }
            }
        }
    }
    for f in store.campaign_files(campaign.id)? {
        let path = PathBuf::from(&f.path);
        let (what, action) = match (f.kind, kind_of(&path)) {
            (FileKind::Export, _) => ("export", FileAction::ListOnly),
            (FileKind::Rejects, None) => ("rejects", FileAction::KeepMissing),
            (FileKind::Rejects, Some(false)) => ("rejects", FileAction::KeepNotAFile),
            (FileKind::Rejects, Some(true)) => ("rejects", FileAction::Remove),
        };
        add(&mut files, path, what, action);
    }
    Ok(PurgePlan {
        slug: campaign.slug.clone(),
        campaign_id: campaign.id,
        signers,
        purged_at: campaign.purged_at.clone(),
        files,
        unsent,
    })
}

/// Purges: the signers (one transaction), then the files the plan removes, then a scrub
/// of the file and its log. Unsent emails stop it unless `discard_unsent`. Idempotent:
/// on a purged campaign only files are removed and the database scrubbed.
pub fn purge(
    store: &mut dyn Store,
    files: &Files,
    plan: &PurgePlan,
    discard_unsent: bool,
) -> Result<PurgeOutcome> {
    if plan.unsent > 0 && !discard_unsent {
        let (emails, them) = if plan.unsent == 1 {
            ("1 email".to_string(), "it")
        } else {
            (format!("{} emails", plan.unsent), "them")
        };
        return Err(Error::Refused(format!(
            "{emails} of {slug} still waiting in the outbox, with signers' names: send {them} \
             first (`campaign outbox --send`) or pass --discard-unsent to delete {them}; \
             nothing was purged",
            slug = plan.slug
        )));
    }
    let done = store.purge_signers(plan.campaign_id)?;
    let mut removed = Vec::new();
    let mut kept = Vec::new();
    for f in &plan.files {
        if f.action == FileAction::Remove {
            match files.remove(&f.path) {
                Ok(true) => removed.push(f.path.clone()),
                Ok(false) => kept.push(PlannedFile {
                    action: FileAction::KeepMissing,
                    ..f.clone()
                }),
                Err(e) => return Err(e),
            }
        } else {
            kept.push(f.clone());
        }
    }
    let Scrub { complete, note } = store.scrub()?;
    Ok(PurgeOutcome {
        slug: plan.slug.clone(),
        signers: done.signers,
        purged_at: done.purged_at,
        removed,
        kept,
        scrub_complete: complete,
        note,
    })
}

/// What forgetting a person would touch: the campaigns they are in, and the delivery
/// files and emails already written for those campaigns (which may name them).
#[derive(Debug, Clone, Serialize)]
pub struct ForgetPlan {
    pub campaigns: Vec<PersonMatch>,
    /// Documents already handed over that may name them: forget cannot change those.
    pub handed_over: Vec<PathBuf>,
}

pub fn plan_forget(store: &dyn Store, person: &PersonKey) -> Result<ForgetPlan> {
    let campaigns = store.find_person(person)?;
    let mut handed_over = Vec::new();
    for m in &campaigns {
        for d in store.deliveries(m.campaign_id)? {
            handed_over.push(PathBuf::from(d.file));
        }
    }
    handed_over.sort();
    handed_over.dedup();
    Ok(ForgetPlan {
        campaigns,
        handed_over,
    })
}

/// Forgets the person everywhere (one transaction), then scrubs their rows out of the
/// file and its log.
pub fn forget(store: &mut dyn Store, person: &PersonKey) -> Result<(Forgotten, Scrub)> {
    let forgotten = store.forget_person(person)?;
    let scrub = store.scrub()?;
    Ok((forgotten, scrub))
}
