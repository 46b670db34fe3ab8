//! Format backends. A backend only lists variables and hands out raw arrays and attributes; every CF rule (fill
//! values, packing, time, coordinate order) lives once in `decode`, so a NetCDF file and its Zarr twin cannot decode
//! differently.

mod hdf5_quiet;
mod hdf5_superblock;
mod isolated_open;
mod netcdf3_header;
mod netcdf_chunks;
mod netcdf_file;
mod netcdf_probe;
mod preflight;
mod zarr_store;

use std::sync::LazyLock;

use ndarray::ArrayD;

use crate::attrs::Attributes;
use crate::error::{DataError, Result};
use crate::location::Location;

pub use isolated_open::{PROBE_VARIABLE, isolate_netcdf4_opens, probe_here};
pub(crate) use netcdf_file::NetcdfFile;
pub(crate) use zarr_store::ZarrStore;
pub(crate) use zarr_store::{StoreListing, check_chunk_shape, zarr_storage};

/// The storage type of a variable, coarsened to what decoding needs to know.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RawKind {
    /// 32-bit floats, read as they are.
    Float32,
    /// 64-bit floats.
    Float64,
    /// Integers of any width and sign, possibly packed (`scale_factor`, `add_offset`).
    Integer,
    /// Strings: labels such as station names.
    Text,
    /// Compound, opaque, char arrays...: listed by `inspect`, never decoded.
    Other,
}

/// A variable as stored: no CF interpretation yet.
#[derive(Debug, Clone)]
pub struct RawVariable {
    /// The variable's name in the file.
    pub name: String,
    /// Its dimensions, in stored order.
    pub dims: Vec<String>,
    /// Their lengths.
    pub shape: Vec<usize>,
    /// How its values are stored.
    pub kind: RawKind,
    /// Attributes as stored, including encoding ones (`_FillValue`, `scale_factor`, `units`, `calendar`).
    pub attrs: Attributes,
}

/// An opened dataset of either format. Datasets are shared between threads so that blocks of one variable can be
/// read in parallel (libnetcdf calls are serialised by the netcdf crate's lock; Zarr reads are independent).
pub trait RawDataset: Send + Sync {
    /// Where the dataset is; errors name it.
    fn location(&self) -> &Location;
    /// The format for people: `NetCDF` or `Zarr`.
    fn format_name(&self) -> &'static str;
    /// The global attributes as stored.
    fn global_attrs(&self) -> &Attributes;
    /// Every variable, coordinates and bounds included, in stored order.
    fn variables(&self) -> &[RawVariable];
    /// The stored hyperslab `start[i]..start[i] + count[i]` (one entry per stored dimension), converted to f32
    /// (float32 data read as is). The caller keeps the hyperslab inside the variable.
    fn read_f32_region(&self, name: &str, start: &[usize], count: &[usize]) -> Result<ArrayD<f32>>;
    /// Like [`RawDataset::read_f32_region`], converted to f64 (coordinates, time, packed integers).
    fn read_f64_region(&self, name: &str, start: &[usize], count: &[usize]) -> Result<ArrayD<f64>>;

    /// Every value, converted to f32.
    fn read_f32(&self, name: &str) -> Result<ArrayD<f32>> {
        let shape = self.variable(name)?.shape.clone();
        self.read_f32_region(name, &vec![0; shape.len()], &shape)
    }

    /// Every value, converted to f64.
    fn read_f64(&self, name: &str) -> Result<ArrayD<f64>> {
        let shape = self.variable(name)?.shape.clone();
        self.read_f64_region(name, &vec![0; shape.len()], &shape)
    }

    /// String labels of a one-dimensional text variable (station names).
    fn read_labels(&self, name: &str) -> Result<Vec<String>>;

    /// Refuses variable `name` when part of its stored values is missing. Coordinates must be exact, and a Zarr
    /// chunk that is not there reads as fill values (a lost `time/0` chunk gives a constant time axis). An unwritten
    /// NetCDF-4 chunk cannot be told from one of fill values, so only Zarr stores check.
    fn check_stored(&self, _name: &str) -> Result<()> {
        Ok(())
    }

