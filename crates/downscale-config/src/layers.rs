//! Configuration layers and the figment provider that feeds them in.
//!
//! Each source (the defaults, one file, one environment variable, one `--set`,
//! one scoped override) becomes its own [`Layer`] and its own figment
//! provider, so figment's per-provider metadata tells for every merged value
//! which source it came from. A layer is checked on its own, against the
//! defaults, before it is merged: an error then names exactly the file,
//! variable or `--set` at fault, and a broken layer is reported even when a
//! higher one happens to override the broken value.

use std::path::{Path, PathBuf};

use figment::error::{Actual, Kind};
use figment::value::{Dict, Map};
use figment::{Figment, Metadata, Profile, Provider};

use crate::config::ValueOrigin;
use crate::error::ConfigError;
use crate::read::read_config_file;
use crate::redact::{is_secret_key, shown_assignment, shown_text};
use crate::schema::{Schema, ShapeError};
use crate::settings::Settings;
use crate::tree::{TreeError, check_segments, nest, normalise_key, parse_document, parse_scalar};
use downscale_message::escape_controls;

const DEFAULTS_YAML: &str = include_str!("defaults.yaml");

/// The figment source marking a `--set` value.
const SET_MARK: &str = "--set";
/// The figment source marking a scoped library override.
const API_MARK: &str = "scoped set";
/// The prefix of the figment source marking an environment variable.
const ENV_MARK: &str = "env ";

/// One source's tree, ready to merge.
#[derive(Debug, Clone)]
pub(crate) struct Layer {
    /// How errors name the source, values of secret keys redacted.
    origin: String,
    source: ValueOrigin,
    /// The key of a single assignment (environment, `--set`, scoped set),
    /// which `origin` already shows; `None` for files and the defaults.
    assigned: Option<String>,
    tree: Dict,
}

impl Provider for Layer {
    fn metadata(&self) -> Metadata {
        let metadata = Metadata::named(self.origin.clone());
        match &self.source {
            ValueOrigin::Default => metadata,
            ValueOrigin::File(path) => metadata.source(path.as_path()),
            ValueOrigin::Env(name) => metadata.source(format!("{ENV_MARK}{name}")),
            ValueOrigin::Set => metadata.source(SET_MARK),
            ValueOrigin::Api => metadata.source(API_MARK),
        }
    }

    fn data(&self) -> Result<Map<Profile, Dict>, figment::Error> {
        Ok(Profile::Default.collect(self.tree.clone()))
    }
}

/// Recovers our [`ValueOrigin`] from the metadata [`Layer::metadata`] wrote.
pub(crate) fn origin_of(metadata: &Metadata) -> ValueOrigin {
    match &metadata.source {
        Some(figment::Source::File(path)) => ValueOrigin::File(path.clone()),
        Some(figment::Source::Custom(mark)) if mark == SET_MARK => ValueOrigin::Set,
        Some(figment::Source::Custom(mark)) if mark == API_MARK => ValueOrigin::Api,
        Some(figment::Source::Custom(mark)) if mark.starts_with(ENV_MARK) => {
            ValueOrigin::Env(mark[ENV_MARK.len()..].into())
        }
        // Only the defaults carry no source; figment's enum is open-ended.
        _ => ValueOrigin::Default,
    }
}

impl Layer {
    /// The built-in defaults, which are also the list of valid keys.
    pub(crate) fn defaults() -> Result<Layer, ConfigError> {
        let origin = "built-in defaults".to_owned();
        let tree = parse_document(DEFAULTS_YAML).map_err(|e| tree_error(&origin, e))?;
        Ok(Layer { origin, source: ValueOrigin::Default, assigned: None, tree })
    }

    /// A YAML file, read now (configuration is read when used, never cached).
    pub(crate) fn file(path: &Path) -> Result<Layer, ConfigError> {
        let origin = format!("config file {}", escape_controls(&path.display().to_string()));
        let text = read_config_file(path, &origin)?;
        let tree = parse_document(&text).map_err(|e| tree_error(&origin, e))?;
        Ok(Layer { origin, source: ValueOrigin::File(PathBuf::from(path)), assigned: None, tree })
    }

    /// One recognised environment variable, already split into key segments.
    pub(crate) fn env(name: &str, segments: &[String], raw: &str) -> Result<Layer, ConfigError> {
        let key = segments.join(".");
        let origin = format!("environment {name}={}", shown_text(&key, raw));
        Layer::assignment(origin, ValueOrigin::Env(name.to_owned()), segments, raw)
    }

    /// One `--set KEY=VALUE` from the command line.
    pub(crate) fn set(text: &str) -> Result<Layer, ConfigError> {
        let origin = format!("--set {}", shown_assignment(text));
        let Some((key, raw)) = text.split_once('=') else {
            let problem = "expected KEY=VALUE, e.g. run_options.use_cache=false".to_owned();
            return Err(ConfigError::Invalid { origin, key: None, problem });
        };
        Layer::assignment(origin, ValueOrigin::Set, &split_dotted(&normalise_key(key)), raw)
    }

