//! CF encoding shared by the Zarr and NetCDF writers: time as integers, coordinate axis attributes and the CF
//! global attributes every output carries.

use crate::array::{Coordinate, DataArray};
use crate::attrs::{AttrValue, Attributes};
use crate::calendar::{Calendar, CfDateTime, TimeUnit, TimeUnits};

/// CF global attributes every output carries; values from the source file are kept where these are `None`.
#[derive(Debug, Clone)]
pub struct Provenance {
    /// CF `title`: what the data are.
    pub title: Option<String>,
    /// CF `institution`: who made them.
    pub institution: Option<String>,
    /// CF `source`: how they were made (the method and its software).
    pub source: Option<String>,
    /// CF `references`: where the method is described.
    pub references: Option<String>,
    /// What produced this store (a command line or a task name); prepended to `history` with a UTC time stamp.
    /// Empty for none: a flow's intermediates leave the history as their inputs had it, so that a published store
    /// lists the run once instead of once per task.
    pub history_entry: String,
}

impl Default for Provenance {
    /// No title, institution, source or references of its own, and the history entry `downscale`.
    fn default() -> Self {
        Provenance { title: None, institution: None, source: None, references: None, history_entry: "downscale".into() }
    }
}

/// CF axis attributes for latitude and longitude, which xarray and plotting tools rely on.
pub(crate) fn axis_attributes(coord: &Coordinate) -> Attributes {
    let mut attrs = coord.attrs.clone();
    let mut set = |k: &str, v: &str| {
        attrs.entry(k.to_string()).or_insert_with(|| AttrValue::Text(v.to_string()));
    };
    let standard_name = coord.attrs.get("standard_name").and_then(AttrValue::as_text).unwrap_or("");
    if matches!(coord.name.as_str(), "lat" | "latitude") || standard_name == "latitude" {
        set("standard_name", "latitude");
        set("units", "degrees_north");
        set("long_name", "latitude");
        if coord.dims.len() == 1 && coord.dims[0] == coord.name {
            set("axis", "Y");
        }
    } else if matches!(coord.name.as_str(), "lon" | "longitude") || standard_name == "longitude" {
        set("standard_name", "longitude");
        set("units", "degrees_east");
        set("long_name", "longitude");
        if coord.dims.len() == 1 && coord.dims[0] == coord.name {
            set("axis", "X");
        }
    }
    // Bounds variables are not carried; a `bounds` attribute naming one would dangle.
    attrs.remove("bounds");
    attrs
}

/// Chooses `<unit> since <first day, 00:00>` with the coarsest unit that represents every time exactly as an
/// integer (days for daily means stamped at midnight, hours for the 12:00 stamps of CMIP models).
pub fn encode_time(calendar: Calendar, dates: &[CfDateTime]) -> std::result::Result<(TimeUnits, Vec<i64>), String> {
    let reference = dates.first().map_or(CfDateTime::ymd(1970, 1, 1), |d| CfDateTime::ymd(d.year, d.month, d.day));
    for unit in [TimeUnit::Days, TimeUnit::Hours, TimeUnit::Minutes, TimeUnit::Seconds, TimeUnit::Microseconds] {
        let units = TimeUnits { unit, reference };
        let encoded = dates
            .iter()
            .map(|d| calendar.encode(&units, d))
            .collect::<std::result::Result<Vec<f64>, _>>()
            .map_err(|e| e.to_string())?;
        if encoded.iter().all(|x| x.fract() == 0.0 && x.abs() < 9.0e18) {
            return Ok((units, encoded.into_iter().map(|x| x as i64).collect()));
        }
    }
    Err("times cannot be encoded as integers".into())
}

/// The CF global attributes: the source's own, then ours on top.
pub(crate) fn global_attributes(array: &DataArray, provenance: &Provenance) -> Attributes {
    let mut attrs = array.global_attrs.clone();
    let text = |s: &str| AttrValue::Text(s.to_string());
    let ours = [
        ("title", &provenance.title, array.name.as_str()),
        ("institution", &provenance.institution, "unknown"),
        ("source", &provenance.source, "downscale"),
        ("references", &provenance.references, "https://cfconventions.org/"),
    ];
    for (key, value, default) in ours {
        match value {
            Some(v) => {
                attrs.insert(key.into(), text(v));
            }
            None => {
                attrs.entry(key.into()).or_insert_with(|| text(default));
            }
        }
    }
    attrs.insert("Conventions".into(), text("CF-1.8"));
    attrs.insert("version".into(), text(env!("CARGO_PKG_VERSION")));
    // The mark that lets a later run replace this output without `--overwrite` (see `publish`).
    attrs.insert(crate::publish::PRODUCER_ATTRIBUTE.into(), text(env!("CARGO_PKG_VERSION")));
    if provenance.history_entry.is_empty() {
        return attrs;
    }
    let entry = format!("{}: {}", utc_now(), provenance.history_entry);
    let history = match attrs.get("history").and_then(AttrValue::as_text) {
        Some(previous) if !previous.is_empty() => format!("{entry}\n{previous}"),
        _ => entry,
    };
    attrs.insert("history".into(), text(&history));
    attrs
}

/// Current UTC time as `YYYY-MM-DDTHH:MM:SSZ`, through our own calendar (no date crate needed for one stamp).
fn utc_now() -> String {
    let micros = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_micros() as i64);
    match Calendar::ProlepticGregorian.add_microseconds(&CfDateTime::ymd(1970, 1, 1), micros) {
        Ok(d) => format!("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z", d.year, d.month, d.day, d.hour, d.minute, d.second),
        Err(_) => "unknown time".into(),
    }
}
