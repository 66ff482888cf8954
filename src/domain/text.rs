//! Text normalization shared by every input path.

use unicode_normalization::UnicodeNormalization;

/// Trims, collapses inner runs of whitespace to one space and NFC-normalizes, so that
/// the same name typed twice is stored the same way. Never changes letters otherwise.
pub fn clean(input: &str) -> String {
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
}
