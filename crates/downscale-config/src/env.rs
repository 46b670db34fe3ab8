//! `DOWNSCALE_A__B=value` environment variables.
//!
//! The `DOWNSCALE_` prefix is shared with other tools and with test harnesses
//! (`DOWNSCALE_PYTHON`, `DOWNSCALE_CORPUS`, ...), so only variables whose first
//! segment is a top-level configuration key are configuration. The others are
//! not errors, but they are reported, because a misspelt top-level key
//! (`DOWNSCALE_RUNTIM`) would otherwise be ignored without a trace.

use std::collections::BTreeMap;

use crate::error::ConfigError;
use crate::layers::Layer;
use crate::schema::{Schema, closest};
use crate::tree::normalise_segment;

/// The prefix of configuration variables.
pub const ENV_PREFIX: &str = "DOWNSCALE_";
/// The variable naming one more configuration file; not a key itself.
pub const CONFIG_FILE_VAR: &str = "DOWNSCALE_CONFIG";

/// A `DOWNSCALE_*` variable that is not configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IgnoredVariable {
    /// The variable's name, e.g. `DOWNSCALE_RUNTIM`.
    pub name: String,
    /// The top-level key it may have meant, e.g. `runtime`.
    pub suggestion: Option<String>,
}

/// Splits the environment into configuration layers (in variable-name order)
/// and the `DOWNSCALE_*` variables that are left alone.
pub(crate) fn read(
    env: &BTreeMap<String, String>,
    schema: &Schema,
) -> Result<(Vec<Layer>, Vec<IgnoredVariable>), ConfigError> {
    let mut layers = Vec::new();
    let mut ignored = Vec::new();
    let mut claimed: BTreeMap<String, &str> = BTreeMap::new();
    for (name, value) in env {
        let Some(rest) = name.strip_prefix(ENV_PREFIX) else { continue };
        if name == CONFIG_FILE_VAR {
            continue;
        }
        let segments: Vec<String> = rest.split("__").map(|s| normalise_segment(&s.to_lowercase())).collect();
        let first = segments.first().map_or("", String::as_str);
        if !schema.is_top_level(first) {
            let suggestion = closest(first, schema.top_level()).map(str::to_owned);
            ignored.push(IgnoredVariable { name: name.clone(), suggestion });
            continue;
        }
        let key = segments.join(".");
        if let Some(other) = claimed.insert(key.clone(), name) {
            let problem = format!("sets `{key}`, which {other} sets too; keep one of them");
            return Err(ConfigError::Invalid { origin: format!("environment {name}"), key: None, problem });
        }
        layers.push(Layer::env(name, &segments, value)?);
    }
    Ok((layers, ignored))
}

/// The environment variable that sets the dotted, normalised `key`: `data_catalog.model` is
/// `DOWNSCALE_DATA_CATALOG__MODEL`, as `read` splits it back.
pub fn variable_for(key: &str) -> String {
    let segments: Vec<String> = key.split('.').map(str::to_uppercase).collect();
    format!("{ENV_PREFIX}{}", segments.join("__"))
}
