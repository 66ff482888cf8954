//! Prompts (dialoguer, on stderr). Commands call these only when `ctx.interactive`.
//! Questions and choices are sanitized like every other line for a person.

use dialoguer::theme::ColorfulTheme;
use dialoguer::{Confirm, Editor, Input, Password, Select};

use super::term::{sanitize, sanitize_cell, strip};
use crate::error::{Error, Result};

fn theme() -> ColorfulTheme {
    ColorfulTheme::default()
}

fn prompt_err(e: dialoguer::Error) -> Error {
    match e {
        dialoguer::Error::IO(io) => Error::Io(io),
    }
}

/// Asks for a line of text; `validate` returns a message explaining what is wrong.
pub fn text<F>(
    prompt: &str,
    initial: Option<&str>,
    allow_empty: bool,
    validate: F,
) -> Result<String>
where
    F: FnMut(&String) -> std::result::Result<(), String>,
{
    let mut validate = validate;
    let theme = theme();
    let mut input = Input::<String>::with_theme(&theme)
        .with_prompt(sanitize(prompt))
        .allow_empty(allow_empty)
        .validate_with(move |v: &String| validate(v).map_err(|m| sanitize(&m).into_owned()));
    // The initial text is editable and kept on Enter: unsafe characters are dropped
    // rather than escaped, so what the person sees is what they keep.
    if let Some(initial) = initial.filter(|s| !s.is_empty()) {
        input = input.with_initial_text(strip(initial));
    }
    input.interact_text().map_err(prompt_err)
}

/// Asks for a passphrase without echoing it; `confirm` asks a second time (a new one).
pub fn password(prompt: &str, confirm: bool) -> Result<String> {
    let theme = theme();
    let mut ask = Password::with_theme(&theme).with_prompt(sanitize(prompt));
    if confirm {
        ask = ask.with_confirmation("Type it again", "The two did not match; try again");
    }
    ask.interact().map_err(prompt_err)
}

pub fn confirm(prompt: &str, default: bool) -> Result<bool> {
    Confirm::with_theme(&theme())
        .with_prompt(sanitize(prompt))
        .default(default)
        .interact()
        .map_err(prompt_err)
}

pub fn select(prompt: &str, items: &[&str], default: usize) -> Result<usize> {
    let items: Vec<String> = items
        .iter()
        .map(|i| sanitize_cell(i).into_owned())
        .collect();
    Select::with_theme(&theme())
        .with_prompt(sanitize(prompt))
        .items(&items)
        .default(default)
        .interact()
        .map_err(prompt_err)
}

/// Opens $EDITOR on `text`; `None` when the user quit without saving.
pub fn edit(text: &str, extension: &str) -> Result<Option<String>> {
    Editor::new()
        .extension(extension)
        .require_save(true)
        .edit(text)
        .map_err(prompt_err)
}
