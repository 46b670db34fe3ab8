//! The scaled-up BCSD case of `downscale bench flow`, which `downscale bench case` also builds on its own for
//! running it by hand (or in tests that need a flow whose outputs span several chunks).
//!
//! The case is the real Iberia tas pair (E-OBS 0.5°, CNRM-CM5 historical and rcp85) made larger: each field is
//! copied `--tiles` times along latitude and along longitude (the copies continue the grid's regular spacing, so
//! the land mask of the larger box is real land while the values repeat Iberia's), and its 20 winters are repeated
//! `--periods` times, shifted by 20 years (training back in time, prediction forward). The parameter file runs BCSD
//! with scikit-downscale's point models (`bias_correction_method: bcsd_point`), the steps the Python comparison of
//! `bench flow` repeats.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};
use downscale_data::calendar::CfDateTime;
use downscale_data::{
    CoordValues, Coordinate, DataArray, Location, Provenance, Replace, TimeAxis, read_variable, write_netcdf,
};
use ndarray::{Array3, Ix3};
use serde_json::json;

/// The size of the case.
#[derive(clap::Args)]
pub(crate) struct CaseArgs {
    /// Copies of the Iberia grid along latitude and along longitude (at most 5: six copies of its 19 rows would
    /// pass the pole).
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..=5))]
    pub(super) tiles: u32,
    /// Copies of the 20 training and 20 predicted winters.
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u32).range(1..=4))]
    pub(super) periods: u32,
    /// Directory of the sample data (default: `data/samples` of this checkout).
    #[arg(long, value_name = "DIR")]
    pub(super) samples: Option<PathBuf>,
}

impl CaseArgs {
    /// Builds the case under `work`.
    pub(super) fn build(&self, work: &Path) -> Result<Case> {
        let samples = self.samples.clone().unwrap_or_else(super::default_samples);
        build_case(&samples, work, self.tiles as usize, self.periods as usize)
    }
}

/// `downscale bench case`: builds the case in `out` and prints where its parameter file and catalogs are, as JSON.
pub(crate) fn run(args: &CaseArgs, out: &Path) -> Result<ExitCode> {
    std::fs::create_dir_all(out).with_context(|| format!("cannot create {}", out.display()))?;
    let case = args.build(out)?;
    let described = json!({
        "param_file": case.param_file,
        "data_catalog.obs": case.obs_catalog,
        "data_catalog.model": case.model_catalog,
        "obs_shape": case.obs_shape,
        "model_shape": case.model_shape,
    });
    println!("{}", serde_json::to_string_pretty(&described)?);
    Ok(ExitCode::SUCCESS)
}

/// The years the copies are shifted by.
const PERIOD_YEARS: i32 = 20;

/// The scaled-up inputs, their catalogs and the parameter file.
pub(super) struct Case {
    pub(super) param_file: PathBuf,
    pub(super) obs_file: PathBuf,
    pub(super) hist_file: PathBuf,
    pub(super) future_file: PathBuf,
    pub(super) train: [i32; 2],
    pub(super) predict: [i32; 2],
    pub(super) obs_catalog: PathBuf,
    pub(super) model_catalog: PathBuf,
    pub(super) obs_shape: Vec<usize>,
    pub(super) model_shape: Vec<usize>,
}

