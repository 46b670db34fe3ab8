//! Reading a configuration file, bounded: only a regular file, and at most [`CONFIG_FILE_LIMIT`] bytes.
//!
//! `--config`, `$DOWNSCALE_CONFIG` and the configuration directories may name a FIFO (reading blocks until someone
//! writes), `/dev/zero` (reading never ends and fills memory), a directory or a device. Each is refused before it
//! is read, and a regular file is read through the limit, so even a file growing while it is read costs at most
//! the limit (`downscale_fs::read_regular_file`, which catalogs and parameter files are read through too).

use std::path::Path;

use downscale_fs::{FileReadError, human_bytes, read_regular_file};

use crate::error::ConfigError;

/// Largest configuration file read, in bytes. Real ones are a few hundred bytes to a few KB.
pub const CONFIG_FILE_LIMIT: u64 = 4 << 20;

/// The text of the configuration file at `path`; `origin` names it in errors (`config file PATH`).
pub(crate) fn read_config_file(path: &Path, origin: &str) -> Result<String, ConfigError> {
    let invalid = |problem: String| ConfigError::Invalid { origin: origin.to_owned(), key: None, problem };
    let bytes = read_regular_file(path, CONFIG_FILE_LIMIT).map_err(|error| match error {
        FileReadError::Io(e) => ConfigError::Read { origin: origin.to_owned(), reason: e.to_string() },
        FileReadError::NotRegular { found } => {
            invalid(format!("expected a YAML configuration file (a regular file), found {found}"))
        }
        FileReadError::TooLarge { limit } => {
            invalid(format!("larger than {}, the most a configuration file may hold", human_bytes(limit)))
        }
    })?;
    String::from_utf8(bytes).map_err(|e| {
        invalid(format!("not UTF-8 text (invalid byte at offset {}); save it as UTF-8", e.utf8_error().valid_up_to()))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn special_files_are_refused_before_reading() {
        let dir = tempfile::tempdir().unwrap();
        let error = read_config_file(dir.path(), "config file D").unwrap_err().to_string();
        assert_eq!(error, "config file D: expected a YAML configuration file (a regular file), found a directory");
        let error = read_config_file(Path::new("/dev/zero"), "config file /dev/zero").unwrap_err().to_string();
        assert!(error.ends_with("found a character device"), "{error}");
    }

    #[test]
    fn files_above_the_limit_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("big.yaml");
        std::fs::write(&path, " ".repeat(CONFIG_FILE_LIMIT as usize + 1)).unwrap();
        let error = read_config_file(&path, "config file big.yaml").unwrap_err().to_string();
        assert_eq!(error, "config file big.yaml: larger than 4 MiB, the most a configuration file may hold");
        std::fs::write(&path, b"a: \xff\n").unwrap();
        let error = read_config_file(&path, "config file big.yaml").unwrap_err().to_string();
        assert!(error.contains("not UTF-8 text (invalid byte at offset 3)"), "{error}");
    }
}
