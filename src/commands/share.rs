use std::collections::HashSet;
use std::path::{Path, PathBuf};

use clap::{Args, ValueEnum};
use serde::Serialize;

use super::{load_campaign, Access};
use crate::bounded::{self, Accept};
use crate::context::Ctx;
use crate::error::Error;
use crate::model::{Campaign, Lang, Status};
use crate::outbox::{Posted, Postman};
use crate::render::card;
use crate::render::mail::{self, Friend, MailKind};
use crate::render::pdf::text::with_placeholder;
use crate::render::share::{self, Channel};
use crate::store::Store;
use crate::ui;

/// Prints ready-to-post texts and share links for each channel, in the campaign's
/// language. With --invite or --invite-file, writes one personal invitation email per
/// friend into the outbox instead (or sends them with --send).
#[derive(Debug, Args)]
pub struct ShareArgs {
    /// Campaign slug or id
    pub campaign: String,

    /// Which channel to print
    #[arg(long, value_enum, default_value = "all")]
    pub channel: ChannelChoice,

    /// Language of the texts and invitations [default: the campaign's language]
    #[arg(long, value_enum)]
    pub lang: Option<Lang>,

    /// Invite a friend by email (repeat for each friend)
    #[arg(long, value_name = "EMAIL")]
    pub invite: Vec<String>,

    /// Invite the friends in a CSV file with `name` and `email` columns
    #[arg(long, value_name = "CONTACTS.csv")]
    pub invite_file: Option<PathBuf>,

    /// Your own words for the invitations, shown right after the greeting
    #[arg(long, value_name = "TEXT")]
    pub message: Option<String>,

    /// Send the invitations now through your SMTP server instead of leaving them in the outbox
    #[arg(long)]
    pub send: bool,

