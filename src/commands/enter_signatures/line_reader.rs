//! A plain line editor for fast entry: the prompt on stderr, the answer from stdin as
//! the terminal's own line editing gives it. Nothing to draw or redraw, so it stays fast
//! for volunteers and predictable in a pseudo-terminal. It asks the session's prompts
//! (`ops::entry`); every word shown goes through `ui`, sanitized.

use std::io::{self, BufRead};

use crate::ops::entry::{Answer, Prompt, PromptKind};
use crate::ui;

pub struct LineReader<R> {
    input: R,
    /// The terminal, when one-key answers can be read from it (stdin and stderr are
    /// terminals): yes/no and choices then take a single key, without Enter.
    keys: Option<console::Term>,
}

impl LineReader<io::StdinLock<'static>> {
    pub fn stdin() -> Self {
        use std::io::IsTerminal;
        let term = console::Term::stderr();
        let keys = (io::stdin().is_terminal() && term.is_term()).then_some(term);
        LineReader {
            input: io::stdin().lock(),
            keys,
        }
    }
}

/// A key pressed at a one-key question.
enum Key {
    Enter,
    Char(char),
    Back,
    End,
    Other,
}

impl<R: BufRead> LineReader<R> {
    /// Answers read from `input`, a line each (the tests' scripted volunteer).
    #[cfg(test)]
    pub fn new(input: R) -> Self {
        LineReader { input, keys: None }
    }

    /// Asks `prompt` as its kind says.
    pub fn ask_prompt(&mut self, prompt: &Prompt) -> io::Result<Answer> {
        match prompt.kind {
            PromptKind::Text => self.ask(&prompt.text, prompt.default.as_deref()),
            PromptKind::YesNo { default } => self.yes_no(&prompt.text, default),
            PromptKind::Choice { keys, default } => self.choice(&prompt.text, keys, default),
        }
    }

    /// Asks `prompt`, showing `default` in brackets; Enter keeps it, `-` clears it.
    pub fn ask(&mut self, prompt: &str, default: Option<&str>) -> io::Result<Answer> {
        // Shown sanitized; Enter still keeps the default exactly as it was.
        match default.filter(|d| !d.is_empty()) {
            Some(d) => self.show(&format!("{prompt} [{}]: ", ui::term::sanitize_cell(d)))?,
            None => self.show(&format!("{prompt}: "))?,
        }
        let mut line = String::new();
        if self.input.read_line(&mut line)? == 0 {
            // Ctrl-D: end on a fresh line.
            ui::say("");
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

    fn show(&self, text: &str) -> io::Result<()> {
        ui::show_prompt(text)
    }

    /// One key from the terminal (`None`: no terminal, read a line instead).
    fn key(&mut self) -> io::Result<Option<Key>> {
        let Some(term) = &self.keys else {
            return Ok(None);
        };
        Ok(Some(match term.read_key()? {
            console::Key::Enter => Key::Enter,
            console::Key::Char('<') => Key::Back,
            console::Key::Char('.' | '\u{4}') => Key::End,
            console::Key::Char(c) => Key::Char(c),
            _ => Key::Other,
        }))
    }

    /// A yes/no question; Enter gives `default`. One key on a terminal.
    pub fn yes_no(&mut self, prompt: &str, default: bool) -> io::Result<Answer> {
        let hint = if default { "Y/n" } else { "y/N" };
        let word = |yes: bool| if yes { "yes" } else { "no" };
        if self.keys.is_some() {
            self.show(&format!("{prompt} ({hint}): "))?;
            loop {
                let answer = match self.key()? {
                    Some(Key::Enter) => Answer::Text(word(default).into()),
                    Some(Key::Char(c)) => match c.to_lowercase().next() {
                        Some('y' | 's') => Answer::Text("yes".into()),
                        Some('n') => Answer::Text("no".into()),
                        _ => continue,
                    },
                    Some(Key::Back) => Answer::Back,
                    Some(Key::End) => Answer::End,
                    Some(Key::Other) | None => continue,
                };
                self.echo(&answer)?;
                return Ok(answer);
            }
        }
        loop {
            match self.ask(&format!("{prompt} ({hint})"), None)? {
                Answer::Text(t) if t.is_empty() => return Ok(Answer::Text(word(default).into())),
                Answer::Text(t) => match t.to_lowercase().as_str() {
                    "y" | "yes" | "s" | "si" | "sí" => return Ok(Answer::Text("yes".into())),
                    "n" | "no" => return Ok(Answer::Text("no".into())),
                    _ => ui::say("  answer y or n"),
                },
                other => return Ok(other),
            }
        }
    }

    /// One of `keys` (the prompt names them); Enter gives `default`. One key on a
    /// terminal.
    pub fn choice(&mut self, prompt: &str, keys: &str, default: char) -> io::Result<Answer> {
        let pick = |text: &str| -> Option<char> {
            let c = text.trim().chars().next()?.to_lowercase().next()?;
            keys.contains(c).then_some(c)
        };
        if self.keys.is_some() {
            self.show(&format!("{prompt} [{default}]: "))?;
            loop {
                let answer = match self.key()? {
                    Some(Key::Enter) => Answer::Text(default.to_string()),
                    Some(Key::Char(c)) => match pick(&c.to_string()) {
                        Some(c) => Answer::Text(c.to_string()),
                        None => continue,
                    },
                    Some(Key::Back) => Answer::Back,
                    Some(Key::End) => Answer::End,
                    Some(Key::Other) | None => continue,
                };
                self.echo(&answer)?;
                return Ok(answer);
            }
        }
        loop {
            match self.ask(prompt, Some(&default.to_string()))? {
                Answer::Text(t) => match pick(&t) {
                    Some(c) => return Ok(Answer::Text(c.to_string())),
                    None => ui::say(format!("  answer one of: {keys}")),
                },
                other => return Ok(other),
            }
        }
    }

    /// Ends a one-key answer's line with what was chosen.
    fn echo(&self, answer: &Answer) -> io::Result<()> {
        match answer {
            Answer::Text(t) => self.show(&format!("{t}\n")),
            Answer::Back => self.show("<\n"),
            Answer::End => self.show("\n"),
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

    #[test]
    fn choices_without_a_terminal_read_a_line() {
        let mut r = LineReader::new(io::Cursor::new("\nC\nx\nadd\n<\n"));
        assert_eq!(
            r.choice("Dup", "sca", 's').unwrap(),
            Answer::Text("s".into())
        );
        assert_eq!(
            r.choice("Dup", "sca", 's').unwrap(),
            Answer::Text("c".into())
        );
        // `x` is not a choice: asked again, and `add` is `a`.
        assert_eq!(
            r.choice("Dup", "sca", 's').unwrap(),
            Answer::Text("a".into())
        );
        assert_eq!(r.choice("Dup", "sca", 's').unwrap(), Answer::Back);
    }
}
