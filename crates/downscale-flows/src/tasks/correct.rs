//! The point-wise bias correction of a coarse field: every cell of the model grid an independent series, adjusted
//! by the bias-correction core in parallel on the runtime's pool.

use downscale_data::{DataArray, TimeAxis};
use downscale_engine::TaskError;
use downscale_methods::adjust::{BiasCorrection, PointInputs, adjust_points};
use downscale_methods::series::TimeFacts;
use ndarray::Array2;

/// Month, day of year and day number of each step, in the axis's own calendar.
pub fn time_facts(time: &TimeAxis) -> TimeFacts {
    let calendar = time.calendar;
    TimeFacts {
        months: time.dates.iter().map(|d| d.month as u8).collect(),
        days_of_year: time.dates.iter().map(|d| calendar.day_of_year(d) as u16).collect(),
        days: time
            .dates
            .iter()
            .map(|d| {
                let day = calendar.day_number(d.year, d.month, d.day).unwrap_or_default() as f64;
                day + d.time_of_day_micros() as f64 / 86_400e6
            })
            .collect(),
    }
}

/// `(time, point)` view of a `(time, ...)` array.
fn matrix(array: &DataArray) -> Result<(Array2<f32>, TimeFacts), TaskError> {
    let time = array.time.as_ref().ok_or_else(|| TaskError::new(format!("{}: no time axis", array.source)))?;
    Ok((array.time_point_matrix(), time_facts(time)))
}

/// Adjusts `sim` with `method` trained on `reference` (observations on the model grid) and `hist`. When the three
/// are a block of cells of a larger field, `points` gives each cell's index in the whole field (row-major over the
/// non-time dimensions), so the block's values are those of the whole field adjusted at once.
pub fn correct_points(
    method: &BiasCorrection,
    reference: &DataArray,
    hist: &DataArray,
    sim: &DataArray,
    points: Option<&[usize]>,
) -> Result<DataArray, TaskError> {
    for (role, other) in [("coarse obs", reference), ("model training run", hist)] {
        if other.shape()[1..] != sim.shape()[1..] {
            return Err(TaskError::new(format!(
                "{}: the {role} has cells {:?} but the simulation {:?}",
                other.source,
                &other.shape()[1..],
                &sim.shape()[1..]
            )));
        }
    }
    let (reference_matrix, reference_time) = matrix(reference)?;
    let (hist_matrix, hist_time) = matrix(hist)?;
    let (sim_matrix, sim_time) = matrix(sim)?;
    let inputs = PointInputs {
        reference: reference_matrix.view(),
        reference_time: &reference_time,
        hist: hist_matrix.view(),
        hist_time: &hist_time,
        sim: sim_matrix.view(),
        sim_time: &sim_time,
        points,
    };
    let adjusted = adjust_points(method, &inputs, 0).map_err(|e| TaskError::new(format!("{}: {e}", sim.source)))?;
    Ok(sim.with_data(adjusted.into_shape_with_order(sim.shape().to_vec()).map_err(TaskError::new)?.into_dyn()))
}
