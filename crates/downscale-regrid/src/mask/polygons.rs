//! Land polygons read from TopoJSON (the vendored Natural Earth 1:10m land) or GeoJSON (users' own polygons), with
//! the indexes that make rasterising them onto a global quarter-degree grid a matter of a fraction of a second in
//! an optimised build, rather than minutes of testing every polygon at every centre.

use std::path::{Path, PathBuf};

use geo::algorithm::indexed::IntervalTreeMultiPolygon;
use geo::orient::{Direction, Orient};
use geo::{BoundingRect, Coord, Line, LineString, MultiPolygon, Point, Polygon, Rect};
use rstar::RTree;
use rstar::primitives::GeomWithData;

use super::topojson::topojson_polygons;
use crate::Grid;
use crate::error::{RegridError, Result};

/// A polygon edge, tagged with the polygon it belongs to, for distance queries.
type Edge = GeomWithData<Line<f64>, u32>;
/// A polygon's bounding box, tagged with its position in `LandPolygons::indexed`.
type PolygonBox = GeomWithData<Rect<f64>, u32>;

/// Land as a set of polygons in longitude/latitude degrees, indexed for point-in-polygon and distance queries.
///
/// A point is land when any polygon contains it: overlapping polygons (a user's file may have them) are a union,
/// not an even-odd pattern. Rings are re-oriented on loading (exteriors counter-clockwise, holes clockwise), so
/// files in any orientation convention, such as TopoJSON's clockwise spherical rings, give the same answer.
///
/// GeoJSON and in-memory polygons are planar, as RFC 7946 defines them (an edge is a straight line in longitude/
/// latitude, and geometries crossing the antimeridian are cut there). TopoJSON rings follow d3's spherical
/// convention instead, and are converted on reading (see `mask/antimeridian.rs`).
pub struct LandPolygons {
    source: String,
    polygons: Vec<Polygon<f64>>,
    /// `geo`'s interval-tree point-in-polygon index of each polygon.
    indexed: Vec<IntervalTreeMultiPolygon<f64>>,
    boxes: RTree<PolygonBox>,
    edges: RTree<Edge>,
    /// Polygons given in 0..360 longitudes; grid longitudes are wrapped to match them.
    lon_0_360: bool,
    /// West and east ends of all polygons, beyond the convention's 360° where a polygon crosses the antimeridian.
    lon_range: (f64, f64),
}

/// A grid's longitude/latitude box widened by a margin, for keeping the polygons that can matter to it.
#[derive(Debug, Clone, Copy)]
struct Near {
    lon: (f64, f64),
    lat: (f64, f64),
}

impl Near {
    fn grid(grid: &Grid, margin: f64) -> Near {
        let margin = margin.max(0.0);
        let range = |values: &[f64]| {
            let (lo, hi) =
                values.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &v| (lo.min(v), hi.max(v)));
            (lo - margin, hi + margin)
        };
        Near { lon: range(&grid.lon), lat: range(&grid.lat) }
    }

    /// Whether any point of `polygon` may lie within the box, in either longitude convention: its bounding box
    /// overlaps the box when shifted by a multiple of 360° (the grid's longitudes are wrapped into the polygons'
    /// convention and tried 360° east and west, so a polygon farther than the margin from the box under every
    /// shift is farther than the margin from every centre). Closed intervals, so a touching box is kept.
    fn may_reach(&self, polygon: &Polygon<f64>) -> bool {
        let Some(bbox) = polygon.bounding_rect() else { return false };
        let overlaps = |(lo, hi): (f64, f64), (min, max): (f64, f64)| min <= hi && max >= lo;
        overlaps(self.lat, (bbox.min().y, bbox.max().y))
            && [-720.0, -360.0, 0.0, 360.0, 720.0]
                .iter()
                .any(|shift| overlaps(self.lon, (bbox.min().x + shift, bbox.max().x + shift)))
    }
}

impl std::fmt::Debug for LandPolygons {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LandPolygons")
            .field("source", &self.source)
            .field("polygons", &self.polygons.len())
            .field("edges", &self.edges.size())
            .finish()
    }
}

