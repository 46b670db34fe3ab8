//! A catalog path that names a FIFO, a device or a directory is refused before it is read (reading a FIFO blocks
//! forever, `/dev/zero` never ends), and an oversized collection JSON is refused at its limit.

mod common;

use std::path::Path;

use common::{assert_one_line_naming, obs_collection};
use downscale_catalog::{COLLECTION_JSON_LIMIT, Catalog};

fn refused(path: &Path, fragments: &[&str]) {
    let message = match Catalog::open(path) {
        Ok(_) => panic!("{} opened, expected an error with {fragments:?}", path.display()),
        Err(error) => error.to_string(),
    };
    assert_one_line_naming(&message, path);
    for fragment in fragments {
        assert!(message.contains(fragment), "{message:?} lacks {fragment:?}");
    }
}

fn mkfifo(path: &Path) {
    let status = std::process::Command::new("mkfifo").arg(path).status().expect("mkfifo runs");
    assert!(status.success(), "mkfifo {}", path.display());
}

#[test]
fn collection_json_that_is_not_a_regular_file_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("obs.json");
    mkfifo(&fifo);
    refused(&fifo, &["expected a collection JSON (a regular file), found a named pipe (FIFO)"]);
    refused(Path::new("/dev/zero"), &["found a character device"]);
    refused(dir.path(), &["found a directory"]);
}

#[test]
fn catalog_csv_that_is_not_a_regular_file_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let collection = common::write_files(dir.path(), &[("obs.json", &obs_collection("obs.csv"))]);
    mkfifo(&dir.path().join("obs.csv"));
    refused(&collection, &["catalog_file", "obs.csv: expected a catalog CSV (a regular file), found a named pipe"]);
    let devices = common::write_files(dir.path(), &[("zero.json", &obs_collection("/dev/zero"))]);
    refused(&devices, &["catalog_file /dev/zero: expected a catalog CSV (a regular file), found a character device"]);
}

#[test]
fn collection_json_above_its_limit_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("obs.json");
    // Valid JSON all the way: the limit, not the parser, refuses it.
    let padding = " ".repeat(COLLECTION_JSON_LIMIT as usize);
    std::fs::write(&path, format!("{}{padding}", obs_collection("obs.csv"))).unwrap();
    refused(&path, &["larger than 4 MiB, the most a collection JSON may hold"]);
}
