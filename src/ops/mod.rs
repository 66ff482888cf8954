//! The work a command orchestrates, without a terminal: commands gather input and hand
//! what comes back to `ui` and `render`; the layers below (domain, store) do the rules
//! and the storage. Each operation is testable on its own, against an in-memory store.

pub mod deliver;
pub mod entry;
pub mod import;
pub mod invites;
pub mod merge;
pub mod privacy;
pub mod signers;
pub mod team;