impl LandPolygons {
    /// The vendored Natural Earth 1:10m land polygons (Natural Earth 4.1.0 through world-atlas 2.0.2), read from
    /// [`LandPolygons::natural_earth_10m_path`].
    pub fn natural_earth_10m() -> Result<LandPolygons> {
        LandPolygons::from_topojson(LandPolygons::natural_earth_10m_path())
    }

    /// Where the vendored `land-10m.json` lies in this repository (see `data/static/README.md`). The path is
    /// compiled in, so that tests and tools run from a checkout need no configuration; a program installed
    /// elsewhere passes its own copy to [`LandPolygons::from_topojson`].
    pub fn natural_earth_10m_path() -> PathBuf {
        static_data_path("natural-earth/land-10m.json")
    }

    /// The vendored Natural Earth 1:10m land, keeping only the polygons within `margin` degrees of `grid`'s
    /// longitude/latitude box: masks of that grid with a buffer up to `margin` are the same as with every polygon,
    /// and a regional grid no longer pays for indexing the whole world's coastlines (most of a BCSD postprocess).
    pub fn natural_earth_10m_near(grid: &Grid, margin: f64) -> Result<LandPolygons> {
        LandPolygons::from_topojson_near(LandPolygons::natural_earth_10m_path(), grid, margin)
    }

    /// Polygons from every object of a TopoJSON topology (world-atlas files hold one object, `land`).
    pub fn from_topojson(path: impl AsRef<Path>) -> Result<LandPolygons> {
        LandPolygons::topojson(path.as_ref(), None)
    }

    /// [`LandPolygons::from_topojson`] keeping only the polygons near `grid` (see
    /// [`LandPolygons::natural_earth_10m_near`]).
    pub fn from_topojson_near(path: impl AsRef<Path>, grid: &Grid, margin: f64) -> Result<LandPolygons> {
        LandPolygons::topojson(path.as_ref(), Some(Near::grid(grid, margin)))
    }

    fn topojson(path: &Path, near: Option<Near>) -> Result<LandPolygons> {
        let what = path.display().to_string();
        let text = read_text(path)?;
        let polygons =
            topojson_polygons(&text).map_err(|detail| other(&what, &format!("not usable TopoJSON: {detail}")))?;
        LandPolygons::build(&what, polygons, true, near)
    }

    /// Polygons and multipolygons from a GeoJSON file (a feature collection, a feature or a bare geometry), for
    /// users who mask with their own coastline or domain. Points and lines are ignored: they enclose no area.
    pub fn from_geojson(path: impl AsRef<Path>) -> Result<LandPolygons> {
        let path = path.as_ref();
        let what = path.display().to_string();
        let text = read_text(path)?;
        let geojson: geojson::GeoJson = text.parse().map_err(|e| other(&what, &format!("not valid GeoJSON: {e}")))?;
        let mut polygons = Vec::new();
        let collected = match &geojson {
            geojson::GeoJson::Geometry(g) => collect_polygons(&g.value, &mut polygons),
            geojson::GeoJson::Feature(f) => {
                f.geometry.iter().try_for_each(|g| collect_polygons(&g.value, &mut polygons))
            }
            geojson::GeoJson::FeatureCollection(fc) => fc
                .features
                .iter()
                .filter_map(|f| f.geometry.as_ref())
                .try_for_each(|g| collect_polygons(&g.value, &mut polygons)),
        };
        collected.map_err(|detail| other(&what, &format!("not usable GeoJSON: {detail}")))?;
        LandPolygons::from_polygons(&what, polygons)
    }

    /// Land from planar polygons already in memory; `source` names them in messages.
    pub fn from_polygons(source: &str, polygons: Vec<Polygon<f64>>) -> Result<LandPolygons> {
        LandPolygons::build(source, polygons, false, None)
    }

