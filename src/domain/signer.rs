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
/// Longest name we keep (characters): longer is a pasted paragraph, not a name.
pub const NAME_MAX: usize = 200;
/// Longest email address that can receive mail (RFC 5321's path limit).
pub const EMAIL_MAX: usize = 254;
/// Longest phone we keep as written (E.164 is at most 15 digits; room for an extension).
pub const PHONE_MAX: usize = 40;
/// Longest sheet id we keep (printed ids look like `OAK-0007`).
pub const SHEET_MAX: usize = 40;

/// Where a signer's phone and ZIP are read. Phones: the account's country, else the
/// campaign's, else the US.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Region {
    pub phone: country::Id,
    /// US campaigns get their ZIPs' dropped leading zero back (and unusual ZIPs a second
    /// look at the prompt); no one else's postcode is touched.
    pub us: bool,
    /// A 4-digit US ZIP gets its dropped leading zero back: a spreadsheet's doing. Off
    /// for typed entry ([`Region::typed`]), where a person copying a form is asked.
    pub restore_zip_zero: bool,
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
        Region {
            phone,
            us,
            restore_zip_zero: us,
        }
    }

    /// The region for a person typing: postcodes are kept as typed (an unusual US ZIP
    /// is asked about at the prompt instead of being padded).
    pub fn typed(self) -> Region {
        Region {
            restore_zip_zero: false,
            ..self
        }
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

/// Refuses a field holding characters that are never stored (controls, bidi overrides:
/// see `text::is_unsafe`). They are not stripped: a name with an ESC sequence or a
/// hidden override is not what the signer wrote, so a person retypes it.
fn refuse_unsafe(field: &'static str, input: &str) -> Result<(), Problem> {
    if might_be_unsafe(input.as_bytes()) && text::has_unsafe(input) {
        return Err(problem_with(
            field,
            format!(
                "holds invisible control characters ({}) that change how text shows: retype it",
                text::describe_unsafe(input)
            ),
            input,
        ));
    }
    Ok(())
}

/// False when no byte of `input` can start a character [`text::has_unsafe`] refuses
/// (controls and DEL, or the lead bytes of C1 controls and bidi overrides): a branch-free
/// pass the compiler vectorizes, before the exact scan on the few fields that need it.
fn might_be_unsafe(input: &[u8]) -> bool {
    input.iter().fold(false, |any, &b| {
        any | (b < 0x20) | (b == 0x7f) | (b == 0xc2) | (b == 0xe2)
    })
}

/// `email_ok`, without the `email_address` parser for the plain addresses most rows hold.
fn address_ok(email: &str) -> bool {
    plain_address_ok(email.as_bytes()).unwrap_or_else(|| email_ok(email))
}

/// What `email_ok` says of an address made only of ASCII letters, digits and the atom
/// punctuation RFC 5322 allows unquoted, with one `@` and a domain of letters, digits,
/// `-` and `.`: `None` for any other text (quotes, spaces, brackets, non-ASCII, a second
/// `@`), which the crate reads. For these bytes the crate's rules are exactly: a local
/// part of 1 to 64 bytes without an empty dot-separated piece; a domain of at most 254
/// bytes whose labels are 1 to 63 bytes starting and ending with a letter or digit; and,
/// ours, a dot in the domain (see `tests::plain_addresses_are_read_as_the_crate_reads_them`).
fn plain_address_ok(email: &[u8]) -> Option<bool> {
    let at = email.iter().position(|&b| b == b'@')?;
    let (local, domain) = (&email[..at], &email[at + 1..]);
    let atom = |b: u8| b.is_ascii_alphanumeric() || b"!#$%&'*+/=?^_`{|}~-.".contains(&b);
    let host = |b: u8| b.is_ascii_alphanumeric() || b == b'-' || b == b'.';
    if !local.iter().all(|&b| atom(b)) || !domain.iter().all(|&b| host(b)) {
        return None;
    }
    let local_ok = !local.is_empty()
        && local.len() <= 64
        && local.split(|&b| b == b'.').all(|piece| !piece.is_empty());
    let domain_ok = !domain.is_empty()
        && domain.len() <= 254
        && domain.contains(&b'.')
        && domain
            .split(|&b| b == b'.')
            .all(|label| match (label.first(), label.last()) {
                (Some(first), Some(last)) => {
                    label.len() <= 63
                        && first.is_ascii_alphanumeric()
                        && last.is_ascii_alphanumeric()
                }
                _ => false,
            });
    Some(local_ok && domain_ok)
}

/// Refuses a field longer than `max` characters (counted only when the bytes could be).
fn refuse_long(field: &'static str, input: &str, max: usize) -> Result<(), Problem> {
    if input.len() > max && input.chars().count() > max {
        return Err(too_long(field, input, max));
    }
    Ok(())
}

fn too_long(field: &'static str, input: &str, max: usize) -> Problem {
    problem_with(
        field,
        format!("longer than {max} characters: shorten it or leave it empty"),
        input,
    )
}

/// `text::clean`, without the allocation when the text is already clean (the common
/// case on a million-row import).
pub fn clean(input: &str) -> Cow<'_, str> {
    if tidy_ascii(input.as_bytes()) {
        return Cow::Borrowed(input);
    }
    let tidy = !input.is_empty()
        && !input.starts_with(char::is_whitespace)
        && !input.ends_with(char::is_whitespace)
        && !input
            .as_bytes()
            .windows(2)
            .any(|w| w[0] == b' ' && w[1] == b' ')
        && !input.chars().any(|c| c.is_whitespace() && c != ' ');
    if tidy
        && !text::has_unsafe(input)
        && (input.is_ascii() || is_nfc_quick(input.chars()) == IsNormalized::Yes)
    {
        Cow::Borrowed(input)
    } else {
        Cow::Owned(text::clean(input))
    }
}

