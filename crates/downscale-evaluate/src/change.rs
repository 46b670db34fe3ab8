//! Change-signal preservation: does the downscaled product change between the historical and the scenario
//! period as the raw model does? Quantile delta mapping keeps the model's change in every quantile by
//! construction (its relative change for precipitation); rank-based quantile mapping and BCSD's precipitation do
//! not, and a scientist using a projection needs to know which the product did.
//!
//! Per cell, each statistic's change is taken for the downscaled product (its historical run's output and the
//! scenario run's) and for the raw model interpolated onto the same grid (the same periods), and their departure
//! is the product's change minus the model's. Temperatures change by differences (K); precipitation's mean and
//! 95th and 99th percentiles and wet-day intensity by relative changes (future / historical − 1), its wet-day
//! frequency by a difference.

use ndarray::Axis;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::days::Days;
use crate::error::EvaluateError;
use crate::field::Field;
use crate::metrics::{Quantity, Series, Statistic};
use crate::skill::{Land, Map, area_weights, by_cell, land_mean, same_grid};

/// Bytes of field values held at once while reading bands (the four fields of a band together).
const BAND_BYTES: usize = 512 << 20;

/// How a statistic's change between two periods is measured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Change {
    /// future − historical, in the statistic's unit.
    Difference,
    /// future / historical − 1, as a fraction.
    Relative,
}

impl Change {
    fn apply(self, historical: f64, future: f64) -> f64 {
        match self {
            Change::Difference => future - historical,
            Change::Relative if historical != 0.0 => future / historical - 1.0,
            Change::Relative => f64::NAN,
        }
    }
}

/// The four daily fields of a change-signal check, all on one grid.
pub struct ChangeFields<'a> {
    /// The downscaled product of the historical period.
    pub downscaled_historical: &'a Field,
    /// The downscaled product of the scenario period.
    pub downscaled_future: &'a Field,
    /// The raw model of the historical period, on the product's grid.
    pub model_historical: &'a Field,
    /// The raw model of the scenario period, on the product's grid.
    pub model_future: &'a Field,
}

/// One statistic's change, for the product and the model, and their departure.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ChangeStatistic {
    /// The statistic's name (`mean`, `q95`, ...).
    pub name: String,
    /// Which statistic it is.
    pub statistic: Statistic,
    /// How its change is measured.
    pub change: Change,
    /// The unit of the changes (the statistic's, or `1` for a relative change).
    pub units: String,
    /// The downscaled product's change.
    pub downscaled: Map,
    /// The raw model's change.
    pub model: Map,
    /// The product's change minus the model's: 0 where the change signal is kept.
    pub departure: Map,
}

/// The change signal of a product against its raw model.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ChangeReport {
    /// The historical product's store.
    pub downscaled_historical: String,
    /// The historical model's store (before interpolation).
    pub model_historical: String,
    /// Each statistic's changes.
    pub statistics: Vec<ChangeStatistic>,
    /// Latitudes of the maps' rows, degrees north.
    pub lat: Vec<f64>,
    /// Longitudes of the maps' columns, degrees east.
    pub lon: Vec<f64>,
}

/// The statistics whose change is compared, with how their change is measured. Precipitation's low percentiles
/// are left out: on a record of mostly dry days they are 0 or trace amounts, whose relative change means nothing;
/// its wet-day intensity is there instead.
fn changes(quantity: Quantity) -> Vec<(Statistic, Change)> {
    match quantity {
        Quantity::Precipitation => vec![
            (Statistic::Mean, Change::Relative),
            (Statistic::Percentile(95), Change::Relative),
            (Statistic::Percentile(99), Change::Relative),
            (Statistic::WetDayFrequency, Change::Difference),
            (Statistic::WetDayIntensity, Change::Relative),
        ],
        Quantity::Temperature | Quantity::Other => [Statistic::Mean]
            .into_iter()
            .chain([5, 50, 95].map(Statistic::Percentile))
            .map(|statistic| (statistic, Change::Difference))
            .collect(),
    }
}

