//! Slugs: short ASCII names for campaigns, folded from the title.

/// Longest slug we make, in bytes; long titles are cut at a word boundary.
const MAX_LEN: usize = 60;

/// "Hacer de Oakland una ciudad santuario" -> `hacer-de-oakland-una-ciudad-santuario`.
/// Any script is folded to ASCII (李娜 -> `li-na`); a title with nothing foldable gives
/// `campaign`.
pub fn slugify(title: &str) -> String {
    let folded = deunicode::deunicode(title).to_ascii_lowercase();
    let mut slug = String::with_capacity(folded.len());
    for c in folded.chars() {
        if c.is_ascii_alphanumeric() {
            slug.push(c);
        } else if !slug.ends_with('-') && !slug.is_empty() {
            slug.push('-');
        }
    }
    let mut slug = slug.trim_end_matches('-').to_string();
    if slug.len() > MAX_LEN {
        let cut = slug[..MAX_LEN].rfind('-').unwrap_or(MAX_LEN);
        slug.truncate(cut);
    }
    if slug.is_empty() || slug.chars().all(|c| c.is_ascii_digit()) {
        // A numeric slug would be mistaken for an id.
        slug = if slug.is_empty() {
            "campaign".into()
        } else {
            format!("campaign-{slug}")
        };
    }
    slug
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_every_script_to_ascii() {
        assert_eq!(
            slugify("Hacer de Oakland una ciudad santuario"),
            "hacer-de-oakland-una-ciudad-santuario"
        );
        assert_eq!(
            slugify("¡Oakland, Ciudad Santuario!"),
            "oakland-ciudad-santuario"
        );
        assert_eq!(
            slugify("Thành phố trú ẩn Sài Gòn"),
            "thanh-pho-tru-an-sai-gon"
        );
        for title in ["مدينة ملاذ", "李娜的校园", "Νέα", "Убежище"] {
            let slug = slugify(title);
            assert!(slug.is_ascii() && !slug.is_empty(), "{title} -> {slug}");
        }
        assert_eq!(slugify("!!!"), "campaign");
        assert_eq!(slugify("2026"), "campaign-2026");
        assert!(slugify(&"word ".repeat(40)).len() <= MAX_LEN);
    }
}
