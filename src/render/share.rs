//! Ready-to-post share texts and share links for each channel, from the message catalog.
//! Every link parameter is percent-encoded as UTF-8, so titles in any script survive.

use std::collections::BTreeMap;

use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use serde::Serialize;

use crate::i18n;
use crate::model::{Campaign, Lang};

/// Where a petition gets shared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Channel {
    Facebook,
    X,
    Whatsapp,
    Sms,
    Email,
}

impl Channel {
    pub const ALL: [Channel; 5] = [
        Channel::Facebook,
        Channel::X,
        Channel::Whatsapp,
        Channel::Sms,
        Channel::Email,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Facebook => "facebook",
            Channel::X => "x",
            Channel::Whatsapp => "whatsapp",
            Channel::Sms => "sms",
            Channel::Email => "email",
        }
    }
}

/// What to post on one channel.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SharePost {
    /// Text to paste (for email, the sample message body).
    pub text: String,
    /// Email subject.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    /// A link that opens the channel with everything filled in; `None` when the channel
    /// needs the petition's web address and the campaign has none.
    pub link: Option<String>,
    /// Why `link` is empty.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// Posts keyed by channel (`--json` prints this object).
pub type Shares = BTreeMap<Channel, SharePost>;

/// X counts a link as 23 characters whatever its length.
pub const X_LINK_WEIGHT: usize = 23;
/// X's limit for a post.
pub const X_LIMIT: usize = 280;

/// RFC 3986 component encoding: everything but unreserved characters, so spaces become
/// `%20` (which `mailto:` and `sms:` need, unlike `+`) and non-ASCII goes out as UTF-8.
const COMPONENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

pub fn encode(text: &str) -> String {
    utf8_percent_encode(text, COMPONENT).to_string()
}

/// The texts and links for `channels`, in `lang`; the email is signed by `organizer`
/// (the account's name) when there is one.
pub fn share_posts(
    campaign: &Campaign,
    lang: Lang,
    channels: &[Channel],
    organizer: Option<&str>,
) -> Shares {
    let url = campaign.url.as_deref().filter(|u| !u.trim().is_empty());
    let organizer = organizer.map(str::trim).filter(|n| !n.is_empty());
    channels
        .iter()
        .map(|&channel| (channel, post(campaign, lang, channel, url, organizer)))
        .collect()
}

fn no_url_note(campaign: &Campaign) -> String {
    format!(
        "no link: this channel shares the petition's web address and {} has none yet; add it with `campaign edit {} --url https://...`",
        campaign.slug, campaign.slug
    )
}

fn post(
    campaign: &Campaign,
    lang: Lang,
    channel: Channel,
    url: Option<&str>,
    organizer: Option<&str>,
) -> SharePost {
    let vars = [
        ("title", campaign.title.as_str()),
        ("target", campaign.target.as_str()),
        ("ask", campaign.ask.as_str()),
        ("why", campaign.why.as_str()),
    ];
    // Text-only channels carry the link inside the message when there is one.
    let with_link = |text: String| match url {
        Some(url) => format!(
            "{text}\n\n{}",
            i18n::t(lang, "share.link_line", &[("link", url)])
        ),
        None => text,
    };
    match channel {
        Channel::Facebook => {
            let text = i18n::t(lang, "share.facebook", &vars);
            match url {
                Some(url) => SharePost {
                    text,
                    subject: None,
                    link: Some(format!(
                        "https://www.facebook.com/sharer/sharer.php?u={}",
                        encode(url)
                    )),
                    note: None,
                },
                None => SharePost {
                    text,
                    subject: None,
                    link: None,
                    note: Some(no_url_note(campaign)),
                },
            }
        }
        Channel::X => {
            let text = x_text(campaign, lang);
            match url {
                Some(url) => SharePost {
                    link: Some(format!(
                        "https://twitter.com/intent/tweet?text={}&url={}",
                        encode(&text),
                        encode(url)
                    )),
                    text,
                    subject: None,
                    note: None,
                },
                None => SharePost {
                    text,
                    subject: None,
                    link: None,
                    note: Some(no_url_note(campaign)),
                },
            }
        }
        Channel::Whatsapp => {
            let text = with_link(i18n::t(lang, "share.whatsapp", &vars));
            SharePost {
                link: Some(format!("https://wa.me/?text={}", encode(&text))),
                text,
                subject: None,
                note: None,
            }
        }
        Channel::Sms => {
            let text = with_link(i18n::t(lang, "share.sms", &vars));
            SharePost {
                link: Some(format!("sms:?&body={}", encode(&text))),
                text,
                subject: None,
                note: None,
            }
        }
        Channel::Email => {
            let subject = i18n::t(lang, "share.email.subject", &vars);
            // The link goes before the closing, where a reader acts on it; the closing
            // carries the organizer's name (a friend's email is signed).
            let closing = match organizer {
                Some(name) => i18n::t(lang, "share.email.signed", &[("name", name)]),
                None => i18n::t(lang, "share.email.closing", &[]),
            };
            let text = format!(
                "{}\n\n{closing}",
                with_link(i18n::t(lang, "share.email.body", &vars)),
            );
            SharePost {
                link: Some(format!(
                    "mailto:?subject={}&body={}",
                    encode(&subject),
                    encode(&text)
                )),
                text,
                subject: Some(subject),
                note: None,
            }
        }
    }
}

