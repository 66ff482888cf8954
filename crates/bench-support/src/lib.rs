//! Deterministic generators of signers, shared by the import benchmark and the tests.
//! Same seed, same file, always. A dev-only crate (never published, never part of
//! `campaign`'s library): it knows nothing of campaign, so the checks of its rows against
//! campaign's own rules (dedupe keys, names, phones) are campaign's tests
//! (`ops::import::test_data`).
//!
//! - [`write_realistic_csv`]: files that look like real ones (see [`Realistic`]); what the
//!   benchmark measures and the import's counts are locked on.
//! - [`write_signers_csv`]: the older, simpler file (names from seven languages, a phone
//!   on 30% of rows, emails in file order, duplicates only after their original).

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
    /// Rows whose signer is already in the campaign or elsewhere in the file.
    pub duplicates: u64,
    /// Rows the import must reject.
    pub invalid: u64,
    /// Valid rows without an email (deduplicated by name and ZIP+4); realistic files only.
    pub without_email: u64,
    /// Phones by kind; realistic files only.
    pub phones_nanp: u64,
    pub phones_foreign: u64,
    pub phones_garbage: u64,
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

/// Given names and family names in many scripts (all NFC), and how a name is put
/// together: `true` for family name first without a space (李娜, 김민준, 佐藤花子).
const CULTURES: &[(&[&str], &[&str], NameOrder)] = &[
    (
        &[
            "María José",
            "Juan Carlos",
            "Guadalupe",
            "Alejandro",
            "Lucía",
            "José Luis",
            "Ximena",
        ],
        &[
            "García",
            "Hernández",
            "López",
            "Martínez",
            "Ramírez",
            "Núñez",
            "Peña",
        ],
        NameOrder::GivenFamily,
    ),
    (
        &["Thị Minh Khai", "Văn An", "Thu Hà", "Quốc Bảo", "Ngọc Lan"],
        &["Nguyễn", "Trần", "Lê", "Phạm", "Huỳnh"],
        NameOrder::FamilyGiven,
    ),
    (
        &["محمد", "فاطمة", "أحمد", "ليلى", "يوسف"],
        &["الأحمد", "الحسن", "العلي", "منصور", "حداد"],
        NameOrder::GivenFamily,
    ),
    (
        &["娜", "伟", "敏", "静", "磊", "秀英"],
        &["李", "王", "张", "刘", "陈", "欧阳"],
        NameOrder::FamilyGivenJoined,
    ),
    (
        &["Cabdi", "Faadumo", "Maxamed", "Hodan", "Xasan"],
        &["Cali", "Warsame", "Xuseen", "Jaamac", "Faarax"],
        NameOrder::GivenFamily,
    ),
    (
        &["Wideline", "Fritznel", "Jean-Baptiste", "Nadège", "Wisly"],
        &["Pierre", "Joseph", "Désir", "Louis", "Célestin"],
        NameOrder::GivenFamily,
    ),
    (
        &["Mary", "James", "Aisha", "Tom", "Siobhán"],
        &["Smith", "O'Brien", "Williams", "Brown", "Lee"],
        NameOrder::GivenFamily,
    ),
    (
        &["አበበ", "ሰላም", "ትዕግስት", "ዮሐንስ", "መሰረት"],
        &["ቢቂላ", "ገብረ", "ታደሰ", "ወልደ", "ተስፋዬ"],
        NameOrder::GivenFamily,
    ),
    (
        &["राहुल", "प्रिया", "अमित", "सुनीता", "अर्जुन"],
        &["शर्मा", "वर्मा", "गुप्ता", "सिंह", "पटेल"],
        NameOrder::GivenFamily,
    ),
    (
        &["Олена", "Андрій", "Наталья", "Дмитрий", "Ірина"],
        &["Шевченко", "Коваленко", "Иванова", "Петров", "Бондаренко"],
        NameOrder::GivenFamily,
    ),
    (
        &["민준", "서연", "지훈", "하은", "도윤"],
        &["김", "이", "박", "최", "정"],
        NameOrder::FamilyGivenJoined,
    ),
    (
        &["דוד", "שרה", "יוסף", "רחל", "משה"],
        &["כהן", "לוי", "מזרחי", "פרץ", "ביטון"],
        NameOrder::GivenFamily,
    ),
    (
        &["Γιώργος", "Μαρία", "Νίκος", "Ελένη", "Δημήτρης"],
        &[
            "Παπαδόπουλος",
            "Παππάς",
            "Οικονόμου",
            "Γεωργίου",
            "Νικολάου",
        ],
        NameOrder::GivenFamily,
    ),
    (
        &["Արամ", "Անի", "Գոռ", "Նարինե", "Տիգրան"],
        &["Պետրոսյան", "Հակոբյան", "Սարգսյան", "Գրիգորյան"],
        NameOrder::GivenFamily,
    ),
    (
        &["Maria Cristina", "Jose", "Ligaya", "Dakila", "Rosario"],
        &["dela Cruz", "Santos", "Reyes", "Bautista", "Villanueva"],
        NameOrder::GivenFamily,
    ),
    (
        &["پریسا", "علی", "مریم", "رضا", "نگین"],
        &["رضایی", "محمدی", "حسینی", "کریمی"],
        NameOrder::GivenFamily,
    ),
    (
        &["ਗੁਰਪ੍ਰੀਤ", "ਹਰਜੀਤ", "ਮਨਪ੍ਰੀਤ"],
        &["ਸਿੰਘ", "ਕੌਰ", "ਗਿੱਲ"],
        NameOrder::GivenFamily,
    ),
    (
        &["សុខា", "ដារ៉ា", "ចាន់ធី"],
        &["សុខ", "ចាន់", "ហេង"],
        NameOrder::FamilyGiven,
    ),
    (
        &["花子", "さくら", "ゆうと", "健太"],
        &["佐藤", "鈴木", "高橋", "田中"],
        NameOrder::FamilyGivenJoined,
    ),
    (
        &["สมชาย", "สุดา", "วิชัย"],
        &["ใจดี", "ศรีสุข", "สุขสวัสดิ์"],
        NameOrder::GivenFamily,
    ),
    (
        &["ნინო", "გიორგი", "თამარ"],
        &["ბერიძე", "კაპანაძე", "გელაშვილი"],
        NameOrder::GivenFamily,
    ),
    (
        &["রহিম", "ফাতেমা", "সুমন"],
        &["হোসেন", "আহমেদ", "চৌধুরী"],
        NameOrder::GivenFamily,
    ),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum NameOrder {
    GivenFamily,
    FamilyGiven,
    FamilyGivenJoined,
}

/// Mail domains, the common ones several times (weights by repetition).
const MAIL_DOMAINS: &[&str] = &[
    "gmail.com",
    "gmail.com",
    "gmail.com",
    "gmail.com",
    "gmail.com",
    "yahoo.com",
    "yahoo.com",
    "hotmail.com",
    "outlook.com",
    "icloud.com",
    "aol.com",
    "comcast.net",
    "sbcglobal.net",
    "riseup.net",
    "protonmail.com",
    "example.org",
];

/// Area codes people in a California campaign have (and some from elsewhere), each a
/// valid US area code for the `phonenumber` crate with any exchange 200-999.
const AREA_CODES: &[u16] = &[
    510, 415, 925, 408, 650, 707, 209, 916, 323, 213, 310, 818, 619, 714, 909, 559, 831, 530, 661,
    760, 805, 949, 951, 562, 626, 669, 628, 341, 424, 442, 657, 747, 279, 350, 212, 718, 305, 713,
    312, 773,
];

/// The ways people write `+1 AAA EEE LLLL` (weights by repetition).
const NANP_SHAPES: &[&str] = &[
    "(AAA) EEE-LLLL",
    "(AAA) EEE-LLLL",
    "(AAA) EEE-LLLL",
    "(AAA) EEE-LLLL",
    "AAA-EEE-LLLL",
    "AAA-EEE-LLLL",
    "AAA-EEE-LLLL",
    "AAAEEELLLL",
    "AAAEEELLLL",
    "AAA.EEE.LLLL",
    "AAA EEE LLLL",
    "+1 AAA EEE LLLL",
    "+1 AAA EEE LLLL",
    "1AAAEEELLLL",
    "+1AAAEEELLLL",
    "1-AAA-EEE-LLLL",
    "+1 (AAA) EEE-LLLL",
];

/// Numbers abroad: each `X` is a digit; every template has eight.
const FOREIGN_SHAPES: &[&str] = &[
    "+52 55 XXXX XXXX",
    "+44 20 XXXX XXXX",
    "+509 XXXX XXXX",
    "+503 XXXX XXXX",
    "+502 XXXX XXXX",
    "+234 80 XXXX XXXX",
];

/// What people write in a phone box when it is not a phone.
const NOT_PHONES: &[&str] = &[
    "call me",
    "555-CASA",
    "n/a",
    "none",
    "ask at church",
    "510-555",
    "same as above",
    "whatsapp only",
    "no tengo",
];

/// What becomes of one generated row on import.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RowKind {
    /// A new signer with an email of their own.
    Fresh,
    /// A new signer without email: one by name and ZIP+4.
    NoEmail,
    /// The same signer as row `of` (their email in another case or with spaces): in the
    /// campaign already when `of` comes before the file, else whichever of the two comes
    /// first in the file is added and the other is the duplicate.
    Copy { of: u64 },
    /// Refused: an email without `@`, a blank name, or neither email nor ZIP.
    Invalid,
}

