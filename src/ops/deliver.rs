//! Delivering petitions: one [`DeliveryPlan`] decides every output path once (a file, a
//! folder, split files, numbering of taken names), then [`run`] delivers the campaigns on
//! their own lanes, each with its own store, emails and records each file written, and
//! returns the batch's [`Outcome`]. The command asks, and shows the outcome; nothing here
//! prints.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::Serialize;
use sha2::{Digest, Sha256};
use unicode_normalization::UnicodeNormalization;

use crate::config::Account;
use crate::domain::delivery::shown_signer;
use crate::domain::delivery::{ContactField, ShowLevel};
use crate::error::Error;
use crate::fsutil::{self, Files, OutFile};
use crate::mail::{Posted, Postman};
use crate::model::NewDelivery;
use crate::model::{Campaign, Lang, Signature, SignatureCounts};
use crate::paths::Paths;
use crate::render::mail::{delivery_email, DeliveryText, Part};
use crate::render::pdf::delivery::{
    self, check_printable, write_delivery, DeliveryDoc, Uncovered, Unprintable,
};
use crate::render::pdf::{Paper, PetitionText};
use crate::store::{DbLocation, Store};

/// How the signers are split into files.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SplitBy {
    /// One PDF per postcode.
    Postcode,
}

impl SplitBy {
    pub fn as_str(self) -> &'static str {
        match self {
            SplitBy::Postcode => "postcode",
        }
    }
}

impl std::str::FromStr for SplitBy {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        [SplitBy::Postcode]
            .into_iter()
            .find(|b| b.as_str() == s)
            .ok_or_else(|| format!("unknown split {s:?}"))
    }
}

/// What every document of a delivery shows.
#[derive(Debug, Clone)]
pub struct Request {
    pub show: ShowLevel,
    /// Sorted, without repeats.
    pub include: Vec<ContactField>,
    /// The document's language [default: each campaign's].
    pub lang: Option<Lang>,
    pub split: Option<SplitBy>,
    /// The day of the letter (written out on the cover, `2026-12-01` in file names).
    pub today: time::Date,
    /// Who asks for the delivery: the cover letter is from them.
    pub requester: Requester,
    /// [default: by the campaign's country, else the account's]
    pub paper: Option<Paper>,
    /// Print a placeholder for a name no font draws (and count it on the cover) instead
    /// of refusing the delivery.
    pub allow_unprintable: bool,
}

impl Request {
    /// The date in file names: `2026-12-01`.
    fn date(&self) -> String {
        self.today.to_string()
    }
}

/// Who asks for a delivery, from the account: the organization and name the cover letter
/// is signed with (the email only when asked), and the country, the paper size's fallback.
#[derive(Debug, Clone, Default)]
pub struct Requester {
    pub organization: String,
    pub name: String,
    pub email: Option<String>,
    pub country: Option<String>,
}

impl Requester {
    pub fn of(account: Option<&Account>, include_email: bool) -> Requester {
        let Some(a) = account else {
            return Requester::default();
        };
        Requester {
            organization: a.display_organization(),
            name: a.name.clone().unwrap_or_default(),
            email: a.email.clone().filter(|_| include_email),
            country: a.country.clone(),
        }
    }
}

/// One campaign that could not be delivered, with why: the batch goes on without it,
/// and the command reports every failure in one place.
#[derive(Debug)]
pub struct CampaignFailure {
    pub campaign: String,
    pub error: anyhow::Error,
}

/// Where a delivery's emails go: the target's address, and the postman who queues (or,
/// with `--send`, sends) them.
pub struct Emailing {
    to: String,
    pub postman: Postman,
}

impl Emailing {
    /// Checks the address, the account and the SMTP setting (with `send`) first, so a
    /// mistake costs nothing.
    pub fn new(paths: &Paths, account: &Account, to: &str, send: bool) -> anyhow::Result<Emailing> {
        let to = to.trim();
        if !crate::domain::email_ok(to) {
            return Err(Error::Usage(format!(
                "--email-to {to:?} is not an email address like mayor@example.gov"
            ))
            .into());
        }
        Ok(Emailing {
            to: to.to_string(),
            postman: Postman::new(paths, account, send)?,
        })
    }

