//! What publishing may replace.
//!
//! An output path names where a result goes, and users get paths wrong: a folder of their own files, a NetCDF file
//! they downloaded, a store another tool wrote. Publishing renames a finished store or file onto its destination,
//! which would silently destroy whatever was there. So before anything is written, and again just before the
//! rename, the destination is checked: it may be absent, an empty folder, or an output this tool published there
//! before (a Zarr store or NetCDF file whose global attributes carry [`PRODUCER_ATTRIBUTE`], and for a store,
//! nothing inside it but its own arrays; for a JSON document, report page or CSV table, one of the same kind, see
//! [`OutputKind`]). With [`Replace::AnyDataset`] (the command line's `--overwrite`) another
//! program's Zarr store or NetCDF file may be replaced too. Anything else, a folder holding other files, a regular
//! file that is not NetCDF, a symbolic link, is never replaced: the user gets an error naming the path and moves
//! it away themselves.

use std::collections::BTreeSet;
use std::path::Path;

use serde_json::Value;

use crate::error::{DataError, Result};
use crate::location::Location;

/// The global attribute that marks a store or file as written by this tool (its value is the tool's version).
pub const PRODUCER_ATTRIBUTE: &str = "downscale_version";

/// What a writer may replace at its destination.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Replace {
    /// Only an output this tool wrote (the default): re-running a command replaces its own result.
    #[default]
    OwnOutputs,
    /// Also a Zarr store or NetCDF file another program wrote, because the user said so (`--overwrite`).
    AnyDataset,
}

/// The kind of output a destination is meant to receive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputKind {
    /// A Zarr store: a folder on disk, a key prefix on object storage.
    ZarrStore,
    /// A NetCDF file.
    NetcdfFile,
    /// A JSON document a flow task produced; only a JSON document is replaced by one.
    Document,
    /// An HTML page this tool wrote (a report); only a page carrying [`PAGE_GENERATOR`] is replaced by one.
    Page,
    /// A JSON document this tool writes for users (a catalog), known by the string `value` at the JSON pointer
    /// `pointer`; only such a document is replaced by one (a user's own JSON of the same name is not).
    MarkedDocument {
        /// Where the mark is, e.g. `/id`.
        pointer: &'static str,
        /// The mark.
        value: &'static str,
    },
    /// A CSV table this tool writes, whose header starts with the given columns; only a CSV whose header starts with
    /// them is replaced by one (a user's own table, say a list of points, has other columns).
    Table(&'static [&'static str]),
}

/// The `<meta>` element every HTML page this tool writes carries, by which a page it may replace is known.
pub const PAGE_GENERATOR: &str = "<meta name=\"generator\" content=\"downscale\">";

/// Refuses a destination whose current content publishing must not replace (see the module documentation).
pub fn check_destination(destination: &Location, replace: Replace, kind: OutputKind) -> Result<()> {
    let refusal = match &destination.local_path {
        Some(path) => local_refusal(path, replace, kind),
        None => remote_refusal(destination, replace, kind)?,
    };
    match refusal {
        None => Ok(()),
        Some(reason) => Err(DataError::Write {
            path: destination.display.clone(),
            detail: format!("{reason}; nothing was written (choose another output, or move it away first)"),
            source: None,
        }),
    }
}

/// Why the local `path` must not be replaced, or `None` when it may be.
fn local_refusal(path: &Path, replace: Replace, kind: OutputKind) -> Option<String> {
    let metadata = match std::fs::symlink_metadata(path) {
        Ok(metadata) => metadata,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return None,
        Err(e) => return Some(format!("cannot look at what is there: {e}")),
    };
    let file_type = metadata.file_type();
    if file_type.is_symlink() {
        return Some("it is a symbolic link, which publishing would replace rather than follow".into());
    }
    match kind {
        OutputKind::ZarrStore if file_type.is_dir() => {
            let entries = match local_keys(path) {
                Ok(entries) => entries,
                Err(reason) => return Some(reason),
            };
            if entries.is_empty() {
                return None;
            }
            let root = std::fs::read(path.join("zarr.json")).ok();
            if root.as_deref().is_some_and(|root| is_own_store(root, &entries)) {
                return None;
            }
            let is_zarr = [".zgroup", ".zarray"].iter().any(|m| entries.contains(*m)) || root.is_some();
            match (is_zarr, replace) {
                (true, Replace::AnyDataset) => None,
                (true, Replace::OwnOutputs) => {
                    Some("a Zarr store this tool did not write is already there (--overwrite replaces it)".into())
                }
                (false, _) => Some(format!(
                    "a folder that is not a Zarr store is already there ({} entries, e.g. {})",
                    entries.len(),
                    entries.iter().next().map(String::as_str).unwrap_or_default()
                )),
            }
        }
        OutputKind::ZarrStore => Some("a file that is not a Zarr store is already there".into()),
        _ if !file_type.is_file() => Some("something that is not a regular file is already there".into()),
        OutputKind::NetcdfFile => netcdf_refusal(path, replace),
        OutputKind::Document | OutputKind::MarkedDocument { .. } | OutputKind::Page | OutputKind::Table(_) => {
            match std::fs::read(path) {
                Ok(bytes) => content_refusal(&bytes, kind),
                Err(e) => Some(format!("cannot read what is there: {e}")),
            }
        }
    }
}

