//! Quality checks of a daily output, each naming what it found so a defect can be found in the store: values
//! missing where land is expected, physically impossible values (negative precipitation, temperatures outside
//! [180, 340] K, beyond the coldest and hottest near-surface air temperatures ever measured), days missing from
//! the period the run predicted, and stores that do not validate (chunks lost, metadata inconsistent).
//!
//! The checks read the output band by band ([`QaScan::scan_band`]), so the skill pass that reads it anyway does the
//! QA on the same reads.

use std::ops::Range;

use downscale_data::calendar::CfDateTime;
use ndarray::Array3;
use serde::{Deserialize, Serialize};

use crate::days::Days;
use crate::error::EvaluateError;
use crate::field::{Field, Grid};
use crate::metrics::Quantity;
use crate::skill::{Land, iso_date};

/// Lowest physically possible near-surface air temperature, K (the coldest ever measured is 184 K).
pub const MIN_TEMPERATURE_K: f32 = 180.0;
/// Highest physically possible near-surface air temperature, K (the hottest ever measured is 330 K).
pub const MAX_TEMPERATURE_K: f32 = 340.0;

/// Examples kept of each defect, to point at the damage without listing all of it.
const EXAMPLES: usize = 5;

/// One value found where it should not be.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Example {
    /// Its day.
    pub date: String,
    /// Its cell's latitude, degrees.
    pub lat: f64,
    /// Its cell's longitude, degrees.
    pub lon: f64,
    /// The value (null for a missing one).
    #[serde(with = "crate::nullable::number")]
    pub value: f64,
}

/// Values missing on land, or breaking a physical bound.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ValueDefect {
    /// What was checked, e.g. `missing on land`, `negative precipitation`.
    pub check: String,
    /// Values found.
    pub count: u64,
    /// Cells with at least one.
    pub cells: u64,
    /// Latitudes (south, north) and longitudes (west, east) of the cells with one, when any.
    pub extent: Option<[f64; 4]>,
    /// The first few, in store order.
    pub examples: Vec<Example>,
}

/// Everything QA found in one output.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct QaReport {
    /// The daily store checked.
    pub store: String,
    /// Values missing on land and values beyond physical bounds, one entry per check made (count 0 when clean).
    pub values: Vec<ValueDefect>,
    /// Days missing from the period the run predicted.
    pub missing_days: Vec<String>,
    /// Each published store that does not validate.
    pub invalid_stores: Vec<InvalidStore>,
    /// One line per defect found: empty when the output passed every check.
    pub defects: Vec<String>,
}

/// A published store that does not validate.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct InvalidStore {
    /// The store.
    pub store: String,
    /// What validation found, one line each.
    pub problems: Vec<String>,
}

/// The days an output should hold: every day from `first` to `last` in the months `months` (1..=12 flags).
#[derive(Debug, Clone, Copy)]
pub struct ExpectedDays {
    /// First day expected.
    pub first: CfDateTime,
    /// Last day expected.
    pub last: CfDateTime,
    /// Months expected.
    pub months: [bool; 12],
}

impl ExpectedDays {
    /// Every day from the first to the last of `array`'s record, in the months it holds: what an output made from
    /// it (the raw model of the predicted period) must hold.
    pub fn covering(array: &downscale_data::DataArray) -> Option<ExpectedDays> {
        let dates = &array.time.as_ref()?.dates;
        let mut months = [false; 12];
        for date in dates {
            months[date.month as usize - 1] = true;
        }
        Some(ExpectedDays { first: *dates.first()?, last: *dates.last()?, months })
    }
}

/// A check of each value against a physical bound, accumulated band by band.
struct BoundCheck {
    name: String,
    fails: fn(f32) -> bool,
    count: u64,
    per_cell: Vec<u64>,
    examples: Vec<Example>,
}

/// QA accumulated over the bands of one output.
pub struct QaScan {
    grid: Grid,
    days: Days,
    /// Missing values per cell, and the first day each cell misses (`u32::MAX` for none): where land is expected
    /// is only known at the end (the observations' coverage comes from the skill pass).
    missing_per_cell: Vec<u64>,
    first_missing_day: Vec<u32>,
    bounds: Vec<BoundCheck>,
}

fn below_zero(value: f32) -> bool {
    value < 0.0
}

fn outside_temperature_bounds(value: f32) -> bool {
    !(MIN_TEMPERATURE_K..=MAX_TEMPERATURE_K).contains(&value) && !value.is_nan()
}

impl QaScan {
    /// A scan of `field` (the daily output) for a variable of kind `quantity`.
    pub fn new(field: &Field, quantity: Quantity) -> Result<QaScan, EvaluateError> {
        let grid = field.grid()?;
        let cells = grid.cells();
        let check = |name: String, fails: fn(f32) -> bool| BoundCheck {
            name,
            fails,
            count: 0,
            per_cell: vec![0; cells],
            examples: Vec::new(),
        };
        let bounds = match quantity {
            Quantity::Precipitation => vec![check("negative precipitation".into(), below_zero)],
            Quantity::Temperature if field.units() == Some("K") => vec![check(
                format!("temperature outside [{MIN_TEMPERATURE_K}, {MAX_TEMPERATURE_K}] K"),
                outside_temperature_bounds,
            )],
            Quantity::Temperature | Quantity::Other => Vec::new(),
        };
        Ok(QaScan {
            days: field.days()?,
            missing_per_cell: vec![0; cells],
            first_missing_day: vec![u32::MAX; cells],
            grid,
            bounds,
        })
    }

