//! What the skill tests share: a product's field as series per cell in canonical units, cut to years or to another
//! field's days, and the statistics they score with.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use downscale_data::{DataArray, read_variable};
use serde_json::Value;

use super::{repo, sample};

/// A field as `(day, cell)` in the variable's canonical units, days as `(year, month, day)`.
pub(crate) struct Field {
    pub(crate) days: Vec<(i32, u32, u32)>,
    /// `values[cell][day]`.
    pub(crate) values: Vec<Vec<f64>>,
}

impl Field {
    /// `array` converted to K or mm day-1 (the flow's units) from the units it states.
    pub(crate) fn from_array(array: &DataArray) -> Field {
        let (scale, offset) = match array.units() {
            Some("K" | "mm day-1" | "mm" | "mm/day") => (1.0, 0.0),
            Some("degC" | "Celsius" | "C") => (1.0, 273.15),
            Some("kg m-2 s-1") => (86_400.0, 0.0),
            other => panic!("{}: units {other:?}", array.source),
        };
        let time = array.time.as_ref().unwrap();
        let shape = array.shape();
        let cells = shape[1] * shape[2];
        let flat = array.data.view().into_shape_with_order((shape[0], cells)).unwrap();
        Field {
            days: time.dates.iter().map(|d| (d.year, d.month, d.day)).collect(),
            values: (0..cells)
                .map(|c| flat.column(c).iter().map(|&v| f64::from(v) * scale + offset).collect())
                .collect(),
        }
    }

    /// The days of `years`.
    pub(crate) fn years(&self, years: [&str; 2]) -> Field {
        let [first, last] = years.map(|y| y.parse::<i32>().unwrap());
        let keep: Vec<usize> = (0..self.days.len()).filter(|&t| (first..=last).contains(&self.days[t].0)).collect();
        Field {
            days: keep.iter().map(|&t| self.days[t]).collect(),
            values: self.values.iter().map(|v| keep.iter().map(|&t| v[t]).collect()).collect(),
        }
    }

    /// The days of `other` only, in its order (the observations on the days of a prediction).
    pub(crate) fn on_days_of(&self, other: &Field) -> Field {
        let index: HashMap<_, _> = self.days.iter().enumerate().map(|(t, d)| (*d, t)).collect();
        let keep: Vec<usize> = other.days.iter().map(|d| index[d]).collect();
        Field {
            days: other.days.clone(),
            values: self.values.iter().map(|v| keep.iter().map(|&t| v[t]).collect()).collect(),
        }
    }
}

pub(crate) fn mean(x: &[f64]) -> f64 {
    x.iter().sum::<f64>() / x.len() as f64
}

pub(crate) fn sd(x: &[f64]) -> f64 {
    let m = mean(x);
    (x.iter().map(|v| (v - m).powi(2)).sum::<f64>() / x.len() as f64).sqrt()
}

/// numpy's default percentile (linear between order statistics).
pub(crate) fn percentile(x: &[f64], p: f64) -> f64 {
    let mut sorted = x.to_vec();
    sorted.sort_by(f64::total_cmp);
    let position = p / 100.0 * (sorted.len() - 1) as f64;
    let (low, high) = (position.floor() as usize, position.ceil() as usize);
    sorted[low] + (sorted[high] - sorted[low]) * (position - low as f64)
}

pub(crate) fn median(mut x: Vec<f64>) -> f64 {
    x.sort_by(f64::total_cmp);
    let n = x.len();
    if n % 2 == 1 { x[n / 2] } else { (x[n / 2 - 1] + x[n / 2]) / 2.0 }
}

pub(crate) fn correlation(x: &[f64], y: &[f64]) -> f64 {
    let (mx, my) = (mean(x), mean(y));
    let covariance: f64 = x.iter().zip(y).map(|(a, b)| (a - mx) * (b - my)).sum();
    covariance
        / (x.iter().map(|a| (a - mx).powi(2)).sum::<f64>() * y.iter().map(|b| (b - my).powi(2)).sum::<f64>()).sqrt()
}

/// A wet day has at least 1 mm (the ETCCDI threshold).
pub(crate) const WET_DAY_MM: f64 = 1.0;

pub(crate) fn wet_frequency(x: &[f64]) -> f64 {
    x.iter().filter(|&&v| v >= WET_DAY_MM).count() as f64 / x.len() as f64
}

/// `source`'s `variable` interpolated bilinearly onto the grid of `grid_like` by `downscale regrid`, written as
/// `out` (a Zarr store): the baseline every downscaling must beat.
pub(crate) fn bilinear_onto(source: &str, variable: &str, grid_like: &str, out: &Path) -> Field {
    let output = super::run(&[
        "regrid",
        "--in",
        source,
        "--grid-like",
        grid_like,
        "--method",
        "bilinear",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    Field::from_array(&read_variable(out.to_str().unwrap(), variable).unwrap())
}

/// The NCEP-R1 files as a model run in a model catalog under `dir`.
pub(crate) fn reanalysis_catalog(dir: &Path) -> PathBuf {
    let mut rows = vec![
        "activity_id,institution_id,source_id,experiment_id,member_id,table_id,variable_id,grid_label,file_variable,\
         time_range,format,path"
            .to_string(),
    ];
    for (variable, file_variable) in [("tas", "tas"), ("pr", "pr"), ("psl", "psl"), ("ta850", "ta"), ("hus850", "hus")]
    {
        let path = sample(&format!("iberia/reanalysis_NCEP-R1/{variable}_day_NCEP-R1_iberia_DJF_19821201-20020228.nc"));
        rows.push(format!(
            "reanalysis,NOAA,NCEP-R1,historical,r1i1p1,day,{variable},gn,{file_variable},19821201-20020228,netcdf,{path}"
        ));
    }
    std::fs::write(dir.join("reanalysis.csv"), rows.join("\n") + "\n").unwrap();
    let mut collection: Value =
        serde_json::from_slice(&std::fs::read(repo().join("data/catalog/cmip.json")).unwrap()).unwrap();
    collection["id"] = "reanalysis-as-model".into();
    collection["catalog_file"] = "reanalysis.csv".into();
    let path = dir.join("reanalysis.json");
    std::fs::write(&path, collection.to_string()).unwrap();
    path
}
