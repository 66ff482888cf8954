use clap::Args;

use crate::config::Account;
use crate::context::Ctx;
use crate::domain::text::clean_opt;
use crate::error::Error;
use crate::model::Lang;
use crate::ui;

/// With no flags, shows the account. With flags, updates those fields and shows the result.
#[derive(Debug, Args)]
pub struct AccountArgs {
    /// Your name, as signers and targets will see it
    #[arg(long)]
    pub name: Option<String>,

    /// Your email: campaigns you create are yours, and emails come from it
    #[arg(long)]
    pub email: Option<String>,

    /// Your organization, printed on forms and deliveries
    #[arg(long)]
    pub organization: Option<String>,

    /// Default language for new campaigns
    #[arg(long, value_parser = super::values::lang())]
    pub lang: Option<Lang>,

    /// Your country code (e.g. US), the default region for phone numbers
    #[arg(long, value_name = "CC")]
    pub country: Option<String>,

    /// SMTP server for sending email, e.g. smtps://user:pass@host:465 or
    /// smtp://user:pass@host:587 (STARTTLS; a password is never sent in clear text to another
    /// machine unless the URL ends in ?tls=none). Add ?timeout=SECONDS to wait longer than 10 s
    #[arg(long, value_name = "URL")]
    pub smtp_url: Option<String>,

    /// Address replies should go to [default: your email]
    #[arg(long, value_name = "EMAIL")]
    pub reply_to: Option<String>,
}

pub fn run(ctx: &Ctx, args: AccountArgs) -> anyhow::Result<()> {
    let mut account = ctx.account()?;
    let changed = apply(&mut account, &args)?;
    if changed {
        ctx.save_account(&account)?;
        ui::status(
            ctx,
            format!(
                "saved your account in {}",
                ctx.paths.config_file().display()
            ),
        );
    }
    render(ctx, &account)
}

fn apply(account: &mut Account, args: &AccountArgs) -> anyhow::Result<bool> {
    let mut changed = false;
    if let Some(email) = &args.email {
        let email = email.trim();
        if !crate::domain::email_ok(email) {
            return Err(Error::Usage(format!(
                "--email {email:?} is not an email address like ana@example.org"
            ))
            .into());
        }
        account.email = Some(email.to_string());
        changed = true;
    }
    for (flag, value, slot) in [
        ("--name", &args.name, &mut account.name),
        (
            "--organization",
            &args.organization,
            &mut account.organization,
        ),
    ] {
        if let Some(value) = value {
            let cleaned = clean_opt(Some(value));
            if cleaned.is_none() && flag == "--name" {
                return Err(Error::Usage("--name cannot be empty".into()).into());
            }
            *slot = cleaned;
            changed = true;
        }
    }
    if let Some(lang) = args.lang {
        account.lang = Some(lang);
        changed = true;
    }
    if let Some(country) = &args.country {
        let country = country.trim().to_ascii_uppercase();
        if country.len() != 2 || !country.chars().all(|c| c.is_ascii_alphabetic()) {
            return Err(Error::Usage(format!(
                "--country {country:?} must be a two-letter country code like US or MX"
            ))
            .into());
        }
        account.country = Some(country);
        changed = true;
    }
    if let Some(url) = &args.smtp_url {
        let url = clean_opt(Some(url));
        if let Some(url) = &url {
            // Check it now, not at the first send.
            crate::mail::Mailer::from_url(url)
                .map_err(|e| Error::Usage(format!("--smtp-url: {e}")))?;
        }
        account.smtp_url = url;
        changed = true;
    }
    if let Some(reply_to) = &args.reply_to {
        account.reply_to = clean_opt(Some(reply_to));
        changed = true;
    }
    Ok(changed)
}

/// The account as shown: the SMTP password is never printed.
#[derive(serde::Serialize)]
struct AccountView<'a> {
    name: Option<&'a str>,
    email: Option<&'a str>,
    organization: Option<&'a str>,
    lang: Option<Lang>,
    country: Option<&'a str>,
    smtp_url: Option<String>,
    reply_to: Option<&'a str>,
}

fn render(ctx: &Ctx, account: &Account) -> anyhow::Result<()> {
    let view = AccountView {
        name: account.name.as_deref(),
        email: account.email.as_deref(),
        organization: account.organization.as_deref(),
        lang: account.lang,
        country: account.country.as_deref(),
        smtp_url: account.smtp_url.as_deref().map(redact_password),
        reply_to: account.reply_to.as_deref(),
    };
    if ctx.output.json {
        ui::out_json(&view)?;
        return Ok(());
    }
    if !account.is_complete() {
        ui::warn("no account yet: set one with `campaign account --name \"Your Name\" --email you@example.org`");
    }
    let none = || "-".to_string();
    let table = ui::table::key_values([
        ("name", view.name.map(str::to_string).unwrap_or_else(none)),
        ("email", view.email.map(str::to_string).unwrap_or_else(none)),
        (
            "organization",
            view.organization.map(str::to_string).unwrap_or_else(none),
        ),
        (
            "language",
            view.lang
                .map(|l| l.to_string())
                .unwrap_or_else(|| "en".into()),
        ),
        (
            "country",
            view.country
                .map(str::to_string)
                .unwrap_or_else(|| "US".into()),
        ),
        ("smtp", view.smtp_url.clone().unwrap_or_else(none)),
        (
            "reply-to",
            view.reply_to.map(str::to_string).unwrap_or_else(none),
        ),
    ]);
    ui::out_line(table.to_string())?;
    Ok(())
}

/// `smtps://user:secret@host` -> `smtps://user:***@host`.
pub fn redact_password(url: &str) -> String {
    if let Some((scheme, rest)) = url.split_once("://") {
        if let Some((userinfo, host)) = rest.rsplit_once('@') {
            if let Some((user, _)) = userinfo.split_once(':') {
                return format!("{scheme}://{user}:***@{host}");
            }
        }
    }
    url.to_string()
}
