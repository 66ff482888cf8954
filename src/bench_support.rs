//! A deterministic generator of realistic signers, shared by the import benchmark and
//! the tests: names from many languages, about 2% duplicate emails differing only in
//! case or surrounding spaces, about 0.5% invalid rows. Same seed, same file, always.

use std::io::Write;

/// Given names and family names by language, with an ASCII handle for emails.
const PEOPLE: &[(&[&str], &[&str], &str)] = &[
    (
        &[
            "María José",
            "Juan Carlos",
            "Guadalupe",
            "Alejandro",
            "Lucía",
        ],
        &["García", "Hernández", "López", "Martínez", "Ramírez"],
        "es",
    ),
    (
        &["Thị Minh Khai", "Văn An", "Thu Hà", "Quốc Bảo", "Ngọc Lan"],
        &["Nguyễn", "Trần", "Lê", "Phạm", "Huỳnh"],
        "vn",
    ),
    (
        &["محمد", "فاطمة", "أحمد", "ليلى", "يوسف"],
        &["الأحمد", "الحسن", "العلي", "منصور", "حداد"],
        "ar",
    ),
    (
        &["娜", "伟", "敏", "静", "磊"],
        &["李", "王", "张", "刘", "陈"],
        "zh",
    ),
    (
        &["Cabdi", "Faadumo", "Maxamed", "Hodan", "Xasan"],
        &["Cali", "Warsame", "Xuseen", "Jaamac", "Faarax"],
        "so",
    ),
    (
        &["Wideline", "Fritznel", "Jean-Baptiste", "Nadège", "Wisly"],
        &["Pierre", "Joseph", "Désir", "Louis", "Célestin"],
        "ht",
    ),
    (
        &["Mary", "James", "O'Brien", "Aisha", "Tom"],
        &["Smith", "Johnson", "Williams", "Brown", "Lee"],
        "en",
    ),
];
const DOMAINS: &[&str] = &[
    "gmail.com",
    "yahoo.com",
    "outlook.com",
    "example.org",
    "riseup.net",
];

/// What a generated file holds, so callers can check an import's counts exactly.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Generated {
    pub rows: u64,
    pub duplicates: u64,
    pub invalid: u64,
}

impl Generated {
    pub fn valid_unique(&self) -> u64 {
        self.rows - self.duplicates - self.invalid
    }
}

fn mix(mut z: u64) -> u64 {
    // splitmix64: a good stateless mix, so row i's fate depends on i alone.
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Fresh,
    Duplicate,
    Invalid,
}

fn kind(seed: u64, i: u64) -> Kind {
    match mix(seed ^ i.wrapping_mul(3)) % 1000 {
        0..=4 => Kind::Invalid,
        5..=24 => Kind::Duplicate,
        _ => Kind::Fresh,
    }
}

fn email_of(seed: u64, i: u64) -> String {
    let r = mix(seed.wrapping_add(i));
    let handle = PEOPLE[(r % PEOPLE.len() as u64) as usize].2;
    format!(
        "{handle}.{i}@{}",
        DOMAINS[((r >> 8) % DOMAINS.len() as u64) as usize]
    )
}

/// Writes signers `start .. start + count` as CSV (with a header) and says what it wrote.
/// Rows of disjoint ranges never share an email except through the duplicates, which
/// copy an earlier row (possibly of an earlier range) with another case or spaces.
pub fn write_signers_csv<W: Write>(
    out: W,
    seed: u64,
    start: u64,
    count: u64,
) -> csv::Result<Generated> {
    let mut w = csv::Writer::from_writer(out);
    w.write_record(["name", "email", "zip", "phone", "opt_in", "private"])?;
    let mut g = Generated::default();
    for i in start..start + count {
        let r = mix(seed ^ (i << 1) ^ 0x5151);
        let (given, family, _) = PEOPLE[(mix(seed.wrapping_add(i)) % PEOPLE.len() as u64) as usize];
        let first = given[(r % given.len() as u64) as usize];
        let last = family[((r >> 8) % family.len() as u64) as usize];
        let mut name = if family[0] == "李" {
            format!("{last}{first}")
        } else {
            format!("{first} {last}")
        };
        if r % 97 == 0 {
            // A spreadsheet habit: "Family, Given" (quoted by the writer).
            name = format!("{last}, {first}");
        }
        let zip = format!("{:05}", (r >> 16) % 99_950 + 1_000);
        let phone = if (r >> 40) % 10 < 3 {
            format!("(510) 555-{:04}", (r >> 20) % 10_000)
        } else {
            String::new()
        };
        let opt_in = if (r >> 44) % 10 < 4 { "yes" } else { "" };
        let private = if (r >> 48) % 10 == 0 { "yes" } else { "" };
        let mut email = email_of(seed, i);
        match kind(seed, i) {
            Kind::Fresh => {}
            Kind::Invalid => {
                g.invalid += 1;
                email = email.replace('@', " at ");
            }
            Kind::Duplicate => {
                // Copy an earlier fresh row's email, shouted or padded.
                let mut j = (r >> 24) % i.max(1);
                while j > 0 && kind(seed, j) != Kind::Fresh {
                    j -= 1;
                }
                if j < i && kind(seed, j) == Kind::Fresh {
                    g.duplicates += 1;
                    let earlier = email_of(seed, j);
                    email = if r % 2 == 0 {
                        earlier.to_uppercase()
                    } else {
                        format!("  {earlier} ")
                    };
                }
            }
        }
        g.rows += 1;
        w.write_record([name.as_str(), &email, &zip, &phone, opt_in, private])?;
    }
    w.flush()?;
    Ok(g)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generator_is_deterministic_with_the_promised_mix() {
        let mut a = Vec::new();
        let mut b = Vec::new();
        let ga = write_signers_csv(&mut a, 7, 0, 20_000).unwrap();
        let gb = write_signers_csv(&mut b, 7, 0, 20_000).unwrap();
        assert_eq!(a, b);
        assert_eq!(ga, gb);
        let dup = ga.duplicates as f64 / ga.rows as f64;
        let bad = ga.invalid as f64 / ga.rows as f64;
        assert!((0.015..0.025).contains(&dup), "{dup}");
        assert!((0.003..0.007).contains(&bad), "{bad}");
        let text = String::from_utf8(a).unwrap();
        assert!(text.contains("Nguyễn") && text.contains("محمد") && text.contains("Cabdi"));
    }
}
