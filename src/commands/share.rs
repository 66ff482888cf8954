use std::path::PathBuf;

use clap::{Args, ValueEnum};

use super::{load_campaign, Access};
use crate::context::Ctx;
use crate::error::Error;
use crate::mail::Postman;
use crate::model::{Campaign, Lang, Status};
use crate::ops::invites::{self, InviteReport, Letter};
use crate::render::mail::Friend;
use crate::render::share::{self, Channel};
use crate::ui;

mod card;

pub(crate) use card::write_card;

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
    #[arg(long, value_parser = super::values::lang())]
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
    let campaign = load_campaign(ctx, &mut *store, &args.campaign, Access::Read)?;
    if let Some(path) = &args.card {
        // The title in the share's language, where the petition has one.
        let campaign = match args.lang {
            Some(lang) => store.campaign_texts(&campaign, lang)?.applied_to(&campaign),
            None => campaign,
        };
        let path = card::write_card(ctx, &*store, &campaign, path)?;
        if ctx.output.json {
            ui::out_json(&serde_json::json!({ "card": path }))?;
        } else {
            ui::out_line(path.display().to_string())?;
        }
        return Ok(());
    }
    ensure_shareable(&campaign)?;
    let lang = args.lang.unwrap_or(campaign.lang);
    // The petition's own words in that language, where it has them.
    let campaign = store.campaign_texts(&campaign, lang)?.applied_to(&campaign);
    if inviting {
        return invite(ctx, &campaign, lang, &args);
    }

    let organizer = ctx.account()?.name;
    let posts = share::share_posts(
        &campaign,
        lang,
        &args.channel.channels(),
        organizer.as_deref(),
    );
    if ctx.output.json {
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

/// Writes (or sends) one invitation per new valid address, then says what happened.
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
        contacts.extend(invites::read_contacts(path)?);
    }
    let letter = Letter {
        campaign,
        lang,
        link,
        message: args.message.as_deref(),
    };
    let report = invites::invite(&postman, &letter, contacts, &mut |n, to| {
        ui::status(ctx, format!("sending invitation {n} to {to}"))
    })?;
    render_invites(ctx, &report)?;
    let failed = report
        .written
        .iter()
        .filter(|w| w.failure.is_some())
        .count();
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

/// Warnings for what was skipped, the files written (or JSON), and what is waiting.
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
    if ctx.output.json {
        ui::out_json(report)?;
        return Ok(());
    }
    for w in &report.written {
        ui::out_line(w.file.display().to_string())?;
    }
    let sent = report.written.iter().filter(|w| w.sent).count();
    let waiting = report.written.len() - sent;
    if sent > 0 {
        ui::status(ctx, ui::count("invitations_sent", sent, &[]));
    }
    if waiting > 0 {
        ui::status(ctx, ui::count("invitations_waiting", waiting, &[]));
    }
    Ok(())
}
