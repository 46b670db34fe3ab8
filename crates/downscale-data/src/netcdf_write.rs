//! CF-1.8 NetCDF4 output, published atomically (written under a temporary name, then renamed or uploaded).
//!
//! Same encoding as the Zarr writer: float32 data with NaN as `_FillValue` (zlib with shuffle), int64 time with
//! units and calendar, float64 coordinates with CF axis attributes and, when known, cell bounds.

use crate::array::{CoordValues, DataArray};
use crate::attrs::{AttrValue, Attributes};
use crate::cf_encode::{Provenance, axis_attributes, encode_time, global_attributes};
use crate::error::{DataError, Result};
use crate::location::Location;
use crate::publish::{CreatedFolders, OutputKind, Replace, check_destination, remove_stale_stages, staging_name};
use crate::zarr_write::publish_local;

/// Writes `array` as a NetCDF4 file at `destination`, replacing only what `replace` allows there.
pub fn write_netcdf(
    array: &DataArray,
    destination: &Location,
    provenance: &Provenance,
    replace: Replace,
) -> Result<()> {
    check_destination(destination, replace, OutputKind::NetcdfFile)?;
    let directory = match &destination.local_path {
        Some(path) => path.parent().map(std::path::Path::to_path_buf).unwrap_or_default(),
        None => std::env::temp_dir(),
    };
    let io_error = |e| DataError::write_source(&destination.display, e);
    let mut created_folders = CreatedFolders::create(&directory).map_err(io_error)?;
    if let Some(path) = &destination.local_path {
        remove_stale_stages(path);
    }
    let temporary = tempfile::Builder::new()
        .prefix(&staging_name(&destination.file_name(), ""))
        .tempfile_in(&directory)
        .map_err(io_error);
    let written = temporary.and_then(|temporary| {
        write_file(array, temporary.path(), provenance).map_err(|e| DataError::write(&destination.display, e))?;
        Ok(temporary)
    });
    let temporary = match written {
        Ok(temporary) => temporary,
        Err(error) => {
            created_folders.remove();
            return Err(error);
        }
    };
    match &destination.local_path {
        Some(_) => {
            let published = publish_local(temporary.path(), destination, replace, OutputKind::NetcdfFile);
            // After the rename nothing is left at the temporary path; after a failure this removes the file.
            drop(temporary);
            match &published {
                Ok(()) => created_folders.keep(),
                Err(_) => created_folders.remove(),
            }
            published
        }
        None => {
            use object_store::ObjectStoreExt;
            let bytes = std::fs::read(temporary.path()).map_err(io_error)?;
            let store = destination.store.clone();
            let key = destination.key.clone();
            crate::backend::IO_RUNTIME
                .block_on(async move { store.put(&key, bytes.into()).await })
                .map(|_| ())
                .map_err(|e| DataError::write_source(&destination.display, e))
        }
    }
}

fn put_attrs(var: &mut netcdf::VariableMut<'_>, attrs: &Attributes) -> netcdf::Result<()> {
    for (key, value) in attrs {
        match value {
            AttrValue::Text(s) => var.put_attribute(key, s.as_str())?,
            AttrValue::Number(x) => var.put_attribute(key, *x)?,
            AttrValue::Numbers(v) => var.put_attribute(key, v.clone())?,
            AttrValue::Texts(v) => var.put_attribute(key, v.join(" "))?,
        };
    }
    Ok(())
}

fn write_file(array: &DataArray, path: &std::path::Path, provenance: &Provenance) -> std::result::Result<(), String> {
    let e = |e: netcdf::Error| e.to_string();
    let mut file = netcdf::create(path).map_err(e)?;
    for (dim, &len) in array.dims.iter().zip(array.shape()) {
        file.add_dimension(dim, len).map_err(e)?;
    }
    for (key, value) in global_attributes(array, provenance) {
        match value {
            AttrValue::Text(s) => file.add_attribute(&key, s).map_err(e)?,
            AttrValue::Number(x) => file.add_attribute(&key, x).map_err(e)?,
            AttrValue::Numbers(v) => file.add_attribute(&key, v).map_err(e)?,
            AttrValue::Texts(v) => file.add_attribute(&key, v.join(" ")).map_err(e)?,
        };
    }

    if let Some(time) = &array.time {
        let (units, values) = encode_time(time.calendar, &time.dates)?;
        let mut var = file.add_variable::<i64>(&array.dims[0], &[array.dims[0].as_str()]).map_err(e)?;
        let text = |s: &str| AttrValue::Text(s.to_string());
        let attrs: Attributes = [
            ("units", text(&units.to_string())),
            ("calendar", text(time.calendar.cf_name())),
            ("standard_name", text("time")),
            ("axis", text("T")),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
        put_attrs(&mut var, &attrs).map_err(e)?;
        var.put_values(&values, ..).map_err(e)?;
    }

    let mut has_bounds_dim = false;
    for coord in &array.coords {
        let dims: Vec<&str> = coord.dims.iter().map(String::as_str).collect();
        let mut attrs = axis_attributes(coord);
        match &coord.values {
            CoordValues::Numbers(values) => {
                if let Some(bounds) = &coord.bounds {
                    if !has_bounds_dim {
                        file.add_dimension("bnds", 2).map_err(e)?;
                        has_bounds_dim = true;
                    }
                    let name = format!("{}_bnds", coord.name);
                    let flat: Vec<f64> = bounds.iter().flat_map(|b| b.iter().copied()).collect();
                    let mut var = file.add_variable::<f64>(&name, &[dims[0], "bnds"]).map_err(e)?;
                    var.put_values(&flat, ..).map_err(e)?;
                    attrs.insert("bounds".into(), AttrValue::Text(name));
                }
                let mut var = file.add_variable::<f64>(&coord.name, &dims).map_err(e)?;
                put_attrs(&mut var, &attrs).map_err(e)?;
                var.put_values(values, ..).map_err(e)?;
            }
            CoordValues::Labels(labels) => {
                let mut var = file.add_string_variable(&coord.name, &dims).map_err(e)?;
                put_attrs(&mut var, &attrs).map_err(e)?;
                for (i, label) in labels.iter().enumerate() {
                    var.put_string(label, i).map_err(e)?;
                }
            }
        }
    }

    let dims: Vec<&str> = array.dims.iter().map(String::as_str).collect();
    let mut var = file.add_variable::<f32>(&array.name, &dims).map_err(e)?;
    var.set_compression(4, true).map_err(e)?;
    var.set_fill_value(f32::NAN).map_err(e)?;
    let mut attrs = array.attrs.clone();
    let aux: Vec<&str> =
        array.coords.iter().filter(|c| !(c.dims.len() == 1 && c.dims[0] == c.name)).map(|c| c.name.as_str()).collect();
    if !aux.is_empty() {
        attrs.insert("coordinates".into(), AttrValue::Text(aux.join(" ")));
    }
    put_attrs(&mut var, &attrs).map_err(e)?;
    let data = array.data.as_standard_layout();
    var.put_values(data.as_slice().unwrap_or(&[]), ..).map_err(e)?;
    Ok(())
}
