//! PDF documents: paper forms and deliveries.

pub mod fonts;
pub mod text;
pub mod paper_form;
