//! Privacy rules: retention periods (when a delivered campaign's signers are due for a
//! purge) and tombstones (the keyed hash that keeps a forgotten person out).

use ring::hmac;
use time::{Date, Month};

use crate::model::NewSignature;

/// How long a campaign keeps its signers' personal data after its last delivery
/// (`--retain 180d`): days, weeks, calendar months or years.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Retention {
    Days(u32),
    Weeks(u32),
    Months(u32),
    Years(u32),
}

/// What `--retain` says when it cannot read a period.
pub const RETAIN_HELP: &str = "--retain takes a period such as 180d, 26w, 6m or 1y (or none)";

impl Retention {
    /// Reads `180d`, `26w`, `6m`, `1y` (any case, spaces around ignored). `0d` is due at
    /// once after a delivery.
    pub fn parse(text: &str) -> Result<Retention, String> {
        let t = text.trim().to_ascii_lowercase();
        let unit = t.chars().last().ok_or_else(|| RETAIN_HELP.to_string())?;
        let number = t[..t.len() - unit.len_utf8()].trim();
        let n: u32 = number
            .parse()
            .ok()
            .filter(|n| *n <= 100_000)
            .ok_or_else(|| RETAIN_HELP.to_string())?;
        match unit {
            'd' => Ok(Retention::Days(n)),
            'w' => Ok(Retention::Weeks(n)),
            'm' => Ok(Retention::Months(n)),
            'y' => Ok(Retention::Years(n)),
            _ => Err(RETAIN_HELP.to_string()),
        }
    }

    /// The day the period ends, counted from `from` (calendar months clamp to the
    /// month's last day: 31 January + 1m is the end of February).
    pub fn after(self, from: Date) -> Date {
        let add_months = |from: Date, months: u32| -> Date {
            let total = from.year() as i64 * 12 + (from.month() as i64 - 1) + months as i64;
            let year = (total / 12).min(9999) as i32;
            let month = Month::try_from((total % 12 + 1) as u8).unwrap_or(Month::December);
            let last = time::util::days_in_month(month, year);
            Date::from_calendar_date(year, month, from.day().min(last)).unwrap_or(Date::MAX)
        };
        match self {
            Retention::Days(n) => from.checked_add(time::Duration::days(n.into())),
            Retention::Weeks(n) => from.checked_add(time::Duration::weeks(n.into())),
            Retention::Months(n) => Some(add_months(from, n)),
            Retention::Years(n) => Some(add_months(from, n.saturating_mul(12))),
        }
        .unwrap_or(Date::MAX)
    }
}

impl std::fmt::Display for Retention {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Retention::Days(n) => write!(f, "{n}d"),
            Retention::Weeks(n) => write!(f, "{n}w"),
            Retention::Months(n) => write!(f, "{n}m"),
            Retention::Years(n) => write!(f, "{n}y"),
        }
    }
}

/// The day (`YYYY-MM-DD` of an ISO 8601 time).
pub fn day_of(at: &str) -> Option<Date> {
    let day = at.get(..10)?;
    Date::parse(
        day,
        time::macros::format_description!("[year]-[month]-[day]"),
    )
    .ok()
}

/// When a campaign's purge is due: its retention period after its last delivery.
/// `None` without a period, without a delivery, or once purged.
pub fn purge_due(
    retain: Option<&str>,
    purged_at: Option<&str>,
    last_delivered_at: Option<&str>,
) -> Option<Date> {
    if purged_at.is_some() {
        return None;
    }
    let retention = Retention::parse(retain?).ok()?;
    Some(retention.after(day_of(last_delivered_at?)?))
}

/// A row of `list`: the campaign, its counts, and when its purge is due.
pub fn summary(
    campaign: crate::model::Campaign,
    signatures: crate::model::SignatureCounts,
    last_delivered_at: Option<String>,
) -> crate::model::CampaignSummary {
    let purge_due = purge_due(
        campaign.retain.as_deref(),
        campaign.purged_at.as_deref(),
        last_delivered_at.as_deref(),
    )
    .map(|d| d.to_string());
    crate::model::CampaignSummary {
        campaign,
        signatures,
        last_delivered_at,
        purge_due,
    }
}

/// The tombstone of a dedupe key: HMAC-SHA256 under the database's tombstone key, so the
/// database keeps no email or name of a person who asked to be forgotten.
pub fn tombstone(key: &[u8; 32], dedupe_key: &str) -> [u8; 32] {
    let key = hmac::Key::new(hmac::HMAC_SHA256, key);
    let tag = hmac::sign(&key, dedupe_key.as_bytes());
    let mut out = [0u8; 32];
    out.copy_from_slice(tag.as_ref());
    out
}

/// Every key under which a signer may have been forgotten: their dedupe key (email, or
/// name and postcode), and their name and postcode when they also gave an email.
pub fn forget_keys(s: &NewSignature) -> Vec<String> {
    let mut keys = vec![s.dedupe_key.clone()];
    if let Some(person) = crate::domain::signer::person_key(&s.name, s.postcode.as_deref()) {
        if person != s.dedupe_key {
            keys.push(person);
        }
    }
    keys
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> Date {
        day_of(s).unwrap()
    }

    #[test]
    fn periods_parse_and_print_back() {
        for (text, shown) in [
            ("180d", "180d"),
            (" 26W ", "26w"),
            ("6m", "6m"),
            ("1y", "1y"),
            ("0d", "0d"),
        ] {
            assert_eq!(Retention::parse(text).unwrap().to_string(), shown, "{text}");
        }
        for bad in ["", "d", "6", "6 months", "-1d", "1.5y", "9999999d", "١d"] {
            assert!(Retention::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn months_are_calendar_months_clamped_and_zero_days_is_due_at_once() {
        assert_eq!(
            Retention::Months(1).after(day("2027-01-31")),
            day("2027-02-28")
        );
        assert_eq!(
            Retention::Years(1).after(day("2028-02-29")),
            day("2029-02-28")
        );
        assert_eq!(
            Retention::Days(180).after(day("2027-01-01")),
            day("2027-06-30")
        );
        assert_eq!(
            purge_due(Some("0d"), None, Some("2027-03-04T10:00:00Z")),
            Some(day("2027-03-04"))
        );
        assert_eq!(
            purge_due(Some("0d"), Some("2027-03-05T00:00:00Z"), Some("2027-03-04")),
            None
        );
        assert_eq!(purge_due(Some("0d"), None, None), None);
        assert_eq!(purge_due(None, None, Some("2027-03-04")), None);
    }

    #[test]
    fn tombstones_depend_on_the_key_and_hide_the_email() {
        let a = tombstone(&[1; 32], "ana@example.org");
        assert_eq!(a, tombstone(&[1; 32], "ana@example.org"));
        assert_ne!(a, tombstone(&[2; 32], "ana@example.org"));
        assert_ne!(a, tombstone(&[1; 32], "ana@example.or"));
    }
}
