//! One entry point for every bias-correction method: [`BiasCorrection`] names a method with its options, and
//! [`adjust_points`] applies it independently to every point of `(time, point)` arrays, in parallel.
//! [`BiasCorrectionParams`] makes a [`BiasCorrection`] from a method's name and the options a user gave, refusing
//! the options that method does not take.
//!
//! The three inputs follow xsdba's naming: `reference` (observations over the training period), `hist` (the model
//! over the training period) and `sim` (the model series to adjust). Methods that the references define without a
//! model-historical sample use what they need and say so: scikit-downscale's `QuantileMapper` maps `sim` onto the
//! reference using `sim`'s own ranks, so it ignores `hist`.

mod params;

use ndarray::{Array2, ArrayView2, ArrayViewMut2, Axis, s};
use rayon::prelude::*;

pub use params::{BiasCorrectionName, BiasCorrectionParams, GroupBy, ParamsError};

use crate::bcsd::{BcsdPrecipitation, BcsdTemperature, FitOrder};
use crate::edcdfm::{DryPolicy, EdcdfmKind, EquidistantCdfMatcher};
use crate::error::{MethodError, Result};
use crate::qm_rank::QuantileMapper;
use crate::qm_regressor::{Extrapolate, QuantileMappingRegressor, TrendAwareQuantileMappingRegressor};
use crate::series::{TimeFacts, TimeSeries};
use crate::xsdba::{
    AdjustOptions, DetrendedQuantileMapping, EmpiricalQuantileMapping, OptionError, QuantileDeltaMapping,
    SeededUniform, TrainOptions, jitter_under_threshold,
};

/// How a scikit-downscale model is grouped in time. (The xsdba methods carry their grouping in [`TrainOptions`].)
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SeriesGrouping {
    /// One model over all time steps (the references' behaviour).
    Time,
    /// An independent model per calendar month: fit on the training steps of month m, applied to the steps of m.
    Month,
}

/// Options shared by the xsdba methods when applied to many points.
#[derive(Debug, Clone)]
pub struct XsdbaSettings {
    /// What each point's training takes: nodes, kind, grouping, frequency adaptation.
    pub train: TrainOptions,
    /// How each point's trained factors are applied to `sim`.
    pub adjust: AdjustOptions,
    /// xsdba's `jitter_under_thresh`: values below this threshold in all three inputs are replaced by uniform
    /// random values in (0, threshold) before training, so dry days do not tie.
    pub jitter_under: Option<f64>,
}

impl XsdbaSettings {
    /// Checks every option against its range ([`TrainOptions::check`], and a jitter threshold that is finite and
    /// above 0), so a caller can refuse bad options before reading any data; adjusting checks them again.
    pub fn check(&self) -> std::result::Result<(), OptionError> {
        self.train.check()?;
        match self.jitter_under {
            Some(threshold) if !(threshold.is_finite() && threshold > 0.0) => Err(OptionError {
                option: "jitter_under_thresh",
                problem: format!("expected a finite threshold above 0, found {threshold}"),
            }),
            _ => Ok(()),
        }
    }
}

