//! Skill of products (the downscaled output, baselines) against the observations on the days they share: per
//! cell maps of each statistic and its comparison, summarised over land, and the pattern correlation of the
//! climatologies.
//!
//! Summaries over land are area-weighted (cosine of latitude) means over the land cells where the value exists.
//! The fields are read in bands of latitude rows, each read once, and the cells of a band are computed in parallel.

use std::collections::BTreeMap;

use ndarray::{Array2, Array3};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::days::{Days, IndexYear};
use crate::distribution::{self, Distribution};
use crate::error::EvaluateError;
use crate::field::{Field, Grid};
use crate::metrics::{Comparison, PairedStatistic, Quantity, Series, Statistic};
use crate::qa::QaScan;
use crate::stats::weighted_correlation;

/// Bytes of field values held at once while reading bands (all fields of a band together).
const BAND_BYTES: usize = 512 << 20;

/// Where land is, on the evaluation grid: cells outside it are neither summarised nor checked for gaps.
#[derive(Debug, Clone)]
pub struct Land {
    /// One flag per cell, latitude rows first.
    cells: Vec<bool>,
}

impl Land {
    /// Land where `fraction` (a `(lat, lon)` land fraction or 0/1 mask, row-major) is at least one half.
    pub fn from_fraction(fraction: &[f32]) -> Land {
        Land { cells: fraction.iter().map(|&f| f >= 0.5).collect() }
    }

    /// Land where `flags` (one per cell, row-major) is true.
    pub fn from_flags(cells: Vec<bool>) -> Land {
        Land { cells }
    }

    /// The cells that are land in both masks.
    pub fn intersect(&self, other: &Land) -> Land {
        Land { cells: self.cells.iter().zip(&other.cells).map(|(a, b)| *a && *b).collect() }
    }

    /// Whether cell `index` (row-major) is land.
    pub fn is_land(&self, index: usize) -> bool {
        self.cells[index]
    }

    /// Number of cells.
    pub fn len(&self) -> usize {
        self.cells.len()
    }

    /// Whether the mask has no cell.
    pub fn is_empty(&self) -> bool {
        self.cells.is_empty()
    }
}

/// A product to score, under the name the report gives it.
pub struct Product<'a> {
    /// Its name in the report (`downscaled`, `bilinear`, ...).
    pub name: &'a str,
    /// Its daily field, on the observations' grid.
    pub field: &'a Field,
}

/// What to score and over which days.
#[derive(Debug, Clone, Copy)]
pub struct SkillOptions {
    /// The kind of variable.
    pub quantity: Quantity,
    /// Years (inclusive) to compare over; all shared days when `None`.
    pub years: Option<(i32, i32)>,
    /// Whether the products' days are in phase with the observed days, so RMSE and correlation mean something.
    pub in_phase: bool,
}

/// A per-cell map and its summary over land.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Map {
    /// Area-weighted mean over the land cells where the value exists (null when none does).
    #[serde(with = "crate::nullable::number")]
    pub land_mean: f64,
    /// Values by latitude row then longitude, south to north and west to east; null where missing.
    #[serde(with = "crate::nullable::rows")]
    pub values: Vec<Vec<f64>>,
}

/// A product's maps for one statistic.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ProductStatistic {
    /// The product's value of the statistic.
    pub value: Map,
    /// Its comparison with the observed value.
    pub skill: Map,
}

/// One statistic: the observed maps and each product's.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StatisticReport {
    /// Its name (`mean`, `q95`, `Rx5day`, ...).
    pub name: String,
    /// Which statistic it is.
    pub statistic: Statistic,
    /// Its unit.
    pub units: String,
    /// How products are compared with the observations.
    pub comparison: Comparison,
    /// The comparison's value for a perfect product.
    pub ideal: f64,
    /// The observations' values.
    pub observed: Map,
    /// Each product's values and comparisons, by product name.
    pub products: BTreeMap<String, ProductStatistic>,
}

