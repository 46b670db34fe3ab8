//! A bias correction as a caller states it, before anything is known to fit: the method by name and every option
//! that was given. [`BiasCorrectionParams::check`] decides which options the method takes, checks their ranges and
//! gives the [`BiasCorrection`] to run, or a [`ParamsError`] naming the option. The knowledge of which method takes
//! which option sits here, next to the methods, so a front end only maps its arguments onto these fields and
//! prints the error.
//!
//! An option a method does not take is refused rather than ignored: a user who asks EQM to `detrend` would
//! otherwise believe the output detrended.

use std::fmt;

use super::{BiasCorrection, SeriesGrouping, XsdbaSettings};
use crate::bcsd::FitOrder;
use crate::edcdfm::{DryPolicy, EdcdfmKind};
use crate::qm_regressor::Extrapolate;
use crate::xsdba::{AdjustOptions, Extrapolation, Grouping, Interp, Kind, OptionError, TrainOptions};

/// A bias-correction method by name alone, before its options are known.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BiasCorrectionName {
    /// [`BiasCorrection::QuantileMapper`].
    QuantileMapper,
    /// [`BiasCorrection::QuantileMappingRegressor`].
    QuantileMappingRegressor,
    /// [`BiasCorrection::EquidistantCdfMatcher`].
    EquidistantCdfMatcher,
    /// [`BiasCorrection::BcsdTemperature`].
    BcsdTemperature,
    /// [`BiasCorrection::BcsdPrecipitation`].
    BcsdPrecipitation,
    /// [`BiasCorrection::Eqm`].
    Eqm,
    /// [`BiasCorrection::Dqm`].
    Dqm,
    /// [`BiasCorrection::Qdm`].
    Qdm,
}

impl BiasCorrectionName {
    /// The name on the command line and in output attributes (`bias_correction_method`).
    pub fn as_str(self) -> &'static str {
        match self {
            BiasCorrectionName::QuantileMapper => "quantile-mapper",
            BiasCorrectionName::QuantileMappingRegressor => "qm-regressor",
            BiasCorrectionName::EquidistantCdfMatcher => "edcdfm",
            BiasCorrectionName::BcsdTemperature => "bcsd-temperature",
            BiasCorrectionName::BcsdPrecipitation => "bcsd-precipitation",
            BiasCorrectionName::Eqm => "eqm",
            BiasCorrectionName::Dqm => "dqm",
            BiasCorrectionName::Qdm => "qdm",
        }
    }

    fn family(self) -> Family {
        match self {
            BiasCorrectionName::QuantileMapper
            | BiasCorrectionName::QuantileMappingRegressor
            | BiasCorrectionName::EquidistantCdfMatcher => Family::ScikitDownscale,
            BiasCorrectionName::BcsdTemperature | BiasCorrectionName::BcsdPrecipitation => Family::Bcsd,
            BiasCorrectionName::Eqm | BiasCorrectionName::Dqm | BiasCorrectionName::Qdm => Family::Xsdba,
        }
    }
}

impl fmt::Display for BiasCorrectionName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Which reference package a method comes from, which decides most of the options it takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Family {
    ScikitDownscale,
    Bcsd,
    Xsdba,
}

/// Which time steps share one model, before a day-of-year window is known (the window is its own option).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum GroupBy {
    /// One model over all time steps: what every reference package does unless told otherwise.
    #[default]
    Time,
    /// An independent model per calendar month.
    Month,
    /// One model per day of year, trained on a moving window of days around it (xsdba methods only).
    DayOfYear,
}

impl GroupBy {
    fn as_str(self) -> &'static str {
        match self {
            GroupBy::Time => "time",
            GroupBy::Month => "month",
            GroupBy::DayOfYear => "dayofyear",
        }
    }
}

/// Days around each day of year that its model pools when no window is given: about a month, centred on the day.
const DEFAULT_WINDOW_DAYS: usize = 31;

/// The seed of the random draws when none is given, so that a run without one is still reproducible.
const DEFAULT_SEED: u64 = 0;

