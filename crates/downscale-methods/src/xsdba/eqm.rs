//! Empirical quantile mapping (xsdba `EmpiricalQuantileMapping`): `scen = sim ⊕ f(sim)`, with `f` the factors
//! interpolated over hist's quantiles of the simulated value's group.

use super::grouping::Groups;
use super::interpolation::FactorLookup;
use super::{
    AdjustOptions, KindOps, TrainOptions, TrainedModel, UniformSource, XsdbaMethod, specialised, train_model,
    trained_api,
};
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
        Ok(TrainedEmpiricalQuantileMapping {
            model: train_model(XsdbaMethod::Empirical, options, reference, hist, random)?,
        })
    }
}

/// What EQM learnt from one training: apply it to any number of simulated series.
#[derive(Debug, Clone)]
pub struct TrainedEmpiricalQuantileMapping {
    model: TrainedModel,
}

trained_api!(TrainedEmpiricalQuantileMapping);

impl TrainedEmpiricalQuantileMapping {
    fn adjust_prepared(&self, _sim: &TimeSeries, values: &[f64], groups: &Groups, options: &AdjustOptions) -> Vec<f64> {
        // One loop per kind and interpolation, so that the loop body tests neither.
        specialised!(self.model.kind, options.interp, |Ops, NEAREST| self
            .adjust_values::<Ops, NEAREST>(values, groups, options))
    }

    /// Every value with the factor of its group applied; `NEAREST` is whether the interpolation is 'nearest'.
    #[inline(always)]
    fn adjust_values<Ops: KindOps, const NEAREST: bool>(
        &self,
        values: &[f64],
        groups: &Groups,
        options: &AdjustOptions,
    ) -> Vec<f64> {
        let apply = Ops::apply;
        let factor = |lookup: &FactorLookup, value| lookup.factor_as::<NEAREST>(value);
        let lookup_of =
            |key| self.model.group(key).map(|group| group.curve.lookup(options.interp, options.extrapolation));
        if let Some((key, members)) = groups.only_group()
            && members.len() == values.len()
        {
            // One group of every step: a straight pass over the values.
            return match lookup_of(key) {
                Some(lookup) => values.iter().map(move |&value| apply(value, factor(&lookup, value))).collect(),
                None => vec![f64::NAN; values.len()],
            };
        }
        let mut out = vec![f64::NAN; values.len()];
        for (key, members) in groups.iter() {
            let Some(lookup) = lookup_of(key) else {
                continue;
            };
            for &i in members {
                out[i] = apply(values[i], factor(&lookup, values[i]));
            }
        }
        out
    }
}