/// One paired statistic: each product's map.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PairedReport {
    /// Its name.
    pub name: String,
    /// Which statistic it is.
    pub statistic: PairedStatistic,
    /// Its unit.
    pub units: String,
    /// Its value for a perfect product.
    pub ideal: f64,
    /// Each product's map, by product name.
    pub products: BTreeMap<String, Map>,
}

/// The days compared.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Period {
    /// First day (`YYYY-MM-DD`).
    pub first: String,
    /// Last day.
    pub last: String,
    /// Number of days.
    pub days: usize,
    /// Labels of the complete index years the annual indices are averaged over.
    pub index_years: Vec<i32>,
    /// The month index years start with.
    pub index_year_start_month: u32,
}

/// The skill of every product against the observations.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SkillReport {
    /// The products scored, in the order they were given (the downscaled output first).
    pub products: Vec<String>,
    /// The days compared.
    pub period: Period,
    /// Whether RMSE and correlation were computed (the products are in phase with the observations).
    pub in_phase: bool,
    /// Statistics of each series, compared.
    pub statistics: Vec<StatisticReport>,
    /// Statistics of each product with the observations together.
    pub paired: Vec<PairedReport>,
    /// Area-weighted correlation over land of each product's mean map with the observed one.
    #[serde(with = "crate::nullable::by_name")]
    pub pattern_correlation: BTreeMap<String, f64>,
    /// Daily values of the land cells with observations, binned, for each source (none for quantities without
    /// fixed bins).
    pub distribution: Option<Distribution>,
    /// Latitudes of the maps' rows, degrees north.
    pub lat: Vec<f64>,
    /// Longitudes of the maps' columns, degrees east.
    pub lon: Vec<f64>,
}

impl SkillReport {
    /// The cells where the observations have a mean, i.e. at least one value on the days compared.
    pub fn observed_coverage(&self) -> Land {
        let mean = self.statistics.iter().find(|s| s.statistic == Statistic::Mean).expect("every report has a mean");
        Land::from_flags(mean.observed.values.iter().flatten().map(|v| v.is_finite()).collect())
    }
}

