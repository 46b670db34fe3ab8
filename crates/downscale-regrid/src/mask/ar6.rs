//! The IPCC AR6 reference land regions (Iturbide et al. 2020, ESSD 12, 2959) rasterised onto a grid, numbered and
//! decided at region edges exactly as regionmask 0.13 does for `regionmask.defined_regions.ar6.land`, so that
//! per-region results can be compared with those of the original system cell by cell.

use std::path::{Path, PathBuf};

use geo::algorithm::indexed::IntervalTreeMultiPolygon;
use geo::{BoundingRect, Contains, Coord, LineString, MultiPolygon, Point, Polygon, Rect};
use ndarray::Array2;
use rayon::prelude::*;

use super::polygons::{other, static_data_path};
use crate::error::Result;
use crate::grid::Grid;

/// regionmask moves every point by this much west before a strict `contains`, so that a point on an edge shared
/// by two regions goes to exactly one of them (the one to its south-west).
const LON_SHIFT: f64 = 1e-8;
/// ... and by this much south.
const LAT_SHIFT: f64 = 1e-10;

struct Region {
    id: i32,
    name: String,
    abbreviation: String,
    bbox: Rect<f64>,
    index: IntervalTreeMultiPolygon<f64>,
}

/// The AR6 land regions: the shapefile rows whose `Type` contains "Land" (including the three "Land-Ocean"
/// regions CAR, MED and SEA), 46 regions numbered by their row in the file, which is regionmask's numbering
/// (`from_geopandas` without `numbers` takes the data frame's index). Antarctica is 44 (EAN) and 45 (WAN).
pub struct Ar6Regions {
    source: String,
    regions: Vec<Region>,
}

impl std::fmt::Debug for Ar6Regions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ar6Regions").field("source", &self.source).field("regions", &self.regions.len()).finish()
    }
}

impl Ar6Regions {
    /// The vendored `IPCC-WGI-reference-regions-v4` shapefile (from the regionmask 0.13.0 source distribution).
    pub fn load() -> Result<Ar6Regions> {
        Ar6Regions::from_shapefile(Ar6Regions::default_path())
    }

    /// Where the vendored shapefile lies in this repository (compiled in; see `data/static/README.md`).
    pub fn default_path() -> PathBuf {
        static_data_path("ar6/IPCC-WGI-reference-regions-v4.shp")
    }

    /// The land regions of an AR6-style shapefile (fields `Type`, `Name`, `Acronym`; `.shx` and `.dbf` beside it).
    pub fn from_shapefile(path: impl AsRef<Path>) -> Result<Ar6Regions> {
        let path = path.as_ref();
        let what = path.display().to_string();
        let fail = |e: &dyn std::fmt::Display| other(&what, &format!("cannot read the shapefile: {e}"));
        let mut reader = shapefile::Reader::from_path(path).map_err(|e| fail(&e))?;
        let mut regions = Vec::new();
        for (row, item) in reader.iter_shapes_and_records().enumerate() {
            let (shape, record) = item.map_err(|e| fail(&e))?;
            let text = |field: &str| match record.get(field) {
                Some(shapefile::dbase::FieldValue::Character(Some(s))) => Ok(s.trim().to_string()),
                _ => Err(other(&what, &format!("row {row} has no text field {field}"))),
            };
            if !text("Type")?.contains("Land") {
                continue;
            }
            let (name, abbreviation) = (text("Name")?, text("Acronym")?);
            let shapefile::Shape::Polygon(polygon) = shape else {
                return Err(other(&what, &format!("row {row} ({abbreviation}) is not a polygon")));
            };
            let shape = multipolygon(&polygon);
            let Some(bbox) = shape.bounding_rect() else {
                return Err(other(&what, &format!("row {row} ({abbreviation}) has an empty polygon")));
            };
            if !(bbox.min().x.is_finite()
                && bbox.min().y.is_finite()
                && bbox.max().x.is_finite()
                && bbox.max().y.is_finite())
            {
                return Err(other(&what, &format!("row {row} ({abbreviation}) has a non-finite coordinate")));
            }
            let id = i32::try_from(row).map_err(|_| other(&what, "too many rows"))?;
            regions.push(Region { id, name, abbreviation, bbox, index: IntervalTreeMultiPolygon::new(&shape) });
        }
        if regions.is_empty() {
            return Err(other(&what, "no rows whose Type contains \"Land\""));
        }
        Ok(Ar6Regions { source: what, regions })
    }

    /// The file the regions came from.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// The region ids, ascending (0..=45 for the AR6 file).
    pub fn ids(&self) -> Vec<i32> {
        self.regions.iter().map(|r| r.id).collect()
    }

    /// The region's full name, e.g. "Mediterranean"; `None` for -1 or an unknown id.
    pub fn name(&self, id: i32) -> Option<&str> {
        self.region(id).map(|r| r.name.as_str())
    }

