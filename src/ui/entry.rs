//! A plain line editor for fast entry: the prompt on stderr, the answer from stdin as
//! the terminal's own line editing gives it. Nothing to draw or redraw, so it stays fast
//! for volunteers and predictable in a pseudo-terminal.

use std::io::{self, BufRead, Write};

/// What the volunteer typed at a prompt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// The text (the default when they just pressed Enter; empty after `-`).
    Text(String),
    /// `<`: go back to the previous row.
    Back,
    /// `.` or Ctrl-D: finished.
    End,
}

/// A question of typed entry: its text, the default Enter keeps, and its kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prompt {
    pub text: String,
    pub default: Option<String>,
    pub kind: PromptKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PromptKind {
    /// A line of text (`-` clears the default).
    Text,
    /// Yes or no: the answer is `Text("yes")` or `Text("no")`; Enter gives the default.
    YesNo { default: bool },
}

impl Prompt {
    pub fn text(text: &str, default: &str) -> Prompt {
        Prompt {
            text: text.to_string(),
            default: Some(default.to_string()).filter(|d| !d.is_empty()),
            kind: PromptKind::Text,
        }
    }

    pub fn yes_no(text: &str, default: bool) -> Prompt {
        Prompt {
            text: text.to_string(),
            default: None,
            kind: PromptKind::YesNo { default },
        }
    }
}

pub struct LineReader<R> {
    input: R,
}

impl LineReader<io::StdinLock<'static>> {
    pub fn stdin() -> Self {
        LineReader {
            input: io::stdin().lock(),
        }
    }
}

impl<R: BufRead> LineReader<R> {
    pub fn new(input: R) -> Self {
        LineReader { input }
    }

    /// Asks `prompt` as its kind says.
    pub fn ask_prompt(&mut self, prompt: &Prompt) -> io::Result<Answer> {
        match prompt.kind {
            PromptKind::Text => self.ask(&prompt.text, prompt.default.as_deref()),
            PromptKind::YesNo { default } => self.yes_no(&prompt.text, default),
        }
    }

    /// Asks `prompt`, showing `default` in brackets; Enter keeps it, `-` clears it.
    pub fn ask(&mut self, prompt: &str, default: Option<&str>) -> io::Result<Answer> {
        // Shown sanitized; Enter still keeps the default exactly as it was.
        let mut err = io::stderr().lock();
        let prompt = super::sanitize(prompt);
        match default.filter(|d| !d.is_empty()) {
            Some(d) => write!(err, "{prompt} [{}]: ", super::term::sanitize_cell(d))?,
            None => write!(err, "{prompt}: ")?,
        }
        err.flush()?;
        drop(err);
        let mut line = String::new();
        if self.input.read_line(&mut line)? == 0 {
            // Ctrl-D: end on a fresh line.
            super::say("");
            return Ok(Answer::End);
        }
        Ok(match line.trim() {
            "." => Answer::End,
            "<" => Answer::Back,
            "-" => Answer::Text(String::new()),
            "" => Answer::Text(default.unwrap_or("").to_string()),
            text => Answer::Text(text.to_string()),
        })
    }

    /// A yes/no question; Enter gives `default`.
    pub fn yes_no(&mut self, prompt: &str, default: bool) -> io::Result<Answer> {
        let hint = if default { "Y/n" } else { "y/N" };
        loop {
            match self.ask(&format!("{prompt} ({hint})"), None)? {
                Answer::Text(t) if t.is_empty() => {
                    return Ok(Answer::Text(if default { "yes" } else { "no" }.into()))
                }
                Answer::Text(t) => match t.to_lowercase().as_str() {
                    "y" | "yes" | "s" | "si" | "sí" => return Ok(Answer::Text("yes".into())),
                    "n" | "no" => return Ok(Answer::Text("no".into())),
                    _ => super::say("  answer y or n"),
                },
                other => return Ok(other),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers() {
        let mut r = LineReader::new(io::Cursor::new("\n-\n<\n.\n  Ana \ny\n"));
        assert_eq!(
            r.ask("ZIP", Some("94612")).unwrap(),
            Answer::Text("94612".into())
        );
        assert_eq!(
            r.ask("ZIP", Some("94612")).unwrap(),
            Answer::Text(String::new())
        );
        assert_eq!(r.ask("Name", None).unwrap(), Answer::Back);
        assert_eq!(r.ask("Name", None).unwrap(), Answer::End);
        assert_eq!(r.ask("Name", None).unwrap(), Answer::Text("Ana".into()));
        assert_eq!(r.yes_no("Join", false).unwrap(), Answer::Text("yes".into()));
        assert_eq!(r.ask("Name", None).unwrap(), Answer::End);
    }
}
