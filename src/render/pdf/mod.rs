//! PDF documents: paper forms and deliveries.

pub mod fonts;
pub mod paper_form;
pub mod text;
