//! Signer rules shared by typed entry and CSV import: which columns mean what, how each
//! field is normalized, what makes a row unusable, and the key that makes one signer one
//! row. Pure: no I/O.

use std::borrow::Cow;
use std::str::FromStr;

use phonenumber::country;
use unicode_normalization::{is_nfc_quick, IsNormalized};

use super::{email_ok, text};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use crate::model::{NewSignature, Scope, Source};

/// Longest postcode we keep: signers may live abroad, so only the length is checked.
pub const POSTCODE_MAX: usize = 12;

/// Where a signer's phone and ZIP are read. Phones: the account's country, else the
/// campaign's, else the US.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Region {
    pub phone: country::Id,
    /// US campaigns get their ZIPs' dropped leading zero back (and unusual ZIPs a second
    /// look at the prompt); no one else's postcode is touched.
    pub us: bool,
}

fn parse_country(c: Option<&str>) -> Option<country::Id> {
    c.map(|c| c.trim().to_ascii_uppercase())
        .and_then(|c| country::Id::from_str(&c).ok())
}

impl Region {
    /// A campaign's region. ZIP rules apply only to a US campaign: its country is the US,
    /// or a local/national campaign without a country is run from a US account (or one
    /// with no country, the tool's default). A global campaign's signers live anywhere,
    /// so their postcodes are never changed (Oslo's `0150` is not a ZIP).
    pub fn new(
        account_country: Option<&str>,
        campaign_country: Option<&str>,
        scope: Scope,
    ) -> Region {
        let account = parse_country(account_country);
        let campaign = parse_country(campaign_country);
        let phone = account.or(campaign).unwrap_or(country::Id::US);
        let us = match (scope, campaign) {
            (Scope::Global, _) => false,
            (_, Some(c)) => c == country::Id::US,
            (_, None) => account.is_none_or(|a| a == country::Id::US),
        };
        Region { phone, us }
    }

    /// A US local campaign run from a US account: the region of most tests and benches.
    pub fn us() -> Region {
        Region::new(None, Some("US"), Scope::Local)
    }
}

/// One signer as typed or read from a file, before any rule is applied.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RawSigner<'a> {
    pub name: Cow<'a, str>,
    pub email: &'a str,
    pub postcode: &'a str,
    pub phone: &'a str,
    pub opt_in: &'a str,
    pub private: &'a str,
    pub sheet: &'a str,
    pub line: &'a str,
    /// `paper` or `online`; empty for the import's default.
    pub source: &'a str,
    /// RFC 3339; empty for the time the row is stored.
    pub signed_at: &'a str,
}

pub use crate::model::Problem;

fn problem(field: &'static str, message: impl Into<String>) -> Problem {
    Problem {
        field,
        message: message.into(),
        value: None,
    }
}

/// A problem with the value that caused it (kept out of the message: see [`Problem`]).
fn problem_with(field: &'static str, message: impl Into<String>, value: &str) -> Problem {
    Problem {
        value: Some(value.to_string()),
        ..problem(field, message)
    }
}

/// `text::clean`, without the allocation when the text is already clean (the common
/// case on a million-row import).
pub fn clean(input: &str) -> Cow<'_, str> {
    let tidy = !input.is_empty()
        && !input.starts_with(char::is_whitespace)
        && !input.ends_with(char::is_whitespace)
        && !input
            .as_bytes()
            .windows(2)
            .any(|w| w[0] == b' ' && w[1] == b' ')
        && !input.chars().any(|c| c.is_whitespace() && c != ' ');
    if tidy && (input.is_ascii() || is_nfc_quick(input.chars()) == IsNormalized::Yes) {
        Cow::Borrowed(input)
    } else {
        Cow::Owned(text::clean(input))
    }
}

/// Name: cleaned, never otherwise changed.
pub fn check_name(input: &str) -> Result<String, Problem> {
    let name = clean(input);
    if name.is_empty() {
        return Err(problem("name", "a signer needs a name"));
    }
    Ok(name.into_owned())
}

/// Email: trimmed; `None` when empty; an error when it cannot receive mail.
pub fn check_email(input: &str) -> Result<Option<String>, Problem> {
    let email = input.trim();
    if email.is_empty() {
        return Ok(None);
    }
    if !email_ok(email) {
        return Err(problem_with(
            "email",
            "not an email address (like ana@example.org): fix it or leave it empty",
            email,
        ));
    }
    Ok(Some(clean(email).into_owned()))
}

