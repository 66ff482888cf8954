//! Every email the tool makes, built with lettre from the message catalog: invitations to
//! friends, invitations to co-organize, and the delivery to the target. From is the
//! organizer; Reply-To is their chosen reply address. lettre encodes UTF-8 headers
//! (RFC 2047) and bodies, so names and titles in any script arrive intact.

use std::path::Path;

use lettre::message::header::ContentType;
use lettre::message::{Attachment, Mailbox, MultiPart, SinglePart};
use lettre::{Address, Message};
use serde::{Deserialize, Serialize};

use crate::bounded::{self, Accept};
use crate::config::Account;
use crate::error::{Error, Result};
use crate::i18n;
use crate::model::{Campaign, Lang};
use crate::render::pdf::PetitionText;

/// The largest delivery PDF attached to an email.
pub const MAX_ATTACHMENT: u64 = 150 * 1024 * 1024;

/// Who an email is from (its From and Reply-To): the organizer's account.
#[derive(Debug, Clone, PartialEq)]
pub struct MailFrom {
    pub name: String,
    pub email: String,
    /// Where replies go; the organizer's own email when unset.
    pub reply_to: Option<String>,
    /// The organization named in deliveries (the organizer's name without one).
    pub organization: String,
}

impl MailFrom {
    /// The sender an account describes; an account without name or email cannot send.
    pub fn from_account(account: &Account) -> Result<MailFrom> {
        if !account.is_complete() {
            return Err(Error::NoAccount);
        }
        Ok(MailFrom {
            name: account.name.clone().unwrap_or_default().trim().to_string(),
            email: account.email.clone().unwrap_or_default().trim().to_string(),
            reply_to: account.reply_to.clone(),
            organization: account.display_organization(),
        })
    }
}

/// What kind of message this is (shown by `campaign outbox`, used to avoid duplicates).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum MailKind {
    Invitation,
    AdminInvitation,
    Delivery,
}

/// What the outbox keeps beside each message: enough to list and send it without
/// parsing the `.eml`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MailInfo {
    pub kind: MailKind,
    /// Envelope sender (the organizer's address).
    pub from: String,
    /// The one recipient's address.
    pub to: String,
    pub subject: String,
    /// Slug of the campaign the message is about.
    pub campaign: Option<String>,
}

/// A built message, ready to queue or send.
#[derive(Debug, Clone)]
pub struct Mail {
    pub message: Message,
    pub info: MailInfo,
}

impl Mail {
    /// The message as RFC 5322 bytes (the `.eml` file).
    pub fn to_bytes(&self) -> Vec<u8> {
        self.message.formatted()
    }
}

/// A friend to invite.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Friend {
    pub name: Option<String>,
    pub email: String,
}

fn address(email: &str, what: &str) -> Result<Address> {
    email.trim().parse::<Address>().map_err(|e| {
        Error::Invalid(format!(
            "{what} {email:?} is not an email address like ana@example.org ({e})"
        ))
    })
}

/// A mailbox lettre can write. lettre panics on a display name it cannot encode (a line
/// break), so the name is checked first and the mailbox is formatted once through the
/// fallible `fmt::Write` path before any header is built.
fn mailbox(name: Option<&str>, email: &str, what: &str) -> Result<Mailbox> {
    if let Some(name) = name {
        if let Some(c) = name.chars().find(|c| c.is_control() && *c != '\t') {
            let problem = if c == '\n' || c == '\r' {
                "a line break".to_string()
            } else {
                format!("a control character ({c:?})")
            };
            return Err(Error::Invalid(format!(
                "the name {name:?} for {email} has {problem}, which an email header cannot carry: write the name on one line"
            )));
        }
    }
    let mailbox = Mailbox::new(name.map(str::to_string), address(email, what)?);
    let mut probe = String::new();
    std::fmt::write(&mut probe, format_args!("{mailbox}")).map_err(|_| {
        Error::Invalid(format!(
            "the name {:?} for {email} cannot be written in an email header: write it on one line",
            name.unwrap_or_default()
        ))
    })?;
    Ok(mailbox)
}

/// A subject on one line: line breaks and other controls (a title saved by an older
/// version) become spaces, so the header can neither break nor be split.
fn one_line(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_control() || crate::ui::term::is_unsafe(c) {
            if !out.ends_with(' ') {
                out.push(' ');
            }
        } else {
            out.push(c);
        }
    }
    out.trim().to_string()
}