/// Scores `products` against `observed` on the days they all hold (within `options.years`). `qa` checks the first
/// product's bands, every day of them, as they are read.
pub fn skill(
    observed: &Field,
    products: &[Product<'_>],
    land: &Land,
    options: SkillOptions,
    mut qa: Option<&mut QaScan>,
) -> Result<SkillReport, EvaluateError> {
    let grid = observed.grid()?;
    if land.len() != grid.cells() {
        return Err(EvaluateError::data(
            observed.source(),
            format!("the land mask has {} cells, the observations' grid {}", land.len(), grid.cells()),
        ));
    }
    for product in products {
        same_grid(&grid, &product.field.grid()?, product.field.source(), observed.source())?;
    }
    let alignment = align(observed, products, options.years)?;
    let years = alignment.days.complete_years();
    let statistics = Statistic::for_quantity(options.quantity);
    let paired = PairedStatistic::applicable(options.in_phase);
    let variable = observed.variable();

    // Values per cell: [statistic][source] for series statistics (source 0 the observations), [paired][product].
    let width = grid.lon.len();
    let fields = 1 + products.len();
    let band_rows = (BAND_BYTES / (fields * observed_steps(observed)? * width * 4).max(1)).clamp(1, grid.lat.len());
    let mut cells: Vec<CellValues> = Vec::with_capacity(grid.cells());
    let bin_edges = distribution::edges(options.quantity);
    let bins = bin_edges.as_ref().map_or(0, |e| e.len() - 1);
    let mut counts = vec![vec![0u64; bins]; fields];
    for first_row in (0..grid.lat.len()).step_by(band_rows) {
        let rows = first_row..(first_row + band_rows).min(grid.lat.len());
        // The fields' bands are read (and decoded) at once.
        let fields_of_band: Vec<&Field> = std::iter::once(observed).chain(products.iter().map(|p| p.field)).collect();
        let raw: Vec<Array3<f32>> =
            fields_of_band.par_iter().map(|field| field.read_rows(rows.clone())).collect::<Result<_, _>>()?;
        if let Some(scan) = qa.as_deref_mut() {
            scan.scan_band(rows.clone(), &raw[1]);
        }
        let bands: Vec<Array2<f32>> =
            raw.into_iter().zip(&alignment.indices).map(|(band, indices)| by_cell(band, indices)).collect();
        let context = CellContext {
            days: &alignment.days,
            years: &years,
            statistics: &statistics,
            paired: &paired,
            bin_edges: bin_edges.as_deref(),
        };
        let first_cell = first_row * width;
        // Each cell's statistics, in order, and the band's histogram counts (land cells with observations).
        let (band, band_counts) = (0..bands[0].nrows())
            .into_par_iter()
            .fold(
                || (Vec::new(), vec![vec![0u64; bins]; fields]),
                |(mut values, mut counts), cell| {
                    let rows: Vec<_> = bands.iter().map(|b| b.row(cell)).collect();
                    let histogram = land.is_land(first_cell + cell).then_some(&mut counts);
                    values.push(context.values(&rows, histogram));
                    (values, counts)
                },
            )
            .reduce(
                || (Vec::new(), vec![vec![0u64; bins]; fields]),
                |(mut values, counts), (more, more_counts)| {
                    values.extend(more);
                    (values, add_counts(counts, more_counts))
                },
            );
        counts = add_counts(counts, band_counts);
        cells.extend(band);
    }

    let weights = area_weights(&grid);
    let map_of = |value: &dyn Fn(&CellValues) -> f64| -> Map {
        let values: Vec<f64> = cells.iter().map(value).collect();
        Map {
            land_mean: land_mean(&values, land, &weights),
            values: values.chunks(width).map(<[f64]>::to_vec).collect(),
        }
    };
    let statistic_reports = statistics
        .iter()
        .enumerate()
        .map(|(s, &statistic)| {
            let comparison = statistic.comparison(options.quantity);
            let observed_map = map_of(&|c: &CellValues| c.series[s][0]);
            let products = products
                .iter()
                .enumerate()
                .map(|(p, product)| {
                    let value = map_of(&|c: &CellValues| c.series[s][p + 1]);
                    let skill = map_of(&|c: &CellValues| comparison.apply(c.series[s][p + 1], c.series[s][0]));
                    (product.name.to_string(), ProductStatistic { value, skill })
                })
                .collect();
            StatisticReport {
                name: statistic.name(variable),
                statistic,
                units: statistic.units(observed.units().unwrap_or("1")),
                comparison,
                ideal: comparison.ideal(),
                observed: observed_map,
                products,
            }
        })
        .collect();
    let paired_reports = paired
        .iter()
        .enumerate()
        .map(|(s, &statistic)| PairedReport {
            name: statistic.name().to_string(),
            statistic,
            units: statistic.units(observed.units().unwrap_or("1")),
            ideal: statistic.ideal(),
            products: products
                .iter()
                .enumerate()
                .map(|(p, product)| (product.name.to_string(), map_of(&|c: &CellValues| c.paired[s][p])))
                .collect(),
        })
        .collect();
    let mean_index = statistics.iter().position(|&s| s == Statistic::Mean).expect("every variable has a mean");
    let pattern_correlation = products
        .iter()
        .enumerate()
        .map(|(p, product)| {
            let (mut observed_means, mut product_means, mut cell_weights) = (Vec::new(), Vec::new(), Vec::new());
            for (index, cell) in cells.iter().enumerate() {
                let (o, m) = (cell.series[mean_index][0], cell.series[mean_index][p + 1]);
                if land.is_land(index) && o.is_finite() && m.is_finite() {
                    observed_means.push(o);
                    product_means.push(m);
                    cell_weights.push(weights[index]);
                }
            }
            let r = weighted_correlation(&product_means, &observed_means, Some(&cell_weights));
            (product.name.to_string(), r)
        })
        .collect();
    let dates = alignment.days.dates();
    Ok(SkillReport {
        products: products.iter().map(|p| p.name.to_string()).collect(),
        period: Period {
            first: iso_date(&dates[0]),
            last: iso_date(&dates[dates.len() - 1]),
            days: dates.len(),
            index_years: years.iter().map(|y| y.label).collect(),
            index_year_start_month: alignment.days.season_start(),
        },
        in_phase: options.in_phase,
        statistics: statistic_reports,
        paired: paired_reports,
        pattern_correlation,
        distribution: bin_edges.map(|edges| Distribution {
            edges,
            counts: std::iter::once("observed".to_string())
                .chain(products.iter().map(|p| p.name.to_string()))
                .zip(counts)
                .collect(),
        }),
        lat: grid.lat.clone(),
        lon: grid.lon.clone(),
    })
}

/// Two sets of per-source counts, added bin by bin.
fn add_counts(mut total: Vec<Vec<u64>>, more: Vec<Vec<u64>>) -> Vec<Vec<u64>> {
    for (sums, counts) in total.iter_mut().zip(more) {
        for (sum, count) in sums.iter_mut().zip(counts) {
            *sum += count;
        }
    }
    total
}

/// A date as `YYYY-MM-DD`.
pub(crate) fn iso_date(date: &downscale_data::calendar::CfDateTime) -> String {
    format!("{:04}-{:02}-{:02}", date.year, date.month, date.day)
}

fn observed_steps(observed: &Field) -> Result<usize, EvaluateError> {
    Ok(observed.days()?.len())
}

/// One cell's values: `series[statistic][source]` (source 0 the observations) and `paired[statistic][product]`.
struct CellValues {
    series: Vec<Vec<f64>>,
    paired: Vec<Vec<f64>>,
}

/// What every cell's computation shares.
struct CellContext<'a> {
    days: &'a Days,
    years: &'a [IndexYear],
    statistics: &'a [Statistic],
    paired: &'a [PairedStatistic],
    /// The histograms' bin edges, when the quantity has them.
    bin_edges: Option<&'a [f64]>,
}

