//! Polygons that cross the antimeridian, made continuous so that planar point-in-polygon tests are right.
//!
//! TopoJSON (world-atlas) keeps spherical rings: a ring that crosses the antimeridian steps from +179.9° to
//! -179.9°, a short edge on the sphere but, read as planar, an edge across the whole globe. Such a ring cuts a band
//! of false land (or false sea) along its latitude and, in a polygon with holes, undoes the holes (the Caspian Sea
//! became land). Natural Earth's own shapefiles avoid this by cutting polygons at ±180°; here each ring is instead
//! unwrapped (every step of more than 180° is undone by adding ∓360° to the rest of the ring), which is the same
//! surface without new edges along the cut; the query side tries each point at its longitude and 360° east and west.
//!
//! A ring that goes round a pole (Antarctica, whose coast crosses the antimeridian at -84.35° and whose steps
//! therefore do not cancel) is unwrapped the same way and then closed through the pole, as Natural Earth's
//! shapefile closes it; read as planar, its own closing edge would leave everything south of -84.35° as sea.
//! Centres exactly on lon ±180° south of that coast lie on the closing meridian, a boundary, and count as sea, as
//! they do with the shapefile in shapely.

use geo::{Coord, LineString, Polygon};

/// The polygon with each ring made continuous and shifted by a multiple of 360° so that the exterior's west end
/// lies in `[west, west + 360)`; holes are shifted to lie within their exterior.
pub(crate) fn continuous(polygon: &Polygon<f64>, west: f64) -> Polygon<f64> {
    let Some(mut exterior) = unwrap_ring(polygon.exterior()) else { return polygon.clone() };
    let (min, max) = x_range(&exterior);
    let by = -360.0 * ((min - west) / 360.0).floor();
    shift(&mut exterior, by);
    let centre = 0.5 * (min + max) + by;
    let holes = polygon
        .interiors()
        .iter()
        .map(|ring| {
            let Some(mut hole) = unwrap_ring(ring) else { return ring.clone() };
            let (lo, hi) = x_range(&hole);
            shift(&mut hole, 360.0 * ((centre - 0.5 * (lo + hi)) / 360.0).round());
            hole
        })
        .collect();
    Polygon::new(exterior, holes)
}

/// The ring with every longitude step of more than 180° undone. When the steps do not cancel, the ring goes round
/// a pole (the one on the side of its mean latitude) and is closed through it, along the meridians of its two
/// ends. `None` for an empty ring.
fn unwrap_ring(ring: &LineString<f64>) -> Option<LineString<f64>> {
    let first = *ring.0.first()?;
    let mut offset = 0.0;
    let mut previous = first.x;
    let mut coords = Vec::with_capacity(ring.0.len() + 3);
    for c in &ring.0 {
        let step = c.x - previous;
        if step > 180.0 {
            offset -= 360.0;
        } else if step < -180.0 {
            offset += 360.0;
        }
        previous = c.x;
        coords.push(Coord { x: c.x + offset, y: c.y });
    }
    let last = *coords.last()?;
    if (last.x - first.x).abs() > 180.0 {
        let mean_lat = coords.iter().map(|c| c.y).sum::<f64>() / coords.len() as f64;
        let pole = if mean_lat < 0.0 { -90.0 } else { 90.0 };
        coords.extend([Coord { x: last.x, y: pole }, Coord { x: first.x, y: pole }, first]);
    }
    Some(LineString::new(coords))
}

fn x_range(ring: &LineString<f64>) -> (f64, f64) {
    ring.0.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), c| (lo.min(c.x), hi.max(c.x)))
}

fn shift(ring: &mut LineString<f64>, by: f64) {
    if by != 0.0 {
        ring.0.iter_mut().for_each(|c| c.x += by);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ring(xy: &[(f64, f64)]) -> LineString<f64> {
        LineString::new(xy.iter().map(|&(x, y)| Coord { x, y }).collect())
    }

    #[test]
    fn a_ring_across_the_antimeridian_becomes_continuous() {
        // An island from 179 to -179 (181), as TopoJSON stores it.
        let island =
            Polygon::new(ring(&[(179.0, 0.0), (-179.0, 0.0), (-179.0, 1.0), (179.0, 1.0), (179.0, 0.0)]), vec![]);
        let fixed = continuous(&island, -180.0);
        let xs: Vec<f64> = fixed.exterior().0.iter().map(|c| c.x).collect();
        assert_eq!(xs, [179.0, 181.0, 181.0, 179.0, 179.0]);
        // Starting on the west side gives the same place.
        let island =
            Polygon::new(ring(&[(-179.0, 0.0), (-179.0, 1.0), (179.0, 1.0), (179.0, 0.0), (-179.0, 0.0)]), vec![]);
        let xs: Vec<f64> = continuous(&island, -180.0).exterior().0.iter().map(|c| c.x).collect();
        assert_eq!(xs, [181.0, 181.0, 179.0, 179.0, 181.0]);
    }

    #[test]
    fn a_ring_round_the_pole_is_closed_through_it() {
        let polar = Polygon::new(ring(&[(-180.0, -80.0), (0.0, -70.0), (179.0, -80.0), (-180.0, -80.0)]), vec![]);
        let xy: Vec<(f64, f64)> = continuous(&polar, -180.0).exterior().0.iter().map(|c| (c.x, c.y)).collect();
        assert_eq!(
            xy,
            [
                (-180.0, -80.0),
                (0.0, -70.0),
                (179.0, -80.0),
                (180.0, -80.0),
                (180.0, -90.0),
                (-180.0, -90.0),
                (-180.0, -80.0)
            ]
        );
    }

    #[test]
    fn ordinary_rings_are_kept() {
        let square = Polygon::new(
            ring(&[(0.0, 0.0), (10.0, 0.0), (10.0, 10.0), (0.0, 10.0), (0.0, 0.0)]),
            vec![ring(&[(2.0, 2.0), (3.0, 2.0), (3.0, 3.0), (2.0, 2.0)])],
        );
        assert_eq!(continuous(&square, -180.0), square);
    }
}