/// A phone as generated, and what the import stores for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PhoneKind {
    /// A valid US number in one of the shapes people type: stored as this E.164.
    Nanp(String),
    /// A number abroad: stored as the crate reads it.
    Foreign,
    /// Not a phone: kept as written.
    NotAPhone,
}

/// One generated row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    pub index: u64,
    pub kind: RowKind,
    pub name: String,
    pub email: String,
    pub zip: String,
    pub phone: String,
    pub phone_kind: PhoneKind,
    pub opt_in: &'static str,
    pub private: &'static str,
}

/// The realistic generator: rows `0..bound` of one campaign's history, each decided by
/// the seed and its index alone, so a file of rows `start..start + count` is imported
/// into a campaign already holding rows `0..start` (from earlier files).
///
/// - Every row has a phone, all different: 95% valid US numbers in the shapes people type
///   (`(510) 555-0142`, `510.555.0142`, `+1 510 555 0142`, `15105550142`, ...), 3% numbers
///   abroad, 2% not a phone (`call me`, `555-CASA`).
/// - Emails are all different apart from the copies, and in random order (their first
///   letters follow the name, an index-free token follows).
/// - 3% of rows copy an earlier or later signer's email (shouted, capitalized or padded
///   with spaces), anywhere in the campaign's history, 2% have no email (a unique ZIP+4),
///   0.5% are invalid.
/// - ZIPs: 5 digits, ZIP+4, and some 4-digit ones (a spreadsheet dropped the 0).
/// - Names from 22 cultures in 16 scripts, with diacritics, a few as `Family, Given`
///   (quoted by the writer) and a few with quotes inside.
#[derive(Debug, Clone)]
pub struct Realistic {
    seed: u64,
    bound: u64,
    /// The ASCII email handles of each culture's given and family names.
    handles: Vec<(Vec<String>, Vec<String>)>,
}