/// Postcode: trimmed, at most 12 characters; a 4-digit US ZIP gets its leading zero back
/// (spreadsheets drop it).
pub fn check_postcode(input: &str, region: Region) -> Result<Option<String>, Problem> {
    let code = clean(input);
    if code.is_empty() {
        return Ok(None);
    }
    if code.chars().count() > POSTCODE_MAX {
        return Err(problem_with(
            "postcode",
            format!("longer than {POSTCODE_MAX} characters: shorten it or leave it empty"),
            &code,
        ));
    }
    if region.us && code.len() == 4 && code.bytes().all(|b| b.is_ascii_digit()) {
        return Ok(Some(format!("0{code}")));
    }
    Ok(Some(code.into_owned()))
}

/// True for a US ZIP that is neither 5 nor 9 digits (`94612`, `94612-1234`): worth a
/// second look at the prompt, never a reason to refuse.
pub fn unusual_us_zip(code: &str) -> bool {
    let digits: String = code.chars().filter(|c| *c != '-' && *c != ' ').collect();
    !(digits.bytes().all(|b| b.is_ascii_digit()) && (digits.len() == 5 || digits.len() == 9))
}

/// Phone: E.164 when it parses as a valid number, else kept as written and flagged
/// (`false`): a phone is never a reason to lose a signer.
pub fn normalize_phone(input: &str, region: Region) -> Option<(String, bool)> {
    let raw = clean(input);
    if raw.is_empty() {
        return None;
    }
    match cached_e164(raw.as_ref(), region.phone) {
        Some(e164) => Some((e164, true)),
        None => Some((raw.into_owned(), false)),
    }
}

/// Distinct phones remembered per thread: enough for a campaign's repeated numbers
/// (households, an office line), small enough to stay a few MB.
const PHONE_CACHE_MAX: usize = 1 << 16;

thread_local! {
    /// Phone as cleaned -> E.164 when valid, for one region at a time. Parsing with
    /// `phonenumber` costs several microseconds (regexes behind a shared lock); the answer
    /// depends on the text and the region alone, so a remembered answer is exactly the
    /// crate's.
    static PHONES: std::cell::RefCell<PhoneCache> = Default::default();
}

#[derive(Default)]
struct PhoneCache {
    region: Option<country::Id>,
    known: rustc_hash::FxHashMap<Box<str>, Option<String>>,
}

fn cached_e164(raw: &str, region: country::Id) -> Option<String> {
    // The shapes people type in +1 countries: the crate's answer without asking it.
    if let Some(answer) = super::phone::nanp_e164(raw, region) {
        return answer;
    }
    PHONES.with(|cache| {
        let mut cache = cache.borrow_mut();
        if cache.region != Some(region) || cache.known.len() >= PHONE_CACHE_MAX {
            cache.known.clear();
            cache.region = Some(region);
        }
        if let Some(known) = cache.known.get(raw) {
            return known.clone();
        }
        let e164 = parse_e164(raw, region);
        cache.known.insert(raw.into(), e164.clone());
        e164
    })
}

/// What the `phonenumber` crate says: the E.164 form of a valid number, else `None`.
fn parse_e164(raw: &str, region: country::Id) -> Option<String> {
    match phonenumber::parse(Some(region), raw) {
        Ok(number) if number.is_valid() => {
            Some(number.format().mode(phonenumber::Mode::E164).to_string())
        }
        _ => None,
    }
}

/// yes / y / true / 1 / x / sí / si, in any case; anything else (empty too) is no.
pub fn truthy(input: &str) -> bool {
    let v = input.trim();
    ["yes", "y", "true", "1", "x", "sí", "si"]
        .iter()
        .any(|t| v.eq_ignore_ascii_case(t) || v.to_lowercase() == *t)
}

/// One signer, one row: the lowercased email, or without one the lowercased name and
/// the postcode.
pub fn dedupe_key(name: &str, email: Option<&str>, postcode: Option<&str>) -> String {
    match email {
        Some(email) => email.trim().to_lowercase(),
        None => {
            let postcode: String = postcode
                .unwrap_or("")
                .chars()
                .filter(|c| !c.is_whitespace())
                .flat_map(char::to_uppercase)
                .collect();
            // No email contains a newline, so these keys never meet an email key.
            format!("{}\n{postcode}", clean(name).to_lowercase())
        }
    }
}

