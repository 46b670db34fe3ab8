//! Logistic regression of precipitation occurrence (`y > thresh`) on the features, in the two forms GARD's
//! references use. They differ by a few percent of probability on small samples such as 200 analogues, so the
//! choice is the user's ([`Logistic`]).
//!
//! Both are solved by Newton's method: the Hessian system of each step is solved with `faer`'s Cholesky
//! factorisation. The problems are small (one column per feature plus the intercept), so the iteration costs
//! little beside forming `XᵀVX`.

use faer::linalg::solvers::Solve;
use faer::{Mat, Side};
use ndarray::ArrayView2;

/// Which logistic model estimates the probability of exceeding the threshold.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Logistic {
    /// scikit-learn's `LogisticRegression(C=c)`; its default `C = 1` is what scikit-downscale (and so CarbonPlan's
    /// GARD) used: an L2 penalty `‖w‖²/(2C)` on the feature weights, the intercept not penalised. This fit solves the
    /// same strictly convex problem to convergence, where scikit-learn's lbfgs stops at its `tol = 1e-4`: the two
    /// agree to about 1e-4 in probability (to 1e-6 when scikit-learn is run with a tight tolerance).
    Penalised {
        /// The inverse penalty strength (positive; larger is weaker).
        c: f64,
    },
    /// NCAR GARD's unregularised maximum-likelihood fit by iteratively reweighted least squares, with its
    /// safeguards: the linear predictor is clamped at -80; the iteration stops when
    /// every coefficient moves by at most 1e-4, after 10 steps, or as soon as a probability exceeds 0.9999999
    /// (the likelihood has no maximum on separable data); when the step cannot be solved the intercept is
    /// `ln(ȳ/(1-ȳ))` and the weights 0.
    ///
    /// GARD's Fortran scales the rows of the step's least-squares problem by `p(1-p)` rather than its square
    /// root, so its iteration settles where `Σ p(1-p)(y-p)x = 0` instead of at the maximum of the likelihood.
    /// This fit takes the true Newton step, so it reaches the maximum-likelihood estimate the method describes
    /// (the one statsmodels' `Logit` finds).
    Irls,
}

impl Default for Logistic {
    /// scikit-learn's default, `C = 1`.
    fn default() -> Self {
        Logistic::Penalised { c: 1.0 }
    }
}
/// GARD's bound on the linear predictor, which keeps `exp(-η)` finite.
const LINEAR_PREDICTOR_FLOOR: f64 = -80.0;

/// Fitted logistic coefficients: the intercept first, then one weight per feature.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct LogisticFit {
    coefficients: Vec<f64>,
}

impl LogisticFit {
    /// Fits `P(wet[r] | x[r])` over the rows `rows` of `x` (`(sample, feature)`). Both classes must be present: the
    /// models handle a one-class sample first (as NCAR GARD does, with a probability of 1 when all are wet and 0
    /// when none is).
    pub(crate) fn fit(logistic: Logistic, x: ArrayView2<'_, f64>, wet: &[bool], rows: &[usize]) -> LogisticFit {
        match logistic {
            Logistic::Penalised { c } => fit_penalised(x, wet, rows, 1.0 / c),
            Logistic::Irls => fit_irls(x, wet, rows),
        }
    }

    /// The probability of exceedance at one feature vector.
    pub(crate) fn probability(&self, features: impl IntoIterator<Item = f64>) -> f64 {
        let eta =
            self.coefficients[0] + features.into_iter().zip(&self.coefficients[1..]).map(|(x, w)| x * w).sum::<f64>();
        sigmoid(eta.max(LINEAR_PREDICTOR_FLOOR))
    }
}

fn sigmoid(eta: f64) -> f64 {
    1.0 / (1.0 + (-eta).exp())
}

/// The sample laid out for the iterations: each row's design (1 for the intercept, then the features) stored
/// contiguously, and its class.
struct Design {
    columns: usize,
    rows: Vec<f64>,
    wet: Vec<bool>,
}

impl Design {
    fn new(x: ArrayView2<'_, f64>, wet: &[bool], rows: &[usize]) -> Design {
        let columns = x.ncols() + 1;
        let mut design = Vec::with_capacity(rows.len() * columns);
        for &r in rows {
            design.push(1.0);
            design.extend(x.row(r).iter());
        }
        Design { columns, rows: design, wet: rows.iter().map(|&r| wet[r]).collect() }
    }

    fn wet_fraction(&self) -> f64 {
        self.wet.iter().filter(|&&w| w).count() as f64 / self.wet.len() as f64
    }
}

/// The penalised negative log-likelihood and its derivatives at one point, from one pass over the sample.
struct Evaluation {
    loss: f64,
    /// The gradient of the log-likelihood (the negated gradient of `loss`).
    ascent: Mat<f64>,
    hessian: Mat<f64>,
    /// The largest fitted probability (IRLS stops when it nears 1).
    largest_probability: f64,
}

