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
use crate::domain::delivery::{count, postcode_key, ContactField, ShowLevel};
use crate::error::Error;
use crate::fsutil;
use crate::model::{Campaign, Lang, SignatureCounts, Status};
use crate::outbox::{Posted, Postman};
use crate::render::mail::delivery_email;
use crate::render::pdf::delivery::{write_delivery, DeliveryDoc, Uncovered};
use crate::render::pdf::fonts::font_hint;
use crate::store::{NewDelivery, Store};
use crate::ui;

#[derive(Debug, Args)]
pub struct DeliverArgs {
    /// Campaigns to deliver (slugs or ids); one PDF each
    #[arg(value_name = "SLUG")]
    pub campaigns: Vec<String>,

    /// Deliver every campaign (narrow with --status)
    #[arg(long, conflicts_with = "campaigns")]
    pub all: bool,

    /// With --all: only campaigns with this status
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

    let mut store = ctx.store()?;
    let campaigns: Vec<Result<Campaign, (String, anyhow::Error)>> = if args.all {
        // Each through `load_campaign`: only its organizers may deliver a campaign.
        let ids: Vec<String> = store
            .list_campaigns(args.status)?
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
    if many || !failed.is_empty() {
        ui::status(
            ctx,
            format!(
                "Delivered {} campaign(s) in {} file(s); {} failed.",
                campaigns_ok.len(),
                delivered.len(),
                failed.len()
            ),
        );
    } else if let Some(f) = delivered.first() {
        ui::status(
            ctx,
            format!("Wrote {} signatures, {} pages.", f.signatures, f.pages),
        );
    }
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
            "{} of {} campaigns failed (the others were delivered)",
            failed.len(),
            total
        );
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

    let needs_postcodes = args.split_by.is_some() || args.show == ShowLevel::Postcodes;
    let mut by_postcode: BTreeMap<String, SignatureCounts> = BTreeMap::new();
    if needs_postcodes {
        store.for_each_signature(campaign.id, |s| {
            count(by_postcode.entry(postcode_key(&s)).or_default(), &s);
            Ok(())
        })?;
    }
    let totals: Vec<(Option<String>, SignatureCounts)> = match args.split_by {
        Some(SplitBy::Postcode) => by_postcode
            .iter()
            .map(|(k, v)| (Some(k.clone()), *v))
            .collect(),
        None => vec![(None, store.signature_counts(campaign.id)?)],
    };

    let mut files = Vec::new();
    for (postcode, counts) in totals {
        let table: BTreeMap<String, i64> = match &postcode {
            Some(p) => [(p.clone(), counts.total)].into(),
            None => by_postcode
                .iter()
                .map(|(k, v)| (k.clone(), v.total))
                .collect(),
        };
        let doc = DeliveryDoc {
            campaign,
            organization,
            date,
            lang,
            show: args.show,
            include: &args.include,
            counts,
            postcode: postcode.as_deref(),
            postcode_counts: Some(&table),
        };
        let path = target_file(postcode.as_deref());
        let (sha, written) = write_file(&path, |out| {
            write_delivery(out, &doc, |f| store.for_each_signature(campaign.id, f))
                .map_err(anyhow::Error::from)
        })
        .with_context(|| format!("writing {}", path.display()))?;
        files.push(DeliveredFile {
            campaign: campaign.slug.clone(),
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
        });
    }
    Ok(files)
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
    let tmp = tempfile::NamedTempFile::new_in(parent)?;
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
