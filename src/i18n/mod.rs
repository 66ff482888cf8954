//! Message catalogs (en, es) for documents, emails and share texts.
