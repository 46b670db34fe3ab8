//! Small whole-object operations on a [`Location`] for the layers above (the flow engine's artifacts, markers and
//! run manifests): read, write atomically, measure, copy a store, remove. One code path for the local disk and
//! object storage, bridged to synchronous callers by the process's I/O runtime.

use object_store::{ObjectStoreExt, PutPayload};

use crate::backend::IO_RUNTIME;
use crate::error::{DataError, Result};
use crate::location::Location;
use crate::zarr_write::{list_all_keys, publish_local, unique_suffix};

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
            .map_err(|e| DataError::read(&self.display, e))
    }

    /// Writes one object. A put is atomic on object storage; on the local disk `object_store` writes a temporary
    /// file and renames it, so readers see the old content or the new, never a part.
    pub fn write_bytes(&self, bytes: Vec<u8>) -> Result<()> {
        if let Some(parent) = self.local_path.as_ref().and_then(|p| p.parent()) {
            std::fs::create_dir_all(parent).map_err(|e| DataError::write(&self.display, e))?;
        }
        let (store, key) = (self.store.clone(), self.key.clone());
        IO_RUNTIME
            .block_on(async move { store.put(&key, PutPayload::from(bytes)).await })
            .map(|_| ())
            .map_err(|e| DataError::write(&self.display, e))
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
            .map_err(|e| DataError::read(&self.display, e))
    }

    /// Removes the object or every object under this prefix (nothing to remove is not an error).
    pub fn remove_all(&self) -> Result<()> {
        if let Some(path) = &self.local_path {
            let removed = if path.is_dir() { std::fs::remove_dir_all(path) } else { std::fs::remove_file(path) };
            return match removed {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(DataError::write(&self.display, e)),
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
            .map_err(|e| DataError::write(&self.display, e))
    }

    /// Copies the store (or object) at this location to `destination`, published atomically as [`write_zarr`]
    /// publishes: on the local disk a hidden sibling renamed into place; on object storage the root `zarr.json`
    /// last, so the copy is complete whenever it looks complete.
    ///
    /// [`write_zarr`]: crate::write_zarr
    pub fn copy_store_to(&self, destination: &Location) -> Result<()> {
        if let (Some(from), Some(to)) = (&self.local_path, &destination.local_path) {
            let parent = to.parent().ok_or_else(|| DataError::write(&destination.display, "no parent folder"))?;
            std::fs::create_dir_all(parent).map_err(|e| DataError::write(&destination.display, e))?;
            let staging = to.with_file_name(format!(
                ".{}.partial-{}-{}",
                destination.file_name(),
                std::process::id(),
                unique_suffix()
            ));
            let copied = copy_tree(from, &staging).and_then(|()| publish_local(&staging, to));
            if copied.is_err() {
                let _ = std::fs::remove_dir_all(&staging);
            }
            return copied.map_err(|e| DataError::write(&destination.display, e));
        }
        destination.remove_all()?;
        let (from_store, from_key) = (self.store.clone(), self.key.clone());
        let (to_store, to_key) = (destination.store.clone(), destination.key.clone());
        IO_RUNTIME
            .block_on(async move {
                let mut keys = list_all_keys(&from_store, &from_key).await?;
                let root = from_key.clone().join("zarr.json");
                // The root metadata goes last: a store is complete exactly when it is there.
                keys.sort_by_key(|k| *k == root);
                for key in keys {
                    let relative: Vec<_> = key.prefix_match(&from_key).into_iter().flatten().collect();
                    let target = relative.into_iter().fold(to_key.clone(), |path, part| path.join(part.as_ref()));
                    let bytes = from_store.get(&key).await?.bytes().await?;
                    to_store.put(&target, PutPayload::from(bytes)).await?;
                }
                Ok::<(), object_store::Error>(())
            })
            .map_err(|e| DataError::write(&destination.display, e))
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
        root.child("a/b/c.zarr").copy_store_to(&copy).unwrap();
        assert_eq!(copy.child("x/0").read_bytes().unwrap().unwrap().len(), 10);
        let leftovers: Vec<_> = std::fs::read_dir(dir.path().join("copy")).unwrap().collect();
        assert_eq!(leftovers.len(), 1, "only the published store remains");
        root.child("a").remove_all().unwrap();
        assert!(!dir.path().join("a").exists());
        root.child("a").remove_all().unwrap();
    }
}