fn build_case(samples: &Path, work: &Path, tiles: usize, periods: usize) -> Result<Case> {
    let inputs = work.join("inputs");
    std::fs::create_dir_all(&inputs)?;
    let iberia = samples.join("iberia");
    let scale = |file: &str, variable: &str, shift: i32| -> Result<DataArray> {
        let array = read_variable(&iberia.join(file).to_string_lossy(), variable)?;
        let scaled = scaled_copy(&array, tiles, periods, shift)?;
        let path = inputs.join(Path::new(file).file_name().context("sample file name")?);
        let provenance = Provenance {
            history_entry: format!("downscale bench flow: {file} copied {tiles}x{tiles} in space, {periods}x in time"),
            ..Provenance::default()
        };
        write_netcdf(&scaled, &Location::parse(&path.to_string_lossy())?, &provenance, Replace::OwnOutputs)?;
        Ok(scaled)
    };
    let obs = scale("obs_E-OBS/tas_day_E-OBS-v14-0.50reg_iberia_DJF_19821201-20020228.nc", "tas", -PERIOD_YEARS)?;
    let hist =
        scale("gcm_CNRM-CM5/tas_day_CNRM-CM5_historical_r1i1p1_iberia_DJF_19821201-20020228.nc", "tas", -PERIOD_YEARS)?;
    let future =
        scale("gcm_CNRM-CM5/tas_day_CNRM-CM5_rcp85_r1i1p1_iberia_DJF_20801201-21000228.nc", "tas", PERIOD_YEARS)?;

    let obs_catalog = write_catalog(
        work,
        "obs",
        "source_id,variable_id,frequency,file_variable,time_range,predictors_for,format,path",
        &[format!(
            "E-OBS,tas,day,tas,{},,netcdf,{}",
            time_range(&obs)?,
            inputs.join("tas_day_E-OBS-v14-0.50reg_iberia_DJF_19821201-20020228.nc").display()
        )],
    )?;
    let model_row = |experiment: &str, array: &DataArray, file: &str| -> Result<String> {
        Ok(format!(
            "CMIP5,CNRM-CERFACS,CNRM-CM5,{experiment},r1i1p1,day,tas,gn,tas,{},netcdf,{}",
            time_range(array)?,
            inputs.join(file).display()
        ))
    };
    let model_catalog = write_catalog(
        work,
        "cmip",
        "activity_id,institution_id,source_id,experiment_id,member_id,table_id,variable_id,grid_label,file_variable,time_range,format,path",
        &[
            model_row("historical", &hist, "tas_day_CNRM-CM5_historical_r1i1p1_iberia_DJF_19821201-20020228.nc")?,
            model_row("rcp85", &future, "tas_day_CNRM-CM5_rcp85_r1i1p1_iberia_DJF_20801201-21000228.nc")?,
        ],
    )?;

    // The box of the scaled obs grid (cell edges), and the years of the repeated winters.
    let edges = |name: &str| -> Result<[f64; 2]> {
        let values = obs.coord(name).and_then(|c| c.values.numbers()).context("obs grid coordinate")?;
        let half = (values[1] - values[0]) / 2.0;
        Ok([values[0] - half, values[values.len() - 1] + half])
    };
    let ([lat0, lat1], [lon0, lon1]) = (edges("lat")?, edges("lon")?);
    let extra_years = PERIOD_YEARS * (periods as i32 - 1);
    let (train, predict) = ([1983 - extra_years, 2002], [2081, 2100 + extra_years]);
    let name = format!(
        "bcsd_E-OBS_CNRM-CM5_rcp85_tas_{lat0}_{lat1}_{lon0}_{lon1}_{}_{}_{}_{}.json",
        train[0], train[1], predict[0], predict[1]
    );
    let param_file = work.join(name);
    let parameters = json!({
        "method": "bcsd", "obs": "E-OBS", "model": "CNRM-CM5", "member": "r1i1p1", "grid_label": "gn",
        "table_id": "day", "scenario": "rcp85", "variable": "tas",
        "latmin": lat0.to_string(), "latmax": lat1.to_string(), "lonmin": lon0.to_string(), "lonmax": lon1.to_string(),
        "train_dates": [train[0].to_string(), train[1].to_string()],
        "predict_dates": [predict[0].to_string(), predict[1].to_string()],
        "bias_correction_method": "bcsd_point",
    });
    std::fs::write(&param_file, serde_json::to_vec_pretty(&parameters)?)?;
    Ok(Case {
        param_file,
        obs_file: inputs.join("tas_day_E-OBS-v14-0.50reg_iberia_DJF_19821201-20020228.nc"),
        hist_file: inputs.join("tas_day_CNRM-CM5_historical_r1i1p1_iberia_DJF_19821201-20020228.nc"),
        future_file: inputs.join("tas_day_CNRM-CM5_rcp85_r1i1p1_iberia_DJF_20801201-21000228.nc"),
        train,
        predict,
        obs_catalog,
        model_catalog,
        obs_shape: obs.shape().to_vec(),
        model_shape: hist.shape().to_vec(),
    })
}

/// `array` copied `tiles` times along each spatial axis and `periods` times in time, each period shifted by
/// `shift` years from the previous one (the copies are put in time order).
fn scaled_copy(array: &DataArray, tiles: usize, periods: usize, shift: i32) -> Result<DataArray> {
    let data = array.data.view().into_dimensionality::<Ix3>().context("a (time, lat, lon) field")?;
    let (steps, rows, columns) = data.dim();
    let time = array.time.as_ref().context("a time axis")?;
    // The period copies in time order: shifted back by (periods - 1 - p) * |shift|, or forward by p * shift.
    let offsets: Vec<i32> =
        (0..periods as i32).map(|p| if shift < 0 { shift * (periods as i32 - 1 - p) } else { shift * p }).collect();
    let scaled = Array3::from_shape_fn((steps * periods, rows * tiles, columns * tiles), |(t, i, j)| {
        data[[t % steps, i % rows, j % columns]]
    });
    let dates = offsets
        .iter()
        .flat_map(|&years| time.dates.iter().map(move |date| CfDateTime { year: date.year + years, ..*date }))
        .collect();
    let extended = |name: &str, copies: usize| -> Result<Coordinate> {
        let coord = array.coord(name).context("a regular grid coordinate")?;
        let values = coord.values.numbers().context("numeric coordinates")?;
        let step = values[1] - values[0];
        let total = values.len() * copies;
        Ok(Coordinate {
            values: CoordValues::Numbers((0..total).map(|k| values[0] + step * k as f64).collect()),
            bounds: None,
            ..coord.clone()
        })
    };
    Ok(DataArray {
        data: scaled.into_dyn(),
        coords: vec![extended("lat", tiles)?, extended("lon", tiles)?],
        time: Some(TimeAxis { dates, ..time.clone() }),
        ..array.clone()
    })
}

/// The catalog's `time_range` of an array: its first and last days, `YYYYMMDD-YYYYMMDD`.
fn time_range(array: &DataArray) -> Result<String> {
    let dates = &array.time.as_ref().context("a time axis")?.dates;
    let day = |date: &CfDateTime| format!("{:04}{:02}{:02}", date.year, date.month, date.day);
    Ok(format!("{}-{}", day(dates.first().context("time steps")?), day(dates.last().context("time steps")?)))
}

/// Writes `<stem>.csv` with `rows` and `<stem>.json` (the repository's catalog description, pointing at it).
fn write_catalog(work: &Path, stem: &str, header: &str, rows: &[String]) -> Result<PathBuf> {
    let description = super::workspace().join(format!("data/catalog/{stem}.json"));
    let json_path = work.join(format!("{stem}.json"));
    std::fs::copy(&description, &json_path).with_context(|| format!("cannot copy {}", description.display()))?;
    std::fs::write(work.join(format!("{stem}.csv")), format!("{header}\n{}\n", rows.join("\n")))?;
    Ok(json_path)
}
