//! Small whole-object operations on a [`Location`] for the layers above (the flow engine's artifacts, markers and
//! run manifests): read, write atomically, measure, copy a store, remove. One code path for the local disk and
//! object storage, bridged to synchronous callers by the process's I/O runtime.

use object_store::{ObjectStoreExt, PutPayload};

use crate::backend::IO_RUNTIME;
use crate::error::{DataError, Result};
use crate::location::Location;
use crate::publish::{OutputKind, Replace, check_destination, remove_stale_stages, staging_name};
use crate::zarr_write::{list_all_keys, publish_local, unique_suffix};

/// Which write of an object is there (its ETag and version, as the store reports them), for conditional
/// replacement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectVersion {
    e_tag: Option<String>,
    version: Option<String>,
}

impl Location {
    /// The location `name` below this one (`name` may hold `/`-separated segments).
    pub fn child(&self, name: &str) -> Location {
        let key = name.split('/').filter(|s| !s.is_empty()).fold(self.key.clone(), |key, part| key.join(part));
        let local_path = self.local_path.as_ref().map(|p| p.join(name));
        let display = format!("{}/{}", self.display.trim_end_matches('/'), name);
        Location { display, store: self.store.clone(), key, local_path }
    }

    /// The object's bytes, or `None` when it does not exist.
    pub fn read_bytes(&self) -> Result<Option<Vec<u8>>> {
        let (store, key) = (self.store.clone(), self.key.clone());
        IO_RUNTIME
            .block_on(async move {
                match store.get(&key).await {
                    Ok(result) => result.bytes().await.map(|b| Some(b.to_vec())),
                    Err(object_store::Error::NotFound { .. }) => Ok(None),
                    Err(e) => Err(e),
                }
            })
            .map_err(|e| DataError::read_source(&self.display, e))
    }

    /// Writes one object. A put is atomic on object storage; on the local disk `object_store` writes a temporary
    /// file and renames it, so readers see the old content or the new, never a part.
    pub fn write_bytes(&self, bytes: Vec<u8>) -> Result<()> {
        if let Some(parent) = self.local_path.as_ref().and_then(|p| p.parent()) {
            std::fs::create_dir_all(parent).map_err(|e| DataError::write_source(&self.display, e))?;
        }
        let (store, key) = (self.store.clone(), self.key.clone());
        IO_RUNTIME
            .block_on(async move { store.put(&key, PutPayload::from(bytes)).await })
            .map(|_| ())
            .map_err(|e| DataError::write_source(&self.display, e))
    }

    /// Writes one object only if none exists there (a conditional put: `If-None-Match: *` on S3, Azure and GCS, an
    /// exclusive create on the local disk). Returns the written object's version, or `None` when another writer's
    /// object is there: the primitive under locks on storage that has no file locks.
    pub fn create_bytes(&self, bytes: Vec<u8>) -> Result<Option<ObjectVersion>> {
        if let Some(parent) = self.local_path.as_ref().and_then(|p| p.parent()) {
            std::fs::create_dir_all(parent).map_err(|e| DataError::write_source(&self.display, e))?;
        }
        self.put_if(bytes, object_store::PutMode::Create)
    }

    /// Replaces the object only if it is still at `version` (a conditional put: `If-Match`). Returns the new
    /// version, or `None` when another writer replaced or removed it since. Not available on the local disk.
    pub fn replace_bytes_if(&self, bytes: Vec<u8>, version: &ObjectVersion) -> Result<Option<ObjectVersion>> {
        let expected = object_store::UpdateVersion { e_tag: version.e_tag.clone(), version: version.version.clone() };
        self.put_if(bytes, object_store::PutMode::Update(expected))
    }

    fn put_if(&self, bytes: Vec<u8>, mode: object_store::PutMode) -> Result<Option<ObjectVersion>> {
        let (store, key) = (self.store.clone(), self.key.clone());
        let options = object_store::PutOptions { mode, ..Default::default() };
        match IO_RUNTIME.block_on(async move { store.put_opts(&key, PutPayload::from(bytes), options).await }) {
            Ok(put) => Ok(Some(ObjectVersion { e_tag: put.e_tag, version: put.version })),
            Err(object_store::Error::AlreadyExists { .. } | object_store::Error::Precondition { .. }) => Ok(None),
            Err(e) => Err(DataError::write_source(&self.display, e)),
        }
    }