/// Rows a seed can make before tokens, phones or ZIP+4s would repeat.
pub const REALISTIC_MAX_ROWS: u64 = 1 << 24;

/// An invertible mix of `bits`-bit numbers: distinct inputs, distinct outputs.
fn permute(x: u64, seed: u64, bits: u32) -> u64 {
    let mask = (1u64 << bits) - 1;
    let mut x = (x ^ seed) & mask;
    for k in [
        0x9E37_79B9_7F4A_7C15u64,
        0xBF58_476D_1CE4_E5B9,
        0x94D0_49BB_1331_11EB,
    ] {
        x = x.wrapping_mul(k | 1) & mask;
        x ^= x >> (bits / 2 + 1);
    }
    x
}

fn ascii_handle(text: &str) -> String {
    let handle: String = deunicode::deunicode(text)
        .chars()
        .filter(char::is_ascii_alphabetic)
        .map(|c| c.to_ascii_lowercase())
        .collect();
    if handle.is_empty() {
        "x".into()
    } else {
        handle
    }
}

impl Realistic {
    /// Rows `0..bound` with this seed.
    pub fn new(seed: u64, bound: u64) -> Realistic {
        assert!(
            bound <= REALISTIC_MAX_ROWS,
            "at most {REALISTIC_MAX_ROWS} rows"
        );
        let handles = CULTURES
            .iter()
            .map(|(given, family, _)| {
                (
                    given.iter().map(|g| ascii_handle(g)).collect(),
                    family.iter().map(|f| ascii_handle(f)).collect(),
                )
            })
            .collect();
        Realistic {
            seed,
            bound,
            handles,
        }
    }

