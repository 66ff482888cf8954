use clap::Args;
use serde::Serialize;

use crate::context::Ctx;
use crate::error::Error;
use crate::mail::{Mailer, Outbox, Queued};
use crate::ui;

/// Lists the emails waiting in the outbox (invitations, deliveries), or sends them all.
/// Each waiting email is an .eml file you can open and check before sending.
#[derive(Debug, Args)]
pub struct OutboxArgs {
    /// Send every waiting email through your SMTP server (`campaign account --smtp-url`
    /// or $CAMPAIGN_SMTP_URL); sent ones move to the sent folder, failed ones stay with
    /// the reason
    #[arg(long)]
    pub send: bool,
}

/// One waiting email as listed.
#[derive(Debug, Serialize)]
struct Waiting<'a> {
    to: &'a str,
    subject: &'a str,
    campaign: Option<&'a str>,
    kind: crate::render::mail::MailKind,
    queued_at: &'a str,
    file: &'a std::path::Path,
    failure: Option<&'a str>,
}

impl<'a> From<&'a Queued> for Waiting<'a> {
    fn from(q: &'a Queued) -> Self {
        Waiting {
            to: &q.info.to,
            subject: &q.info.subject,
            campaign: q.info.campaign.as_deref(),
            kind: q.info.kind,
            queued_at: &q.queued_at,
            file: &q.file,
            failure: q.failure.as_deref(),
        }
    }
}

pub fn run(ctx: &Ctx, args: OutboxArgs) -> anyhow::Result<()> {
    let outbox = Outbox::new(&ctx.paths);
    if args.send {
        return send(ctx, &outbox);
    }
    let waiting = outbox.list()?;
    let rows: Vec<Waiting> = waiting.iter().map(Waiting::from).collect();
    if ctx.output.json {
        ui::out_json(&rows)?;
        return Ok(());
    }
    if rows.is_empty() {
        ui::status(ctx, "the outbox is empty");
        return Ok(());
    }
    let mut table = ui::table::new_table(["to", "subject", "campaign", "when", "last failure"]);
    for r in &rows {
        table.add_row(vec![
            r.to.to_string(),
            r.subject.to_string(),
            r.campaign.unwrap_or("-").to_string(),
            r.queued_at.to_string(),
            r.failure.unwrap_or("-").to_string(),
        ]);
    }
    ui::out_line(table.to_string())?;
    let dir = ctx.paths.outbox_dir().display().to_string();
    ui::status(
        ctx,
        ui::count("emails_waiting", rows.len(), &[("dir", &dir)]),
    );
    Ok(())
}

#[derive(Debug, Serialize)]
struct SendView<'a> {
    sent: Vec<Waiting<'a>>,
    failed: Vec<Waiting<'a>>,
}

fn send(ctx: &Ctx, outbox: &Outbox) -> anyhow::Result<()> {
    if outbox.list()?.is_empty() {
        ui::status(ctx, "the outbox is empty: nothing to send");
        if ctx.output.json {
            ui::out_json(&SendView {
                sent: vec![],
                failed: vec![],
            })?;
        }
        return Ok(());
    }
    let mailer = Mailer::configured(&ctx.account()?)?;
    let server = mailer.settings().server();
    let report = outbox.send_all(&mailer, |n, total, item| {
        ui::status(
            ctx,
            format!("sending {n} of {total} to {} via {server}", item.info.to),
        );
    })?;
    for q in &report.failed {
        ui::warn(format!(
            "could not send to {}: {}",
            q.info.to,
            q.failure.as_deref().unwrap_or("unknown reason")
        ));
    }
    if ctx.output.json {
        ui::out_json(&SendView {
            sent: report.sent.iter().map(Waiting::from).collect(),
            failed: report.failed.iter().map(Waiting::from).collect(),
        })?;
    } else {
        for q in &report.sent {
            ui::out_line(q.file.display().to_string())?;
        }
    }
    ui::status(ctx, ui::count("emails_sent", report.sent.len(), &[]));
    if !report.failed.is_empty() {
        return Err(Error::SomeNotSent {
            failed: report.failed.len(),
            total: report.failed.len() + report.sent.len(),
        }
        .into());
    }
    Ok(())
}