    /// Queues (or sends) the email for one delivered file, in the document's language.
    fn post(
        &self,
        campaign: &Campaign,
        lang: Lang,
        petition: &PetitionText,
        file: &DeliveredFile,
        campaign_total: i64,
    ) -> anyhow::Result<Posted> {
        let about = DeliveryText {
            slug: campaign.slug.clone(),
            lang,
            petition: petition.clone(),
        };
        let mail = delivery_email(
            &self.postman.sender,
            &about,
            &self.to,
            file.signatures,
            file.postcode.as_deref().map(|postcode| Part {
                postcode,
                campaign_total,
            }),
            Path::new(&file.file),
        )?;
        Ok(self.postman.post(&mail)?)
    }
}

/// Emails each file of a delivered campaign (with `emailing`), then records it: when,
/// what it showed, to whom, and its hash.
fn email_and_record(
    store: &mut dyn Store,
    emailing: Option<&Emailing>,
    lang: Option<Lang>,
    delivered: &mut Delivered,
) -> anyhow::Result<()> {
    let campaign = &delivered.campaign;
    // Split files together hold every signer of the campaign.
    let total = delivered.files.iter().map(|f| f.signatures).sum();
    let lang = lang.unwrap_or(campaign.lang);
    let petition = match emailing {
        Some(_) => Some(petition_text(&*store, campaign, lang)?),
        None => None,
    };
    for f in &mut delivered.files {
        if let (Some(emailing), Some(petition)) = (emailing, &petition) {
            f.email = Some(emailing.post(campaign, lang, petition, f, total)?);
        }
        let included: Vec<String> = f.included.iter().map(|c| c.as_str().to_string()).collect();
        store.record_delivery(&NewDelivery {
            campaign_id: campaign.id,
            show_level: f.show.as_str(),
            included_fields: &included,
            recipient: Some(
                f.email
                    .as_ref()
                    .map_or(campaign.target.as_str(), |e| e.to.as_str()),
            ),
            file: &f.file,
            file_sha256: &f.sha256,
            signatures: f.signatures,
        })?;
    }
    Ok(())
}

/// How many signers' emails and phones a delivery with `show` and `include` puts in
/// front of the target (private signers are never listed).
pub fn contacts_shown(
    store: &dyn Store,
    campaign_id: i64,
    show: ShowLevel,
    include: &[ContactField],
) -> anyhow::Result<(u64, u64)> {
    let (mut emails, mut phones) = (0u64, 0u64);
    store.for_each_signer(campaign_id, &mut |s: Signature| {
        if let Some(shown) = shown_signer(&s, show, include) {
            emails += u64::from(shown.email.is_some());
            phones += u64::from(shown.phone.is_some());
        }
        Ok(())
    })?;
    Ok((emails, phones))
}

/// One campaign delivered: its files (several with a split).
#[derive(Debug)]
struct Delivered {
    campaign: Campaign,
    files: Vec<DeliveredFile>,
}

/// What a delivery batch did: every file written (emailed and recorded), and the
/// campaigns that could not be delivered, each with why.
#[derive(Debug, Default)]
pub struct Outcome {
    pub files: Vec<DeliveredFile>,
    pub failed: Vec<CampaignFailure>,
}

impl Outcome {
    /// How many campaigns were delivered (have a file).
    pub fn campaigns_delivered(&self) -> usize {
        let campaigns: std::collections::BTreeSet<&str> =
            self.files.iter().map(|f| f.campaign.as_str()).collect();
        campaigns.len()
    }

    /// How many files' emails could not be sent (they wait in the outbox).
    pub fn unsent(&self) -> usize {
        self.files
            .iter()
            .filter(|f| f.email.as_ref().is_some_and(|e| e.failure.is_some()))
            .count()
    }