/// Headers every message shares: From the organizer, Reply-To, To, Subject.
fn builder(
    sender: &MailFrom,
    to: &str,
    to_name: Option<&str>,
    subject: &str,
) -> Result<lettre::message::MessageBuilder> {
    let from = mailbox(Some(&sender.name), &sender.email, "your account email")?;
    let reply_to = match &sender.reply_to {
        Some(r) => mailbox(Some(&sender.name), r, "your reply-to")?,
        None => from.clone(),
    };
    let to = mailbox(to_name, to, "the recipient")?;
    Ok(Message::builder()
        .from(from)
        .reply_to(reply_to)
        .to(to)
        .subject(one_line(subject))
        .date_now()
        .user_agent(format!("campaign {}", env!("CARGO_PKG_VERSION"))))
}

fn built(result: std::result::Result<Message, lettre::error::Error>) -> Result<Message> {
    result.map_err(|e| Error::Invalid(format!("cannot build the email: {e}")))
}

/// A personal invitation to sign: the petition's title, ask and why, the link, and the
/// organizer's own words if any. Plain text plus an HTML alternative with a real link.
pub fn friend_invitation(
    sender: &MailFrom,
    campaign: &Campaign,
    lang: Lang,
    friend: &Friend,
    link: &str,
    personal: Option<&str>,
) -> Result<Mail> {
    let subject = i18n::t(
        lang,
        "invite.subject",
        &[("sender", &sender.name), ("title", &campaign.title)],
    );
    let greeting = match &friend.name {
        Some(name) => i18n::t(lang, "invite.greeting", &[("name", name)]),
        None => i18n::t(lang, "invite.greeting_anonymous", &[]),
    };
    let personal = personal.map(str::trim).filter(|p| !p.is_empty());
    let intro = i18n::t(lang, "invite.intro", &[]);
    let petition = i18n::t(lang, "invite.petition", &[("target", &campaign.target)]);
    let why = i18n::t(lang, "invite.why", &[]);
    let action = i18n::t(lang, "invite.action", &[]);
    let forward = i18n::t(lang, "invite.forward", &[]);
    let thanks = i18n::t(lang, "invite.thanks", &[]);

    let mut plain = vec![greeting.clone()];
    plain.push(personal.unwrap_or(&intro).to_string());
    plain.push(format!(
        "{}\n\n{}\n\n{}",
        campaign.title, petition, campaign.ask
    ));
    plain.push(format!("{why}\n{}", campaign.why));
    plain.push(format!("{action}\n{link}"));
    plain.push(forward.clone());
    plain.push(format!("{thanks}\n{}", sender.name));
    let plain = plain.join("\n\n") + "\n";

    let p = |s: &str| format!("<p>{}</p>", html_escape(s).replace('\n', "<br>\n"));
    let html = [
        p(&greeting),
        p(personal.unwrap_or(&intro)),
        format!("<h2>{}</h2>", html_escape(&campaign.title)),
        p(&petition),
        format!("<blockquote>{}</blockquote>", p(&campaign.ask)),
        format!(
            "<p><strong>{}</strong><br>\n{}</p>",
            html_escape(&why),
            html_escape(&campaign.why).replace('\n', "<br>\n")
        ),
        format!(
            "<p>{} <a href=\"{}\">{}</a></p>",
            html_escape(&action),
            html_escape(link),
            html_escape(link)
        ),
        p(&forward),
        p(&format!("{thanks}\n{}", sender.name)),
    ]
    .join("\n");
    let html = format!(
        "<!DOCTYPE html>\n<html lang=\"{}\"><head><meta charset=\"utf-8\"></head><body>\n{html}\n</body></html>\n",
        lang.as_str()
    );

    let message = built(
        builder(sender, &friend.email, friend.name.as_deref(), &subject)?
            .multipart(MultiPart::alternative_plain_html(plain, html)),
    )?;
    Ok(Mail {
        message,
        info: MailInfo {
            kind: MailKind::Invitation,
            from: sender.email.clone(),
            to: friend.email.trim().to_string(),
            subject,
            campaign: Some(campaign.slug.clone()),
        },
    })
}

/// Where a co-organizer finds the campaign, for their invitation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reach {
    /// A file on the sender's computer: nothing to connect to (and nothing to copy).
    File,
    /// A shared PostgreSQL database: its URL for them, never with a password; `user`
    /// false when their login is not known (the URL then says YOUR-USER).
    Postgres { url: String, user: bool },
}

