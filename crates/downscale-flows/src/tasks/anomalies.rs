//! BCSD's spatial anomalies (methods.md §3.2 step 2): the fine detail the coarse grid cannot hold, per calendar
//! month, `A[m] = mean over the training days of month m of (obs − interpolated coarse obs)`; additive for every
//! variable, as the original (classic BCSD uses ratios for precipitation). Adding them back restores the detail.

use downscale_data::{AttrValue, CoordValues, Coordinate, DataArray};
use downscale_engine::TaskError;
use ndarray::{Array3, Axis, Ix3};

/// The 12 maps `(month, lat, lon)`; a month without training days is NaN.
pub fn spatial_anomalies(obs: &DataArray, interpolated: &DataArray) -> Result<DataArray, TaskError> {
    let fine = obs.data.view().into_dimensionality::<Ix3>().map_err(TaskError::new)?;
    let smooth = interpolated.data.view().into_dimensionality::<Ix3>().map_err(TaskError::new)?;
    if fine.shape() != smooth.shape() {
        return Err(TaskError::new(format!(
            "{}: shape {:?} differs from the interpolated obs {:?}",
            obs.source,
            fine.shape(),
            smooth.shape()
        )));
    }
    let time = obs.time.as_ref().ok_or_else(|| TaskError::new(format!("{}: no time axis", obs.source)))?;
    let (_, n_lat, n_lon) = fine.dim();
    let mut sums = Array3::<f64>::zeros((12, n_lat, n_lon));
    let mut counts = Array3::<u32>::zeros((12, n_lat, n_lon));
    for (step, date) in time.dates.iter().enumerate() {
        let month = date.month as usize - 1;
        for ((&f, &s), (sum, count)) in
            fine.index_axis(Axis(0), step).iter().zip(smooth.index_axis(Axis(0), step).iter()).zip(
                sums.index_axis_mut(Axis(0), month).iter_mut().zip(counts.index_axis_mut(Axis(0), month).iter_mut()),
            )
        {
            if !(f.is_nan() || s.is_nan()) {
                *sum += f64::from(f) - f64::from(s);
                *count += 1;
            }
        }
    }
    let maps: Array3<f32> = ndarray::Zip::from(&sums)
        .and(&counts)
        .map_collect(|&sum, &count| if count == 0 { f32::NAN } else { (sum / f64::from(count)) as f32 });
    let mut attrs = obs.attrs.clone();
    attrs
        .insert("long_name".into(), AttrValue::Text(format!("BCSD spatial anomaly of {} by calendar month", obs.name)));
    let mut coords: Vec<Coordinate> =
        obs.coords.iter().filter(|c| c.dims.len() == 1 && c.dims[0] != "time").cloned().collect();
    coords.push(Coordinate {
        name: "month".into(),
        dims: vec!["month".into()],
        values: CoordValues::Numbers((1..=12).map(f64::from).collect()),
        attrs: [("long_name".to_string(), AttrValue::Text("calendar month".into()))].into_iter().collect(),
        bounds: None,
    });
    let mut dims = obs.dims.clone();
    dims[0] = "month".into();
    Ok(DataArray {
        name: obs.name.clone(),
        source: obs.source.clone(),
        dims,
        data: maps.into_dyn(),
        coords,
        time: None,
        attrs,
        global_attrs: obs.global_attrs.clone(),
    })
}

/// BCSD's last step (§3.2 step 5): each day plus its month's anomaly, then NaN off `land`, in place (the daily
/// field is the largest array of the task; a copy would double its memory). No clipping: additive anomalies can make
/// precipitation negative, as in the original.
pub fn add_anomalies_and_mask(
    mut fine: DataArray,
    anomalies: &DataArray,
    land: &ndarray::Array2<bool>,
) -> Result<DataArray, TaskError> {
    let maps = anomalies.data.view().into_dimensionality::<Ix3>().map_err(TaskError::new)?;
    let (source, time) = (&fine.source, &fine.time);
    let time = time.as_ref().ok_or_else(|| TaskError::new(format!("{source}: no time axis")))?;
    let mut data = fine.data.view_mut().into_dimensionality::<Ix3>().map_err(TaskError::new)?;
    if data.shape()[1..] != maps.shape()[1..] || land.shape() != &data.shape()[1..] {
        return Err(TaskError::new(format!("{source}: the anomalies and the land mask are not on this grid")));
    }
    for (step, mut day) in data.axis_iter_mut(Axis(0)).enumerate() {
        let anomaly = maps.index_axis(Axis(0), time.dates[step].month as usize - 1);
        ndarray::Zip::from(&mut day).and(&anomaly).and(land).for_each(|value, &a, &is_land| {
            *value = if is_land { *value + a } else { f32::NAN };
        });
    }
    Ok(fine)
}