/// Printable ASCII with single spaces between words and none at the ends: what
/// [`clean`] keeps as it is, told in one pass over the bytes (most fields of a file).
fn tidy_ascii(bytes: &[u8]) -> bool {
    if bytes.first() == Some(&b' ') || bytes.last() == Some(&b' ') || bytes.is_empty() {
        return false;
    }
    let mut space = false;
    for &b in bytes {
        match b {
            b' ' if space => return false,
            b' ' => space = true,
            0x21..=0x7e => space = false,
            _ => return false,
        }
    }
    true
}

/// Name: cleaned (a line break in a multi-line cell becomes a space), never otherwise
/// changed. Refused when empty, longer than [`NAME_MAX`], holding control characters,
/// or holding an email address (a name never does: a stray quote or a shifted column
/// put it there).
pub fn check_name(input: &str) -> Result<String, Problem> {
    checked_name(input).map(Cow::into_owned)
}

/// [`check_name`] without the copy when the name is already clean.
fn checked_name(input: &str) -> Result<Cow<'_, str>, Problem> {
    refuse_unsafe("name", input)?;
    // Far too long to be a name however its spaces are tidied: refused before the work
    // of cleaning it (a 10 MB cell).
    if input.len() > 16 * NAME_MAX {
        return Err(too_long("name", input, NAME_MAX));
    }
    let name = clean(input);
    if name.is_empty() {
        return Err(problem("name", "a signer needs a name"));
    }
    refuse_long("name", &name, NAME_MAX)?;
    if name.contains('@')
        && name
            .split(|c: char| c.is_whitespace() || matches!(c, ',' | ';' | '<' | '>' | '"'))
            .any(email_ok)
    {
        return Err(problem_with(
            "name",
            "holds an email address: put it in the email column (a stray quote or a shifted \
             column can do this)",
            &name,
        ));
    }
    Ok(name)
}

/// Email: trimmed; `None` when empty; an error when it cannot receive mail (longer than
/// [`EMAIL_MAX`], control characters, not an address).
pub fn check_email(input: &str) -> Result<Option<String>, Problem> {
    Ok(checked_email(input)?.map(Cow::into_owned))
}