    fn random(&self, i: u64, salt: u64) -> u64 {
        mix(mix(self.seed ^ salt).wrapping_add(i))
    }

    /// The row's fate, from its index alone (not the bound).
    fn fate(&self, i: u64) -> u64 {
        self.random(i, 0xFA7E) % 1000
    }

    pub fn kind(&self, i: u64) -> RowKind {
        match self.fate(i) {
            0..=4 => RowKind::Invalid,
            5..=34 => {
                // Any signer with an email of their own, before or after this row.
                let start = self.random(i, 0xC0B7) % self.bound;
                (0..self.bound)
                    .map(|k| (start + k) % self.bound)
                    .find(|&of| of != i && self.fate(of) >= 55)
                    .map_or(RowKind::Fresh, |of| RowKind::Copy { of })
            }
            35..=54 => RowKind::NoEmail,
            _ => RowKind::Fresh,
        }
    }

    fn name(&self, i: u64) -> String {
        let r = self.random(i, 0x4A3E);
        let culture = (r % CULTURES.len() as u64) as usize;
        let (given, family, order) = CULTURES[culture];
        let first = given[((r >> 8) % given.len() as u64) as usize];
        let last = family[((r >> 16) % family.len() as u64) as usize];
        match (order, (r >> 24) % 200) {
            // A spreadsheet habit: "Family, Given" (the writer quotes it).
            (NameOrder::GivenFamily, 0..=1) => format!("{last}, {first}"),
            (NameOrder::GivenFamily, 2) => {
                let nickname: String = first.chars().take(3).collect();
                format!("{first} \"{nickname}\" {last}")
            }
            (NameOrder::GivenFamily, _) => format!("{first} {last}"),
            (NameOrder::FamilyGiven, _) => format!("{last} {first}"),
            (NameOrder::FamilyGivenJoined, _) => format!("{last}{first}"),
        }
    }

    /// The email of a row with one of its own: the name's letters, then a token unique to
    /// the row (the only digits in the address, so no two rows share one).
    fn own_email(&self, i: u64) -> String {
        let r = self.random(i, 0x4A3E);
        let culture = (r % CULTURES.len() as u64) as usize;
        let (given, family) = &self.handles[culture];
        let g = &given[((r >> 8) % given.len() as u64) as usize];
        let f = &family[((r >> 16) % family.len() as u64) as usize];
        let token = permute(i, self.seed, 24);
        let s = self.random(i, 0xE3A1);
        let domain = MAIL_DOMAINS[((s >> 8) % MAIL_DOMAINS.len() as u64) as usize];
        match s % 5 {
            0 => format!("{g}.{f}{token}@{domain}"),
            1 => format!("{g}{f}{token}@{domain}"),
            2 => format!("{}{f}{token}@{domain}", &g[..1]),
            3 => format!("{g}_{f}{token}@{domain}"),
            _ => format!("{f}.{g}{token}@{domain}"),
        }
    }

