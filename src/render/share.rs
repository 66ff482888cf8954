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

/// The texts and links for `channels`, in `lang`.
pub fn share_posts(campaign: &Campaign, lang: Lang, channels: &[Channel]) -> Shares {
    let url = campaign.url.as_deref().filter(|u| !u.trim().is_empty());
    channels
        .iter()
        .map(|&channel| (channel, post(campaign, lang, channel, url)))
        .collect()
}

fn no_url_note(campaign: &Campaign) -> String {
    format!(
        "no link: this channel shares the petition's web address and {} has none yet; add it with `campaign edit {} --url https://...`",
        campaign.slug, campaign.slug
    )
}

fn post(campaign: &Campaign, lang: Lang, channel: Channel, url: Option<&str>) -> SharePost {
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
            // The link goes before the closing, where a reader acts on it.
            let text = format!(
                "{}\n\n{}",
                with_link(i18n::t(lang, "share.email.body", &vars)),
                i18n::t(lang, "share.email.closing", &[])
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
/// fit the limit.
fn x_text(campaign: &Campaign, lang: Lang) -> String {
    let budget = X_LIMIT - X_LINK_WEIGHT - 1;
    let render = |title: &str, ask: &str| {
        i18n::t(
            lang,
            "share.x",
            &[("title", title), ("ask", ask), ("target", &campaign.target)],
        )
    };
    let mut title: Vec<char> = campaign.title.chars().collect();
    let mut ask: Vec<char> = campaign.ask.chars().collect();
    let shorten = |chars: &[char], cut: bool| -> String {
        let mut s: String = chars.iter().collect();
        if cut {
            s = s.trim_end().to_string();
            s.push('…');
        }
        s
    };
    // Nothing longer than the budget can fit: cut there first so the loop stays short.
    let mut title_cut = title.len() > budget;
    let mut ask_cut = ask.len() > budget;
    title.truncate(budget);
    ask.truncate(budget);
    loop {
        let text = render(&shorten(&title, title_cut), &shorten(&ask, ask_cut));
        if x_weight(&text) <= budget {
            return text;
        }
        if !ask.is_empty() {
            ask.pop();
            ask_cut = true;
        } else if !title.is_empty() {
            title.pop();
            title_cut = true;
        } else {
            // Only the catalog's own words are left; they are written to fit.
            return text;
        }
    }
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

    #[test]
    fn encodes_any_script_as_utf8() {
        assert_eq!(
            encode("¡Sí se puede! a+b"),
            "%C2%A1S%C3%AD%20se%20puede%21%20a%2Bb"
        );
        assert_eq!(encode("line\nnext"), "line%0Anext");
    }

    #[test]
    fn x_weight_counts_cjk_double() {
        assert_eq!(x_weight("abc"), 3);
        assert_eq!(x_weight("移民"), 4);
    }
}
