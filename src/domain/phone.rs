//! A fast path for the phones of the North American Numbering Plan (+1: the US, Canada
//! and most of the Caribbean) that gives exactly the `phonenumber` crate's answer.
//!
//! `phonenumber::parse` costs tens of microseconds a call (its regexes sit behind one
//! shared, locked cache), and on a real file every phone is different, so no cache of
//! answers helps. Here the shapes people type (`(510) 555-0142`, `510.555.0142`,
//! `+1 510 555 0142`, `15105550142`, ...) are read with a byte scan, and whether the ten
//! digits are a valid number is decided by the crate's own metadata (its patterns,
//! compiled once into our own regexes, applied with the crate's rules). Anything else,
//! and any input the scan is not sure the crate reads the same way, is left to the crate:
//! [`nanp_e164`] answers only when its answer is certainly the crate's.
//!
//! Why the shapes are safe, step by step through the crate's parser (0.3, for an input of
//! ASCII digits, spaces, `-`, `.`, `(`, `)` and at most a leading `+`):
//! - no extension can be read (every extension form needs a letter, `#`, `,`, `;` or `~`);
//! - without a space the RFC 3966 reader takes the input first: without `+` it keeps the
//!   digits as the natural reader would; with `+` it takes the digits up to the first
//!   `-`, `.`, `(` or `)` as the country code, so that group must be exactly `1` (a group
//!   like `1510` is refused by the crate; such inputs are left to it);
//! - the international prefix of these regions is `011` and the digits never start with
//!   it; a leading `+` makes the first digit (`1`) the country code;
//! - without `+`, 11 digits starting with `1` lose that `1` (11 is no possible length of
//!   these regions, which is checked), 10 digits stay as they are;
//! - a national number starting with 2-9 is untouched by the national prefix rules
//!   (`1`, or `(X\d{6})$|1`, which can only match at its start a 7-digit number or a `1`;
//!   regions with any other rule are left to the crate).
//!
//! What remains, the validity of the ten digits, does not depend on the region the input
//! was read for: the crate picks the +1 region by leading digits or by pattern, in its own
//! order, and asks that region's patterns. [`Nanp::valid`] does the same with the same
//! patterns. The property tests in this file hold all of this to the crate's answers.

use std::sync::OnceLock;

use phonenumber::metadata::{Descriptor, Metadata, DATABASE};
use phonenumber::{country, Type};
use regex::{Regex, RegexBuilder};

/// The crate's answer for `raw` read in `region`, when it is certain without asking the
/// crate: `Some(Some(e164))` for a valid number, `Some(None)` for one the crate would
/// call invalid, `None` when only the crate can tell.
pub fn nanp_e164(raw: &str, region: country::Id) -> Option<Option<String>> {
    let nanp = Nanp::get()?;
    if !nanp.reads_like_us(region) {
        return None;
    }
    let national = national_digits(raw.as_bytes())?;
    // Always ASCII digits: the slice is valid UTF-8.
    let national = std::str::from_utf8(&national).ok()?;
    Some(nanp.valid(national).then(|| format!("+1{national}")))
}

/// The ten digits of the national number when `raw` is one of the shapes the crate
/// certainly reads as `+1` and those ten digits (see the module documentation).
fn national_digits(raw: &[u8]) -> Option<[u8; 10]> {
    let (plus, body) = match raw.split_first() {
        Some((b'+', rest)) => (true, rest),
        _ => (false, raw),
    };
    let mut digits = [0u8; 11];
    let mut n = 0;
    let (mut space, mut separator) = (false, false);
    for &b in body {
        match b {
            b'0'..=b'9' => {
                *digits.get_mut(n)? = b;
                n += 1;
            }
            b' ' => space = true,
            b'-' | b'.' | b'(' | b')' => separator = true,
            _ => return None,
        }
    }
    let national = match (plus, n, digits[0]) {
        (false, 10, _) => &digits[..10],
        (_, 11, b'1') => &digits[1..],
        _ => return None,
    };
    if plus && !space && separator {
        // Read as RFC 3966: the digits before the first separator are the country code.
        let group = body.iter().take_while(|b| b.is_ascii_digit()).count();
        if group != 1 {
            return None;
        }
    }
    if !(b'2'..=b'9').contains(&national[0]) {
        return None;
    }
    national.try_into().ok()
}

/// The crate's metadata for +1, compiled for quick use.
pub struct Nanp {
    /// The +1 regions in the crate's order (the main one, the US, first).
    regions: Vec<Rules>,
    /// Regions whose parsing of the shapes above is proven to give the ten digits.
    fast: Vec<country::Id>,
}

