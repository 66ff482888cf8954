//! The petition's own text (title, target, ask, why) in the document's language: the
//! translation organizers store with `campaign edit SLUG --in es`.

use std::path::Path;

use campaign::model::Source;
use campaign::store::NewSignature;

use crate::common::{pdf_text, Home};

const ES_TITLE: &str = "Oakland, ciudad santuario";
const ES_TARGET: &str = "Alcaldesa Barbara Lee";
const ES_ASK: &str = "Declaren Oakland ciudad santuario.";
const ES_WHY: &str = "Nadie debe vivir con miedo.";
const EN_ASK: &str = "Declare Oakland a sanctuary city";

/// A live English campaign with a Spanish translation of its whole text.
fn translated(home: &Home) -> String {
    let slug = home.live_campaign("Make Oakland a sanctuary city");
    home.ok([
        "edit", &slug, "--in", "es", "--title", ES_TITLE, "--target", ES_TARGET, "--ask", ES_ASK,
        "--why", ES_WHY,
    ]);
    slug
}

/// The PDF's text with its whitespace (line breaks included) folded to single spaces.
fn text_of(path: &Path) -> String {
    pdf_text(path)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

fn form(home: &Home, slug: &str, lang: &str) -> String {
    let out = home.ok(["paper-form", slug, "--lang", lang]);
    text_of(Path::new(out.trim()))
}

#[test]
fn a_spanish_paper_form_prints_the_spanish_petition() {
    let home = Home::new();
    let slug = translated(&home);
    let text = form(&home, &slug, "es");
    for es in [ES_TITLE, ES_TARGET, ES_ASK, ES_WHY] {
        assert!(text.contains(es), "no {es:?} in: {text}");
    }
    assert!(!text.contains(EN_ASK), "the English ask in: {text}");
}

#[test]
fn a_paper_form_in_both_languages_prints_both_texts() {
    let home = Home::new();
    let slug = translated(&home);
    let text = form(&home, &slug, "both");
    for t in [
        ES_TITLE,
        ES_ASK,
        ES_WHY,
        "Make Oakland a sanctuary city",
        EN_ASK,
        "Our neighbors should live without fear",
    ] {
        assert!(text.contains(t), "no {t:?} in: {text}");
    }
    // Each text under its own language's labels.
    assert!(text.contains("Why:"), "{text}");
    assert!(text.contains("Por qué:"), "{text}");
}

#[test]
fn without_a_translation_both_languages_print_the_campaigns_text_once() {
    let home = Home::new();
    let slug = home.live_campaign("Make Oakland a sanctuary city");
    let text = form(&home, &slug, "both");
    assert_eq!(text.matches(EN_ASK).count(), 1, "{text}");
    assert_eq!(
        text.matches("Our neighbors should live without fear")
            .count(),
        1,
        "{text}"
    );
}

#[test]
fn a_spanish_delivery_prints_the_spanish_petition() {
    let home = Home::new();
    let slug = translated(&home);
    {
        let mut store = home.store();
        let id = store.find_campaign(&slug).expect("campaign").id;
        store
            .insert_signature(
                id,
                &NewSignature {
                    name: "José Núñez".into(),
                    email: Some("jose@example.org".into()),
                    postcode: Some("94612".into()),
                    source: Some(Source::Paper),
                    dedupe_key: "jose@example.org".into(),
                    ..Default::default()
                },
            )
            .expect("insert")
            .expect("new row");
    }
    let out = home.path().join("entrega.pdf");
    home.ok([
        "deliver",
        &slug,
        "--lang",
        "es",
        "--out",
        out.to_str().unwrap(),
    ]);
    let text = text_of(&out);
    for es in [ES_TITLE, ES_ASK] {
        assert!(text.contains(es), "no {es:?} in: {text}");
    }
    assert!(!text.contains(EN_ASK), "the English ask in: {text}");
}
