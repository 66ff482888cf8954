//! What typed entry asks and what comes back: the session's [`Prompt`]s and the
//! volunteer's [`Answer`]s. The terminal that asks them belongs to the command.

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
    /// One key on a terminal.
    YesNo { default: bool },
    /// One of `keys` (one key on a terminal): the answer is that letter; Enter gives
    /// `default`.
    Choice { keys: &'static str, default: char },
}

impl Prompt {
    pub fn text(text: &str, default: &str) -> Prompt {
        Prompt {
            text: text.to_string(),
            default: Some(default.to_string()).filter(|d| !d.is_empty()),
            kind: PromptKind::Text,
        }
    }

    pub fn choice(text: &str, keys: &'static str, default: char) -> Prompt {
        Prompt {
            text: text.to_string(),
            default: None,
            kind: PromptKind::Choice { keys, default },
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