/// Why a document, page or table whose current content is `bytes` must not be replaced by one of `kind`.
fn content_refusal(bytes: &[u8], kind: OutputKind) -> Option<String> {
    let (own, what) = match kind {
        OutputKind::Document => {
            (serde_json::from_slice::<Value>(bytes).is_ok(), "a file that is not a JSON document".to_string())
        }
        OutputKind::MarkedDocument { pointer, value } => (
            serde_json::from_slice::<Value>(bytes)
                .is_ok_and(|document| document.pointer(pointer).and_then(Value::as_str) == Some(value)),
            format!("a file that is not a JSON document with \"{value}\" at {pointer}"),
        ),
        OutputKind::Page => (
            bytes.windows(PAGE_GENERATOR.len()).any(|w| w == PAGE_GENERATOR.as_bytes()),
            "a file that is not a page this tool wrote".to_string(),
        ),
        OutputKind::Table(columns) => {
            let header = bytes.split(|&b| b == b'\n').next().unwrap_or_default();
            let header = header.strip_suffix(b"\r").unwrap_or(header);
            let mut found = header.split(|&b| b == b',');
            (
                columns.iter().all(|column| found.next() == Some(column.as_bytes())),
                format!("a file that is not a table starting with the columns '{}'", columns.join(",")),
            )
        }
        OutputKind::ZarrStore | OutputKind::NetcdfFile => return None,
    };
    (!own).then(|| format!("{what} is already there"))
}

/// Why the existing regular file `path` must not be replaced by a NetCDF file.
fn netcdf_refusal(path: &Path, replace: Replace) -> Option<String> {
    use std::io::Read;
    let mut head = [0u8; 8];
    let read = std::fs::File::open(path).and_then(|mut f| f.read(&mut head)).unwrap_or(0);
    let is_netcdf = (read >= 4 && &head[..3] == b"CDF" && matches!(head[3], 1 | 2 | 5))
        || (read == 8 && &head == b"\x89HDF\r\n\x1a\n");
    if !is_netcdf {
        return Some("a file that is not NetCDF is already there".into());
    }
    if replace == Replace::AnyDataset || is_own_netcdf(path) {
        return None;
    }
    Some("a NetCDF file this tool did not write is already there (--overwrite replaces it)".into())
}

/// Whether the NetCDF file at `path` carries this tool's mark (read through the checked NetCDF reader, so a damaged
/// file is simply not ours).
fn is_own_netcdf(path: &Path) -> bool {
    let Ok(location) = Location::parse(&path.to_string_lossy()) else { return false };
    crate::backend::open(&location).is_ok_and(|ds| ds.global_attrs().contains_key(PRODUCER_ATTRIBUTE))
}

/// Every file below `root`, as `/`-separated paths relative to it; an entry that is neither a file nor a folder
/// (a link, a socket) makes the folder not ours to replace.
fn local_keys(root: &Path) -> std::result::Result<BTreeSet<String>, String> {
    let mut keys = BTreeSet::new();
    let mut pending = vec![(root.to_path_buf(), String::new())];
    while let Some((dir, prefix)) = pending.pop() {
        let entries = std::fs::read_dir(&dir).map_err(|e| format!("cannot list {}: {e}", dir.display()))?;
        for entry in entries {
            let entry = entry.map_err(|e| format!("cannot list {}: {e}", dir.display()))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            let key = if prefix.is_empty() { name } else { format!("{prefix}/{name}") };
            let file_type = entry.file_type().map_err(|e| format!("cannot look at {key}: {e}"))?;
            if file_type.is_dir() {
                pending.push((entry.path(), key));
            } else if file_type.is_file() {
                keys.insert(key);
            } else {
                return Err(format!("a folder holding {key}, which is neither a file nor a folder, is already there"));
            }
        }
    }
    Ok(keys)
}

