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
        Self::parse_with(input, options, Patience::Work)
    }

    /// [`parse_with_options`](Self::parse_with_options) for one question asked before any work (does the bucket
    /// answer?): its client gives up after a few quick retries, so a wrong endpoint is reported in seconds rather
    /// than after the minute of retries that carries a run through an outage.
    pub fn probe(input: &str, options: &std::collections::BTreeMap<String, String>) -> Result<Location> {
        Self::parse_with(input, options, Patience::Probe)
    }

    fn parse_with(
        input: &str,
        options: &std::collections::BTreeMap<String, String>,
        patience: Patience,
    ) -> Result<Location> {
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
        let options: Vec<(String, String)> = std::env::vars().chain(configured).collect();
        let (store, key) = remote_store(&url, &options, patience.retry())
            .map_err(|e| bad(format!("unsupported or misconfigured object store: {e}")))?;
        Ok(Location { display: input.to_string(), store, key, local_path: None })
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

/// How long a client keeps retrying a request that fails for want of a connection or with a server error.
#[derive(Debug, Clone, Copy)]
enum Patience {
    /// Reading and writing a run's data: ride out an outage of the store (a restart, a network blip) of up to about
    /// a minute. `object_store`'s default gives up after ten quick retries, which for a refused connection is about
    /// two seconds: a store restarting took longer than that and failed the run.
    Work,
    /// A check before any work: a few quick retries.
    Probe,
}

impl Patience {
    fn retry(self) -> object_store::RetryConfig {
        use object_store::{BackoffConfig, RetryConfig};
        match self {
            Patience::Work => RetryConfig {
                backoff: BackoffConfig {
                    init_backoff: std::time::Duration::from_millis(200),
                    max_backoff: std::time::Duration::from_secs(8),
                    base: 2.0,
                },
                max_retries: 24,
                retry_timeout: std::time::Duration::from_secs(150),
            },
            Patience::Probe => RetryConfig {
                backoff: BackoffConfig::default(),
                max_retries: 3,
                retry_timeout: std::time::Duration::from_secs(10),
            },
        }
    }
}

/// The client of an object-store URL, configured from `options` (its builder's own keys; keys another store uses
/// are skipped, as `object_store::parse_url_opts` skips them) and retrying as `retry` says, which that function
/// cannot be told.
fn remote_store(
    url: &url::Url,
    options: &[(String, String)],
    retry: object_store::RetryConfig,
) -> std::result::Result<(Arc<dyn ObjectStore>, ObjectPath), object_store::Error> {
    use object_store::ObjectStoreScheme;
    use object_store::aws::AmazonS3Builder;
    use object_store::azure::MicrosoftAzureBuilder;
    use object_store::gcp::GoogleCloudStorageBuilder;
    macro_rules! configured {
        ($builder:expr) => {{
            let builder = options.iter().fold($builder.with_url(url.to_string()), |builder, (key, value)| {
                match key.to_ascii_lowercase().parse() {
                    Ok(key) => builder.with_config(key, value.clone()),
                    Err(_) => builder,
                }
            });
            Arc::new(builder.with_retry(retry).build()?) as Arc<dyn ObjectStore>
        }};
    }
    let (scheme, path) = ObjectStoreScheme::parse(url)?;
    let key = ObjectPath::parse(path)?;
    let store = match scheme {
        ObjectStoreScheme::AmazonS3 => configured!(AmazonS3Builder::new()),
        ObjectStoreScheme::MicrosoftAzure => configured!(MicrosoftAzureBuilder::new()),
        ObjectStoreScheme::GoogleCloudStorage => configured!(GoogleCloudStorageBuilder::new()),
        other => {
            return Err(object_store::Error::Generic {
                store: "downscale",
                source: format!("{other:?} stores are not supported (s3://, az://, gs://, file:// and paths are)")
                    .into(),
            });
        }
    };
    Ok((store, key))
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
