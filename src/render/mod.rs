//! Documents made from model values: PDFs, emails, share texts.

pub mod mail;
pub mod pdf;
pub mod share;