/// An invitation to co-organize: who invited them, to which campaign, and how to start.
/// Plain text only: it is mostly commands to copy.
pub fn admin_invitation(
    sender: &MailFrom,
    campaign: &Campaign,
    lang: Lang,
    admin_email: &str,
    reach: &Reach,
) -> Result<Mail> {
    let connect = match reach {
        Reach::File => i18n::t(lang, "admin.connect.file", &[("sender", &sender.name)]),
        Reach::Postgres { url, user } => {
            let mut text = i18n::t(
                lang,
                "admin.connect.postgres",
                &[("sender", &sender.name), ("url", url)],
            );
            if !user {
                text.push_str("\n\n");
                text.push_str(&i18n::t(lang, "admin.connect.no_user", &[]));
            }
            text
        }
    };
    let vars = [
        ("sender", sender.name.as_str()),
        ("sender_email", sender.email.as_str()),
        ("title", campaign.title.as_str()),
        ("email", admin_email.trim()),
        ("slug", campaign.slug.as_str()),
        ("connect", connect.as_str()),
    ];
    let subject = i18n::t(lang, "admin.subject", &vars);
    let body = i18n::t(lang, "admin.body", &vars);
    let message =
        built(builder(sender, admin_email, None, &subject)?.singlepart(SinglePart::plain(body)))?;
    Ok(Mail {
        message,
        info: MailInfo {
            kind: MailKind::AdminInvitation,
            from: sender.email.clone(),
            to: admin_email.trim().to_string(),
            subject,
            campaign: Some(campaign.slug.clone()),
        },
    })
}

/// One postcode's file of a delivery split by postcode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Part<'a> {
    /// The postcode ("" for the signers without one).
    pub postcode: &'a str,
    /// Everyone who signed the campaign, said beside the part's count.
    pub campaign_total: i64,
}

/// What a delivery email says: the petition's words in the email's language (the same
/// text the delivery PDF printed), and the campaign it is filed under.
#[derive(Debug, Clone)]
pub struct DeliveryText {
    pub slug: String,
    pub lang: Lang,
    pub petition: PetitionText,
}

impl DeliveryText {
    /// The campaign's own text, in `lang`'s words around it.
    pub fn of(campaign: &Campaign, lang: Lang) -> DeliveryText {
        DeliveryText {
            slug: campaign.slug.clone(),
            lang,
            petition: PetitionText::of(campaign),
        }
    }
}

/// The delivery email: from the organizer to the target's address, subject with the
/// petition title and the signature count, a short letter in `about.lang`,
/// and the delivery PDF attached (application/pdf). For one postcode's file of a split
/// delivery, the subject and the letter name the postcode and say the campaign's total
/// beside the part, so the messages for different postcodes never look alike.
pub fn delivery_email(
    sender: &MailFrom,
    about: &DeliveryText,
    to: &str,
    signatures: i64,
    part: Option<Part<'_>>,
    pdf: &Path,
) -> Result<Mail> {
    // Bounded: only memory is at stake here (mail servers refuse far smaller files).
    let bytes = bounded::read(pdf, MAX_ATTACHMENT, Accept::Files).map_err(|e| {
        Error::Invalid(format!(
            "cannot read the delivery PDF {}: {e}",
            pdf.display()
        ))
    })?;
    let filename = pdf
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| format!("{}.pdf", about.slug));
    delivery_email_of_part(sender, about, to, signatures, part, &filename, bytes)
}

/// [`delivery_email`] with the PDF already in memory, for a whole campaign.
pub fn delivery_email_with(
    sender: &MailFrom,
    about: &DeliveryText,
    to: &str,
    signatures: i64,
    filename: &str,
    pdf: Vec<u8>,
) -> Result<Mail> {
    delivery_email_of_part(sender, about, to, signatures, None, filename, pdf)
}