/// A bias correction as stated: the method and the options given for it, unchecked. Field names are the option
/// names that errors report, so a front end whose flags are spelled the same (with `-` for `_`) can name them.
/// Thresholds are in the units of the data the method will see (see [`BiasCorrectionParams::map_thresholds`]).
#[derive(Debug, Clone, PartialEq)]
pub struct BiasCorrectionParams {
    /// The method the options are for.
    pub method: BiasCorrectionName,
    /// Additive (temperature) or multiplicative (precipitation): xsdba's `kind`, EDCDFm's difference or ratio.
    /// Additive is the default, so only multiplicative is refused by methods without a kind.
    pub kind: Kind,
    /// Which steps share a model. Time is the default, so only month and day of year are refused by methods that
    /// group otherwise.
    pub group: GroupBy,
    /// Width in days of the day-of-year window (with [`GroupBy::DayOfYear`]; 31 when not given).
    pub window: Option<usize>,
    /// Number of quantile nodes of the xsdba methods (20 when not given).
    pub nquantiles: Option<usize>,
    /// Interpolation of the xsdba methods' factors between nodes (nearest when not given).
    pub interp: Option<Interp>,
    /// The xsdba methods' factor outside the trained range (constant when not given).
    pub extrapolation: Option<Extrapolation>,
    /// Remove linear trends before mapping: `QuantileMapper(detrend=True)`, or the trend-aware QM regressor.
    pub detrend: bool,
    /// Tails of the QM regressor beyond the training range (none when not given: the observed range).
    pub extrapolate: Option<Extrapolate>,
    /// xsdba's `adapt_freq_thresh`: frequency adaptation of values at or under it.
    pub adapt_freq_thresh: Option<f64>,
    /// xsdba's `jitter_under_thresh_value`: values under it become random values below it, so dry days do not tie.
    pub jitter_under_thresh: Option<f64>,
    /// Seed of the random draws of the two thresholds above (0 when not given).
    pub seed: Option<u64>,
    /// BCSD: fit with CarbonPlan's swapped argument order ([`FitOrder::CarbonPlan`]) instead of the documented one.
    pub carbonplan_order: bool,
    /// EDCDFm ratio: reproduce scikit-downscale's 0/0 = NaN on dry days ([`DryPolicy::Reference`]).
    pub reference_dry_days: bool,
}