/// The X post text, shortened (ask first, then title) so that text, a space and the link
/// fit the limit. Cut at a word boundary with "…" (in scripts written without spaces,
/// such as Chinese or Thai, at any character).
fn x_text(campaign: &Campaign, lang: Lang) -> String {
    let budget = X_LIMIT - X_LINK_WEIGHT - 1;
    let render = |title: &str, ask: &str| {
        i18n::t(
            lang,
            "share.x",
            &[("title", title), ("ask", ask), ("target", &campaign.target)],
        )
    };
    let fits = |title: &str, ask: &str| x_weight(&render(title, ask)) <= budget;
    let title = campaign.title.trim();
    let ask = campaign.ask.trim();
    if fits(title, ask) {
        return render(title, ask);
    }
    // The longest cut of the ask that fits with the whole title...
    let asks = word_cuts(ask);
    if let Some(a) = asks.iter().find(|a| fits(title, a)) {
        return render(title, a);
    }
    // ...else the shortest ask, and the longest cut of the title.
    let shortest = asks.last().cloned().unwrap_or_default();
    for t in word_cuts(title) {
        if fits(&t, &shortest) {
            return render(&t, &shortest);
        }
    }
    // Only the catalog's own words are left; they are written to fit.
    render("…", "…")
}

/// Every shortening of `text` at a word boundary, longest first, each ending in "…":
/// the cut drops trailing spaces and punctuation. A boundary is a space, or any
/// character of a script written without spaces (weight 2 in [`x_weight`]).
fn word_cuts(text: &str) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    let wide = |c: char| x_weight(c.encode_utf8(&mut [0; 4])) == 2;
    let mut cuts = Vec::new();
    for end in (1..chars.len()).rev() {
        let boundary = chars[end].is_whitespace()
            || (wide(chars[end]) && !chars[end].is_ascii_punctuation())
            || wide(chars[end - 1]);
        if !boundary {
            continue;
        }
        let head: String = chars[..end].iter().collect();
        let head = head.trim_end_matches(|c: char| c.is_whitespace() || ",;:-–—(".contains(c));
        if !head.is_empty() {
            cuts.push(format!("{head}…"));
        }
    }
    cuts.dedup();
    if cuts.is_empty() {
        // One long word: cut it anywhere rather than drop it.
        for end in (1..chars.len()).rev() {
            cuts.push(format!("{}…", chars[..end].iter().collect::<String>()));
        }
    }
    cuts
}

/// Length as X counts it: most Latin, Greek, Cyrillic, Hebrew, Arabic... characters count
/// 1, others (CJK, emoji) count 2 (twitter-text v3 weighting).
pub fn x_weight(text: &str) -> usize {
    text.chars()
        .map(|c| match c as u32 {
            0x0000..=0x10FF | 0x2000..=0x200D | 0x2010..=0x201F | 0x2032..=0x2037 => 1,
            _ => 2,
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_text(title: &str, ask: &str) -> Campaign {
        Campaign {
            title: title.into(),
            ask: ask.into(),
            ..crate::render::mail::tests::campaign(Lang::En)
        }
    }

    #[test]
    fn encodes_any_script_as_utf8() {
        assert_eq!(
            encode("¡Sí se puede! a+b"),
            "%C2%A1S%C3%AD%20se%20puede%21%20a%2Bb"
        );
        assert_eq!(encode("line\nnext"), "line%0Anext");
    }

    #[test]
    fn the_x_text_is_cut_at_a_word_and_fits() {
        let campaign = with_text(
            "Make Oakland a sanctuary city",
            "Declare Oakland a sanctuary city for every immigrant, documented or not, and refuse to act as an arm of deportation in any way, ever, by any department of the city, starting with the police and the schools and the housing authority, because our neighbors deserve to live without fear.",
        );
        let text = x_text(&campaign, Lang::En);
        assert!(x_weight(&text) < X_LIMIT - X_LINK_WEIGHT, "{text}");
        let cut = text.split('…').next().unwrap();
        let last_word = cut.rsplit(' ').next().unwrap();
        assert!(
            campaign
                .ask
                .split(' ')
                .any(|w| w.trim_end_matches(',') == last_word),
            "{text}"
        );
        assert!(
            text.starts_with("Make Oakland a sanctuary city: Declare"),
            "{text}"
        );
        assert!(text.ends_with("… Sign and share! #HereToStay"), "{text}");
        // Chinese has no spaces: cut between characters.
        let zh = with_text(
            "让奥克兰成为庇护城市",
            &"宣布奥克兰为所有移民的庇护城市".repeat(12),
        );
        let text = x_text(&zh, Lang::En);
        assert!(x_weight(&text) < X_LIMIT - X_LINK_WEIGHT, "{text}");
        assert!(text.contains("…"), "{text}");
    }

    #[test]
    fn the_email_is_signed_by_the_organizer() {
        let campaign = with_text("T", "Do it");
        let signed = share_posts(&campaign, Lang::En, &[Channel::Email], Some(" Ana Reyes "));
        assert!(signed[&Channel::Email]
            .text
            .ends_with("Thank you,\nAna Reyes"));
        let es = share_posts(&campaign, Lang::Es, &[Channel::Email], Some("Ana Reyes"));
        assert!(es[&Channel::Email].text.ends_with("\nAna Reyes"));
        let unsigned = share_posts(&campaign, Lang::En, &[Channel::Email], None);
        assert!(unsigned[&Channel::Email].text.ends_with("Thank you!"));
    }

    #[test]
    fn x_weight_counts_cjk_double() {
        assert_eq!(x_weight("abc"), 3);
        assert_eq!(x_weight("移民"), 4);
    }
}
