//! Ordinary least squares with an intercept, as scikit-learn's `LinearRegression` fits it: the features and the
//! target are centred on their means, the centred system is solved by least squares (a QR factorisation from
//! `faer`), and the intercept restores the means.
//!
//! A feature whose values are all identical carries no information and would make the centred system singular.
//! scikit-learn's solver (LAPACK `gelsd`, a minimum-norm solution) gives such a feature a coefficient of zero; so
//! does this fit, by leaving the feature out of the solve.

use faer::Mat;
use faer::linalg::solvers::SolveLstsq;
use ndarray::ArrayView2;

/// A fitted line (plane): `intercept + Σ coefficients[j]·x[j]`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct LinearFit {
    intercept: f64,
    coefficients: Vec<f64>,
}

impl LinearFit {
    /// The least-squares fit of `y` on the rows of `x` listed in `rows` (`x` is `(sample, feature)`). `rows` must
    /// not be empty.
    pub(crate) fn fit(x: ArrayView2<'_, f64>, y: &[f64], rows: &[usize]) -> LinearFit {
        let features = x.ncols();
        let n = rows.len() as f64;
        let y_mean = rows.iter().map(|&r| y[r]).sum::<f64>() / n;
        let x_means: Vec<f64> = (0..features).map(|j| rows.iter().map(|&r| x[[r, j]]).sum::<f64>() / n).collect();
        let varying: Vec<usize> =
            (0..features).filter(|&j| rows.iter().any(|&r| x[[r, j]] != x[[rows[0], j]])).collect();
        let mut coefficients = vec![0.0; features];
        if !varying.is_empty() && rows.len() > 1 {
            let design = Mat::from_fn(rows.len(), varying.len(), |i, k| x[[rows[i], varying[k]]] - x_means[varying[k]]);
            let target = Mat::from_fn(rows.len(), 1, |i, _| y[rows[i]] - y_mean);
            let solution = design.col_piv_qr().solve_lstsq(&target);
            for (k, &j) in varying.iter().enumerate() {
                coefficients[j] = solution[(k, 0)];
            }
        }
        let intercept = y_mean - x_means.iter().zip(&coefficients).map(|(m, c)| m * c).sum::<f64>();
        LinearFit { intercept, coefficients }
    }

    /// The fitted value at one feature vector.
    pub(crate) fn predict(&self, features: impl IntoIterator<Item = f64>) -> f64 {
        self.intercept + features.into_iter().zip(&self.coefficients).map(|(x, c)| x * c).sum::<f64>()
    }

    /// Root-mean-square residual over `rows`, the models' `prediction_error` (scikit-learn's
    /// `mean_squared_error(..., squared=False)`).
    pub(crate) fn rmse(&self, x: ArrayView2<'_, f64>, y: &[f64], rows: &[usize]) -> f64 {
        let sum: f64 = rows
            .iter()
            .map(|&r| {
                let residual = y[r] - self.predict(x.row(r).iter().copied());
                residual * residual
            })
            .sum();
        (sum / rows.len() as f64).sqrt()
    }
}