    /// The error the batch ends with once it is shown: the campaigns that failed, else
    /// the emails not sent.
    pub fn into_result(self) -> Result<(), Error> {
        if !self.failed.is_empty() {
            let total = self.campaigns_delivered() + self.failed.len();
            return Err(Error::CampaignsFailed {
                failures: self
                    .failed
                    .into_iter()
                    .map(|f| (f.campaign, format!("{:#}", f.error)))
                    .collect(),
                total,
            });
        }
        match self.unsent() {
            0 => Ok(()),
            unsent => Err(Error::SomeNotSent {
                failed: unsent,
                total: self.files.len(),
            }),
        }
    }
}

/// What every campaign of a delivery batch shares: its plan, what each document shows,
/// the database (each lane opens its own store there) and the file helper.
pub struct Batch<'a> {
    pub plan: &'a DeliveryPlan,
    pub request: &'a Request,
    pub db: &'a DbLocation,
    pub files: &'a Files,
}

/// Delivers every campaign, several at once (see [`in_lanes`]); `done` hears of each
/// campaign written. Then, in the campaigns' order, emails each file (with `emailing`) and
/// records it in `store`. A campaign that cannot be delivered is a failure of its own in
/// the outcome, and the others go on; an error stops the batch (a record or an email
/// that cannot be written).
pub fn run(
    store: &mut dyn Store,
    batch: &Batch<'_>,
    campaigns: Vec<Result<Campaign, CampaignFailure>>,
    emailing: Option<&Emailing>,
    done: &(dyn Fn() + Sync),
) -> anyhow::Result<Outcome> {
    let results = deliver_all(batch, campaigns, done);
    let mut outcome = Outcome::default();
    for r in results {
        match r {
            Ok(mut delivered) => {
                email_and_record(store, emailing, batch.request.lang, &mut delivered)?;
                outcome.files.extend(delivered.files);
            }
            Err(failure) => outcome.failed.push(failure),
        }
    }
    Ok(outcome)
}

/// Writes every campaign's PDFs on lanes, each campaign through its own store; outcomes
/// come back in the campaigns' order.
fn deliver_all(
    batch: &Batch<'_>,
    campaigns: Vec<Result<Campaign, CampaignFailure>>,
    done: &(dyn Fn() + Sync),
) -> Vec<Result<Delivered, CampaignFailure>> {
    fsutil::sweep_partials(&batch.plan.folder());
    in_lanes(campaigns, lanes(), |c| {
        let c = c?;
        let r = deliver_one(batch, &c)
            .map_err(|error| CampaignFailure {
                campaign: c.slug.clone(),
                error,
            })
            .map(|files| Delivered { campaign: c, files });
        done();
        r
    })
}

/// One PDF written: what `--json` prints, one per file.
#[derive(Debug, Clone, Serialize)]
pub struct DeliveredFile {
    pub campaign: String,
    pub file: String,
    /// Set with --split-by postcode ("" for signers without one).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub postcode: Option<String>,
    pub signatures: i64,
    pub paper: i64,
    pub online: i64,
    pub private: i64,
    pub listed: u64,
    pub pages: u32,
    pub show: ShowLevel,
    pub included: Vec<ContactField>,
    pub sha256: String,
    /// The delivery email, with --email-to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<Posted>,
    /// Signers whose names have characters no font here draws (first ones).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub uncovered: Vec<Uncovered>,
}

/// Several PDFs go into a folder: refuses an `--out` that looks like one file rather than
/// quietly making a folder named `petition.pdf`. `several`: more than one campaign.
pub fn check_out(out: Option<&Path>, several: bool, split: Option<SplitBy>) -> Result<(), Error> {
    let several = several || split.is_some();
    let Some(out) = out.filter(|_| several) else {
        return Ok(());
    };
    let pdf_name = out
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("pdf"));
    if pdf_name || out.is_file() {
        let why = if split.is_some() {
            "--split-by writes one PDF per postcode"
        } else {
            "several campaigns make one PDF each"
        };
        return Err(Error::Usage(format!(
            "--out {} is a file, but {why}: give --out a folder",
            out.display()
        )));
    }
    Ok(())
}

