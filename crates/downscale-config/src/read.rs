//! Reading a configuration file, bounded: only a regular file, and at most [`CONFIG_FILE_LIMIT`] bytes.
//!
//! `--config`, `$DOWNSCALE_CONFIG` and the configuration directories may name a FIFO (reading blocks until someone
//! writes), `/dev/zero` (reading never ends and fills memory), a directory or a device. Each is refused before it
//! is read, and a regular file is read through the limit, so even a file growing while it is read costs at most
//! the limit. (`downscale-catalog` reads catalog and parameter files by the same rule.)

use std::fs::{File, FileType};
use std::io::Read;
use std::path::Path;

use crate::error::ConfigError;

/// Largest configuration file read, in bytes. Real ones are a few hundred bytes to a few KB.
pub const CONFIG_FILE_LIMIT: u64 = 4 << 20;

/// The text of the configuration file at `path`; `origin` names it in errors (`config file PATH`).
///
/// The type is checked before opening (opening a FIFO would already block) and again on the opened handle, so a
/// path swapped between the two checks is still caught before a byte is read.
pub(crate) fn read_config_file(path: &Path, origin: &str) -> Result<String, ConfigError> {
    let io = |e: std::io::Error| ConfigError::Read { origin: origin.to_owned(), reason: e.to_string() };
    let invalid = |problem: String| ConfigError::Invalid { origin: origin.to_owned(), key: None, problem };
    let too_large =
        || invalid(format!("larger than {} MiB, the most a configuration file may hold", CONFIG_FILE_LIMIT >> 20));
    check_regular(std::fs::metadata(path).map_err(io)?.file_type()).map_err(invalid)?;
    let file = File::open(path).map_err(io)?;
    let opened = file.metadata().map_err(io)?;
    check_regular(opened.file_type()).map_err(invalid)?;
    if opened.len() > CONFIG_FILE_LIMIT {
        return Err(too_large());
    }
    let mut bytes = Vec::with_capacity(opened.len() as usize);
    // One byte more than the limit tells a file that grew past it from one that is exactly at it.
    file.take(CONFIG_FILE_LIMIT + 1).read_to_end(&mut bytes).map_err(io)?;
    if bytes.len() as u64 > CONFIG_FILE_LIMIT {
        return Err(too_large());
    }
    String::from_utf8(bytes).map_err(|e| {
        invalid(format!("not UTF-8 text (invalid byte at offset {}); save it as UTF-8", e.utf8_error().valid_up_to()))
    })
}

fn check_regular(file_type: FileType) -> Result<(), String> {
    if file_type.is_file() {
        return Ok(());
    }
    Err(format!("expected a YAML configuration file (a regular file), found {}", kind_of(file_type)))
}

fn kind_of(file_type: FileType) -> &'static str {
    if file_type.is_dir() {
        return "a directory";
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if file_type.is_fifo() {
            return "a named pipe (FIFO)";
        }
        if file_type.is_char_device() {
            return "a character device";
        }
        if file_type.is_block_device() {
            return "a block device";
        }
        if file_type.is_socket() {
            return "a socket";
        }
    }
    "a special file"
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
