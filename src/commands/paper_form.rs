use std::path::PathBuf;

use clap::Args;
use serde::Serialize;

use super::{load_campaign, Access};
use crate::context::Ctx;
use crate::error::Error;
use crate::render::pdf::fonts::font_hint;
use crate::render::pdf::paper_form::{self, FormInput, FormLang, Paper, Picture};
use crate::ui;

/// Most sheets one run prints: more is almost surely a typo (and a lot of paper).
const MAX_SHEETS: usize = 500;

/// Prints paper signature forms: one page per sheet, each with its own sheet id.
#[derive(Debug, Args)]
pub struct PaperFormArgs {
    /// Campaign slug or id
    pub campaign: String,

    /// Where to write the PDF [default: <slug>-paper-form-<first sheet id>.pdf in the
    /// documents folder]
    #[arg(long, short = 'o', value_name = "FILE")]
    pub out: Option<PathBuf>,

    /// How many sheets (pages) to print; each gets a new sheet id
    #[arg(long, default_value_t = 1, value_name = "N")]
    pub sheets: usize,

    /// Signature lines per sheet [default: as many as are comfortable to write in, 6-10]
    #[arg(long, value_name = "N")]
    pub lines: Option<usize>,

    /// Paper size (printed landscape)
    #[arg(long, value_enum, default_value_t = Paper::Letter)]
    pub paper: Paper,

    /// Language of the form's own words: en, es, or both on one page [default: the
    /// campaign's language]
    #[arg(long, value_enum)]
    pub lang: Option<FormLang>,
}

/// What `paper-form` reports: the file and the sheet ids it printed.
#[derive(Debug, Serialize)]
pub struct PaperFormOutput {
    pub file: PathBuf,
    pub sheets: Vec<String>,
}

pub fn run(ctx: &Ctx, args: PaperFormArgs) -> anyhow::Result<()> {
    if args.sheets == 0 || args.sheets > MAX_SHEETS {
        return Err(Error::Usage(format!(
            "--sheets {} is out of range: print 1 to {MAX_SHEETS} sheets at a time",
            args.sheets
        ))
        .into());
    }
    let mut store = ctx.store()?;
    let campaign = load_campaign(ctx, &mut *store, &args.campaign, Access::Read)?;
    let account = ctx.account()?;
    // The privacy notice must say who collects the data: no form without a name.
    let organization = account.display_organization().trim().to_string();
    if organization.is_empty() {
        return Err(Error::NoAccount.into());
    }
    let contact = [
        account.name.clone(),
        account.organization.clone(),
        account.email.clone(),
    ]
    .into_iter()
    .flatten()
    .map(|s| s.trim().to_string())
    .filter(|s| !s.is_empty())
    .collect::<Vec<_>>()
    .join(", ");
    let picture = store
        .picture(campaign.id)?
        .map(|(bytes, _mime)| Picture { bytes });

    let input = FormInput {
        organization,
        contact,
        slug: campaign.slug.clone(),
        target: campaign.target.clone(),
        ask: campaign.ask.clone(),
        why: campaign.why.clone(),
        place: campaign.place(),
        url: campaign.url.clone(),
        example_postcode: campaign.postcode.clone(),
        picture,
        lang: args.lang.unwrap_or(campaign.lang.into()),
        paper: args.paper,
    };

    let bounds = paper_form::form_line_bounds(&input);
    let lines = match args.lines {
        None => bounds.default,
        Some(n) if (1..=bounds.max).contains(&n) => n,
        Some(n) => {
            return Err(Error::Usage(format!(
                "--lines {n} does not fit on a {} page with room to write: use 1 to {}",
                args.paper_name(),
                bounds.max
            ))
            .into())
        }
    };

    // A refused --out costs no sheet ids.
    if let Some(out) = &args.out {
        ctx.files().check(out)?;
    }

    // Recorded before rendering so the ids on paper are always known to the database.
    let prefix = crate::domain::sheets::prefix(&campaign.slug);
    let sheets = store.record_sheets(campaign.id, &prefix, args.sheets, lines as i64)?;
    let ids: Vec<String> = sheets.into_iter().map(|s| s.sheet_id).collect();
    let rendered = paper_form::render(&input, lines, &ids)
        .map_err(|e| anyhow::anyhow!("cannot make the paper form PDF: {e}"))?;
    if let Some(problem) = &rendered.picture_problem {
        ui::warn(format!(
            "the campaign picture was left off the form: {problem}"
        ));
    }
    if !rendered.uncovered.is_empty() {
        let hints: Vec<String> = rendered
            .uncovered
            .iter()
            .map(|c| format!("{c:?} ({})", font_hint(*c)))
            .collect();
        ui::warn(format!(
            "no font here has these characters, so they are missing from the form: {}",
            hints.join(", ")
        ));
    }

    let path = match &args.out {
        Some(out) => out.clone(),
        None => ctx.paths.documents_dir().join(format!(
            "{}-paper-form-{}.pdf",
            campaign.slug,
            ids.first().map(String::as_str).unwrap_or("0")
        )),
    };
    let path = ctx.files().write(&path, &rendered.bytes)?.path;

    ui::status(
        ctx,
        format!(
            "{} sheet{} ({}), {lines} lines each. After collecting, type them in with `campaign enter-signatures {}`.",
            ids.len(),
            if ids.len() == 1 { "" } else { "s" },
            match ids.as_slice() {
                [one] => one.clone(),
                [first, .., last] => format!("{first} to {last}"),
                [] => String::new(),
            },
            campaign.slug
        ),
    );
    let output = PaperFormOutput {
        file: path,
        sheets: ids,
    };
    if ctx.output.json {
        ui::out_json(&output)?;
    } else {
        ui::out_line(output.file.display().to_string())?;
    }
    Ok(())
}

impl PaperFormArgs {
    fn paper_name(&self) -> &'static str {
        match self.paper {
            Paper::Letter => "letter",
            Paper::A4 => "A4",
        }
    }
}
