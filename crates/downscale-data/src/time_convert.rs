//! Applies a calendar-conversion plan (see `calendar_convert`) to a labelled array: model series in noleap, all_leap
//! or 360_day calendars become standard-calendar series that line up with observations.

use ndarray::{ArrayD, Axis, Zip};

use crate::array::{DataArray, TimeAxis};
use crate::calendar::Calendar;
use crate::calendar_convert::{Align360, DayOrigin, plan_to_standard};
use crate::error::{DataError, Result};

/// Returns `array` on the standard calendar. Days the source calendar lacks are linearly interpolated between
/// their neighbours (in f64), days it has in excess are dropped; `align_360` chooses how 360-day years map.
pub fn to_standard_calendar(array: &DataArray, align_360: Align360) -> Result<DataArray> {
    let time = array
        .time
        .as_ref()
        .ok_or_else(|| DataError::bad_variable(&array.source, &array.name, "has no time axis to convert"))?;
    let plan = plan_to_standard(time.calendar, &time.dates, align_360).map_err(|source| DataError::Calendar {
        path: array.source.clone(),
        variable: array.name.clone(),
        source,
    })?;
    let mut shape = array.data.shape().to_vec();
    shape[0] = plan.dates.len();
    let mut data = ArrayD::<f32>::zeros(shape);
    for (mut out, origin) in data.axis_iter_mut(Axis(0)).zip(&plan.origins) {
        match *origin {
            DayOrigin::Index(i) => out.assign(&array.data.index_axis(Axis(0), i)),
            DayOrigin::Interpolate { before, after, weight_after } => {
                let a = array.data.index_axis(Axis(0), before);
                let b = array.data.index_axis(Axis(0), after);
                Zip::from(&mut out).and(&a).and(&b).for_each(|o, &x, &y| {
                    *o = (f64::from(x) * (1.0 - weight_after) + f64::from(y) * weight_after) as f32;
                });
            }
        }
    }
    let mut converted = array.with_data(data);
    converted.time = Some(TimeAxis { calendar: Calendar::Standard, units: time.units.clone(), dates: plan.dates });
    Ok(converted)
}
