//! xsdba 0.7.0's empirical, detrended and quantile-delta mapping (EQM, DQM, QDM; Cannon et al. 2015), with
//! frequency adaptation and jitter under a threshold, reproducing xsdba's numbers.
//!
//! Training, per group: type-7 quantiles of `ref` and `hist` at the `nquantiles` nodes `(k - 0.5) / N`, and the
//! factors `ref_q - hist_q` (additive) or `ref_q / hist_q` (multiplicative). DQM first normalises both samples by
//! their means and keeps the mean correction as `scaling`. Adjusting interpolates the factors (nearest or linear,
//! constant or NaN outside the trained range) at each simulated value (EQM; DQM after scaling and removing a linear
//! trend) or at each simulated value's percentage rank within its group (QDM).
//!
//! Groupings and their reference calls:
//! - [`Grouping::Time`]: one group, xsdba `group="time"`.
//! - [`Grouping::Month`]: an independent model per calendar month, equal to one xsdba `group="time"` call per month
//!   subset. Its trained factors equal xsdba's `group="time.month"`, but xsdba's adjustment with that grouping
//!   interpolates in 2-D across months (`griddata`), which this crate deliberately does not copy: tail values
//!   there can take a neighbouring month's factor.
//! - [`Grouping::DayOfYear`]: xsdba `Grouper("time.dayofyear", window)`: each day of year trains on the `window` time
//!   steps around each of its steps (see `grouping`), which equals xsdba's training. Adjusting uses each step's own
//!   day of year. For QDM this equals xsdba (ranks per exact day of year, `rank_window=False`, the 0.7 default); for
//!   EQM and DQM xsdba interpolates in 2-D across days of year and a few tail values take a neighbouring day's factor.
//!   DQM's trend is fitted per day of year to the window means, as xsdba's `PolyDetrend` does with that grouping.
//!
//! Choices where xsdba leaves no error to copy (no input panics):
//! - NaN is skipped by quantiles, means, ranks and trends; a NaN simulated value gives NaN.
//! - Quantiles are computed from any number of valid values (one is enough, as in xsdba). A group with no valid
//!   reference or hist value has NaN factors, and its simulated values come out NaN; so do simulated values whose
//!   group (month, day of year) was absent from training, and QDM values of a group with a single valid value (their
//!   percentage rank is 0/0 in xsdba).
//! - Kind multiplicative with a negative value in `ref`, `hist` or `sim` is [`MethodError::NegativeValues`]. Zero
//!   quantiles give 0/0 (dropped nodes, as xsdba does) or x/0 (infinite factors, kept: a dry simulated value times an
//!   infinite factor is NaN in xsdba too; use [`jitter_under_threshold`] or `adapt_freq_thresh` to avoid them).
//!
//! Random numbers: frequency adaptation draws from a [`UniformSource`], in xsdba's order (groups by ascending key,
//! one draw per element for the tie-breaking ranks, then one per element for the replacement values). Training
//! takes the source explicitly; `adjust` draws from a [`SeededUniform`] seeded at the end of training, and
//! `adjust_with_random` takes a source (the oracle tests feed numpy's MT19937 to both).

mod dqm;
mod eqm;
mod frequency;
mod grouping;
mod guide;
mod interpolation;
mod ordering;
mod qdm;
mod rank_steps;
mod statistics;

use std::borrow::Cow;
use std::rc::Rc;

use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

pub use dqm::{DetrendedQuantileMapping, TrainedDetrendedQuantileMapping};
pub use eqm::{EmpiricalQuantileMapping, TrainedEmpiricalQuantileMapping};
pub use frequency::{FrequencyAdaptation, jitter_under_threshold};
pub use qdm::{QuantileDeltaMapping, TrainedQuantileDeltaMapping};
pub use statistics::equally_spaced_nodes;

use crate::error::{MethodError, Result};
use crate::series::TimeSeries;
use frequency::RankScratch;
use grouping::{GroupKey, Groups, pool_into, window_length};
use interpolation::FactorCurve;
use statistics::{Scratch, nan_mean, quantiles_into};

/// How factors relate the reference to the model: xsdba kind `'+'` or `'*'`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Kind {
    /// Factors are differences, added: temperature-like variables.
    #[default]
    Additive,
    /// Factors are ratios, multiplied: precipitation and other variables bounded at zero.
    Multiplicative,
}

impl Kind {
    /// xsdba `get_correction(x, y)`: what takes `from` to `to`.
    fn correction(self, from: f64, to: f64) -> f64 {
        match self {
            Kind::Additive => to - from,
            Kind::Multiplicative => to / from,
        }
    }

