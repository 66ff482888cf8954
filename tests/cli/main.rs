//! One integration-test crate: every test runs the real `campaign` binary with its own
//! temporary CAMPAIGN_HOME.

mod common;
mod smtp;

mod admins;
mod arch;
mod campaigns;
mod completions;
mod deliver;
mod outbox;
mod paper;
mod realistic;
mod share;
mod signatures;
mod trust_concurrency;
mod trust_csv;
mod trust_deliver;
mod trust_files;
mod trust_output;
