//! PDF documents: paper forms and deliveries.

pub mod delivery;
pub mod fonts;
pub mod paper_form;
pub mod text;
pub mod writer;
