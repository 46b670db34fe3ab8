//! Reading a run's input data: the variable from its file, in canonical units (K, mm day-1), on the standard
//! calendar (missing days of noleap models interpolated, as the original did), over the run's years and box, with
//! daily time stamps at midnight (models stamp days at noon, observations at midnight; the original normalised
//! them the same way, so that model and observation days line up).

use downscale_data::calendar::{Calendar, CfDateTime};
use downscale_data::calendar_convert::Align360;
use downscale_data::select::whole;
use downscale_data::time_convert::to_standard_calendar;
use downscale_data::units::to_canonical;
use downscale_data::{DataArray, WriteOptions};
use downscale_engine::{TaskContext, TaskError};
use serde::{Deserialize, Serialize};

use crate::tasks::blocks::map_time_blocks;

/// What to cut out of a source: parameters of `get_obs` and `get_experiment`, hence part of their cache keys.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Selection {
    /// The run's variable name (the output's name, whatever the file calls it).
    pub variable: String,
    /// First and last year kept (calendar years, inclusive).
    pub years: [i32; 2],
    /// `[latmin, latmax, lonmin, lonmax]`.
    pub bbox: [f64; 4],
    /// Cells kept around the box (model grids keep some, so interpolating onto the box needs nothing outside).
    pub margin: usize,
}

/// Writes `file_variable` of `location` with `selection` applied as the task's artifact. Standard-calendar data
/// (observations) stream through blocks of days; other calendars are converted whole, since a converted year's days
/// depend on its neighbours (model data, on coarse grids).
pub fn write_selected(
    ctx: &TaskContext,
    location: &str,
    file_variable: &str,
    selection: &Selection,
    options: &WriteOptions,
) -> Result<(), TaskError> {
    let [latmin, latmax, lonmin, lonmax] = selection.bbox;
    // Cut while reading: only the selection's block is read and decoded.
    let (reader, ranges) = ctx.open_external(location, file_variable, |reader| {
        let template = reader.template();
        let mut ranges = whole(reader.shape());
        ranges[0] = template.year_steps(selection.years[0], selection.years[1])?;
        for (axis, range) in template.box_cells([latmin, latmax], [lonmin, lonmax], selection.margin)? {
            ranges[axis] = range;
        }
        Ok(ranges)
    })?;
    let labels = reader.block_labels(&ranges)?;
    if labels.time.as_ref().is_some_and(|t| t.calendar != Calendar::Standard) {
        let array = finish(reader.read_block(&ranges)?, selection)?;
        return ctx.write_array(&array, options);
    }
    // The units of the whole selection first: that checks its every step, where a block sees only its own.
    let labels = finish(labels, selection)?;
    let shape: Vec<usize> = ranges.iter().map(ExactSizeIterator::len).collect();
    map_time_blocks(ctx, &reader, &ranges, &labels, &shape, options, |mut block| {
        to_canonical(&mut block)?;
        Ok(block.data)
    })
}

/// Canonical units, the standard calendar (missing days of noleap models interpolated, as the original did), days
/// stamped at midnight and the run's variable name.
fn finish(mut array: DataArray, selection: &Selection) -> Result<DataArray, TaskError> {
    to_canonical(&mut array)?;
    if array.time.as_ref().is_some_and(|t| t.calendar != Calendar::Standard) {
        array = to_standard_calendar(&array, Align360::Year)?;
    }
    if let Some(time) = &mut array.time {
        for date in &mut time.dates {
            *date = CfDateTime::ymd(date.year, date.month, date.day);
        }
    }
    array.name = selection.variable.clone();
    Ok(array)
}