/// Why [`BiasCorrectionParams`] do not make a bias correction. Options are named as the fields of
/// [`BiasCorrectionParams`].
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ParamsError {
    /// An option (with the value given, when the option is refused only at some values) that the method would
    /// ignore.
    #[error("{method} does not take {option}{}{}", spaced(.value), parenthesised(.reason))]
    NotTaken {
        /// The method that does not take the option.
        method: BiasCorrectionName,
        /// The option it does not take.
        option: &'static str,
        /// The option's value, when other values are taken (`kind multiplicative`, `group dayofyear`).
        value: Option<&'static str>,
        /// Why, when the method's name does not say it.
        reason: Option<&'static str>,
    },
    /// An option that means something only with a given value of another.
    #[error("{option} is only taken with {other} {value}")]
    OnlyWith {
        /// The option given.
        option: &'static str,
        /// The other option it needs.
        other: &'static str,
        /// The value the other option needs.
        value: &'static str,
    },
    /// An option outside its range.
    #[error(transparent)]
    OutOfRange(#[from] OptionError),
}

fn spaced(value: &Option<&str>) -> String {
    value.map(|v| format!(" {v}")).unwrap_or_default()
}

fn parenthesised(reason: &Option<&str>) -> String {
    reason.map(|r| format!(" ({r})")).unwrap_or_default()
}

impl BiasCorrectionParams {
    /// `method` with every option at its default.
    pub fn new(method: BiasCorrectionName) -> BiasCorrectionParams {
        BiasCorrectionParams {
            method,
            kind: Kind::default(),
            group: GroupBy::default(),
            window: None,
            nquantiles: None,
            interp: None,
            extrapolation: None,
            detrend: false,
            extrapolate: None,
            adapt_freq_thresh: None,
            jitter_under_thresh: None,
            seed: None,
            carbonplan_order: false,
            reference_dry_days: false,
        }
    }

    /// The bias correction these parameters state, after refusing every option the method does not take (the
    /// first found, in a fixed order) and every option outside its range ([`BiasCorrection::check`]). Nothing is
    /// read, so a caller can check before reading any data; adjusting checks the ranges again.
    pub fn check(&self) -> Result<BiasCorrection, ParamsError> {
        let method = self.method;
        let family = method.family();
        let xsdba = family == Family::Xsdba;
        let taken = |given: bool, option, value, allowed: bool, reason| {
            if given && !allowed { Err(ParamsError::NotTaken { method, option, value, reason }) } else { Ok(()) }
        };
        taken(self.nquantiles.is_some(), "nquantiles", None, xsdba, None)?;
        taken(self.interp.is_some(), "interp", None, xsdba, None)?;
        taken(self.extrapolation.is_some(), "extrapolation", None, xsdba, None)?;
        taken(self.adapt_freq_thresh.is_some(), "adapt_freq_thresh", None, xsdba, None)?;
        taken(self.jitter_under_thresh.is_some(), "jitter_under_thresh", None, xsdba, None)?;
        taken(self.seed.is_some(), "seed", None, xsdba, None)?;
        taken(self.group == GroupBy::DayOfYear, "group", Some("dayofyear"), xsdba, None)?;
        taken(self.window.is_some(), "window", None, xsdba, None)?;
        if self.window.is_some() && self.group != GroupBy::DayOfYear {
            return Err(ParamsError::OnlyWith { option: "window", other: "group", value: "dayofyear" });
        }
        let bcsd_group = Some("BCSD always groups by calendar month");
        taken(self.group != GroupBy::Time, "group", None, family != Family::Bcsd, bcsd_group)?;
        taken(self.carbonplan_order, "carbonplan_order", None, family == Family::Bcsd, None)?;
        let detrends =
            matches!(method, BiasCorrectionName::QuantileMapper | BiasCorrectionName::QuantileMappingRegressor);
        taken(self.detrend, "detrend", None, detrends, None)?;
        let regressor = method == BiasCorrectionName::QuantileMappingRegressor;
        taken(self.extrapolate.is_some(), "extrapolate", None, regressor, None)?;
        let edcdfm = method == BiasCorrectionName::EquidistantCdfMatcher;
        taken(self.reference_dry_days, "reference_dry_days", None, edcdfm, None)?;
        taken(self.kind == Kind::Multiplicative, "kind", Some("multiplicative"), xsdba || edcdfm, None)?;

        let correction = self.correction();
        correction.check()?;
        Ok(correction)
    }

    /// The same parameters with both thresholds passed through `convert`. Thresholds are in the units of the data
    /// the method sees, so a caller that converts the data (say the user's °C to the data's K) converts them too.
    pub fn map_thresholds(self, convert: impl Fn(f64) -> f64) -> BiasCorrectionParams {
        BiasCorrectionParams {
            adapt_freq_thresh: self.adapt_freq_thresh.map(&convert),
            jitter_under_thresh: self.jitter_under_thresh.map(&convert),
            ..self
        }
    }

    /// The seed for [`adjust_points`](super::adjust_points): the one given, or a fixed default.
    pub fn seed(&self) -> u64 {
        self.seed.unwrap_or(DEFAULT_SEED)
    }

    /// The options that shape the method's result, defaults included, as `key=value` pairs separated by spaces
    /// (thresholds as given), so that an output can say how it was made. Options the method does not take are
    /// left out.
    pub fn effective_options(&self) -> String {
        let mut parts = Vec::new();
        match self.method.family() {
            Family::Xsdba => {
                parts.push(format!("kind={}", kind_name(self.kind)));
                parts.push(format!("group={}", self.group.as_str()));
                if self.group == GroupBy::DayOfYear {
                    parts.push(format!("window={}", self.window_days()));
                }
                parts.push(format!("nquantiles={}", self.nquantiles()));
                parts.push(format!("interp={}", interp_name(self.interp.unwrap_or_default())));
                parts.push(format!("extrapolation={}", extrapolation_name(self.extrapolation.unwrap_or_default())));
                if let Some(threshold) = self.adapt_freq_thresh {
                    parts.push(format!("adapt_freq_thresh={threshold}"));
                }
                if let Some(threshold) = self.jitter_under_thresh {
                    parts.push(format!("jitter_under_thresh={threshold}"));
                }
                if self.adapt_freq_thresh.is_some() || self.jitter_under_thresh.is_some() {
                    parts.push(format!("seed={}", self.seed()));
                }
            }
            Family::Bcsd => {
                parts.push("group=month".into());
                parts.push(format!("fit_order={}", if self.carbonplan_order { "carbonplan" } else { "documented" }));
            }
            Family::ScikitDownscale => {
                parts.push(format!("group={}", self.group.as_str()));
                match self.method {
                    BiasCorrectionName::QuantileMapper => parts.push(format!("detrend={}", self.detrend)),
                    BiasCorrectionName::QuantileMappingRegressor => {
                        parts.push(format!("trend_aware={}", self.detrend));
                        parts.push(format!("extrapolate={}", extrapolate_name(self.extrapolate.unwrap_or_default())));
                    }
                    _ => {
                        parts.push(format!("kind={}", kind_name(self.kind)));
                        let dry = if self.reference_dry_days { "reference" } else { "zero-stays-zero" };
                        parts.push(format!("dry_days={dry}"));
                    }
                }
            }
        }
        parts.join(" ")
    }

    fn window_days(&self) -> usize {
        self.window.unwrap_or(DEFAULT_WINDOW_DAYS)
    }

    fn nquantiles(&self) -> usize {
        self.nquantiles.unwrap_or(TrainOptions::default().nquantiles)
    }

    /// The bias correction, options not taken left out; their ranges are not checked.
    fn correction(&self) -> BiasCorrection {
        let grouping = if self.group == GroupBy::Month { SeriesGrouping::Month } else { SeriesGrouping::Time };
        let order = if self.carbonplan_order { FitOrder::CarbonPlan } else { FitOrder::Documented };
        let xsdba_settings = || XsdbaSettings {
            train: TrainOptions {
                nquantiles: self.nquantiles(),
                kind: self.kind,
                group: match self.group {
                    GroupBy::Time => Grouping::Time,
                    GroupBy::Month => Grouping::Month,
                    GroupBy::DayOfYear => Grouping::DayOfYear { window: self.window_days() },
                },
                adapt_freq_thresh: self.adapt_freq_thresh,
            },
            adjust: AdjustOptions {
                interp: self.interp.unwrap_or_default(),
                extrapolation: self.extrapolation.unwrap_or_default(),
            },
            jitter_under: self.jitter_under_thresh,
        };
        match self.method {
            BiasCorrectionName::QuantileMapper => BiasCorrection::QuantileMapper { detrend: self.detrend, grouping },
            BiasCorrectionName::QuantileMappingRegressor => BiasCorrection::QuantileMappingRegressor {
                extrapolate: self.extrapolate.unwrap_or_default(),
                trend_aware: self.detrend,
                grouping,
            },
            BiasCorrectionName::EquidistantCdfMatcher => BiasCorrection::EquidistantCdfMatcher {
                kind: if self.kind == Kind::Additive { EdcdfmKind::Difference } else { EdcdfmKind::Ratio },
                dry_policy: if self.reference_dry_days { DryPolicy::Reference } else { DryPolicy::default() },
                grouping,
            },
            BiasCorrectionName::BcsdTemperature => BiasCorrection::BcsdTemperature { order },
            BiasCorrectionName::BcsdPrecipitation => BiasCorrection::BcsdPrecipitation { order },
            BiasCorrectionName::Eqm => BiasCorrection::Eqm(xsdba_settings()),
            BiasCorrectionName::Dqm => BiasCorrection::Dqm(xsdba_settings()),
            BiasCorrectionName::Qdm => BiasCorrection::Qdm(xsdba_settings()),
        }
    }
}

fn kind_name(kind: Kind) -> &'static str {
    match kind {
        Kind::Additive => "additive",
        Kind::Multiplicative => "multiplicative",
    }
}