    /// xsdba `apply_correction(x, factor)`.
    fn apply(self, value: f64, factor: f64) -> f64 {
        match self {
            Kind::Additive => value + factor,
            Kind::Multiplicative => value * factor,
        }
    }

    /// xsdba `invert(x)`: removing a factor is applying its inverse (`x + (-m)`, `x * (1 / m)`, bit for bit).
    fn invert(self, factor: f64) -> f64 {
        match self {
            Kind::Additive => -factor,
            Kind::Multiplicative => 1.0 / factor,
        }
    }
}

/// A [`Kind`] as a type: loops over values generic over it are compiled once per kind, with no test of the kind
/// inside. Each operation is the enum's own, so both give the same bits.
pub(crate) trait KindOps {
    fn apply(value: f64, factor: f64) -> f64;
    fn invert(factor: f64) -> f64;
}

/// [`Kind::Additive`]'s operations.
pub(crate) struct AdditiveOps;
/// [`Kind::Multiplicative`]'s operations.
pub(crate) struct MultiplicativeOps;

impl KindOps for AdditiveOps {
    #[inline(always)]
    fn apply(value: f64, factor: f64) -> f64 {
        Kind::Additive.apply(value, factor)
    }
    #[inline(always)]
    fn invert(factor: f64) -> f64 {
        Kind::Additive.invert(factor)
    }
}

impl KindOps for MultiplicativeOps {
    #[inline(always)]
    fn apply(value: f64, factor: f64) -> f64 {
        Kind::Multiplicative.apply(value, factor)
    }
    #[inline(always)]
    fn invert(factor: f64) -> f64 {
        Kind::Multiplicative.invert(factor)
    }
}

/// Calls `$call` with a [`KindOps`] type for `$kind` and a `const bool` that is whether `$interp` is 'nearest', so
/// that the call is one specialised loop per combination.
macro_rules! specialised {
    ($kind:expr, $interp:expr, |$ops:ident, $nearest:ident| $call:expr) => {
        match $kind {
            super::Kind::Additive => specialised!(@interp $interp, super::AdditiveOps, |$ops, $nearest| $call),
            super::Kind::Multiplicative => {
                specialised!(@interp $interp, super::MultiplicativeOps, |$ops, $nearest| $call)
            }
        }
    };
    (@interp $interp:expr, $kind_ops:ty, |$ops:ident, $nearest:ident| $call:expr) => {{
        type $ops = $kind_ops;
        match $interp {
            super::Interp::Nearest => {
                const $nearest: bool = true;
                $call
            }
            super::Interp::Linear => {
                const $nearest: bool = false;
                $call
            }
        }
    }};
}
use specialised;

/// How factors are interpolated between nodes (scipy `interp1d` kinds).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Interp {
    /// The factor of the nearest node: xsdba's default.
    #[default]
    Nearest,
    /// Linear between the two nodes around the value.
    Linear,
}

/// The factor outside the trained range: the first/last factor, or NaN.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Extrapolation {
    /// The first or last node's factor: xsdba's default.
    #[default]
    Constant,
    /// NaN, so values beyond what training saw are marked missing.
    Nan,
}

/// Which time steps share one model (see the module documentation).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Grouping {
    /// One model over all time steps.
    #[default]
    Time,
    /// An independent model per calendar month.
    Month,
    /// One model per day of year, each trained on the steps within a window around it.
    DayOfYear {
        /// Width of the window in days, centred on the day (1 to [`MAX_WINDOW_DAYS`]).
        window: usize,
    },
}

/// What training takes, besides the samples. [`TrainOptions::check`] gives the ranges.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TrainOptions {
    /// Number of quantile nodes, at `(k - 0.5) / nquantiles` (1 to [`MAX_NQUANTILES`]; xsdba's default 20).
    pub nquantiles: usize,
    /// Whether factors are differences or ratios.
    pub kind: Kind,
    /// Which time steps share one model.
    pub group: Grouping,
    /// xsdba `adapt_freq_thresh`, in the data's units: adapt hist's frequency of values at or under it to the
    /// reference's in training, and the simulation's in adjustment.
    pub adapt_freq_thresh: Option<f64>,
}

impl Default for TrainOptions {
    fn default() -> Self {
        TrainOptions { nquantiles: 20, kind: Kind::Additive, group: Grouping::Time, adapt_freq_thresh: None }
    }
}

/// How trained factors are applied to a simulated series.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct AdjustOptions {
    /// Interpolation between nodes.
    pub interp: Interp,
    /// The factor beyond the outer nodes.
    pub extrapolation: Extrapolation,
}

