//! Text normalization shared by every input path.
//!
//! Invisible characters that change how text shows instead of what it says are never
//! stored: C0 and C1 control characters (ESC sequences recolor or rewrite a terminal,
//! NUL and DEL confuse other tools) and the bidirectional overrides and isolates
//! (U+202A..U+202E, U+2066..U+2069), which can make a name read as something else.
//! Tab, line feed and carriage return are whitespace, handled as such. Campaign text
//! has them stripped ([`clean`]); signer fields refuse them (see `domain::signer`), so a
//! volunteer sees the row and retypes it rather than the tool guessing.

use std::borrow::Cow;

use unicode_normalization::UnicodeNormalization;

/// True for a character that is never stored: a C0/C1 control other than tab, line feed
/// and carriage return, or a bidirectional override or isolate.
pub fn is_unsafe(c: char) -> bool {
    (c.is_control() && !matches!(c, '\t' | '\n' | '\r'))
        || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// Whether `input` holds a character [`is_unsafe`] refuses. A byte scan with no
/// allocation: it runs on every field of a million-row import.
pub fn has_unsafe(input: &str) -> bool {
    let b = input.as_bytes();
    b.iter().enumerate().any(|(i, &x)| match x {
        0x00..=0x08 | 0x0b | 0x0c | 0x0e..=0x1f | 0x7f => true,
        // C1 controls: U+0080..U+009F.
        0xc2 => matches!(b.get(i + 1), Some(0x80..=0x9f)),
        // U+202A..U+202E and U+2066..U+2069.
        0xe2 => matches!(
            (b.get(i + 1), b.get(i + 2)),
            (Some(0x80), Some(0xaa..=0xae)) | (Some(0x81), Some(0xa6..=0xa9))
        ),
        _ => false,
    })
}

/// The unsafe characters of `input`, named for a message (`U+001B`), at most a few.
pub fn describe_unsafe(input: &str) -> String {
    let mut seen: Vec<char> = Vec::new();
    for c in input.chars().filter(|&c| is_unsafe(c)) {
        if !seen.contains(&c) {
            seen.push(c);
        }
        if seen.len() == 4 {
            break;
        }
    }
    let names: Vec<String> = seen
        .iter()
        .map(|c| format!("U+{:04X}", *c as u32))
        .collect();
    names.join(", ")
}

/// `input` without the characters [`is_unsafe`] refuses.
pub fn strip_unsafe(input: &str) -> Cow<'_, str> {
    if has_unsafe(input) {
        Cow::Owned(input.chars().filter(|&c| !is_unsafe(c)).collect())
    } else {
        Cow::Borrowed(input)
    }
}

/// Trims, collapses inner runs of whitespace to one space, drops unsafe characters (see
/// [`is_unsafe`]) and NFC-normalizes, so that the same name typed twice is stored the
/// same way. Never changes letters otherwise.
pub fn clean(input: &str) -> String {
    let input = strip_unsafe(input);
    let mut out = String::with_capacity(input.len());
    for word in input.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    out.nfc().collect()
}

/// Like [`clean`] but keeps line breaks (for multi-paragraph fields such as "why").
pub fn clean_multiline(input: &str) -> String {
    let lines: Vec<String> = input.trim().lines().map(clean).collect();
    let mut out = lines.join("\n");
    while out.contains("\n\n\n") {
        out = out.replace("\n\n\n", "\n\n");
    }
    out
}

/// Cleans an optional field: empty becomes `None`.
pub fn clean_opt(input: Option<&str>) -> Option<String> {
    input.map(clean).filter(|s| !s.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clean_keeps_letters_and_composes() {
        // "e" + combining circumflex + combining tilde -> precomposed "ễ"
        assert_eq!(clean("  Nguye\u{0302}\u{0303}n   Thị  "), "Nguyễn Thị");
        assert_eq!(clean("محمد  الأحمد"), "محمد الأحمد");
        assert_eq!(clean("李娜"), "李娜");
        assert_eq!(clean_multiline(" a \n\n\n\n b "), "a\n\nb");
        assert_eq!(clean_opt(Some("   ")), None);
    }

    #[test]
    fn controls_and_bidi_overrides_are_dropped_and_newlines_kept_where_asked() {
        assert_eq!(clean("\u{1b}[31mOakland\u{1b}[0m"), "[31mOakland[0m");
        assert_eq!(clean("Sanctuary\u{202E}won\u{2066}"), "Sanctuarywon");
        assert_eq!(clean("a\u{0}b\u{7f}c\u{85}d\u{9b}e"), "abcde");
        assert_eq!(
            clean_multiline("First\u{7}\r\nsecond \u{1b}line\n\n\nthird"),
            "First\nsecond line\n\nthird"
        );
        // Letters, marks and joiners that scripts need stay.
        for kept in ["محمد\u{200c}علی", "\u{200f}שלום", "👩\u{200d}👩", "አበበ ቢቂላ"]
        {
            assert_eq!(clean(kept), kept);
            assert!(!has_unsafe(kept));
        }
    }

    #[test]
    fn the_byte_scan_agrees_with_the_character_rule() {
        for c in (0..0x3000u32).filter_map(char::from_u32) {
            let s = format!("a{c}b");
            assert_eq!(has_unsafe(&s), is_unsafe(c), "U+{:04X}", c as u32);
        }
        assert_eq!(describe_unsafe("\u{1b}x\u{1b}\u{202e}"), "U+001B, U+202E");
    }
}