/// [`delivery_email`] with the PDF already in memory.
pub fn delivery_email_of_part(
    sender: &MailFrom,
    about: &DeliveryText,
    to: &str,
    signatures: i64,
    part: Option<Part<'_>>,
    filename: &str,
    pdf: Vec<u8>,
) -> Result<Mail> {
    let lang = about.lang;
    let petition = &about.petition;
    let count = i18n::count(lang, "delivery.signatures", signatures);
    let mut vars = vec![
        ("title", petition.title.as_str()),
        ("target", petition.target.as_str()),
        ("ask", petition.ask.as_str()),
        ("signatures", count.as_str()),
        ("sender", sender.name.as_str()),
        ("org", sender.organization.as_str()),
    ];
    let (subject, body) = match part {
        None => (
            i18n::t(lang, "delivery.subject", &vars),
            i18n::t(lang, "delivery.body", &vars),
        ),
        Some(part) => {
            let place = if part.postcode.is_empty() {
                i18n::t(lang, "delivery.where_none", &[])
            } else {
                i18n::t(
                    lang,
                    "delivery.where_postcode",
                    &[("postcode", part.postcode)],
                )
            };
            let part_count = signatures.to_string();
            let total_signatures = i18n::count(lang, "delivery.signatures", part.campaign_total);
            let total_signed = i18n::count(lang, "delivery.total", part.campaign_total);
            vars.extend([("where", place.as_str()), ("part", part_count.as_str())]);
            let subject = i18n::t(
                lang,
                "delivery.subject_part",
                &[vars.as_slice(), &[("total", total_signatures.as_str())]].concat(),
            );
            let body = i18n::t(
                lang,
                "delivery.body_part",
                &[vars.as_slice(), &[("total", total_signed.as_str())]].concat(),
            );
            (subject, body)
        }
    };
    let pdf_type = ContentType::parse("application/pdf").expect("static MIME type parses");
    let message = built(
        builder(sender, to, None, &subject)?.multipart(
            MultiPart::mixed()
                .singlepart(SinglePart::plain(body))
                .singlepart(Attachment::new(filename.to_string()).body(pdf, pdf_type)),
        ),
    )?;
    Ok(Mail {
        message,
        info: MailInfo {
            kind: MailKind::Delivery,
            from: sender.email.clone(),
            to: to.trim().to_string(),
            subject,
            campaign: Some(about.slug.clone()),
        },
    })
}

fn html_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
pub(crate) mod tests {
    use mail_parser::MimeHeaders;

    use super::*;
    use crate::model::{Scope, Status};

    pub(crate) fn campaign(lang: Lang) -> Campaign {
        Campaign {
            id: 1,
            slug: "santuario-oakland".into(),
            title: "Oakland, ciudad santuario para todos".into(),
            target: "Alcaldesa Barbara Lee".into(),
            ask: "Declarar Oakland ciudad santuario.".into(),
            why: "Nuestros vecinos merecen vivir sin miedo.".into(),
            scope: Scope::Local,
            location: Some("Oakland, CA".into()),
            postcode: None,
            country: None,
            goal: None,
            url: Some("https://example.org/oakland".into()),
            lang,
            status: Status::Live,
            picture_mime: None,
            owner_email: Some("ana@example.org".into()),
            created_at: "2026-01-01T00:00:00Z".into(),
            updated_at: "2026-01-01T00:00:00Z".into(),
            retain: None,
            purged_at: None,
        }
    }

    fn about(lang: Lang) -> DeliveryText {
        DeliveryText::of(&campaign(lang), lang)
    }

    pub(crate) fn sender() -> MailFrom {
        MailFrom {
            name: "Ana Reyes Muñoz".into(),
            email: "ana@example.org".into(),
            reply_to: Some("equipo@example.org".into()),
            organization: "Coalición Santuario de Oakland".into(),
        }
    }

    #[test]
    fn delivery_email_has_subject_letter_and_pdf_attachment() {
        let pdf = b"%PDF-1.7\n% fake but enough\n".to_vec();
        let mail = delivery_email_with(
            &sender(),
            &about(Lang::Es),
            "alcaldia@oakland.example.gov",
            1234,
            "santuario-oakland.pdf",
            pdf.clone(),
        )
        .unwrap();
        assert_eq!(mail.info.kind, MailKind::Delivery);
        assert_eq!(mail.info.to, "alcaldia@oakland.example.gov");

        let bytes = mail.to_bytes();
        let parsed = mail_parser::MessageParser::default()
            .parse(&bytes[..])
            .expect("parses");
        assert_eq!(
            parsed.subject(),
            Some("Petición: Oakland, ciudad santuario para todos (firmada por 1234 personas)")
        );
        let from = parsed.from().unwrap().first().unwrap();
        assert_eq!(from.address(), Some("ana@example.org"));
        assert_eq!(from.name(), Some("Ana Reyes Muñoz"));
        assert_eq!(
            parsed.reply_to().unwrap().first().unwrap().address(),
            Some("equipo@example.org")
        );
        assert_eq!(
            parsed.to().unwrap().first().unwrap().address(),
            Some("alcaldia@oakland.example.gov")
        );
        let body = parsed.body_text(0).unwrap();
        assert!(
            body.contains("A la atención de Alcaldesa Barbara Lee"),
            "{body}"
        );
        assert!(body.contains("firmada por 1234 personas"), "{body}");
        assert!(body.contains("Coalición Santuario de Oakland"), "{body}");

        let attachment = parsed.attachment(0).expect("one attachment");
        let ct = attachment.content_type().unwrap();
        assert_eq!((ct.ctype(), ct.subtype()), ("application", Some("pdf")));
        assert_eq!(attachment.attachment_name(), Some("santuario-oakland.pdf"));
        assert_eq!(attachment.contents(), &pdf[..]);
    }

