//! The CLI suite again, against PostgreSQL: the same test files as `tests/cli` (written
//! once), with every `Home` on its own database of a throwaway cluster (see
//! `cli/common.rs`). `cargo test --test cli_pg NAME` runs one test on PostgreSQL only.

include!("cli/main.rs");