/// A sheet id as printed (`OAK-0007`) from what a volunteer typed (` oak-7 `): trimmed,
/// uppercased, its number zero-padded to four digits. `None` when empty.
pub fn sheet_id(input: &str) -> Option<String> {
    let id = input.trim().to_uppercase();
    if id.is_empty() {
        return None;
    }
    if let Some((prefix, number)) = id.rsplit_once(['-', ' ']) {
        let prefix = prefix.trim_end();
        if !prefix.is_empty() && !number.is_empty() && number.bytes().all(|b| b.is_ascii_digit()) {
            if let Ok(n) = number.parse::<u64>() {
                return Some(format!("{prefix}-{n:04}"));
            }
        }
    }
    Some(id)
}

/// Applies every rule to a row. Sheet ids are only shaped here (see [`sheet_id`]);
/// whether the sheet was printed for the campaign is for the caller to ask the store.
pub fn validate(raw: &RawSigner<'_>, region: Region) -> Result<NewSignature, Problem> {
    let name = check_name(&raw.name)?;
    let email = check_email(raw.email)?;
    let postcode = check_postcode(raw.postcode, region)?;
    if email.is_none() && postcode.is_none() {
        return Err(problem(
            "email",
            "a signer needs an email or a ZIP/postcode (both are empty)",
        ));
    }
    let (phone, phone_valid) = match normalize_phone(raw.phone, region) {
        Some((p, ok)) => (Some(p), ok),
        None => (None, true),
    };
    let sheet_id = sheet_id(raw.sheet);
    let line = match raw.line.trim() {
        "" => None,
        l => match l.parse::<i64>() {
            Ok(n) if n > 0 => Some(n),
            _ => {
                return Err(problem_with(
                    "line",
                    "not a line number (1, 2, 3, ...): fix it or leave it empty",
                    l,
                ))
            }
        },
    };
    let source = match raw.source.trim() {
        "" => None,
        s if s.eq_ignore_ascii_case("paper") => Some(Source::Paper),
        s if s.eq_ignore_ascii_case("online") => Some(Source::Online),
        s => {
            return Err(problem_with(
                "source",
                "neither paper nor online: fix it or leave it empty for the --source default",
                s,
            ))
        }
    };
    let signed_at = match raw.signed_at.trim() {
        "" => None,
        t if OffsetDateTime::parse(t, &Rfc3339).is_ok() => Some(t.to_string()),
        t => {
            return Err(problem_with(
                "signed_at",
                "not an RFC 3339 time (like 2026-05-01T18:30:00Z): fix it or leave it empty",
                t,
            ))
        }
    };
    let dedupe_key = dedupe_key(&name, email.as_deref(), postcode.as_deref());
    Ok(NewSignature {
        name,
        email,
        postcode,
        phone,
        phone_valid,
        opt_in: truthy(raw.opt_in),
        private: truthy(raw.private),
        source,
        sheet_id,
        line,
        entered_by: None,
        signed_at,
        dedupe_key,
    })
}

/// What a CSV column holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Column {
    Name,
    FirstName,
    LastName,
    Email,
    Postcode,
    Phone,
    OptIn,
    Private,
    Sheet,
    Line,
    Source,
    SignedAt,
}

impl Column {
    /// Header names, compared case-insensitively with `_`, `-` and spaces alike.
    pub fn from_header(header: &str) -> Option<Column> {
        let h: String = header
            .trim()
            .trim_start_matches('\u{feff}')
            .chars()
            .map(|c| match c {
                '_' | '-' => ' ',
                c => c,
            })
            .collect::<String>()
            .to_lowercase();
        let h = text::clean(&h);
        Some(match h.as_str() {
            "name" | "full name" | "fullname" | "nombre" => Column::Name,
            "first name" | "firstname" | "given name" => Column::FirstName,
            "last name" | "lastname" | "surname" | "family name" => Column::LastName,
            "email" | "email address" | "e mail" | "correo" => Column::Email,
            "zip" | "zip code" | "zipcode" | "postcode" | "postal code" | "post code" => {
                Column::Postcode
            }
            "phone" | "phone number" | "mobile" | "telephone" | "tel" => Column::Phone,
            "opt in" | "optin" | "join" | "mailing list" => Column::OptIn,
            "private" | "anonymous" | "hide name" => Column::Private,
            "sheet" | "sheet id" => Column::Sheet,
            "line" => Column::Line,
            "source" => Column::Source,
            "signed at" | "signed" | "date signed" => Column::SignedAt,
            _ => return None,
        })
    }
}

