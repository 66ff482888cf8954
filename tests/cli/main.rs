//! One integration-test crate: every test runs the real `campaign` binary with its own
//! temporary CAMPAIGN_HOME.

mod common;

mod campaigns;
mod completions;
mod deliver;
mod paper;
mod share;
mod signatures;
