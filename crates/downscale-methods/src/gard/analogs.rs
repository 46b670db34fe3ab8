//! Analogue search: the training days whose features are nearest to a prediction day's, by Euclidean distance,
//! with a k-d tree from `kiddo` (scikit-downscale uses scikit-learn's `KDTree` the same way).
//!
//! When several training days lie at exactly the distance of the k-th analogue (duplicated rows, or a feature
//! such as a cube-rooted precipitation that is zero on many days), the reference's choice among them depends on
//! its tree's layout. Here it is defined: the earliest training days are taken. Everywhere else the analogue set
//! is the reference's.

use std::num::NonZero;

use kiddo::{ImmutableKdTree, SquaredEuclidean};
use ndarray::ArrayView2;

use crate::error::{MethodError, Result};

/// How features are compared in the analogue search.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum AnalogDistance {
    /// On the features as given (scikit-downscale): a feature with a larger spread weighs more.
    #[default]
    Raw,
    /// On features standardised by the training sample's mean and standard deviation, so each weighs the same (NCAR
    /// GARD standardises its predictors). A feature constant over the training sample is left out of the distance.
    Normalised,
}

/// The most features an analogue search takes: k-d trees lose their advantage over a scan beyond about ten
/// dimensions, and GARD's predictor sets are a handful of variables.
pub const MAX_ANALOG_FEATURES: usize = 8;

/// One analogue: the training row and its Euclidean distance (in the compared, possibly standardised, features).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Analog {
    pub(crate) row: usize,
    pub(crate) distance: f64,
}

macro_rules! trees {
    ($($variant:ident => $k:literal),* $(,)?) => {
        /// A k-d tree of the training rows, one variant per feature count (kiddo's dimension is a constant).
        enum Tree { $($variant(ImmutableKdTree<f64, $k>),)* }

        impl Tree {
            fn build(points: &[f64], features: usize) -> Tree {
                match features {
                    $($k => Tree::$variant(build::<$k>(points)),)*
                    _ => unreachable!("feature counts are checked against MAX_ANALOG_FEATURES"),
                }
            }

            /// `(training row, squared distance)` of the `k` nearest rows, ascending.
            fn nearest(&self, query: &[f64], k: NonZero<usize>) -> Vec<(usize, f64)> {
                match self { $(Tree::$variant(tree) => nearest::<$k>(tree, query, k),)* }
            }

            /// `(training row, squared distance)` of every row within `radius` (squared, inclusive).
            fn within(&self, query: &[f64], radius: f64) -> Vec<(usize, f64)> {
                match self { $(Tree::$variant(tree) => within::<$k>(tree, query, radius),)* }
            }
        }
    };
}

trees!(D1 => 1, D2 => 2, D3 => 3, D4 => 4, D5 => 5, D6 => 6, D7 => 7, D8 => 8);

fn point<const K: usize>(values: &[f64]) -> [f64; K] {
    std::array::from_fn(|i| values[i])
}

fn build<const K: usize>(points: &[f64]) -> ImmutableKdTree<f64, K> {
    let points: Vec<[f64; K]> = points.chunks_exact(K).map(point::<K>).collect();
    ImmutableKdTree::new_from_slice(&points).expect("finite training points fit a k-d tree")
}

fn nearest<const K: usize>(tree: &ImmutableKdTree<f64, K>, query: &[f64], k: NonZero<usize>) -> Vec<(usize, f64)> {
    tree.query(&point::<K>(query))
        .nearest_n::<SquaredEuclidean<f64>>(k)
        .execute()
        .into_iter()
        .map(|found| (found.item as usize, found.distance))
        .collect()
}

fn within<const K: usize>(tree: &ImmutableKdTree<f64, K>, query: &[f64], radius: f64) -> Vec<(usize, f64)> {
    tree.query(&point::<K>(query))
        .within::<SquaredEuclidean<f64>>(radius)
        .execute()
        .into_iter()
        .map(|found| (found.item as usize, found.distance))
        .collect()
}

/// The training sample's analogue index.
pub(crate) struct AnalogIndex {
    tree: Tree,
    /// Per feature `(centre, scale)` applied before comparing; `(0, 1)` for raw features.
    standardise: Vec<(f64, f64)>,
    /// Training row of each tree point (the tree holds only the rows with complete features).
    rows: Vec<usize>,
}

impl AnalogIndex {
    /// Indexes the training rows `rows` of `x` (`(sample, feature)`), whose features are all finite.
    pub(crate) fn new(x: ArrayView2<'_, f64>, rows: Vec<usize>, distance: AnalogDistance) -> Result<AnalogIndex> {
        let features = x.ncols();
        if features == 0 || features > MAX_ANALOG_FEATURES {
            return Err(MethodError::InvalidOption {
                method: "analogue search",
                message: format!("got {features} features; it takes 1 to {MAX_ANALOG_FEATURES}"),
            });
        }
        let standardise: Vec<(f64, f64)> = (0..features)
            .map(|j| match distance {
                AnalogDistance::Raw => (0.0, 1.0),
                AnalogDistance::Normalised => {
                    let n = rows.len() as f64;
                    let mean = rows.iter().map(|&r| x[[r, j]]).sum::<f64>() / n;
                    let variance = rows.iter().map(|&r| (x[[r, j]] - mean).powi(2)).sum::<f64>() / n;
                    // A constant feature is scaled to nothing rather than divided by zero.
                    (mean, if variance > 0.0 { variance.sqrt() } else { f64::INFINITY })
                }
            })
            .collect();
        let mut points = Vec::with_capacity(rows.len() * features);
        for &r in &rows {
            points.extend((0..features).map(|j| (x[[r, j]] - standardise[j].0) / standardise[j].1));
        }
        Ok(AnalogIndex { tree: Tree::build(&points, features), standardise, rows })
    }

    /// Number of training rows indexed.
    pub(crate) fn len(&self) -> usize {
        self.rows.len()
    }

    /// The `k` analogues of one feature vector (finite values), nearest first; `k` is at most [`Self::len`].
    pub(crate) fn analogs(&self, features: &[f64], k: NonZero<usize>) -> Vec<Analog> {
        let query: Vec<f64> =
            features.iter().zip(&self.standardise).map(|(value, (centre, scale))| (value - centre) / scale).collect();
        let take = k.get();
        // One more than needed shows whether the k-th analogue shares its distance with rows left out.
        let mut found = match NonZero::new(take + 1).filter(|more| more.get() <= self.len()) {
            Some(more) => self.tree.nearest(&query, more),
            None => self.tree.nearest(&query, k),
        };
        if found.len() > take && found[take].1 == found[take - 1].1 {
            found = self.tree.within(&query, found[take - 1].1);
        }
        found.sort_by(|a, b| a.1.total_cmp(&b.1).then(a.0.cmp(&b.0)));
        found.truncate(take);
        found.into_iter().map(|(point, squared)| Analog { row: self.rows[point], distance: squared.sqrt() }).collect()
    }
}