struct Rules {
    /// Numbers starting with these digits belong to the region, valid or not.
    leading: Option<Pattern>,
    general: Pattern,
    /// Every descriptor `number_type` tries after the general one: a match on any makes
    /// the number's type known, so valid.
    types: Vec<Pattern>,
}

/// A descriptor's test as the crate applies it: a possible length, then a match of the
/// pattern starting at the first digit (not necessarily ending at the last).
struct Pattern {
    lengths: Vec<u16>,
    source: String,
    compiled: OnceLock<Option<Regex>>,
}

impl Pattern {
    fn new(source: &str, lengths: &[u16]) -> Pattern {
        Pattern {
            lengths: lengths.to_vec(),
            source: source.to_string(),
            compiled: OnceLock::new(),
        }
    }

    fn of(d: &Descriptor) -> Pattern {
        Pattern::new(d.national_number().as_str(), d.possible_length())
    }

    /// `find(value)` starting at 0, like the crate (which compiles its patterns with
    /// `ignore_whitespace`): a pattern that cannot be compiled never matches, and then
    /// [`Nanp::get`] has refused to take the fast path at all.
    fn regex(&self) -> Option<&Regex> {
        self.compiled
            .get_or_init(|| {
                // On their own lines: a `#` comment in the source cannot swallow the group.
                RegexBuilder::new(&format!("^(?:\n{}\n)", self.source))
                    .ignore_whitespace(true)
                    .build()
                    .ok()
            })
            .as_ref()
    }

    fn is_match(&self, national: &str) -> bool {
        (self.lengths.is_empty() || self.lengths.contains(&(national.len() as u16)))
            && self.regex().is_some_and(|re| re.is_match(national))
    }
}

impl Rules {
    fn new(meta: &Metadata) -> Rules {
        let d = meta.descriptors();
        // The crate's order after the general descriptor; for validity only "any" counts,
        // so fixed line and mobile go first: they are what people's numbers are.
        let types = [
            d.fixed_line(),
            d.mobile(),
            d.premium_rate(),
            d.toll_free(),
            d.shared_cost(),
            d.voip(),
            d.personal_number(),
            d.pager(),
            d.uan(),
            d.voicemail(),
        ]
        .into_iter()
        .flatten()
        .map(Pattern::of)
        .collect();
        Rules {
            leading: meta
                .leading_digits()
                .map(|re| Pattern::new(re.as_str(), &[])),
            general: Pattern::of(d.general()),
            types,
        }
    }

    /// `number_type(meta, national) != Type::Unknown` in the crate.
    fn type_known(&self, national: &str) -> bool {
        self.general.is_match(national) && self.types.iter().any(|t| t.is_match(national))
    }
}

/// A pattern without the whitespace `ignore_whitespace` skips.
fn squeeze(pattern: &str) -> String {
    pattern.chars().filter(|c| !c.is_whitespace()).collect()
}

/// The crate's `national_prefix_for_parsing` rules the module documentation covers.
fn harmless_prefix_rule(rule: &str) -> bool {
    static SHAPE: OnceLock<Option<Regex>> = OnceLock::new();
    let rule = squeeze(rule);
    rule == "1"
        || SHAPE
            .get_or_init(|| Regex::new(r"^\((?:\[[0-9-]+\]|[0-9])\\d\{6\}\)\$\|1$").ok())
            .as_ref()
            .is_some_and(|shape| shape.is_match(&rule))
}

