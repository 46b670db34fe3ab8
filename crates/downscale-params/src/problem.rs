//! Problems found in a parameter file, and notes on keys it holds to no effect: each one line naming the file and
//! the key.

use std::fmt;

use downscale_message::escape_controls;

/// One thing wrong with a parameter file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The key the problem is about (dotted for nested keys, e.g. `bias_correction_kwargs.pr.detrend`), or `None`
    /// for the file as a whole (unreadable, not JSON, not an object).
    pub key: Option<String>,
    /// What is wrong and what was expected, without the file or the key.
    pub message: String,
}

impl Problem {
    pub(crate) fn at(key: impl Into<String>, message: impl Into<String>) -> Problem {
        Problem { key: Some(key.into()), message: message.into() }
    }

    pub(crate) fn whole(message: impl Into<String>) -> Problem {
        Problem { key: None, message: message.into() }
    }
}

/// A key a parameter file holds that is accepted but has no effect, such as the `model_type` the original's BCSD
/// files carry. The original's files must run as they are, so this is never a failure; but a user reading the file
/// would expect the key to do something, so `params validate` says that it does not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Note {
    /// The key, dotted for nested keys like [`Problem::key`].
    pub key: String,
    /// Why the key has no effect, without the file or the key.
    pub message: String,
}

impl Note {
    pub(crate) fn at(key: impl Into<String>, message: impl Into<String>) -> Note {
        Note { key: key.into(), message: message.into() }
    }
}

/// Every problem of one file, in the order the keys appear, so that a user fixes them all in one go, and the notes
/// found on the way (shown with the problems, since they may explain one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problems {
    /// The file as the user named it.
    pub file: String,
    /// The problems, in the order of the keys; never empty when returned as an error.
    pub problems: Vec<Problem>,
    /// Keys held to no effect.
    pub notes: Vec<Note>,
}

impl Problems {
    /// One line per problem: `FILE: key `KEY`: MESSAGE`.
    pub fn lines(&self) -> impl Iterator<Item = String> + '_ {
        self.problems.iter().map(|problem| line(&self.file, problem.key.as_deref(), &problem.message))
    }

    /// One line per note, in the same form.
    pub fn note_lines(&self) -> impl Iterator<Item = String> + '_ {
        note_lines(&self.file, &self.notes)
    }
}

/// One line per note of `file`: `FILE: key `KEY`: MESSAGE`.
pub(crate) fn note_lines<'a>(file: &'a str, notes: &'a [Note]) -> impl Iterator<Item = String> + 'a {
    notes.iter().map(move |note| line(file, Some(&note.key), &note.message))
}

/// `FILE: key `KEY`: MESSAGE`, or `FILE: MESSAGE` about the whole file. Messages quote values from the file (an
/// unknown method, a member id), so control characters are escaped here, where every message passes: a value
/// holding a newline or a terminal escape sequence cannot start a line of its own or recolour the terminal.
fn line(file: &str, key: Option<&str>, message: &str) -> String {
    let file = escape_controls(file);
    match key {
        Some(key) => format!("{file}: key `{}`: {}", escape_controls(key), escape_controls(message)),
        None => format!("{file}: {}", escape_controls(message)),
    }
}

impl fmt::Display for Problems {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, line) in self.lines().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            f.write_str(&line)?;
        }
        Ok(())
    }
}

impl std::error::Error for Problems {}

/// The closest of `candidates` to a misspelt `word`, when it is close enough to be a plausible intent.
pub(crate) fn nearest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    candidates
        .into_iter()
        .map(|candidate| (strsim::jaro_winkler(word, candidate), candidate))
        .filter(|&(score, _)| score >= 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, candidate)| candidate)
}

/// ` (did you mean `X`?)` when there is a near candidate, else nothing.
pub(crate) fn did_you_mean<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> String {
    nearest(word, candidates).map(|c| format!(" (did you mean `{c}`?)")).unwrap_or_default()
}
