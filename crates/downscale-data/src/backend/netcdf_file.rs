//! NetCDF3 classic and NetCDF4/HDF5 through Debian's libnetcdf (the `netcdf` crate).

use std::io::Write;

use ndarray::ArrayD;
use netcdf::AttributeValue;
use netcdf::types::NcVariableType;

use super::{IO_RUNTIME, RawDataset, RawKind, RawVariable};
use crate::attrs::{AttrValue, Attributes};
use crate::error::{DataError, Result};
use crate::location::Location;

pub struct NetcdfFile {
    location: Location,
    file: netcdf::File,
    global_attrs: Attributes,
    variables: Vec<RawVariable>,
    /// A remote file is copied to a temporary file first (libnetcdf opens paths); it lives as long as the handle.
    _download: Option<tempfile::NamedTempFile>,
}

/// HDF5's cache of decompressed chunks, per variable of each file opened (libnetcdf's default is 16 MB). Flows read
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
    pub fn open(location: &Location) -> Result<Self> {
        let (path, download) = match &location.local_path {
            Some(path) => (path.clone(), None),
            None => {
                let temp = download(location)?;
                (temp.path().to_path_buf(), Some(temp))
            }
        };
        super::hdf5_quiet::silence_on_this_thread();
        set_chunk_cache();
        let file = netcdf::open(&path).map_err(|e| DataError::read(&location.display, e))?;
        check_classic_size(&path, &file).map_err(|detail| DataError::read(&location.display, detail))?;
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
        Ok(NetcdfFile { location: location.clone(), file, global_attrs, variables, _download: download })
    }

    fn nc_variable(&self, name: &str) -> Result<netcdf::Variable<'_>> {
        // Reads may run on other threads than the one that opened the file.
        super::hdf5_quiet::silence_on_this_thread();
        self.variable(name)?;
        self.file.variable(name).ok_or_else(|| DataError::read(&self.location.display, name))
    }
}

/// libnetcdf reads a truncated classic (NetCDF3) file without complaint and returns zeros past the end, which
/// would decode as real values. The header fixes how many data bytes follow it, so a file shorter than that is
/// refused. (HDF5-based NetCDF4 files fail on their own.)
fn check_classic_size(path: &std::path::Path, file: &netcdf::File) -> std::result::Result<(), String> {
    let mut magic = [0u8; 3];
    let is_classic = std::fs::File::open(path)
        .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut magic))
        .is_ok_and(|()| &magic == b"CDF");
    if !is_classic {
        return Ok(());
    }
    let data_bytes: u64 = file
        .variables()
        .map(|var| {
            let elements: u64 = var.dimensions().iter().map(|d| d.len() as u64).product();
            // Each variable's data is padded to a 4-byte boundary.
            (elements * var.vartype().size() as u64).div_ceil(4) * 4
        })
        .sum();
    let file_bytes = std::fs::metadata(path).map_err(|e| e.to_string())?.len();
    if file_bytes < data_bytes {
        return Err(format!(
            "truncated NetCDF3 file: its header describes at least {data_bytes} bytes of data, the file has {file_bytes}"
        ));
    }
    Ok(())
}

fn download(location: &Location) -> Result<tempfile::NamedTempFile> {
    use object_store::ObjectStoreExt;
    let store = location.store.clone();
    let key = location.key.clone();
    let bytes = IO_RUNTIME
        .block_on(async move { store.get(&key).await?.bytes().await })
        .map_err(|e| DataError::read(&location.display, e))?;
    let mut temp = tempfile::NamedTempFile::new().map_err(|e| DataError::read(&location.display, e))?;
    temp.write_all(&bytes).map_err(|e| DataError::read(&location.display, e))?;
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
        // libnetcdf converts the stored type to float itself.
        self.nc_variable(name)?
            .get::<f32, _>((start, count))
            .map_err(|e| DataError::bad_variable(&self.location.display, name, format!("cannot read values: {e}")))
    }

    fn read_f64_region(&self, name: &str, start: &[usize], count: &[usize]) -> Result<ArrayD<f64>> {
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