    /// Write the share card to this PNG file instead of printing texts: the 1200x630
    /// picture a post of the link shows (the campaign picture cropped to fill, with the
    /// title). Works for drafts too, to see it before launching
    #[arg(long, value_name = "FILE.png", conflicts_with_all = ["invite", "invite_file", "message", "send"])]
    pub card: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ChannelChoice {
    Facebook,
    X,
    Whatsapp,
    Sms,
    Email,
    All,
}

impl ChannelChoice {
    fn channels(self) -> Vec<Channel> {
        match self {
            ChannelChoice::Facebook => vec![Channel::Facebook],
            ChannelChoice::X => vec![Channel::X],
            ChannelChoice::Whatsapp => vec![Channel::Whatsapp],
            ChannelChoice::Sms => vec![Channel::Sms],
            ChannelChoice::Email => vec![Channel::Email],
            ChannelChoice::All => Channel::ALL.to_vec(),
        }
    }
}

pub fn run(ctx: &Ctx, args: ShareArgs) -> anyhow::Result<()> {
    let inviting = !args.invite.is_empty() || args.invite_file.is_some();
    if !inviting && (args.message.is_some() || args.send) {
        return Err(Error::Usage(
            "--message and --send go with --invite EMAIL or --invite-file CONTACTS.csv".into(),
        )
        .into());
    }
    let mut store = ctx.store()?;
    let campaign = load_campaign(ctx, &mut store, &args.campaign, Access::Read)?;
    if let Some(path) = &args.card {
        let path = write_card(ctx, &store, &campaign, path)?;
        if ctx.global.json {
            ui::out_json(&serde_json::json!({ "card": path }))?;
        } else {
            ui::out_line(path.display().to_string())?;
        }
        return Ok(());
    }
    ensure_shareable(&campaign)?;
    let lang = args.lang.unwrap_or(campaign.lang);
    if inviting {
        return invite(ctx, &campaign, lang, &args);
    }

    let posts = share::share_posts(&campaign, lang, &args.channel.channels());
    if ctx.global.json {
        ui::out_json(&posts)?;
        return Ok(());
    }
    let mut first = true;
    for (channel, post) in &posts {
        if !first {
            ui::out_line("")?;
        }
        first = false;
        ui::out_line(format!("# {}", channel.as_str()))?;
        if let Some(subject) = &post.subject {
            ui::out_line(format!("Subject: {subject}"))?;
        }
        ui::out_line(&post.text)?;
        match (&post.link, &post.note) {
            (Some(link), _) => ui::out_line(format!("\n{link}"))?,
            (None, Some(note)) => ui::warn(format!("{}: {note}", channel.as_str())),
            (None, None) => {}
        }
    }
    Ok(())
}

/// Draws the campaign's share card and writes it to `path` (a PNG); returns where.
pub(crate) fn write_card(
    ctx: &Ctx,
    store: &Store,
    campaign: &Campaign,
    path: &Path,
) -> anyhow::Result<PathBuf> {
    let picture = store.picture(campaign.id)?.map(|(bytes, _mime)| bytes);
    let organization = ctx
        .account()
        .ok()
        .map(|a| a.display_organization().trim().to_string())
        .filter(|o| !o.is_empty());
    // What no font draws shows as U+FFFD rather than vanishing.
    let title = with_placeholder(&campaign.title, '\u{FFFD}');
    let (png, drawn) = card::render_png(&card::Card {
        title: &title,
        picture: picture.as_deref(),
        footer: organization.as_deref(),
    })
    .map_err(|e| anyhow::anyhow!("cannot make the share card: {e}"))?;
    if let Some(problem) = &drawn.picture_problem {
        ui::warn(format!(
            "the campaign picture was left off the share card: {problem}"
        ));
    }
    if title != campaign.title {
        ui::warn(
            "the title has characters no font here can draw: they show as U+FFFD on the share card",
        );
    }
    Ok(ctx.files().write(path, &png)?.path)
}

/// Only a live petition can be shared: a draft is not finished, an offline one stopped.
fn ensure_shareable(campaign: &Campaign) -> Result<(), Error> {
    let slug = &campaign.slug;
    match campaign.status {
        Status::Live => Ok(()),
        Status::Draft => Err(Error::Refused(format!(
            "{slug} is still a draft and cannot be shared yet: review and launch it with `campaign review {slug} --launch`"
        ))),
        Status::Offline => Err(Error::Refused(format!(
            "{slug} is offline and cannot be shared: bring it back with `campaign online {slug}`"
        ))),
    }
}

/// What `share --invite` did, address by address.
#[derive(Debug, Default, Serialize)]
struct InviteReport {
    /// Invitations written to the outbox (or sent), with their .eml files.
    written: Vec<Posted>,
    /// Addresses given more than once (invited once).
    duplicates: Vec<String>,
    /// Addresses already invited to this campaign earlier (not invited again).
    already_invited: Vec<String>,
    /// Entries that are not email addresses.
    invalid: Vec<Invalid>,
}

#[derive(Debug, Serialize)]
struct Invalid {
    value: String,
    reason: String,
}

fn invite(ctx: &Ctx, campaign: &Campaign, lang: Lang, args: &ShareArgs) -> anyhow::Result<()> {
    let Some(link) = campaign.url.as_deref().filter(|u| !u.trim().is_empty()) else {
        return Err(Error::Refused(format!(
            "{} has no web address to invite people to: add it with `campaign edit {} --url https://...`",
            campaign.slug, campaign.slug
        ))
        .into());
    };
    // Know the sender and server before writing anything, so a missing setting fails cleanly.
    let postman = Postman::new(&ctx.paths, &ctx.account()?, args.send)?;

    let mut contacts: Vec<Friend> = args
        .invite
        .iter()
        .map(|email| Friend {
            name: None,
            email: email.clone(),
        })
        .collect();
    if let Some(path) = &args.invite_file {
        contacts.extend(read_contacts(path)?);
    }

    let outbox = postman.outbox();
    let mut earlier: HashSet<String> = HashSet::new();
    for item in outbox.list()?.into_iter().chain(outbox.list_sent()?) {
        if item.info.kind == MailKind::Invitation
            && item.info.campaign.as_deref() == Some(campaign.slug.as_str())
        {
            earlier.insert(item.info.to.to_lowercase());
        }
    }

    let mut report = InviteReport::default();
    let mut seen: HashSet<String> = HashSet::new();
    let mut failed = 0;
    for friend in contacts {
        let email = friend.email.trim().to_string();
        if !crate::domain::email_ok(&email) {
            report.invalid.push(Invalid {
                reason: if email.is_empty() {
                    "no email address".into()
                } else {
                    "not an email address like ana@example.org".into()
                },
                value: match &friend.name {
                    Some(name) => format!("{name} <{email}>"),
                    None => email,
                },
            });
            continue;
        }
        let key = email.to_lowercase();
        if !seen.insert(key.clone()) {
            report.duplicates.push(email);
            continue;
        }
        if earlier.contains(&key) {
            report.already_invited.push(email);
            continue;
        }
        let friend = Friend {
            name: friend.name,
            email,
        };
        let built = mail::friend_invitation(
            &postman.sender,
            campaign,
            lang,
            &friend,
            link,
            args.message.as_deref(),
        )?;
        if postman.sends_now() {
            ui::status(
                ctx,
                format!(
                    "sending invitation {} to {}",
                    report.written.len() + 1,
                    friend.email
                ),
            );
        }
        let written = postman.post(&built)?;
        if written.failure.is_some() {
            failed += 1;
        }
        report.written.push(written);
    }

    render_invites(ctx, &report)?;
    if failed > 0 {
        return Err(Error::SomeNotSent {
            failed,
            total: report.written.len(),
        }
        .into());
    }
    if report.written.is_empty() && report.already_invited.is_empty() {
        return Err(
            Error::Invalid("no invitation written: no new valid address was given".into()).into(),
        );
    }
    Ok(())
}

fn render_invites(ctx: &Ctx, report: &InviteReport) -> anyhow::Result<()> {
    for email in &report.duplicates {
        ui::warn(format!("{email} was given more than once: invited once"));
    }
    for email in &report.already_invited {
        ui::warn(format!(
            "{email} was already invited to this campaign: not invited again"
        ));
    }
    for invalid in &report.invalid {
        ui::warn(format!("skipped {:?}: {}", invalid.value, invalid.reason));
    }
    for w in &report.written {
        if let Some(reason) = &w.failure {
            ui::warn(format!("could not send to {}: {reason}", w.to));
        }
    }
    if ctx.global.json {
        ui::out_json(report)?;
        return Ok(());
    }
    for w in &report.written {
        ui::out_line(w.file.display().to_string())?;
    }
    let sent = report.written.iter().filter(|w| w.sent).count();
    let waiting = report.written.len() - sent;
    if sent > 0 {
        ui::status(
            ctx,
            format!(
                "sent {}",
                ui::plural(sent as u64, "invitation", "invitations")
            ),
        );
    }
    if waiting > 0 {
        ui::status(
            ctx,
            format!(
                "{} waiting in the outbox: review them, then `campaign outbox --send`",
                ui::plural(waiting as u64, "invitation", "invitations")
            ),
        );
    }
    Ok(())
}

/// The largest contacts file read (a list of 100,000 friends is about 5 MB).
const MAX_CONTACTS_FILE: u64 = 50 * 1024 * 1024;

/// Friends from a CSV with a header row: `email` (or `correo`) and optionally `name`
/// (or `nombre`) columns, in any order and case. Read through a limit (a pipe such as
/// `<(grep ...)` is fine, a device is not); a name that cannot go into an email header
/// (a line break, a control character) is refused with its row, before anything is written.
fn read_contacts(path: &Path) -> anyhow::Result<Vec<Friend>> {
    let cannot = |e: &dyn std::fmt::Display| {
        Error::Invalid(format!(
            "--invite-file {}: cannot read it ({e})",
            path.display()
        ))
    };
    let file =
        bounded::open(path, MAX_CONTACTS_FILE, Accept::FilesAndPipes).map_err(|e| cannot(&e))?;
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(file);
    let headers = reader.headers().map_err(|e| cannot(&e))?.clone();
    let column = |names: &[&str]| {
        headers
            .iter()
            .position(|h| names.iter().any(|n| h.eq_ignore_ascii_case(n)))
    };
    let email_col = column(&["email", "e-mail", "correo"]).ok_or_else(|| {
        Error::Invalid(format!(
            "--invite-file {}: no `email` column; the first row must name the columns, e.g. `name,email`",
            path.display()
        ))
    })?;
    let name_col = column(&["name", "nombre"]);
    let mut friends = Vec::new();
    // Row 1 is the header, as in `enter-signatures --from`.
    for (row, record) in (2u64..).zip(reader.records()) {
        let record = record.map_err(|e| cannot(&e))?;
        let email = record.get(email_col).unwrap_or("").to_string();
        let name = name_col
            .and_then(|i| record.get(i))
            .map(str::trim)
            .filter(|n| !n.is_empty())
            .map(str::to_string);
        if email.is_empty() && name.is_none() {
            continue;
        }
        for (what, value) in [("name", name.as_deref()), ("email", Some(email.as_str()))] {
            let Some(value) = value else { continue };
            if let Some(c) = value.chars().find(|c| c.is_control()) {
                let problem = if c == '\n' || c == '\r' {
                    "a line break (a quoted cell spanning lines)".to_string()
                } else {
                    format!("a control character ({c:?})")
                };
                return Err(Error::Invalid(format!(
                    "--invite-file {} row {row}: the {what} has {problem}, which an email cannot carry: \
                     put it on one line in the file and run the command again (nothing was written)",
                    path.display()
                ))
                .into());
            }
        }
        friends.push(Friend { name, email });
    }
    Ok(friends)
}