    fn zip(&self, i: u64) -> String {
        let r = self.random(i, 0x21B);
        let zip5 = 90_000 + (r >> 8) % 6_200;
        match r % 20 {
            0..=2 => format!("{zip5}-{:04}", (r >> 24) % 10_000),
            // New England ZIPs after a spreadsheet dropped the leading 0.
            3 => format!("{}", 1_000 + (r >> 8) % 8_999),
            _ => format!("{zip5}"),
        }
    }

    /// A ZIP+4 no other row has.
    fn unique_zip4(&self, i: u64) -> String {
        let v = permute(i, self.seed ^ 0x2194, 29);
        format!("{}-{:04}", 10_000 + v / 10_000, v % 10_000)
    }

    fn phone(&self, i: u64) -> (String, PhoneKind) {
        let r = self.random(i, 0x7E1);
        match r % 100 {
            0..=2 => {
                let shape = FOREIGN_SHAPES[((r >> 8) % FOREIGN_SHAPES.len() as u64) as usize];
                // Distinct for distinct rows: 12345679 is prime to 10.
                let digits = format!("{:08}", (i * 12_345_679 + 7) % 100_000_000);
                let mut digits = digits.chars();
                let phone = shape
                    .chars()
                    .map(|c| if c == 'X' { digits.next().unwrap() } else { c })
                    .collect();
                (phone, PhoneKind::Foreign)
            }
            3..=4 => {
                let text = NOT_PHONES[((r >> 8) % NOT_PHONES.len() as u64) as usize];
                (text.to_string(), PhoneKind::NotAPhone)
            }
            _ => {
                // Area code, exchange and line from a permutation of the index: distinct.
                let j = permute(i, self.seed ^ 0x9E0, 28);
                let area = AREA_CODES[(j % AREA_CODES.len() as u64) as usize];
                let rest = j / AREA_CODES.len() as u64;
                let exchange = 200 + rest % 800;
                let line = rest / 800;
                let shape = NANP_SHAPES[((r >> 8) % NANP_SHAPES.len() as u64) as usize];
                let phone = shape
                    .replace("AAA", &area.to_string())
                    .replace("EEE", &exchange.to_string())
                    .replace("LLLL", &format!("{line:04}"));
                (
                    phone,
                    PhoneKind::Nanp(format!("+1{area}{exchange}{line:04}")),
                )
            }
        }
    }

    /// Row `i` (below the bound).
    pub fn row(&self, i: u64) -> Row {
        let kind = self.kind(i);
        let r = self.random(i, 0x0F7);
        let (phone, phone_kind) = self.phone(i);
        let opt_in = match r % 20 {
            0..=8 => "yes",
            9..=10 => "Y",
            11 => "sí",
            _ => "",
        };
        let private = if (r >> 8) % 12 == 0 { "yes" } else { "" };
        let (name, email, zip) = match kind {
            RowKind::Fresh => (self.name(i), self.own_email(i), self.zip(i)),
            RowKind::NoEmail => (self.name(i), String::new(), self.unique_zip4(i)),
            RowKind::Copy { of } => {
                let original = self.own_email(of);
                let email = match (r >> 16) % 4 {
                    0 => original.to_uppercase(),
                    1 => {
                        let mut chars = original.chars();
                        let first = chars.next().unwrap().to_ascii_uppercase();
                        format!("{first}{}", chars.as_str())
                    }
                    2 => format!("  {original} "),
                    _ => {
                        let (local, domain) = original.split_once('@').unwrap();
                        format!("{local}@{}", domain.to_uppercase())
                    }
                };
                let name = if (r >> 20) % 3 == 0 {
                    format!(" {} ", self.name(of))
                } else {
                    self.name(of)
                };
                (name, email, self.zip(of))
            }
            RowKind::Invalid => match (r >> 16) % 3 {
                0 => (
                    self.name(i),
                    self.own_email(i).replace('@', " at "),
                    self.zip(i),
                ),
                1 => ("  ".to_string(), self.own_email(i), self.zip(i)),
                _ => (self.name(i), String::new(), String::new()),
            },
        };
        Row {
            index: i,
            kind,
            name,
            email,
            zip,
            phone,
            phone_kind,
            opt_in,
            private,
        }
    }
}