    /// Checks a `(time, row, lon)` band of latitude rows `rows`, every day of the output.
    pub(crate) fn scan_band(&mut self, rows: Range<usize>, band: &Array3<f32>) {
        let width = self.grid.lon.len();
        for (day, map) in band.outer_iter().enumerate() {
            for ((row, column), &value) in map.indexed_iter() {
                let cell = (rows.start + row) * width + column;
                if value.is_nan() {
                    self.missing_per_cell[cell] += 1;
                    self.first_missing_day[cell] = self.first_missing_day[cell].min(day as u32);
                    continue;
                }
                for check in &mut self.bounds {
                    if (check.fails)(value) {
                        check.count += 1;
                        check.per_cell[cell] += 1;
                        if check.examples.len() < EXAMPLES {
                            check.examples.push(Example {
                                date: iso_date(&self.days.dates()[day]),
                                lat: self.grid.lat[rows.start + row],
                                lon: self.grid.lon[column],
                                value: f64::from(value),
                            });
                        }
                    }
                }
            }
        }
    }

    /// Values missing on `land`, as a check like the bound checks.
    fn missing_on_land(&self, land: &Land) -> BoundCheck {
        let width = self.grid.lon.len();
        let per_cell: Vec<u64> = (0..self.missing_per_cell.len())
            .map(|cell| if land.is_land(cell) { self.missing_per_cell[cell] } else { 0 })
            .collect();
        let examples = (0..per_cell.len())
            .filter(|&cell| per_cell[cell] > 0)
            .take(EXAMPLES)
            .map(|cell| Example {
                date: iso_date(&self.days.dates()[self.first_missing_day[cell] as usize]),
                lat: self.grid.lat[cell / width],
                lon: self.grid.lon[cell % width],
                value: f64::NAN,
            })
            .collect();
        BoundCheck {
            name: "missing on land".into(),
            fails: f32::is_nan,
            count: per_cell.iter().sum(),
            per_cell,
            examples,
        }
    }

    /// The report: values missing where `land` is expected, values beyond bounds, the days missing from
    /// `expected`, and the stores that do not validate.
    pub fn finish(
        self,
        store: &str,
        land: &Land,
        expected: Option<ExpectedDays>,
        invalid_stores: Vec<InvalidStore>,
    ) -> Result<QaReport, EvaluateError> {
        let mut defects = Vec::new();
        let width = self.grid.lon.len();
        if land.len() != self.grid.cells() {
            return Err(EvaluateError::data(
                store,
                format!("the land mask has {} cells, the output's grid {}", land.len(), self.grid.cells()),
            ));
        }
        let mut checks = vec![self.missing_on_land(land)];
        checks.extend(self.bounds);
        let values: Vec<ValueDefect> = checks
            .into_iter()
            .map(|check| {
                let flagged: Vec<usize> = (0..check.per_cell.len()).filter(|&c| check.per_cell[c] > 0).collect();
                let extent = (!flagged.is_empty()).then(|| {
                    let lats = flagged.iter().map(|c| self.grid.lat[c / width]);
                    let lons = flagged.iter().map(|c| self.grid.lon[c % width]);
                    [
                        lats.clone().fold(f64::INFINITY, f64::min),
                        lats.fold(f64::NEG_INFINITY, f64::max),
                        lons.clone().fold(f64::INFINITY, f64::min),
                        lons.fold(f64::NEG_INFINITY, f64::max),
                    ]
                });
                if let (Some([south, north, west, east]), Some(first)) = (extent, check.examples.first()) {
                    defects.push(format!(
                        "{}: {} in {} (lat {south}..{north}, lon {west}..{east}), the first on {} at lat {}, lon {}",
                        check.name,
                        plural(check.count, "value"),
                        plural(flagged.len() as u64, "cell"),
                        first.date,
                        first.lat,
                        first.lon
                    ));
                }
                ValueDefect {
                    check: check.name,
                    count: check.count,
                    cells: flagged.len() as u64,
                    extent,
                    examples: check.examples,
                }
            })
            .collect();
        let missing_days: Vec<String> = match expected {
            Some(expected) => self
                .days
                .missing_between(expected.first, expected.last, expected.months)?
                .iter()
                .map(iso_date)
                .collect(),
            None => Vec::new(),
        };
        if let Some(first) = missing_days.first() {
            let count = plural(missing_days.len() as u64, "day");
            defects.push(format!("{count} missing from the predicted period, the first {first}"));
        }
        for invalid in &invalid_stores {
            defects.push(format!("{} does not validate: {}", invalid.store, invalid.problems.join("; ")));
        }
        Ok(QaReport { store: store.to_string(), values, missing_days, invalid_stores, defects })
    }
}

/// `count` and `noun`, plural unless the count is one.
fn plural(count: u64, noun: &str) -> String {
    if count == 1 { format!("1 {noun}") } else { format!("{count} {noun}s") }
}

/// Scans every band of `field` (for an output without observations to score it against).
pub fn scan(field: &Field, scan: &mut QaScan) -> Result<(), EvaluateError> {
    let rows = field.grid()?.lat.len();
    let band_rows = band_rows(field)?;
    for first in (0..rows).step_by(band_rows) {
        let range = first..(first + band_rows).min(rows);
        scan.scan_band(range.clone(), &field.read_rows(range)?);
    }
    Ok(())
}

/// Latitude rows read at once from one field, so a band holds at most 256 MiB of values.
pub(crate) fn band_rows(field: &Field) -> Result<usize, EvaluateError> {
    let grid = field.grid()?;
    let per_row = field.days()?.len() * grid.lon.len() * 4;
    Ok(((256 << 20) / per_row.max(1)).clamp(1, grid.lat.len().max(1)))
}
