//! Time series at named places: each place takes the nearest grid cell that holds data (a coastal city whose
//! nearest cell is sea takes the nearest land cell instead), by great-circle distance.
//!
//! The shipped list of large cities is Natural Earth's populated places (1:110m, public domain, from the npm
//! package `globe.gl`; see `data/static/README.md`) with at least 500 000 people: the places the original system's
//! per-city CSVs covered, from a source anyone may redistribute. It is compiled in, so an installed binary needs no
//! data files.

use std::num::NonZero;

use kiddo::{ImmutableKdTree, SquaredEuclidean};
use serde::Serialize;

use crate::error::EvaluateError;
use crate::field::Field;

/// `name,country,lat,lon,population`, largest first.
const CITIES_CSV: &str = include_str!("../../../data/static/cities/cities.csv");

/// Mean radius of the Earth, km (for the distances reported).
const EARTH_RADIUS_KM: f64 = 6371.0;

/// A named place.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Place {
    /// Its name.
    pub name: String,
    /// Its country, when known.
    pub country: String,
    /// Latitude, degrees north.
    pub lat: f64,
    /// Longitude, degrees east.
    pub lon: f64,
}

/// A place and the cell whose series stands for it.
#[derive(Debug, Clone, Serialize)]
pub struct LocatedPlace {
    /// The place.
    pub place: Place,
    /// The cell's row (latitude index) and column (longitude index).
    pub cell: (usize, usize),
    /// The cell centre's latitude, degrees north.
    pub cell_lat: f64,
    /// The cell centre's longitude, degrees east.
    pub cell_lon: f64,
    /// Great-circle distance from the place to the cell centre, km.
    pub distance_km: f64,
}

/// The shipped large cities (see the module's documentation), largest first.
pub fn shipped_cities() -> Vec<Place> {
    CITIES_CSV
        .lines()
        .skip(1)
        .filter_map(|line| {
            let fields = split_csv_line(line);
            let number = |k: usize| fields.get(k).and_then(|f| f.parse::<f64>().ok());
            Some(Place {
                name: fields.first()?.clone(),
                country: fields.get(1)?.clone(),
                lat: number(2)?,
                lon: number(3)?,
            })
        })
        .collect()
}

/// Splits one line of the shipped, machine-written CSV: fields quoted only when they hold a comma (Natural Earth's
/// "Washington, D.C."), never a quote or a line break. (Two rules: the `csv` crate is not needed for a file this
/// crate compiles in and tests.)
fn split_csv_line(line: &str) -> Vec<String> {
    let mut fields = Vec::new();
    let mut current = String::new();
    let mut quoted = false;
    for c in line.chars() {
        match c {
            '"' => quoted = !quoted,
            ',' if !quoted => fields.push(std::mem::take(&mut current)),
            c => current.push(c),
        }
    }
    fields.push(current);
    fields
}

/// A point on the unit sphere: the chord between two such points orders pairs as the great-circle distance does.
fn unit_vector(lat: f64, lon: f64) -> [f64; 3] {
    let (lat, lon) = (lat.to_radians(), lon.to_radians());
    [lat.cos() * lon.cos(), lat.cos() * lon.sin(), lat.sin()]
}

/// Great-circle distance between two points, km.
fn distance_km(a: (f64, f64), b: (f64, f64)) -> f64 {
    let (p, q) = (unit_vector(a.0, a.1), unit_vector(b.0, b.1));
    let chord = ((p[0] - q[0]).powi(2) + (p[1] - q[1]).powi(2) + (p[2] - q[2]).powi(2)).sqrt();
    2.0 * (chord / 2.0).clamp(-1.0, 1.0).asin() * EARTH_RADIUS_KM
}

/// The places inside `field`'s grid (its cell centres' box widened by half a cell), each with the nearest cell
/// for which `valid` (one flag per cell, row-major) holds; places outside the grid are left out.
pub fn locate(field: &Field, places: &[Place], valid: &[bool]) -> Result<Vec<LocatedPlace>, EvaluateError> {
    let grid = field.grid()?;
    if valid.len() != grid.cells() {
        return Err(EvaluateError::data(field.source(), "the mask of valid cells is not on the field's grid"));
    }
    let cells: Vec<usize> = (0..valid.len()).filter(|&c| valid[c]).collect();
    if cells.is_empty() {
        return Err(EvaluateError::data(field.source(), "no cell holds a value to extract"));
    }
    let width = grid.lon.len();
    let position = |cell: usize| (grid.lat[cell / width], grid.lon[cell % width]);
    let points: Vec<[f64; 3]> = cells.iter().map(|&c| unit_vector(position(c).0, position(c).1)).collect();
    let tree: ImmutableKdTree<f64, 3> = ImmutableKdTree::new_from_slice(&points)
        .map_err(|e| EvaluateError::data(field.source(), format!("cannot index the grid's cells: {e}")))?;
    let half_step = |axis: &[f64]| if axis.len() > 1 { (axis[1] - axis[0]).abs() / 2.0 } else { 0.5 };
    let (lat_margin, lon_margin) = (half_step(&grid.lat), half_step(&grid.lon));
    let inside = |place: &Place| {
        let (south, north) = (grid.lat[0] - lat_margin, grid.lat[grid.lat.len() - 1] + lat_margin);
        let (west, east) = (grid.lon[0] - lon_margin, grid.lon[width - 1] + lon_margin);
        (south..=north).contains(&place.lat) && (west..=east).contains(&place.lon)
    };
    Ok(places
        .iter()
        .filter(|place| inside(place))
        .map(|place| {
            let nearest = tree
                .query(&unit_vector(place.lat, place.lon))
                .nearest_n::<SquaredEuclidean<f64>>(NonZero::new(1).expect("one is not zero"))
                .execute();
            let cell = cells[nearest[0].item as usize];
            let (cell_lat, cell_lon) = position(cell);
            LocatedPlace {
                place: place.clone(),
                cell: (cell / width, cell % width),
                cell_lat,
                cell_lon,
                distance_km: distance_km((place.lat, place.lon), (cell_lat, cell_lon)),
            }
        })
        .collect())
}

/// The daily series of each located place's cell, read one cell at a time (a store chunked in whole series reads
/// one chunk per place).
pub fn series_at(field: &Field, located: &[LocatedPlace]) -> Result<Vec<Vec<f32>>, EvaluateError> {
    located.iter().map(|place| field.read_cell(place.cell)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_cities_parse_with_their_quoted_names() {
        let cities = shipped_cities();
        assert_eq!(cities.len(), CITIES_CSV.lines().count() - 1);
        let washington = cities.iter().find(|c| c.name.starts_with("Washington")).unwrap();
        assert_eq!(washington.name, "Washington, D.C.");
        let madrid = cities.iter().find(|c| c.name == "Madrid").unwrap();
        assert!((madrid.lat - 40.4).abs() < 0.1 && (madrid.lon + 3.7).abs() < 0.1, "{madrid:?}");
    }

    #[test]
    fn distances_are_great_circle() {
        // Madrid to Lisbon, about 503 km.
        let d = distance_km((40.4168, -3.7038), (38.7223, -9.1393));
        assert!((d - 503.0).abs() < 5.0, "{d}");
        assert!(distance_km((10.0, 20.0), (10.0, 20.0)).abs() < 1e-9);
    }
}