    /// The region's acronym, e.g. "MED".
    pub fn abbreviation(&self, id: i32) -> Option<&str> {
        self.region(id).map(|r| r.abbreviation.as_str())
    }

    /// The id of the region with this acronym.
    pub fn id_of(&self, abbreviation: &str) -> Option<i32> {
        self.regions.iter().find(|r| r.abbreviation == abbreviation).map(|r| r.id)
    }

    /// The land region of every cell centre of `grid`, -1 where there is none (the ocean, and points on a
    /// region's outer west or south edge).
    ///
    /// regionmask's rules, reproduced so that the ids match it cell for cell: longitudes are wrapped to
    /// [-180, 180) (the regions' convention); each centre is moved by (-1e-8° lon, -1e-10° lat) and must then be
    /// strictly inside a region; among several the last region wins. Centres still unassigned get a second chance
    /// when they sit on the grid's seam: at -180° (numpy `isclose`) they are tried at +180°, at -90° they are tried
    /// at -90° + 1e-10 (Antarctica reaches the pole), and on a grid without negative longitudes a centre at 0° is
    /// tried at 360°, where no region lies.
    pub fn land_region_ids(&self, grid: &Grid) -> Array2<i32> {
        let (n_lat, n_lon) = grid.shape();
        let lons: Vec<f64> = grid.lon.iter().map(|&x| wrap_180(x)).collect();
        let seam_at_180w = lons.iter().any(|&x| x < 0.0);
        let mut flat = vec![-1; n_lat * n_lon];
        flat.par_chunks_mut(n_lon).zip(grid.lat.par_iter()).for_each(|(row, &lat)| {
            for (cell, &lon) in row.iter_mut().zip(&lons) {
                *cell = self.region_of_centre(lon, lat, seam_at_180w);
            }
        });
        Array2::from_shape_fn((n_lat, n_lon), |(i, j)| flat[i * n_lon + j])
    }

    /// The region of one point (degrees east, degrees north), as a one-point grid would get it.
    pub fn region_at(&self, lon: f64, lat: f64) -> i32 {
        let lon = wrap_180(lon);
        self.region_of_centre(lon, lat, lon < 0.0)
    }

    fn region_of_centre(&self, lon: f64, lat: f64, seam_at_180w: bool) -> i32 {
        let id = self.strictly_inside(lon - LON_SHIFT, lat - LAT_SHIFT);
        if id >= 0 {
            return id;
        }
        let on_seam = if seam_at_180w { is_close(lon, -180.0) } else { is_close(lon, 0.0) };
        let at_south_pole = is_close(lat, -90.0);
        if !on_seam && !at_south_pole {
            return -1;
        }
        let x = if on_seam { lon - LON_SHIFT + 360.0 } else { lon - LON_SHIFT };
        let y = if at_south_pole { -90.0 + LAT_SHIFT } else { lat - LAT_SHIFT };
        self.strictly_inside(x, y)
    }

    /// The last region that strictly contains the point (boundary points belong to none), -1 if none does.
    fn strictly_inside(&self, x: f64, y: f64) -> i32 {
        let point = Point::new(x, y);
        let inside_box = |b: &Rect<f64>| b.min().x <= x && x <= b.max().x && b.min().y <= y && y <= b.max().y;
        self.regions.iter().rev().find(|r| inside_box(&r.bbox) && r.index.contains(&point)).map_or(-1, |r| r.id)
    }

    fn region(&self, id: i32) -> Option<&Region> {
        self.regions.iter().find(|r| r.id == id)
    }
}

/// numpy's `isclose(a, b)` with its default tolerances (rtol 1e-5, atol 1e-8), which regionmask uses to find the
/// seam points.
fn is_close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-8 + 1e-5 * b.abs()
}

/// Longitudes outside [-180, 180) wrapped into it; those inside are left untouched (regionmask's `_wrapAngle180`),
/// because re-computing them could move a point that lies exactly on an edge.
fn wrap_180(lon: f64) -> f64 {
    if (-180.0..180.0).contains(&lon) { lon } else { (lon + 180.0).rem_euclid(360.0) - 180.0 }
}

/// A shapefile polygon as polygons with holes: each inner ring becomes a hole of the last outer ring before it,
/// the shapefile's own order.
fn multipolygon(polygon: &shapefile::Polygon) -> MultiPolygon<f64> {
    let ring = |points: &[shapefile::Point]| LineString::new(points.iter().map(|p| Coord { x: p.x, y: p.y }).collect());
    let mut polygons: Vec<Polygon<f64>> = Vec::new();
    for r in polygon.rings() {
        match r {
            shapefile::PolygonRing::Outer(points) => polygons.push(Polygon::new(ring(points), vec![])),
            shapefile::PolygonRing::Inner(points) => match polygons.last_mut() {
                Some(last) => last.interiors_push(ring(points)),
                None => polygons.push(Polygon::new(ring(points), vec![])),
            },
        }
    }
    MultiPolygon::new(polygons)
}