/// Uniform random numbers in [0, 1) for frequency adaptation and jitter. Implement it over numpy's legacy MT19937 to
/// reproduce xsdba's draws exactly.
pub trait UniformSource {
    /// The next number, uniform in [0, 1).
    fn next_uniform(&mut self) -> f64;
}

/// The default deterministic source: rand's `StdRng` (ChaCha12) seeded from a `u64`.
#[derive(Debug)]
pub struct SeededUniform(StdRng);

impl SeededUniform {
    /// A source whose numbers depend only on `seed`, on every platform and thread count.
    pub fn new(seed: u64) -> Self {
        SeededUniform(StdRng::seed_from_u64(seed))
    }
}

impl UniformSource for SeededUniform {
    fn next_uniform(&mut self) -> f64 {
        self.0.random::<f64>()
    }
}

/// What training learnt for one group.
#[derive(Debug, Clone, PartialEq)]
pub struct GroupFactors {
    key: GroupKey,
    hist_quantiles: Vec<f64>,
    factors: Vec<f64>,
    scaling: Option<f64>,
    frequency: Option<FrequencyAdaptation>,
    curve: FactorCurve,
}

impl GroupFactors {
    /// 0 for [`Grouping::Time`], else the calendar month or the day of year.
    pub fn key(&self) -> u16 {
        self.key
    }

    /// hist's quantiles at the nodes (xsdba `hist_q`): after frequency adaptation, and of the mean-normalised hist
    /// for DQM.
    pub fn hist_quantiles(&self) -> &[f64] {
        &self.hist_quantiles
    }

    /// The adjustment factors at the nodes (xsdba `af`).
    pub fn factors(&self) -> &[f64] {
        &self.factors
    }

    /// DQM's mean correction `corr(mean(hist), mean(ref))` (xsdba `scaling`); `None` for EQM and QDM.
    pub fn scaling(&self) -> Option<f64> {
        self.scaling
    }

    /// xsdba's `P0_ref`, `P0_hist` and `pth` when trained with `adapt_freq_thresh`.
    pub fn frequency_adaptation(&self) -> Option<FrequencyAdaptation> {
        self.frequency
    }
}

/// The three methods, for training differences and error messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum XsdbaMethod {
    Empirical,
    Detrended,
    QuantileDelta,
}

impl XsdbaMethod {
    fn name(self) -> &'static str {
        match self {
            XsdbaMethod::Empirical => "xsdba EmpiricalQuantileMapping",
            XsdbaMethod::Detrended => "xsdba DetrendedQuantileMapping",
            XsdbaMethod::QuantileDelta => "xsdba QuantileDeltaMapping",
        }
    }
}

/// What the three trainings share; each method's public trained type wraps one.
#[derive(Debug, Clone)]
struct TrainedModel {
    method: XsdbaMethod,
    kind: Kind,
    grouping: Grouping,
    nodes: Vec<f64>,
    groups: Vec<GroupFactors>,
    adapt_freq_thresh: Option<f64>,
    /// Seed of the [`SeededUniform`] that `adjust` draws from (frequency adaptation only).
    adjust_seed: u64,
}

