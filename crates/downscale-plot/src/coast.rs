//! Coastlines: the boundaries of land polygons, cut to a map's box.

use downscale_regrid::Grid;
use downscale_regrid::mask::LandPolygons;
use geo::LineString;

use crate::error::{PlotError, Result};
use crate::select::Field;

/// A point in degrees: `(longitude, latitude)`.
pub(crate) type LonLat = (f64, f64);

/// A map's longitude/latitude box (degrees; west < east, south < north).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Bounds {
    pub(crate) west: f64,
    pub(crate) east: f64,
    pub(crate) south: f64,
    pub(crate) north: f64,
}

/// One boundary ring with its extent, so that rings far from a map are skipped without looking at their points.
#[derive(Debug, Clone)]
struct Ring {
    points: Vec<LonLat>,
    west: f64,
    east: f64,
    south: f64,
    north: f64,
}

/// The coastlines to draw on maps: every ring (outer boundaries and holes) of a set of land polygons. Kept apart
/// from the maps so that a server loads them once and draws them on every map, whatever its box.
#[derive(Debug, Clone, Default)]
pub struct Coastlines {
    rings: Vec<Ring>,
}

impl Coastlines {
    /// The boundaries of `land`'s polygons.
    pub fn from_land(land: &LandPolygons) -> Coastlines {
        let rings = land
            .polygons()
            .iter()
            .flat_map(|polygon| std::iter::once(polygon.exterior()).chain(polygon.interiors()))
            .filter_map(ring)
            .collect();
        Coastlines { rings }
    }

    /// The vendored Natural Earth 1:10m coastlines near `field`'s grid: reading only the polygons within a degree
    /// of its box keeps a regional map from indexing the whole world's coasts.
    pub fn natural_earth_near(field: &Field) -> Result<Coastlines> {
        let bounds = crate::map::field_bounds(field);
        // The box's corners as a two-by-two grid: only the grid's extent decides which polygons are kept.
        let corners = Grid::from_centres(
            &field.name,
            vec![bounds.south.max(-90.0), bounds.north.min(90.0)],
            vec![bounds.west, bounds.east],
        )
        .map_err(|e| PlotError::Coastlines(e.to_string()))?;
        let land =
            LandPolygons::natural_earth_10m_near(&corners, 1.0).map_err(|e| PlotError::Coastlines(e.to_string()))?;
        Ok(Coastlines::from_land(&land))
    }

    /// The parts of every ring inside `bounds`, as polylines. Rings are tried 360° east and west too: land polygons
    /// may run past ±180° where they cross the antimeridian, and a map may lie on either side of it.
    pub(crate) fn clipped(&self, bounds: &Bounds) -> Vec<Vec<LonLat>> {
        let mut lines = Vec::new();
        for ring in &self.rings {
            for shift in [-360.0, 0.0, 360.0] {
                let overlaps = ring.west + shift <= bounds.east
                    && ring.east + shift >= bounds.west
                    && ring.south <= bounds.north
                    && ring.north >= bounds.south;
                if overlaps {
                    let shifted: Vec<LonLat> = ring.points.iter().map(|&(x, y)| (x + shift, y)).collect();
                    lines.extend(clip_polyline(&shifted, bounds));
                }
            }
        }
        lines
    }
}

/// A ring's points and extent; `None` for a ring without points.
fn ring(line: &LineString<f64>) -> Option<Ring> {
    let points: Vec<LonLat> = line.coords().map(|c| (c.x, c.y)).collect();
    let first = *points.first()?;
    let fold = |(w, e, s, n): (f64, f64, f64, f64), &(x, y): &LonLat| (w.min(x), e.max(x), s.min(y), n.max(y));
    let (west, east, south, north) = points.iter().fold((first.0, first.0, first.1, first.1), fold);
    Some(Ring { points, west, east, south, north })
}

/// The pieces of the polyline `points` inside `bounds`: a new piece starts wherever the line comes back in.
pub(crate) fn clip_polyline(points: &[LonLat], bounds: &Bounds) -> Vec<Vec<LonLat>> {
    let mut pieces = Vec::new();
    let mut current: Vec<LonLat> = Vec::new();
    for pair in points.windows(2) {
        let Some((start, end, entered, left)) = clip_segment(pair[0], pair[1], bounds) else {
            if current.len() >= 2 {
                pieces.push(std::mem::take(&mut current));
            }
            current.clear();
            continue;
        };
        if entered && current.len() >= 2 {
            pieces.push(std::mem::take(&mut current));
        }
        if entered || current.is_empty() {
            current = vec![start];
        }
        current.push(end);
        if left {
            pieces.push(std::mem::take(&mut current));
        }
    }
    if current.len() >= 2 {
        pieces.push(current);
    }
    pieces
}

