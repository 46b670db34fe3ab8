//! NetCDF3 classic and NetCDF4/HDF5 through Debian's libnetcdf (the `netcdf` crate).

use std::collections::HashMap;
use std::io::Write;
use std::sync::{Arc, Mutex};

use ndarray::ArrayD;
use netcdf::AttributeValue;
use netcdf::types::NcVariableType;

use super::netcdf_chunks::ChunkedVariable;
use super::{IO_RUNTIME, RawDataset, RawKind, RawVariable};
use crate::attrs::{AttrValue, Attributes};
use crate::error::{DataError, Result};
use crate::location::Location;

/// A NetCDF file (classic or NetCDF-4) opened through libnetcdf, after the checks libnetcdf does not make.
pub(crate) struct NetcdfFile {
    location: Location,
    file: netcdf::File,
    global_attrs: Attributes,
    variables: Vec<RawVariable>,
    /// Positional reads of NetCDF-4 chunks; `None` for NetCDF3 files.
    chunks: Option<ChunkReads>,
    path: std::path::PathBuf,
    /// A remote file is copied to a temporary file first (libnetcdf opens paths); it lives as long as the handle.
    _download: Option<tempfile::NamedTempFile>,
}

/// The file opened for positional reads, and each variable's chunk reader (`None`: read through libnetcdf), looked up
/// on its first read.
struct ChunkReads {
    file: std::fs::File,
    variables: Mutex<HashMap<String, Option<Arc<ChunkedVariable>>>>,
}

/// HDF5's cache of decompressed chunks, per variable of each file opened (libnetcdf's default is 16 MB), for the
/// variables read through libnetcdf (those `netcdf_chunks` does not take keep their own decoded chunks). Flows read
/// files in blocks of days that cut the file's own chunks (libnetcdf's default chunking gives E-OBS-like files chunks
/// of about 1200 days), neighbouring blocks at a time; a chunk evicted between two blocks is inflated again. 128 MB
/// holds a row of such chunks across a continental grid; it fills only as chunks are read.
const CHUNK_CACHE_BYTES: usize = 128 << 20;

/// Sets the chunk cache of files opened from now on, once per process.
fn set_chunk_cache() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let _lock = netcdf_sys::libnetcdf_lock.lock();
        // SAFETY: nc_set_chunk_cache only stores the three values as libnetcdf's defaults for later opens; 4133
        // slots and preemption 0.75 are libnetcdf's own defaults.
        unsafe {
            netcdf_sys::nc_set_chunk_cache(CHUNK_CACHE_BYTES, 4133, 0.75);
        }
    });
}

