use std::path::PathBuf;

use clap::Args;
use serde::Serialize;

use super::{load_campaign, Access};
use crate::context::Ctx;
use crate::error::Error;
use crate::render::pdf::fonts::font_hint;
use crate::render::pdf::paper_form::{self, FormInput, FormLang, Picture, Unfit};
use crate::render::pdf::{Paper, PetitionText};
use crate::ui;

mod checks;

use checks::{printable, too_long};

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

    /// Paper size, printed landscape [default: letter for a campaign (or account) in the
    /// US, Canada, Mexico and the other countries that use it, A4 elsewhere]
    #[arg(long, value_parser = super::values::paper(), ignore_case = true)]
    pub paper: Option<Paper>,

    /// Language of the form's own words: en, es, or both on one page [default: the
    /// campaign's language]
    #[arg(long, value_parser = super::values::form_lang())]
    pub lang: Option<FormLang>,

    /// A shorter why to print on the sheets instead of the petition's own, when that one
    /// does not fit (the petition is not changed)
    #[arg(long, value_name = "TEXT")]
    pub short_why: Option<String>,

    /// Start the PDF with a page for organizers: how to hand the sheets out, what the
    /// boxes mean, and how to type the sheets in (the sheets never name the tool)
    #[arg(long)]
    pub with_instructions: bool,

    /// Print the form even when its text has characters no font here can draw, each
    /// printed as the replacement mark U+FFFD. Without it, nothing is printed and the
    /// characters are listed
    #[arg(long)]
    pub allow_unprintable: bool,
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
    let paper = args.paper.unwrap_or_else(|| {
        Paper::for_country(campaign.country.as_deref().or(account.country.as_deref()))
    });

    let lang = args.lang.unwrap_or(campaign.lang.into());
    // The petition's own words in each language of the form: the organizers' translation
    // where there is one, field by field the campaign's text where not.
    let mut texts = Vec::new();
    for l in lang.langs() {
        let text = PetitionText::of(&store.campaign_texts(&campaign, *l)?.applied_to(&campaign));
        // No translation: the campaign's text once, not twice.
        if !texts.iter().any(|(_, t)| *t == text) {
            texts.push((*l, text));
        }
    }
    if let Some(why) = &args.short_why {
        // An empty one is a mistake (an unset shell variable), not a wish for no why.
        if why.trim().is_empty() {
            return Err(Error::Usage(
                "--short-why is empty: give the shorter why to print, or leave the flag out".into(),
            )
            .into());
        }
        // It shortens the campaign's own why (or the only one printed).
        let at = texts
            .iter()
            .position(|(l, _)| *l == campaign.lang)
            .unwrap_or(0);
        texts[at].1.why = why.trim().to_string();
    }
    let mut texts = texts.into_iter().map(|(_, t)| t);
    let petition = texts.next().unwrap_or_else(|| PetitionText::of(&campaign));
    let second = texts.next();
    let mut input = FormInput {
        organization,
        contact,
        slug: campaign.slug.clone(),
        petition,
        second,
        url: campaign.url.clone(),
        example_postcode: campaign.postcode.clone(),
        picture,
        lang,
        paper,
    };
    printable(&mut input, args.allow_unprintable)?;

    if args.lines == Some(0) {
        return Err(Error::Usage("--lines 0: a sheet needs at least 1 line".into()).into());
    }
    let form = match paper_form::fit(&input, args.lines) {
        Ok(form) => form,
        Err(Unfit::Lines { max }) => {
            return Err(Error::Usage(format!(
                "--lines {} does not fit on a {} page with room to write: use 1 to {max}",
                args.lines.unwrap_or_default(),
                paper.name(),
            ))
            .into())
        }
        Err(Unfit::TooLong { field, cut }) => {
            return Err(too_long(&campaign.slug, paper, field, cut, &args).into())
        }
    };
    let lines = form.lines;

    // A refused --out costs no sheet ids.
    if let Some(out) = &args.out {
        ctx.files().check(out)?;
    }

    // Recorded before rendering so the ids on paper are always known to the database.
    let prefix = crate::domain::sheets::prefix(&campaign.slug);
    let sheets = store.record_sheets(campaign.id, &prefix, args.sheets, lines as i64)?;
    let ids: Vec<String> = sheets.into_iter().map(|s| s.sheet_id).collect();
    let rendered = paper_form::render(&input, &form, &ids, args.with_instructions)
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
