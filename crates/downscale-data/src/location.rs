//! Where a dataset lives: a local path, a `file://` URL or an object-store URL, resolved through `object_store` so
//! that local disks and cloud buckets are one code path.

use std::path::PathBuf;
use std::sync::Arc;

use object_store::ObjectStore;
use object_store::local::LocalFileSystem;
use object_store::path::Path as ObjectPath;

use crate::error::{DataError, Result};

/// A resolved dataset location.
#[derive(Clone)]
pub struct Location {
    /// What the user wrote; every error message names the dataset this way.
    pub display: String,
    /// The object store holding it: the local disk or a bucket.
    pub store: Arc<dyn ObjectStore>,
    /// The key (file) or key prefix (Zarr store) inside `store`.
    pub key: ObjectPath,
    /// The filesystem path when the store is the local disk. NetCDF files need one (libnetcdf opens paths), and
    /// atomic publishing of a Zarr directory is a rename there.
    pub local_path: Option<PathBuf>,
}

impl std::fmt::Debug for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Location").field("display", &self.display).field("key", &self.key).finish()
    }
}

impl Location {
    /// Parses `path`, `file:///abs/path`, or a `scheme://bucket/prefix` URL that `object_store` understands, its
    /// client configured from the environment (`AWS_*`, `AZURE_*`, `GOOGLE_*`).
    pub fn parse(input: &str) -> Result<Location> {
        Self::parse_with_options(input, &std::collections::BTreeMap::new())
    }

    /// [`parse`](Self::parse) with object-store `options` (`object_store`'s own keys, such as `aws_endpoint` or
    /// `azure_storage_account_name`) on top of the environment: a configured option wins over the same variable
    /// of the environment. Options a store does not know are ignored, as `object_store` ignores them.
    pub fn parse_with_options(input: &str, options: &std::collections::BTreeMap<String, String>) -> Result<Location> {
        let bad = |detail: String| DataError::Location { path: input.to_string(), detail };
        let has_scheme = input.split_once("://").is_some_and(|(scheme, _)| {
            !scheme.is_empty() && scheme.chars().all(|c| c.is_ascii_alphanumeric() || c == '+')
        });
        if !has_scheme {
            return Self::local(input, PathBuf::from(input));
        }
        let url = url::Url::parse(input).map_err(|e| bad(e.to_string()))?;
        if url.scheme() == "file" {
            let path = url.to_file_path().map_err(|()| bad("not an absolute file path".into()))?;
            return Self::local(input, path);
        }
        let configured = options.iter().map(|(key, value)| (key.clone(), value.clone()));
        let (store, key) = object_store::parse_url_opts(&url, std::env::vars().chain(configured))
            .map_err(|e| bad(format!("unsupported or misconfigured object store: {e}")))?;
        Ok(Location { display: input.to_string(), store: Arc::from(store), key, local_path: None })
    }

    fn local(display: &str, path: PathBuf) -> Result<Location> {
        let absolute = std::path::absolute(&path)
            .map(|p| lexically_normal(&p))
            .map_err(|e| DataError::Location { path: display.to_string(), detail: e.to_string() })?;
        let key = ObjectPath::from_absolute_path(&absolute)
            .map_err(|e| DataError::Location { path: display.to_string(), detail: e.to_string() })?;
        Ok(Location {
            display: display.to_string(),
            store: Arc::new(LocalFileSystem::new()),
            key,
            local_path: Some(absolute),
        })
    }

    /// The last path segment ("tas.zarr"), as the user wrote it (a key's segment is stored percent-encoded).
    pub fn file_name(&self) -> String {
        match self.local_path.as_ref().and_then(|p| p.file_name()) {
            Some(name) => name.to_string_lossy().into_owned(),
            None => self.key.filename().unwrap_or_default().to_string(),
        }
    }

    /// A location next to this one (same store and parent), used for temporary names while writing.
    pub fn sibling(&self, name: &str) -> Location {
        // On the local disk the key is derived from the path exactly as for the location itself, so that the
        // store's key and the path renamed on publishing name the same folder whatever characters the name has.
        if let Some(path) = &self.local_path {
            let path = path.with_file_name(name);
            if let Ok(location) = Self::local(&path.display().to_string(), path) {
                return location;
            }
        }
        let parent: Vec<_> = self.key.parts().collect();
        let parent = &parent[..parent.len().saturating_sub(1)];
        let key = ObjectPath::from_iter(parent.iter().cloned().chain(std::iter::once(name.into())));
        let local_path = self.local_path.as_ref().map(|p| p.with_file_name(name));
        let display = match &local_path {
            Some(p) => p.display().to_string(),
            None => format!("{}/{}", self.display.rsplit_once('/').map_or("", |(head, _)| head), name),
        };
        Location { display, store: self.store.clone(), key, local_path }
    }
}

/// Resolves `.` and `..` without touching the disk (object-store keys have no such segments, and the path may not
/// exist yet when it is an output).
fn lexically_normal(path: &std::path::Path) -> PathBuf {
    use std::path::Component;
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_local_sibling_names_one_folder_whatever_its_characters() {
        let dir = tempfile::tempdir().unwrap();
        for name in ["ñ.zarr", "p%q.zarr", "h#x.zarr", "q?x.zarr", "a b.zarr"] {
            let location = Location::parse(&dir.path().join(name).to_string_lossy()).unwrap();
            assert_eq!(location.file_name(), name);
            let sibling = location.sibling(&format!(".{name}.partial"));
            let store = LocalFileSystem::new();
            let on_disk = store.path_to_filesystem(&sibling.key).unwrap();
            assert_eq!(Some(on_disk), sibling.local_path, "{name}");
        }
    }
}
