//! The downscaling methods a parameter file can name, and the names of their options.

use std::fmt;

/// A downscaling method (the `method` key).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Method {
    Bcsd,
    Gard,
    GardMultivariate,
    Maca,
    Deepsd,
}

impl Method {
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

    pub fn parse(name: &str) -> Option<Method> {
        Method::ALL.into_iter().find(|m| m.as_str() == name)
    }

    /// GARD's two spellings share one flow.
    pub fn is_gard(self) -> bool {
        matches!(self, Method::Gard | Method::GardMultivariate)
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// GARD's model types (`model_type`).
pub const GARD_MODEL_TYPES: [&str; 3] = ["PureRegression", "AnalogRegression", "PureAnalog"];

/// The `bias_correction_method` values of the original and the options (`bias_correction_kwargs` keys) each takes.
/// The empty string is what BCSD and MACA files carry (their flows ignore it).
pub const BIAS_CORRECTIONS: &[(&str, &[&str])] = &[
    ("quantile_mapper", &["detrend"]),
    ("quantile_map", &["extrapolate", "n_endpoints"]),
    ("detrended_quantile_map", &["extrapolate", "n_endpoints"]),
    ("quantile_transform", &["n_quantiles", "output_distribution"]),
    ("z_score", &["with_mean", "with_std"]),
    ("cunnane_transform", &[]),
    ("none", &[]),
    ("", &["detrend"]),
];

/// The options of a bias-correction method, `None` for an unknown method.
pub fn bias_correction_options(method: &str) -> Option<&'static [&'static str]> {
    BIAS_CORRECTIONS.iter().find(|(name, _)| *name == method).map(|(_, options)| *options)
}

/// GARD's model options (`model_params` keys): the exceedance threshold, the analogue count, and the keyword
/// dictionaries handed to its k-d tree, query and regressions.
pub const MODEL_PARAMS: [&str; 6] =
    ["thresh", "n_analogs", "kdtree_kwargs", "query_kwargs", "logistic_kwargs", "lr_kwargs"];
