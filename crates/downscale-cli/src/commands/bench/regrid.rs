//! `downscale bench regrid`: weight generation and application timings on real grid pairs, next to `cdo` doing the
//! same work (when it is installed) and to a plain memory copy of the same bytes.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::{Duration, Instant};

use super::time;

use anyhow::{Context, Result};
use downscale_data::{CoordValues, Coordinate, DataArray, read_variable};
use downscale_regrid::{Grid, RegridMethod, WeightOptions, compute_weights};
use ndarray::{Array3, ArrayD};

/// ERA5's 0.25 degree grid: 721 latitudes from pole to pole, 1440 longitudes from -180.
fn era5_grid() -> Result<Grid> {
    let lat = (0..721).map(|i| -90.0 + 0.25 * f64::from(i)).collect();
    let lon = (0..1440).map(|i| -180.0 + 0.25 * f64::from(i)).collect();
    Ok(Grid::from_centres("ERA5 0.25 degree grid", lat, lon)?)
}

/// Times `cdo gen<method>` for the grids of two files; `None` when cdo is not installed.
fn cdo_weights(operator: &str, source: &Path, target: &Path, scratch: &Path) -> Option<Duration> {
    let out = scratch.join(format!("weights-{operator}.nc"));
    let start = Instant::now();
    let status = Command::new("cdo")
        .args(["-s", "-O", &format!("{operator},{}", target.display())])
        .arg(source)
        .arg(&out)
        .output()
        .ok()?;
    let elapsed = start.elapsed();
    let _ = std::fs::remove_file(&out);
    status.status.success().then_some(elapsed)
}

/// A global grid as a one-day NetCDF file, so that cdo can be given the same pair of grids.
fn grid_file(grid: &Grid, dir: &Path, name: &str, template: &DataArray) -> Result<PathBuf> {
    let mut array = template.select_time(&[0]);
    array.data = ArrayD::from_elem(vec![1, grid.lat.len(), grid.lon.len()], 280.0f32);
    array.coords = ["lat", "lon"]
        .iter()
        .zip([&grid.lat, &grid.lon])
        .map(|(name, values)| Coordinate {
            name: name.to_string(),
            dims: vec![name.to_string()],
            values: CoordValues::Numbers(values.clone()),
            attrs: Default::default(),
            bounds: None,
        })
        .collect();
    let path = dir.join(name);
    let location = downscale_data::Location::parse(path.to_str().context("temporary path is not UTF-8")?)?;
    downscale_data::write_netcdf(&array, &location, &Default::default(), downscale_data::Replace::OwnOutputs)?;
    Ok(path)
}

struct Row {
    case: String,
    ours: Duration,
    reference: Option<(String, Duration)>,
    detail: String,
}

pub(crate) fn run(samples: &Path, days: usize) -> Result<ExitCode> {
    let temporary = tempfile::tempdir()?;
    let dir = temporary.path().to_path_buf();
    let cnrm = samples.join("iberia/gcm_CNRM-CM5/tas_day_CNRM-CM5_historical_r1i1p1_iberia_DJF_19821201-20020228.nc");
    let eobs = samples.join("iberia/obs_E-OBS/tas_day_E-OBS-v14-0.50reg_iberia_DJF_19821201-20020228.nc");
    let cnrm_tas = read_variable(cnrm.to_str().context("path")?, "tas")?;
    let iberia_source = Grid::from_array(&cnrm_tas)?;
    let iberia_target = Grid::from_array(&read_variable(eobs.to_str().context("path")?, "tas")?)?;
    let global_source = Grid::global(1.0)?;
    let global_target = era5_grid()?;
    let global_source_file = grid_file(&global_source, &dir, "global-1deg.nc", &cnrm_tas)?;
    let global_target_file = grid_file(&global_target, &dir, "era5-025deg.nc", &cnrm_tas)?;

    let mut rows = Vec::new();
    for (method, operator) in
        [(RegridMethod::Bilinear, "genbil"), (RegridMethod::Conservative, "gencon"), (RegridMethod::Nearest, "gennn")]
    {
        let options = WeightOptions { method, extrapolate: true };
        for (label, source, target, files) in [
            ("global 1 -> 0.25 deg", &global_source, &global_target, (&global_source_file, &global_target_file)),
            ("CNRM-CM5 -> E-OBS", &iberia_source, &iberia_target, (&cnrm, &eobs)),
        ] {
            let (weights, elapsed) = time(|| Ok(compute_weights(source, target, options)?))?;
            rows.push(Row {
                case: format!("weights {} {label}", method.name()),
                ours: elapsed,
                reference: cdo_weights(operator, files.0, files.1, &dir).map(|d| (format!("cdo {operator}"), d)),
                detail: format!("{} weights", weights.nnz()),
            });
        }
    }

    // Application: `days` global 1 degree fields onto the ERA5 grid, against copying the same bytes.
    let weights = compute_weights(
        &global_source,
        &global_target,
        WeightOptions { method: RegridMethod::Conservative, extrapolate: true },
    )?;
    let mut field = cnrm_tas.select_time(&(0..days).collect::<Vec<_>>());
    field.data = Array3::from_shape_fn((days, 180, 360), |(t, i, j)| 250.0 + (t + i + j) as f32 * 0.01).into_dyn();
    field.coords = Vec::new();
    let (regridded, elapsed) = time(|| Ok(weights.apply(field.data.view().into_dimensionality()?)?))?;
    let bytes = (field.data.len() + regridded.len()) * std::mem::size_of::<f32>();
    let original = vec![1.0f32; bytes / std::mem::size_of::<f32>()];
    let (copied, copy) = time(|| Ok(original.clone()))?;
    std::hint::black_box(&copied);
    let cells = regridded.len() as f64;
    rows.push(Row {
        case: format!("apply conservative, {days} days 1 -> 0.25 deg"),
        ours: elapsed,
        reference: Some(("memcpy of the same bytes".into(), copy)),
        detail: format!(
            "{:.1} M target cells/s, {:.0} MB moved",
            cells / elapsed.as_secs_f64() / 1e6,
            bytes as f64 / 1e6
        ),
    });

    println!("{:<48} {:>10} {:>28} {:>8}  detail", "case", "ours (s)", "reference (s)", "ratio");
    for row in rows {
        let (reference, ratio) = match &row.reference {
            Some((name, d)) => {
                (format!("{name} {:.3}", d.as_secs_f64()), format!("{:.2}", row.ours.as_secs_f64() / d.as_secs_f64()))
            }
            None => ("-".to_string(), "-".to_string()),
        };
        println!("{:<48} {:>10.3} {:>28} {:>8}  {}", row.case, row.ours.as_secs_f64(), reference, ratio, row.detail);
    }
    Ok(ExitCode::SUCCESS)
}