/// Whether a store whose root metadata is `root` and whose keys are `keys` is one this tool published: a Zarr v3
/// group marked with [`PRODUCER_ATTRIBUTE`] whose every key is its own metadata or belongs to an array its
/// consolidated metadata lists. A user's file put inside such a store makes it not ours any more.
fn is_own_store(root: &[u8], keys: &BTreeSet<String>) -> bool {
    let Ok(root) = serde_json::from_slice::<Value>(root) else { return false };
    let marked = root.pointer(&format!("/attributes/{PRODUCER_ATTRIBUTE}")).is_some_and(Value::is_string);
    let Some(arrays) = root.pointer("/consolidated_metadata/metadata").and_then(Value::as_object) else {
        return false;
    };
    marked
        && keys.iter().all(|key| {
            key == "zarr.json"
                || key.split_once('/').is_some_and(|(array, rest)| {
                    arrays.contains_key(array) && (rest == "zarr.json" || rest.starts_with("c/"))
                })
        })
}

/// Object storage: why the prefix (a store) or key (a file) must not be replaced.
fn remote_refusal(destination: &Location, replace: Replace, kind: OutputKind) -> Result<Option<String>> {
    use object_store::ObjectStoreExt;
    let store = destination.store.clone();
    let key = destination.key.clone();
    let read_error = |e: object_store::Error| DataError::read_source(&destination.display, e);
    crate::backend::IO_RUNTIME.block_on(async move {
        match kind {
            OutputKind::NetcdfFile => match store.head(&key).await {
                Err(object_store::Error::NotFound { .. }) => Ok(None),
                Err(e) => Err(read_error(e)),
                Ok(_) if replace == Replace::AnyDataset => Ok(None),
                Ok(_) => Ok(Some("an object is already there (--overwrite replaces it)".into())),
            },
            OutputKind::Document | OutputKind::MarkedDocument { .. } | OutputKind::Page | OutputKind::Table(_) => {
                match store.get(&key).await {
                    Err(object_store::Error::NotFound { .. }) => Ok(None),
                    Err(e) => Err(read_error(e)),
                    Ok(found) => Ok(content_refusal(&found.bytes().await.map_err(read_error)?, kind)),
                }
            }
            OutputKind::ZarrStore => {
                let keys = crate::zarr_write::list_all_keys(&store, &key).await.map_err(read_error)?;
                let relative: BTreeSet<String> = keys
                    .iter()
                    .filter_map(|k| k.prefix_match(&key))
                    .map(|parts| parts.map(|p| p.as_ref().to_string()).collect::<Vec<_>>().join("/"))
                    .collect();
                if relative.is_empty() {
                    return Ok(None);
                }
                let root = match store.get(&key.clone().join("zarr.json")).await {
                    Ok(result) => Some(result.bytes().await.map_err(read_error)?),
                    Err(object_store::Error::NotFound { .. }) => None,
                    Err(e) => return Err(read_error(e)),
                };
                let own = match &root {
                    Some(root) => is_own_store(root, &relative),
                    None => is_unfinished_store(&relative),
                };
                let is_zarr = root.is_some() || relative.contains(".zgroup") || relative.contains(".zarray");
                Ok(match (own, is_zarr, replace) {
                    (true, _, _) | (false, true, Replace::AnyDataset) => None,
                    (false, true, Replace::OwnOutputs) => {
                        Some("a Zarr store this tool did not write is already there (--overwrite replaces it)".into())
                    }
                    (false, false, _) => {
                        Some(format!("{} objects that are not a Zarr store are there", relative.len()))
                    }
                })
            }
        }
    })
}

/// A key inside a Zarr v3 array: its metadata or a chunk (`c` alone for a zero-dimensional array).
fn is_array_key(key: &str) -> bool {
    key == "zarr.json" || key == "c" || key.starts_with("c/")
}