impl Nanp {
    /// Built once from the crate's metadata; `None` if it no longer looks as this module
    /// expects (then every phone goes to the crate).
    pub fn get() -> Option<&'static Nanp> {
        static NANP: OnceLock<Option<Nanp>> = OnceLock::new();
        NANP.get_or_init(Nanp::build).as_ref()
    }

    fn build() -> Option<Nanp> {
        let ids = DATABASE.region(&1u16)?;
        if ids.len() < 2 {
            // One region for a code takes another path in the crate.
            return None;
        }
        let metas: Vec<&Metadata> = ids
            .iter()
            .map(|id| DATABASE.by_id(*id))
            .collect::<Option<_>>()?;
        let regions: Vec<Rules> = metas.iter().map(|m| Rules::new(m)).collect();
        let fast = metas
            .iter()
            .filter(|m| {
                let general = m.descriptors().general();
                m.country_code() == 1
                    && m.international_prefix().is_some_and(|re| squeeze(re.as_str()) == "011")
                    && m.national_prefix() == Some("1")
                    && m
                        .national_prefix_for_parsing()
                        .is_none_or(|re| harmless_prefix_rule(re.as_str()))
                    && !general.possible_length().contains(&11)
                    && !general.possible_local_length().contains(&11)
                    // The crate's `length` check reads the general descriptor.
                    && m.descriptors().get(Type::Unknown).is_some()
            })
            .filter_map(|m| m.id().parse::<country::Id>().ok())
            .collect();
        Some(Nanp { regions, fast })
    }

    /// Whether inputs read for `region` take the fast path.
    pub fn reads_like_us(&self, region: country::Id) -> bool {
        self.fast.contains(&region)
    }

    /// The regions the fast path serves.
    pub fn fast_regions(&self) -> &[country::Id] {
        &self.fast
    }

    /// `phonenumber::is_valid` for the number `+1 national` (ten ASCII digits).
    pub fn valid(&self, national: &str) -> bool {
        // `validator::source_for`: the first region whose leading digits start the number
        // or, for a region without any, whose patterns know it.
        self.regions
            .iter()
            .find_map(|r| match &r.leading {
                Some(leading) => leading.is_match(national).then(|| r.type_known(national)),
                None => r.type_known(national).then_some(true),
            })
            .unwrap_or(false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// What the crate says, as `normalize_phone` asks it.
    fn crate_e164(raw: &str, region: country::Id) -> Option<String> {
        match phonenumber::parse(Some(region), raw) {
            Ok(number) if number.is_valid() => {
                Some(number.format().mode(phonenumber::Mode::E164).to_string())
            }
            _ => None,
        }
    }

    fn nanp_regions() -> Vec<country::Id> {
        DATABASE
            .region(&1u16)
            .unwrap()
            .iter()
            .map(|id| id.parse().unwrap())
            .collect()
    }

    /// The ways people write `+1 AAA EEE LLLL`, and a few the crate reads differently.
    const SHAPES: &[&str] = &[
        "(AAA) EEE-LLLL",
        "AAA.EEE.LLLL",
        "AAA-EEE-LLLL",
        "+1 AAA EEE LLLL",
        "1AAAEEELLLL",
        "AAAEEELLLL",
        "AAA EEE LLLL",
        "+1AAAEEELLLL",
        "+1-AAA-EEE-LLLL",
        "+1 (AAA) EEE-LLLL",
        "1 (AAA) EEE-LLLL",
        "1-AAA-EEE-LLLL",
        "1.AAA.EEE.LLLL",
        "(AAA)EEE-LLLL",
        "+1(AAA)EEE-LLLL",
        "+1.AAA.EEE.LLLL",
        // Read by the crate as country code 1AAA: refused.
        "+1AAA-EEE-LLLL",
        "+(1) AAA EEE LLLL",
        "AAA-EEE-LLLL.",
        "(AAA) EEE - LLLL",
        "EEE-LLLL",
        "+AAA EEE LLLL",
        "AAA EEE LLLL ext 12",
        "AAA-EEE-LLLL x3",
        "011 1 AAA EEE LLLL",
        "+1 AAA EEE LLLL#",
    ];

    fn shaped(shape: &str, digits: &str) -> String {
        let (a, rest) = digits.split_at(3);
        let (e, l) = rest.split_at(3);
        shape.replace("AAA", a).replace("EEE", e).replace("LLLL", l)
    }

    /// Ten digits, mostly with a plausible area code and exchange, sometimes anything.
    fn national() -> impl Strategy<Value = String> {
        prop_oneof![
            3 => (200u32..1000, 200u32..1000, 0u32..10_000)
                .prop_map(|(a, e, l)| format!("{a:03}{e:03}{l:04}")),
            1 => "[0-9]{10}",
        ]
    }

    /// Anything near a phone: digits, the separators, a plus anywhere, letters.
    fn noise() -> impl Strategy<Value = String> {
        prop_oneof![
            "[0-9 ().+-]{0,20}",
            "\\+?1?[ .-]?\\(?[0-9]{3}\\)?[ .-]?[0-9]{3}[ .-]?[0-9]{4}",
            "[0-9 ().+#,;xa-z-]{0,16}",
            "[+]?[0-9]{1,15}",
        ]
    }

    fn region() -> impl Strategy<Value = country::Id> {
        let mut all = nanp_regions();
        all.extend([country::Id::MX, country::Id::GB, country::Id::HT]);
        proptest::sample::select(all)
    }

    fn same_answer(raw: &str, region: country::Id) -> Result<(), TestCaseError> {
        if let Some(fast) = nanp_e164(raw, region) {
            prop_assert_eq!(
                fast,
                crate_e164(raw, region),
                "{:?} read in {:?}",
                raw,
                region
            );
        }
        Ok(())
    }

    /// Generated numbers for the property tests: a few thousand in the normal suite
    /// (each costs a crate parse), or `PHONE_PROPTEST_CASES`.
    fn config(cases: u32) -> ProptestConfig {
        let cases = std::env::var("PHONE_PROPTEST_CASES")
            .ok()
            .and_then(|c| c.parse().ok())
            .unwrap_or(cases);
        ProptestConfig {
            cases,
            failure_persistence: None,
            ..ProptestConfig::default()
        }
    }

    proptest! {
        #![proptest_config(config(3_000))]

        #[test]
        fn shaped_numbers_get_the_crates_answer(
            digits in national(),
            shape in proptest::sample::select(SHAPES),
            region in region(),
        ) {
            same_answer(&shaped(shape, &digits), region)?;
        }

        #[test]
        fn anything_else_gets_the_crates_answer_or_goes_to_the_crate(
            raw in noise(),
            region in region(),
        ) {
            same_answer(&raw, region)?;
        }
    }

    #[test]
    fn the_common_shapes_take_the_fast_path() {
        let nanp = Nanp::get().expect("the crate's +1 metadata is as expected");
        for region in [country::Id::US, country::Id::CA] {
            assert!(nanp.reads_like_us(region), "{region:?}");
        }
        // Every +1 region of the crate is served: none has a rule the proof leaves out.
        assert_eq!(nanp.fast_regions().len(), nanp_regions().len());
        for shape in &SHAPES[..16] {
            let raw = shaped(shape, "5105550142");
            assert_eq!(
                nanp_e164(&raw, country::Id::US),
                Some(Some("+15105550142".into())),
                "{raw}"
            );
            assert_eq!(
                crate_e164(&raw, country::Id::US).as_deref(),
                Some("+15105550142")
            );
        }
        // Invalid ten digits are answered too, the crate's way: 555 is no area code,
        // 416 (Toronto) is valid from the US, 268 is Antigua.
        for (digits, valid) in [
            ("5555550142", false),
            ("4165550142", true),
            ("2684601234", true),
        ] {
            let raw = shaped("(AAA) EEE-LLLL", digits);
            let expected = crate_e164(&raw, country::Id::US);
            assert_eq!(expected.is_some(), valid, "{raw}");
            assert_eq!(nanp_e164(&raw, country::Id::US), Some(expected), "{raw}");
        }
        // Left to the crate: foreign numbers, other regions, words, odd shapes.
        for raw in [
            "+52 55 1234 5678",
            "+44 20 7946 0958",
            "call me",
            "555-CASA",
            "+1510-555-0142",
        ] {
            assert_eq!(nanp_e164(raw, country::Id::US), None, "{raw}");
        }
        assert_eq!(nanp_e164("5105550142", country::Id::MX), None);
    }

    #[test]
    fn odd_input_gets_the_crates_answer_or_goes_to_the_crate() {
        let long = "5".repeat(100_000);
        let spaced = format!("510{}5550142", " ".repeat(10_000));
        let odd = [
            "",
            "+",
            "1",
            "()",
            "+1",
            "++15105550142",
            "5105550142\0",
            "\u{200f}510-555-0142",
            "\u{FF15}\u{FF11}\u{FF10}5550142",
            "510\u{2011}555\u{2011}0142",
            "510 555 0142 ",
            " 510 555 0142",
            "(510) 555-0142\n",
            "+1 510 555 0142 +1",
            "1 1 510 555 0142",
            "+1-(510)-555-0142",
            "+1.5105550142",
            "0115105550142",
            "+0115105550142",
            &long,
            &spaced,
        ];
        for raw in odd {
            for region in [country::Id::US, country::Id::CA, country::Id::JM] {
                same_answer(raw, region).unwrap();
            }
        }
        // Not ASCII digits, or too many: the crate's call.
        assert_eq!(nanp_e164(&long, country::Id::US), None);
        assert_eq!(nanp_e164(odd[8], country::Id::US), None);
    }

    /// A million shaped numbers and a million near-phones, then every area code and
    /// exchange once: `cargo test --release phone -- --ignored` (a few minutes).
    #[test]
    #[ignore]
    fn a_million_numbers_and_every_exchange_get_the_crates_answer() {
        let mut runner = proptest::test_runner::TestRunner::new(config(1_000_000));
        runner
            .run(
                &(national(), proptest::sample::select(SHAPES), region()),
                |(digits, shape, region)| same_answer(&shaped(shape, &digits), region),
            )
            .unwrap();
        runner
            .run(&(noise(), region()), |(raw, region)| {
                same_answer(&raw, region)
            })
            .unwrap();
        let mut answered = 0u64;
        for prefix in 200_000u32..1_000_000 {
            let line = (u64::from(prefix) * 7_919) % 10_000;
            let raw = format!("{prefix}{line:04}");
            let fast = nanp_e164(&raw, country::Id::US).expect("ten digits are answered");
            assert_eq!(fast, crate_e164(&raw, country::Id::US), "{raw}");
            answered += u64::from(fast.is_some());
        }
        assert!(answered > 100_000, "{answered}");
    }
}
