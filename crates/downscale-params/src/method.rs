//! The downscaling methods a parameter file can name, the bias corrections each accepts, and the names of their
//! options. Each method's bias corrections sit next to it, so that a correction added for one method is refused
//! for the others until their flows use it.

use std::fmt;

/// A downscaling method (the `method` key).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Method {
    /// Bias correction and spatial disaggregation (Wood et al. 2004).
    Bcsd,
    /// Generalized Analog Regression Downscaling with the target variable as its only predictor.
    Gard,
    /// GARD with several predictors (`features`).
    GardMultivariate,
    /// Multivariate Adaptive Constructed Analogs.
    Maca,
    /// DeepSD's stacked super-resolution networks.
    Deepsd,
}

impl Method {
    /// Every method, in the order `params generate` writes them.
    pub const ALL: [Method; 5] = [Method::Bcsd, Method::Gard, Method::GardMultivariate, Method::Maca, Method::Deepsd];

    /// The name in parameter files, run ids and output folders.
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Bcsd => "bcsd",
            Method::Gard => "gard",
            Method::GardMultivariate => "gard_multivariate",
            Method::Maca => "maca",
            Method::Deepsd => "deepsd",
        }
    }

    /// The method a parameter file's name stands for; `None` for a name no method has.
    pub fn parse(name: &str) -> Option<Method> {
        Method::ALL.into_iter().find(|m| m.as_str() == name)
    }

    /// GARD's two spellings share one flow.
    pub fn is_gard(self) -> bool {
        matches!(self, Method::Gard | Method::GardMultivariate)
    }

    /// The bias corrections `bias_correction_method` may name for this method.
    pub fn bias_corrections(self) -> &'static [BiasCorrectionKind] {
        match self {
            Method::Bcsd => &BCSD_CORRECTIONS,
            Method::Gard | Method::GardMultivariate | Method::Maca | Method::Deepsd => &ORIGINAL_CORRECTIONS,
        }
    }

    /// The bias corrections a file of this method may name although the method does not use them: the original's
    /// BCSD flow never read `bias_correction_method`, and about ninety of its BCSD files name GARD's
    /// `quantile_mapper` (with `detrend`). Such files run as they are, with the method's default, and are noted.
    pub fn ignored_bias_corrections(self) -> &'static [BiasCorrectionKind] {
        match self {
            Method::Bcsd => &ORIGINAL_CORRECTIONS,
            Method::Gard | Method::GardMultivariate | Method::Maca | Method::Deepsd => &[],
        }
    }

    /// What an absent or empty `bias_correction_method` means for this method.
    pub fn unnamed_bias_correction(self) -> UnnamedCorrection {
        match self {
            Method::Bcsd => UnnamedCorrection::Default {
                correction: BiasCorrectionKind::QuantileDeltaMapping,
                ignored_options: &["detrend"],
            },
            Method::Gard | Method::GardMultivariate => UnnamedCorrection::Required,
            Method::Maca | Method::Deepsd => UnnamedCorrection::Empty { options: &["detrend"] },
        }
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// GARD's model types (`model_type`).
pub const GARD_MODEL_TYPES: [&str; 3] = ["PureRegression", "AnalogRegression", "PureAnalog"];

/// A bias correction a parameter file can name in `bias_correction_method`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BiasCorrectionKind {
    /// xsdba's quantile delta mapping fitted per calendar month: BCSD's default, which keeps the model's projected
    /// change of every quantile instead of mapping it away.
    QuantileDeltaMapping,
    /// scikit-downscale's BCSD point models (`BcsdTemperature`, `BcsdPrecipitation`): BCSD's correction before
    /// quantile delta mapping became its default, kept so that earlier outputs can be reproduced.
    BcsdPoint,
    /// The original's corrections, named as its code names them: GARD corrects its predictors with one of these.
    /// This one is scikit-downscale's `QuantileMapper` (QM-RANK).
    QuantileMapper,
    /// scikit-downscale's `QuantileMappingReressor`.
    QuantileMap,
    /// scikit-downscale's `TrendAwareQuantileMappingRegressor`.
    DetrendedQuantileMap,
    /// scikit-learn's `QuantileTransformer`.
    QuantileTransform,
    /// Standardisation, scikit-learn's `StandardScaler`.
    ZScore,
    /// Cunnane plotting positions, scikit-downscale's `CunnaneTransformer`.
    CunnaneTransform,
    /// `"none"`: the predictors are used as they are.
    NoCorrection,
}

/// BCSD's corrections; the first is its default.
const BCSD_CORRECTIONS: [BiasCorrectionKind; 2] =
    [BiasCorrectionKind::QuantileDeltaMapping, BiasCorrectionKind::BcsdPoint];

