//! Operations: what a command does, apart from gathering its input and showing its
//! results. Each is a plain function over the store and readers or writers, testable
//! without a terminal; `commands/` are short adapters over them.

pub mod import;
