//! TopoJSON topologies decoded straight into planar polygons.
//!
//! Decoded here rather than with the `topojson` crate, which parses a file into `serde_json` values and converts
//! those to GeoJSON values before any polygon exists: for the 3 MB Natural Earth 1:10m land that took 0.23 s, a
//! tenth of a regional BCSD run, and typed deserialisation takes a few hundredths. The format is small (TopoJSON
//! specification 1.0): shared arcs of positions, delta-encoded and quantized when a `transform` is given, and
//! geometries that list arcs by index (`!i`, i.e. `-i - 1`, for arc `i` reversed). A ring joins its arcs end to end;
//! each arc after the first starts where the previous one ended, and that repeated position is dropped.

use std::collections::BTreeMap;
use std::fmt;

use geo::{Coord, LineString, Polygon};
use serde::Deserialize;
use serde::de::{self, IgnoredAny, SeqAccess, Visitor};

type Message = String;

/// The parts of a topology that carry area: its arcs and its named objects. Other members are ignored.
#[derive(Deserialize)]
struct Topology {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    transform: Option<Transform>,
    #[serde(default)]
    arcs: Vec<Vec<Position>>,
    #[serde(default)]
    objects: BTreeMap<String, Geometry>,
}

#[derive(Deserialize)]
struct Transform {
    scale: Vec<f64>,
    translate: Vec<f64>,
}

/// A geometry object; points and lines enclose no area and are kept only to be skipped.
#[derive(Deserialize)]
#[serde(tag = "type")]
enum Geometry {
    Polygon {
        arcs: Vec<Vec<i64>>,
    },
    MultiPolygon {
        arcs: Vec<Vec<Vec<i64>>>,
    },
    #[serde(rename = "GeometryCollection")]
    Collection {
        geometries: Vec<Geometry>,
    },
    #[serde(other)]
    WithoutArea,
}

/// The first two numbers of a position; further ones (elevation, measures) are skipped.
struct Position([f64; 2]);

impl<'de> Deserialize<'de> for Position {
    fn deserialize<D: de::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct PositionVisitor;
        impl<'de> Visitor<'de> for PositionVisitor {
            type Value = Position;
            fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
                formatter.write_str("a position of at least two numbers")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Position, A::Error> {
                let short = || de::Error::custom("an arc position has fewer than two coordinates");
                let x = seq.next_element::<f64>()?.ok_or_else(short)?;
                let y = seq.next_element::<f64>()?.ok_or_else(short)?;
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(Position([x, y]))
            }
        }
        deserializer.deserialize_seq(PositionVisitor)
    }
}

/// Every polygon of every object of the topology in `text`, in object-name order. Damaged input (not JSON, not a
/// Topology, a short transform, an arc index out of range, a collection inside a collection) is an error message.
pub(crate) fn topojson_polygons(text: &str) -> Result<Vec<Polygon<f64>>, Message> {
    let topology: Topology = serde_json::from_str(text).map_err(|e| e.to_string())?;
    if topology.kind != "Topology" {
        return Err(format!("a {}, not a Topology", topology.kind));
    }
    let arcs = decode_arcs(&topology)?;
    let mut polygons = Vec::new();
    for (name, geometry) in &topology.objects {
        collect(geometry, &arcs, false, &mut polygons).map_err(|e| format!("object {name}: {e}"))?;
    }
    Ok(polygons)
}

/// The arcs in absolute coordinates: each quantized arc's running sum of deltas, scaled and translated.
fn decode_arcs(topology: &Topology) -> Result<Vec<Vec<Coord<f64>>>, Message> {
    let Some(transform) = &topology.transform else {
        return Ok(topology
            .arcs
            .iter()
            .map(|arc| arc.iter().map(|&Position([x, y])| Coord { x, y }).collect())
            .collect());
    };
    let pair = |values: &[f64], key: &str| match values {
        [a, b, ..] => Ok([*a, *b]),
        _ => Err(format!("transform.{key} is not an array of two numbers")),
    };
    let ([sx, sy], [tx, ty]) = (pair(&transform.scale, "scale")?, pair(&transform.translate, "translate")?);
    Ok(topology
        .arcs
        .iter()
        .map(|arc| {
            let (mut x, mut y) = (0.0, 0.0);
            arc.iter()
                .map(|&Position([dx, dy])| {
                    x += dx;
                    y += dy;
                    Coord { x: x * sx + tx, y: y * sy + ty }
                })
                .collect()
        })
        .collect())
}