fn train_model(
    method: XsdbaMethod,
    options: &TrainOptions,
    reference: TimeSeries,
    hist: TimeSeries,
    random: &mut impl UniformSource,
) -> Result<TrainedModel> {
    validate_options(method, options)?;
    validate_series(method, "ref", &reference, options.kind)?;
    validate_series(method, "hist", &hist, options.kind)?;
    let nodes = equally_spaced_nodes(options.nquantiles);
    let window = window_length(options.group);
    let reference_groups = Groups::of(&reference, options.group);
    let hist_groups = Groups::of(&hist, options.group);
    let mut keys: Vec<GroupKey> = reference_groups.keys.iter().chain(&hist_groups.keys).copied().collect();
    keys.sort_unstable();
    keys.dedup();

    let (mut reference_pool, mut hist_pool, mut statistics) = (Vec::new(), Vec::new(), Scratch::default());
    let (mut reference_quantiles, mut hist_quantiles) = (Vec::new(), Vec::new());
    let mut scratch = RankScratch::default();
    let mut groups = Vec::with_capacity(keys.len());
    // Without frequency adaptation or DQM's normalisation, the samples are only read, and a group of every step of a
    // gap-free series is the series itself: no copy.
    let samples_unchanged = options.adapt_freq_thresh.is_none() && method != XsdbaMethod::Detrended;
    for key in keys {
        let (reference_members, hist_members) = (reference_groups.members_of(key), hist_groups.members_of(key));
        let (reference_sample, hist_sample, frequency, scaling) = if samples_unchanged {
            (
                valid_sample(reference.values, reference_members, window, &mut reference_pool),
                valid_sample(hist.values, hist_members, window, &mut hist_pool),
                None,
                None,
            )
        } else {
            pool_into(reference.values, reference_members, window, &mut reference_pool);
            pool_into(hist.values, hist_members, window, &mut hist_pool);
            let frequency = options.adapt_freq_thresh.map(|threshold| {
                frequency::adapt_training_group(&reference_pool, &mut hist_pool, threshold, &mut scratch, random)
            });
            let scaling = (method == XsdbaMethod::Detrended).then(|| {
                let (reference_mean, hist_mean) = (nan_mean(&reference_pool), nan_mean(&hist_pool));
                normalise(&mut reference_pool, reference_mean, options.kind);
                normalise(&mut hist_pool, hist_mean, options.kind);
                options.kind.correction(hist_mean, reference_mean)
            });
            reference_pool.retain(|v| !v.is_nan());
            hist_pool.retain(|v| !v.is_nan());
            (&reference_pool[..], &hist_pool[..], frequency, scaling)
        };
        quantiles_into(reference_sample, &nodes, &mut statistics, &mut reference_quantiles);
        quantiles_into(hist_sample, &nodes, &mut statistics, &mut hist_quantiles);
        let factors: Vec<f64> =
            hist_quantiles.iter().zip(&reference_quantiles).map(|(&h, &r)| options.kind.correction(h, r)).collect();
        let abscissae = if method == XsdbaMethod::QuantileDelta { &nodes } else { &hist_quantiles };
        let curve = FactorCurve::new(abscissae, &factors);
        groups.push(GroupFactors { key, hist_quantiles: hist_quantiles.clone(), factors, scaling, frequency, curve });
    }
    // 53 random bits, drawn after xsdba's training draws so that those stay in xsdba's order.
    let adjust_seed = match options.adapt_freq_thresh {
        Some(_) => (random.next_uniform() * 9_007_199_254_740_992.0) as u64,
        None => 0,
    };
    Ok(TrainedModel {
        method,
        kind: options.kind,
        grouping: options.group,
        nodes,
        groups,
        adapt_freq_thresh: options.adapt_freq_thresh,
        adjust_seed,
    })
}

/// The valid values of a group's training sample: `values` itself when the group is every step of a gap-free
/// series, else the pooled members without NaN, in `pool`.
fn valid_sample<'a>(values: &'a [f64], members: &[usize], window: usize, pool: &'a mut Vec<f64>) -> &'a [f64] {
    // A fold rather than `any`, which stops early and so compares one value at a time.
    if window <= 1 && members.len() == values.len() && !values.iter().fold(false, |nan, v| nan | v.is_nan()) {
        return values;
    }
    pool_into(values, members, window, pool);
    pool.retain(|v| !v.is_nan());
    pool
}

/// Removes the mean as xsdba does: `x + (-mean)` or `x * (1 / mean)`.
fn normalise(values: &mut [f64], mean: f64, kind: Kind) {
    let inverse = kind.invert(mean);
    for value in values.iter_mut() {
        *value = kind.apply(*value, inverse);
    }
}

/// Widest day-of-year window, in days: a year of the longest calendar. xsdba takes any width, but a wider window
/// pools the same days again for every day of year (366 days and up, each day trains on every day), and its cost
/// grows with the width: a window of 100,000 days took 46 s on station series that take a fraction of a second.
pub const MAX_WINDOW_DAYS: usize = 366;

/// Most quantile nodes. xsdba takes any number, but each group keeps a factor curve of this many nodes for every
/// point, and nodes beyond the training sample's size (a 30-year daily sample holds about 11,000 values; a
/// day-of-year window of 31 days about 900) only repeat its order statistics.
pub const MAX_NQUANTILES: usize = 10_000;

/// A training option outside the range the methods accept.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{option}: {problem}")]
pub struct OptionError {
    /// The option as [`TrainOptions`] names it: `nquantiles`, `window` or `adapt_freq_thresh`.
    pub option: &'static str,
    /// What is wrong and what was expected.
    pub problem: String,
}