fn interp_name(interp: Interp) -> &'static str {
    match interp {
        Interp::Nearest => "nearest",
        Interp::Linear => "linear",
    }
}

fn extrapolation_name(extrapolation: Extrapolation) -> &'static str {
    match extrapolation {
        Extrapolation::Constant => "constant",
        Extrapolation::Nan => "nan",
    }
}

/// scikit-downscale's spelling of the regressor's `extrapolate`.
fn extrapolate_name(extrapolate: Extrapolate) -> &'static str {
    match extrapolate {
        Extrapolate::None => "none",
        Extrapolate::OneToOne => "1to1",
        Extrapolate::Min => "min",
        Extrapolate::Max => "max",
        Extrapolate::Both => "both",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(method: BiasCorrectionName, edit: impl FnOnce(&mut BiasCorrectionParams)) -> BiasCorrectionParams {
        let mut params = BiasCorrectionParams::new(method);
        edit(&mut params);
        params
    }

    #[test]
    fn defaults_make_each_method_with_its_default_options() {
        let qdm = BiasCorrectionParams::new(BiasCorrectionName::Qdm).check().unwrap();
        let BiasCorrection::Qdm(settings) = qdm else { panic!("{qdm:?}") };
        assert_eq!(settings.train, TrainOptions::default());
        assert_eq!(settings.adjust, AdjustOptions::default());
        assert_eq!(settings.jitter_under, None);
        let edcdfm = params(BiasCorrectionName::EquidistantCdfMatcher, |p| p.kind = Kind::Multiplicative);
        assert!(matches!(
            edcdfm.check().unwrap(),
            BiasCorrection::EquidistantCdfMatcher { kind: EdcdfmKind::Ratio, grouping: SeriesGrouping::Time, .. }
        ));
        let bcsd = params(BiasCorrectionName::BcsdPrecipitation, |p| p.carbonplan_order = true);
        assert!(matches!(bcsd.check().unwrap(), BiasCorrection::BcsdPrecipitation { order: FitOrder::CarbonPlan }));
    }

    #[test]
    fn the_name_is_the_corrections_name() {
        for method in [
            BiasCorrectionName::QuantileMapper,
            BiasCorrectionName::QuantileMappingRegressor,
            BiasCorrectionName::EquidistantCdfMatcher,
            BiasCorrectionName::BcsdTemperature,
            BiasCorrectionName::BcsdPrecipitation,
            BiasCorrectionName::Eqm,
            BiasCorrectionName::Dqm,
            BiasCorrectionName::Qdm,
        ] {
            assert_eq!(BiasCorrectionParams::new(method).check().unwrap().name(), method.as_str());
        }
    }

    #[test]
    fn options_a_method_does_not_take_are_refused_by_name() {
        use BiasCorrectionName::*;
        let cases: [(BiasCorrectionParams, ParamsError); 7] = [
            (
                params(Eqm, |p| p.detrend = true),
                ParamsError::NotTaken { method: Eqm, option: "detrend", value: None, reason: None },
            ),
            (
                params(QuantileMapper, |p| p.seed = Some(3)),
                ParamsError::NotTaken { method: QuantileMapper, option: "seed", value: None, reason: None },
            ),
            (
                params(QuantileMapper, |p| p.group = GroupBy::DayOfYear),
                ParamsError::NotTaken {
                    method: QuantileMapper,
                    option: "group",
                    value: Some("dayofyear"),
                    reason: None,
                },
            ),
            (
                params(BcsdTemperature, |p| p.group = GroupBy::Month),
                ParamsError::NotTaken {
                    method: BcsdTemperature,
                    option: "group",
                    value: None,
                    reason: Some("BCSD always groups by calendar month"),
                },
            ),
            (
                params(QuantileMappingRegressor, |p| p.kind = Kind::Multiplicative),
                ParamsError::NotTaken {
                    method: QuantileMappingRegressor,
                    option: "kind",
                    value: Some("multiplicative"),
                    reason: None,
                },
            ),
            (
                params(Qdm, |p| p.window = Some(15)),
                ParamsError::OnlyWith { option: "window", other: "group", value: "dayofyear" },
            ),
            (
                params(EquidistantCdfMatcher, |p| p.extrapolate = Some(Extrapolate::Both)),
                ParamsError::NotTaken {
                    method: EquidistantCdfMatcher,
                    option: "extrapolate",
                    value: None,
                    reason: None,
                },
            ),
        ];
        for (params, expected) in cases {
            assert_eq!(params.check().unwrap_err(), expected, "{params:?}");
        }
    }

    #[test]
    fn options_out_of_range_are_refused_after_those_not_taken() {
        let window = params(BiasCorrectionName::Eqm, |p| {
            p.group = GroupBy::DayOfYear;
            p.window = Some(0);
        });
        let ParamsError::OutOfRange(error) = window.check().unwrap_err() else { panic!() };
        assert_eq!(error.option, "window");
        let jitter = params(BiasCorrectionName::Dqm, |p| p.jitter_under_thresh = Some(-1.0));
        assert!(matches!(
            jitter.check(),
            Err(ParamsError::OutOfRange(OptionError { option: "jitter_under_thresh", .. }))
        ));
        // A threshold the method does not take is refused as such, whatever its value.
        let not_taken = params(BiasCorrectionName::BcsdTemperature, |p| p.jitter_under_thresh = Some(-1.0));
        assert!(matches!(not_taken.check(), Err(ParamsError::NotTaken { option: "jitter_under_thresh", .. })));
    }

    #[test]
    fn thresholds_are_converted_together_and_nothing_else() {
        let given = params(BiasCorrectionName::Qdm, |p| {
            p.adapt_freq_thresh = Some(1.0);
            p.jitter_under_thresh = Some(0.01);
            p.nquantiles = Some(50);
        });
        let converted = given.clone().map_thresholds(|t| t * 10.0);
        assert_eq!((converted.adapt_freq_thresh, converted.jitter_under_thresh), (Some(10.0), Some(0.1)));
        assert_eq!(
            BiasCorrectionParams { adapt_freq_thresh: Some(1.0), jitter_under_thresh: Some(0.01), ..converted },
            given
        );
    }

    #[test]
    fn effective_options_list_what_the_method_takes_with_defaults() {
        let qdm = params(BiasCorrectionName::Qdm, |p| {
            p.kind = Kind::Multiplicative;
            p.group = GroupBy::DayOfYear;
            p.jitter_under_thresh = Some(0.5);
        });
        assert_eq!(
            qdm.effective_options(),
            "kind=multiplicative group=dayofyear window=31 nquantiles=20 interp=nearest extrapolation=constant \
             jitter_under_thresh=0.5 seed=0"
        );
        let bcsd = BiasCorrectionParams::new(BiasCorrectionName::BcsdTemperature);
        assert_eq!(bcsd.effective_options(), "group=month fit_order=documented");
        let regressor =
            params(BiasCorrectionName::QuantileMappingRegressor, |p| p.extrapolate = Some(Extrapolate::OneToOne));
        assert_eq!(regressor.effective_options(), "group=time trend_aware=false extrapolate=1to1");
        let edcdfm = BiasCorrectionParams::new(BiasCorrectionName::EquidistantCdfMatcher);
        assert_eq!(edcdfm.effective_options(), "group=time kind=additive dry_days=zero-stays-zero");
    }
}
