// One integration-test crate: every test runs the real `campaign` binary with its own
// temporary CAMPAIGN_HOME. Compiled twice: as `cli` (SQLite) and, through
// `tests/cli_pg.rs`, as `cli_pg` (PostgreSQL); see `common.rs`. Plain comments, not
// `//!`: this file is also `include!`d.

mod common;
mod pg_cluster;
mod smtp;

mod admins;
mod arch;
mod campaigns;
mod completions;
mod deliver;
mod documents;
mod encryption;
mod entry_flies;
mod merge;
mod outbox;
mod paper;
mod postgres;
mod privacy;
mod realistic;
mod rough_edges;
mod share;
mod signatures;
mod signer;
mod team;
mod translated_documents;
mod trust_concurrency;
mod trust_csv;
mod trust_deliver;
mod trust_files;
mod trust_output;
