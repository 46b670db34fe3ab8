//! One-line error messages.
//!
//! Errors keep their causes as typed sources through the layers (an I/O error stays an `std::io::Error`, so the
//! engine can tell a passing storage problem from a damaged file), and are turned into text once, at the edge: the
//! command line's `error:` line, a run record, a manifest. [`one_line`] is that one place. A long job is debugged
//! from its logs, one line per failure, so the text must not break across lines, must not let a value from a
//! user's file write to the terminal (a newline starting a fake second error, an escape sequence), and must say each
//! cause once: a layer that already quotes its source's text in its own message is not followed by that text again.

use std::error::Error;
use std::fmt::Write;

/// `error` and its chain of sources as one line: each message whose text the line does not hold yet, joined by
/// `: `; runs of whitespace (a foreign library's line breaks) as one space; control characters escaped.
pub fn one_line(error: &(dyn Error + 'static)) -> String {
    let mut line = flatten_whitespace(&error.to_string());
    let mut source = error.source();
    while let Some(cause) = source {
        let text = flatten_whitespace(&cause.to_string());
        if !text.is_empty() && !line.contains(&text) {
            line.push_str(": ");
            line.push_str(&text);
        }
        source = cause.source();
    }
    escape_controls(&line)
}

/// Text that is not an error value (a library's message taken as text, a detail built from one) as [`one_line`]
/// writes a message: whitespace runs as one space, control characters escaped.
pub fn one_line_text(text: &str) -> String {
    escape_controls(&flatten_whitespace(text))
}

/// Text from a file, a path or a foreign message, safe inside a one-line message: control characters (newlines,
/// tabs, escape sequences) are written escaped, as `\n`, `\t`, `\u{1b}`; everything else is kept.
pub fn escape_controls(text: &str) -> String {
    if !text.chars().any(char::is_control) {
        return text.to_string();
    }
    let mut escaped = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if c.is_control() {
            let _ = write!(escaped, "{}", c.escape_default());
        } else {
            escaped.push(c);
        }
    }
    escaped
}

/// Whitespace runs as one space: a foreign library's line breaks carry no meaning in a one-line message. Control
/// characters that are not whitespace (an escape sequence) are left for [`escape_controls`].
fn flatten_whitespace(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("cannot read")]
    struct Bare {
        #[source]
        source: std::io::Error,
    }

    #[derive(Debug, thiserror::Error)]
    #[error("tas.nc: variable 'time': {source}")]
    struct Quoting {
        #[source]
        source: std::io::Error,
    }

    #[test]
    fn a_cause_is_appended_once() {
        let bare = Bare { source: std::io::Error::other("disk on fire") };
        assert_eq!(one_line(&bare), "cannot read: disk on fire");
        let quoting = Quoting { source: std::io::Error::other("time value 1e30 is outside the calendar") };
        assert_eq!(one_line(&quoting), "tas.nc: variable 'time': time value 1e30 is outside the calendar");
    }

    #[test]
    fn line_breaks_and_escape_sequences_cannot_reach_the_terminal() {
        let error = std::io::Error::other("member 'r1\nINJECTED LINE' \u{1b}[31mred\u{1b}[0m\tend");
        let line = one_line(&error);
        assert_eq!(line, "member 'r1 INJECTED LINE' \\u{1b}[31mred\\u{1b}[0m end");
        assert!(!line.chars().any(char::is_control), "{line}");
        assert_eq!(escape_controls("a\nb\tc"), "a\\nb\\tc");
        assert_eq!(escape_controls("plain é"), "plain é");
        assert_eq!(one_line_text("HDF5 said:\n  bad\u{1b}[0m"), "HDF5 said: bad\\u{1b}[0m");
    }
}