/// A bias-correction method and its options.
#[derive(Debug, Clone)]
pub enum BiasCorrection {
    /// scikit-downscale `QuantileMapper` (QM-RANK): `sim` mapped onto the reference by its own ranks.
    QuantileMapper {
        /// Map the series with their linear trends removed, and put `sim`'s trend back (`detrend=True`).
        detrend: bool,
        /// One model over all steps or one per calendar month.
        grouping: SeriesGrouping,
    },
    /// scikit-downscale `QuantileMappingReressor` (hist CDF → reference CDF), or with `trend_aware` its
    /// `TrendAwareQuantileMappingRegressor` wrapper.
    QuantileMappingRegressor {
        /// The tails beyond the training range.
        extrapolate: Extrapolate,
        /// Map `sim` with its trend removed and add the trend back (`TrendAwareQuantileMappingRegressor`).
        trend_aware: bool,
        /// One model over all steps or one per calendar month.
        grouping: SeriesGrouping,
    },
    /// scikit-downscale `EquidistantCdfMatcher` (EDCDFm, MACA's bias correction).
    EquidistantCdfMatcher {
        /// Difference (temperature) or ratio (precipitation).
        kind: EdcdfmKind,
        /// What the ratio kind does with dry values and zero quantiles.
        dry_policy: DryPolicy,
        /// One model over all steps or one per calendar month.
        grouping: SeriesGrouping,
    },
    /// scikit-downscale `BcsdTemperature(return_anoms=False)`; monthly by construction.
    BcsdTemperature {
        /// Which series `fit` takes as the model: the documented order or CarbonPlan's swapped one.
        order: FitOrder,
    },
    /// scikit-downscale `BcsdPrecipitation(return_anoms=False)`; monthly by construction.
    BcsdPrecipitation {
        /// Which series `fit` takes as the model: the documented order or CarbonPlan's swapped one.
        order: FitOrder,
    },
    /// xsdba `EmpiricalQuantileMapping`.
    Eqm(XsdbaSettings),
    /// xsdba `DetrendedQuantileMapping`.
    Dqm(XsdbaSettings),
    /// xsdba `QuantileDeltaMapping`.
    Qdm(XsdbaSettings),
}

impl BiasCorrection {
    /// The name used on the command line and in output attributes.
    pub fn name(&self) -> &'static str {
        self.method().as_str()
    }

    fn method(&self) -> BiasCorrectionName {
        match self {
            BiasCorrection::QuantileMapper { .. } => BiasCorrectionName::QuantileMapper,
            BiasCorrection::QuantileMappingRegressor { .. } => BiasCorrectionName::QuantileMappingRegressor,
            BiasCorrection::EquidistantCdfMatcher { .. } => BiasCorrectionName::EquidistantCdfMatcher,
            BiasCorrection::BcsdTemperature { .. } => BiasCorrectionName::BcsdTemperature,
            BiasCorrection::BcsdPrecipitation { .. } => BiasCorrectionName::BcsdPrecipitation,
            BiasCorrection::Eqm(_) => BiasCorrectionName::Eqm,
            BiasCorrection::Dqm(_) => BiasCorrectionName::Dqm,
            BiasCorrection::Qdm(_) => BiasCorrectionName::Qdm,
        }
    }

    /// Checks the method's options against their ranges ([`XsdbaSettings::check`]); the scikit-downscale and BCSD
    /// methods take no option with a range.
    pub fn check(&self) -> std::result::Result<(), OptionError> {
        match self {
            BiasCorrection::Eqm(settings) | BiasCorrection::Dqm(settings) | BiasCorrection::Qdm(settings) => {
                settings.check()
            }
            _ => Ok(()),
        }
    }

    /// Adjusts one point. A point whose reference, hist or sim values are all missing gives all-NaN output:
    /// sea cells of a land-only observation grid are the common case, and they must not stop a run.
    pub fn adjust_point(
        &self,
        reference: TimeSeries,
        hist: TimeSeries,
        sim: TimeSeries,
        point_seed: u64,
    ) -> Result<Vec<f64>> {
        self.check().map_err(|error| MethodError::InvalidOption { method: self.name(), message: error.to_string() })?;
        let all_missing = |s: &TimeSeries| s.values.iter().all(|v| v.is_nan());
        if all_missing(&reference) || all_missing(&hist) || all_missing(&sim) {
            return Ok(vec![f64::NAN; sim.len()]);
        }
        match self {
            BiasCorrection::QuantileMapper { detrend, grouping } => {
                by_group(*grouping, reference, hist, sim, |r, _, s| {
                    QuantileMapper { detrend: *detrend }.fit(r.values)?.transform(s.values)
                })
            }
            BiasCorrection::QuantileMappingRegressor { extrapolate, trend_aware, grouping } => {
                let inner = QuantileMappingRegressor { extrapolate: *extrapolate };
                by_group(*grouping, reference, hist, sim, |r, h, s| {
                    if *trend_aware {
                        TrendAwareQuantileMappingRegressor { inner }.fit(h.values, r.values)?.predict(s.values)
                    } else {
                        inner.fit(h.values, r.values)?.predict(s.values)
                    }
                })
            }
            BiasCorrection::EquidistantCdfMatcher { kind, dry_policy, grouping } => {
                let matcher = EquidistantCdfMatcher { kind: *kind, dry_policy: *dry_policy };
                by_group(*grouping, reference, hist, sim, |r, h, s| matcher.fit(h.values, r.values)?.predict(s.values))
            }
            BiasCorrection::BcsdTemperature { order } => {
                let (x, y) = order.fit_arguments(hist, reference);
                BcsdTemperature::default().fit(x, y)?.predict(sim)
            }
            BiasCorrection::BcsdPrecipitation { order } => {
                let (x, y) = order.fit_arguments(hist, reference);
                BcsdPrecipitation::default().fit(x, y)?.predict(sim)
            }
            BiasCorrection::Eqm(settings) => {
                with_jitter(settings, reference, hist, sim, point_seed, |r, h, s, random| {
                    EmpiricalQuantileMapping::train(&settings.train, r, h, random)?.adjust(s, &settings.adjust)
                })
            }
            BiasCorrection::Dqm(settings) => {
                with_jitter(settings, reference, hist, sim, point_seed, |r, h, s, random| {
                    DetrendedQuantileMapping::train(&settings.train, r, h, random)?.adjust(s, &settings.adjust)
                })
            }
            BiasCorrection::Qdm(settings) => {
                with_jitter(settings, reference, hist, sim, point_seed, |r, h, s, random| {
                    QuantileDeltaMapping::train(&settings.train, r, h, random)?.adjust(s, &settings.adjust)
                })
            }
        }
    }
}