    /// The object's version and when it was last written by the store's clock, or `None` when it does not exist.
    pub fn version(&self) -> Result<Option<(ObjectVersion, std::time::SystemTime)>> {
        let (store, key) = (self.store.clone(), self.key.clone());
        IO_RUNTIME
            .block_on(async move {
                match store.head(&key).await {
                    Ok(meta) => {
                        let version = ObjectVersion { e_tag: meta.e_tag, version: meta.version };
                        Ok(Some((version, std::time::SystemTime::from(meta.last_modified))))
                    }
                    Err(object_store::Error::NotFound { .. }) => Ok(None),
                    Err(e) => Err(e),
                }
            })
            .map_err(|e| DataError::read_source(&self.display, e))
    }

    /// Checks that the object store answers for this location, with one listing request, so that a run finds out
    /// before any work that its bucket is missing or its credentials are refused. A local path is not checked:
    /// its folders are made as outputs are written.
    pub fn check_reachable(&self) -> Result<()> {
        if self.local_path.is_some() {
            return Ok(());
        }
        let (store, key) = (self.store.clone(), self.key.clone());
        IO_RUNTIME
            .block_on(async move { store.list_with_delimiter(Some(&key)).await.map(|_| ()) })
            .map_err(|e| DataError::Unreachable { path: self.display.clone(), detail: store_problem(&e) })
    }

    /// Names of the folders (key prefixes) directly under this location, sorted; none when it holds nothing.
    pub fn child_folders(&self) -> Result<Vec<String>> {
        let (store, key) = (self.store.clone(), self.key.clone());
        let mut names: Vec<String> = IO_RUNTIME
            .block_on(async move { store.list_with_delimiter(Some(&key)).await })
            .map_err(|e| DataError::read_source(&self.display, e))?
            .common_prefixes
            .iter()
            .filter_map(|prefix| prefix.filename().map(str::to_string))
            .collect();
        names.sort();
        Ok(names)
    }

    /// Bytes held at this location: the object's size, or the sum over every object under it (a store).
    pub fn total_size(&self) -> Result<u64> {
        let (store, key) = (self.store.clone(), self.key.clone());
        IO_RUNTIME
            .block_on(async move {
                if let Ok(meta) = store.head(&key).await {
                    return Ok(meta.size);
                }
                let mut total = 0;
                for child in list_all_keys(&store, &key).await? {
                    total += store.head(&child).await?.size;
                }
                Ok::<u64, object_store::Error>(total)
            })
            .map_err(|e| DataError::read_source(&self.display, e))
    }

    /// Removes the object or every object under this prefix (nothing to remove is not an error).
    pub fn remove_all(&self) -> Result<()> {
        if let Some(path) = &self.local_path {
            let removed = if path.is_dir() { std::fs::remove_dir_all(path) } else { std::fs::remove_file(path) };
            return match removed {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(DataError::write_source(&self.display, e)),
                _ => Ok(()),
            };
        }
        let (store, key) = (self.store.clone(), self.key.clone());
        IO_RUNTIME
            .block_on(async move {
                for child in list_all_keys(&store, &key).await? {
                    store.delete(&child).await?;
                }
                match store.delete(&key).await {
                    Err(object_store::Error::NotFound { .. }) | Ok(()) => Ok(()),
                    Err(e) => Err(e),
                }
            })
            .map_err(|e| DataError::write_source(&self.display, e))
    }
}

/// Copies each `(source, destination)` store (or object) as one publication: no destination changes until every
/// copy is whole, so a failure part-way leaves all of them as they were (on the local disk) or unpublished (on
/// object storage). Each store is published as [`write_zarr`] publishes: on the local disk a hidden sibling renamed
/// into place; on object storage every key but the root `zarr.json`, and the root documents only once every store
/// has its other keys, so a store is complete whenever it looks complete.
///
/// [`write_zarr`]: crate::write_zarr
pub fn copy_stores(copies: &[(Location, Location)]) -> Result<()> {
    let mut staged = Vec::with_capacity(copies.len());
    for (source, destination) in copies {
        match stage_copy(source, destination) {
            Ok(stage) => staged.push(stage),
            Err(error) => {
                for stage in staged {
                    stage.discard();
                }
                return Err(error);
            }
        }
    }
    staged.into_iter().try_for_each(StagedCopy::publish)
}

/// A copied store that is not visible yet.
enum StagedCopy {
    /// A hidden sibling folder, renamed into place on publishing.
    Local { staging: std::path::PathBuf, destination: Location, kind: OutputKind },
    /// Every key already at the destination except the root metadata, written on publishing.
    Remote { destination: Location, root: Option<(object_store::path::Path, PutPayload)> },
}

