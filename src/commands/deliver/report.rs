//! What `deliver` shows and asks: the yes before contact details reach the target, the
//! files written on stdout (or JSON), what became of the emails, the closing status
//! line, and names no font draws.

use std::path::Path;

use super::{Ctx, DeliverArgs};
use crate::domain::delivery::ContactField;
use crate::fsutil;
use crate::mail::Posted;
use crate::model::Campaign;
use crate::ops::deliver;
use crate::ops::deliver::{DeliveredFile, Emailing};
use crate::render::pdf::fonts::font_hint;
use crate::store::Store;
use crate::ui::prompt;
use crate::ui::{self, plural};

/// What was written, on stdout (or as JSON), and what became of the emails, on stderr.
pub(super) fn report(
    ctx: &Ctx,
    delivered: &[DeliveredFile],
    emailing: Option<&Emailing>,
) -> anyhow::Result<()> {
    if ctx.output.json {
        ui::out_json(&delivered)?;
    } else {
        for f in delivered {
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
    for e in delivered.iter().filter_map(|f| f.email.as_ref()) {
        if let Some(failure) = &e.failure {
            ui::error(format!(
                "could not send to {}: {failure}; the message stays in the outbox ({}): retry with `campaign outbox --send`",
                e.to,
                e.file.display()
            ));
        }
    }
    if emailing.is_some_and(|e| !e.postman.sends_now()) && !delivered.is_empty() {
        ui::status(
            ctx,
            "the email waits in the outbox: review it, then `campaign outbox --send`",
        );
    }
    Ok(())
}

/// The closing status line: what was written, over every file.
pub(super) fn summary(
    files: &[DeliveredFile],
    campaigns: usize,
    failed: usize,
    many: bool,
) -> String {
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

pub(super) fn report_uncovered(f: &DeliveredFile) {
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

/// Contact details go to the target only after a yes: on a terminal, says whose and how
/// many and asks; without one, `--yes` is needed. True to go on.
pub(super) fn confirm_contacts(
    ctx: &Ctx,
    store: &dyn Store,
    args: &DeliverArgs,
    campaigns: &[&Campaign],
) -> anyhow::Result<bool> {
    if args.include.is_empty() || !args.show.lists_signers() || ctx.yes {
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
        let (emails, phones) = deliver::contacts_shown(store, c.id, args.show, &args.include)?;
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