impl CellContext<'_> {
    /// The statistics of one cell's series, `sources[0]` the observations; their values are added to `histogram`
    /// (one set of counts per source) when given and the cell has observations.
    fn values(&self, sources: &[ndarray::ArrayView1<'_, f32>], histogram: Option<&mut Vec<Vec<u64>>>) -> CellValues {
        let slices: Vec<&[f32]> =
            sources.iter().map(|s| s.as_slice().expect("rows of a standard-layout band are contiguous")).collect();
        let series: Vec<Series<'_>> = slices.iter().map(|s| Series::new(s)).collect();
        if let (Some(counts), Some(edges), false) = (histogram, self.bin_edges, series[0].is_empty()) {
            for (source, one) in series.iter().enumerate() {
                one.count_into(&mut counts[source], edges);
            }
        }
        if series[0].is_empty() {
            // No observation at this cell (sea): nothing to compare.
            return CellValues {
                series: vec![vec![f64::NAN; sources.len()]; self.statistics.len()],
                paired: vec![vec![f64::NAN; sources.len() - 1]; self.paired.len()],
            };
        }
        CellValues {
            series: self
                .statistics
                .iter()
                .map(|&statistic| series.iter().map(|s| s.statistic(statistic, self.days, self.years)).collect())
                .collect(),
            paired: self
                .paired
                .iter()
                .map(|&statistic| series[1..].iter().map(|s| s.paired(statistic, &series[0])).collect())
                .collect(),
        }
    }
}

/// A `(time, row, lon)` band as `(cell, day)` rows over the aligned days `indices`.
pub(crate) fn by_cell(band: Array3<f32>, indices: &[usize]) -> Array2<f32> {
    /// Cells transposed together: their rows of the output stay in cache while the days are walked.
    const CELLS_AT_ONCE: usize = 64;
    let band = if band.is_standard_layout() { band } else { band.as_standard_layout().into_owned() };
    let (_, rows, lons) = band.dim();
    let cells = rows * lons;
    let days = indices.len();
    let input = band.as_slice().expect("a standard-layout band is contiguous");
    let mut output = vec![0f32; cells * days];
    output.par_chunks_mut(CELLS_AT_ONCE * days).enumerate().for_each(|(block, rows_out)| {
        let first = block * CELLS_AT_ONCE;
        let count = rows_out.len() / days.max(1);
        for (day, &index) in indices.iter().enumerate() {
            let map = &input[index * cells + first..index * cells + first + count];
            for (k, &value) in map.iter().enumerate() {
                rows_out[k * days + day] = value;
            }
        }
    });
    Array2::from_shape_vec((cells, days), output).expect("cells x days values")
}

