//! Assets: where each catalogued dataset lives and in which format.

use std::fmt;
use std::path::{Component, Path, PathBuf};

/// The location of one dataset, resolved when the catalog is opened.
///
/// Relative paths in a catalog are relative to the collection JSON (so a catalog shipped next to its data works
/// from any working directory); absolute paths and URLs are kept exactly as written, because object-store URLs
/// (`s3://`, `gs://`, `az://`, `https://`) and `file://` URLs are understood by the data layer as they are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Asset {
    /// A local file or Zarr directory.
    Path(PathBuf),
    /// A URL, kept verbatim.
    Url(String),
}

impl Asset {
    /// Resolves the asset text `raw` of a catalog whose collection JSON lies in the absolute directory `base`.
    pub(crate) fn resolve(raw: &str, base: &Path) -> Asset {
        if has_url_scheme(raw) {
            return Asset::Url(raw.to_string());
        }
        let path = Path::new(raw);
        if path.is_absolute() {
            Asset::Path(path.to_path_buf())
        } else {
            Asset::Path(lexically_normal(&base.join(path)))
        }
    }

    /// The local path, when the asset is not a URL.
    pub fn as_path(&self) -> Option<&Path> {
        match self {
            Asset::Path(path) => Some(path),
            Asset::Url(_) => None,
        }
    }

    /// The asset as one string, as readers that take "a path or a URL" expect it.
    pub fn location(&self) -> String {
        match self {
            Asset::Path(path) => path.to_string_lossy().into_owned(),
            Asset::Url(url) => url.clone(),
        }
    }
}

impl fmt::Display for Asset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Asset::Path(path) => write!(f, "{}", path.display()),
            Asset::Url(url) => f.write_str(url),
        }
    }
}

/// `scheme://...` with an RFC 3986 scheme of at least two characters (one letter followed by `:` is a Windows
/// drive, not a scheme).
pub(crate) fn has_url_scheme(text: &str) -> bool {
    text.split_once("://").is_some_and(|(scheme, _)| {
        scheme.len() >= 2
            && scheme.starts_with(|c: char| c.is_ascii_alphabetic())
            && scheme.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
    })
}

/// Resolves `.` and `..` without touching the disk: the assets need not exist when the catalog is opened (they may
/// be written later), and messages read better with `data/samples/x.nc` than `data/catalog/../samples/x.nc`.
pub(crate) fn lexically_normal(path: &Path) -> PathBuf {
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

/// The data format of an asset, with the values the ESM collection specification allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AssetFormat {
    /// A NetCDF file (classic or NetCDF-4).
    Netcdf,
    /// Zarr of a version the reader must detect.
    Zarr,
    /// A Zarr v2 store.
    Zarr2,
    /// A Zarr v3 store.
    Zarr3,
    /// An OPeNDAP endpoint (read through the NetCDF library).
    Opendap,
    /// A kerchunk reference file.
    Reference,
}

impl AssetFormat {
    /// For "expected ..." messages.
    pub(crate) const EXPECTED: &'static str =
        "one of \"netcdf\", \"zarr\", \"zarr2\", \"zarr3\", \"opendap\", \"reference\"";

    /// Parses a specification value (exact, lower-case, as intake-esm requires).
    pub fn parse(name: &str) -> Option<AssetFormat> {
        Some(match name {
            "netcdf" => AssetFormat::Netcdf,
            "zarr" => AssetFormat::Zarr,
            "zarr2" => AssetFormat::Zarr2,
            "zarr3" => AssetFormat::Zarr3,
            "opendap" => AssetFormat::Opendap,
            "reference" => AssetFormat::Reference,
            _ => return None,
        })
    }

    /// The specification's spelling, as catalogs write it.
    pub fn as_str(self) -> &'static str {
        match self {
            AssetFormat::Netcdf => "netcdf",
            AssetFormat::Zarr => "zarr",
            AssetFormat::Zarr2 => "zarr2",
            AssetFormat::Zarr3 => "zarr3",
            AssetFormat::Opendap => "opendap",
            AssetFormat::Reference => "reference",
        }
    }

    /// Any Zarr version: readers that detect the version themselves treat the three alike.
    pub fn is_zarr(self) -> bool {
        matches!(self, AssetFormat::Zarr | AssetFormat::Zarr2 | AssetFormat::Zarr3)
    }
}

impl fmt::Display for AssetFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_paths_resolve_from_the_base_and_urls_stay() {
        let base = Path::new("/repo/data/catalog");
        assert_eq!(Asset::resolve("../samples/a.nc", base), Asset::Path(PathBuf::from("/repo/data/samples/a.nc")));
        assert_eq!(Asset::resolve("./b.zarr", base), Asset::Path(PathBuf::from("/repo/data/catalog/b.zarr")));
        assert_eq!(Asset::resolve("/abs/c.nc", base), Asset::Path(PathBuf::from("/abs/c.nc")));
        for url in ["gs://cmip6/x/", "s3://b/k.zarr", "az://c/d", "https://h/p.nc", "file:///tmp/x.nc"] {
            assert_eq!(Asset::resolve(url, base), Asset::Url(url.to_string()));
        }
        assert_eq!(Asset::resolve("c://x", base), Asset::Path(PathBuf::from("/repo/data/catalog/c:/x")));
    }

    #[test]
    fn formats_round_trip() {
        for name in ["netcdf", "zarr", "zarr2", "zarr3", "opendap", "reference"] {
            assert_eq!(AssetFormat::parse(name).map(AssetFormat::as_str), Some(name));
        }
        assert_eq!(AssetFormat::parse("NetCDF"), None);
        assert!(AssetFormat::Zarr3.is_zarr() && !AssetFormat::Netcdf.is_zarr());
    }
}
