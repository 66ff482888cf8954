//! Terminal talk. Data goes to stdout; prompts, status, warnings and progress to stderr.
//!
//! Every line for a person passes through [`term::sanitize`] here, so no control
//! character from the data (an escape sequence in a name, a bidi override in a title)
//! reaches a terminal raw. The rest of the library writes only through these functions:
//! `print!`/`println!` and `std::io::stdout()`/`stderr()` are refused by clippy outside
//! `ui`, and `eprintln!`/`eprint!` in this crate are the sanitizing ones from `lib.rs`.
#![allow(clippy::print_stdout, clippy::print_stderr, clippy::disallowed_methods)]

pub mod bug;
pub mod progress;
pub mod prompt;
pub mod table;
pub mod term;

use std::io::{self, IsTerminal, Write};

use serde::Serialize;

pub use term::sanitize;

/// How this run talks to the terminal, decided once from the flags: `ui` needs nothing
/// else to know what to show (it never sees clap nor the command's context).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Output {
    /// `--json`: data on stdout as JSON instead of tables and text.
    pub json: bool,
    /// `--quiet`: no status lines or progress bars (warnings and errors still show).
    pub quiet: bool,
    /// Whether stderr gets colors (a terminal, and `NO_COLOR` unset).
    pub color: bool,
}

impl Output {
    /// Whether status lines go to stderr.
    pub fn chatty(&self) -> bool {
        !self.quiet
    }
}

impl AsRef<Output> for Output {
    fn as_ref(&self) -> &Output {
        self
    }
}

/// Writes `text` and a newline on stderr for a person, sanitized. A failing stderr (closed,
/// full) is ignored: there is nowhere left to say anything, and the work goes on.
pub fn say(text: impl AsRef<str>) {
    err_line(&sanitize(text.as_ref()));
}

/// The one raw write to stderr: callers pass text already sanitized.
fn err_line(line: &str) {
    let mut err = io::stderr().lock();
    let _ = writeln!(err, "{line}");
}

/// [`say`] without the newline (the start of a line finished later).
pub fn say_partial(text: impl AsRef<str>) {
    let mut err = io::stderr().lock();
    let _ = write!(err, "{}", sanitize(text.as_ref()));
    let _ = err.flush();
}

/// A question on stderr, sanitized, with no newline: the answer is typed after it. Unlike
/// [`say_partial`], a failing stderr is an error (nobody can answer a question never shown).
pub fn show_prompt(text: impl AsRef<str>) -> io::Result<()> {
    let mut err = io::stderr().lock();
    write!(err, "{}", sanitize(text.as_ref()))?;
    err.flush()
}

/// A status line on stderr (silenced by `--quiet`). `output` is an [`Output`] or anything
/// that carries one (a command's context).
pub fn status(output: impl AsRef<Output>, message: impl AsRef<str>) {
    if output.as_ref().chatty() {
        say(message);
    }
}

/// A warning on stderr; shown even with `--quiet`, since it asks for action.
pub fn warn(message: impl AsRef<str>) {
    let style = console::Style::new().yellow().for_stderr();
    // The style's own escape codes are added after the message is made safe.
    err_line(&format!(
        "{} {}",
        style.apply_to("warning:"),
        sanitize(message.as_ref())
    ));
}

/// An error for `report_error` (and batch commands that go on after one), on stderr.
pub fn error(message: impl AsRef<str>) {
    say(format!("error: {}", message.as_ref()));
}

/// Writes one line of text for a person on stdout (tables, `show`, `review`, share texts),
/// sanitized. Errors (a closed pipe) go back to the caller.
pub fn out_line(line: impl AsRef<str>) -> io::Result<()> {
    let mut stdout = io::stdout().lock();
    writeln!(stdout, "{}", sanitize(line.as_ref()))?;
    stdout.flush()
}

/// Writes `value` as pretty JSON on stdout: exact values, with every control character
/// JSON-escaped so the bytes are safe on a terminal too.
pub fn out_json<T: Serialize + ?Sized>(value: &T) -> io::Result<()> {
    let mut bytes = serde_json::to_vec_pretty(value).map_err(io::Error::other)?;
    term::json_safe(&mut bytes);
    bytes.push(b'\n');
    let mut stdout = io::stdout().lock();
    stdout.write_all(&bytes)?;
    stdout.flush()
}

/// Writes `value` as one JSON line into `out` (JSONL export), exact and terminal-safe.
/// `buf` is reused between rows.
pub fn write_json_line<T: Serialize + ?Sized>(
    out: &mut impl Write,
    buf: &mut Vec<u8>,
    value: &T,
) -> io::Result<()> {
    buf.clear();
    serde_json::to_writer(&mut *buf, value).map_err(io::Error::from)?;
    term::json_safe(buf);
    buf.push(b'\n');
    out.write_all(buf)
}

/// Standard output for data (CSV, JSON lines, completion scripts): exact into a file or
/// pipe; on a terminal, sanitized like text for a person.
pub fn data_out() -> Box<dyn Write> {
    let stdout = io::stdout();
    if stdout.is_terminal() {
        Box::new(term::TerminalSafe::new(stdout.lock()))
    } else {
        Box::new(stdout.lock())
    }
}

/// Whether stdout is a terminal (data shown to a person is sanitized there).
pub fn stdout_is_terminal() -> bool {
    io::stdout().is_terminal()
}

/// Whether stderr is a terminal (a person may be watching and answering).
pub fn stderr_is_terminal() -> bool {
    io::stderr().is_terminal()
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

/// A counted terminal message from the catalog (`cli.KEY.one`, `cli.KEY.other`): the
/// plural agrees everywhere in the sentence ("1 invitation waiting ... review it"). The
/// terminal speaks English; `args` fill the other placeholders.
pub fn count(key: &str, n: usize, args: &[(&str, &str)]) -> String {
    let text = crate::i18n::count(crate::model::Lang::En, &format!("cli.{key}"), n as i64);
    crate::i18n::fill(&text, args)
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
