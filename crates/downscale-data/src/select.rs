//! Selections by label: inclusive years, and a latitude/longitude box widened by a margin of cells. Flows cut
//! their inputs with these before any work, so a regional run reads and computes only its region. Each selection is
//! first a set of index ranges, which a [`VariableReader`] can read directly from the file (one copy of the block,
//! not of the whole variable), or an array in memory can be cut to.
//!
//! [`VariableReader`]: crate::VariableReader

use std::ops::Range;

use crate::array::DataArray;
use crate::error::{DataError, Result};

impl DataArray {
    /// The time steps of years `first..=last`. An error names the file when the data do not cover those years.
    pub fn select_years(&self, first: i32, last: i32) -> Result<DataArray> {
        let mut ranges = whole(self.shape());
        ranges[0] = self.year_steps(first, last)?;
        self.block(&ranges)
    }

    /// The cells of the box `lat: [south, north]`, `lon: [west, east]` (degrees, longitudes in −180..180 as the
    /// decoder gives them) plus `margin` cells on every side where the data extend that far, so that interpolating
    /// onto the box needs nothing outside the selection. A box that crosses no cell is an error.
    pub fn select_box(&self, lat: [f64; 2], lon: [f64; 2], margin: usize) -> Result<DataArray> {
        let mut ranges = whole(self.shape());
        for (axis, range) in self.box_cells(lat, lon, margin)? {
            ranges[axis] = range;
        }
        self.block(&ranges)
    }

    /// The steps of years `first..=last`, which must be covered by the data and, as CF time axes are, contiguous.
    pub fn year_steps(&self, first: i32, last: i32) -> Result<Range<usize>> {
        let bad = |detail: String| DataError::bad_variable(&self.source, &self.name, detail);
        let time = self.time.as_ref().ok_or_else(|| bad("has no time axis".into()))?;
        let (Some(start), Some(end)) = (time.dates.first(), time.dates.last()) else {
            return Err(bad("has no time steps".into()));
        };
        if first < start.year || last > end.year {
            return Err(bad(format!(
                "years {first}-{last} are outside the data, which cover {}-{}",
                start.year, end.year
            )));
        }
        let inside = |step: &usize| (first..=last).contains(&time.dates[*step].year);
        let begin = (0..time.dates.len()).find(inside).unwrap_or(0);
        let end = (begin..time.dates.len()).find(|step| !inside(step)).unwrap_or(time.dates.len());
        if (end..time.dates.len()).any(|step| inside(&step)) {
            return Err(bad("has time steps out of order: years cannot be selected as one block".into()));
        }
        Ok(begin..end)
    }

    /// The axis and cell range of `lat` and of `lon` of [`DataArray::select_box`]. Only labels are read, so a
    /// reader's template serves.
    pub fn box_cells(&self, lat: [f64; 2], lon: [f64; 2], margin: usize) -> Result<[(usize, Range<usize>); 2]> {
        let bad = |detail: String| DataError::bad_variable(&self.source, &self.name, detail);
        let cells = |dim: &str, [low, high]: [f64; 2]| -> Result<(usize, Range<usize>)> {
            let axis = self.axis_of(dim).ok_or_else(|| bad(format!("has no '{dim}' dimension")))?;
            let values = self
                .coord(dim)
                .and_then(|c| c.values.numbers())
                .ok_or_else(|| bad(format!("has no numeric '{dim}'")))?;
            let inside: Vec<usize> = (0..values.len()).filter(|&i| values[i] >= low && values[i] <= high).collect();
            // A box narrower than one cell still selects the cell(s) around it.
            let (first, last) = match (inside.first(), inside.last()) {
                (Some(&f), Some(&l)) => (f, l),
                _ => {
                    let below = values.partition_point(|&v| v < low);
                    if below == 0 || below == values.len() {
                        return Err(bad(format!(
                            "the box {dim} {low}..{high} lies outside the data's {dim} {:?}..{:?}",
                            values.first(),
                            values.last()
                        )));
                    }
                    (below - 1, below)
                }
            };
            Ok((axis, first.saturating_sub(margin)..(last + margin + 1).min(values.len())))
        };
        Ok([cells("lat", lat)?, cells("lon", lon)?])
    }
}

/// The block of everything of an array of `shape`, to narrow axis by axis.
pub fn whole(shape: &[usize]) -> Vec<Range<usize>> {
    shape.iter().map(|&len| 0..len).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::read_variable;

    const OBS: &str = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../data/samples/iberia/obs_E-OBS/tas_day_E-OBS-v14-0.50reg_iberia_DJF_19821201-20020228.nc"
    );

    fn obs() -> crate::DataArray {
        read_variable(OBS, "tas").unwrap()
    }

    #[test]
    fn years_and_boxes_select_by_label() {
        let array = obs();
        let winters = array.select_years(1990, 1991).unwrap();
        let years: Vec<i32> = winters.time.as_ref().unwrap().dates.iter().map(|d| d.year).collect();
        assert!(years.iter().all(|y| (1990..=1991).contains(y)));
        assert_eq!(years.len(), 31 + 28 + 31 + 31 + 28 + 31, "Jan-Feb and Dec of each year");
        let error = array.select_years(1970, 1990).unwrap_err().to_string();
        assert!(error.contains("years 1970-1990 are outside the data, which cover 1982-2002"), "{error}");

        let cut = array.select_box([40.0, 42.0], [-4.0, -2.0], 1).unwrap();
        let axis = |a: &crate::DataArray, dim: &str| a.coord(dim).unwrap().values.numbers().unwrap().to_vec();
        for (dim, [low, high]) in [("lat", [40.0, 42.0]), ("lon", [-4.0, -2.0])] {
            let all = axis(&array, dim);
            let first = all.iter().position(|&v| v >= low).unwrap() - 1;
            let last = all.iter().rposition(|&v| v <= high).unwrap() + 1;
            assert_eq!(axis(&cut, dim), all[first..=last], "{dim}: the box's cells and one more each side");
        }
        let (lat0, lon0) = (axis(&cut, "lat")[0], axis(&cut, "lon")[0]);
        let i = axis(&array, "lat").iter().position(|&v| v == lat0).unwrap();
        let j = axis(&array, "lon").iter().position(|&v| v == lon0).unwrap();
        assert_eq!(cut.data[[7, 0, 0]].to_bits(), array.data[[7, i, j]].to_bits());
        assert!(array.select_box([60.0, 61.0], [-4.0, -2.0], 0).is_err());

        // The same selection read from the file as one block.
        let reader = crate::VariableReader::open(OBS, "tas").unwrap();
        let mut ranges = whole(reader.shape());
        ranges[0] = reader.template().year_steps(1990, 1991).unwrap();
        for (axis, range) in reader.template().box_cells([40.0, 42.0], [-4.0, -2.0], 1).unwrap() {
            ranges[axis] = range;
        }
        let read = reader.read_block(&ranges).unwrap();
        let selected = winters.select_box([40.0, 42.0], [-4.0, -2.0], 1).unwrap();
        assert_eq!(read.data, selected.data);
        assert_eq!(read.coords, selected.coords);
        assert_eq!(read.time, selected.time);
    }
}