    /// With `spherical_rings`, rings that cross the antimeridian by stepping from +180 to -180 (Chukotka, Wrangel
    /// Island and Fiji in world-atlas) are made continuous and a ring round a pole is closed through it; read as
    /// planar, they would cut bands across the whole globe.
    ///
    /// With `near`, only the polygons near that region are indexed (after the checks, which apply to all of them).
    fn build(
        source: &str,
        polygons: Vec<Polygon<f64>>,
        spherical_rings: bool,
        near: Option<Near>,
    ) -> Result<LandPolygons> {
        let polygons: Vec<Polygon<f64>> = polygons.into_iter().filter(|p| p.exterior().0.len() >= 3).collect();
        if polygons.is_empty() {
            return Err(other(source, "no polygons with an area"));
        }
        let coords = || polygons.iter().flat_map(|p| std::iter::once(p.exterior()).chain(p.interiors())).flatten();
        if !coords().all(|c| c.x.is_finite() && c.y.is_finite()) {
            return Err(other(source, "a polygon has a missing or infinite coordinate"));
        }
        // The same check regionmask makes: polygons in -180..180 or in 0..360, never a mixture of both.
        let (lon_min, lon_max) =
            coords().fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), c| (lo.min(c.x), hi.max(c.x)));
        if lon_min < -1e-6 && lon_max > 180.0 + 1e-6 {
            return Err(other(source, "polygon longitudes span both below 0 and above 180 degrees"));
        }
        let lon_0_360 = lon_max > 180.0 + 1e-6;
        let west = if lon_0_360 { 0.0 } else { -180.0 };
        let polygons: Vec<Polygon<f64>> = polygons
            .into_iter()
            .map(|p| if spherical_rings { super::antimeridian::continuous(&p, west) } else { p })
            .map(|p| p.orient(Direction::Default))
            .filter(|p| near.as_ref().is_none_or(|near| near.may_reach(p)))
            .collect();

        let mut indexed = Vec::with_capacity(polygons.len());
        let mut boxes = Vec::with_capacity(polygons.len());
        let mut edges = Vec::new();
        let mut lon_range = (f64::INFINITY, f64::NEG_INFINITY);
        for polygon in &polygons {
            let Some(bbox) = polygon.bounding_rect() else { continue };
            lon_range = (lon_range.0.min(bbox.min().x), lon_range.1.max(bbox.max().x));
            let id = indexed.len() as u32;
            boxes.push(GeomWithData::new(bbox, id));
            indexed.push(IntervalTreeMultiPolygon::new(&MultiPolygon::new(vec![polygon.clone()])));
            for ring in std::iter::once(polygon.exterior()).chain(polygon.interiors()) {
                edges.extend(ring.lines().map(|line| GeomWithData::new(line, id)));
            }
        }
        Ok(LandPolygons {
            source: source.to_string(),
            polygons,
            indexed,
            boxes: RTree::bulk_load(boxes),
            edges: RTree::bulk_load(edges),
            lon_0_360,
            lon_range,
        })
    }

    /// The file (or description) the polygons came from.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// The polygons as indexed: re-oriented (exteriors counter-clockwise) and, from TopoJSON, planar (a polygon
    /// crossing the antimeridian extends east of 180°).
    pub fn polygons(&self) -> &[Polygon<f64>] {
        &self.polygons
    }

    /// Whether a point (degrees east, degrees north, either longitude convention) lies strictly inside a polygon;
    /// a point on a boundary is not inside, as in shapely's `contains`. The point is also tried 360° east and
    /// west, where a polygon made continuous across the antimeridian may hold it.
    pub fn contains(&self, lon: f64, lat: f64) -> bool {
        self.copies(lon, 0.0).any(|x| {
            let point = Point::new(x, lat);
            self.boxes
                .locate_in_envelope_intersecting(&rstar::AABB::from_point(point))
                .any(|b| geo::Contains::contains(&self.indexed[b.data as usize], &point))
        })
    }

    /// Whether a point is within `distance` degrees (planar, in longitude/latitude) of any polygon edge; tried
    /// 360° east and west as well, like [`LandPolygons::contains`].
    pub fn near_edge(&self, lon: f64, lat: f64, distance: f64) -> bool {
        let squared = distance * distance;
        self.copies(lon, distance)
            .any(|x| self.edges.locate_within_distance(Point::new(x, lat), squared).next().is_some())
    }

    /// The point's longitude in the polygons' convention and its copies 360° away, those within `margin` of the
    /// polygons' longitude range only.
    fn copies(&self, lon: f64, margin: f64) -> impl Iterator<Item = f64> + '_ {
        let x = self.wrap_lon(lon);
        [x, x + 360.0, x - 360.0]
            .into_iter()
            .filter(move |&c| c >= self.lon_range.0 - margin && c <= self.lon_range.1 + margin)
    }

    /// A longitude wrapped into the polygons' convention, [-180, 180) or [0, 360); one already there is returned
    /// untouched, so that a centre exactly on an edge stays exactly there.
    fn wrap_lon(&self, lon: f64) -> f64 {
        match self.lon_0_360 {
            true if (0.0..360.0).contains(&lon) => lon,
            true => lon.rem_euclid(360.0),
            false if (-180.0..180.0).contains(&lon) => lon,
            false => (lon + 180.0).rem_euclid(360.0) - 180.0,
        }
    }
}