/// Where each field sits in a file's rows, from its header.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct HeaderMap {
    name: Option<usize>,
    first: Option<usize>,
    last: Option<usize>,
    email: Option<usize>,
    postcode: Option<usize>,
    phone: Option<usize>,
    opt_in: Option<usize>,
    private: Option<usize>,
    sheet: Option<usize>,
    line: Option<usize>,
    source: Option<usize>,
    signed_at: Option<usize>,
    /// Headers we did not recognize (ignored; named in a warning).
    pub unknown: Vec<String>,
}

impl HeaderMap {
    /// Maps a header row. An error when no column gives a name: nothing can be imported.
    pub fn new<'a>(headers: impl IntoIterator<Item = &'a str>) -> Result<HeaderMap, Problem> {
        let mut map = HeaderMap::default();
        for (i, header) in headers.into_iter().enumerate() {
            let slot = match Column::from_header(header) {
                Some(Column::Name) => &mut map.name,
                Some(Column::FirstName) => &mut map.first,
                Some(Column::LastName) => &mut map.last,
                Some(Column::Email) => &mut map.email,
                Some(Column::Postcode) => &mut map.postcode,
                Some(Column::Phone) => &mut map.phone,
                Some(Column::OptIn) => &mut map.opt_in,
                Some(Column::Private) => &mut map.private,
                Some(Column::Sheet) => &mut map.sheet,
                Some(Column::Line) => &mut map.line,
                Some(Column::Source) => &mut map.source,
                Some(Column::SignedAt) => &mut map.signed_at,
                None => {
                    map.unknown.push(header.trim().to_string());
                    continue;
                }
            };
            // The first of two columns with one meaning wins.
            slot.get_or_insert(i);
        }
        if map.name.is_none() && map.first.is_none() && map.last.is_none() {
            return Err(problem(
                "name",
                "no name column: the header needs one of name, full name, or first_name and last_name",
            ));
        }
        Ok(map)
    }

    /// The row's fields, by meaning.
    pub fn raw<'r, R>(&self, row: &'r R) -> RawSigner<'r>
    where
        R: std::ops::Index<usize, Output = str> + RowLen,
    {
        let get = |i: Option<usize>| match i {
            Some(i) if i < row.field_count() => undo_neutralize(&row[i]),
            _ => "",
        };
        let name = match self
            .name
            .map(|i| get(Some(i)))
            .filter(|n| !n.trim().is_empty())
        {
            Some(name) => Cow::Borrowed(name),
            None => {
                let (first, last) = (get(self.first).trim(), get(self.last).trim());
                match (first.is_empty(), last.is_empty()) {
                    (false, false) => Cow::Owned(format!("{first} {last}")),
                    (false, true) => Cow::Borrowed(first),
                    _ => Cow::Borrowed(last),
                }
            }
        };
        RawSigner {
            name,
            email: get(self.email),
            postcode: get(self.postcode),
            phone: get(self.phone),
            opt_in: get(self.opt_in),
            private: get(self.private),
            sheet: get(self.sheet),
            line: get(self.line),
            source: get(self.source),
            signed_at: get(self.signed_at),
        }
    }
}

/// Drops the quote `campaign export` puts before a cell a spreadsheet would run as a
/// formula (`'=...`, `'+1510...`), so an export imports back as it was.
pub fn undo_neutralize(cell: &str) -> &str {
    match cell.as_bytes() {
        [b'\'', b'=' | b'+' | b'-' | b'@' | b'\t' | b'\r', ..] => &cell[1..],
        _ => cell,
    }
}

/// A row of fields that knows its length (implemented for `csv::StringRecord` and slices).
pub trait RowLen {
    fn field_count(&self) -> usize;
}

