//! The inputs of loading, gathered in one value.
//!
//! Loading reads directories, files and an environment map that are all named
//! here, so tests pass temporary directories and an explicit environment
//! instead of touching the real ones, and the tool passes
//! [`Sources::from_process`].

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::fmt;
use std::path::{Path, PathBuf};

use crate::env::CONFIG_FILE_VAR;
use crate::error::ConfigError;
use crate::redact::shown_assignment;

/// The system-wide configuration directory.
pub const SYSTEM_DIR: &str = "/etc/downscale";

/// Everything [`load`](crate::load) reads, lowest priority first.
///
/// Its `Debug` output lists environment variable names only, not values.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Sources {
    /// Directory of system-wide `*.yaml`/`*.yml` files; a missing one is skipped.
    pub system_dir: Option<PathBuf>,
    /// Directory of the user's `*.yaml`/`*.yml` files; a missing one is skipped.
    pub user_dir: Option<PathBuf>,
    /// The environment: `DOWNSCALE_*` configuration variables, `DOWNSCALE_CONFIG`,
    /// and the variables `$VAR` references expand from.
    pub env: BTreeMap<String, String>,
    /// `--config FILE` arguments, in command-line order.
    pub files: Vec<PathBuf>,
    /// `--set KEY=VALUE` arguments, in command-line order.
    pub overrides: Vec<String>,
}

impl Sources {
    /// The real sources: `/etc/downscale`, `$XDG_CONFIG_HOME/downscale` (or
    /// `$HOME/.config/downscale`) and the process environment, plus the
    /// command line's `--config` files and `--set` overrides.
    ///
    /// Variables whose name or value is not valid Unicode are left out rather
    /// than altered: a lossily converted credential would fail in confusing
    /// ways, while a missing one is reported by name when used.
    pub fn from_process(files: Vec<PathBuf>, overrides: Vec<String>) -> Sources {
        let env: BTreeMap<String, String> = std::env::vars_os()
            .filter_map(|(name, value): (OsString, OsString)| {
                Some((name.into_string().ok()?, value.into_string().ok()?))
            })
            .collect();
        Sources { system_dir: Some(PathBuf::from(SYSTEM_DIR)), user_dir: user_dir(&env), env, files, overrides }
    }

    /// Every configuration file, lowest priority first: the system directory,
    /// the user directory (each in file-name order), `$DOWNSCALE_CONFIG`, then
    /// the `--config` files.
    pub fn config_files(&self) -> Result<Vec<PathBuf>, ConfigError> {
        let mut files = Vec::new();
        for dir in [&self.system_dir, &self.user_dir].into_iter().flatten() {
            files.extend(yaml_files_in(dir)?);
        }
        if let Some(named) = self.env.get(CONFIG_FILE_VAR).filter(|v| !v.is_empty()) {
            files.push(PathBuf::from(named));
        }
        files.extend(self.files.iter().cloned());
        Ok(files)
    }
}

impl fmt::Debug for Sources {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.debug_struct("Sources")
            .field("system_dir", &self.system_dir)
            .field("user_dir", &self.user_dir)
            .field("env", &self.env.keys().collect::<Vec<_>>())
            .field("files", &self.files)
            .field("overrides", &self.overrides.iter().map(|o| shown_assignment(o)).collect::<Vec<_>>())
            .finish()
    }
}

/// The XDG base-directory rule: `$XDG_CONFIG_HOME` if it is an absolute path,
/// else `$HOME/.config`.
fn user_dir(env: &BTreeMap<String, String>) -> Option<PathBuf> {
    let xdg = env.get("XDG_CONFIG_HOME").map(PathBuf::from).filter(|p| p.is_absolute());
    let base = xdg.or_else(|| env.get("HOME").filter(|h| !h.is_empty()).map(|h| Path::new(h).join(".config")))?;
    Some(base.join("downscale"))
}

/// The `*.yaml` and `*.yml` files of `dir`, sorted by file name. A directory
/// that does not exist holds no configuration; one that cannot be listed is an
/// error, since silently skipping it would drop settings the user wrote.
fn yaml_files_in(dir: &Path) -> Result<Vec<PathBuf>, ConfigError> {
    let origin = || format!("config directory {}", dir.display());
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(ConfigError::Read { origin: origin(), reason: e.to_string() }),
    };
    let mut files = Vec::new();
    for entry in entries {
        let path = entry.map_err(|e| ConfigError::Read { origin: origin(), reason: e.to_string() })?.path();
        let is_yaml = path.extension().is_some_and(|ext| ext == "yaml" || ext == "yml");
        if is_yaml && path.is_file() {
            files.push(path);
        }
    }
    files.sort_by(|a, b| a.file_name().cmp(&b.file_name()));
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn from_process_uses_the_real_directories_and_keeps_the_command_line() {
        let sources = Sources::from_process(vec![PathBuf::from("x.yaml")], vec!["runtime=ci".into()]);
        assert_eq!(sources.system_dir, Some(PathBuf::from("/etc/downscale")));
        assert_eq!(sources.user_dir, user_dir(&sources.env));
        assert_eq!((sources.files.len(), sources.overrides.len()), (1, 1));
        assert_eq!(sources.env.contains_key("PATH"), std::env::var_os("PATH").is_some());
    }

    #[test]
    fn user_dir_follows_xdg_then_home() {
        let env = |pairs: &[(&str, &str)]| pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        assert_eq!(user_dir(&env(&[("XDG_CONFIG_HOME", "/x"), ("HOME", "/h")])), Some(PathBuf::from("/x/downscale")));
        assert_eq!(
            user_dir(&env(&[("XDG_CONFIG_HOME", "relative"), ("HOME", "/h")])),
            Some(PathBuf::from("/h/.config/downscale"))
        );
        assert_eq!(user_dir(&env(&[])), None);
    }
}
