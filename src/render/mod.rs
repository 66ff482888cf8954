//! Documents made from model values: PDFs, emails, share texts and share cards.

pub mod card;
pub mod mail;
pub mod pdf;
pub mod share;