/// [`check_email`] without the copy.
fn checked_email(input: &str) -> Result<Option<Cow<'_, str>>, Problem> {
    let email = input.trim();
    if email.is_empty() {
        return Ok(None);
    }
    refuse_unsafe("email", email)?;
    refuse_long("email", email, EMAIL_MAX)?;
    if !address_ok(email) {
        return Err(problem_with(
            "email",
            "not an email address (like ana@example.org): fix it or leave it empty",
            email,
        ));
    }
    Ok(Some(clean(email)))
}

/// Postcode: trimmed, at most 12 characters; a 4-digit US ZIP gets its leading zero back
/// (spreadsheets drop it).
pub fn check_postcode(input: &str, region: Region) -> Result<Option<String>, Problem> {
    Ok(checked_postcode(input, region)?.map(Cow::into_owned))
}

/// [`check_postcode`] without the copy when the code is kept as written.
fn checked_postcode(input: &str, region: Region) -> Result<Option<Cow<'_, str>>, Problem> {
    refuse_unsafe("postcode", input)?;
    let code = clean(input);
    if code.is_empty() {
        return Ok(None);
    }
    refuse_long("postcode", &code, POSTCODE_MAX)?;
    if region.us
        && region.restore_zip_zero
        && code.len() == 4
        && code.bytes().all(|b| b.is_ascii_digit())
    {
        return Ok(Some(Cow::Owned(format!("0{code}"))));
    }
    Ok(Some(code))
}

/// True for a US ZIP that is neither 5 nor 9 digits (`94612`, `94612-1234`): worth a
/// second look at the prompt, never a reason to refuse.
pub fn unusual_us_zip(code: &str) -> bool {
    let digits: String = code.chars().filter(|c| *c != '-' && *c != ' ').collect();
    !(digits.bytes().all(|b| b.is_ascii_digit()) && (digits.len() == 5 || digits.len() == 9))
}

/// Phone as [`normalize_phone`] gives it, refused only when it cannot be a phone at all:
/// longer than [`PHONE_MAX`] or holding control characters.
pub fn check_phone(input: &str, region: Region) -> Result<Option<(String, bool)>, Problem> {
    refuse_unsafe("phone", input)?;
    refuse_long("phone", input.trim(), PHONE_MAX)?;
    Ok(normalize_phone(input, region))
}

/// Sheet id as [`sheet_id`] shapes it, refused when longer than [`SHEET_MAX`] or holding
/// control characters.
pub fn check_sheet(input: &str) -> Result<Option<String>, Problem> {
    refuse_unsafe("sheet", input)?;
    refuse_long("sheet", input.trim(), SHEET_MAX)?;
    Ok(sheet_id(input))
}

/// Phone: E.164 when it parses as a valid number, else kept as written and flagged
/// (`false`): a phone that does not parse is never a reason to lose a signer.
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
    const YES: [&str; 7] = ["yes", "y", "true", "1", "x", "sí", "si"];
    let v = input.trim();
    if v.is_ascii() {
        // ASCII text lowercases only in ASCII: no allocation (every row, twice).
        return YES.iter().any(|t| v.eq_ignore_ascii_case(t));
    }
    YES.iter()
        .any(|t| v.eq_ignore_ascii_case(t) || v.to_lowercase() == *t)
}

/// One signer, one row: the lowercased email, or without one the lowercased name and
/// the postcode.
pub fn dedupe_key(name: &str, email: Option<&str>, postcode: Option<&str>) -> String {
    let mut key = String::new();
    dedupe_key_into(name, email, postcode, &mut key);
    key
}

/// [`dedupe_key`] written into `key` (its buffer reused).
pub fn dedupe_key_into(name: &str, email: Option<&str>, postcode: Option<&str>, key: &mut String) {
    key.clear();
    match email {
        Some(email) => push_lowercase(key, email.trim()),
        None => {
            push_lowercase(key, &clean(name));
            // No email contains a newline, so these keys never meet an email key.
            key.push('\n');
            let postcode = postcode.unwrap_or("");
            key.extend(
                postcode
                    .chars()
                    .filter(|c| !c.is_whitespace())
                    .flat_map(char::to_uppercase),
            );
        }
    }
}