/// What a writer killed on object storage leaves: arrays (their `zarr.json` and `c/` chunks) without the root
/// metadata, which is written last. Nothing else is under such a prefix.
fn is_unfinished_store(keys: &BTreeSet<String>) -> bool {
    keys.iter().all(|key| key.split_once('/').is_some_and(|(array, rest)| !array.is_empty() && is_array_key(rest)))
}

/// The hidden name a writer stages `name` under, beside it: `.<name>.partial-<pid>-<unique>`. The process id lets a
/// later writer tell a stage whose writer is gone (killed, or interrupted with Ctrl-C) from one still being written.
pub(crate) fn staging_name(name: &str, unique: impl std::fmt::Display) -> String {
    format!(".{name}.partial-{}-{unique}", std::process::id())
}

/// Removes the stages of `destination` (a local path) left by writers that are no longer running, so a killed
/// command leaves nothing behind once the output is written again. A stage of a live process is left alone.
pub(crate) fn remove_stale_stages(destination: &Path) {
    let (Some(parent), Some(name)) = (destination.parent(), destination.file_name()) else { return };
    let prefix = format!(".{}.partial-", name.to_string_lossy());
    let Ok(entries) = std::fs::read_dir(if parent.as_os_str().is_empty() { Path::new(".") } else { parent }) else {
        return;
    };
    for entry in entries.flatten() {
        let file_name = entry.file_name().to_string_lossy().into_owned();
        let Some(pid) = file_name.strip_prefix(&prefix).and_then(|rest| rest.split('-').next()) else { continue };
        let Ok(pid) = pid.parse::<u32>() else { continue };
        if pid != std::process::id() && !Path::new(&format!("/proc/{pid}")).exists() {
            let path = entry.path();
            let _ = if path.is_dir() { std::fs::remove_dir_all(&path) } else { std::fs::remove_file(&path) };
        }
    }
}

/// Folders made for an output that did not exist before, removed again (when still empty) if the output is never
/// published: a failed command leaves the output's folder as it found it.
#[derive(Debug, Default)]
pub(crate) struct CreatedFolders(Vec<std::path::PathBuf>);

impl CreatedFolders {
    /// Creates `folder` and its missing ancestors, remembering which were made.
    pub(crate) fn create(folder: &Path) -> std::io::Result<CreatedFolders> {
        let mut missing = Vec::new();
        let mut current = Some(folder);
        while let Some(dir) = current.filter(|d| !d.as_os_str().is_empty() && !d.exists()) {
            missing.push(dir.to_path_buf());
            current = dir.parent();
        }
        std::fs::create_dir_all(folder)?;
        Ok(CreatedFolders(missing))
    }

    /// Removes the folders made, deepest first, as long as they are empty.
    pub(crate) fn remove(&mut self) {
        for dir in self.0.drain(..) {
            if std::fs::remove_dir(&dir).is_err() {
                break;
            }
        }
    }

    /// Keeps the folders: the output was published into them.
    pub(crate) fn keep(&mut self) {
        self.0.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(list: &[&str]) -> BTreeSet<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    const ROOT: &str = r#"{"zarr_format": 3, "node_type": "group", "attributes": {"downscale_version": "0.1.0"},
        "consolidated_metadata": {"kind": "inline", "must_understand": false,
        "metadata": {"tas": {}, "time": {}}}}"#;

    #[test]
    fn only_a_marked_store_holding_nothing_but_its_arrays_is_ours() {
        let own = keys(&["zarr.json", "tas/zarr.json", "tas/c/0/0/0", "time/zarr.json", "time/c/0"]);
        assert!(is_own_store(ROOT.as_bytes(), &own));
        let mut with_user_file = own.clone();
        with_user_file.insert("notes.txt".into());
        assert!(!is_own_store(ROOT.as_bytes(), &with_user_file));
        let mut with_other_array = own.clone();
        with_other_array.insert("pr/zarr.json".into());
        assert!(!is_own_store(ROOT.as_bytes(), &with_other_array));
        let unmarked = ROOT.replace("downscale_version", "written_by");
        assert!(!is_own_store(unmarked.as_bytes(), &own));
        assert!(!is_own_store(b"not json", &own));
    }