/// Where one campaign's PDFs go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// The file --out names: replaced once the new PDF is complete.
    File(PathBuf),
    /// A folder: each PDF under a new name there (numbered if taken).
    Folder(PathBuf),
}

/// Every output path of a delivery, decided once.
#[derive(Debug)]
pub struct DeliveryPlan {
    pub target: Target,
    /// Files earlier deliveries recorded (resolved), with what they were: never reused.
    recorded: HashMap<PathBuf, String>,
}

impl DeliveryPlan {
    /// `out` as given (`None`: the documents folder `documents`); `many` when several
    /// campaigns are delivered. Refuses a file an earlier delivery wrote (its record
    /// keeps that file's hash).
    pub fn new(
        store: &dyn Store,
        out: Option<&Path>,
        many: bool,
        split: Option<SplitBy>,
        documents: PathBuf,
    ) -> anyhow::Result<DeliveryPlan> {
        let target = match out {
            Some(p) if many || split.is_some() || is_folder(p) => Target::Folder(p.to_path_buf()),
            Some(p) => Target::File(p.to_path_buf()),
            None => Target::Folder(documents),
        };
        let recorded = recorded_files(store)?;
        if let Target::File(out) = &target {
            if !is_stream(out) {
                if let Some(earlier) = recorded.get(&fsutil::resolve(out)) {
                    return Err(Error::Usage(format!(
                        "--out {} holds an earlier delivery ({earlier}), and its record keeps that file's hash: \
                         pass another --out, or a folder (a taken name there gets a number)",
                        out.display()
                    ))
                    .into());
                }
            }
        }
        Ok(DeliveryPlan { target, recorded })
    }

    /// The one file `--out` names when it is a device or pipe (`/dev/stdout`, a FIFO):
    /// written through, not a file to attach or follow with more output.
    pub fn stream(&self) -> Option<&Path> {
        match &self.target {
            Target::File(p) if is_stream(p) => Some(p),
            _ => None,
        }
    }

    /// Refuses a device or pipe `--out` (`/dev/stdout`, a FIFO) with what needs a file:
    /// `--json` on the same standard output, or an email to attach the PDF to.
    pub fn check_stream(&self, json: bool, emailing: bool) -> Result<(), Error> {
        let Some(out) = self.stream() else {
            return Ok(());
        };
        if json && fsutil::is_stdout(out) {
            return Err(Error::Usage(format!(
                "--json prints the report on standard output, where --out {} sends the PDF: drop one",
                out.display()
            )));
        }
        if emailing {
            return Err(Error::Usage(format!(
                "--email-to attaches the PDF, but --out {} is not a file: give --out a file or a folder",
                out.display()
            )));
        }
        Ok(())
    }

    /// The folder the PDFs land in (where half-written ones of a killed run are swept).
    pub fn folder(&self) -> PathBuf {
        match &self.target {
            Target::Folder(dir) => dir.clone(),
            Target::File(p) => p.parent().map(Path::to_path_buf).unwrap_or_default(),
        }
    }
}

/// How many campaigns are delivered at once: as many as rayon has threads (the pages of
/// each are spread over the same pool), so `RAYON_NUM_THREADS=1` delivers one at a time.
fn lanes() -> usize {
    rayon::current_num_threads().max(1)
}