/// The days every field holds, and each field's indices of them (`indices[0]` the observations').
struct Alignment {
    days: Days,
    indices: Vec<Vec<usize>>,
}

fn align(observed: &Field, products: &[Product<'_>], years: Option<(i32, i32)>) -> Result<Alignment, EvaluateError> {
    let observed_days = observed.days()?;
    let key = |d: &downscale_data::calendar::CfDateTime| (d.year, d.month, d.day);
    let mut common: Vec<_> = observed_days
        .dates()
        .iter()
        .filter(|d| years.is_none_or(|(first, last)| (first..=last).contains(&d.year)))
        .map(key)
        .collect();
    let product_days: Vec<Days> = products.iter().map(|p| p.field.days()).collect::<Result<_, _>>()?;
    for (product, days) in products.iter().zip(&product_days) {
        let held: std::collections::HashSet<_> = days.dates().iter().map(key).collect();
        common.retain(|d| held.contains(d));
        if common.is_empty() {
            return Err(EvaluateError::NoCommonDays {
                product: product.field.source().to_string(),
                observed: observed.source().to_string(),
                within: years.map(|(a, b)| format!(" in {a}-{b}")).unwrap_or_default(),
            });
        }
    }
    if common.is_empty() {
        return Err(EvaluateError::data(observed.source(), "the observations hold no day in the years asked for"));
    }
    let indices_in = |days: &Days| -> Vec<usize> {
        let position: std::collections::HashMap<_, _> =
            days.dates().iter().enumerate().map(|(i, d)| (key(d), i)).collect();
        common.iter().map(|d| position[d]).collect()
    };
    let mut indices = vec![indices_in(&observed_days)];
    indices.extend(product_days.iter().map(indices_in));
    let dates = indices[0].iter().map(|&i| observed_days.dates()[i]).collect();
    Ok(Alignment { days: Days::new(observed.source(), observed_days.calendar(), dates)?, indices })
}

pub(crate) fn same_grid(grid: &Grid, other: &Grid, source: &str, observed: &str) -> Result<(), EvaluateError> {
    let close = |a: &[f64], b: &[f64]| a.len() == b.len() && a.iter().zip(b).all(|(x, y)| (x - y).abs() < 1e-6);
    if close(&grid.lat, &other.lat) && close(&grid.lon, &other.lon) {
        return Ok(());
    }
    Err(EvaluateError::data(
        source,
        format!(
            "its grid ({}x{} cells) is not the observations' grid ({}x{} cells, {observed}): products are scored \
             cell by cell on the observations' grid",
            other.lat.len(),
            other.lon.len(),
            grid.lat.len(),
            grid.lon.len()
        ),
    ))
}

/// Cosine of each cell's latitude, row-major: cell areas of a regular latitude-longitude grid up to a constant.
pub(crate) fn area_weights(grid: &Grid) -> Vec<f64> {
    grid.lat.iter().flat_map(|lat| std::iter::repeat_n(lat.to_radians().cos(), grid.lon.len())).collect()
}

/// Area-weighted mean of `values` over the land cells where they exist; NaN when none does.
pub(crate) fn land_mean(values: &[f64], land: &Land, weights: &[f64]) -> f64 {
    let (mut sum, mut total) = (0.0, 0.0);
    for (index, &value) in values.iter().enumerate() {
        if land.is_land(index) && value.is_finite() {
            sum += weights[index] * value;
            total += weights[index];
        }
    }
    if total > 0.0 { sum / total } else { f64::NAN }
}
