//! `downscale extract`: daily series at named places (a CSV of points, or the shipped large cities) from a run's
//! daily output or any store, as a CSV with a column per place, and a second CSV saying which cell stands for each
//! place and how far it is.
//!
//! A place takes the nearest cell holding data (on land, for a run: its land mask), so a coastal city whose nearest
//! cell is sea is given the nearest land cell, as a user of a city's series expects.

use std::fmt::Write as _;
use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, Result, anyhow, bail};
use downscale_data::decode::data_variables;
use downscale_data::{Location, OutputKind, Replace, backend, check_destination, read_variable};
use downscale_evaluate::{Field, Place, locate, series_at, shipped_cities};

use super::ConfigArgs;
use super::evaluate::{dataset, load_manifest};

#[derive(clap::Args)]
#[command(group(clap::ArgGroup::new("places").required(true).args(["points", "cities"])))]
pub(crate) struct Args {
    /// A run id, a run's manifest file, or a Zarr store or NetCDF file with a (time, lat, lon) variable.
    source: String,
    /// A CSV of places with the columns `name`, `lat` and `lon` (degrees; others are ignored).
    #[arg(long, value_name = "FILE.csv")]
    points: Option<String>,
    /// The shipped large cities (Natural Earth populated places of at least 500 000 people) inside the grid.
    #[arg(long)]
    cities: bool,
    /// The variable of a store (default: its only data variable; a run's is its variable).
    #[arg(long)]
    var: Option<String>,
    /// The CSV to write [default: the daily store's name with `.csv`, beside it]; the cells go to `<stem>.places.csv`.
    #[arg(long, value_name = "FILE.csv")]
    out: Option<String>,
}

pub(crate) fn run(args: Args, config: &ConfigArgs) -> Result<ExitCode> {
    let (store, variable, land) = source(&args, config)?;
    let field = Field::open(&store, &variable)?;
    let places = match &args.points {
        Some(file) => read_points(Path::new(file))?,
        None => shipped_cities(),
    };
    let mut valid = field.cells_with_values()?;
    if let Some(land) = land {
        valid.iter_mut().zip(&land).for_each(|(valid, land)| *valid &= *land);
    }
    let located = locate(&field, &places, &valid)?;
    if located.is_empty() {
        bail!("{store}: none of the {} places lies inside the grid", places.len());
    }
    let series = series_at(&field, &located)?;
    let dates = field.iso_dates()?;

    let mut table = String::from("time");
    for place in &located {
        let _ = write!(table, ",{}", csv_field(&place.place.name));
    }
    table.push('\n');
    for (day, date) in dates.iter().enumerate() {
        table.push_str(date);
        for values in &series {
            let value = values[day];
            if value.is_finite() {
                let _ = write!(table, ",{value}");
            } else {
                table.push(',');
            }
        }
        table.push('\n');
    }
    let mut cells = PLACES_COLUMNS.join(",") + "\n";
    for place in &located {
        let _ = writeln!(
            cells,
            "{},{},{},{},{},{},{:.1}",
            csv_field(&place.place.name),
            csv_field(&place.place.country),
            place.place.lat,
            place.place.lon,
            place.cell_lat,
            place.cell_lon,
            place.distance_km
        );
    }
    let out = match &args.out {
        Some(out) => out.clone(),
        None => format!("{}.csv", store.trim_end_matches('/').trim_end_matches(".zarr").trim_end_matches(".nc")),
    };
    let places_out = Location::parse(&format!("{}.places.csv", out.trim_end_matches(".csv")))?;
    let out = Location::parse(&out)?;
    check_destinations(&out, &places_out)?;
    places_out.write_bytes(cells.into_bytes())?;
    out.write_bytes(table.into_bytes())?;
    let out = out.display;
    eprintln!("{} of {} places inside the grid, {} days of {variable}", located.len(), places.len(), dates.len());
    println!("{out}");
    Ok(ExitCode::SUCCESS)
}

/// The columns of the places file: each place, and the cell that stands for it.
const PLACES_COLUMNS: [&str; 7] = ["name", "country", "lat", "lon", "cell_lat", "cell_lon", "distance_km"];