/// Runs `f` on every item on `lanes` plain threads, results in the items' order.
///
/// Campaigns never run as rayon pool work: a delivery waits (on its page renderer, on a
/// full channel), and its pages are rayon work. A pool worker waiting there could hold
/// the pool's last free thread while its own pages queue behind it: `deliver --all` froze
/// at 0% CPU as soon as there were as many campaigns as cores. With campaigns on their own
/// threads, pool work is only building pages, which waits on nothing but short locks, so
/// every wait here ends, whatever the numbers of campaigns and threads.
fn in_lanes<T: Send, R: Send>(items: Vec<T>, lanes: usize, f: impl Fn(T) -> R + Sync) -> Vec<R> {
    let count = items.len();
    let queue = Mutex::new(items.into_iter().enumerate());
    let results: Mutex<Vec<Option<R>>> = Mutex::new((0..count).map(|_| None).collect());
    std::thread::scope(|scope| {
        for _ in 0..lanes.clamp(1, count.max(1)) {
            scope.spawn(|| loop {
                let next = queue.lock().unwrap_or_else(|e| e.into_inner()).next();
                let Some((i, item)) = next else { break };
                let r = f(item);
                results.lock().unwrap_or_else(|e| e.into_inner())[i] = Some(r);
            });
        }
    });
    results
        .into_inner()
        .unwrap_or_else(|e| e.into_inner())
        .into_iter()
        .map(|r| r.expect("every item ran"))
        .collect()
}

/// Every file an earlier delivery recorded (of any campaign), resolved, with what it was.
/// A new delivery never lands on one, even if the file is gone: each record keeps
/// pointing at a file with its hash (or at nothing).
fn recorded_files(store: &dyn Store) -> anyhow::Result<HashMap<PathBuf, String>> {
    let mut files = HashMap::new();
    for summary in store.list_campaigns(None)? {
        let c = &summary.campaign;
        for d in store.deliveries(c.id)? {
            let when = d.delivered_at.get(..10).unwrap_or(&d.delivered_at);
            files.insert(
                fsutil::resolve(Path::new(&d.file)),
                format!("{} on {when}", c.slug),
            );
        }
    }
    Ok(files)
}

/// An --out that names a folder: an existing one, or one written with a trailing `/`.
pub fn is_folder(path: &Path) -> bool {
    path.is_dir() || fsutil::names_a_folder(path)
}

/// A device or FIFO (`/dev/stdout`, a named pipe): written through, not a file to attach.
pub fn is_stream(path: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if path.starts_with("/dev/") {
            return true;
        }
        std::fs::metadata(path).is_ok_and(|m| {
            let t = m.file_type();
            t.is_char_device() || t.is_fifo()
        })
    }
    #[cfg(not(unix))]
    {
        let _ = path;
        false
    }
}

/// The longest a postcode may take in a file name, in bytes (before its short hash).
const MAX_POSTCODE_PART: usize = 80;

/// A postcode as part of a file name: letters and digits (any script) and `-` as typed,
/// a space as `_`, anything else as %XX per UTF-8 byte (`/`, `.`, `%`, `_`, NUL, ...).
/// Different postcodes give different names, and none can leave the folder; a very long
/// one is cut and keeps a hash of the whole.
fn postcode_part(code: &str) -> String {
    if code.is_empty() {
        return "no-postcode".into();
    }
    let mut out = String::new();
    let mut cut = None;
    for c in code.chars() {
        let before = out.len();
        if c.is_alphanumeric() || c == '-' {
            out.push(c);
        } else if c == ' ' {
            out.push('_');
        } else {
            let mut buf = [0u8; 4];
            for b in c.encode_utf8(&mut buf).bytes() {
                let _ = write!(out, "%{b:02X}");
            }
        }
        if out.len() > MAX_POSTCODE_PART {
            cut = Some(before);
            break;
        }
    }
    if let Some(cut) = cut {
        out.truncate(cut);
        out.push('~');
        out.push_str(&short_hash(code));
    }
    out
}

fn short_hash(text: &str) -> String {
    format!("{:x}", Sha256::digest(text.as_bytes()))[..8].to_string()
}

