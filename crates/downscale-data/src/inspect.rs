//! What a user wants to know first about a file: its variables, grid, time span, calendar, units and gaps.

use std::fmt::Write as _;

use crate::attrs::AttrValue;
use crate::backend::{RawDataset, RawKind, RawVariable};
use crate::decode::{Role, decode_variable, read_unpacked_f64, roles};
use crate::error::Result;

/// Summary of a dataset, printable with `Display`.
#[derive(Debug, Clone)]
pub struct DatasetSummary {
    /// The dataset as the user named it.
    pub location: String,
    /// `NetCDF` or `Zarr`.
    pub format: &'static str,
    /// The global `title`, when there is one.
    pub title: Option<String>,
    /// The global `Conventions` (e.g. `CF-1.8`), when there is one.
    pub conventions: Option<String>,
    /// The dimension coordinates.
    pub coordinates: Vec<CoordinateSummary>,
    /// Every other variable.
    pub variables: Vec<VariableSummary>,
}

/// One dimension coordinate, as `inspect` lists it.
#[derive(Debug, Clone)]
pub struct CoordinateSummary {
    /// The coordinate variable's name, which is its dimension's.
    pub name: String,
    /// Its number of values.
    pub length: usize,
    /// Its `units` attribute, empty when it has none.
    pub units: String,
    /// First and last value as stored, with the direction and what reading does about it.
    pub description: String,
}

/// One variable other than a dimension coordinate, as `inspect` lists it.
#[derive(Debug, Clone)]
pub struct VariableSummary {
    /// The variable's name in the file.
    pub name: String,
    /// What decoding takes it for: data, coordinate, bounds or auxiliary.
    pub role: Role,
    /// Its dimensions, in stored order.
    pub dims: Vec<String>,
    /// Their lengths.
    pub shape: Vec<usize>,
    /// Its `units` attribute, when it has one.
    pub units: Option<String>,
    /// Share of missing values after decoding (data variables only).
    pub missing_share: Option<f64>,
    /// `calendar, first .. last (n steps)` for variables with a time axis.
    pub time: Option<String>,
}

/// Summarises an opened dataset, decoding each data variable once to count its missing values.
pub fn summarise(ds: &dyn RawDataset) -> Result<DatasetSummary> {
    let text = |v: Option<&AttrValue>| v.and_then(AttrValue::as_text).map(str::to_string);
    let roles = roles(ds);
    let mut coordinates = Vec::new();
    let mut variables = Vec::new();
    for (raw, (_, role)) in ds.variables().iter().zip(&roles) {
        let units = text(raw.attrs.get("units"));
        if *role == Role::Coordinate && raw.dims.len() == 1 && raw.dims[0] == raw.name {
            coordinates.push(describe_coordinate(ds, raw)?);
            continue;
        }
        let (missing_share, time) = if *role == Role::Data {
            let array = decode_variable(ds, &raw.name)?;
            let time = array.time.as_ref().map(|t| match (t.dates.first(), t.dates.last()) {
                // Decoding refused a time axis that does not increase, so first and last span it.
                (Some(first), Some(last)) => {
                    format!("{} calendar, {first} .. {last} ({} steps)", t.calendar.cf_name(), t.dates.len())
                }
                _ => format!("{} calendar, no steps", t.calendar.cf_name()),
            });
            (Some(array.missing().1), time)
        } else {
            (None, None)
        };
        variables.push(VariableSummary {
            name: raw.name.clone(),
            role: *role,
            dims: raw.dims.clone(),
            shape: raw.shape.clone(),
            units,
            missing_share,
            time,
        });
    }
    Ok(DatasetSummary {
        location: ds.location().display.clone(),
        format: ds.format_name(),
        title: text(ds.global_attrs().get("title")),
        conventions: text(ds.global_attrs().get("Conventions")),
        coordinates,
        variables,
    })
}

fn describe_coordinate(ds: &dyn RawDataset, raw: &RawVariable) -> Result<CoordinateSummary> {
    let name = raw.name.as_str();
    // A coordinate is read whole: one that is not all stored is damage (and its claimed length may be anything).
    ds.check_stored(name)?;
    let units = raw.attrs.get("units").and_then(AttrValue::as_text).unwrap_or_default().to_string();
    let description = if raw.kind == RawKind::Text {
        let labels = ds.read_labels(name)?;
        format!("labels: {}", labels.join(", "))
    } else if units.contains(" since ") {
        "time (see variables)".to_string()
    } else {
        let values: Vec<f64> = read_unpacked_f64(ds, raw)?.iter().copied().collect();
        match (values.first(), values.last()) {
            _ if values.iter().all(|x| x.is_nan()) => "all missing".to_string(),
            (Some(&first), Some(&last)) => {
                let direction = if values.len() < 2 {
                    "single value"
                } else if last > first {
                    "ascending"
                } else {
                    "descending"
                };
                let mut note = String::new();
                if units == "degrees_north" && last < first {
                    note.push_str(", flipped to ascending on read");
                }
                if units == "degrees_east" && values.iter().any(|&x| x >= 180.0) {
                    note.push_str(", 0-360: moved to [-180, 180) on read");
                }
                let step = if values.len() > 1 {
                    format!(", step {:.4}", (last - first) / (values.len() - 1) as f64)
                } else {
                    String::new()
                };
                format!("{first} .. {last} ({direction}{step}{note})")
            }
            _ => "empty".to_string(),
        }
    };
    Ok(CoordinateSummary { name: name.to_string(), length: raw.shape[0], units, description })
}

impl std::fmt::Display for DatasetSummary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(f, "{} ({})", self.location, self.format)?;
        if let Some(title) = &self.title {
            writeln!(f, "  title: {title}")?;
        }
        if let Some(conventions) = &self.conventions {
            writeln!(f, "  conventions: {conventions}")?;
        }
        writeln!(f, "coordinates:")?;
        for c in &self.coordinates {
            writeln!(f, "  {:<10} {:>6}  [{}]  {}", c.name, c.length, c.units, c.description)?;
        }
        writeln!(f, "variables:")?;
        for v in &self.variables {
            let mut line = String::new();
            let dims: Vec<String> = v.dims.iter().zip(&v.shape).map(|(d, n)| format!("{d}={n}")).collect();
            let _ =
                write!(line, "  {:<10} ({}) [{}]", v.name, dims.join(", "), v.units.as_deref().unwrap_or("no units"));
            match v.role {
                Role::Data => {}
                Role::Coordinate => line.push_str(" coordinate"),
                Role::Bounds => line.push_str(" bounds"),
                Role::Auxiliary => line.push_str(" auxiliary (ignored)"),
            }
            if let Some(share) = v.missing_share {
                let _ = write!(line, "  missing {:.1}%", share * 100.0);
            }
            writeln!(f, "{line}")?;
            if let Some(time) = &v.time {
                writeln!(f, "  {:<10} time: {time}", "")?;
            }
        }
        Ok(())
    }
}