/// Runs a scikit-downscale model once over all steps, or once per calendar month.
fn by_group(
    grouping: SeriesGrouping,
    reference: TimeSeries,
    hist: TimeSeries,
    sim: TimeSeries,
    model: impl Fn(TimeSeries, TimeSeries, TimeSeries) -> Result<Vec<f64>>,
) -> Result<Vec<f64>> {
    match grouping {
        SeriesGrouping::Time => model(reference, hist, sim),
        SeriesGrouping::Month => {
            let mut out = vec![f64::NAN; sim.len()];
            for month in 1..=12u8 {
                let sim_steps = sim.month_indices(month);
                if sim_steps.is_empty() {
                    continue;
                }
                let (r_values, r_facts) = reference.select(&reference.month_indices(month));
                let (h_values, h_facts) = hist.select(&hist.month_indices(month));
                let (s_values, s_facts) = sim.select(&sim_steps);
                let adjusted = model(r_facts.series(&r_values), h_facts.series(&h_values), s_facts.series(&s_values))?;
                for (&step, value) in sim_steps.iter().zip(adjusted) {
                    out[step] = value;
                }
            }
            Ok(out)
        }
    }
}

/// Applies xsdba's jitter to all three inputs (when asked) before running an xsdba method.
fn with_jitter(
    settings: &XsdbaSettings,
    reference: TimeSeries,
    hist: TimeSeries,
    sim: TimeSeries,
    point_seed: u64,
    method: impl Fn(TimeSeries, TimeSeries, TimeSeries, &mut SeededUniform) -> Result<Vec<f64>>,
) -> Result<Vec<f64>> {
    let mut random = SeededUniform::new(point_seed);
    let Some(threshold) = settings.jitter_under else {
        return method(reference, hist, sim, &mut random);
    };
    let mut jittered = [reference.values.to_vec(), hist.values.to_vec(), sim.values.to_vec()];
    for values in &mut jittered {
        jitter_under_threshold(values, threshold, &mut random);
    }
    let [r, h, s] = &jittered;
    method(reference.with_values(r), hist.with_values(h), sim.with_values(s), &mut random)
}

