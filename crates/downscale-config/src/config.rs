//! Loading, and the loaded configuration with each value's source.

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;

use figment::value::{Dict, Value};
use figment::{Figment, Profile, Provider};

use crate::env::{self, IgnoredVariable, variable_for};
use crate::error::ConfigError;
use crate::expand::{ExpandError, expand};
use crate::layers::{Layer, figment_error, merge, origin_of};
use crate::paths::{is_path_key, is_relative_path, resolve, resolve_file_paths};
use crate::redact::shown_value;
use crate::schema::{Node, Schema};
use crate::scoped::current_layers;
use crate::settings::Settings;
use crate::sources::Sources;
use crate::tree::{join, normalise_key, to_json};
use downscale_message::escape_controls;

/// Where a value came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ValueOrigin {
    /// The built-in defaults.
    Default,
    /// A YAML file.
    File(PathBuf),
    /// An environment variable, by name.
    Env(String),
    /// A `--set` on the command line.
    Set,
    /// A scoped override made with [`set`](crate::set).
    Api,
}

impl fmt::Display for ValueOrigin {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        match self {
            ValueOrigin::Default => f.write_str("default"),
            ValueOrigin::File(path) => write!(f, "file {}", path.display()),
            ValueOrigin::Env(name) => write!(f, "env {name}"),
            ValueOrigin::Set => f.write_str("--set"),
            ValueOrigin::Api => f.write_str("scoped set"),
        }
    }
}

/// One leaf of the merged configuration. Its `Debug` output redacts secrets.
#[derive(Clone, PartialEq)]
pub struct Entry {
    /// Dotted, normalised key, e.g. `storage.results.uri`.
    pub key: String,
    /// The raw value (before `$VAR` expansion). An empty map is a leaf too.
    pub value: serde_json::Value,
    /// Which layer the value came from.
    pub source: ValueOrigin,
    /// For a path-valued key holding a relative path written in a configuration file: that path taken from the
    /// file's folder, which the settings and [`Config::expand`] give instead of `value`.
    pub resolved: Option<String>,
}

/// The configuration as loaded by one call of [`load`].
///
/// Its `Debug` output shows the redacted entries and only the number of
/// environment variables, since both may hold credentials.
#[derive(Clone)]
pub struct Config {
    settings: Settings,
    entries: Vec<Entry>,
    ignored: Vec<IgnoredVariable>,
    env: BTreeMap<String, String>,
    schema: Schema,
}

impl fmt::Debug for Entry {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.debug_struct("Entry")
            .field("key", &self.key)
            .field("value", &shown_value(&self.key, &self.value))
            .field("source", &self.source)
            .field("resolved", &self.resolved)
            .finish()
    }
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.debug_struct("Config")
            .field("entries", &self.entries)
            .field("ignored", &self.ignored)
            .field("env", &format_args!("{} variables", self.env.len()))
            .finish_non_exhaustive()
    }
}

/// Reads every layer now and merges them, lowest priority first: defaults,
/// files (see [`Sources::config_files`]), environment, `--set`, then this
/// thread's scoped overrides. Nothing is cached, so each call sees the files
/// and environment as they are at that moment.
pub fn load(sources: &Sources) -> Result<Config, ConfigError> {
    let defaults = Layer::defaults()?;
    let schema = Schema::from_defaults(defaults.tree());
    let mut layers = Vec::new();
    for path in sources.config_files()? {
        layers.push(Layer::file(&path)?);
    }
    let (env_layers, ignored) = env::read(&sources.env, &schema)?;
    layers.extend(env_layers);
    for text in &sources.overrides {
        layers.push(Layer::set(text)?);
    }
    layers.extend(current_layers());
    for layer in &layers {
        layer.validate(&schema, &defaults)?;
    }
    layers.insert(0, defaults);
    let figment = merge(&layers);
    let mut settings: Settings = figment.extract().map_err(|e| figment_error(e, &schema, None))?;
    let mut entries = leaves(&figment, &schema)?;
    resolve_file_paths(&mut settings, &mut entries)?;
    Ok(Config { settings, entries, ignored, env: sources.env.clone(), schema })
}

