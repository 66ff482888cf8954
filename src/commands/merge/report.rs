//! What `campaign merge` tells a person: a line per campaign with what came in, and a
//! warning per conflict (both values, shortened) saying how to settle it.

use crate::ops::merge::MergeReport;
use crate::ui::{self, table};

/// The summary on stderr: what came in (or would, with `--dry-run`), per campaign.
pub(super) fn summary(output: impl AsRef<ui::Output>, from: &str, report: &MergeReport) {
    let output = output.as_ref();
    if report.campaigns.is_empty() {
        ui::status(output, format!("{from} has no campaigns: nothing to merge"));
        return;
    }
    let mut t = table::new_table([
        "campaign",
        "new",
        "signatures",
        "already here",
        "duplicates",
        "sheets",
        "deliveries",
        "conflicts",
    ]);
    for c in &report.campaigns {
        let conflicts = c.conflicts.len() + c.sheet_conflicts.len();
        t.add_row([
            c.slug.clone(),
            match (&c.skipped, c.new_campaign) {
                (Some(_), _) => "skipped".into(),
                (None, true) => "yes".into(),
                (None, false) => "no".into(),
            },
            c.signatures_added.to_string(),
            c.signatures_already_here.to_string(),
            c.duplicates.to_string(),
            c.sheets_added.to_string(),
            c.deliveries_added.to_string(),
            (conflicts + usize::from(c.skipped.is_some())).to_string(),
        ]);
    }
    let head = if report.dry_run {
        format!("dry run, nothing was changed: merging {from} would bring in")
    } else if report.added() == 0 {
        format!("merged {from}: nothing new (everything it has is here already)")
    } else {
        format!("merged {from}:")
    };
    ui::status(output, head);
    ui::status(output, t.to_string());
}

/// A warning for each conflict: shown even with `--quiet` and `--json`, since each one
/// asks a person to decide.
pub(super) fn conflicts(from: &str, report: &MergeReport) {
    let shown = |v: &Option<String>| match v {
        Some(v) => format!("{v:?}"),
        None => "(empty)".into(),
    };
    for c in &report.campaigns {
        if let Some(why) = &c.skipped {
            ui::warn(format!(
                "{}: not merged: {why}. Nothing of it came in; rename one of them \
                 (`campaign edit`) only if they are different campaigns",
                c.slug
            ));
        }
        let here = c.slug_here.as_deref().unwrap_or(&c.slug);
        for k in &c.conflicts {
            ui::warn(format!(
                "{here}: {} differs: here {}, in {from} {}. Kept this database's; to take the \
                 other, use `campaign edit {here}`",
                k.field,
                shown(&k.here),
                shown(&k.incoming)
            ));
        }
        for s in &c.sheet_conflicts {
            ui::warn(format!(
                "{here}: sheet {} of {from} was not merged: that id is another sheet here (of {}). \
                 Its signers came in with the sheet id as written",
                s.sheet_id, s.here_in
            ));
        }
    }
    if report.conflicts > 0 {
        ui::warn(format!(
            "{} conflict(s) left for a person to settle{}",
            report.conflicts,
            if report.dry_run {
                " (dry run)"
            } else {
                "; everything else was merged"
            }
        ));
    }
}