/// The key that says two rows are the same person whatever their emails: name and
/// postcode, as [`dedupe_key`] writes them for a row without an email. `None` without a
/// postcode.
pub fn person_key(name: &str, postcode: Option<&str>) -> Option<String> {
    postcode
        .filter(|p| !p.trim().is_empty())
        .map(|p| dedupe_key(name, None, Some(p)))
}

/// Appends `text.to_lowercase()`, without allocating when it is ASCII.
fn push_lowercase(out: &mut String, text: &str) {
    if text.is_ascii() {
        let start = out.len();
        out.push_str(text);
        out[start..].make_ascii_lowercase();
    } else {
        out.push_str(&text.to_lowercase());
    }
}

/// Puts `value` in `slot`, reusing the buffer already there.
fn put(slot: &mut Option<String>, value: Option<&str>) {
    match (slot.as_mut(), value) {
        (Some(buffer), Some(value)) => {
            buffer.clear();
            buffer.push_str(value);
        }
        (None, Some(value)) => *slot = Some(value.to_string()),
        (_, None) => *slot = None,
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
    let mut signature = NewSignature::default();
    validate_into(raw, region, &mut signature)?;
    Ok(signature)
}

/// [`validate`], writing the signer into `out` and reusing its buffers (an import checks
/// a million rows: no allocation a field). On an error `out` holds parts of the row.
pub fn validate_into(
    raw: &RawSigner<'_>,
    region: Region,
    out: &mut NewSignature,
) -> Result<(), Problem> {
    let name = checked_name(&raw.name)?;
    out.name.clear();
    out.name.push_str(&name);
    let email = checked_email(raw.email)?;
    put(&mut out.email, email.as_deref());
    let postcode = checked_postcode(raw.postcode, region)?;
    put(&mut out.postcode, postcode.as_deref());
    if email.is_none() && postcode.is_none() {
        return Err(problem(
            "email",
            "a signer needs an email or a ZIP/postcode (both are empty)",
        ));
    }
    let (phone, phone_valid) = match check_phone(raw.phone, region)? {
        Some((p, ok)) => (Some(p), ok),
        None => (None, true),
    };
    let sheet_id = check_sheet(raw.sheet)?;
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
        t if OffsetDateTime::parse(t, &Rfc3339).is_ok() => Some(t),
        t => {
            return Err(problem_with(
                "signed_at",
                "not an RFC 3339 time (like 2026-05-01T18:30:00Z): fix it or leave it empty",
                t,
            ))
        }
    };
    dedupe_key_into(
        &out.name,
        out.email.as_deref(),
        out.postcode.as_deref(),
        &mut out.dedupe_key,
    );
    out.phone = phone;
    out.phone_valid = phone_valid;
    out.opt_in = truthy(raw.opt_in);
    out.private = truthy(raw.private);
    out.source = source;
    out.sheet_id = sheet_id;
    out.line = line;
    out.entered_by = None;
    put(&mut out.signed_at, signed_at);
    Ok(())
}

/// What a CSV column holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Column {
    /// The whole name: `full name`, `nombre completo`.
    Name,
    /// `name` / `nombre`: the whole name, or the first name when the file also has a last
    /// name column and no first name column (`Nombre;Apellido` is José;García).
    NameOrFirst,
    FirstName,
    LastName,
    /// A second surname (`segundo apellido`), joined after the first.
    SecondLastName,
    Email,
    Postcode,
    Phone,
    OptIn,
    Private,
    Sheet,
    Line,
    Source,
    SignedAt,
    /// The `row` and `reason` columns a rejects file adds: skipped without a warning, so
    /// a fixed rejects file imports again as it is.
    RejectsNote,
}

