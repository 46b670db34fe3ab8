//! Bilinear weights on rectilinear grids, with nearest-neighbour extrapolation outside the source hull.
//!
//! Inside the hull of source cell centres, a target value is the bilinear interpolation in (longitude, latitude)
//! degrees between the four surrounding centres — what `cdo remapbil` computes on lat/lon grids. Outside (beyond
//! the outer centres of a regional grid, or poleward of the outermost latitude row), xESMF's `nearest_s2d`
//! behaviour applies: the nearest source cell's value, or an error when extrapolation is not allowed.

use crate::error::{RegridError, Result};
use crate::grid::Grid;
use crate::nearest::NearestCells;
use crate::weights::{RegridMethod, Weights};

/// Where a coordinate falls on an ascending axis: between `lower` and `lower + 1` at `fraction`, or outside.
fn bracket(axis: &[f64], x: f64) -> Option<(usize, f64)> {
    let n = axis.len();
    if n < 2 || x < axis[0] || x > axis[n - 1] {
        return None;
    }
    let lower = axis.partition_point(|&a| a <= x).saturating_sub(1).min(n - 2);
    Some((lower, (x - axis[lower]) / (axis[lower + 1] - axis[lower])))
}

/// The two longitude neighbours of `lon` and the weight of the second, taking periodic grids across the seam.
fn bracket_longitude(source: &Grid, lon: f64) -> Option<(usize, usize, f64)> {
    let axis = &source.lon;
    let n = axis.len();
    // Bring the target into the source's frame: [first centre, first centre + 360).
    let shifted = axis[0] + (lon - axis[0]).rem_euclid(360.0);
    if let Some((i, fraction)) = bracket(axis, shifted) {
        return Some((i, i + 1, fraction));
    }
    if source.periodic && n >= 1 {
        // Between the last centre and the first centre of the next turn.
        let gap = axis[0] + 360.0 - axis[n - 1];
        return Some((n - 1, 0, (shifted - axis[n - 1]) / gap));
    }
    None
}

/// Bilinear weights from `source` to `target`; with `extrapolate`, targets outside the source hull take the
/// nearest source cell, otherwise they are an error.
pub fn bilinear_weights(source: &Grid, target: &Grid, extrapolate: bool) -> Result<Weights> {
    let nx_source = source.lon.len();
    let nx_target = target.lon.len();
    let mut nearest: Option<NearestCells> = None;
    let mut outside = 0usize;
    let mut triplets = Vec::with_capacity(4 * target.size());
    for (i, &lat) in target.lat.iter().enumerate() {
        let rows = bracket(&source.lat, lat);
        for (j, &lon) in target.lon.iter().enumerate() {
            let row = i * nx_target + j;
            match (rows, bracket_longitude(source, lon)) {
                (Some((y0, wy)), Some((x0, x1, wx))) => {
                    let y1 = y0 + 1;
                    for (y, x, w) in [
                        (y0, x0, (1.0 - wy) * (1.0 - wx)),
                        (y0, x1, (1.0 - wy) * wx),
                        (y1, x0, wy * (1.0 - wx)),
                        (y1, x1, wy * wx),
                    ] {
                        if w > 0.0 {
                            triplets.push((row, y * nx_source + x, w));
                        }
                    }
                }
                _ => {
                    outside += 1;
                    if extrapolate {
                        let cells = match &nearest {
                            Some(cells) => cells,
                            None => nearest.insert(NearestCells::new(source)?),
                        };
                        triplets.push((row, cells.nearest(lat, lon), 1.0));
                    }
                }
            }
        }
    }
    if outside > 0 && !extrapolate {
        return Err(RegridError::Other {
            what: target.name.clone(),
            detail: format!(
                "{outside} of {} target cells lie outside the source grid {} and extrapolation is off",
                target.size(),
                source.name
            ),
        });
    }
    Ok(Weights::from_triplets(RegridMethod::Bilinear, source.shape(), target.shape(), &triplets))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn brackets_ends_and_interior() {
        let axis = [0.0, 1.0, 3.0];
        assert_eq!(bracket(&axis, 0.0), Some((0, 0.0)));
        assert_eq!(bracket(&axis, 2.0), Some((1, 0.5)));
        assert_eq!(bracket(&axis, 3.0), Some((1, 1.0)));
        assert_eq!(bracket(&axis, 3.5), None);
        assert_eq!(bracket(&axis, -0.1), None);
    }

    #[test]
    fn periodic_seam_is_bridged() {
        let grid = Grid::global(90.0).unwrap(); // centres -135, -45, 45, 135
        let (a, b, w) = bracket_longitude(&grid, 180.0).unwrap();
        assert_eq!((a, b), (3, 0));
        assert!((w - 0.5).abs() < 1e-12);
        let (a, b, w) = bracket_longitude(&grid, 0.0).unwrap();
        assert_eq!((a, b), (1, 2));
        assert!((w - 0.5).abs() < 1e-12);
    }
}