/// The inputs of a many-point adjustment: `(time, point)` arrays with each one's calendar facts.
pub struct PointInputs<'a> {
    /// Observations over the training period, `(time, point)`.
    pub reference: ArrayView2<'a, f32>,
    /// The calendar facts of `reference`'s time steps, in its own calendar.
    pub reference_time: &'a TimeFacts,
    /// The model over the training period, `(time, point)`, the same points as `reference`.
    pub hist: ArrayView2<'a, f32>,
    /// The calendar facts of `hist`'s time steps, in the model's calendar.
    pub hist_time: &'a TimeFacts,
    /// The model series to adjust, `(time, point)`, the same points as `reference`.
    pub sim: ArrayView2<'a, f32>,
    /// The calendar facts of `sim`'s time steps, in the model's calendar.
    pub sim_time: &'a TimeFacts,
    /// Each column's index in the whole field, when the columns are a part of it (a shard's cells): the index seeds
    /// the point's random draws and names it in errors, so a part gives the same values as the whole. `None`: the
    /// columns are the whole field, `0, 1, 2, ...`.
    pub points: Option<&'a [usize]>,
}

/// A method failed at one point.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("point {point}: {error}")]
pub struct PointError {
    /// Index of the point (column) in the flattened non-time dimensions.
    pub point: usize,
    /// What the method said about that point's series.
    pub error: MethodError,
}

/// Adjusts every point (column) of `inputs` independently and in parallel on the current rayon pool, computing in
/// f64 and returning float32 `(sim time, point)`. The first failing point (lowest index) is reported. `seed` seeds
/// the random draws of the xsdba methods (jitter, frequency adaptation): each point derives its own stream from it
/// and its index, so a result does not depend on the number of threads.
pub fn adjust_points(
    method: &BiasCorrection,
    inputs: &PointInputs,
    seed: u64,
) -> std::result::Result<Array2<f32>, PointError> {
    let points = inputs.sim.ncols();
    assert_eq!(inputs.reference.ncols(), points, "reference and sim must have the same points");
    assert_eq!(inputs.hist.ncols(), points, "hist and sim must have the same points");
    assert!(inputs.points.is_none_or(|ids| ids.len() == points), "one index per point");
    // Zeros come from the allocator as untouched pages, so the first writes, spread over the workers, fault them
    // in; every cell is written by its block (a failed block fails the whole call).
    let mut out = Array2::<f32>::zeros((inputs.sim.nrows(), points));
    let failures: Vec<PointError> = out
        .axis_chunks_iter_mut(Axis(1), POINTS_PER_BLOCK)
        .into_par_iter()
        .enumerate()
        .map_init(BlockBuffers::default, |buffers, (block, mut out_block)| {
            let first = block * POINTS_PER_BLOCK;
            let columns = first..first + out_block.ncols();
            buffers.reference.gather(&inputs.reference, columns.clone());
            buffers.hist.gather(&inputs.hist, columns.clone());
            buffers.sim.gather(&inputs.sim, columns.clone());
            buffers.adjusted.steps = buffers.sim.steps;
            buffers.adjusted.values.clear();
            for (offset, column) in columns.enumerate() {
                let point = inputs.points.map_or(column, |points| points[column]);
                let [reference, hist, sim] = &mut buffers.point;
                let values = method.adjust_point(
                    inputs.reference_time.series(buffers.reference.point_into(offset, reference)),
                    inputs.hist_time.series(buffers.hist.point_into(offset, hist)),
                    inputs.sim_time.series(buffers.sim.point_into(offset, sim)),
                    point_seed(seed, point),
                );
                match values {
                    Ok(values) => {
                        assert_eq!(values.len(), buffers.sim.steps, "a method returned a series of another length");
                        buffers.adjusted.values.extend(values.iter().map(|&v| v as f32));
                    }
                    Err(error) => return Some(PointError { point, error }),
                }
            }
            buffers.adjusted.scatter(&mut out_block);
            None
        })
        .flatten()
        .collect();
    match failures.into_iter().min_by_key(|failure| failure.point) {
        Some(failure) => Err(failure),
        None => Ok(out),
    }
}

