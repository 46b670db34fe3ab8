//! Path-valued keys, and where their relative paths point.
//!
//! A configuration file is written next to what it names (a project folder holding `downscale.yaml` and its
//! catalogs), so a relative path in a file is taken from the file's folder, whatever the working directory of
//! the command. Values from the built-in defaults, the environment and `--set` are typed or chosen where the
//! command runs, so theirs stay relative to the working directory, as a shell would take them.

use std::path::{Component, Path, PathBuf};

use crate::config::{Entry, ValueOrigin};
use crate::error::ConfigError;
use crate::settings::Settings;

/// The keys whose values name local files or folders (or URLs, which are left alone).
pub(crate) const PATH_KEYS: [&str; 7] = [
    "data_catalog.model",
    "data_catalog.obs",
    "run_records",
    "runtimes.slurm.log_dir",
    "storage.intermediate.uri",
    "storage.results.uri",
    "storage.scratch.uri",
];

/// Whether `key` holds a path.
pub(crate) fn is_path_key(key: &str) -> bool {
    PATH_KEYS.contains(&key)
}

/// Whether `value` is a relative local path. Not a URL (`s3://…`, and `file://…`, which names an absolute path
/// or is refused where it is used), not absolute, not empty, and not starting with a `$` reference, which may
/// expand to an absolute path and is only expanded when used.
pub(crate) fn is_relative_path(value: &str) -> bool {
    !value.is_empty() && !value.starts_with('$') && !has_url_scheme(value) && Path::new(value).is_relative()
}

/// `scheme://…` with a scheme as URLs spell it (two characters or more, so that no drive letter is taken for one).
fn has_url_scheme(text: &str) -> bool {
    text.split_once("://").is_some_and(|(scheme, _)| {
        scheme.len() >= 2
            && scheme.starts_with(|c: char| c.is_ascii_alphabetic())
            && scheme.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
    })
}

/// `relative` taken from the folder `base`, with `.` and `..` resolved without touching the disk (the file need
/// not exist yet: results and run records are written later), so `/a/conf` and `../cat.json` give `/a/cat.json`.
pub(crate) fn resolve(base: &Path, relative: &str) -> PathBuf {
    let mut out = PathBuf::new();
    for component in base.join(relative).components() {
        match component {
            Component::CurDir => {}
            // `..` of the root is the root, as the system takes it.
            Component::ParentDir => {
                if !out.pop() && !out.has_root() {
                    out.push(component);
                }
            }
            other => out.push(other),
        }
    }
    out
}

/// The folder relative paths of a configuration file are taken from: the file's own, made absolute.
fn folder_of(file: &Path) -> Result<PathBuf, std::io::Error> {
    let absolute = std::path::absolute(file)?;
    Ok(absolute.parent().map(Path::to_path_buf).unwrap_or(absolute))
}

/// The typed setting behind a path-valued key.
fn setting_mut<'a>(settings: &'a mut Settings, key: &str) -> Option<&'a mut String> {
    match key {
        "data_catalog.model" => Some(&mut settings.data_catalog.model),
        "data_catalog.obs" => Some(&mut settings.data_catalog.obs),
        "run_records" => Some(&mut settings.run_records),
        "runtimes.slurm.log_dir" => Some(&mut settings.runtimes.slurm.log_dir),
        "storage.intermediate.uri" => Some(&mut settings.storage.intermediate.uri),
        "storage.results.uri" => Some(&mut settings.storage.results.uri),
        "storage.scratch.uri" => Some(&mut settings.storage.scratch.uri),
        _ => None,
    }
}

/// Resolves every path-valued key whose relative path came from a configuration file against that file's folder:
/// the typed settings get the resolved path, and the entry keeps the value as written beside it (`config show`
/// prints both).
pub(crate) fn resolve_file_paths(settings: &mut Settings, entries: &mut [Entry]) -> Result<(), ConfigError> {
    for entry in entries.iter_mut().filter(|entry| is_path_key(&entry.key)) {
        let (ValueOrigin::File(file), serde_json::Value::String(written)) = (&entry.source, &entry.value) else {
            continue;
        };
        if !is_relative_path(written) {
            continue;
        }
        let origin = || format!("config file {}", downscale_message::escape_controls(&file.display().to_string()));
        let folder = folder_of(file)
            .map_err(|e| ConfigError::Read { origin: origin(), reason: format!("cannot find its folder: {e}") })?;
        let resolved = resolve(&folder, written);
        let Some(text) = resolved.to_str() else {
            return Err(ConfigError::Invalid {
                origin: origin(),
                key: Some(entry.key.clone()),
                problem: format!(
                    "the relative path `{written}` is taken from the file's folder, whose name is not UTF-8 text; \
                     write an absolute path"
                ),
            });
        };
        if let Some(setting) = setting_mut(settings, &entry.key) {
            *setting = text.to_owned();
        }
        entry.resolved = Some(text.to_owned());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_relative_paths_are_relative() {
        for relative in ["data/catalog/cmip.json", "./out", "../cat/cmip.json", "out/$RUN", "~/x", "c:/x"] {
            assert!(is_relative_path(relative), "{relative}");
        }
        for other in ["/abs/cmip.json", "s3://bucket/x", "file://out", "az://c/x", "$HOME/cat.json", "${X}/y", ""] {
            assert!(!is_relative_path(other), "{other}");
        }
    }

    #[test]
    fn resolution_is_lexical_from_the_folder() {
        let base = Path::new("/tmp/x");
        assert_eq!(resolve(base, "../cat/cmip.json"), PathBuf::from("/tmp/cat/cmip.json"));
        assert_eq!(resolve(base, "./out/results"), PathBuf::from("/tmp/x/out/results"));
        assert_eq!(resolve(base, "runs.sqlite"), PathBuf::from("/tmp/x/runs.sqlite"));
        assert_eq!(resolve(Path::new("/"), "../a"), PathBuf::from("/a"));
        assert_eq!(folder_of(Path::new("/etc/downscale/a.yaml")).unwrap(), PathBuf::from("/etc/downscale"));
        let here = std::env::current_dir().unwrap();
        assert_eq!(folder_of(Path::new("a.yaml")).unwrap(), here);
    }

    #[test]
    fn every_path_key_has_its_setting() {
        let mut settings: Settings = figment::Figment::from(crate::layers::Layer::defaults().unwrap())
            .extract()
            .expect("the defaults are valid settings");
        for key in PATH_KEYS {
            assert!(setting_mut(&mut settings, key).is_some(), "{key}");
        }
    }
}
