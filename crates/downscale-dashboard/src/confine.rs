//! The storage roots whose stores the dashboard may read: a path asked for through the API that resolves outside
//! them (`..`, a link, an absolute path elsewhere) is refused, so the dashboard cannot be used to read the machine's
//! files.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use downscale_data::Location;

use crate::error::ApiError;

/// The configured storage roots (`storage.results`, `storage.intermediate`): local folders, or object-store URL
/// prefixes with the options their client needs (endpoint, region, credentials).
#[derive(Debug, Clone, Default)]
pub struct StorageRoots {
    folders: Vec<PathBuf>,
    prefixes: Vec<(String, BTreeMap<String, String>)>,
}

impl StorageRoots {
    /// Roots from the configured storage URIs, object stores configured from the environment alone.
    pub fn new<'a>(uris: impl IntoIterator<Item = &'a str>) -> StorageRoots {
        StorageRoots::with_options(uris.into_iter().map(|uri| (uri, BTreeMap::new())))
    }

    /// Roots from the configured storage URIs with their `options`; a local one that does not exist yet holds
    /// nothing to serve and is left out.
    pub fn with_options<'a>(roots: impl IntoIterator<Item = (&'a str, BTreeMap<String, String>)>) -> StorageRoots {
        let mut confined = StorageRoots::default();
        for (uri, options) in roots {
            if is_url(uri) && !uri.starts_with("file://") {
                confined.prefixes.push((format!("{}/", uri.trim_end_matches('/')), options));
            } else if let Ok(folder) = Path::new(uri.strip_prefix("file://").unwrap_or(uri)).canonicalize() {
                confined.folders.push(folder);
            }
        }
        confined
    }

    /// The location of `requested`, read with its root's options, when it lies inside a root.
    pub(crate) fn open(&self, requested: &str) -> Result<Location, ApiError> {
        let confined = self.confine(requested)?;
        let options = self.prefixes.iter().find(|(prefix, _)| confined.starts_with(prefix.as_str())).map(|(_, o)| o);
        let location = match options {
            Some(options) => Location::parse_with_options(&confined, options),
            None => Location::parse(&confined),
        };
        location.map_err(|e| ApiError::bad_request(downscale_message::one_line(&e)))
    }

    /// The location of `requested` when it lies inside a root, else a refusal naming it.
    pub(crate) fn confine(&self, requested: &str) -> Result<String, ApiError> {
        let outside = || {
            ApiError::forbidden(format!(
                "{}: not inside the configured storage roots",
                downscale_config::hide_uri_password(requested)
            ))
        };
        if is_url(requested) && !requested.starts_with("file://") {
            let climbs = requested.split('/').any(|segment| segment == ".." || segment == ".");
            let inside = self.prefixes.iter().any(|(prefix, _)| requested.starts_with(prefix.as_str()));
            return if inside && !climbs { Ok(requested.to_string()) } else { Err(outside()) };
        }
        let path = Path::new(requested.strip_prefix("file://").unwrap_or(requested));
        let inside = |resolved: &Path| self.folders.iter().any(|folder| resolved.starts_with(folder));
        // Resolved with every link followed, so a link inside a root that points outside is outside.
        match path.canonicalize() {
            Ok(resolved) if inside(&resolved) => Ok(resolved.display().to_string()),
            Ok(_) => Err(outside()),
            // A path that does not exist is judged by its nearest existing folder, so the answer never tells
            // whether something exists outside the roots.
            Err(_) => match path.ancestors().skip(1).find_map(|ancestor| ancestor.canonicalize().ok()) {
                Some(ancestor) if inside(&ancestor) => {
                    Err(ApiError::not_found(format!("{}: no such store", path.display())))
                }
                _ => Err(outside()),
            },
        }
    }
}

fn is_url(text: &str) -> bool {
    text.split_once("://")
        .is_some_and(|(scheme, _)| !scheme.is_empty() && scheme.chars().all(|c| c.is_ascii_alphanumeric() || c == '+'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_outside_the_roots_are_refused_however_they_are_written() {
        let dir = tempfile::tempdir().unwrap();
        let results = dir.path().join("results");
        std::fs::create_dir_all(results.join("run/daily.zarr")).unwrap();
        std::fs::write(dir.path().join("secret.txt"), "x").unwrap();
        std::os::unix::fs::symlink(dir.path().join("secret.txt"), results.join("link")).unwrap();
        let roots = StorageRoots::new([results.to_str().unwrap(), "s3://bucket/results"]);

        let inside = results.join("run/daily.zarr");
        assert_eq!(
            roots.confine(inside.to_str().unwrap()).unwrap(),
            inside.canonicalize().unwrap().display().to_string()
        );
        for outside in [
            dir.path().join("secret.txt").display().to_string(),
            format!("{}/run/../../secret.txt", results.display()),
            results.join("link").display().to_string(),
            "/etc/passwd".to_string(),
            format!("{}/../nowhere/x", results.display()),
            "s3://bucket/other/x.zarr".to_string(),
            "s3://bucket/results/../other".to_string(),
            "s3://bucket/resultsX/a".to_string(),
            "/no/such/folder/anywhere".to_string(),
        ] {
            let error = roots.confine(&outside).unwrap_err();
            assert_eq!(error.status, axum::http::StatusCode::FORBIDDEN, "{outside}");
        }
        assert!(roots.confine("s3://bucket/results/run/daily.zarr").is_ok());
        let options = BTreeMap::from([("aws_endpoint".to_string(), "http://127.0.0.1:9".to_string())]);
        let with_options = StorageRoots::with_options([("s3://bucket/results", options)]);
        assert!(with_options.open("s3://bucket/results/run/daily.zarr").is_ok());
        assert_eq!(with_options.open("s3://bucket/other").unwrap_err().status, axum::http::StatusCode::FORBIDDEN);
        assert_eq!(
            roots.confine(results.join("missing.zarr").to_str().unwrap()).unwrap_err().status,
            axum::http::StatusCode::NOT_FOUND
        );
    }
}
