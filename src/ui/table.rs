//! Tables for humans (comfy-table), sized to the terminal and colorless under NO_COLOR.
//! Every cell is sanitized as it goes in, so hostile text can neither reach the terminal
//! nor break the columns' alignment.

use std::fmt;

use comfy_table::presets::UTF8_FULL_CONDENSED;
use comfy_table::{ColumnConstraint, ContentArrangement};

use super::term::sanitize_cell;

/// A table whose cells are always sanitized: the only table type commands get.
pub struct Table(comfy_table::Table);

impl Table {
    /// Adds one row; each cell is made safe to show.
    pub fn add_row<I, S>(&mut self, cells: I) -> &mut Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        self.0.add_row(
            cells
                .into_iter()
                .map(|c| sanitize_cell(c.as_ref()).into_owned()),
        );
        self
    }

    /// Column `index` is never wrapped (a slug or an id is copied whole): the other
    /// columns make room.
    pub fn keep_whole(&mut self, index: usize) -> &mut Self {
        if let Some(column) = self.0.column_mut(index) {
            column.set_constraint(ColumnConstraint::ContentWidth);
        }
        self
    }
}

/// The width tables are fitted to: `$COLUMNS` when set, else the terminal's when stdout
/// is one; `None` (no wrapping) for a pipe or a file.
pub fn width() -> Option<u16> {
    if let Some(columns) = std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.trim().parse::<u16>().ok())
        .filter(|c| *c > 0)
    {
        return Some(columns);
    }
    let term = console::Term::stdout();
    term.is_term()
        .then(|| term.size_checked().map(|(_, cols)| cols))
        .flatten()
}

impl fmt::Display for Table {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

fn base(preset: &str) -> comfy_table::Table {
    let mut table = comfy_table::Table::new();
    table
        .load_preset(preset)
        .set_content_arrangement(ContentArrangement::Dynamic);
    if let Some(width) = width() {
        table.set_width(width);
    }
    table
}

pub fn new_table<I, S>(header: I) -> Table
where
    I: IntoIterator<Item = S>,
    S: AsRef<str>,
{
    let mut table = base(UTF8_FULL_CONDENSED);
    if std::env::var_os("NO_COLOR").is_some() {
        table.force_no_tty();
    }
    table.set_header(
        header
            .into_iter()
            .map(|h| sanitize_cell(h.as_ref()).into_owned()),
    );
    Table(table)
}

/// A two-column "field: value" table for one record.
pub fn key_values<'a>(rows: impl IntoIterator<Item = (&'a str, String)>) -> Table {
    let mut table = Table(base(comfy_table::presets::NOTHING));
    for (key, value) in rows {
        // Multi-line values (a petition's "why") keep their lines; tabs are escaped.
        table.add_row([format!("{key}:"), value]);
    }
    table
}
