//! Reading a file a user named, bounded: only regular files, and never more than a stated number of bytes.
//!
//! A path given by a careless or hostile user may name a FIFO (reading blocks until someone writes), `/dev/zero`
//! (reading never ends and fills memory), a directory or a device. Each of these is refused before it is read, and
//! a regular file is read through a limit, so even a file that grows while it is read costs at most the limit.
//! Configuration files, catalogs and parameter files are all read through [`read_regular_file`], each with the limit
//! its own crate states as policy.

use std::fs::{File, FileType};
use std::io::Read;
use std::path::Path;

/// Why a file was not read.
#[derive(Debug)]
pub enum FileReadError {
    /// Opening or reading failed.
    Io(std::io::Error),
    /// The path names something other than a regular file.
    NotRegular {
        /// What it names instead, as words for a message: `a directory`, `a FIFO`.
        found: &'static str,
    },
    /// The file holds more bytes than the caller allows.
    TooLarge {
        /// The most bytes the caller allows.
        limit: u64,
    },
}

impl FileReadError {
    /// The problem as the end of a one-line message that starts with the file: `what` names what the file was
    /// expected to be, e.g. `a parameter file`.
    pub fn describe(&self, what: &str) -> String {
        match self {
            FileReadError::Io(error) => format!("cannot read {what}: {error}"),
            FileReadError::NotRegular { found } => format!("expected {what} (a regular file), found {found}"),
            FileReadError::TooLarge { limit } => {
                format!("larger than {}, the most {what} may hold", human_bytes(*limit))
            }
        }
    }
}

/// The contents of the regular file at `path`, refused when it holds more than `limit` bytes.
///
/// The type is checked before opening (opening a FIFO would already block) and again on the opened handle, so a
/// path swapped between the two checks is still caught before a byte is read.
pub fn read_regular_file(path: &Path, limit: u64) -> Result<Vec<u8>, FileReadError> {
    let before = std::fs::metadata(path).map_err(FileReadError::Io)?;
    check_regular(before.file_type())?;
    let file = File::open(path).map_err(FileReadError::Io)?;
    let opened = file.metadata().map_err(FileReadError::Io)?;
    check_regular(opened.file_type())?;
    if opened.len() > limit {
        return Err(FileReadError::TooLarge { limit });
    }
    let mut bytes = Vec::with_capacity(opened.len() as usize);
    // One byte more than the limit tells a file that grew past it from one that is exactly at it.
    file.take(limit + 1).read_to_end(&mut bytes).map_err(FileReadError::Io)?;
    if bytes.len() as u64 > limit {
        return Err(FileReadError::TooLarge { limit });
    }
    Ok(bytes)
}

fn check_regular(file_type: FileType) -> Result<(), FileReadError> {
    if file_type.is_file() { Ok(()) } else { Err(FileReadError::NotRegular { found: kind_of(file_type) }) }
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

/// `1 MiB`, `256 MiB`, `4096 bytes`: limits are powers of two, shown in the unit they were chosen in.
pub fn human_bytes(bytes: u64) -> String {
    for (unit, size) in [("GiB", 1u64 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)] {
        if bytes >= size && bytes.is_multiple_of(size) {
            return format!("{} {unit}", bytes / size);
        }
    }
    format!("{bytes} bytes")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regular_files_are_read_up_to_the_limit() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.json");
        std::fs::write(&path, b"12345").unwrap();
        assert_eq!(read_regular_file(&path, 5).unwrap(), b"12345");
        let error = read_regular_file(&path, 4).unwrap_err();
        assert_eq!(error.describe("a collection JSON"), "larger than 4 bytes, the most a collection JSON may hold");
    }

    #[test]
    fn directories_and_devices_are_refused_before_reading() {
        let dir = tempfile::tempdir().unwrap();
        let error = read_regular_file(dir.path(), 1 << 20).unwrap_err();
        assert_eq!(error.describe("a catalog"), "expected a catalog (a regular file), found a directory");
        let error = read_regular_file(Path::new("/dev/zero"), 1 << 20).unwrap_err();
        assert!(matches!(error, FileReadError::NotRegular { found: "a character device" }), "{error:?}");
    }

    #[test]
    fn limits_show_in_binary_units() {
        assert_eq!(human_bytes(1 << 20), "1 MiB");
        assert_eq!(human_bytes(256 << 20), "256 MiB");
        assert_eq!(human_bytes(1500), "1500 bytes");
    }
}