/// File names for one campaign's split files, one per postcode key: never the same for
/// two postcodes, not even on a file system that ignores case or Unicode normalization
/// (those that would meet get a short hash of their postcode).
fn split_names<'k>(slug: &str, codes: &[&'k str], date: &str) -> HashMap<&'k str, String> {
    let fold = |s: &str| s.nfc().collect::<String>().to_lowercase();
    let parts: Vec<String> = codes.iter().map(|c| postcode_part(c)).collect();
    let mut uses: HashMap<String, usize> = HashMap::new();
    for part in &parts {
        *uses.entry(fold(part)).or_default() += 1;
    }
    codes
        .iter()
        .zip(parts)
        .map(|(code, part)| {
            let part = if uses[&fold(&part)] > 1 {
                format!("{part}-{}", short_hash(code))
            } else {
                part
            };
            (*code, format!("{slug}-{part}-delivery-{date}.pdf"))
        })
        .collect()
}

fn deliver_one(batch: &Batch<'_>, campaign: &Campaign) -> anyhow::Result<Vec<DeliveredFile>> {
    let request = batch.request;
    // Each lane its own store: SQLite connections are not batch across threads.
    let store = crate::store::open(batch.db)?;
    let lang = request.lang.unwrap_or(campaign.lang);
    // Outputs that cannot be taken back (a pipe, one file of several) are checked for
    // unprintable names first; a single file is checked as it is written, and dropped.
    if !request.allow_unprintable && request.show.lists_signers() {
        if request.split.is_some() {
            check_printable(request.show, &request.include, |f| {
                store.for_each_signer_by_postcode(campaign.id, &mut |key, s| f(Some(key), s))
            })?;
        } else if batch.plan.stream().is_some() {
            check_printable(request.show, &request.include, |f| {
                store.for_each_signer(campaign.id, &mut |s| f(None, s))
            })?;
        }
    }
    let paper = request.paper.unwrap_or_else(|| {
        Paper::for_country(
            campaign
                .country
                .as_deref()
                .or(request.requester.country.as_deref()),
        )
    });
    let job = Job {
        batch,
        campaign,
        petition: petition_text(&*store, campaign, lang)?,
        lang,
        paper,
    };
    match (request.split, &batch.plan.target) {
        (Some(SplitBy::Postcode), Target::Folder(dir)) => deliver_split(&*store, &job, dir),
        // The plan puts split files in a folder, always.
        (Some(SplitBy::Postcode), Target::File(_)) => Err(Error::Usage(
            "--split-by writes one PDF per postcode: give --out a folder".into(),
        )
        .into()),
        (None, target) => {
            let table: Option<BTreeMap<String, i64>> = (request.show == ShowLevel::Postcodes)
                .then(|| store.signature_counts_by_postcode(campaign.id))
                .transpose()?
                .map(|rows| rows.into_iter().map(|(k, c)| (k, c.total)).collect());
            let counts = store.signature_counts(campaign.id)?;
            let out = match target {
                Target::File(path) => batch.files.create(path)?,
                Target::Folder(dir) => batch.files.create_new(&dir.join(format!(
                    "{}-delivery-{}.pdf",
                    campaign.slug,
                    request.date()
                )))?,
            };
            let file = job.write(out, None, counts, counts.total, table.as_ref(), |f| {
                store.for_each_signer(campaign.id, f)
            })?;
            Ok(vec![file])
        }
    }
}

/// One PDF per postcode from a single pass over the signers ordered by postcode: each
/// postcode's file is written on a thread fed through a small channel while this thread
/// reads on, so memory stays flat and the campaign is read once, not once per postcode.
fn deliver_split(
    store: &dyn Store,
    job: &Job<'_>,
    dir: &Path,
) -> anyhow::Result<Vec<DeliveredFile>> {
    // One read transaction: the counts on each cover and the rows listed agree even
    // while a volunteer enters signatures.
    let mut result = None;
    store.read_consistently(&mut |store| {
        result = Some(split_in(store, job, dir));
        Ok(())
    })?;
    result.unwrap_or_else(|| Err(anyhow::anyhow!("the delivery read did not run")))
}

