//! `campaign deliver`: petition PDFs for the target, one campaign or hundreds.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use clap::{Args, ValueEnum};
use serde::Serialize;
use sha2::{Digest, Sha256};
use unicode_normalization::UnicodeNormalization;

use crate::commands::{load_campaign, Access};
use crate::context::Ctx;
use crate::domain::delivery::{shown_signer, ContactField, ShowLevel};
use crate::error::Error;
use crate::fsutil::{self, Output};
use crate::model::{Campaign, Lang, Signature, SignatureCounts, Status};
use crate::outbox::{Posted, Postman};
use crate::render::mail::{delivery_email, Part};
use crate::render::pdf::delivery::{
    check_printable, write_delivery, DeliveryDoc, Sender, Uncovered, Unprintable,
};
use crate::render::pdf::fonts::font_hint;
use crate::render::pdf::{Paper, PetitionText};
use crate::store::{NewDelivery, Store};
use crate::ui::{self, plural, prompt};

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
    /// [default: the documents folder under the data folder]. In a folder, a name already
    /// taken gets a number (...-2026-12-01-2.pdf): an earlier delivery is never replaced.
    /// A FILE an earlier delivery wrote is refused (its record keeps that file's hash);
    /// any other existing FILE is replaced once the new PDF is complete
    #[arg(long, value_name = "PATH")]
    pub out: Option<PathBuf>,

    /// How much of each signer the target sees. Signers who asked not to be named are
    /// counted, never named
    #[arg(long, value_enum, default_value_t = ShowLevel::Names)]
    pub show: ShowLevel,

    /// Also show these contact details (comma-separated: email,phone); the cover says so.
    /// Never shown otherwise. On a terminal, first says how many signers' details the
    /// target will see and asks; without one, needs --yes
    #[arg(long, value_enum, value_delimiter = ',', value_name = "FIELDS")]
    pub include: Vec<ContactField>,

    /// Write one PDF per postcode (e.g. one per council district), each named after its
    /// postcode: letters, digits and `-` as typed, a space as `_`, anything else as %XX
    /// (`a/b` is `a%2Fb`); never two postcodes in one file
    #[arg(long, value_enum, value_name = "FIELD")]
    pub split_by: Option<SplitBy>,

    /// Language of the document's own words [default: the campaign's language]
    #[arg(long, value_enum)]
    pub lang: Option<Lang>,

    /// Paper size [default: letter for a campaign (or account) in the US, Canada, Mexico
    /// and the other countries that use it, A4 elsewhere]
    #[arg(long, value_enum)]
    pub paper: Option<Paper>,

    /// Print your email under your name on the cover letter (it is not printed otherwise)
    #[arg(long)]
    pub include_sender_email: bool,

    /// Deliver even when a name has characters no font here can draw: the name is printed
    /// as "[name not printable]" and the cover counts those rows. Without it, nothing is
    /// written and the rows and characters are listed
    #[arg(long)]
    pub allow_unprintable: bool,

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
        campaign_total: i64,
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
            file.postcode.as_deref().map(|postcode| Part {
                postcode,
                campaign_total,
            }),
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
    let recorded = recorded_files(&store)?;
    let explicit_file = args
        .out
        .as_ref()
        .filter(|p| !(many || args.split_by.is_some() || is_folder(p)));
    if let Some(out) = explicit_file.filter(|out| !is_stream(out)) {
        if let Some(earlier) = recorded.get(&fsutil::resolve(out)) {
            return Err(Error::Usage(format!(
                "--out {} holds an earlier delivery ({earlier}), and its record keeps that file's hash: \
                 pass another --out, or a folder (a taken name there gets a number)",
                out.display()
            ))
            .into());
        }
    }
    if let Some(out) = explicit_file.filter(|out| is_stream(out)) {
        if ctx.global.json && fsutil::is_stdout(out) {
            return Err(Error::Usage(format!(
                "--json prints the report on standard output, where --out {} sends the PDF: drop one",
                out.display()
            ))
            .into());
        }
        if emailing.is_some() {
            return Err(Error::Usage(format!(
                "--email-to attaches the PDF, but --out {} is not a file: give --out a file or a folder",
                out.display()
            ))
            .into());
        }
    }
    let chosen: Vec<&Campaign> = campaigns.iter().filter_map(|c| c.as_ref().ok()).collect();
    if !confirm_contacts(ctx, &store, &args, &chosen)? {
        ui::status(ctx, "nothing delivered");
        return Ok(());
    }
    let today = time::OffsetDateTime::now_utc().date();
    let date = today.to_string();
    let account = ctx.account().ok();
    let organization = account
        .as_ref()
        .map(|a| a.display_organization())
        .unwrap_or_default();
    let sender_name = account
        .as_ref()
        .and_then(|a| a.name.clone())
        .unwrap_or_default();
    let sender_email = account
        .as_ref()
        .and_then(|a| a.email.clone())
        .filter(|_| args.include_sender_email);
    let account_country = account.as_ref().and_then(|a| a.country.clone());

    let out_dir = match &args.out {
        Some(p) if is_folder(p) || many || args.split_by.is_some() => p.clone(),
        Some(p) => p.parent().map(Path::to_path_buf).unwrap_or_default(),
        None => ctx.paths.documents_dir(),
    };
    fsutil::sweep_partials(&out_dir);

    let bar = ui::progress::bar(ctx, campaigns.len() as u64, "delivering");
    let shared = Shared {
        ctx,
        args: &args,
        many,
        date: &date,
        today,
        organization: &organization,
        sender_name: &sender_name,
        sender_email: sender_email.as_deref(),
        account_country: account_country.as_deref(),
        recorded: &recorded,
    };
    let results: Vec<Result<Outcome, (String, anyhow::Error)>> =
        in_lanes(campaigns, lanes(), |c| {
            let c = c?;
            let slug = c.slug.clone();
            let r = deliver_one(&shared, &c)
                .map(|files| Outcome { campaign: c, files })
                .map_err(|e| (slug, e));
            bar.inc(1);
            r
        });
    bar.finish_and_clear();

    let mut delivered = Vec::new();
    let mut failed = Vec::new();
    for r in results {
        match r {
            Ok(mut outcome) => {
                if let Some(emailing) = &emailing {
                    let lang = args.lang.unwrap_or(outcome.campaign.lang);
                    // Split files together hold every signer of the campaign.
                    let total = outcome.files.iter().map(|f| f.signatures).sum();
                    for f in &mut outcome.files {
                        f.email = Some(emailing.deliver(&outcome.campaign, lang, f, total)?);
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
            // A PDF sent to standard output is followed by nothing.
            if !fsutil::is_stdout(Path::new(&f.file)) {
                ui::out_line(&f.file)?;
            }
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
            "{}: signer row {} (signature id {}) has characters no font here draws: {:?} ({}); the name is printed as a placeholder. What draws them: {}.",
            f.file,
            u.row,
            u.signature_id,
            chars,
            codes.join(" "),
            hints.into_iter().collect::<Vec<_>>().join("; or ")
        ));
    }
}

/// What every campaign's delivery shares.
struct Shared<'a> {
    ctx: &'a Ctx,
    args: &'a DeliverArgs,
    many: bool,
    date: &'a str,
    today: time::Date,
    organization: &'a str,
    sender_name: &'a str,
    sender_email: Option<&'a str>,
    account_country: Option<&'a str>,
    /// Files earlier deliveries recorded (resolved), with what they were.
    recorded: &'a HashMap<PathBuf, String>,
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
fn recorded_files(store: &Store) -> anyhow::Result<HashMap<PathBuf, String>> {
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
fn is_folder(path: &Path) -> bool {
    path.is_dir() || fsutil::names_a_folder(path)
}

/// A device or FIFO (`/dev/stdout`, a named pipe): written through, not a file to attach.
fn is_stream(path: &Path) -> bool {
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

/// Contact details go to the target only after a yes: on a terminal, says whose and how
/// many and asks; without one, `--yes` is needed. True to go on.
fn confirm_contacts(
    ctx: &Ctx,
    store: &Store,
    args: &DeliverArgs,
    campaigns: &[&Campaign],
) -> anyhow::Result<bool> {
    if args.include.is_empty() || !args.show.lists_signers() || ctx.global.yes {
        return Ok(true);
    }
    let fields: Vec<&str> = args.include.iter().map(|f| f.as_str()).collect();
    let fields = fields.join(" and ");
    if !ctx.interactive {
        return Err(ctx
            .missing(
                format!("a yes to show signers' {fields} to the target (--include)"),
                "--yes",
            )
            .into());
    }
    let mut lines = Vec::new();
    for c in campaigns {
        let (mut emails, mut phones) = (0u64, 0u64);
        store.for_each_signature(c.id, &mut |s: Signature| {
            if let Some(shown) = shown_signer(&s, args.show, &args.include) {
                emails += u64::from(shown.email.is_some());
                phones += u64::from(shown.phone.is_some());
            }
            Ok(())
        })?;
        let mut seen = Vec::new();
        if args.include.contains(&ContactField::Email) {
            seen.push(format!(
                "the email of {}",
                plural(emails, "signer", "signers")
            ));
        }
        if args.include.contains(&ContactField::Phone) {
            seen.push(format!(
                "the phone of {}",
                plural(phones, "signer", "signers")
            ));
        }
        lines.push(format!(
            "the delivery of {} to {} will show {}, next to their names",
            c.slug,
            c.target,
            seen.join(" and ")
        ));
    }
    lines.push(
        "whoever receives it can pass them on, and a public body may have to publish them".into(),
    );
    ui::warn(lines.join("\n  "));
    if prompt::confirm(&format!("Include signers' {fields}?"), false)? {
        Ok(true)
    } else {
        Ok(false)
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

/// Where one campaign's PDFs go.
enum Target {
    /// The file --out names: replaced once the new PDF is complete.
    File(PathBuf),
    /// A folder: each PDF under a new name there (numbered if taken).
    Folder(PathBuf),
}

fn deliver_one(shared: &Shared<'_>, campaign: &Campaign) -> anyhow::Result<Vec<DeliveredFile>> {
    let (ctx, args) = (shared.ctx, shared.args);
    // Each worker its own connection: SQLite connections are not shared across threads.
    let store = Store::open(&ctx.paths.db)?;
    let lang = args.lang.unwrap_or(campaign.lang);
    let dir_out =
        shared.many || args.split_by.is_some() || args.out.as_deref().is_some_and(is_folder);
    let target = match &args.out {
        Some(p) if dir_out => Target::Folder(p.clone()),
        Some(p) => Target::File(p.clone()),
        None => Target::Folder(ctx.paths.documents_dir()),
    };
    // Outputs that cannot be taken back (a pipe, one file of several) are checked for
    // unprintable names first; a single file is checked as it is written, and dropped.
    if !args.allow_unprintable && args.show.lists_signers() {
        if args.split_by.is_some() {
            check_printable(args.show, &args.include, |f| {
                store.for_each_signature_by_postcode(campaign.id, |key, s| f(Some(key), s))
            })?;
        } else if matches!(&target, Target::File(p) if is_stream(p)) {
            check_printable(args.show, &args.include, |f| {
                store.for_each_signature(campaign.id, |s| f(None, s))
            })?;
        }
    }
    let paper = args.paper.unwrap_or_else(|| {
        Paper::for_country(campaign.country.as_deref().or(shared.account_country))
    });
    let job = Job {
        shared,
        campaign,
        petition: PetitionText::of(campaign),
        lang,
        paper,
    };
    match (args.split_by, target) {
        (Some(SplitBy::Postcode), Target::Folder(dir)) => deliver_split(&store, &job, &dir),
        (Some(SplitBy::Postcode), Target::File(_)) => {
            unreachable!("check_out refuses a file with --split-by")
        }
        (None, target) => {
            let table: Option<BTreeMap<String, i64>> = (args.show == ShowLevel::Postcodes)
                .then(|| store.signature_counts_by_postcode(campaign.id))
                .transpose()?
                .map(|rows| rows.into_iter().map(|(k, c)| (k, c.total)).collect());
            let counts = store.signature_counts(campaign.id)?;
            let out = match target {
                Target::File(path) => ctx.files().create(&path)?,
                Target::Folder(dir) => ctx.files().create_new(
                    &dir.join(format!("{}-delivery-{}.pdf", campaign.slug, shared.date)),
                )?,
            };
            let file = job.write(out, None, counts, counts.total, table.as_ref(), |f| {
                store.for_each_signature(campaign.id, f)
            })?;
            Ok(vec![file])
        }
    }
}

/// One PDF per postcode from a single pass over the signers ordered by postcode: each
/// postcode's file is written on a thread fed through a small channel while this thread
/// reads on, so memory stays flat and the campaign is read once, not once per postcode.
fn deliver_split(store: &Store, job: &Job<'_>, dir: &Path) -> anyhow::Result<Vec<DeliveredFile>> {
    type Writing<'s> = (
        String,
        std::sync::mpsc::SyncSender<Signature>,
        std::thread::ScopedJoinHandle<'s, anyhow::Result<DeliveredFile>>,
    );
    let campaign_id = job.campaign.id;
    let files_out = job.shared.ctx.files();
    // One read transaction: the counts on each cover and the rows listed agree even
    // while a volunteer enters signatures.
    store.read_consistently(|store| {
        let groups = store.signature_counts_by_postcode(campaign_id)?;
        let campaign_total: i64 = groups.iter().map(|(_, c)| c.total).sum();
        let codes: Vec<&str> = groups.iter().map(|(k, _)| k.as_str()).collect();
        let names = split_names(&job.campaign.slug, &codes, job.shared.date);
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
    })
}

/// What every file of one campaign's delivery shares.
struct Job<'a> {
    shared: &'a Shared<'a>,
    campaign: &'a Campaign,
    petition: PetitionText,
    lang: Lang,
    paper: Paper,
}

impl Job<'_> {
    /// Writes one PDF into `out` from the signers `signers` streams, and puts it in
    /// place: a name an earlier delivery recorded is never reused.
    fn write<F>(
        &self,
        out: Output,
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
        let args = self.shared.args;
        let doc = DeliveryDoc {
            petition: &self.petition,
            sender: Sender {
                organization: self.shared.organization,
                name: self.shared.sender_name,
                email: self.shared.sender_email,
            },
            date: self.shared.today,
            lang: self.lang,
            paper: self.paper,
            show: args.show,
            include: &args.include,
            counts,
            postcode: postcode.as_deref(),
            campaign_total,
            postcode_counts: table,
            unprintable: if args.allow_unprintable {
                Unprintable::Placeholder
            } else {
                Unprintable::Refuse
            },
        };
        let (out, written) = write_delivery(out.hashing(), &doc, signers)?;
        let recorded = self.shared.recorded;
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
            show: args.show,
            included: args.include.clone(),
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