    #[test]
    fn only_a_page_this_tool_wrote_is_replaced_by_a_page() {
        let dir = tempfile::tempdir().unwrap();
        let page = dir.path().join("run.report.html");
        assert_eq!(local_refusal(&page, Replace::OwnOutputs, OutputKind::Page), None, "nothing there yet");
        std::fs::write(&page, format!("<!DOCTYPE html><html><head>{PAGE_GENERATOR}</head></html>")).unwrap();
        assert_eq!(local_refusal(&page, Replace::OwnOutputs, OutputKind::Page), None);
        std::fs::write(&page, "<!DOCTYPE html><html><head><title>notes</title></head></html>").unwrap();
        assert!(local_refusal(&page, Replace::OwnOutputs, OutputKind::Page).is_some_and(|r| r.contains("not a page")));
    }

    #[test]
    fn only_a_table_with_the_same_header_is_replaced_by_a_table() {
        let dir = tempfile::tempdir().unwrap();
        let table = dir.path().join("places.csv");
        let kind = OutputKind::Table(&["name", "country", "lat", "lon"]);
        assert_eq!(local_refusal(&table, Replace::OwnOutputs, kind), None, "nothing there yet");
        std::fs::write(&table, "name,country,lat,lon,cell_lat\nMadrid,Spain,40.4,-3.7,40.25\n").unwrap();
        assert_eq!(local_refusal(&table, Replace::OwnOutputs, kind), None);
        std::fs::write(&table, "name,lat,lon\nMadrid,40.4,-3.7\n").unwrap();
        let refusal = local_refusal(&table, Replace::OwnOutputs, kind);
        assert!(refusal.is_some_and(|r| r.contains("columns 'name,country,lat,lon'")), "a user's points");
        std::fs::write(&table, "name,countryside,lat,lon\n").unwrap();
        assert!(local_refusal(&table, Replace::OwnOutputs, kind).is_some(), "whole column names");
        assert!(local_refusal(dir.path(), Replace::OwnOutputs, kind).is_some_and(|r| r.contains("not a regular file")));
    }

    #[test]
    fn only_a_document_with_the_mark_is_replaced_by_a_marked_document() {
        let kind = OutputKind::MarkedDocument { pointer: "/id", value: "downscale-published" };
        assert_eq!(content_refusal(br#"{"id": "downscale-published", "attributes": []}"#, kind), None);
        for theirs in [&br#"{"id": "my-stores"}"#[..], br#"{"title": "x"}"#, b"id,uri\n"] {
            assert!(content_refusal(theirs, kind).is_some_and(|r| r.contains("\"downscale-published\" at /id")));
        }
    }

    #[test]
    fn an_unfinished_store_holds_only_arrays() {
        assert!(is_unfinished_store(&keys(&["tas/zarr.json", "tas/c/0/0/0"])));
        assert!(!is_unfinished_store(&keys(&["tas/zarr.json", "README"])));
    }

    #[test]
    fn stages_of_writers_that_are_gone_are_removed_and_others_kept() {
        let dir = tempfile::tempdir().unwrap();
        let destination = dir.path().join("x.zarr");
        // Process ids above the kernel's maximum (4194304) are never alive.
        let gone = dir.path().join(".x.zarr.partial-4999999-1");
        std::fs::create_dir_all(gone.join("tas")).unwrap();
        let alive = dir.path().join(staging_name("x.zarr", 2));
        std::fs::create_dir(&alive).unwrap();
        let other = dir.path().join(".y.zarr.partial-4999999-1");
        std::fs::create_dir(&other).unwrap();
        remove_stale_stages(&destination);
        assert!(!gone.exists() && alive.exists() && other.exists());
    }

    #[test]
    fn folders_made_for_an_output_are_removed_when_empty() {
        let dir = tempfile::tempdir().unwrap();
        let deep = dir.path().join("a/b/c");
        let mut made = CreatedFolders::create(&deep).unwrap();
        assert!(deep.is_dir());
        made.remove();
        assert!(!dir.path().join("a").exists());
        std::fs::create_dir(dir.path().join("kept")).unwrap();
        let mut made = CreatedFolders::create(&dir.path().join("kept/x")).unwrap();
        std::fs::write(dir.path().join("kept/x/file"), b"").unwrap();
        made.remove();
        assert!(dir.path().join("kept/x/file").exists(), "a folder that is not empty stays");
    }
}
