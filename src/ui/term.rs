//! What may reach a person's terminal. Text from the database, from files and from other
//! people (names, titles, column names, server replies) can hold control characters: an
//! escape sequence can retitle the window, blank the screen or fake a prompt, and a bidi
//! override can make a line read backwards. Everything `ui` prints for a person goes
//! through [`sanitize`], which turns those characters into a visible escape (`\u{1b}`, the
//! way Rust's `{:?}` writes them). Data output (`--json`, CSV/JSONL into a file or pipe)
//! is left exact; JSON is made terminal-safe with JSON's own escapes (see [`json_safe`]),
//! which keep every value exact.

use std::borrow::Cow;
use std::io::{self, Write};

/// True for a character that must not reach a terminal raw: C0 controls (newline and tab
/// are handled by the callers), DEL, C1 controls (U+0080..U+009F: U+009B is a one-character
/// CSI in many terminals), and the bidi embeddings, overrides and isolates
/// (U+202A..U+202E, U+2066..U+2069) that reorder what follows them.
pub fn is_unsafe(c: char) -> bool {
    matches!(c,
        '\u{0}'..='\u{1f}' | '\u{7f}'..='\u{9f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// How to treat tabs: kept in running text, escaped where they would break alignment
/// (table cells, one-line fields).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tabs {
    Keep,
    Escape,
}

fn needs_work(text: &str, tabs: Tabs) -> bool {
    text.chars()
        .any(|c| c != '\n' && (c != '\t' || tabs == Tabs::Escape) && is_unsafe(c))
}

fn push_escape(out: &mut String, c: char) {
    match c {
        '\0' => out.push_str("\\0"),
        '\r' => out.push_str("\\r"),
        '\t' => out.push_str("\\t"),
        c => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
    }
}

/// `text` as it may be shown: newlines and tabs kept, a Windows line end (CR LF) read as a
/// newline, every other unsafe character written as a visible escape. Borrowed when
/// nothing needed changing (the usual case).
pub fn sanitize(text: &str) -> Cow<'_, str> {
    sanitize_with(text, Tabs::Keep)
}

/// [`sanitize`] for a table cell: tabs escaped too, so columns stay aligned.
pub fn sanitize_cell(text: &str) -> Cow<'_, str> {
    sanitize_with(text, Tabs::Escape)
}

pub fn sanitize_with(text: &str, tabs: Tabs) -> Cow<'_, str> {
    if !needs_work(text, tabs) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\n' => out.push('\n'),
            '\t' if tabs == Tabs::Keep => out.push('\t'),
            '\r' if chars.peek() == Some(&'\n') => {}
            c if is_unsafe(c) => push_escape(&mut out, c),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// `text` with unsafe characters removed rather than escaped, for the editable initial
/// text of a prompt: what the person sees is what they keep when they press Enter.
pub fn strip(text: &str) -> Cow<'_, str> {
    if !needs_work(text, Tabs::Keep) {
        return Cow::Borrowed(text);
    }
    Cow::Owned(
        text.chars()
            .filter(|&c| c == '\n' || c == '\t' || !is_unsafe(c))
            .collect(),
    )
}

/// Rewrites the unsafe characters JSON leaves raw (DEL, C1 controls and bidi controls:
/// serde_json escapes only C0) as `\uXXXX` escapes. JSON's structure is ASCII, so these
/// characters can only be inside strings, where the escape means the very same character:
/// the parsed value stays exact and the bytes are safe on a terminal.
pub fn json_safe(json: &mut Vec<u8>) {
    if !json_needs_work(json) {
        return;
    }
    let text = String::from_utf8_lossy(json).into_owned();
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        if json_leaves_raw(c) {
            out.push_str(&format!("\\u{:04x}", c as u32));
        } else {
            out.push(c);
        }
    }
    *json = out.into_bytes();
}

/// Unsafe characters serde_json writes raw. C0 controls are escaped inside strings
/// already, and the newlines and spaces of pretty JSON outside them are structure.
fn json_leaves_raw(c: char) -> bool {
    c > '\u{1f}' && is_unsafe(c)
}

/// A quick byte scan: DEL, or the UTF-8 lead bytes of C1 (0xC2 0x80..0x9F) and of the
/// bidi controls (0xE2 0x80/0x81 ...). False positives only cost a second look.
fn json_needs_work(json: &[u8]) -> bool {
    json.iter().any(|&b| b == 0x7f || b == 0xc2 || b == 0xe2)
        && std::str::from_utf8(json).map_or(true, |s| s.chars().any(json_leaves_raw))
}

