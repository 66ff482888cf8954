//! `campaign forget`: remove one person from every campaign and keep a keyed hash so no
//! later import, typed entry or merge brings them back (issue 13).

use clap::{ArgGroup, Args};

use crate::context::Ctx;
use crate::domain::signer::{self, RawSigner, Region};
use crate::error::Error;
use crate::model::{PersonKey, Scope};
use crate::ops::privacy;
use crate::ui::{self, prompt};

/// Removes one person (they withdrew) from every campaign in the database.
#[derive(Debug, Args)]
#[command(group(ArgGroup::new("who").required(true).args(["email", "name"])))]
pub struct ForgetArgs {
    /// The person's email
    #[arg(long, value_name = "EMAIL", conflicts_with_all = ["name", "postcode"])]
    pub email: Option<String>,

    /// The person's name, as they signed (with --postcode)
    #[arg(long, value_name = "NAME", requires = "postcode")]
    pub name: Option<String>,

    /// Their postcode (with --name)
    #[arg(long, value_name = "POSTCODE", requires = "name")]
    pub postcode: Option<String>,

    /// Show where they appear; change nothing
    #[arg(long)]
    pub dry_run: bool,
}

/// The keys the person would have, under each postcode rule a campaign may use (a US
/// campaign's ZIP rule, and none for a global one).
fn person(ctx: &Ctx, args: &ForgetArgs) -> anyhow::Result<PersonKey> {
    let country = ctx.account().ok().and_then(|a| a.country);
    let mut keys = Vec::new();
    for scope in [Scope::National, Scope::Global] {
        let region = Region::new(country.as_deref(), None, scope);
        let raw = RawSigner {
            // An email is the key on its own; the name only has to be valid.
            name: args.name.as_deref().unwrap_or("-").into(),
            email: args.email.as_deref().unwrap_or(""),
            postcode: args.postcode.as_deref().unwrap_or(""),
            ..Default::default()
        };
        let s = signer::validate(&raw, region).map_err(|p| Error::Usage(p.to_string()))?;
        if !keys.contains(&s.dedupe_key) {
            keys.push(s.dedupe_key);
        }
    }
    Ok(PersonKey {
        keys,
        by_name: args.email.is_none(),
    })
}

pub fn run(ctx: &Ctx, args: ForgetArgs) -> anyhow::Result<()> {
    let who = person(ctx, &args)?;
    let shown = match (&args.email, &args.name, &args.postcode) {
        (Some(e), _, _) => e.trim().to_string(),
        (None, Some(n), Some(p)) => format!("{} ({})", n.trim(), p.trim()),
        _ => String::new(),
    };
    let mut store = ctx.store()?;
    let plan = privacy::plan_forget(&*store, &who)?;
    let rows: u64 = plan.campaigns.iter().map(|m| m.rows).sum();
    if ctx.output.json && args.dry_run {
        ui::out_json(&plan)?;
        return Ok(());
    }
    let would = if args.dry_run {
        "would remove"
    } else {
        "removing"
    };
    if plan.campaigns.is_empty() {
        ui::say(format!("{shown} is in no campaign"));
    }
    for m in &plan.campaigns {
        ui::say(format!(
            "{}: {would} {}",
            m.slug,
            ui::plural(m.rows, "row", "rows")
        ));
    }
    for f in &plan.handed_over {
        ui::say(format!(
            "  already handed over, may name them (forget cannot change it): {}",
            f.display()
        ));
    }
    if args.dry_run {
        return Ok(());
    }
    if !ctx.yes {
        let question = format!(
            "Remove {shown} from {} and keep them out of later imports? This cannot be undone.",
            ui::plural(plan.campaigns.len() as u64, "campaign", "campaigns")
        );
        if !ctx.interactive {
            return Err(Error::Refused(format!("{question} Pass --yes to confirm.")).into());
        }
        if !prompt::confirm(&question, false)? {
            ui::status(ctx, "nothing removed");
            return Ok(());
        }
    }
    let (forgotten, scrub) = privacy::forget(&mut *store, &who)?;
    if let Some(note) = &scrub.note {
        ui::warn(note);
    }
    ui::status(
        ctx,
        format!(
            "forgot {shown}: {} removed from {}; later imports and typed entry leave them out",
            ui::plural(forgotten.rows, "row", "rows"),
            ui::plural(forgotten.campaigns, "campaign", "campaigns"),
        ),
    );
    if ctx.output.json {
        ui::out_json(&forgotten)?;
    }
    let _ = rows;
    Ok(())
}