impl StagedCopy {
    fn publish(self) -> Result<()> {
        match self {
            StagedCopy::Local { staging, destination, kind } => {
                let published = publish_local(&staging, &destination, Replace::OwnOutputs, kind);
                if published.is_err() {
                    remove_stage(&staging);
                }
                published
            }
            StagedCopy::Remote { destination, root: Some((key, payload)) } => {
                let store = destination.store.clone();
                IO_RUNTIME
                    .block_on(async move { store.put(&key, payload).await })
                    .map(|_| ())
                    .map_err(|e| DataError::write_source(&destination.display, e))
            }
            StagedCopy::Remote { root: None, .. } => Ok(()),
        }
    }

    /// Removes what was staged (best effort: the copy is failing already, and a leftover is invisible).
    fn discard(self) {
        match self {
            StagedCopy::Local { staging, .. } => remove_stage(&staging),
            StagedCopy::Remote { destination, .. } => {
                let _ = destination.remove_all();
            }
        }
    }
}

fn stage_copy(source: &Location, destination: &Location) -> Result<StagedCopy> {
    let page = source.key.extension() == Some("html");
    let kind = match &source.local_path {
        Some(path) if path.is_file() && page => OutputKind::Page,
        Some(path) if path.is_file() => OutputKind::Document,
        Some(_) => OutputKind::ZarrStore,
        None if page => OutputKind::Page,
        None if source.key.extension() == Some("json") => OutputKind::Document,
        None => OutputKind::ZarrStore,
    };
    // A run publishes under its own folder of the results; whatever else is there was put there by someone else.
    check_destination(destination, Replace::OwnOutputs, kind)?;
    if let (Some(from), Some(to)) = (&source.local_path, &destination.local_path) {
        let parent = to.parent().ok_or_else(|| DataError::write(&destination.display, "no parent folder"))?;
        std::fs::create_dir_all(parent).map_err(|e| DataError::write_source(&destination.display, e))?;
        remove_stale_stages(to);
        let staging = to.with_file_name(staging_name(&destination.file_name(), unique_suffix()));
        return match copy_tree(from, &staging) {
            Ok(()) => Ok(StagedCopy::Local { staging, destination: destination.clone(), kind }),
            Err(e) => {
                remove_stage(&staging);
                Err(DataError::copy_failed(&destination.display, &source.display, e))
            }
        };
    }
    destination.remove_all()?;
    let (from_store, from_key) = (source.store.clone(), source.key.clone());
    let (to_store, to_key) = (destination.store.clone(), destination.key.clone());
    let root = IO_RUNTIME
        .block_on(async move {
            let keys = list_all_keys(&from_store, &from_key).await?;
            if keys.is_empty() {
                // Not a prefix: a single object (a JSON artifact), which is its own root.
                let bytes = from_store.get(&from_key).await?.bytes().await?;
                return Ok(Some((to_key, PutPayload::from(bytes))));
            }
            let root_key = from_key.clone().join("zarr.json");
            let mut root = None;
            for key in keys {
                let relative: Vec<_> = key.prefix_match(&from_key).into_iter().flatten().collect();
                let target = relative.into_iter().fold(to_key.clone(), |path, part| path.join(part.as_ref()));
                let payload = PutPayload::from(from_store.get(&key).await?.bytes().await?);
                if key == root_key {
                    root = Some((target, payload));
                } else {
                    to_store.put(&target, payload).await?;
                }
            }
            Ok::<_, object_store::Error>(root)
        })
        .map_err(|e| DataError::copy_failed(&destination.display, &source.display, e));
    match root {
        Ok(root) => Ok(StagedCopy::Remote { destination: destination.clone(), root }),
        Err(error) => {
            let _ = destination.remove_all();
            Err(error)
        }
    }
}

/// Removes a local stage and the folder made for it, unless something else is in that folder.
fn remove_stage(staging: &std::path::Path) {
    let _ = if staging.is_dir() { std::fs::remove_dir_all(staging) } else { std::fs::remove_file(staging) };
    if let Some(parent) = staging.parent() {
        let _ = std::fs::remove_dir(parent);
    }
}

fn copy_tree(from: &std::path::Path, to: &std::path::Path) -> std::io::Result<()> {
    if from.is_file() {
        return std::fs::copy(from, to).map(|_| ());
    }
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_tree(&entry.path(), &target)?
        } else {
            std::fs::copy(entry.path(), &target).map(|_| ())?
        }
    }
    Ok(())
}