    #[test]
    fn names_that_cannot_go_in_a_header_are_errors_not_panics() {
        let mut campaign = campaign(Lang::En);
        for name in [
            "Bob\nBcc: everyone@example.org",
            "Bob\r",
            "Ana\u{1b}]0;x\u{7}",
        ] {
            let friend = Friend {
                name: Some(name.into()),
                email: "bob@example.org".into(),
            };
            let err = friend_invitation(&sender(), &campaign, Lang::En, &friend, "https://x", None)
                .unwrap_err();
            assert!(
                matches!(&err, Error::Invalid(m) if m.contains("on one line")),
                "{err}"
            );
        }
        let mut organizer = sender();
        organizer.name = "Ana\nReyes".into();
        let friend = Friend {
            name: Some("李娜".into()),
            email: "li@example.org".into(),
        };
        assert!(
            friend_invitation(&organizer, &campaign, Lang::En, &friend, "https://x", None).is_err()
        );

        // A title with a line break (stored by an older version) gives a one-line subject.
        campaign.title = "Oakland\r\nBcc: everyone@example.org".into();
        let mail =
            friend_invitation(&sender(), &campaign, Lang::En, &friend, "https://x", None).unwrap();
        let bytes = mail.to_bytes();
        let parsed = mail_parser::MessageParser::default()
            .parse(&bytes[..])
            .unwrap();
        assert!(parsed.bcc().is_none());
        let subject = parsed.subject().unwrap();
        assert!(
            subject.contains("Oakland Bcc: everyone@example.org"),
            "{subject}"
        );
        assert_eq!(parsed.to().unwrap().first().unwrap().name(), Some("李娜"));
    }

    #[test]
    fn a_split_delivery_email_names_its_postcode_and_the_campaign_total() {
        let subject_and_body = |lang, postcode| {
            let mail = delivery_email_of_part(
                &sender(),
                &about(lang),
                "mayor@example.gov",
                120,
                Some(Part {
                    postcode,
                    campaign_total: 395,
                }),
                "x.pdf",
                b"%PDF-1.7\n".to_vec(),
            )
            .unwrap();
            let bytes = mail.to_bytes();
            let parsed = mail_parser::MessageParser::default()
                .parse(&bytes[..])
                .unwrap();
            (
                parsed.subject().unwrap().to_string(),
                parsed.body_text(0).unwrap().to_string(),
            )
        };
        let (subject, body) = subject_and_body(Lang::En, "94612");
        assert_eq!(
            subject,
            "Petition: Oakland, ciudad santuario para todos, postcode 94612 (120 of 395 people)"
        );
        assert!(
            body.contains(
                "for postcode 94612: 120 of the 395 people who signed the whole petition"
            ),
            "{body}"
        );
        let (subject, body) = subject_and_body(Lang::Es, "94601");
        assert!(
            subject.contains("código postal 94601 (120 de 395 personas)"),
            "{subject}"
        );
        assert!(
            body.contains(
                "del código postal 94601: 120 de 395 personas que firmaron toda la petición"
            ),
            "{body}"
        );
        let (subject, _) = subject_and_body(Lang::En, "");
        assert!(
            subject.contains("signers without a postcode (120 of 395 people)"),
            "{subject}"
        );
    }

    #[test]
    fn delivery_email_reads_the_pdf_file_and_speaks_english() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("delivery.pdf");
        std::fs::write(&path, b"%PDF-1.7\n").unwrap();
        let mail = delivery_email(
            &sender(),
            &about(Lang::En),
            "mayor@example.gov",
            1,
            None,
            &path,
        )
        .unwrap();
        assert_eq!(
            mail.info.subject,
            "Petition: Oakland, ciudad santuario para todos (signed by 1 person)"
        );
        let missing = delivery_email(
            &sender(),
            &about(Lang::En),
            "mayor@example.gov",
            1,
            None,
            &dir.path().join("nope.pdf"),
        );
        assert!(matches!(missing, Err(Error::Invalid(m)) if m.contains("nope.pdf")));
        let bad = delivery_email(&sender(), &about(Lang::En), "not an email", 1, None, &path);
        assert!(matches!(bad, Err(Error::Invalid(m)) if m.contains("not an email")));
    }
}
