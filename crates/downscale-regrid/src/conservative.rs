//! First-order conservative weights between rectilinear grids on the sphere.
//!
//! On a latitude/longitude grid a cell is bounded by two meridians and two parallels, so the area shared by a
//! source and a target cell is exactly `Δλ_overlap · (sin φ_top − sin φ_bottom)_overlap` on the unit sphere: no
//! polygon clipping is needed. A target value is the area-weighted mean of the valid source cells it overlaps
//! (renormalised over valid cells when applied, NaN when none is valid), which preserves area integrals.

use crate::error::Result;
use crate::grid::Grid;
use crate::weights::{RegridMethod, Weights};

/// Overlaps of the interval `[low, high]` with every cell of an ascending edge list: `(cell, overlap length)`.
fn overlaps(edges: &[f64], low: f64, high: f64) -> impl Iterator<Item = (usize, f64, f64)> + '_ {
    let first = edges.partition_point(|&e| e <= low).saturating_sub(1);
    (first..edges.len() - 1).take_while(move |&k| edges[k] < high).filter_map(move |k| {
        let (a, b) = (edges[k].max(low), edges[k + 1].min(high));
        (b > a).then_some((k, a, b))
    })
}

/// Longitude overlaps of target interval `[west, east]` with the source cells, in degrees. On a periodic source
/// the interval is taken modulo 360 and may wrap across the seam.
fn longitude_overlaps(source: &Grid, west: f64, east: f64) -> Vec<(usize, f64)> {
    let edges = &source.lon_edges;
    let start = edges[0];
    let mut result = Vec::new();
    if source.periodic {
        let shift = (west - start).div_euclid(360.0) * 360.0;
        // The interval, shifted into [start, start + 360), can spill into the next turn.
        for turn in [0.0, 360.0] {
            let (low, high) = (west - shift - turn, east - shift - turn);
            result.extend(overlaps(edges, low, high).map(|(k, a, b)| (k, b - a)));
        }
    } else {
        for turn in [-360.0, 0.0, 360.0] {
            result.extend(overlaps(edges, west + turn, east + turn).map(|(k, a, b)| (k, b - a)));
        }
    }
    result
}

/// Conservative weights from `source` to `target`. Each weight is the overlap area divided by the target cell's
/// area (cdo's `fracarea` normalisation), so a target fully covered by valid sources has weights summing to one.
pub fn conservative_weights(source: &Grid, target: &Grid) -> Result<Weights> {
    let nx_source = source.lon.len();
    let nx_target = target.lon.len();
    let sin = |deg: f64| deg.to_radians().sin();
    let mut triplets = Vec::new();
    for (i, lat) in target.lat_edges.windows(2).enumerate() {
        let lat_parts: Vec<(usize, f64)> =
            overlaps(&source.lat_edges, lat[0], lat[1]).map(|(k, a, b)| (k, sin(b) - sin(a))).collect();
        if lat_parts.is_empty() {
            continue;
        }
        let target_band = sin(lat[1]) - sin(lat[0]);
        for (j, lon) in target.lon_edges.windows(2).enumerate() {
            let lon_parts = longitude_overlaps(source, lon[0], lon[1]);
            let target_area = (lon[1] - lon[0]).to_radians() * target_band;
            let row = i * nx_target + j;
            for &(y, band) in &lat_parts {
                for &(x, width) in &lon_parts {
                    let area = width.to_radians() * band;
                    triplets.push((row, y * nx_source + x, area / target_area));
                }
            }
        }
    }
    Ok(Weights::from_triplets(RegridMethod::Conservative, source.shape(), target.shape(), &triplets))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interval_overlaps() {
        let edges = [0.0, 1.0, 2.0, 4.0];
        let found: Vec<_> = overlaps(&edges, 0.5, 3.0).collect();
        assert_eq!(found, vec![(0, 0.5, 1.0), (1, 1.0, 2.0), (2, 2.0, 3.0)]);
        assert_eq!(overlaps(&edges, 4.0, 5.0).count(), 0);
    }

    #[test]
    fn weights_of_a_covered_target_sum_to_one() {
        let source = Grid::global(10.0).unwrap();
        let target = Grid::global(15.0).unwrap();
        let weights = conservative_weights(&source, &target).unwrap();
        for row in weights.matrix.outer_iterator() {
            let sum: f64 = row.data().iter().sum();
            assert!((sum - 1.0).abs() < 1e-12, "{sum}");
        }
    }
}