/// A file under the repository's `data/static/`, found from this crate's directory at compile time.
pub(crate) fn static_data_path(relative: &str) -> PathBuf {
    let crate_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let root = crate_dir.ancestors().nth(2).map_or_else(|| crate_dir.join("../.."), Path::to_path_buf);
    root.join("data/static").join(relative)
}

/// An error naming the file, on one line even when a library's message has several.
pub(crate) fn other(what: &str, detail: &str) -> RegridError {
    let detail = detail.lines().map(str::trim).filter(|l| !l.is_empty()).collect::<Vec<_>>().join("; ");
    RegridError::Other { what: what.to_string(), detail }
}

fn read_text(path: &Path) -> Result<String> {
    std::fs::read_to_string(path).map_err(|e| {
        let hint = if e.kind() == std::io::ErrorKind::NotFound {
            " (the static data lives in data/static/ of the repository; scripts/fetch-static-data.sh restores it)"
        } else {
            ""
        };
        other(&path.display().to_string(), &format!("cannot read: {e}{hint}"))
    })
}

/// Appends the polygons of a GeoJSON geometry (recursing into collections); other geometry types are skipped.
/// Converted by hand rather than with `geo-types`' `TryFrom`, which indexes positions without checking their length.
fn collect_polygons(value: &geojson::Value, out: &mut Vec<Polygon<f64>>) -> std::result::Result<(), String> {
    match value {
        geojson::Value::Polygon(rings) => out.extend(polygon_from_rings(rings)?),
        geojson::Value::MultiPolygon(polygons) => {
            for rings in polygons {
                out.extend(polygon_from_rings(rings)?);
            }
        }
        geojson::Value::GeometryCollection(members) => {
            for member in members {
                collect_polygons(&member.value, out)?;
            }
        }
        _ => {}
    }
    Ok(())
}

fn polygon_from_rings(rings: &[Vec<Vec<f64>>]) -> std::result::Result<Option<Polygon<f64>>, String> {
    let mut rings = rings.iter().map(|ring| ring_from_positions(ring)).collect::<std::result::Result<Vec<_>, _>>()?;
    if rings.is_empty() {
        return Ok(None);
    }
    let exterior = rings.remove(0);
    Ok(Some(Polygon::new(exterior, rings)))
}

fn ring_from_positions(positions: &[Vec<f64>]) -> std::result::Result<LineString<f64>, String> {
    positions
        .iter()
        .map(|p| match p.as_slice() {
            [x, y, ..] => Ok(Coord { x: *x, y: *y }),
            _ => Err("a position with fewer than two coordinates".to_string()),
        })
        .collect::<std::result::Result<Vec<_>, _>>()
        .map(LineString::new)
}
