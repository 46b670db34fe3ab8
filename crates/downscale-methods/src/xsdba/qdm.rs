//! Quantile delta mapping (xsdba `QuantileDeltaMapping`): `scen = sim ⊕ g(τ)`, with `τ` the simulated value's
//! percentage rank within its group and `g` the factors interpolated over the quantile nodes, so the model's change
//! between hist and sim is kept quantile by quantile.

use super::grouping::Groups;
use super::rank_steps::{RankStepScratch, adjust_by_rank_thresholds};
use super::statistics::{Scratch, average_ranks_into, rescale_percentage_ranks};
use super::{AdjustOptions, Interp, TrainOptions, TrainedModel, UniformSource, XsdbaMethod, train_model, trained_api};
use crate::error::Result;
use crate::series::TimeSeries;

/// xsdba's `QuantileDeltaMapping` (with `rank_window=False`, its 0.7 default: ranks within exact groups).
#[derive(Debug, Clone, Copy, Default)]
pub struct QuantileDeltaMapping;

impl QuantileDeltaMapping {
    /// The same training as EQM (xsdba's QDM inherits it); the factors are then looked up by quantile.
    pub fn train(
        options: &TrainOptions,
        reference: TimeSeries,
        hist: TimeSeries,
        random: &mut impl UniformSource,
    ) -> Result<TrainedQuantileDeltaMapping> {
        Ok(TrainedQuantileDeltaMapping {
            model: train_model(XsdbaMethod::QuantileDelta, options, reference, hist, random)?,
        })
    }
}

/// What QDM learnt from one training: apply it to any number of simulated series.
#[derive(Debug, Clone)]
pub struct TrainedQuantileDeltaMapping {
    model: TrainedModel,
}

trained_api!(TrainedQuantileDeltaMapping);

impl TrainedQuantileDeltaMapping {
    fn adjust_prepared(&self, _sim: &TimeSeries, values: &[f64], groups: &Groups, options: &AdjustOptions) -> Vec<f64> {
        let kind = self.model.kind;
        let mut out = vec![f64::NAN; values.len()];
        let (mut group_values, mut adjusted) = (Vec::new(), Vec::new());
        let (mut scratch, mut rank_steps, mut ranks) = (Scratch::default(), RankStepScratch::default(), Vec::new());
        for (key, members) in groups.iter() {
            let Some(group) = self.model.group(key) else {
                continue;
            };
            group_values.clear();
            group_values.extend(members.iter().map(|&i| values[i]));
            let by_thresholds = options.interp == Interp::Nearest
                && adjust_by_rank_thresholds(
                    &group_values,
                    &group.curve,
                    options.extrapolation,
                    kind,
                    &mut rank_steps,
                    &mut adjusted,
                );
            if !by_thresholds {
                let valid = average_ranks_into(&group_values, &mut scratch, &mut ranks);
                rescale_percentage_ranks(&mut ranks, valid);
                let lookup = group.curve.lookup(options.interp, options.extrapolation);
                adjusted.clear();
                adjusted.extend(
                    group_values
                        .iter()
                        .zip(&ranks)
                        .map(|(&value, &quantile)| kind.apply(value, lookup.factor(quantile))),
                );
            }
            for (&i, &value) in members.iter().zip(&adjusted) {
                out[i] = value;
            }
        }
        out
    }
}