/// Writes realistic rows `start .. start + count` (see [`Realistic`]) as CSV with a
/// header, for a campaign already holding rows `0..start`, and says what it wrote.
pub fn write_realistic_csv<W: Write>(
    out: W,
    seed: u64,
    start: u64,
    count: u64,
) -> csv::Result<Generated> {
    let gen = Realistic::new(seed, start + count);
    let mut w = csv::WriterBuilder::new()
        .buffer_capacity(1 << 16)
        .from_writer(out);
    w.write_record(["name", "email", "zip", "phone", "opt_in", "private"])?;
    let mut g = Generated::default();
    for i in start..start + count {
        let row = gen.row(i);
        g.rows += 1;
        match row.kind {
            RowKind::Fresh => {}
            RowKind::NoEmail => g.without_email += 1,
            RowKind::Copy { .. } => g.duplicates += 1,
            RowKind::Invalid => g.invalid += 1,
        }
        match row.phone_kind {
            PhoneKind::Nanp(_) => g.phones_nanp += 1,
            PhoneKind::Foreign => g.phones_foreign += 1,
            PhoneKind::NotAPhone => g.phones_garbage += 1,
        }
        w.write_record([
            row.name.as_str(),
            &row.email,
            &row.zip,
            &row.phone,
            row.opt_in,
            row.private,
        ])?;
    }
    w.flush()?;
    Ok(g)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn realistic(start: u64, count: u64) -> (Vec<u8>, Generated) {
        let mut out = Vec::new();
        let g = write_realistic_csv(&mut out, 11, start, count).unwrap();
        (out, g)
    }

    #[test]
    fn realistic_files_are_deterministic_and_say_what_they_hold() {
        let (a, ga) = realistic(5_000, 20_000);
        let (b, gb) = realistic(5_000, 20_000);
        assert_eq!(a, b);
        assert_eq!(ga, gb);
        let share = |n: u64| n as f64 / ga.rows as f64;
        assert_eq!(ga.rows, 20_000);
        assert!((0.02..0.05).contains(&share(ga.duplicates)), "{ga:?}");
        assert!((0.003..0.007).contains(&share(ga.invalid)), "{ga:?}");
        assert!((0.01..0.03).contains(&share(ga.without_email)), "{ga:?}");
        assert!((0.92..0.97).contains(&share(ga.phones_nanp)), "{ga:?}");
        assert!((0.02..0.04).contains(&share(ga.phones_foreign)), "{ga:?}");
        assert!((0.01..0.03).contains(&share(ga.phones_garbage)), "{ga:?}");
        // What the writer wrote is what `Realistic::row` says, row by row.
        let gen = Realistic::new(11, 25_000);
        let mut reader = csv::Reader::from_reader(a.as_slice());
        let mut n = 5_000;
        for record in reader.records() {
            let record = record.unwrap();
            let row = gen.row(n);
            assert_eq!(
                record.iter().collect::<Vec<_>>(),
                [
                    row.name.as_str(),
                    &row.email,
                    &row.zip,
                    &row.phone,
                    row.opt_in,
                    row.private
                ]
            );
            n += 1;
        }
        assert_eq!(n, 25_000);
    }

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
