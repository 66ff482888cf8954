//! Terminal talk. Data goes to stdout; prompts, status, warnings and progress to stderr.

pub mod entry;
pub mod progress;
pub mod prompt;
pub mod table;

use std::io::{self, Write};

use serde::Serialize;

use crate::context::Ctx;

/// A status line on stderr (silenced by `--quiet`).
pub fn status(ctx: &Ctx, message: impl AsRef<str>) {
    if ctx.chatty() {
        eprintln!("{}", message.as_ref());
    }
}

/// A warning on stderr; shown even with `--quiet`, since it asks for action.
pub fn warn(message: impl AsRef<str>) {
    let style = console::Style::new().yellow().for_stderr();
    eprintln!("{} {}", style.apply_to("warning:"), message.as_ref());
}

/// Writes one line of data on stdout. Errors (a closed pipe) go back to the caller.
pub fn out_line(line: impl AsRef<str>) -> io::Result<()> {
    let mut stdout = io::stdout().lock();
    writeln!(stdout, "{}", line.as_ref())?;
    stdout.flush()
}

/// Writes `value` as pretty JSON on stdout.
pub fn out_json<T: Serialize + ?Sized>(value: &T) -> io::Result<()> {
    let text = serde_json::to_string_pretty(value).map_err(io::Error::other)?;
    out_line(text)
}

/// Cuts `text` to at most `max` characters with "…", for table cells and status lines
/// (the full text stays in `show` and `--json`).
pub fn shorten(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let mut out: String = text.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// "1 page", "2 pages".
pub fn plural(n: u64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// Says on stderr why a command pauses: another process holds the database (installed
/// with `store::on_busy`, called about a second into the wait, then once a minute). It
/// runs inside SQLite's busy handler, so a closed stderr is ignored rather than a panic.
pub fn waiting_for_database(wait: &crate::store::Wait<'_>) {
    let mut err = io::stderr().lock();
    let _ = if wait.again {
        writeln!(
            err,
            "still waiting for another campaign process writing to {} ({} so far)",
            wait.path.display(),
            crate::store::describe_wait(wait.waited)
        )
    } else {
        writeln!(
            err,
            "waiting for another campaign process writing to {} (an import?) to finish ...",
            wait.path.display()
        )
    };
}