/// Every leaf of the merged tree with its source, sorted by key.
fn leaves(figment: &Figment, schema: &Schema) -> Result<Vec<Entry>, ConfigError> {
    let data = figment.data().map_err(|e| figment_error(e, schema, None))?;
    let mut entries = Vec::new();
    if let Some(root) = data.get(&Profile::Default) {
        collect(figment, root, "", &mut entries);
    }
    entries.sort_by(|a, b| a.key.cmp(&b.key));
    Ok(entries)
}

fn collect(figment: &Figment, dict: &Dict, at: &str, out: &mut Vec<Entry>) {
    for (segment, value) in dict {
        let key = join(at, segment);
        match value {
            Value::Dict(_, children) if !children.is_empty() => collect(figment, children, &key, out),
            _ => {
                let source = figment.get_metadata(value.tag()).map_or(ValueOrigin::Default, origin_of);
                out.push(Entry { key, value: to_json(value), source, resolved: None });
            }
        }
    }
}

impl Config {
    /// The typed view. Strings are raw: expand them with [`Config::expand`].
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// Every leaf key with its value and source, sorted by key.
    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    /// The leaf at `key`; `-` and `_` are alike.
    pub fn get(&self, key: &str) -> Option<&Entry> {
        let key = normalise_key(key);
        self.entries.iter().find(|entry| entry.key == key)
    }

    /// Settings accepted but not used as written, one line each naming the key, its value and its source: a
    /// runtime's `threads` above the cores of this machine, which runs cap to the cores
    /// ([`LocalRuntime::worker_threads`](crate::LocalRuntime::worker_threads)).
    pub fn warnings(&self) -> Vec<String> {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let runtimes = &self.settings.runtimes;
        let mut warnings = Vec::new();
        for (name, runtime) in [("local", &runtimes.local), ("ci", &runtimes.ci)] {
            let used = runtime.worker_threads(cores);
            if runtime.threads as usize > used {
                let key = format!("runtimes.{name}.threads");
                let source = self.get(&key).map_or(ValueOrigin::Default, |entry| entry.source.clone());
                warnings.push(format!(
                    "`{key}` = {} (from {source}) is more than the {cores} cores of this machine; runs use {used} \
                     threads",
                    runtime.threads
                ));
            }
        }
        warnings
    }

    /// `DOWNSCALE_*` variables that were not configuration, by name.
    pub fn ignored_environment(&self) -> &[IgnoredVariable] {
        &self.ignored
    }

    /// The value at `key` with `$VAR`, `${VAR}` and `$$` expanded from the
    /// environment this configuration was loaded with. Numbers and booleans
    /// (such as an option `allow_http: true`) are returned as their text.
    pub fn expand(&self, key: &str) -> Result<String, ConfigError> {
        let entry = self.get(key).ok_or_else(|| self.unknown(key))?;
        self.expand_entry(entry)
    }

    /// The free-form map at `key` (such as `storage.results.options`), each
    /// value expanded like [`Config::expand`]; keys are relative to `key`.
    pub fn expand_options(&self, key: &str) -> Result<BTreeMap<String, String>, ConfigError> {
        let key = normalise_key(key);
        match self.schema.node(&key) {
            Some(Node::FreeMap) => {}
            Some(_) => {
                let problem = "expected a map of options, such as `storage.results.options`".to_owned();
                return Err(ConfigError::Invalid { origin: "lookup".to_owned(), key: Some(key), problem });
            }
            None => return Err(self.unknown(&key)),
        }
        let prefix = format!("{key}.");
        self.entries
            .iter()
            .filter_map(|entry| Some((entry.key.strip_prefix(&prefix)?, entry)))
            .map(|(name, entry)| Ok((name.to_owned(), self.expand_entry(entry)?)))
            .collect()
    }