/// The original's corrections, which GARD, MACA and DeepSD files name.
const ORIGINAL_CORRECTIONS: [BiasCorrectionKind; 7] = [
    BiasCorrectionKind::QuantileMapper,
    BiasCorrectionKind::QuantileMap,
    BiasCorrectionKind::DetrendedQuantileMap,
    BiasCorrectionKind::QuantileTransform,
    BiasCorrectionKind::ZScore,
    BiasCorrectionKind::CunnaneTransform,
    BiasCorrectionKind::NoCorrection,
];

impl BiasCorrectionKind {
    /// The name in parameter files.
    pub fn as_str(self) -> &'static str {
        match self {
            BiasCorrectionKind::QuantileDeltaMapping => "quantile_delta_mapping",
            BiasCorrectionKind::BcsdPoint => "bcsd_point",
            BiasCorrectionKind::QuantileMapper => "quantile_mapper",
            BiasCorrectionKind::QuantileMap => "quantile_map",
            BiasCorrectionKind::DetrendedQuantileMap => "detrended_quantile_map",
            BiasCorrectionKind::QuantileTransform => "quantile_transform",
            BiasCorrectionKind::ZScore => "z_score",
            BiasCorrectionKind::CunnaneTransform => "cunnane_transform",
            BiasCorrectionKind::NoCorrection => "none",
        }
    }

    /// The correction a parameter file's name stands for; `None` for a name no correction has.
    pub fn parse(name: &str) -> Option<BiasCorrectionKind> {
        BCSD_CORRECTIONS.into_iter().chain(ORIGINAL_CORRECTIONS).find(|kind| kind.as_str() == name)
    }

    /// The options (`bias_correction_kwargs` keys) it takes.
    pub fn options(self) -> &'static [&'static str] {
        match self {
            BiasCorrectionKind::QuantileDeltaMapping => &["nquantiles"],
            BiasCorrectionKind::BcsdPoint => &[],
            BiasCorrectionKind::QuantileMapper => &["detrend"],
            BiasCorrectionKind::QuantileMap | BiasCorrectionKind::DetrendedQuantileMap => {
                &["extrapolate", "n_endpoints"]
            }
            BiasCorrectionKind::QuantileTransform => &["n_quantiles", "output_distribution"],
            BiasCorrectionKind::ZScore => &["with_mean", "with_std"],
            BiasCorrectionKind::CunnaneTransform | BiasCorrectionKind::NoCorrection => &[],
        }
    }
}

impl fmt::Display for BiasCorrectionKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a method makes of an absent or empty `bias_correction_method`: the original's BCSD and MACA files carry
/// `""`, GARD's always name one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnnamedCorrection {
    /// The method needs a correction named: GARD corrects its predictors first, and no one choice suits every
    /// predictor.
    Required,
    /// The method's default correction. The options the original's files carry with the empty name (BCSD's
    /// `detrend`) are accepted so that those files run as they are, but they have no effect, and are noted.
    Default {
        /// The correction the method runs.
        correction: BiasCorrectionKind,
        /// Options accepted with the empty name, to no effect.
        ignored_options: &'static [&'static str],
    },
    /// Accepted with these options, as the original's files carry it (MACA and DeepSD, whose flows come later).
    Empty {
        /// The `bias_correction_kwargs` keys the original's files carry with it.
        options: &'static [&'static str],
    },
}

/// GARD's model options (`model_params` keys): the exceedance threshold, the analogue count, `PureAnalog`'s kind,
/// the keyword dictionaries handed to its k-d tree, query and regressions, and how analogue distances compare
/// features (`analog_distance`, this tool's addition).
pub(crate) const MODEL_PARAMS: [&str; 8] =
    ["thresh", "n_analogs", "kind", "analog_distance", "kdtree_kwargs", "query_kwargs", "logistic_kwargs", "lr_kwargs"];

/// `PureAnalog`'s kinds (`model_params.kind`).
pub const ANALOG_KINDS: [&str; 4] = ["best_analog", "mean_analogs", "weight_analogs", "sample_analogs"];

/// How analogue distances compare features (`model_params.analog_distance`): as given (scikit-downscale), or
/// standardised by the training sample (NCAR GARD).
pub const ANALOG_DISTANCES: [&str; 2] = ["raw", "normalised"];

/// The keys of `model_params.logistic_kwargs` that the occurrence model takes: scikit-learn's `penalty` (`"l2"`, or
/// `null`/`"none"` for the unregularised fit) and `C`; `tol` and `max_iter` are accepted to no effect, since the fit
/// is solved to convergence.
pub const LOGISTIC_KWARGS: [&str; 4] = ["penalty", "C", "tol", "max_iter"];

/// The largest `nquantiles` of quantile delta mapping: beyond it the quantiles only repeat the same order
/// statistics of a few decades of one calendar month's days, at a growing cost (as `downscale adjust` limits it).
pub const MAX_NQUANTILES: i64 = 10_000;