impl RowLen for csv::StringRecord {
    fn field_count(&self) -> usize {
        self.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn us() -> Region {
        Region::us()
    }

    fn raw<'a>(name: &'a str, email: &'a str, postcode: &'a str) -> RawSigner<'a> {
        RawSigner {
            name: Cow::Borrowed(name),
            email,
            postcode,
            ..Default::default()
        }
    }

    #[test]
    fn names_are_kept_as_typed_but_composed() {
        for name in ["Nguyễn Thị Minh Khai", "محمد الأحمد", "李娜", "Cabdi Xasan"] {
            let s = validate(&raw(name, "", "94612"), us()).unwrap();
            assert_eq!(s.name, name);
        }
        let s = validate(&raw("  Nguye\u{0302}\u{0303}n   Thị ", "", "1"), us()).unwrap();
        assert_eq!(s.name, "Nguyễn Thị");
    }

    #[test]
    fn a_signer_needs_a_name_and_email_or_postcode() {
        assert_eq!(
            validate(&raw("  ", "a@b.org", ""), us()).unwrap_err().field,
            "name"
        );
        let e = validate(&raw("Ana", "", " "), us()).unwrap_err();
        assert!(e.message.contains("email or a ZIP"), "{e}");
        assert!(validate(&raw("Ana", "a@b.org", ""), us()).is_ok());
        assert!(validate(&raw("Ana", "", "94612"), us()).is_ok());
    }

    #[test]
    fn emails_are_checked_and_keys_ignore_case_and_spaces() {
        assert_eq!(
            validate(&raw("Ana", "ana@@example", ""), us())
                .unwrap_err()
                .field,
            "email"
        );
        assert!(check_email("ana@localhost").is_err());
        let a = validate(&raw("Ana", " Ana.Reyes@Example.org ", ""), us()).unwrap();
        let b = validate(&raw("Ana R", "ana.reyes@example.org", ""), us()).unwrap();
        assert_eq!(a.email.as_deref(), Some("Ana.Reyes@Example.org"));
        assert_eq!(a.dedupe_key, b.dedupe_key);
        // Without email: same name (any case) and postcode is the same signer.
        let c = validate(&raw("李娜", "", "94 612"), us()).unwrap();
        let d = validate(&raw(" 李娜 ", "", "94612"), us()).unwrap();
        assert_eq!(c.dedupe_key, dedupe_key("李娜", None, Some("94612")));
        assert_eq!(d.dedupe_key, c.dedupe_key);
    }

    #[test]
    fn phones_become_e164_or_are_kept_and_flagged() {
        assert_eq!(
            normalize_phone("(510) 555-0199", us()),
            Some(("+15105550199".into(), true))
        );
        let mx = Region::new(Some("mx"), None, Scope::Local);
        assert_eq!(
            normalize_phone("55 1234 5678", mx),
            Some(("+525512345678".into(), true))
        );
        assert_eq!(
            normalize_phone(" call me ", us()),
            Some(("call me".into(), false))
        );
        assert_eq!(normalize_phone("  ", us()), None);
        let s = validate(
            &RawSigner {
                phone: "12",
                ..raw("Ana", "", "94612")
            },
            us(),
        )
        .unwrap();
        assert_eq!((s.phone.as_deref(), s.phone_valid), (Some("12"), false));
    }

    #[test]
    fn a_remembered_phone_is_the_crates_answer_in_every_region() {
        let mx = Region::new(Some("mx"), None, Scope::Local);
        // Each phone twice in a row and again after a region switch: the cached answer
        // must be what the crate says for that region, never another region's.
        for _ in 0..2 {
            for region in [us(), mx, us()] {
                for phone in ["(510) 555-0199", "55 1234 5678", "12", "+44 20 7946 0958"] {
                    let expected = match parse_e164(phone, region.phone) {
                        Some(e164) => (e164, true),
                        None => (phone.to_string(), false),
                    };
                    assert_eq!(normalize_phone(phone, region), Some(expected), "{phone}");
                }
            }
        }
        assert_ne!(
            normalize_phone("55 1234 5678", mx),
            normalize_phone("55 1234 5678", us())
        );
    }

    #[test]
    fn postcodes_are_kept_with_us_zero_fixed() {
        assert_eq!(
            check_postcode(" 2139 ", us()).unwrap().as_deref(),
            Some("02139")
        );
        let uk = Region::new(Some("GB"), Some("GB"), Scope::Local);
        assert_eq!(check_postcode("2139", uk).unwrap().as_deref(), Some("2139"));
        assert_eq!(
            check_postcode("SW1A 1AA", us()).unwrap().as_deref(),
            Some("SW1A 1AA")
        );
        assert!(check_postcode("1234567890123", us()).is_err());
        assert!(!unusual_us_zip("94612"));
        assert!(!unusual_us_zip("94612-1234"));
        assert!(unusual_us_zip("9461"));
        assert!(unusual_us_zip("SW1A 1AA"));
    }

    #[test]
    fn only_us_campaigns_restore_a_zip_zero() {
        let oslo = |region: Region| check_postcode("0150", region).unwrap().unwrap();
        let zip = |region: Region| check_postcode("2139", region).unwrap().unwrap();
        // Global campaigns: never, whoever runs them and wherever they say they are.
        for account in [None, Some("US"), Some("NO")] {
            for country in [None, Some("US"), Some("NO")] {
                let r = Region::new(account, country, Scope::Global);
                assert!(!r.us, "{account:?} {country:?}");
                assert_eq!(oslo(r), "0150");
            }
        }
        for scope in [Scope::Local, Scope::National] {
            // The campaign's country decides when it has one.
            assert_eq!(zip(Region::new(Some("NO"), Some("US"), scope)), "02139");
            assert_eq!(oslo(Region::new(Some("US"), Some("NO"), scope)), "0150");
            // Without one, the organizer's country (the US when unset).
            assert_eq!(zip(Region::new(None, None, scope)), "02139");
            assert_eq!(zip(Region::new(Some("us"), None, scope)), "02139");
            assert_eq!(oslo(Region::new(Some("NO"), None, scope)), "0150");
        }
    }

    #[test]
    fn truthy_values() {
        for t in ["yes", "Y", "TRUE", "1", "x", "Sí", "si"] {
            assert!(truthy(t), "{t}");
        }
        for f in ["", "no", "0", "n", "false"] {
            assert!(!truthy(f), "{f}");
        }
    }

    #[test]
    fn lines_must_be_numbers_and_sheets_are_uppercased() {
        let mut r = raw("Ana", "", "94612");
        r.line = "x3";
        assert_eq!(validate(&r, us()).unwrap_err().field, "line");
        r.line = " 3 ";
        r.sheet = " oak-0001";
        let s = validate(&r, us()).unwrap();
        assert_eq!((s.sheet_id.as_deref(), s.line), (Some("OAK-0001"), Some(3)));
    }

    #[test]
    fn sheet_ids_get_their_number_padded() {
        for typed in ["oak-7", "OAK-7", " Oak-0007 ", "oak 7", "OAK-00007"] {
            assert_eq!(sheet_id(typed).as_deref(), Some("OAK-0007"), "{typed}");
        }
        assert_eq!(sheet_id("OAK-12345").as_deref(), Some("OAK-12345"));
        assert_eq!(sheet_id("church").as_deref(), Some("CHURCH"));
        assert_eq!(sheet_id(" "), None);
    }

    #[test]
    fn source_and_signed_at_are_read_and_checked() {
        let mut r = raw("Ana", "", "94612");
        r.source = " Paper ";
        r.signed_at = "2026-05-01T18:30:00Z";
        let s = validate(&r, us()).unwrap();
        assert_eq!(s.source, Some(Source::Paper));
        assert_eq!(s.signed_at.as_deref(), Some("2026-05-01T18:30:00Z"));
        r.signed_at = "yesterday";
        assert_eq!(validate(&r, us()).unwrap_err().field, "signed_at");
        r.signed_at = "";
        r.source = "fax";
        assert_eq!(validate(&r, us()).unwrap_err().field, "source");
        r.source = "";
        let s = validate(&r, us()).unwrap();
        assert_eq!((s.source, s.signed_at), (None, None));
    }

    #[test]
    fn problems_keep_the_signers_data_out_of_the_message() {
        let e = check_email("ana@@example").unwrap_err();
        assert!(!e.to_string().contains("ana@@example"), "{e}");
        assert_eq!(e.value.as_deref(), Some("ana@@example"));
        let e = check_postcode("1234567890123", us()).unwrap_err();
        assert!(!e.to_string().contains("1234567890123"), "{e}");
    }

    #[test]
    fn headers_use_aliases_and_name_unknown_columns() {
        let map = HeaderMap::new(
            [
                "\u{feff}Full Name",
                "E-mail Address",
                "ZIP_code",
                "Mobile",
                "Join",
                "hide_name",
                "Favourite colour",
            ]
            .iter()
            .copied(),
        );
        // "E-mail Address" is not an alias; "Email Address" is.
        let map = map.unwrap();
        assert_eq!(map.unknown, ["E-mail Address", "Favourite colour"]);
        let map =
            HeaderMap::new(["First_Name", "last name", "Email Address", "postal code"]).unwrap();
        let row = csv::StringRecord::from(vec!["Minh", "Nguyễn", "m@x.org", "94612"]);
        let r = map.raw(&row);
        assert_eq!(
            (r.name.as_ref(), r.email, r.postcode),
            ("Minh Nguyễn", "m@x.org", "94612")
        );
        assert!(HeaderMap::new(["email", "zip"]).is_err());
    }
}
