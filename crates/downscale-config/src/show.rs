//! Showing the configuration to a person (`show_text`) or a program
//! (`show_json`), with secrets redacted in both.

use serde_json::{Value as Json, json};

use crate::config::{Config, Entry, path_of};
use crate::env::IgnoredVariable;
use crate::redact::shown_value;
use downscale_message::escape_controls;

/// Widest assignment whose source comment is aligned with the others.
const ALIGNED_WIDTH: usize = 100;

impl Config {
    /// One line per key, `key = value    # source`, values as compact JSON,
    /// then one comment line per ignored `DOWNSCALE_*` variable. A relative
    /// path also says the absolute path it names (`# file /srv/x/a.yaml;
    /// resolves to /srv/cat/cmip.json`): from a file, taken from the file's
    /// folder; otherwise from the working directory.
    ///
    /// The source comments line up in one column after the assignments of
    /// up to `ALIGNED_WIDTH` characters; a longer value (a connection
    /// string, a long list) is followed by its comment directly rather than
    /// pushing every other line's comment far to the right.
    pub fn show_text(&self) -> String {
        let assignments: Vec<String> = self
            .entries()
            .iter()
            .map(|entry| format!("{} = {}", escape_controls(&entry.key), shown_value(&entry.key, &entry.value)))
            .collect();
        let widths: Vec<usize> = assignments.iter().map(|line| line.chars().count()).collect();
        let column = widths.iter().copied().filter(|&width| width <= ALIGNED_WIDTH).max().unwrap_or(0);
        let mut text = String::new();
        for ((assignment, width), entry) in assignments.iter().zip(widths).zip(self.entries()) {
            // Padding by repetition: a format width (`{:pad$}`) above 65,535 panics.
            let pad = " ".repeat(column.saturating_sub(width));
            text.push_str(&format!("{assignment}{pad}    # {}{}\n", entry.source, resolves_to(entry)));
        }
        for ignored in self.ignored_environment() {
            text.push_str(&format!("# ignored environment variable {}\n", describe_ignored(ignored)));
        }
        text
    }

    /// `{"keys": [{"key", "value", "source"}], "ignored_environment": [{"name", "suggestion"}]}`; a path-valued
    /// key also has `"resolves_to"`: the absolute path it names, or null for a URL or a `$` reference.
    pub fn show_json(&self) -> Json {
        let keys: Vec<Json> = self
            .entries()
            .iter()
            .map(|entry| {
                let mut shown = json!({
                    "key": entry.key,
                    "value": shown_value(&entry.key, &entry.value),
                    "source": entry.source.to_string(),
                });
                if crate::paths::is_path_key(&entry.key) {
                    shown["resolves_to"] = path_of(entry).map_or(Json::Null, Json::String);
                }
                shown
            })
            .collect();
        let ignored: Vec<Json> = self
            .ignored_environment()
            .iter()
            .map(|ignored| json!({"name": ignored.name, "suggestion": ignored.suggestion}))
            .collect();
        json!({"keys": keys, "ignored_environment": ignored})
    }
}

/// `; resolves to /abs/path` for a relative path, else nothing: an absolute path or a URL says it already.
fn resolves_to(entry: &Entry) -> String {
    let relative = entry.value.as_str().is_some_and(crate::paths::is_relative_path);
    match path_of(entry) {
        Some(path) if relative => format!("; resolves to {}", escape_controls(&path)),
        _ => String::new(),
    }
}

/// `DOWNSCALE_RUNTIM: not a configuration key (did you mean `runtime`?)`;
/// the value is never shown, since an unrecognised variable may be a secret.
fn describe_ignored(ignored: &IgnoredVariable) -> String {
    match &ignored.suggestion {
        Some(key) => format!("{}: not a configuration key (did you mean `{key}`?)", ignored.name),
        None => format!("{}: not a configuration key", ignored.name),
    }
}