    /// One scoped override from [`crate::set`].
    pub(crate) fn api(key: &str, raw: &str) -> Result<Layer, ConfigError> {
        let origin = format!("scoped set {}", shown_assignment(&format!("{key}={raw}")));
        Layer::assignment(origin, ValueOrigin::Api, &split_dotted(&normalise_key(key)), raw)
    }

    fn assignment(origin: String, source: ValueOrigin, segments: &[String], raw: &str) -> Result<Layer, ConfigError> {
        let key = segments.join(".");
        check_segments(segments, &key).map_err(|problem| ConfigError::Invalid {
            origin: origin.clone(),
            key: None,
            problem,
        })?;
        let value = parse_scalar(raw, &key).map_err(|e| tree_error(&origin, e))?;
        Ok(Layer { origin, source, assigned: Some(key), tree: nest(segments, value) })
    }

    pub(crate) fn tree(&self) -> &Dict {
        &self.tree
    }

    /// Checks this layer's keys against `schema` and its values against the
    /// typed settings, with `defaults` filling in everything it leaves out.
    pub(crate) fn validate(&self, schema: &Schema, defaults: &Layer) -> Result<(), ConfigError> {
        let shown = |key: String| (self.assigned.as_ref() != Some(&key)).then_some(key);
        schema.check(&self.tree).map_err(|error| match error {
            ShapeError::Unknown(unknown) => ConfigError::UnknownKey {
                origin: self.origin.clone(),
                key: unknown.key,
                suggestion: unknown.suggestion,
            },
            ShapeError::NotASection(e) => {
                ConfigError::Invalid { origin: self.origin.clone(), key: shown(e.key), problem: e.problem }
            }
        })?;
        Figment::from(defaults)
            .merge(self)
            .extract::<Settings>()
            .map(drop)
            .map_err(|e| figment_error(e, schema, self.assigned.as_deref()))
    }
}

/// Merges `layers` in order, later ones winning.
pub(crate) fn merge(layers: &[Layer]) -> Figment {
    layers.iter().fold(Figment::new(), |figment, layer| figment.merge(layer))
}

fn split_dotted(key: &str) -> Vec<String> {
    key.split('.').map(str::to_owned).collect()
}

fn tree_error(origin: &str, error: TreeError) -> ConfigError {
    ConfigError::Invalid { origin: origin.to_owned(), key: Some(error.key), problem: error.problem }
}

/// Turns figment's extraction error into our one-line form, naming the source
/// through the metadata of the value that failed. The key is left out when it
/// is `assigned`, the key the origin text already shows, and then so is the
/// value found, which the origin shows too.
pub(crate) fn figment_error(error: figment::Error, schema: &Schema, assigned: Option<&str>) -> ConfigError {
    let origin = error.metadata.as_ref().map_or_else(|| "configuration".to_owned(), |m| m.name.to_string());
    let key = error.path.join(".");
    let names_key = assigned == Some(key.as_str());
    let found = |actual: &Actual| {
        if names_key || is_secret_key(&key) { String::new() } else { format!(", found {}", describe(actual)) }
    };
    let problem = match &error.kind {
        Kind::InvalidType(actual, expected) | Kind::InvalidValue(actual, expected) => {
            format!("expected {}{}", plain_expectation(expected), found(actual))
        }
        Kind::UnknownField(field, _) => {
            let unknown = schema.unknown(&crate::tree::join(&key, field));
            return ConfigError::UnknownKey { origin, key: unknown.key, suggestion: unknown.suggestion };
        }
        Kind::Message(message) => message.clone(),
        other => other.to_string(),
    };
    ConfigError::Invalid { origin, key: (!names_key).then_some(key), problem }
}

/// Serde's names for expected types, in words a configuration user knows.
fn plain_expectation(expected: &str) -> String {
    match expected {
        "u32" => format!("a non-negative integer (at most {})", u32::MAX),
        "u8" | "u16" | "u64" | "usize" => "a non-negative integer".to_owned(),
        "i8" | "i16" | "i32" | "i64" | "isize" => "an integer".to_owned(),
        "a sequence" => "a list".to_owned(),
        "a map" => "a mapping".to_owned(),
        other if other.starts_with("struct ") => "a mapping of keys".to_owned(),
        other => other.to_owned(),
    }
}

fn describe(actual: &Actual) -> String {
    match actual {
        Actual::Bool(b) => format!("the boolean {b}"),
        Actual::Unsigned(n) => format!("the number {n}"),
        Actual::Signed(n) => format!("the number {n}"),
        Actual::Float(n) => format!("the number {n}"),
        Actual::Str(s) => format!("the string {s:?}"),
        Actual::Unit | Actual::Option => "null".to_owned(),
        Actual::Seq => "a list".to_owned(),
        Actual::Map => "a mapping".to_owned(),
        other => other.to_string(),
    }
}