/// A writer for data shown on a terminal (`export` without `--out`): whatever passes is
/// sanitized like text for a person, even when a character is split across two writes.
/// Used only when stdout is a terminal; into a file or pipe data stays exact.
pub struct TerminalSafe<W: Write> {
    inner: W,
    /// Bytes of an unfinished character, or a CR waiting to see if LF follows.
    carry: Vec<u8>,
}

impl<W: Write> TerminalSafe<W> {
    pub fn new(inner: W) -> Self {
        TerminalSafe {
            inner,
            carry: Vec::new(),
        }
    }

    fn emit(&mut self, text: &str) -> io::Result<()> {
        self.inner.write_all(sanitize(text).as_bytes())
    }
}

impl<W: Write> Write for TerminalSafe<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.carry.extend_from_slice(buf);
        let mut ready = match std::str::from_utf8(&self.carry) {
            Ok(_) => self.carry.len(),
            // An incomplete character at the end waits for the next write.
            Err(e) if e.error_len().is_none() => e.valid_up_to(),
            // Invalid bytes (data is text, so this is rare): shown as U+FFFD.
            Err(_) => self.carry.len(),
        };
        // A CR at the very end may be the first half of a CR LF.
        if ready > 0 && self.carry[ready - 1] == b'\r' {
            ready -= 1;
        }
        let rest = self.carry.split_off(ready);
        let done = std::mem::replace(&mut self.carry, rest);
        let text = String::from_utf8_lossy(&done);
        self.emit(&text)?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        if !self.carry.is_empty() {
            let done = std::mem::take(&mut self.carry);
            let text = String::from_utf8_lossy(&done).into_owned();
            self.emit(&text)?;
        }
        self.inner.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOSTILE: &str = "Ana\u{1b}]0;PWNED\u{7}\u{1b}[2J\r\u{9b}31m \u{202e}evil\u{2066}\u{7f}";

    fn clean(text: &str) -> bool {
        !text.chars().any(|c| c != '\n' && c != '\t' && is_unsafe(c))
    }

    #[test]
    fn escapes_controls_visibly_and_keeps_names_exact() {
        let shown = sanitize(HOSTILE);
        assert!(clean(&shown), "{shown:?}");
        assert_eq!(
            shown,
            "Ana\\u{1b}]0;PWNED\\u{7}\\u{1b}[2J\\r\\u{9b}31m \\u{202e}evil\\u{2066}\\u{7f}"
        );
        for name in [
            "Nguyễn Thị Minh Khai",
            "محمد الأحمد",
            "አበበ ቢቂላ",
            "李娜",
            "line one\nline two\twith a tab",
        ] {
            assert!(matches!(sanitize(name), Cow::Borrowed(_)), "{name}");
        }
        assert_eq!(sanitize("a\r\nb"), "a\nb");
        assert_eq!(sanitize_cell("a\tb"), "a\\tb");
        assert_eq!(strip(HOSTILE), "Ana]0;PWNED[2J31m evil");
    }

    #[test]
    fn every_unsafe_character_is_escaped() {
        for code in (0u32..0x3000).filter(|&c| c != 0x0a && c != 0x09) {
            let Some(c) = char::from_u32(code) else {
                continue;
            };
            let text = format!("x{c}y");
            let shown = sanitize(&text);
            assert!(clean(&shown), "U+{code:04X} passed raw");
            assert_eq!(is_unsafe(c), shown != text, "U+{code:04X}");
        }
    }

    #[test]
    fn json_escapes_keep_the_value() {
        let value = serde_json::json!({ "name": HOSTILE, "plain": "李娜", "n": [1, 2] });
        let mut bytes = serde_json::to_vec_pretty(&value).unwrap();
        json_safe(&mut bytes);
        let text = std::str::from_utf8(&bytes).unwrap();
        assert!(clean(text), "{text}");
        assert!(text.contains("\\u202e") && text.contains("李娜"), "{text}");
        assert!(text.starts_with("{\n  \""), "structure untouched: {text}");
        let back: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(back, value);
    }

    #[test]
    fn terminal_writer_handles_characters_split_across_writes() {
        let input = format!("{HOSTILE}\r\nJosé,李娜\r\n\u{202e}");
        for chunk in 1..=4 {
            let mut out = TerminalSafe::new(Vec::new());
            for piece in input.as_bytes().chunks(chunk) {
                out.write_all(piece).unwrap();
            }
            out.flush().unwrap();
            let text = String::from_utf8(out.inner).unwrap();
            assert_eq!(text, sanitize(&input), "chunks of {chunk}");
        }
    }
}