/// The part of the segment `a`–`b` inside `bounds` (Liang–Barsky), and whether the segment enters from outside
/// and leaves to the outside; `None` when no part is inside.
fn clip_segment(a: LonLat, b: LonLat, bounds: &Bounds) -> Option<(LonLat, LonLat, bool, bool)> {
    let (dx, dy) = (b.0 - a.0, b.1 - a.1);
    let (mut enter, mut leave) = (0.0f64, 1.0f64);
    let edges =
        [(-dx, a.0 - bounds.west), (dx, bounds.east - a.0), (-dy, a.1 - bounds.south), (dy, bounds.north - a.1)];
    for (direction, distance) in edges {
        if direction == 0.0 {
            if distance < 0.0 {
                return None;
            }
            continue;
        }
        let crossing = distance / direction;
        if direction < 0.0 {
            enter = enter.max(crossing);
        } else {
            leave = leave.min(crossing);
        }
        if enter > leave {
            return None;
        }
    }
    let at = |t: f64| (a.0 + t * dx, a.1 + t * dy);
    Some((at(enter), at(leave), enter > 0.0, leave < 1.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    const BOX: Bounds = Bounds { west: 0.0, east: 10.0, south: 0.0, north: 10.0 };

    #[test]
    fn segments_are_cut_at_the_box() {
        assert_eq!(clip_segment((-5.0, 5.0), (15.0, 5.0), &BOX), Some(((0.0, 5.0), (10.0, 5.0), true, true)));
        assert_eq!(clip_segment((2.0, 2.0), (3.0, 3.0), &BOX), Some(((2.0, 2.0), (3.0, 3.0), false, false)));
        assert_eq!(clip_segment((5.0, 5.0), (5.0, 20.0), &BOX), Some(((5.0, 5.0), (5.0, 10.0), false, true)));
        assert_eq!(clip_segment((-5.0, 0.0), (0.0, -5.0), &BOX), None, "passes outside the corner");
        assert_eq!(clip_segment((11.0, 1.0), (11.0, 9.0), &BOX), None, "parallel to an edge, outside");
    }

    #[test]
    fn polylines_split_where_they_leave_the_box() {
        // In, out across the east edge, back in, and a last stretch wholly outside.
        let line = [(1.0, 1.0), (5.0, 1.0), (15.0, 1.0), (15.0, 5.0), (5.0, 5.0), (5.0, 8.0), (20.0, 20.0)];
        let pieces = clip_polyline(&line, &BOX);
        assert_eq!(pieces.len(), 2, "{pieces:?}");
        assert_eq!(pieces[0], vec![(1.0, 1.0), (5.0, 1.0), (10.0, 1.0)]);
        assert_eq!(pieces[1][..3], [(10.0, 5.0), (5.0, 5.0), (5.0, 8.0)]);
        let last = pieces[1][3];
        assert!((last.0 - 7.5).abs() < 1e-12 && (last.1 - 10.0).abs() < 1e-12, "{last:?}");
        assert!(clip_polyline(&[(20.0, 20.0), (30.0, 30.0)], &BOX).is_empty());
    }

    #[test]
    fn rings_past_the_antimeridian_reach_maps_on_the_other_side() {
        let ring = LineString::from(vec![(175.0, 1.0), (185.0, 1.0), (185.0, 3.0), (175.0, 3.0), (175.0, 1.0)]);
        let island = geo::Polygon::new(ring, Vec::new());
        let land = LandPolygons::from_polygons("island", vec![island]).unwrap();
        let coast = Coastlines::from_land(&land);
        let east_of_dateline = Bounds { west: -180.0, east: -170.0, south: 0.0, north: 5.0 };
        let pieces = coast.clipped(&east_of_dateline);
        assert!(!pieces.is_empty());
        assert!(pieces.iter().flatten().all(|&(x, y)| (-180.0..=-175.0).contains(&x) && (1.0..=3.0).contains(&y)));
        assert!(coast.clipped(&Bounds { west: 0.0, east: 10.0, south: 0.0, north: 5.0 }).is_empty());
    }

    #[test]
    fn natural_earth_coasts_stay_inside_the_box() {
        let field = Field {
            name: "tas".into(),
            units: "K".into(),
            period: "test".into(),
            lat: vec![36.0, 44.0],
            lon: vec![-9.0, 3.0],
            values: ndarray::Array2::zeros((2, 2)),
        };
        let coast = Coastlines::natural_earth_near(&field).unwrap();
        let bounds = crate::map::field_bounds(&field);
        let pieces = coast.clipped(&bounds);
        let points: usize = pieces.iter().map(Vec::len).sum();
        assert!(points > 1000, "Iberia's coast has many points: {points}");
        let inside = |&(x, y): &LonLat| {
            x >= bounds.west - 1e-9 && x <= bounds.east + 1e-9 && y >= bounds.south - 1e-9 && y <= bounds.north + 1e-9
        };
        assert!(pieces.iter().flatten().all(inside));
    }
}
