//! PDF documents: paper forms and deliveries.
