//! `campaign deliver`: petition PDFs for the target, one campaign or hundreds.

use std::collections::BTreeMap;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use clap::{Args, ValueEnum};
use rayon::prelude::*;
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::commands::{load_campaign, Access};
use crate::context::Ctx;
use crate::domain::delivery::{ContactField, ShowLevel};
use crate::error::Error;
use crate::fsutil;
use crate::model::{Campaign, Lang, Signature, SignatureCounts, Status};
use crate::outbox::{Posted, Postman};
use crate::render::mail::delivery_email;
use crate::render::pdf::delivery::{write_delivery, DeliveryDoc, Uncovered};
use crate::render::pdf::fonts::font_hint;
use crate::store::{NewDelivery, Store};
use crate::ui::{self, plural};

#[derive(Debug, Args)]
pub struct DeliverArgs {
    /// Campaigns to deliver (slugs or ids); one PDF each
    #[arg(value_name = "SLUG")]
    pub campaigns: Vec<String>,

    /// Deliver every launched campaign (drafts only with --status draft)
    #[arg(long, conflicts_with = "campaigns")]
    pub all: bool,

    /// With --all: only campaigns with this status (without it, every one but drafts)
    #[arg(long, requires = "all")]
    pub status: Option<Status>,

    /// Where to write: a file for one campaign, a folder for several or with --split-by
    /// [default: the documents folder under the data folder]
    #[arg(long, value_name = "PATH")]
    pub out: Option<PathBuf>,

    /// How much of each signer the target sees. Signers who asked not to be named are
    /// counted, never named
    #[arg(long, value_enum, default_value_t = ShowLevel::Names)]
    pub show: ShowLevel,

    /// Also show these contact details (comma-separated: email,phone); the cover says so.
    /// Never shown otherwise
    #[arg(long, value_enum, value_delimiter = ',', value_name = "FIELDS")]
    pub include: Vec<ContactField>,

    /// Write one PDF per postcode (e.g. one per council district)
    #[arg(long, value_enum, value_name = "FIELD")]
    pub split_by: Option<SplitBy>,

    /// Language of the document's own words [default: the campaign's language]
    #[arg(long, value_enum)]
    pub lang: Option<Lang>,

    /// Email the PDF to the target at this address. The message waits in the outbox
    /// (`campaign outbox`) unless --send is given
    #[arg(long, value_name = "ADDRESS")]
    pub email_to: Option<String>,

