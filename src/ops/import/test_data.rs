//! The benchmark generator's rows (the `bench-support` crate) held against the import's
//! own rules: what the import's locked counts and the benchmark assume of them. They live
//! here, not in the generator's crate, which does not depend on campaign.

use bench_support::{PhoneKind, Realistic, Row, RowKind};

/// The import's rules, applied in process to a campaign's whole history (rows
/// `0..bound`): each valid row's dedupe key, in row order.
fn keys(gen: &Realistic, rows: std::ops::Range<u64>) -> Vec<(Row, Option<String>)> {
    use crate::domain::signer::{validate, RawSigner, Region};
    rows.map(|i| {
        let row = gen.row(i);
        let raw = RawSigner {
            name: row.name.as_str().into(),
            email: &row.email,
            postcode: &row.zip,
            phone: &row.phone,
            opt_in: row.opt_in,
            private: row.private,
            ..Default::default()
        };
        let key = validate(&raw, Region::us()).ok().map(|s| s.dedupe_key);
        (row, key)
    })
    .collect()
}

#[test]
fn realistic_rows_are_distinct_apart_from_the_intended_copies() {
    let bound = 30_000;
    let gen = Realistic::new(3, bound);
    let rows = keys(&gen, 0..bound);
    let mut by_key = std::collections::HashMap::new();
    let mut phones = std::collections::HashSet::new();
    let (mut before, mut after) = (0, 0);
    for (row, key) in &rows {
        assert_eq!(key.is_none(), row.kind == RowKind::Invalid, "{row:?}");
        if row.phone_kind != PhoneKind::NotAPhone {
            assert!(phones.insert(row.phone.clone()), "phone twice: {row:?}");
        }
        let Some(key) = key else { continue };
        let of = match row.kind {
            RowKind::Copy { of } => {
                if of > row.index {
                    before += 1;
                } else {
                    after += 1;
                }
                of
            }
            _ => row.index,
        };
        // A key belongs to one original: its copies carry it, no other row does.
        assert_eq!(*by_key.entry(key.clone()).or_insert(of), of, "{row:?}");
    }
    let copies = rows
        .iter()
        .filter(|(r, _)| matches!(r.kind, RowKind::Copy { .. }))
        .count();
    let invalid = rows.iter().filter(|(_, k)| k.is_none()).count();
    assert_eq!(by_key.len(), rows.len() - copies - invalid);
    // Copies come before their original as well as after it.
    assert!(before > 100 && after > 100, "{before} {after}");
}

#[test]
fn realistic_names_phones_and_zips_look_like_real_ones() {
    use crate::domain::signer::{clean, normalize_phone, Region};
    let gen = Realistic::new(5, 20_000);
    let mut scripts = std::collections::HashSet::new();
    let (mut commas, mut quotes, mut zip4, mut zip_plus4) = (0, 0, 0, 0);
    for i in 0..20_000 {
        let row = gen.row(i);
        // Names are stored as written: already clean (composed, single spaces).
        if !row.name.trim().is_empty() {
            assert_eq!(clean(&row.name), row.name.trim(), "{row:?}");
        }
        scripts.extend(
            row.name
                .chars()
                .filter(|c| c.is_alphabetic())
                .map(|c| unicode_script::UnicodeScript::script(&c)),
        );
        commas += row.name.contains(',') as u32;
        quotes += row.name.contains('"') as u32;
        zip4 += (row.zip.len() == 4) as u32;
        zip_plus4 += row.zip.contains('-') as u32;
        match &row.phone_kind {
            PhoneKind::Nanp(e164) if i % 10 == 0 => {
                // The crate's own answer, and the fast path takes it.
                let parsed =
                    phonenumber::parse(Some(phonenumber::country::Id::US), &row.phone).unwrap();
                assert!(parsed.is_valid(), "{row:?}");
                assert_eq!(
                    parsed.format().mode(phonenumber::Mode::E164).to_string(),
                    *e164
                );
                assert_eq!(
                    crate::domain::phone::nanp_e164(&row.phone, phonenumber::country::Id::US),
                    Some(Some(e164.clone()))
                );
            }
            PhoneKind::NotAPhone => {
                assert_eq!(
                    normalize_phone(&row.phone, Region::us()),
                    Some((row.phone.clone(), false))
                );
            }
            _ => {}
        }
    }
    assert!(scripts.len() >= 12, "{scripts:?}");
    assert!(commas > 20 && quotes > 10, "{commas} {quotes}");
    assert!(zip4 > 100 && zip_plus4 > 100, "{zip4} {zip_plus4}");
}