    /// The variable named `name`; an error listing the variables there are when it is absent.
    fn variable(&self, name: &str) -> Result<&RawVariable> {
        self.variables().iter().find(|v| v.name == name).ok_or_else(|| DataError::MissingVariable {
            path: self.location().display.clone(),
            variable: name.to_string(),
            available: self.variables().iter().map(|v| v.name.as_str()).collect::<Vec<_>>().join(", "),
        })
    }
}

/// One runtime for the object-store I/O of the whole process: `object_store` is async, our readers are not.
pub(crate) static IO_RUNTIME: LazyLock<tokio::runtime::Runtime> = LazyLock::new(|| {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("downscale-io")
        .enable_all()
        .build()
        .unwrap_or_else(|e| panic!("cannot start the I/O runtime: {e}"))
});

/// The on-disk format, recognised from content rather than file names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Format {
    Netcdf,
    Zarr,
}

/// Opens a NetCDF file or a Zarr store (v2 or v3), recognising the format from its content.
pub fn open(location: &Location) -> Result<Box<dyn RawDataset>> {
    match detect_format(location)? {
        Format::Zarr => Ok(Box::new(ZarrStore::open(location)?)),
        Format::Netcdf => Ok(Box::new(NetcdfFile::open(location)?)),
    }
}

/// A local input must be a regular file or a folder: opening a named pipe blocks until something writes to it, and
/// a device (`/dev/zero`) never ends.
fn check_local_input(path: &std::path::Path, display: &str) -> Result<()> {
    let metadata = match std::fs::metadata(path) {
        Ok(metadata) => metadata,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(DataError::NotFound { path: display.to_string() });
        }
        Err(e) => return Err(DataError::read_source(display, e)),
    };
    if metadata.is_dir() {
        let is_store = ["zarr.json", ".zgroup", ".zarray"].iter().any(|marker| path.join(marker).is_file());
        if !is_store {
            return Err(DataError::UnknownFormat {
                path: display.to_string(),
                detail: "a folder without zarr.json, .zgroup or .zarray".into(),
            });
        }
    } else if !metadata.is_file() {
        return Err(DataError::UnknownFormat {
            path: display.to_string(),
            detail: "a named pipe, device or socket, not a regular file or a folder".into(),
        });
    }
    Ok(())
}

/// NetCDF classic files start with `CDF\x01|\x02|\x05`, NetCDF4 files with the HDF5 signature; Zarr stores are
/// prefixes holding `zarr.json` (v3) or `.zgroup`/`.zarray` (v2).
pub(crate) fn detect_format(location: &Location) -> Result<Format> {
    use object_store::ObjectStoreExt;
    if let Some(path) = &location.local_path {
        check_local_input(path, &location.display)?;
    }
    let store = location.store.clone();
    let key = location.key.clone();
    IO_RUNTIME.block_on(async move {
        for marker in ["zarr.json", ".zgroup", ".zarray"] {
            if store.head(&key.clone().join(marker)).await.is_ok() {
                return Ok(Format::Zarr);
            }
        }
        let size = match store.head(&key).await {
            Ok(meta) => meta.size,
            Err(object_store::Error::NotFound { .. }) => {
                return Err(DataError::NotFound { path: location.display.clone() });
            }
            Err(e) => return Err(DataError::read_source(&location.display, e)),
        };
        // A file shorter than a signature is no dataset (and asking for 8 bytes of it is an invalid range).
        if size < 4 {
            return Err(DataError::UnknownFormat {
                path: location.display.clone(),
                detail: format!("a file of {size} bytes"),
            });
        }
        let head = match store.get_range(&key, 0..size.min(8)).await {
            Ok(bytes) => bytes,
            Err(object_store::Error::NotFound { .. }) => {
                return Err(DataError::NotFound { path: location.display.clone() });
            }
            Err(e) => return Err(DataError::read_source(&location.display, e)),
        };
        let is_classic = head.len() >= 4 && &head[..3] == b"CDF" && matches!(head[3], 1 | 2 | 5);
        let is_hdf5 = head.len() >= 8 && &head[..8] == b"\x89HDF\r\n\x1a\n";
        if is_classic || is_hdf5 {
            Ok(Format::Netcdf)
        } else {
            Err(DataError::UnknownFormat {
                path: location.display.clone(),
                detail: format!("{size} bytes that start with neither the NetCDF nor the HDF5 signature"),
            })
        }
    })
}