/// The change of each statistic between the periods, for the product and the model, per cell and over `land`.
pub fn change_signal(
    fields: &ChangeFields<'_>,
    land: &Land,
    quantity: Quantity,
    model_historical_store: &str,
) -> Result<ChangeReport, EvaluateError> {
    let all = [fields.downscaled_historical, fields.downscaled_future, fields.model_historical, fields.model_future];
    let grid = all[0].grid()?;
    for field in &all[1..] {
        same_grid(&grid, &field.grid()?, field.source(), all[0].source())?;
    }
    if land.len() != grid.cells() {
        return Err(EvaluateError::data(all[0].source(), "the land mask is not on the product's grid"));
    }
    let days: Vec<Days> = all.iter().map(|f| f.days()).collect::<Result<_, _>>()?;
    let list = changes(quantity);
    let variable = all[0].variable().to_string();
    let steps: usize = days.iter().map(Days::len).sum();
    let width = grid.lon.len();
    let band_rows = (BAND_BYTES / (steps * width * 4).max(1)).clamp(1, grid.lat.len());

    // Per cell: [statistic][field] values.
    let mut cells: Vec<Vec<[f64; 4]>> = Vec::with_capacity(grid.cells());
    for first_row in (0..grid.lat.len()).step_by(band_rows) {
        let rows = first_row..(first_row + band_rows).min(grid.lat.len());
        let bands = all
            .iter()
            .zip(&days)
            .map(|(field, days)| Ok(by_cell(field.read_rows(rows.clone())?, &(0..days.len()).collect::<Vec<_>>())))
            .collect::<Result<Vec<_>, EvaluateError>>()?;
        let band: Vec<Vec<[f64; 4]>> = (0..bands[0].len_of(Axis(0)))
            .into_par_iter()
            .map(|cell| {
                let series: Vec<Series<'_>> = bands
                    .iter()
                    .map(|b| {
                        Series::new(b.row(cell).to_slice().expect("rows of a standard-layout band are contiguous"))
                    })
                    .collect();
                list.iter()
                    .map(|&(statistic, _)| {
                        let mut values = [f64::NAN; 4];
                        for (k, s) in series.iter().enumerate() {
                            // Percentiles, means and frequencies need no index years.
                            values[k] = s.statistic(statistic, &days[k], &[]);
                        }
                        values
                    })
                    .collect()
            })
            .collect();
        cells.extend(band);
    }

    let weights = area_weights(&grid);
    let map_of = |values: Vec<f64>| Map {
        land_mean: land_mean(&values, land, &weights),
        values: values.chunks(width).map(<[f64]>::to_vec).collect(),
    };
    let statistics = list
        .iter()
        .enumerate()
        .map(|(s, &(statistic, change))| {
            let product: Vec<f64> = cells.iter().map(|c| change.apply(c[s][0], c[s][1])).collect();
            // The model's change where the product has one, so both maps and their land means cover the same cells.
            let model: Vec<f64> = cells
                .iter()
                .zip(&product)
                .map(|(c, p)| if p.is_finite() { change.apply(c[s][2], c[s][3]) } else { f64::NAN })
                .collect();
            let departure = product.iter().zip(&model).map(|(p, m)| p - m).collect();
            let units = match change {
                Change::Difference => statistic.units(all[0].units().unwrap_or("1")),
                Change::Relative => "1".to_string(),
            };
            ChangeStatistic {
                name: statistic.name(&variable),
                statistic,
                change,
                units,
                downscaled: map_of(product),
                model: map_of(model),
                departure: map_of(departure),
            }
        })
        .collect();
    Ok(ChangeReport {
        downscaled_historical: fields.downscaled_historical.source().to_string(),
        model_historical: model_historical_store.to_string(),
        statistics,
        lat: grid.lat.clone(),
        lon: grid.lon.clone(),
    })
}
