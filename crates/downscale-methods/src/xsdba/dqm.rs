//! Detrended quantile mapping (xsdba `DetrendedQuantileMapping`, Cannon et al. 2015): factors trained on
//! mean-normalised samples; the simulation is scaled by the mean correction, its linear trend in time is removed per
//! group, the factors are applied to the detrended values, and the trend is put back.

use std::borrow::Cow;

use super::grouping::{Groups, window_length, window_means};
use super::{
    AdjustOptions, KindOps, TrainOptions, TrainedModel, UniformSource, XsdbaMethod, specialised, train_model,
    trained_api,
};
use crate::error::Result;
use crate::series::TimeSeries;
use crate::stats::Line;

/// xsdba's `DetrendedQuantileMapping` with its default detrending, `PolyDetrend(degree=1, preserve_mean=False)`.
#[derive(Debug, Clone, Copy, Default)]
pub struct DetrendedQuantileMapping;

impl DetrendedQuantileMapping {
    /// Per group: `ref_n = ref ⊖ mean(ref)` and `hist_n = hist ⊖ mean(hist)` (after frequency adaptation of hist),
    /// `af = corr(Q_hist_n(q_k), Q_ref_n(q_k))`, and `scaling = corr(mean(hist), mean(ref))`.
    pub fn train(
        options: &TrainOptions,
        reference: TimeSeries,
        hist: TimeSeries,
        random: &mut impl UniformSource,
    ) -> Result<TrainedDetrendedQuantileMapping> {
        Ok(TrainedDetrendedQuantileMapping {
            model: train_model(XsdbaMethod::Detrended, options, reference, hist, random)?,
        })
    }
}

/// What DQM learnt from one training: apply it to any number of simulated series.
#[derive(Debug, Clone)]
pub struct TrainedDetrendedQuantileMapping {
    model: TrainedModel,
}

trained_api!(TrainedDetrendedQuantileMapping);

impl TrainedDetrendedQuantileMapping {
    fn adjust_prepared(&self, sim: &TimeSeries, values: &[f64], groups: &Groups, options: &AdjustOptions) -> Vec<f64> {
        // One loop per kind and interpolation, so that the loop body tests neither.
        specialised!(self.model.kind, options.interp, |Ops, NEAREST| self
            .adjust_values::<Ops, NEAREST>(sim, values, groups, options))
    }

    /// Scales, detrends, adjusts and retrends every value; `NEAREST` is whether the interpolation is 'nearest'.
    #[inline(always)]
    fn adjust_values<Ops: KindOps, const NEAREST: bool>(
        &self,
        sim: &TimeSeries,
        values: &[f64],
        groups: &Groups,
        options: &AdjustOptions,
    ) -> Vec<f64> {
        let mut scaled = vec![f64::NAN; values.len()];
        for (key, members) in groups.iter() {
            if let Some(scaling) = self.model.group(key).and_then(|group| group.scaling) {
                for &i in members {
                    scaled[i] = Ops::apply(values[i], scaling);
                }
            }
        }
        // The series the trend is fitted to: with a day-of-year window, the window means around each step (xsdba's
        // `PolyDetrend` averages the window dimension away before fitting in time); otherwise the scaled values.
        let window = window_length(self.model.grouping);
        let fitted = if window > 1 { Cow::Owned(window_means(&scaled, window)) } else { Cow::Borrowed(&scaled) };
        let mut out = vec![f64::NAN; values.len()];
        for (key, members) in groups.iter() {
            let Some(group) = self.model.group(key) else {
                continue;
            };
            let line = fit_line(members, sim.days, &fitted);
            let lookup = group.curve.lookup(options.interp, options.extrapolation);
            for &i in members {
                let trend = line.at(sim.days[i]);
                let detrended = Ops::apply(scaled[i], Ops::invert(trend));
                let factor = lookup.factor_as::<NEAREST>(detrended);
                out[i] = Ops::apply(Ops::apply(detrended, factor), trend);
            }
        }
        out
    }
}

/// The least-squares line through `(days[i], values[i])` for the members with a valid value, computed about the means
/// as [`Line::fit`] does, without gathering the points. No valid value gives a NaN line, a single time a flat one.
fn fit_line(members: &[usize], days: &[f64], values: &[f64]) -> Line {
    let valid = || members.iter().copied().filter(|&i| !values[i].is_nan());
    let (mut sum_x, mut sum_y, mut count) = (0.0, 0.0, 0usize);
    for i in valid() {
        sum_x += days[i];
        sum_y += values[i];
        count += 1;
    }
    let (mean_x, mean_y) = (sum_x / count as f64, sum_y / count as f64);
    let (mut sxy, mut sxx) = (0.0, 0.0);
    for i in valid() {
        let dx = days[i] - mean_x;
        sxy += dx * (values[i] - mean_y);
        sxx += dx * dx;
    }
    let slope = if sxx > 0.0 { sxy / sxx } else { 0.0 };
    Line { intercept: mean_y - slope * mean_x, slope }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_streaming_fit_equals_the_shared_one() {
        let days = [0.0, 1.0, 2.0, 3.0, 4.0];
        let values = [1.0, f64::NAN, 2.5, 4.0, 4.5];
        let line = fit_line(&[0, 1, 2, 3, 4], &days, &values);
        assert_eq!(line, Line::fit(&[0.0, 2.0, 3.0, 4.0], &[1.0, 2.5, 4.0, 4.5]));
        assert!(fit_line(&[1], &days, &values).intercept.is_nan());
        assert_eq!(fit_line(&[2], &days, &values), Line { intercept: 2.5, slope: 0.0 });
    }
}