fn split_in(store: &dyn Store, job: &Job<'_>, dir: &Path) -> anyhow::Result<Vec<DeliveredFile>> {
    type Writing<'s> = (
        String,
        std::sync::mpsc::SyncSender<Signature>,
        std::thread::ScopedJoinHandle<'s, anyhow::Result<DeliveredFile>>,
    );
    let campaign_id = job.campaign.id;
    let files_out = job.batch.files;
    {
        let groups = store.signature_counts_by_postcode(campaign_id)?;
        let campaign_total: i64 = groups.iter().map(|(_, c)| c.total).sum();
        let codes: Vec<&str> = groups.iter().map(|(k, _)| k.as_str()).collect();
        let names = split_names(&job.campaign.slug, &codes, &job.batch.request.date());
        let names = &names;
        let mut files = Vec::with_capacity(groups.len());
        // The writer's own error, kept aside while the read is stopped.
        let mut failure: Option<anyhow::Error> = None;
        std::thread::scope(|scope| {
            let mut next = groups.iter();
            let mut current: Option<Writing<'_>> = None;
            let finish = |w: Writing<'_>| -> anyhow::Result<DeliveredFile> {
                let (_, tx, handle) = w;
                drop(tx);
                handle
                    .join()
                    .map_err(|_| anyhow::anyhow!("the PDF writer crashed"))?
            };
            let read = store.for_each_signer_by_postcode(campaign_id, &mut |key, s| {
                if current.as_ref().is_none_or(|(k, _, _)| k != key) {
                    if let Some(w) = current.take() {
                        match finish(w) {
                            Ok(f) => files.push(f),
                            Err(e) => {
                                failure = Some(e);
                                return Err(Error::Invalid("delivery stopped".into()));
                            }
                        }
                    }
                    let Some((code, counts)) = next.find(|(k, _)| k == key) else {
                        return Err(Error::Invalid(format!(
                            "postcode {key:?} is not in the counts read a moment ago"
                        )));
                    };
                    let (tx, rx) = std::sync::mpsc::sync_channel::<Signature>(1024);
                    let (code, counts) = (code.clone(), *counts);
                    let handle = scope.spawn(move || {
                        let table = BTreeMap::from([(code.clone(), counts.total)]);
                        let out = files_out.create_new(&dir.join(&names[code.as_str()]))?;
                        job.write(out, Some(code), counts, campaign_total, Some(&table), |f| {
                            for s in rx {
                                f(s)?;
                            }
                            Ok(())
                        })
                    });
                    current = Some((key.to_string(), tx, handle));
                }
                if let Some((_, tx, _)) = &current {
                    if tx.send(s).is_err() {
                        // The writer stopped early: its error is reported below.
                        if let Some(w) = current.take() {
                            failure = Some(
                                finish(w)
                                    .err()
                                    .unwrap_or_else(|| anyhow::anyhow!("the PDF writer stopped")),
                            );
                        }
                        return Err(Error::Invalid("delivery stopped".into()));
                    }
                }
                Ok(())
            });
            if let Some(w) = current.take() {
                match finish(w) {
                    Ok(f) => files.push(f),
                    Err(e) => {
                        failure.get_or_insert(e);
                    }
                }
            }
            read
        })
        .map_err(|e| failure.take().unwrap_or_else(|| e.into()))?;
        if let Some(e) = failure {
            return Err(e);
        }
        Ok(files)
    }
}

/// The petition's words in `lang`, as the delivery letter and its email print them: the
/// translation organizers stored (`campaign edit --in LANG`), field by field falling
/// back to the campaign's own text.
fn petition_text(
    store: &dyn Store,
    campaign: &Campaign,
    lang: Lang,
) -> anyhow::Result<PetitionText> {
    Ok(PetitionText::of(
        &store.campaign_texts(campaign, lang)?.applied_to(campaign),
    ))
}