/// Refuses, before anything is written, destinations holding something other than an earlier extraction: a series
/// table (its first column `time`) with its places file beside it. A user's own CSV there (their list of points, a
/// station's series without our places file) is never replaced.
fn check_destinations(out: &Location, places_out: &Location) -> Result<()> {
    check_destination(places_out, Replace::OwnOutputs, OutputKind::Table(&PLACES_COLUMNS))?;
    check_destination(out, Replace::OwnOutputs, OutputKind::Table(&["time"]))?;
    if out.version()?.is_some() && places_out.version()?.is_none() {
        bail!(
            "{}: a table this tool did not write is already there (an extraction writes {} beside it); nothing was \
             written (choose another output, or move it away first)",
            out.display,
            places_out.file_name()
        );
    }
    Ok(())
}

/// The store, its variable and, for a run, its land mask.
fn source(args: &Args, config: &ConfigArgs) -> Result<(String, String, Option<Vec<bool>>)> {
    let path = Path::new(&args.source);
    let is_store = path.is_dir() || (path.is_file() && !args.source.ends_with(".json")) || args.source.contains("://");
    if !is_store && [".zarr", ".nc"].iter().any(|suffix| args.source.trim_end_matches('/').ends_with(suffix)) {
        bail!("{}: no such store", args.source);
    }
    if is_store {
        let variable = match &args.var {
            Some(var) => var.clone(),
            None => {
                let location = Location::parse(&args.source)?;
                match data_variables(backend::open(&location)?.as_ref()).as_slice() {
                    [one] => one.clone(),
                    names => {
                        bail!("{}: choose a variable with --var (data variables: {})", args.source, names.join(", "))
                    }
                }
            }
        };
        return Ok((args.source.clone(), variable, None));
    }
    let manifest = load_manifest(&args.source, config)?;
    if let Some(failure) = &manifest.failure {
        bail!("run {} failed in task {}: it has no output to extract from", manifest.run_id, failure.task);
    }
    let variable = manifest
        .parameters
        .get("variable")
        .and_then(|v| v.as_str())
        .ok_or_else(|| anyhow!("{}: the parameters have no 'variable'", manifest.run_id))?
        .to_string();
    let land = match manifest.intermediates.get("land_mask") {
        Some(mask) => Some(read_variable(mask, "land")?.data.iter().map(|&f| f >= 0.5).collect()),
        None => None,
    };
    Ok((dataset(&manifest, "daily")?, variable, land))
}

/// The places of a CSV with a header naming `name`, `lat` and `lon`.
fn read_points(file: &Path) -> Result<Vec<Place>> {
    let shown = file.display();
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_path(file)
        .with_context(|| format!("{shown}: cannot read the points"))?;
    let headers = reader.headers().with_context(|| format!("{shown}: cannot read the header"))?.clone();
    let column = |name: &str| {
        headers
            .iter()
            .position(|h| h.eq_ignore_ascii_case(name))
            .ok_or_else(|| anyhow!("{shown}: no '{name}' column (expected a header with name, lat and lon)"))
    };
    let (name, lat, lon) = (column("name")?, column("lat")?, column("lon")?);
    let mut places = Vec::new();
    for (index, record) in reader.records().enumerate() {
        let line = index + 2;
        let record = record.with_context(|| format!("{shown}: line {line} is not CSV"))?;
        let number = |k: usize, what: &str, range: std::ops::RangeInclusive<f64>| -> Result<f64> {
            let text = record.get(k).unwrap_or_default();
            match text.parse::<f64>() {
                Ok(value) if range.contains(&value) => Ok(value),
                _ => bail!(
                    "{shown}: line {line}: {what} '{text}' is not a number in [{}, {}]",
                    range.start(),
                    range.end()
                ),
            }
        };
        let place_lon = number(lon, "lon", -180.0..=360.0)?;
        places.push(Place {
            name: record.get(name).unwrap_or_default().to_string(),
            country: String::new(),
            lat: number(lat, "lat", -90.0..=90.0)?,
            // Longitudes in [0, 360) are taken as [-180, 180), the grids' convention.
            lon: if place_lon >= 180.0 { place_lon - 360.0 } else { place_lon },
        });
    }
    if places.is_empty() {
        bail!("{shown}: no place listed");
    }
    Ok(places)
}

/// A CSV field, quoted when it holds a comma, a quote or a line break.
fn csv_field(text: &str) -> String {
    if text.contains([',', '"', '\n', '\r']) { format!("\"{}\"", text.replace('"', "\"\"")) } else { text.to_string() }
}