impl NetcdfFile {
    /// Opens the file at `location` (a remote one is downloaded first), refusing a damaged one.
    pub(crate) fn open(location: &Location) -> Result<Self> {
        let (path, download) = match &location.local_path {
            Some(path) => (path.clone(), None),
            None => {
                let temp = download(location)?;
                (temp.path().to_path_buf(), Some(temp))
            }
        };
        // libnetcdf trusts the file's header; a damaged or cut-short one is refused before it is opened.
        super::preflight::check(&path, &location.display)?;
        // HDF5 can crash on structures the pre-flight does not reach: a NetCDF-4 file is opened in a child first.
        if std::fs::File::open(&path).is_ok_and(|file| has_hdf5_signature(&file)) {
            super::isolated_open::check(&path, &location.display)?;
        }
        // The netcdf crate panics where libnetcdf fails to list attributes or names: asked first, with errors kept.
        super::netcdf_probe::check(&path, &location.display)?;
        super::hdf5_quiet::silence_on_this_thread();
        set_chunk_cache();
        let file = netcdf::open(&path).map_err(|e| DataError::read_source(&location.display, e))?;
        let global_attrs = convert_attrs(file.attributes(), &location.display)?;
        let variables = file
            .variables()
            .map(|var| {
                Ok(RawVariable {
                    name: var.name(),
                    dims: var.dimensions().iter().map(|d| d.name()).collect(),
                    shape: var.dimensions().iter().map(|d| d.len()).collect(),
                    kind: match var.vartype() {
                        NcVariableType::Float(netcdf::types::FloatType::F32) => RawKind::Float32,
                        NcVariableType::Float(_) => RawKind::Float64,
                        NcVariableType::Int(_) => RawKind::Integer,
                        NcVariableType::String => RawKind::Text,
                        _ => RawKind::Other,
                    },
                    attrs: convert_attrs(var.attributes(), &location.display)?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let chunks = std::fs::File::open(&path)
            .ok()
            .filter(has_hdf5_signature)
            .map(|file| ChunkReads { file, variables: Mutex::default() });
        Ok(NetcdfFile { location: location.clone(), file, global_attrs, variables, chunks, path, _download: download })
    }

    fn read_f32_through_libnetcdf(&self, name: &str, start: &[usize], count: &[usize]) -> Result<ArrayD<f32>> {
        // libnetcdf converts the stored type to float itself.
        self.nc_variable(name)?
            .get::<f32, _>((start, count))
            .map_err(|e| DataError::bad_variable(&self.location.display, name, format!("cannot read values: {e}")))
    }

    /// Variable `name`'s chunk reader, when its chunks can be read outside libnetcdf.
    fn chunked(&self, name: &str) -> Option<(&std::fs::File, Arc<ChunkedVariable>)> {
        let ChunkReads { file, variables } = self.chunks.as_ref()?;
        let mut variables = variables.lock().ok()?;
        let variable = variables.entry(name.to_string()).or_insert_with(|| {
            super::hdf5_quiet::silence_on_this_thread();
            let shape = &self.variables.iter().find(|v| v.name == name)?.shape;
            ChunkedVariable::open(&self.path, name, shape).map(Arc::new)
        });
        Some((file, variable.clone()?))
    }

    /// Refuses a read of `count` elements that cannot fit in memory, before libnetcdf allocates it.
    fn check_read(&self, name: &str, count: &[usize], element_bytes: u64) -> Result<()> {
        let shape: Vec<u64> = count.iter().map(|&n| n as u64).collect();
        crate::limits::check_read(&self.location.display, name, &shape, element_bytes)
    }

    fn nc_variable(&self, name: &str) -> Result<netcdf::Variable<'_>> {
        // Reads may run on other threads than the one that opened the file.
        super::hdf5_quiet::silence_on_this_thread();
        self.variable(name)?;
        self.file.variable(name).ok_or_else(|| DataError::read(&self.location.display, name))
    }
}

/// Whether the file is HDF5-based (NetCDF-4): its signature at offset 0, the only place the pre-flight accepts it.
fn has_hdf5_signature(file: &std::fs::File) -> bool {
    let mut signature = [0u8; 8];
    std::os::unix::fs::FileExt::read_exact_at(file, &mut signature, 0).is_ok() && &signature == b"\x89HDF\r\n\x1a\n"
}

fn download(location: &Location) -> Result<tempfile::NamedTempFile> {
    use object_store::ObjectStoreExt;
    let store = location.store.clone();
    let key = location.key.clone();
    let bytes = IO_RUNTIME
        .block_on(async move { store.get(&key).await?.bytes().await })
        .map_err(|e| DataError::read_source(&location.display, e))?;
    let mut temp = tempfile::NamedTempFile::new().map_err(|e| DataError::read_source(&location.display, e))?;
    temp.write_all(&bytes).map_err(|e| DataError::read_source(&location.display, e))?;
    Ok(temp)
}

fn convert_attrs<'a>(attrs: impl Iterator<Item = netcdf::Attribute<'a>>, path: &str) -> Result<Attributes> {
    attrs
        .map(|attr| {
            let value = attr.value().map_err(|e| DataError::read(path, format!("attribute {}: {e}", attr.name())))?;
            Ok((attr.name().to_string(), convert_attr(value)))
        })
        .collect()
}

fn convert_attr(value: AttributeValue) -> AttrValue {
    use AttributeValue as V;
    let many = |v: Vec<f64>| if v.len() == 1 { AttrValue::Number(v[0]) } else { AttrValue::Numbers(v) };
    match value {
        V::Str(s) => AttrValue::Text(s),
        V::Strs(v) => AttrValue::Texts(v),
        V::Uchar(x) => AttrValue::Number(x.into()),
        V::Schar(x) => AttrValue::Number(x.into()),
        V::Ushort(x) => AttrValue::Number(x.into()),
        V::Short(x) => AttrValue::Number(x.into()),
        V::Uint(x) => AttrValue::Number(x.into()),
        V::Int(x) => AttrValue::Number(x.into()),
        V::Ulonglong(x) => AttrValue::Number(x as f64),
        V::Longlong(x) => AttrValue::Number(x as f64),
        V::Float(x) => AttrValue::Number(x.into()),
        V::Double(x) => AttrValue::Number(x),
        V::Uchars(v) => many(v.into_iter().map(f64::from).collect()),
        V::Schars(v) => many(v.into_iter().map(f64::from).collect()),
        V::Ushorts(v) => many(v.into_iter().map(f64::from).collect()),
        V::Shorts(v) => many(v.into_iter().map(f64::from).collect()),
        V::Uints(v) => many(v.into_iter().map(f64::from).collect()),
        V::Ints(v) => many(v.into_iter().map(f64::from).collect()),
        V::Ulonglongs(v) => many(v.into_iter().map(|x| x as f64).collect()),
        V::Longlongs(v) => many(v.into_iter().map(|x| x as f64).collect()),
        V::Floats(v) => many(v.into_iter().map(f64::from).collect()),
        V::Doubles(v) => many(v),
    }
}

impl RawDataset for NetcdfFile {
    fn location(&self) -> &Location {
        &self.location
    }

    fn format_name(&self) -> &'static str {
        "NetCDF"
    }

    fn global_attrs(&self) -> &Attributes {
        &self.global_attrs
    }

    fn variables(&self) -> &[RawVariable] {
        &self.variables
    }

    fn read_f32_region(&self, name: &str, start: &[usize], count: &[usize]) -> Result<ArrayD<f32>> {
        self.check_read(name, count, 4)?;
        if let Some((file, variable)) = self.chunked(name) {
            return variable.read(file, start, count).map_err(|e| {
                DataError::bad_variable(&self.location.display, name, format!("cannot read values: {e}"))
            });
        }
        self.read_f32_through_libnetcdf(name, start, count)
    }

    fn read_f64_region(&self, name: &str, start: &[usize], count: &[usize]) -> Result<ArrayD<f64>> {
        self.check_read(name, count, 8)?;
        self.nc_variable(name)?
            .get::<f64, _>((start, count))
            .map_err(|e| DataError::bad_variable(&self.location.display, name, format!("cannot read values: {e}")))
    }

    fn read_labels(&self, name: &str) -> Result<Vec<String>> {
        let var = self.nc_variable(name)?;
        (0..var.len())
            .map(|i| {
                var.get_string(i).map_err(|e| {
                    DataError::bad_variable(&self.location.display, name, format!("cannot read labels: {e}"))
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every NetCDF file under `dir`, recursively.
    fn netcdf_files(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
        for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                netcdf_files(&path, out);
            } else if path.extension().is_some_and(|e| e == "nc") {
                out.push(path);
            }
        }
    }

    /// Regions of a variable of `shape`: all of it, a middle part that cuts chunks, one cell, and the last cells.
    fn regions(shape: &[usize]) -> Vec<(Vec<usize>, Vec<usize>)> {
        let middle = (shape.iter().map(|n| n / 3).collect(), shape.iter().map(|n| (n / 2).max(1)).collect());
        let corner = (shape.iter().map(|n| n.saturating_sub(2)).collect(), shape.iter().map(|n| (*n).min(2)).collect());
        vec![(vec![0; shape.len()], shape.to_vec()), middle, (vec![0; shape.len()], vec![1; shape.len()]), corner]
    }

    #[test]
    fn chunks_read_outside_libnetcdf_are_bit_identical_to_libnetcdf_reads() {
        let mut files = Vec::new();
        netcdf_files(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/samples"), &mut files);
        if let Some(corpus) = std::env::var_os("DOWNSCALE_CORPUS") {
            netcdf_files(std::path::Path::new(&corpus), &mut files);
        }
        let mut compared = 0;
        for path in &files {
            let location = Location::parse(&path.to_string_lossy()).unwrap();
            let Ok(file) = NetcdfFile::open(&location) else { continue };
            for variable in file.variables.iter().filter(|v| v.kind == RawKind::Float32 && v.shape.len() >= 2) {
                if file.chunked(&variable.name).is_none() {
                    continue;
                }
                for (start, count) in regions(&variable.shape) {
                    let ours = file.read_f32_region(&variable.name, &start, &count).unwrap();
                    let theirs = file.read_f32_through_libnetcdf(&variable.name, &start, &count).unwrap();
                    assert_eq!(ours.shape(), theirs.shape());
                    let same = ours.iter().zip(&theirs).all(|(a, b)| a.to_bits() == b.to_bits());
                    assert!(same, "{} {} at {start:?} + {count:?}", path.display(), variable.name);
                }
                compared += 1;
            }
        }
        // The shipped samples alone hold about twenty compressed float32 fields.
        assert!(compared >= 15, "only {compared} variables were read in chunks");
    }
}