/// Points adjusted together by one task. Their columns are gathered a few cache lines per time step instead of one
/// cache line per value (a column of a `(time, point)` array is strided by the row length), and their results are
/// written back the same way.
const POINTS_PER_BLOCK: usize = 64;

/// The series of a block of points, each contiguous: `values[point * steps + step]`. Kept in float32 like the
/// data (half the cache footprint of f64); each point is widened to f64 just before its method runs.
#[derive(Default)]
struct PointMajor {
    steps: usize,
    values: Vec<f32>,
}

/// One worker's buffers, reused from block to block: fresh multi-megabyte buffers per block would be fresh pages
/// from the kernel each time, and page faults were a tenth of the run time.
#[derive(Default)]
struct BlockBuffers {
    reference: PointMajor,
    hist: PointMajor,
    sim: PointMajor,
    adjusted: PointMajor,
    /// The current point's reference, hist and sim series in f64.
    point: [Vec<f64>; 3],
}

/// Steps transposed together: one 64-byte cache line of each point's float32 series. Writing a point's run of steps
/// at once, rather than one step of every point in turn, touches each point's memory page once per run instead of
/// once per step (step by step, each step wrote to as many pages as the block has points). The transposes move every
/// input value once and are bound by memory bandwidth; they are still about a quarter of an EQM adjustment.
const STEPS_PER_RUN: usize = 16;

impl PointMajor {
    /// Transposes the block's columns of `array` into `self`, a run of [`STEPS_PER_RUN`] time steps at a time: the
    /// run's rows (a few cache lines each) stay in cache while each point's contiguous run of steps is written.
    fn gather(&mut self, array: &ArrayView2<f32>, columns: std::ops::Range<usize>) {
        let steps = array.nrows();
        let block = array.slice(s![.., columns]);
        self.steps = steps;
        let width = block.ncols();
        // Every cell is overwritten below, so a buffer of the right length is reused as it is (zeroing it again
        // was a tenth of the instructions of a whole adjustment).
        if self.values.len() != steps * width {
            self.values.clear();
            self.values.resize(steps * width, 0.0);
        }
        for (run, rows) in block.axis_chunks_iter(Axis(0), STEPS_PER_RUN).enumerate() {
            let first_step = run * STEPS_PER_RUN;
            if let Some(rows) = full_run_of_slices(rows.outer_iter().map(|row| row.to_slice()), width) {
                // A fixed-size run of contiguous rows: each point's run is a few loads and one wide store.
                for (offset, series) in self.values.chunks_exact_mut(steps).enumerate() {
                    let column: [f32; STEPS_PER_RUN] = std::array::from_fn(|step| rows[step][offset]);
                    series[first_step..first_step + STEPS_PER_RUN].copy_from_slice(&column);
                }
                continue;
            }
            for (offset, column) in rows.axis_iter(Axis(1)).enumerate() {
                let start = offset * steps + first_step;
                for (cell, &value) in self.values[start..start + rows.nrows()].iter_mut().zip(column) {
                    *cell = value;
                }
            }
        }
    }

