//! Blocks of a decoded variable: time blocks or spatial tiles read on demand, so that a task holds one block in
//! memory rather than a whole array. A block is addressed by decoded index ranges (time first, latitude ascending,
//! longitude in [-180, 180) ascending) and is, bit for bit, the same slice of what [`read_variable`] returns.
//!
//! [`read_variable`]: crate::read_variable

use std::ops::Range;

use ndarray::{ArrayD, Slice};

use crate::array::{Coordinate, DataArray, TimeAxis};
use crate::backend::RawDataset;
use crate::decode::{DecodedLayout, decode_layout};
use crate::error::{DataError, Result};
use crate::location::Location;

/// One variable of an opened dataset, its metadata decoded once, its values read block by block.
///
/// The reader is `Send + Sync`: blocks may be read from several threads at once (NetCDF reads queue on the
/// process-wide libnetcdf lock; Zarr reads run in parallel).
pub struct VariableReader {
    dataset: Box<dyn RawDataset>,
    layout: DecodedLayout,
}

impl VariableReader {
    /// Opens `location` (a path or URL, as [`read_variable`] takes) and decodes everything about `variable` but its
    /// values: coordinates, time axis, attributes and the mapping of decoded to stored indices.
    ///
    /// [`read_variable`]: crate::read_variable
    pub fn open(location: &str, variable: &str) -> Result<VariableReader> {
        Self::open_at(&Location::parse(location)?, variable)
    }

    /// [`open`](Self::open) of a location already resolved (with its object store's client).
    pub fn open_at(location: &Location, variable: &str) -> Result<VariableReader> {
        let dataset = crate::backend::open(location)?;
        let layout = decode_layout(dataset.as_ref(), variable)?;
        Ok(VariableReader { dataset, layout })
    }

    /// The decoded shape, the shape [`read_variable`] returns.
    ///
    /// [`read_variable`]: crate::read_variable
    pub fn shape(&self) -> &[usize] {
        &self.layout.shape
    }

    /// The variable as [`read_variable`] returns it (name, dims, full coordinates, time axis, attributes, global
    /// attributes, source) with no values: `data` has length 0 on every axis. A template for writers
    /// ([`ZarrWriter::create`]) and for planning blocks.
    ///
    /// [`read_variable`]: crate::read_variable
    /// [`ZarrWriter::create`]: crate::ZarrWriter::create
    pub fn template(&self) -> &DataArray {
        &self.layout.template
    }

    /// The labels of the block at `ranges` (coordinates with their bounds and time axis cut to it), without its
    /// values: the template of a store written block by block from this selection.
    pub fn block_labels(&self, ranges: &[Range<usize>]) -> Result<DataArray> {
        labels_of_block(self.template(), self.shape(), ranges)
    }

    /// The block at `ranges`, one decoded index range per dimension in decoded dimension order: values,
    /// coordinates (with their bounds) and time axis cut to the block. Reads only the stored hyperslabs behind it.
    pub fn read_block(&self, ranges: &[Range<usize>]) -> Result<DataArray> {
        self.layout.read_block(self.dataset.as_ref(), ranges)
    }
}

impl DataArray {
    /// The block at `ranges` (one index range per dimension) of an array in memory, cut exactly as
    /// [`VariableReader::read_block`] cuts a stored one: values, coordinates with their bounds, and time axis.
    pub fn block(&self, ranges: &[Range<usize>]) -> Result<DataArray> {
        let mut block = labels_of_block(self, self.shape(), ranges)?;
        block.data = self.data.slice_each_axis(|axis| Slice::from(ranges[axis.axis.index()].clone())).to_owned();
        Ok(block)
    }
}

/// `array`'s labels cut to the block `ranges` of `shape`, with empty data. Coordinates on none of the array's
/// dimensions (scalars like `height`) are kept whole.
pub(crate) fn labels_of_block(array: &DataArray, shape: &[usize], ranges: &[Range<usize>]) -> Result<DataArray> {
    check_ranges(array, shape, ranges)?;
    let cut = |coord: &Coordinate| {
        cut_coordinate(array, shape, ranges, coord)
            .map_err(|detail| DataError::bad_variable(&array.source, &array.name, detail))
    };
    let time = match (&array.time, ranges.first()) {
        (Some(time), Some(steps)) => {
            let dates = time.dates.get(steps.clone()).ok_or_else(|| {
                let detail = format!("its time axis has {} steps, fewer than its shape {shape:?}", time.dates.len());
                DataError::bad_variable(&array.source, &array.name, detail)
            })?;
            Some(TimeAxis { dates: dates.to_vec(), ..time.clone() })
        }
        _ => None,
    };
    Ok(DataArray {
        name: array.name.clone(),
        source: array.source.clone(),
        dims: array.dims.clone(),
        data: ArrayD::zeros(vec![0; array.dims.len()]),
        coords: array.coords.iter().map(cut).collect::<Result<_>>()?,
        time,
        attrs: array.attrs.clone(),
        global_attrs: array.global_attrs.clone(),
    })
}

/// One range per dimension, each inside its dimension, or an error saying what was expected.
fn check_ranges(array: &DataArray, shape: &[usize], ranges: &[Range<usize>]) -> Result<()> {
    let bad = |detail: String| Err(DataError::bad_variable(&array.source, &array.name, detail));
    if ranges.len() != shape.len() {
        return bad(format!(
            "a block needs {} index ranges, one per dimension ({}), got {}",
            shape.len(),
            array.dims.join(", "),
            ranges.len()
        ));
    }
    for ((range, &len), dim) in ranges.iter().zip(shape).zip(&array.dims) {
        if range.start > range.end {
            return bad(format!("block range {range:?} for dimension '{dim}' starts after its end"));
        }
        if range.end > len {
            return bad(format!("block range {range:?} for dimension '{dim}' exceeds its length {len}"));
        }
    }
    Ok(())
}

/// The values of `coord` inside the block: its values are laid out in C order over its own dimensions, each of
/// which is cut by the block range when it is one of the array's dimensions.
fn cut_coordinate(
    array: &DataArray,
    shape: &[usize],
    ranges: &[Range<usize>],
    coord: &Coordinate,
) -> std::result::Result<Coordinate, String> {
    let axes: Vec<Option<usize>> = coord.dims.iter().map(|d| array.axis_of(d)).collect();
    if axes.iter().all(Option::is_none) {
        return Ok(coord.clone());
    }
    let coord_shape = coord.shape_in(&array.dims, shape)?;
    let positions = ArrayD::from_shape_vec(coord_shape, (0..coord.values.len()).collect())
        .map_err(|e| format!("coordinate '{}': {e}", coord.name))?;
    let inside = positions.slice_each_axis(|axis| match axes[axis.axis.index()] {
        Some(array_axis) => Slice::from(ranges[array_axis].clone()),
        None => Slice::from(..),
    });
    let order: Vec<usize> = inside.iter().copied().collect();
    let bounds = match &coord.bounds {
        Some(bounds) if bounds.len() != coord.values.len() => {
            return Err(format!(
                "coordinate '{}' has {} values but {} bounds",
                coord.name,
                coord.values.len(),
                bounds.len()
            ));
        }
        Some(bounds) => Some(order.iter().map(|&i| bounds[i]).collect()),
        None => None,
    };
    Ok(Coordinate { values: coord.values.reordered(&order), bounds, ..coord.clone() })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_send_sync<T: Send + Sync>() {}

    #[test]
    fn readers_are_shared_between_threads() {
        assert_send_sync::<VariableReader>();
    }
}
