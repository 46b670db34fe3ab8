//! Layered configuration of the `downscale` tool.
//!
//! Layers, lowest priority first, in the manner of Python's donfig:
//!
//! 1. built-in defaults;
//! 2. YAML files: every `*.yaml`/`*.yml` in `/etc/downscale/`, then in
//!    `$XDG_CONFIG_HOME/downscale/` (default `$HOME/.config/downscale/`), each
//!    directory in file-name order; then `$DOWNSCALE_CONFIG`; then each
//!    `--config FILE`;
//! 3. environment variables `DOWNSCALE_A__B=value` for key `a.b`;
//! 4. `--set a.b=value` from the command line;
//! 5. scoped overrides from [`set`], innermost first.
//!
//! Keys treat `-` and `_` alike. Nested keys merge, so a file that sets
//! `storage.results.uri` keeps the default `storage.intermediate`. Unknown
//! keys and wrong types are errors that name the source and suggest the
//! nearest valid key. Nothing is cached: [`load`] reads files and the
//! environment each time, so a changed file is seen by the next load.
//!
//! A relative path in a configuration file (`data_catalog.*`, `storage.*.uri`,
//! `run_records`) is taken from the file's folder when it is loaded; one from
//! the defaults, the environment or `--set` stays relative to the working
//! directory. [`Entry::resolved`] keeps the resolved path beside the value as
//! written, and [`Config::path_origin`] says where a path came from for
//! messages about the file it names.
//!
//! `$VAR` references in strings are expanded only when a value is used
//! ([`Config::expand`]), so secrets can live in the environment alone, and
//! [`Config::show_text`] / [`Config::show_json`] redact secret-looking keys.

mod config;
mod depth;
mod env;
mod error;
mod expand;
mod layers;
mod memory;
mod paths;
mod read;
mod redact;
mod schema;
mod scoped;
mod settings;
mod show;
mod sources;
mod tree;

pub use config::{Config, Entry, ValueOrigin, load};
pub use depth::MAX_DEPTH;
pub use env::{CONFIG_FILE_VAR, ENV_PREFIX, IgnoredVariable, variable_for};
pub use error::ConfigError;
pub use memory::{MemoryLimit, MemoryLimitError};
pub use read::CONFIG_FILE_LIMIT;
pub use redact::hide_uri_password;
pub use scoped::{ScopeGuard, set};
pub use settings::{
    Dashboard, DaskRuntime, DataCatalog, FieldLengths, Gard, LocalRuntime, MIN_RUN_MEMORY, PrefectReporting,
    RandomFields, Reporting, RunOptions, RuntimeKind, Runtimes, Settings, SlurmRuntime, Storage, StorageLocation,
};
pub use sources::{SYSTEM_DIR, Sources};