/// What every file of one campaign's delivery shares.
struct Job<'a> {
    batch: &'a Batch<'a>,
    campaign: &'a Campaign,
    /// The petition's words as this delivery prints them.
    petition: PetitionText,
    lang: Lang,
    paper: Paper,
}

impl Job<'_> {
    /// Writes one PDF into `out` from the signers `signers` streams, and puts it in
    /// place: a name an earlier delivery recorded is never reused.
    fn write<F>(
        &self,
        out: OutFile,
        postcode: Option<String>,
        counts: SignatureCounts,
        campaign_total: i64,
        table: Option<&BTreeMap<String, i64>>,
        signers: F,
    ) -> anyhow::Result<DeliveredFile>
    where
        F: FnOnce(
            &mut dyn FnMut(Signature) -> crate::error::Result<()>,
        ) -> crate::error::Result<()>,
    {
        let request = self.batch.request;
        let requester = &request.requester;
        let doc = DeliveryDoc {
            petition: &self.petition,
            sender: delivery::Signatory {
                organization: &requester.organization,
                name: &requester.name,
                email: requester.email.as_deref(),
            },
            date: request.today,
            lang: self.lang,
            paper: self.paper,
            show: request.show,
            include: &request.include,
            counts,
            postcode: postcode.as_deref(),
            campaign_total,
            postcode_counts: table,
            unprintable: if request.allow_unprintable {
                Unprintable::Placeholder
            } else {
                Unprintable::Refuse
            },
        };
        let (out, written) = write_delivery(out.hashing(), &doc, signers)?;
        let recorded = &self.batch.plan.recorded;
        let done = out.commit_skipping(|candidate| recorded.contains_key(candidate))?;
        Ok(DeliveredFile {
            campaign: self.campaign.slug.clone(),
            file: done.path.display().to_string(),
            postcode,
            signatures: counts.total,
            paper: counts.paper,
            online: counts.online,
            private: counts.private,
            listed: written.listed,
            pages: written.pages,
            show: request.show,
            included: request.include.clone(),
            sha256: done.sha256.unwrap_or_default(),
            email: None,
            uncovered: written.uncovered,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn postcodes_never_share_a_file_name_or_leave_the_folder() {
        let codes = [
            "a/b",
            "a-b",
            "a b",
            "a_b",
            "a%2Fb",
            "..",
            "../../etc",
            "a\0b",
            "AB1",
            "ab1",
            "",
            "no-postcode",
            "Łódź",
        ];
        let long = "9".repeat(500);
        let long2 = format!("{}8", "9".repeat(499));
        let mut all: Vec<&str> = codes.to_vec();
        all.push(&long);
        all.push(&long2);
        let names = split_names("oak", &all, "2026-12-01");
        let mut folded: Vec<String> = names.values().map(|n| n.to_lowercase()).collect();
        folded.sort();
        folded.dedup();
        assert_eq!(folded.len(), all.len(), "{names:?}");
        for (code, name) in &names {
            assert!(
                !name.contains('/') && !name.contains('\0') && !name.contains(".."),
                "{code:?}: {name}"
            );
            assert!(name.len() <= 200, "{code:?}: {} bytes", name.len());
            assert!(
                name.starts_with("oak-") && name.ends_with("-delivery-2026-12-01.pdf"),
                "{name}"
            );
        }
        assert_eq!(names["a/b"], "oak-a%2Fb-delivery-2026-12-01.pdf");
        assert_eq!(names["a b"], "oak-a_b-delivery-2026-12-01.pdf");
        assert_eq!(names["Łódź"], "oak-Łódź-delivery-2026-12-01.pdf");
    }

    #[test]
    fn lanes_keep_order_and_run_everything() {
        for lanes in [1, 2, 7] {
            let out = in_lanes((0..20).collect(), lanes, |i: i32| i * 2);
            assert_eq!(out, (0..20).map(|i| i * 2).collect::<Vec<_>>());
        }
        assert!(in_lanes(Vec::<i32>::new(), 3, |i| i).is_empty());
    }
}