impl TrainOptions {
    /// Checks every option against its range, so that a caller can refuse bad options before reading any data.
    /// Training checks them again, so no caller can skip the check.
    pub fn check(&self) -> std::result::Result<(), OptionError> {
        let fail = |option, problem| Err(OptionError { option, problem });
        if !(1..=MAX_NQUANTILES).contains(&self.nquantiles) {
            return fail("nquantiles", format!("expected 1 to {MAX_NQUANTILES} nodes, found {}", self.nquantiles));
        }
        if let Grouping::DayOfYear { window } = self.group
            && !(1..=MAX_WINDOW_DAYS).contains(&window)
        {
            return fail(
                "window",
                format!("expected a day-of-year window of 1 to {MAX_WINDOW_DAYS} days (a year), found {window}"),
            );
        }
        if let Some(threshold) = self.adapt_freq_thresh
            && !threshold.is_finite()
        {
            return fail("adapt_freq_thresh", format!("expected a finite threshold, found {threshold}"));
        }
        Ok(())
    }
}

fn validate_options(method: XsdbaMethod, options: &TrainOptions) -> Result<()> {
    options.check().map_err(|error| MethodError::InvalidOption { method: method.name(), message: error.to_string() })
}

fn validate_series(method: XsdbaMethod, sample: &'static str, series: &TimeSeries, kind: Kind) -> Result<()> {
    let n = series.values.len();
    let lengths = [series.months.len(), series.days_of_year.len(), series.days.len()];
    if lengths.iter().any(|&length| length != n) {
        return Err(MethodError::InvalidOption {
            method: method.name(),
            message: format!(
                "{sample} has {n} values but {} months, {} days of year and {} days",
                lengths[0], lengths[1], lengths[2]
            ),
        });
    }
    if kind == Kind::Multiplicative {
        let smallest = series.values.iter().copied().filter(|v| !v.is_nan()).fold(f64::INFINITY, f64::min);
        if smallest < 0.0 {
            return Err(MethodError::NegativeValues { sample, smallest, method: method.name() });
        }
    }
    Ok(())
}

impl TrainedModel {
    fn group(&self, key: GroupKey) -> Option<&GroupFactors> {
        self.groups.binary_search_by_key(&key, |group| group.key).ok().map(|index| &self.groups[index])
    }

    /// The simulation to adjust, checked, grouped by its own exact keys (no window), and frequency-adapted per group
    /// in ascending key order when training adapted.
    fn prepare_simulation<'a>(
        &self,
        sim: &TimeSeries<'a>,
        random: &mut impl UniformSource,
    ) -> Result<(Cow<'a, [f64]>, Rc<Groups>)> {
        validate_series(self.method, "sim", sim, self.kind)?;
        let grouping = match self.grouping {
            Grouping::DayOfYear { .. } => Grouping::DayOfYear { window: 1 },
            other => other,
        };
        let groups = Groups::of(sim, grouping);
        let mut values = Cow::Borrowed(sim.values);
        if let Some(threshold) = self.adapt_freq_thresh {
            let values = values.to_mut();
            let (mut group_values, mut scratch) = (Vec::new(), RankScratch::default());
            for (key, members) in groups.iter() {
                let Some(adaptation) = self.group(key).and_then(|group| group.frequency) else {
                    continue;
                };
                group_values.clear();
                group_values.extend(members.iter().map(|&i| values[i]));
                frequency::adapt_simulation_group(&mut group_values, &adaptation, threshold, &mut scratch, random);
                for (&i, &value) in members.iter().zip(&group_values) {
                    values[i] = value;
                }
            }
        }
        Ok((values, groups))
    }
}

/// The accessors and the two adjust entry points every trained type has; `$adjust` is the method's adjustment of
/// prepared (checked, frequency-adapted) values.
macro_rules! trained_api {
    ($trained:ident) => {
        impl $trained {
            /// The trained factors per group, by ascending key.
            pub fn groups(&self) -> &[super::GroupFactors] {
                &self.model.groups
            }

            /// The quantile nodes (xsdba `quantiles`).
            pub fn nodes(&self) -> &[f64] {
                &self.model.nodes
            }

            /// Adjusts `sim`; frequency adaptation (if trained with it) draws from a [`super::SeededUniform`] seeded
            /// at the end of training.
            pub fn adjust(&self, sim: TimeSeries, options: &super::AdjustOptions) -> Result<Vec<f64>> {
                self.adjust_with_random(sim, options, &mut super::SeededUniform::new(self.model.adjust_seed))
            }

            /// Adjusts `sim`, drawing frequency-adaptation random numbers from `random`.
            pub fn adjust_with_random(
                &self,
                sim: TimeSeries,
                options: &super::AdjustOptions,
                random: &mut impl super::UniformSource,
            ) -> Result<Vec<f64>> {
                let (values, groups) = self.model.prepare_simulation(&sim, random)?;
                Ok(self.adjust_prepared(&sim, &values, &groups, options))
            }
        }
    };
}
use trained_api;