impl Design {
    /// `loss = Σ -log P(class) + penalty·‖w‖²/2` (intercept excluded), its ascent direction `Xᵀ(y - p) - penalty·w`
    /// and Hessian `XᵀVX + penalty·I'`, `V = diag(p(1-p))`.
    fn evaluate(&self, beta: &[f64], penalty: f64) -> Evaluation {
        let columns = self.columns;
        let mut loss = 0.0;
        let mut ascent = vec![0.0; columns];
        let mut hessian = vec![0.0; columns * columns];
        let mut largest_probability = 0.0_f64;
        for (row, &wet) in self.rows.chunks_exact(columns).zip(&self.wet) {
            let eta: f64 = row.iter().zip(beta).map(|(x, b)| x * b).sum::<f64>().max(LINEAR_PREDICTOR_FLOOR);
            // η ≥ -80 keeps e^{-η} finite. -log P(wet) = log(1 + e^{-η}), -log P(dry) = that + η.
            let odds_against = (-eta).exp();
            let p = 1.0 / (1.0 + odds_against);
            largest_probability = largest_probability.max(p);
            loss += (1.0 + odds_against).ln() + if wet { 0.0 } else { eta };
            let residual = f64::from(u8::from(wet)) - p;
            let v = p * (1.0 - p);
            for a in 0..columns {
                ascent[a] += row[a] * residual;
                let weighted = v * row[a];
                for b in 0..=a {
                    hessian[a * columns + b] += weighted * row[b];
                }
            }
        }
        for a in 1..columns {
            loss += 0.5 * penalty * beta[a] * beta[a];
            ascent[a] -= penalty * beta[a];
            hessian[a * columns + a] += penalty;
        }
        Evaluation {
            loss,
            ascent: Mat::from_fn(columns, 1, |a, _| ascent[a]),
            hessian: Mat::from_fn(columns, columns, |a, b| hessian[a.max(b) * columns + a.min(b)]),
            largest_probability,
        }
    }
}

impl Evaluation {
    /// The Newton step, `None` when the Hessian is not positive definite (a solver failure).
    fn newton_step(&self) -> Option<Vec<f64>> {
        let step = self.hessian.llt(Side::Lower).ok()?.solve(&self.ascent);
        let step: Vec<f64> = (0..step.nrows()).map(|a| step[(a, 0)]).collect();
        step.iter().all(|s| s.is_finite()).then_some(step)
    }
}

/// The log-odds of a fraction: the intercept of a model with no weights that fits it.
fn log_odds(fraction: f64) -> f64 {
    (fraction / (1.0 - fraction)).ln()
}

/// scikit-learn's problem solved to convergence. The objective is strictly convex in the weights and, with both
/// classes present, in the intercept, so Newton's method with step halving reaches its unique minimum. It starts
/// from the intercept-only fit, which saves the first step or two.
fn fit_penalised(x: ArrayView2<'_, f64>, wet: &[bool], rows: &[usize], penalty: f64) -> LogisticFit {
    const MAX_STEPS: usize = 100;
    const TOLERANCE: f64 = 1e-10;
    const QUADRATIC_STOP: f64 = 1e-4;
    let design = Design::new(x, wet, rows);
    let mut beta = vec![0.0; design.columns];
    beta[0] = log_odds(design.wet_fraction());
    let mut here = design.evaluate(&beta, penalty);
    for _ in 0..MAX_STEPS {
        let Some(step) = here.newton_step() else { break };
        let size = beta.iter().map(|b| b.abs()).fold(1.0, f64::max);
        if step.iter().all(|s| s.abs() <= TOLERANCE * size) {
            // Converged: the full step is below rounding, where comparing losses would only compare noise.
            for (b, s) in beta.iter_mut().zip(&step) {
                *b += s;
            }
            break;
        }
        let mut scale = 1.0;
        loop {
            let candidate: Vec<f64> = beta.iter().zip(&step).map(|(b, s)| b + scale * s).collect();
            let there = design.evaluate(&candidate, penalty);
            // The losses are sums over thousands of days: allow for their rounding.
            if there.loss <= here.loss + 1e-12 * here.loss.abs() || scale < 1e-10 {
                beta = candidate;
                here = there;
                break;
            }
            scale *= 0.5;
        }
        // Newton's error after a full step is of the order of the step squared: after a step below 1e-4 the
        // coefficients are within about 1e-8 of the optimum, far inside the 1e-6 the probabilities are held to, and
        // another pass over the sample would only confirm it.
        if scale == 1.0 && step.iter().all(|s| s.abs() <= QUADRATIC_STOP * size) {
            break;
        }
    }
    LogisticFit { coefficients: beta }
}

/// NCAR GARD's unregularised IRLS and its safeguards ([`Logistic::Irls`]).
fn fit_irls(x: ArrayView2<'_, f64>, wet: &[bool], rows: &[usize]) -> LogisticFit {
    const MAX_STEPS: usize = 10;
    const TOLERANCE: f64 = 1e-4;
    const DIVERGING: f64 = 0.9999999;
    let design = Design::new(x, wet, rows);
    let mut beta = vec![0.0; design.columns];
    for _ in 0..MAX_STEPS {
        let here = design.evaluate(&beta, 0.0);
        if here.largest_probability > DIVERGING {
            break;
        }
        let Some(step) = here.newton_step() else {
            let mut coefficients = vec![0.0; design.columns];
            coefficients[0] = log_odds(design.wet_fraction());
            return LogisticFit { coefficients };
        };
        for (b, s) in beta.iter_mut().zip(&step) {
            *b += s;
        }
        if step.iter().all(|s| s.abs() <= TOLERANCE) {
            break;
        }
    }
    LogisticFit { coefficients: beta }
}