    /// With --email-to: send now through SMTP (`campaign account --smtp-url`); a failed
    /// send stays in the outbox with the reason
    #[arg(long, requires = "email_to")]
    pub send: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SplitBy {
    Postcode,
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

/// Where delivery emails go, checked before any PDF is written so a bad address or a
/// missing account or SMTP setting costs nothing.
struct Emailing {
    to: String,
    postman: Postman,
}

impl Emailing {
    fn prepare(ctx: &Ctx, args: &DeliverArgs) -> anyhow::Result<Option<Emailing>> {
        let Some(to) = args.email_to.as_deref().map(str::trim) else {
            return Ok(None);
        };
        if !crate::domain::email_ok(to) {
            return Err(Error::Usage(format!(
                "--email-to {to:?} is not an email address like mayor@example.gov"
            ))
            .into());
        }
        let postman = Postman::new(&ctx.paths, &ctx.account()?, args.send)?;
        Ok(Some(Emailing {
            to: to.to_string(),
            postman,
        }))
    }

    /// Queues (or sends) the email for one delivered file.
    fn deliver(
        &self,
        campaign: &Campaign,
        lang: Lang,
        file: &DeliveredFile,
    ) -> anyhow::Result<Posted> {
        // The letter speaks the document's language.
        let campaign = Campaign {
            lang,
            ..campaign.clone()
        };
        let mail = delivery_email(
            &self.postman.sender,
            &campaign,
            &self.to,
            file.signatures,
            Path::new(&file.file),
        )?;
        Ok(self.postman.post(&mail)?)
    }
}

struct Outcome {
    campaign: Campaign,
    files: Vec<DeliveredFile>,
}

pub fn run(ctx: &Ctx, mut args: DeliverArgs) -> anyhow::Result<()> {
    let emailing = Emailing::prepare(ctx, &args)?;
    args.include.sort();
    args.include.dedup();

    check_out(&args)?;

    let mut store = ctx.store()?;
    let campaigns: Vec<Result<Campaign, (String, anyhow::Error)>> = if args.all {
        let listed = store.list_campaigns(args.status)?;
        // A draft was never launched: nobody signed it yet, so --all leaves it out
        // unless drafts are asked for by name.
        let (listed, drafts): (Vec<_>, Vec<_>) = listed
            .into_iter()
            .partition(|s| args.status.is_some() || s.campaign.status != Status::Draft);
        if !drafts.is_empty() {
            ui::status(
                ctx,
                format!(
                    "Skipped {} (never launched); deliver them with --status draft or by slug.",
                    plural(drafts.len() as u64, "draft campaign", "draft campaigns")
                ),
            );
        }
        // Each through `load_campaign`: only its organizers may deliver a campaign.
        let ids: Vec<String> = listed
            .into_iter()
            .map(|s| s.campaign.id.to_string())
            .collect();
        ids.iter()
            .map(|id| {
                load_campaign(ctx, &mut store, id, Access::Manage).map_err(|e| (id.clone(), e))
            })
            .collect()
    } else if args.campaigns.is_empty() {
        return Err(
            Error::Usage("which campaign? pass a SLUG (or several), or --all".into()).into(),
        );
    } else {
        args.campaigns
            .iter()
            .map(|r| load_campaign(ctx, &mut store, r, Access::Manage).map_err(|e| (r.clone(), e)))
            .collect()
    };
    let many = campaigns.len() > 1 || args.all;
    let date = time::OffsetDateTime::now_utc().date().to_string();
    let account = ctx.account().ok();
    let organization = account
        .as_ref()
        .map(|a| a.display_organization())
        .unwrap_or_default();

    let out_dir = match &args.out {
        Some(p) if p.is_dir() || many || args.split_by.is_some() => p.clone(),
        Some(p) => p.parent().map(Path::to_path_buf).unwrap_or_default(),
        None => ctx.paths.documents_dir(),
    };
    sweep_partials(if out_dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        &out_dir
    });

    let bar = ui::progress::bar(ctx, campaigns.len() as u64, "delivering");
    let results: Vec<Result<Outcome, (String, anyhow::Error)>> = campaigns
        .into_par_iter()
        .map(|c| {
            let c = c?;
            let slug = c.slug.clone();
            let r = deliver_one(ctx, &args, &c, many, &date, &organization)
                .map(|files| Outcome { campaign: c, files })
                .map_err(|e| (slug, e));
            bar.inc(1);
            r
        })
        .collect();
    bar.finish_and_clear();

    let mut delivered = Vec::new();
    let mut failed = Vec::new();
    for r in results {
        match r {
            Ok(mut outcome) => {
                if let Some(emailing) = &emailing {
                    let lang = args.lang.unwrap_or(outcome.campaign.lang);
                    for f in &mut outcome.files {
                        f.email = Some(emailing.deliver(&outcome.campaign, lang, f)?);
                    }
                }
                for f in &outcome.files {
                    let included: Vec<String> =
                        f.included.iter().map(|c| c.as_str().to_string()).collect();
                    store.record_delivery(&NewDelivery {
                        campaign_id: outcome.campaign.id,
                        show_level: f.show.as_str(),
                        included_fields: &included,
                        recipient: Some(
                            f.email
                                .as_ref()
                                .map_or(outcome.campaign.target.as_str(), |e| e.to.as_str()),
                        ),
                        file: &f.file,
                        file_sha256: &f.sha256,
                        signatures: f.signatures,
                    })?;
                    report_uncovered(f);
                }
                delivered.extend(outcome.files);
            }
            Err((slug, e)) => failed.push((slug, e)),
        }
    }
    // One campaign asked for: its error is the whole story, with its own exit code.
    if !many {
        if let Some((_, e)) = failed.pop() {
            return Err(e);
        }
    }

    if ctx.global.json {
        ui::out_json(&delivered)?;
    } else {
        for f in &delivered {
            ui::out_line(&f.file)?;
            match &f.email {
                Some(Posted {
                    sent: false,
                    failure: None,
                    file,
                    ..
                }) => ui::out_line(file.display().to_string())?,
                Some(Posted { sent: true, to, .. }) => {
                    ui::status(ctx, format!("emailed {} to {to}", f.file))
                }
                _ => {}
            }
        }
    }
    let unsent: Vec<&Posted> = delivered
        .iter()
        .filter_map(|f| f.email.as_ref())
        .filter(|e| e.failure.is_some())
        .collect();
    for e in &unsent {
        eprintln!(
            "error: could not send to {}: {}; the message stays in the outbox ({}): retry with `campaign outbox --send`",
            e.to,
            e.failure.as_deref().unwrap_or_default(),
            e.file.display()
        );
    }
    if emailing.as_ref().is_some_and(|e| !e.postman.sends_now()) && !delivered.is_empty() {
        ui::status(
            ctx,
            "the email waits in the outbox: review it, then `campaign outbox --send`",
        );
    }
    let campaigns_ok: std::collections::BTreeSet<&str> =
        delivered.iter().map(|f| f.campaign.as_str()).collect();
    ui::status(
        ctx,
        summary(&delivered, campaigns_ok.len(), failed.len(), many),
    );
    for (slug, e) in &failed {
        eprintln!("error: {slug}: {e:#}");
    }
    if !unsent.is_empty() && failed.is_empty() {
        return Err(Error::SomeNotSent {
            failed: unsent.len(),
            total: delivered.len(),
        }
        .into());
    }
    if !failed.is_empty() {
        let total = campaigns_ok.len() + failed.len();
        anyhow::bail!(
            "{} of {} failed (the others were delivered)",
            failed.len(),
            plural(total as u64, "campaign", "campaigns")
        );
    }
    Ok(())
}

/// The closing status line: what was written, over every file.
fn summary(files: &[DeliveredFile], campaigns: usize, failed: usize, many: bool) -> String {
    let signatures: i64 = files.iter().map(|f| f.signatures).sum();
    let pages: u64 = files.iter().map(|f| f.pages as u64).sum();
    let signatures = plural(signatures.max(0) as u64, "signature", "signatures");
    let pages = plural(pages, "page", "pages");
    let in_files = plural(files.len() as u64, "file", "files");
    if many {
        let mut line = format!(
            "Delivered {} in {in_files} ({signatures}, {pages})",
            plural(campaigns as u64, "campaign", "campaigns")
        );
        if failed > 0 {
            line.push_str(&format!("; {failed} failed"));
        }
        line.push('.');
        line
    } else if files.len() == 1 {
        format!("Wrote {signatures}, {pages}.")
    } else {
        format!("Wrote {signatures} in {in_files}, {pages}.")
    }
}

/// Several PDFs go into a folder: refuse an --out that looks like one file rather than
/// quietly making a folder named `petition.pdf`.
fn check_out(args: &DeliverArgs) -> Result<(), Error> {
    let several = args.all || args.campaigns.len() > 1 || args.split_by.is_some();
    let Some(out) = args.out.as_deref().filter(|_| several) else {
        return Ok(());
    };
    let pdf_name = out
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("pdf"));
    if pdf_name || out.is_file() {
        let why = if args.split_by.is_some() {
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

fn report_uncovered(f: &DeliveredFile) {
    for u in &f.uncovered {
        let chars: String = u.chars.iter().collect();
        let codes: Vec<String> = u
            .chars
            .iter()
            .map(|c| format!("U+{:04X}", *c as u32))
            .collect();
        let hints: std::collections::BTreeSet<String> =
            u.chars.iter().map(|c| font_hint(*c)).collect();
        ui::warn(format!(
            "{}: signer row {} (signature id {}) has characters no font here draws: {:?} ({}); they are left out of the name. Install {} and deliver again.",
            f.file,
            u.row,
            u.signature_id,
            chars,
            codes.join(" "),
            hints.into_iter().collect::<Vec<_>>().join(", or ")
        ));
    }
}

fn file_name(slug: &str, postcode: Option<&str>, date: &str) -> String {
    match postcode {
        None => format!("{slug}-delivery-{date}.pdf"),
        Some(code) => {
            let code: String = code
                .chars()
                .map(|c| if c.is_alphanumeric() { c } else { '-' })
                .collect();
            let code = if code.is_empty() {
                "no-postcode".to_string()
            } else {
                code
            };
            format!("{slug}-{code}-delivery-{date}.pdf")
        }
    }
}

fn deliver_one(
    ctx: &Ctx,
    args: &DeliverArgs,
    campaign: &Campaign,
    many: bool,
    date: &str,
    organization: &str,
) -> anyhow::Result<Vec<DeliveredFile>> {
    // Each worker its own connection: SQLite connections are not shared across threads.
    let store = Store::open(&ctx.paths.db)?;
    let lang = args.lang.unwrap_or(campaign.lang);
    let dir_out = many || args.split_by.is_some() || args.out.as_ref().is_some_and(|p| p.is_dir());
    let dir = match &args.out {
        Some(p) if dir_out => p.clone(),
        Some(_) => PathBuf::new(),
        None => ctx.paths.documents_dir(),
    };
    let target_file = |postcode: Option<&str>| -> PathBuf {
        match &args.out {
            Some(p) if !dir_out => p.clone(),
            _ => dir.join(file_name(&campaign.slug, postcode, date)),
        }
    };

    let job = Job {
        args,
        campaign,
        organization,
        date,
        lang,
    };
    match args.split_by {
        Some(SplitBy::Postcode) => deliver_split(&store, &job, target_file),
        None => {
            let table: Option<BTreeMap<String, i64>> = (args.show == ShowLevel::Postcodes)
                .then(|| store.signature_counts_by_postcode(campaign.id))
                .transpose()?
                .map(|rows| rows.into_iter().map(|(k, c)| (k, c.total)).collect());
            let counts = store.signature_counts(campaign.id)?;
            let file = job.write(&target_file(None), None, counts, table.as_ref(), |f| {
                store.for_each_signature(campaign.id, f)
            })?;
            Ok(vec![file])
        }
    }
}

/// One PDF per postcode from a single pass over the signers ordered by postcode: each
/// postcode's file is written on a thread fed through a small channel while this thread
/// reads on, so memory stays flat and the campaign is read once, not once per postcode.
fn deliver_split(
    store: &Store,
    job: &Job<'_>,
    target_file: impl Fn(Option<&str>) -> PathBuf + Sync,
) -> anyhow::Result<Vec<DeliveredFile>> {
    type Writing<'s> = (
        String,
        std::sync::mpsc::SyncSender<Signature>,
        std::thread::ScopedJoinHandle<'s, anyhow::Result<DeliveredFile>>,
    );
    let campaign_id = job.campaign.id;
    // One read transaction: the counts on each cover and the rows listed agree even
    // while a volunteer enters signatures.
    store.read_consistently(|store| {
        let groups = store.signature_counts_by_postcode(campaign_id)?;
        let mut files = Vec::with_capacity(groups.len());
        // The writer's own error, kept aside while the read is stopped.
        let mut failure: Option<anyhow::Error> = None;
        std::thread::scope(|scope| {
            let mut next = groups.iter();
            let mut current: Option<Writing<'_>> = None;
            let target_file = &target_file;
            let finish = |w: Writing<'_>| -> anyhow::Result<DeliveredFile> {
                let (_, tx, handle) = w;
                drop(tx);
                handle
                    .join()
                    .map_err(|_| anyhow::anyhow!("the PDF writer crashed"))?
            };
            let read = store.for_each_signature_by_postcode(campaign_id, |key, s| {
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
                        let path = target_file(Some(&code));
                        job.write(&path, Some(code), counts, Some(&table), |f| {
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
    })
}

/// What every file of one campaign's delivery shares.
struct Job<'a> {
    args: &'a DeliverArgs,
    campaign: &'a Campaign,
    organization: &'a str,
    date: &'a str,
    lang: Lang,
}

impl Job<'_> {
    /// Writes one PDF to `path` from the signers `signers` streams.
    fn write<F>(
        &self,
        path: &Path,
        postcode: Option<String>,
        counts: SignatureCounts,
        table: Option<&BTreeMap<String, i64>>,
        signers: F,
    ) -> anyhow::Result<DeliveredFile>
    where
        F: FnOnce(
            &mut dyn FnMut(Signature) -> crate::error::Result<()>,
        ) -> crate::error::Result<()>,
    {
        let args = self.args;
        let doc = DeliveryDoc {
            campaign: self.campaign,
            organization: self.organization,
            date: self.date,
            lang: self.lang,
            show: args.show,
            include: &args.include,
            counts,
            postcode: postcode.as_deref(),
            postcode_counts: table,
        };
        let (sha, written) = write_file(path, |out| {
            write_delivery(out, &doc, signers).map_err(anyhow::Error::from)
        })
        .with_context(|| format!("writing {}", path.display()))?;
        Ok(DeliveredFile {
            campaign: self.campaign.slug.clone(),
            file: path.display().to_string(),
            postcode,
            signatures: counts.total,
            paper: counts.paper,
            online: counts.online,
            private: counts.private,
            listed: written.listed,
            pages: written.pages,
            show: args.show,
            included: args.include.clone(),
            sha256: sha,
            email: None,
            uncovered: written.uncovered,
        })
    }
}

/// Hashes what goes to the file.
struct Hashing<W> {
    inner: W,
    hash: Sha256,
}

impl<W: Write> Write for Hashing<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hash.update(&buf[..n]);
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// Writes through a private temporary file renamed into place: a reader never sees half
/// a PDF, and a failed delivery leaves nothing behind.
fn write_file<T>(
    path: &Path,
    write: impl FnOnce(
        Hashing<BufWriter<std::fs::File>>,
    ) -> anyhow::Result<(Hashing<BufWriter<std::fs::File>>, T)>,
) -> anyhow::Result<(String, T)> {
    let parent = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    fsutil::create_private_dir(parent)?;
    // Named for what it is (hidden, ".partial") and by whom (the process id, so
    // `sweep_partials` can tell a killed run's leftover); dropped on any error, which
    // deletes it.
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = tempfile::Builder::new()
        .prefix(&format!(".{name}.{}.", std::process::id()))
        .suffix(".partial")
        .tempfile_in(parent)?;
    let file = tmp.reopen()?;
    let out = Hashing {
        inner: BufWriter::with_capacity(1 << 16, file),
        hash: Sha256::new(),
    };
    let (mut out, value) = write(out)?;
    out.flush()?;
    let sha = format!("{:x}", out.hash.finalize());
    tmp.persist(path).map_err(|e| e.error)?;
    fsutil::set_private(path)?;
    Ok((sha, value))
}

/// Deletes half-written PDFs that killed runs left in `dir` (a kill skips the cleanup
/// on drop): `.NAME.pdf.PID.RANDOM.partial` whose process is gone. Linux only, where a
/// live process is seen in /proc; elsewhere they stay, obviously named.
fn sweep_partials(dir: &Path) {
    if !cfg!(target_os = "linux") {
        return;
    }
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name.to_str().and_then(partial_pid) else {
            continue;
        };
        if !Path::new("/proc").join(pid.to_string()).exists() {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

/// The writer's process id, if `name` is one of `write_file`'s temporary files.
fn partial_pid(name: &str) -> Option<u32> {
    let rest = name.strip_prefix('.')?.strip_suffix(".partial")?;
    let (rest, _random) = rest.rsplit_once('.')?;
    let (target, pid) = rest.rsplit_once('.')?;
    target
        .to_ascii_lowercase()
        .ends_with(".pdf")
        .then(|| pid.parse().ok())
        .flatten()
}