fn collect(
    geometry: &Geometry,
    arcs: &[Vec<Coord<f64>>],
    nested: bool,
    out: &mut Vec<Polygon<f64>>,
) -> Result<(), Message> {
    match geometry {
        Geometry::Polygon { arcs: rings } => out.extend(polygon(rings, arcs)?),
        Geometry::MultiPolygon { arcs: polygons } => {
            for rings in polygons {
                out.extend(polygon(rings, arcs)?);
            }
        }
        Geometry::Collection { geometries } => {
            if nested {
                return Err("a geometry collection inside a geometry collection".into());
            }
            for member in geometries {
                collect(member, arcs, true, out)?;
            }
        }
        Geometry::WithoutArea => {}
    }
    Ok(())
}

/// A polygon from its rings of arc indexes (the first ring is the exterior); `None` for no rings.
fn polygon(rings: &[Vec<i64>], arcs: &[Vec<Coord<f64>>]) -> Result<Option<Polygon<f64>>, Message> {
    let mut rings = rings.iter().map(|indexes| ring(indexes, arcs)).collect::<Result<Vec<_>, _>>()?;
    if rings.is_empty() {
        return Ok(None);
    }
    let exterior = rings.remove(0);
    Ok(Some(Polygon::new(exterior, rings)))
}

fn ring(indexes: &[i64], arcs: &[Vec<Coord<f64>>]) -> Result<LineString<f64>, Message> {
    let mut coords: Vec<Coord<f64>> = Vec::new();
    for &index in indexes {
        let (position, reversed) = if index < 0 { (!index, true) } else { (index, false) };
        let arc = usize::try_from(position)
            .ok()
            .and_then(|position| arcs.get(position))
            .ok_or_else(|| format!("arc index {index} is out of range ({} arcs)", arcs.len()))?;
        // The junction with the previous arc is that arc's last position.
        let skip = usize::from(!coords.is_empty());
        if reversed {
            coords.extend(arc.iter().rev().skip(skip));
        } else {
            coords.extend(arc.iter().skip(skip));
        }
    }
    Ok(LineString::new(coords))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The quantized example of the TopoJSON specification (§2.1.2 and §2.2), with a polygon made of its second
    /// arc, and a ring that joins the first arc with the second one reversed.
    const EXAMPLE: &str = r#"{"type": "Topology",
        "transform": {"scale": [0.0005, 0.0001], "translate": [100, 0]},
        "objects": {"example": {"type": "GeometryCollection", "geometries": [
            {"type": "Point", "coordinates": [4000, 5000]},
            {"type": "LineString", "arcs": [0]},
            {"type": "Polygon", "arcs": [[1]]},
            {"type": "MultiPolygon", "arcs": [[[2, -3]]]}]}},
        "arcs": [[[4000, 0], [1999, 9999], [2000, -9999], [2000, 9999]],
                 [[0, 0], [0, 9999], [2000, 0], [0, -9999], [-2000, 0]],
                 [[0, 0], [2, 0], [0, 2, 7]]]}"#;

    fn points(polygon: &Polygon<f64>) -> Vec<(f64, f64)> {
        polygon.exterior().coords().map(|c| (c.x, c.y)).collect()
    }

    #[test]
    fn quantized_arcs_are_summed_scaled_and_joined() {
        let polygons = topojson_polygons(EXAMPLE).unwrap();
        assert_eq!(polygons.len(), 2);
        let expected = [(0, 0), (0, 9999), (2000, 9999), (2000, 0), (0, 0)]
            .map(|(x, y)| (x as f64 * 0.0005 + 100.0, y as f64 * 0.0001));
        assert_eq!(points(&polygons[0]), expected);
        // Arc 2 forward (third position's extra number skipped), then arc 2 reversed without its repeated end.
        let arc = [(0.0, 0.0), (2.0, 0.0), (2.0, 2.0)].map(|(x, y)| (x * 0.0005 + 100.0, y * 0.0001));
        assert_eq!(points(&polygons[1]), [arc[0], arc[1], arc[2], arc[1], arc[0]]);
    }

    #[test]
    fn damaged_topologies_are_errors() {
        let bare = r#"{"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 0]]]}"#;
        assert_eq!(topojson_polygons(bare).unwrap_err(), "a Polygon, not a Topology");
        let out_of_range =
            r#"{"type": "Topology", "arcs": [], "objects": {"land": {"type": "Polygon", "arcs": [[-1]]}}}"#;
        assert_eq!(topojson_polygons(out_of_range).unwrap_err(), "object land: arc index -1 is out of range (0 arcs)");
        let short = r#"{"type": "Topology", "transform": {"scale": [1], "translate": [0, 0]}, "arcs": [[[0, 0]]]}"#;
        assert_eq!(topojson_polygons(short).unwrap_err(), "transform.scale is not an array of two numbers");
    }
}