    /// Point `offset`'s series widened to f64 in `buffer`.
    fn point_into<'a>(&self, offset: usize, buffer: &'a mut Vec<f64>) -> &'a [f64] {
        let series = &self.values[offset * self.steps..(offset + 1) * self.steps];
        // Sized first and converted in a plain zip, which the compiler turns into vector conversions.
        buffer.resize(series.len(), 0.0);
        for (wide, &value) in buffer.iter_mut().zip(series) {
            *wide = f64::from(value);
        }
        buffer
    }

    /// Writes the values into the block's `(time, point)` columns of the output, the transpose of [`Self::gather`]
    /// and blocked the same way.
    fn scatter(&self, out: &mut ArrayViewMut2<f32>) {
        let width = out.ncols();
        for (run, mut rows) in out.axis_chunks_iter_mut(Axis(0), STEPS_PER_RUN).enumerate() {
            let first_step = run * STEPS_PER_RUN;
            if let Some(mut rows) = full_run_of_slices(rows.outer_iter_mut().map(|row| row.into_slice()), width) {
                for (offset, series) in self.values.chunks_exact(self.steps).enumerate() {
                    for (row, &value) in rows.iter_mut().zip(&series[first_step..first_step + STEPS_PER_RUN]) {
                        row[offset] = value;
                    }
                }
                continue;
            }
            let run_length = rows.nrows();
            for (offset, column) in rows.axis_iter_mut(Axis(1)).enumerate() {
                let start = offset * self.steps + first_step;
                for (cell, &value) in column.into_iter().zip(&self.values[start..start + run_length]) {
                    *cell = value;
                }
            }
        }
    }
}

/// The rows of a run as [`STEPS_PER_RUN`] slices, when the run is full and every row is contiguous and holds `width`
/// values (`None` for the last, shorter run or a strided view, which take ndarray's iterators): the fixed count
/// lets the transposing loops build a whole run of one point in registers.
fn full_run_of_slices<S: std::ops::Deref<Target = [f32]>>(
    rows: impl Iterator<Item = Option<S>>,
    width: usize,
) -> Option<[S; STEPS_PER_RUN]> {
    let mut slices = Vec::with_capacity(STEPS_PER_RUN);
    for row in rows {
        slices.push(row?);
    }
    let slices: [S; STEPS_PER_RUN] = slices.try_into().ok()?;
    slices.iter().all(|row| row.len() == width).then_some(slices)
}

