//! The one error type of the crate.
//!
//! Every message is a single line that starts with where the problem came
//! from (`config file /etc/downscale/a.yaml`, `environment DOWNSCALE_X=1`,
//! `--set a.b=c`), then names the key and what was expected, so a user can
//! fix it without reading the code. Values of secret-looking keys are already
//! redacted in the origin text.

use crate::config::ValueOrigin;

/// Why configuration could not be loaded or a value could not be used.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ConfigError {
    /// A configuration file or directory could not be read.
    #[error("{origin}: cannot read: {reason}")]
    Read {
        /// Where, e.g. `config file /etc/downscale/a.yaml`.
        origin: String,
        /// The operating system's reason.
        reason: String,
    },

    /// A key that the configuration does not have.
    #[error("{origin}: unknown key `{key}`{}", did_you_mean(.suggestion.as_deref()))]
    UnknownKey {
        /// Where the key was given.
        origin: String,
        /// The key, dotted and normalised.
        key: String,
        /// The nearest valid key, if one is close.
        suggestion: Option<String>,
    },

    /// A malformed key or a value of the wrong type or form.
    #[error("{origin}: {}{problem}", at_key(.key.as_deref()))]
    Invalid {
        /// Where the value was given.
        origin: String,
        /// The key, unless `origin` already shows it (environment, `--set`).
        key: Option<String>,
        /// What is wrong, e.g. `expected a boolean`.
        problem: String,
    },

    /// A `$VAR` reference whose variable is not set when the value is used.
    #[error("`{key}` (from {from}) refers to ${variable}, which is not set in the environment")]
    MissingVariable {
        /// The key whose value holds the reference.
        key: String,
        /// The variable's name.
        variable: String,
        /// Where the value came from.
        from: ValueOrigin,
    },

    /// A value that cannot be expanded, such as a lone `$`.
    #[error("`{key}` (from {from}): {problem}")]
    BadReference {
        /// The key whose value is malformed.
        key: String,
        /// Where the value came from.
        from: ValueOrigin,
        /// What is wrong with it.
        problem: String,
    },
}

fn did_you_mean(suggestion: Option<&str>) -> String {
    suggestion.map(|s| format!(" (did you mean `{s}`?)")).unwrap_or_default()
}

fn at_key(key: Option<&str>) -> String {
    match key {
        Some(key) if !key.is_empty() => format!("`{key}`: "),
        _ => String::new(),
    }
}