/// A header as compared: accents dropped, lowercase, `_` `-` `.` and spaces alike,
/// brackets and `:` `*` `#` gone (`Correo Electrónico` = `correo electronico`,
/// `Apellido(s)` = `apellidos`, `C.P.` = `cp`, `E-mail:` = `e mail`).
fn header_key(header: &str) -> String {
    use unicode_normalization::char::is_combining_mark;
    use unicode_normalization::UnicodeNormalization;
    let h: String = header
        .trim()
        .trim_start_matches('\u{feff}')
        .nfd()
        .filter(|c| !is_combining_mark(*c))
        .filter(|c| !matches!(c, '(' | ')' | '[' | ']' | ':' | '*' | '#'))
        .map(|c| match c {
            '_' | '-' | '/' => ' ',
            c => c,
        })
        .collect::<String>()
        .to_lowercase();
    // `C.P.` is `cp`; `e.mail` is `e mail`.
    let h = match h.trim_end_matches('.') {
        short if short.len() <= 4 && !short.contains(' ') => short.replace('.', ""),
        other => other.replace('.', " "),
    };
    text::clean(&h)
}

impl Column {
    /// Header names in English or Spanish, compared as [`header_key`] says.
    pub fn from_header(header: &str) -> Option<Column> {
        let h = header_key(header);
        Some(match h.as_str() {
            "name"
            | "nombre"
            | "nombres"
            | "nombre y apellido"
            | "nombre y apellidos"
            | "nombres y apellidos" => {
                if h.contains("apellido") {
                    Column::Name
                } else {
                    Column::NameOrFirst
                }
            }
            "full name" | "fullname" | "nombre completo" | "signer" | "firmante" => Column::Name,
            "first name" | "firstname" | "given name" | "first" | "primer nombre" => {
                Column::FirstName
            }
            "last name" | "lastname" | "surname" | "family name" | "last" | "apellido"
            | "apellidos" | "primer apellido" => Column::LastName,
            "segundo apellido" | "second surname" | "second last name" => Column::SecondLastName,
            "email"
            | "email address"
            | "e mail"
            | "e mail address"
            | "mail"
            | "correo"
            | "correo electronico"
            | "correo e"
            | "direccion de correo"
            | "direccion de correo electronico"
            | "email correo"
            | "correo email" => Column::Email,
            "zip" | "zip code" | "zipcode" | "postcode" | "postal code" | "post code"
            | "postal" | "codigo postal" | "cp" | "zona postal" => Column::Postcode,
            "phone" | "phone number" | "mobile" | "mobile phone" | "cell" | "cell phone"
            | "telephone" | "tel" | "telefono" | "numero de telefono" | "telefono movil"
            | "telefono celular" | "celular" | "cel" | "movil" | "whatsapp" => Column::Phone,
            "opt in" | "optin" | "join" | "mailing list" | "list" | "lista" | "lista de correo"
            | "unirse" | "unirse a la lista" | "unirme" | "suscribir" | "suscribirse" => {
                Column::OptIn
            }
            "private"
            | "anonymous"
            | "hide name"
            | "privado"
            | "privada"
            | "anonimo"
            | "anonima"
            | "ocultar nombre"
            | "no mostrar mi nombre"
            | "no mostrar nombre" => Column::Private,
            "sheet" | "sheet id" | "hoja" | "id de hoja" | "numero de hoja" => Column::Sheet,
            "line" | "linea" | "renglon" | "numero de linea" => Column::Line,
            "source" | "fuente" | "origen" => Column::Source,
            "signed at" | "signed" | "date signed" | "fecha" | "fecha de firma" | "firmado" => {
                Column::SignedAt
            }
            "row" | "reason" => Column::RejectsNote,
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
    last2: Option<usize>,
    email: Option<usize>,
    postcode: Option<usize>,
    phone: Option<usize>,
    opt_in: Option<usize>,
    private: Option<usize>,
    sheet: Option<usize>,
    line: Option<usize>,
    source: Option<usize>,
    signed_at: Option<usize>,
    /// How many columns the header has.
    pub columns: usize,
    /// Headers we did not recognize (ignored; named in a warning), made safe to print:
    /// control characters dropped, long ones shortened.
    pub unknown: Vec<String>,
}

/// A header as a warning may print it.
fn printable_header(header: &str) -> String {
    let h = text::clean(header);
    match h.char_indices().nth(40) {
        Some((at, _)) => format!("{}…", &h[..at]),
        None => h,
    }
}

impl HeaderMap {
    /// Maps a header row. An error when no column gives a name: nothing can be imported.
    pub fn new<'a>(headers: impl IntoIterator<Item = &'a str>) -> Result<HeaderMap, Problem> {
        let mut map = HeaderMap::default();
        let mut name_or_first = None;
        for (i, header) in headers.into_iter().enumerate() {
            map.columns = i + 1;
            let slot = match Column::from_header(header) {
                Some(Column::Name) => &mut map.name,
                Some(Column::NameOrFirst) => &mut name_or_first,
                Some(Column::FirstName) => &mut map.first,
                Some(Column::LastName) => &mut map.last,
                Some(Column::SecondLastName) => &mut map.last2,
                Some(Column::Email) => &mut map.email,
                Some(Column::Postcode) => &mut map.postcode,
                Some(Column::Phone) => &mut map.phone,
                Some(Column::OptIn) => &mut map.opt_in,
                Some(Column::Private) => &mut map.private,
                Some(Column::Sheet) => &mut map.sheet,
                Some(Column::Line) => &mut map.line,
                Some(Column::Source) => &mut map.source,
                Some(Column::SignedAt) => &mut map.signed_at,
                Some(Column::RejectsNote) => continue,
                None => {
                    map.unknown.push(printable_header(header));
                    continue;
                }
            };
            // The first of two columns with one meaning wins.
            slot.get_or_insert(i);
        }
        if let Some(i) = name_or_first {
            // `Nombre;Apellido`: nombre is the first name, or García would be dropped.
            if map.first.is_none() && map.last.is_some() {
                map.first = Some(i);
            } else {
                map.name.get_or_insert(i);
            }
        }
        if map.name.is_none() && map.first.is_none() && map.last.is_none() {
            return Err(problem(
                "name",
                "no name column: the header needs one of name, full name, or first_name and \
                 last_name (or nombre, nombre completo, nombre and apellido)",
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
                let parts = [get(self.first), get(self.last), get(self.last2)];
                let mut parts = parts.iter().map(|p| p.trim()).filter(|p| !p.is_empty());
                match (parts.next(), parts.next()) {
                    (Some(one), None) => Cow::Borrowed(one),
                    (None, _) => Cow::Borrowed(""),
                    (Some(a), Some(b)) => {
                        let mut joined = format!("{a} {b}");
                        for more in parts {
                            joined.push(' ');
                            joined.push_str(more);
                        }
                        Cow::Owned(joined)
                    }
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
    fn typed_entry_keeps_a_four_digit_zip_and_the_person_key_ignores_email() {
        let typed = us().typed();
        assert_eq!(
            check_postcode("9461", us()).unwrap().as_deref(),
            Some("09461")
        );
        assert_eq!(
            check_postcode("9461", typed).unwrap().as_deref(),
            Some("9461")
        );
        assert!(typed.us);
        assert_eq!(
            person_key(" Ana  López ", Some("sw1a 1aa")),
            person_key("ana lópez", Some("SW1A1AA"))
        );
        assert_eq!(person_key("Ana", None), None);
        assert_eq!(person_key("Ana", Some(" ")), None);
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
                "Notes\u{1b}[2J",
            ]
            .iter()
            .copied(),
        );
        let map = map.unwrap();
        // Unknown headers are printed in a warning: control characters never are.
        assert_eq!(map.unknown, ["Favourite colour", "Notes[2J"]);
        assert_eq!(map.columns, 8);
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

    #[test]
    fn spanish_headers_with_or_without_accents_in_any_case() {
        let expect = [
            (Column::NameOrFirst, &["Nombre", "NOMBRE", "nombres"][..]),
            (
                Column::Name,
                &[
                    "Nombre completo",
                    "nombre y apellidos",
                    "Nombre Y Apellido(s)",
                ][..],
            ),
            (
                Column::LastName,
                &["Apellido", "apellido(s)", "Apellidos", "Primer apellido"][..],
            ),
            (Column::SecondLastName, &["Segundo Apellido"][..]),
            (
                Column::Email,
                &[
                    "Correo",
                    "Correo electrónico",
                    "CORREO ELECTRONICO",
                    "e-mail",
                    "E-Mail:",
                    "email",
                ][..],
            ),
            (
                Column::Postcode,
                &["Código postal", "codigo postal", "CP", "C.P.", "zip"][..],
            ),
            (
                Column::Phone,
                &["Teléfono", "telefono", "Celular", "Móvil", "movil"][..],
            ),
            (
                Column::OptIn,
                &["Lista", "Lista de correo", "lista (de correo)", "Unirse"][..],
            ),
            (Column::Private, &["Privado", "Anónimo", "anonimo"][..]),
            (Column::Sheet, &["Hoja"][..]),
            (Column::Line, &["Línea", "linea"][..]),
            (Column::RejectsNote, &["row", "reason"][..]),
        ];
        for (column, headers) in expect {
            for h in headers {
                assert_eq!(Column::from_header(h), Some(column), "{h}");
            }
        }
        assert_eq!(Column::from_header("Código"), None);
    }

    #[test]
    fn nombre_is_the_first_name_next_to_apellido_and_surnames_join() {
        let row = csv::StringRecord::from(vec!["José", "García", "López", "j@x.org"]);
        let map =
            HeaderMap::new(["Nombre", "Primer apellido", "Segundo apellido", "Correo"]).unwrap();
        assert_eq!(map.raw(&row).name, "José García López");
        // Alone, `nombre` is the whole name.
        let map = HeaderMap::new(["Nombre", "x", "y", "Correo"]).unwrap();
        assert_eq!(map.raw(&row).name, "José");
        // A whole-name column wins over the parts.
        let map = HeaderMap::new(["Nombre completo", "Apellido", "y", "Correo"]).unwrap();
        assert_eq!(map.raw(&row).name, "José");
        // The row and reason columns of a rejects file are no unknown columns.
        let map = HeaderMap::new(["row", "reason", "name", "email"]).unwrap();
        assert!(map.unknown.is_empty());
    }

    #[test]
    fn controls_and_overrides_are_refused_in_every_stored_field() {
        for bad in [
            "Ana\u{1b}[31m",
            "\u{202e}anA",
            "A\u{0}na",
            "Ana\u{2066}",
            "Ana\u{85}x",
        ] {
            let e = check_name(bad).unwrap_err();
            assert_eq!(e.field, "name");
            assert!(e.message.contains("control characters"), "{e}");
            assert!(!e.to_string().contains("Ana"), "{e}");
            assert!(check_email(&format!("a{bad}@example.org")).is_err());
            assert!(check_postcode(&format!("94{bad}"), us()).is_err());
            assert!(check_phone(&format!("510{bad}"), us()).is_err());
            assert!(check_sheet(&format!("OAK{bad}")).is_err());
        }
        // Tab and line breaks are whitespace: a multi-line cell is one line of name.
        assert_eq!(
            check_name("Jean-Baptiste\r\n\tWideline").unwrap(),
            "Jean-Baptiste Wideline"
        );
    }

    #[test]
    fn every_field_has_a_length_limit() {
        assert!(check_name(&"a".repeat(NAME_MAX)).is_ok());
        assert_eq!(
            check_name(&"a".repeat(NAME_MAX + 1)).unwrap_err().field,
            "name"
        );
        assert!(check_name(&"李".repeat(NAME_MAX)).is_ok());
        assert!(check_name(&"x".repeat(10 << 20)).is_err());
        let local = "a".repeat(64);
        let long = format!("{local}@{}.org", vec!["b".repeat(60); 4].join("."));
        assert!(long.len() > EMAIL_MAX);
        assert!(check_email(&long)
            .unwrap_err()
            .message
            .contains("longer than 254"));
        assert!(check_phone(&"5".repeat(PHONE_MAX + 1), us()).is_err());
        assert!(check_phone("+1 (510) 555-0199 ext. 1234", us()).is_ok());
        assert!(check_sheet(&"S".repeat(SHEET_MAX + 1)).is_err());
        let e = validate(
            &RawSigner {
                phone: &"1".repeat(100),
                ..raw("Ana", "", "94612")
            },
            us(),
        );
        assert_eq!(e.unwrap_err().field, "phone");
    }

    mod plain_addresses {
        use super::super::*;
        use proptest::prelude::*;

        /// Bytes that decide the shape, the awkward ones included.
        const PIECES: &[&str] = &[
            "a",
            "Z",
            "0",
            "9",
            ".",
            "..",
            "-",
            "_",
            "+",
            "@",
            "@@",
            "\"",
            " ",
            "<",
            ">",
            "[",
            "]",
            "\\",
            "é",
            "李",
            "!",
            "~",
            "'",
            "(",
            ")",
            ",",
            ";",
            ":",
            "\t",
            "x.org",
            "example.org",
            "gmail.com",
            "ana.reyes",
            "-x",
            "x-",
            ".x",
            "x.",
        ];

        fn address() -> impl Strategy<Value = String> {
            prop_oneof![
                proptest::collection::vec(0..PIECES.len(), 0..14)
                    .prop_map(|p| p.into_iter().map(|i| PIECES[i]).collect::<String>()),
                // Lengths around the limits: local parts, labels, whole domains.
                (1..70usize, 1..70usize, 1..5usize).prop_map(|(local, label, labels)| {
                    let label = "d".repeat(label);
                    format!("{}@{}", "l".repeat(local), vec![label; labels].join("."))
                }),
                (200..260usize).prop_map(|n| format!("a@{}.org", "d.".repeat(n / 2))),
            ]
        }

        proptest! {
            #![proptest_config(ProptestConfig { cases: 4000, failure_persistence: None, ..ProptestConfig::default() })]

            #[test]
            fn plain_addresses_are_read_as_the_crate_reads_them(email in address()) {
                prop_assert_eq!(address_ok(&email), email_ok(&email), "{:?}", email);
            }
        }

        #[test]
        fn the_shapes_of_the_realistic_file_take_the_plain_path() {
            for email in [
                "ana.reyes@example.org",
                "min_wang731027@example.org",
                "o'brien+x@sub.mail.co.uk",
            ] {
                assert_eq!(plain_address_ok(email.as_bytes()), Some(true), "{email}");
            }
            for email in ["ana@localhost", ".ana@x.org", "ana@x..org", "ana@-x.org"] {
                assert_eq!(plain_address_ok(email.as_bytes()), Some(false), "{email}");
                assert!(!email_ok(email), "{email}");
            }
            for email in [
                "Ana <ana@x.org>",
                "\"ana\"@x.org",
                "ana@@x.org",
                "josé@x.org",
                "ana@[1.2.3.4]",
            ] {
                assert_eq!(plain_address_ok(email.as_bytes()), None, "{email}");
            }
        }

        #[test]
        fn unsafe_bytes_are_never_missed_by_the_quick_pass() {
            for c in (0..=0x10ffffu32).filter_map(char::from_u32) {
                if text::is_unsafe(c) {
                    let s = format!("a{c}b");
                    assert!(might_be_unsafe(s.as_bytes()), "{:04X}", c as u32);
                }
            }
        }
    }

    #[test]
    fn a_name_never_holds_an_email_address() {
        for bad in [
            "Ana Reyes,ana@example.org,94612",
            "Ana Reyes <ana@example.org>",
            "ana@example.org",
        ] {
            let e = check_name(bad).unwrap_err();
            assert!(e.message.contains("email address"), "{bad}: {e}");
        }
        for ok in ["Ana @ Oakland", "Ana (@anareyes)", "García, María José"] {
            assert!(check_name(ok).is_ok(), "{ok}");
        }
    }
}