/// A per-point seed (SplitMix64 of the run seed and the point index): streams are independent of thread count and
/// of the order points are processed in.
fn point_seed(seed: u64, point: usize) -> u64 {
    let mut z = seed ^ (point as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::Array2;

    /// Values that name their cell, so a misplaced one is seen.
    fn labelled(steps: usize, points: usize) -> Array2<f32> {
        Array2::from_shape_fn((steps, points), |(step, point)| (step * 1000 + point) as f32)
    }

    #[test]
    fn gather_and_scatter_transpose_full_and_partial_runs_of_contiguous_and_strided_views() {
        // 37 steps: two full runs and a short one. The transposed view has strided rows (the fallback path).
        let steps = 2 * STEPS_PER_RUN + 5;
        let standard = labelled(steps, 70);
        let transposed_storage = standard.t().to_owned();
        for array in [standard.view(), transposed_storage.t()] {
            let mut point_major = PointMajor::default();
            point_major.gather(&array, 3..67);
            for (offset, point) in (3..67).enumerate() {
                let series = &point_major.values[offset * steps..(offset + 1) * steps];
                assert!(series.iter().zip(array.column(point)).all(|(a, b)| a == b), "point {point}");
            }
            let mut out = Array2::<f32>::zeros((steps, 64));
            point_major.scatter(&mut out.view_mut());
            assert_eq!(out, array.slice(s![.., 3..67]));
            let mut strided_out = Array2::<f32>::zeros((64, steps));
            point_major.scatter(&mut strided_out.view_mut().reversed_axes());
            assert_eq!(strided_out.t(), array.slice(s![.., 3..67]));
        }
    }

    #[test]
    fn options_out_of_range_are_refused_naming_the_option_before_any_work() {
        let settings = |group, nquantiles, jitter_under| XsdbaSettings {
            train: TrainOptions { nquantiles, group, ..TrainOptions::default() },
            adjust: AdjustOptions::default(),
            jitter_under,
        };
        let day_of_year = |window| crate::xsdba::Grouping::DayOfYear { window };
        for (method, option, problem) in [
            (
                BiasCorrection::Qdm(settings(day_of_year(100_000), 20, None)),
                "window",
                "1 to 366 days (a year), found 100000",
            ),
            (BiasCorrection::Eqm(settings(day_of_year(0), 20, None)), "window", "found 0"),
            (BiasCorrection::Dqm(settings(day_of_year(31), 1 << 30, None)), "nquantiles", "1 to 10000 nodes"),
            (BiasCorrection::Eqm(settings(day_of_year(31), 20, Some(f64::INFINITY))), "jitter_under_thresh", "finite"),
            (BiasCorrection::Eqm(settings(day_of_year(31), 20, Some(-1.0))), "jitter_under_thresh", "above 0"),
        ] {
            let error = method.check().unwrap_err();
            assert_eq!(error.option, option);
            assert!(error.problem.contains(problem), "{error}");
            // Every caller meets the check: adjusting a point refuses the options before training.
            let facts = TimeFacts {
                months: (0..730).map(|day| (day % 365 / 31 + 1).min(12) as u8).collect(),
                days_of_year: (0..730).map(|day| (day % 365 + 1) as u16).collect(),
                days: (0..730).map(f64::from).collect(),
            };
            let values = vec![1.0; facts.len()];
            let refused = method.adjust_point(facts.series(&values), facts.series(&values), facts.series(&values), 0);
            assert!(matches!(refused, Err(MethodError::InvalidOption { .. })), "{refused:?}");
        }
        assert!(BiasCorrection::Qdm(settings(day_of_year(366), 10_000, Some(0.1))).check().is_ok());
        assert!(BiasCorrection::BcsdTemperature { order: FitOrder::Documented }.check().is_ok());
    }

    #[test]
    fn a_part_of_the_field_with_its_point_indices_adjusts_to_the_same_bits_as_the_whole() {
        // Jittered multiplicative QDM: random draws, seeded by each point's index.
        let method = BiasCorrection::Qdm(XsdbaSettings {
            train: TrainOptions { kind: crate::xsdba::Kind::Multiplicative, ..TrainOptions::default() },
            adjust: AdjustOptions::default(),
            jitter_under: Some(0.01),
        });
        let steps = 730;
        let facts = TimeFacts {
            months: (0..steps).map(|day| (day % 365 / 31 + 1).min(12) as u8).collect(),
            days_of_year: (0..steps).map(|day| (day % 365 + 1) as u16).collect(),
            days: (0..steps).map(|day| day as f64).collect(),
        };
        // Dry days (zeros, jittered) among wet ones, different at every point.
        let field = |scale: f32| {
            Array2::from_shape_fn((steps, 90), |(step, point)| {
                let wet = (step * 7 + point * 3) % 5;
                if wet < 2 { 0.0 } else { scale * (wet * (point + 1)) as f32 }
            })
        };
        let (reference, hist, sim) = (field(1.0), field(1.3), field(1.6));
        // The columns `columns` of the field, adjusted with `points` as their indices.
        let adjust = |columns: &[usize], points: Option<&[usize]>| {
            let pick = |array: &Array2<f32>| array.select(Axis(1), columns);
            let (reference, hist, sim) = (pick(&reference), pick(&hist), pick(&sim));
            let inputs = PointInputs {
                reference: reference.view(),
                reference_time: &facts,
                hist: hist.view(),
                hist_time: &facts,
                sim: sim.view(),
                sim_time: &facts,
                points,
            };
            adjust_points(&method, &inputs, 7).unwrap()
        };
        let all: Vec<usize> = (0..90).collect();
        let whole = adjust(&all, None);
        let part: Vec<usize> = (20..30).chain(70..80).collect();
        let bits = |array: ArrayView2<f32>| array.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(adjust(&part, Some(&part)).view()), bits(whole.select(Axis(1), &part).view()));
        // Without the indices the part's points draw other numbers: the indices are what keeps the bits.
        assert_ne!(bits(adjust(&part, None).view()), bits(whole.select(Axis(1), &part).view()));
    }
}
