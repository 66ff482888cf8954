//! Documents made from model values: PDFs, emails, share texts.

pub mod pdf;
