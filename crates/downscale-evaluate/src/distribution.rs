//! Distributions of daily values over land: counts of the days × land cells in fixed bins, for the observations
//! and each product on the days compared, drawn as the report's histograms.
//!
//! The bins are fixed by the quantity rather than by the data, so they are known before the single pass over the
//! fields and the same in every report: temperatures in 0.5 K bins over the physically possible [180, 340] K,
//! precipitation in bins widening with the amount (a trace, light, moderate and heavy rain each get several).
//! Values beyond the outer edges count in the outer bins.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::metrics::Quantity;
use crate::qa::{MAX_TEMPERATURE_K, MIN_TEMPERATURE_K};

/// Width of a temperature bin, K.
const TEMPERATURE_BIN_K: f64 = 0.5;

/// Edges of the precipitation bins, mm day-1.
const PRECIPITATION_EDGES_MM: [f64; 22] = [
    0.0, 0.1, 0.5, 1.0, 2.0, 3.0, 5.0, 7.5, 10.0, 15.0, 20.0, 30.0, 40.0, 50.0, 75.0, 100.0, 150.0, 200.0, 300.0,
    500.0, 1000.0, 3000.0,
];

/// Counts of daily values in bins, per source.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Distribution {
    /// Bin edges, ascending; bin k holds values in [edges[k], edges[k + 1]), the last bin its upper edge too.
    pub edges: Vec<f64>,
    /// Counts per bin of the observations (`observed`) and of each product, by name.
    pub counts: BTreeMap<String, Vec<u64>>,
}

/// The bin edges for a quantity; `None` for quantities without fixed bins.
pub(crate) fn edges(quantity: Quantity) -> Option<Vec<f64>> {
    match quantity {
        Quantity::Temperature => {
            let bins = ((f64::from(MAX_TEMPERATURE_K) - f64::from(MIN_TEMPERATURE_K)) / TEMPERATURE_BIN_K) as usize;
            Some((0..=bins).map(|k| f64::from(MIN_TEMPERATURE_K) + k as f64 * TEMPERATURE_BIN_K).collect())
        }
        Quantity::Precipitation => Some(PRECIPITATION_EDGES_MM.to_vec()),
        Quantity::Other => None,
    }
}

/// Adds the ascending finite values `sorted` to `counts` (one per bin of `edges`), walking values and edges
/// together.
pub(crate) fn count_sorted_into(counts: &mut [u64], edges: &[f64], sorted: &[f32]) {
    let last = counts.len() - 1;
    let mut bin = 0;
    for &value in sorted {
        let value = f64::from(value);
        while bin < last && value >= edges[bin + 1] {
            bin += 1;
        }
        counts[bin] += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_fall_in_half_open_bins_and_outliers_in_the_outer_ones() {
        let bins = [0.0, 1.0, 2.0, 3.0];
        let mut counts = [0; 3];
        count_sorted_into(&mut counts, &bins, &[-5.0, 0.0, 0.5, 1.0, 2.99, 3.0, 99.0]);
        assert_eq!(counts, [3, 1, 3]);
        assert_eq!(edges(Quantity::Temperature).unwrap().len(), 321);
    }
}
