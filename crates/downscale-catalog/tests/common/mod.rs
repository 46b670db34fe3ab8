//! Helpers shared by the integration tests (included with `mod common;`; each test binary uses a subset).

#![allow(dead_code, reason = "each test binary uses only some of the helpers")]

use std::path::{Path, PathBuf};

/// The catalogs shipped in the repository (`data/catalog`).
pub(crate) fn shipped(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/catalog").join(name)
}

/// Writes `files` (name, content) into `dir`, creating subdirectories, and returns the path of the first.
pub(crate) fn write_files(dir: &Path, files: &[(&str, &str)]) -> PathBuf {
    for (name, content) in files {
        let path = dir.join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).unwrap();
        }
        std::fs::write(path, content).unwrap();
    }
    dir.join(files[0].0)
}

/// A collection JSON in the shape of the shipped observation catalog, with `table` as its catalog file.
pub(crate) fn obs_collection(table: &str) -> String {
    format!(
        r#"{{
  "esmcat_version": "0.1.0",
  "id": "test-obs",
  "description": "observations for a test",
  "catalog_file": "{table}",
  "attributes": [{{"column_name": "source_id"}}, {{"column_name": "variable_id"}}],
  "assets": {{"column_name": "path", "format": "netcdf"}}
}}"#
    )
}

/// Asserts the error message is one line and names the collection file.
pub(crate) fn assert_one_line_naming(message: &str, collection: &Path) {
    assert!(!message.contains('\n') && !message.contains('\r'), "not one line: {message:?}");
    let named = collection.display().to_string();
    assert!(message.starts_with(&format!("{named}: ")), "does not start with {named}: {message}");
}
