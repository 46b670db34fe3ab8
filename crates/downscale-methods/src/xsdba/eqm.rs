//! Empirical quantile mapping (xsdba `EmpiricalQuantileMapping`): `scen = sim ⊕ f(sim)`, with `f` the factors
//! interpolated over hist's quantiles of the simulated value's group.

use super::grouping::Groups;
use super::{AdjustOptions, Method, TrainOptions, TrainedModel, UniformSource, train_model, trained_api};
use crate::error::Result;
use crate::series::TimeSeries;

/// xsdba's `EmpiricalQuantileMapping`.
#[derive(Debug, Clone, Copy, Default)]
pub struct EmpiricalQuantileMapping;

impl EmpiricalQuantileMapping {
    /// Per group: `af = corr(Q_hist(q_k), Q_ref(q_k))` at the nodes, after frequency adaptation of hist.
    pub fn train(
        options: &TrainOptions,
        reference: TimeSeries,
        hist: TimeSeries,
        random: &mut impl UniformSource,
    ) -> Result<TrainedEmpiricalQuantileMapping> {
        Ok(TrainedEmpiricalQuantileMapping { model: train_model(Method::Empirical, options, reference, hist, random)? })
    }
}

#[derive(Debug, Clone)]
pub struct TrainedEmpiricalQuantileMapping {
    model: TrainedModel,
}

trained_api!(TrainedEmpiricalQuantileMapping);

impl TrainedEmpiricalQuantileMapping {
    fn adjust_prepared(&self, _sim: &TimeSeries, values: &[f64], groups: &Groups, options: &AdjustOptions) -> Vec<f64> {
        let kind = self.model.kind;
        let mut out = vec![f64::NAN; values.len()];
        for (key, members) in groups.iter() {
            let Some(group) = self.model.group(key) else {
                continue;
            };
            for &i in members {
                let factor = group.curve.factor(values[i], options.interp, options.extrapolation);
                out[i] = kind.apply(values[i], factor);
            }
        }
        out
    }
}