/// What an object store's refusal means, in a few words: the service's error code (S3 and Azure send one in an XML
/// body) read as a person would say it, else the error's first line.
fn store_problem(error: &object_store::Error) -> String {
    let text = error.to_string();
    let code = text.split_once("<Code>").and_then(|(_, rest)| rest.split_once("</Code>")).map(|(code, _)| code);
    match code {
        Some("NoSuchBucket") => "the bucket does not exist (NoSuchBucket)".into(),
        Some("ContainerNotFound") => "the container does not exist (ContainerNotFound)".into(),
        Some(
            code @ ("InvalidAccessKeyId"
            | "SignatureDoesNotMatch"
            | "AuthenticationFailed"
            | "AuthorizationFailure"
            | "AccessDenied"),
        ) => {
            format!("the store refused the credentials ({code})")
        }
        Some(code) => format!("the store refused the request ({code})"),
        None if text.contains("onnection refused") || text.contains("error sending request") => {
            "cannot connect to the store's endpoint".into()
        }
        None => text.lines().next().unwrap_or_default().to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn objects_round_trip_and_stores_copy_whole() {
        let dir = tempfile::tempdir().unwrap();
        let root = Location::parse(&dir.path().to_string_lossy()).unwrap();
        let object = root.child("a/b/value.json");
        assert_eq!(object.read_bytes().unwrap(), None);
        object.write_bytes(b"{}".to_vec()).unwrap();
        assert_eq!(object.read_bytes().unwrap().as_deref(), Some(&b"{}"[..]));
        root.child("a/b/c.zarr/x/0").write_bytes(vec![0; 10]).unwrap();
        assert_eq!(root.child("a").total_size().unwrap(), 12);
        let copy = root.child("copy/c.zarr");
        copy_stores(&[(root.child("a/b/c.zarr"), copy.clone())]).unwrap();
        assert_eq!(copy.child("x/0").read_bytes().unwrap().unwrap().len(), 10);
        let leftovers: Vec<_> = std::fs::read_dir(dir.path().join("copy")).unwrap().collect();
        assert_eq!(leftovers.len(), 1, "only the published store remains");
        root.child("a").remove_all().unwrap();
        assert!(!dir.path().join("a").exists());
        root.child("a").remove_all().unwrap();
    }

    #[test]
    fn a_failing_copy_publishes_none_of_the_stores() {
        let dir = tempfile::tempdir().unwrap();
        let root = Location::parse(&dir.path().to_string_lossy()).unwrap();
        root.child("a.zarr/zarr.json").write_bytes(b"{}".to_vec()).unwrap();
        // An earlier run's output, which a new publication may replace.
        let old = br#"{"zarr_format": 3, "node_type": "group", "attributes": {"downscale_version": "old"},
            "consolidated_metadata": {"kind": "inline", "must_understand": false, "metadata": {}}}"#;
        root.child("published/a.zarr/zarr.json").write_bytes(old.to_vec()).unwrap();
        let copies = [
            (root.child("a.zarr"), root.child("published/a.zarr")),
            (root.child("missing.zarr"), root.child("published/b.zarr")),
        ];
        let error = copy_stores(&copies).unwrap_err().to_string();
        assert!(error.contains("missing.zarr") && error.contains("published/b.zarr"), "{error}");
        let left: Vec<_> =
            std::fs::read_dir(dir.path().join("published")).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(left, ["a.zarr"], "no staging folder and no new store remain");
        assert_eq!(root.child("published/a.zarr/zarr.json").read_bytes().unwrap().unwrap(), old, "a.zarr unchanged");
    }

    #[test]
    fn a_run_never_publishes_over_what_it_did_not_write() {
        let dir = tempfile::tempdir().unwrap();
        let root = Location::parse(&dir.path().to_string_lossy()).unwrap();
        root.child("a.zarr/zarr.json").write_bytes(b"{}".to_vec()).unwrap();
        root.child("published/a.zarr/notes.txt").write_bytes(b"mine".to_vec()).unwrap();
        let error = copy_stores(&[(root.child("a.zarr"), root.child("published/a.zarr"))]).unwrap_err().to_string();
        assert!(error.contains("published/a.zarr") && error.contains("not a Zarr store"), "{error}");
        assert_eq!(root.child("published/a.zarr/notes.txt").read_bytes().unwrap().unwrap(), b"mine");
    }
}