    fn expand_entry(&self, entry: &Entry) -> Result<String, ConfigError> {
        let raw = match &entry.value {
            serde_json::Value::String(_) if entry.resolved.is_some() => entry.resolved.clone().unwrap_or_default(),
            serde_json::Value::String(text) => text.clone(),
            // The same text the typed settings hold for an option value.
            serde_json::Value::Number(n) if n.is_f64() => return Ok(n.as_f64().unwrap_or(f64::NAN).to_string()),
            serde_json::Value::Bool(_) | serde_json::Value::Number(_) => return Ok(entry.value.to_string()),
            other => {
                let problem = format!("expected a string to expand, found {}", json_kind(other));
                return Err(ConfigError::BadReference { key: entry.key.clone(), from: entry.source.clone(), problem });
            }
        };
        expand(&raw, &self.env).map_err(|error| match error {
            ExpandError::Missing(variable) => {
                ConfigError::MissingVariable { key: entry.key.clone(), variable, from: entry.source.clone() }
            }
            ExpandError::Malformed(problem) => {
                ConfigError::BadReference { key: entry.key.clone(), from: entry.source.clone(), problem }
            }
        })
    }

    /// The absolute path the path-valued `key` names, when its value is a local path: the resolved path of a
    /// relative one from a file, the working directory joined with another relative one, the value itself when
    /// absolute; `None` for a URL, a `$` reference (known only when expanded) or another key.
    pub fn absolute_path(&self, key: &str) -> Option<String> {
        let entry = self.get(key)?;
        path_of(entry)
    }

    /// Where the value of `key` came from, for a message about the file it names, which the message names
    /// itself: `relative to /home/me; the built-in default`, ``../cat/cmip.json` in /srv/x/downscale.yaml``,
    /// `from the environment variable DOWNSCALE_DATA_CATALOG__MODEL`, `relative to /home/me; from --set`.
    pub fn path_origin(&self, key: &str) -> String {
        let Some(entry) = self.get(key) else { return "an unknown key".to_owned() };
        let written = entry.value.as_str().unwrap_or_default();
        let relative_to = match (&entry.source, is_relative_path(written)) {
            (ValueOrigin::File(_), _) | (_, false) => None,
            (_, true) => std::env::current_dir().ok(),
        };
        let source = match &entry.source {
            ValueOrigin::Default => "the built-in default".to_owned(),
            ValueOrigin::File(file) if entry.resolved.is_some() => {
                format!("`{}` in {}", escape_controls(written), escape_controls(&file.display().to_string()))
            }
            ValueOrigin::File(file) => format!("from {}", escape_controls(&file.display().to_string())),
            ValueOrigin::Env(name) => format!("from the environment variable {name}"),
            ValueOrigin::Set => "from --set".to_owned(),
            ValueOrigin::Api => "from a scoped set".to_owned(),
        };
        match relative_to {
            Some(dir) => format!("relative to {}; {source}", escape_controls(&dir.display().to_string())),
            None => source,
        }
    }

    /// How a user sets `key`, for a message about a value that did not work where the user never gave one: `set
    /// it with --set KEY=PLACEHOLDER, the environment variable DOWNSCALE_…, or a configuration file`.
    pub fn how_to_set(key: &str, placeholder: &str) -> String {
        let key = normalise_key(key);
        format!(
            "set it with --set {key}={placeholder}, the environment variable {}, or a configuration file",
            variable_for(&key)
        )
    }

    fn unknown(&self, key: &str) -> ConfigError {
        let unknown = self.schema.unknown(&normalise_key(key));
        ConfigError::UnknownKey { origin: "lookup".to_owned(), key: unknown.key, suggestion: unknown.suggestion }
    }
}

fn json_kind(value: &serde_json::Value) -> &'static str {
    match value {
        serde_json::Value::Null => "null",
        serde_json::Value::Array(_) => "a list",
        _ => "a mapping",
    }
}

/// See [`Config::absolute_path`].
pub(crate) fn path_of(entry: &Entry) -> Option<String> {
    if !is_path_key(&entry.key) {
        return None;
    }
    if let Some(resolved) = &entry.resolved {
        return Some(resolved.clone());
    }
    let written = entry.value.as_str()?;
    if is_relative_path(written) {
        let here = std::env::current_dir().ok()?;
        return Some(resolve(&here, written).to_string_lossy().into_owned());
    }
    let absolute = !written.is_empty() && !written.starts_with('$') && std::path::Path::new(written).is_absolute();
    absolute.then(|| written.to_owned())
}
