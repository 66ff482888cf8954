//! Paper sheet ids: a prefix from the campaign's slug and a number (`OAK-0007`), so each
//! typed row traces back to its sheet and a mistyped id is caught. The store numbers
//! them; the naming rule is here.

/// "oakland-sanctuary" -> "OAK"; short or non-letter slugs are padded with X.
pub fn prefix(slug: &str) -> String {
    let mut prefix: String = slug
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .take(3)
        .collect::<String>()
        .to_ascii_uppercase();
    while prefix.len() < 3 {
        prefix.push('X');
    }
    prefix
}

#[cfg(test)]
mod tests {
    #[test]
    fn prefixes() {
        assert_eq!(super::prefix("oakland-sanctuary"), "OAK");
        assert_eq!(super::prefix("li-na"), "LIN");
        assert_eq!(super::prefix("a"), "AXX");
    }
}
