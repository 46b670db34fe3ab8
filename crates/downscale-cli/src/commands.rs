//! The subcommands.

use std::process::ExitCode;

use anyhow::Result;
use clap::{Subcommand, ValueEnum};
use downscale_data::backend;
use downscale_data::calendar_convert::Align360;
use downscale_data::chunking::{ChunkLayout, DEFAULT_CHUNK_BYTES};
use downscale_data::decode::{data_variables, decode_variable};
use downscale_data::inspect::summarise;
use downscale_data::time_convert::to_standard_calendar;
use downscale_data::units::to_canonical;
use downscale_data::validate::validate_store;
use downscale_data::{Location, Provenance, WriteOptions, write_zarr};

#[derive(Subcommand)]
pub enum Command {
    /// Show variables, dimensions, coordinate ranges and direction, calendar, units and missing values of NetCDF
    /// files or Zarr stores.
    Inspect {
        /// Paths or URLs (file://, s3://, az://, gs://) of NetCDF files or Zarr stores.
        #[arg(required = true)]
        files: Vec<String>,
    },
    /// Convert a variable of a NetCDF file or Zarr store to a CF-1.8 Zarr store, written atomically.
    Convert {
        /// Input NetCDF file or Zarr store.
        #[arg(long = "in", value_name = "FILE")]
        input: String,
        /// Variable to convert (default: the only data variable).
        #[arg(long)]
        var: Option<String>,
        /// Output Zarr store (path or URL).
        #[arg(long, value_name = "STORE")]
        out: String,
        /// Keep the file's units instead of converting to canonical ones (K, mm day-1).
        #[arg(long)]
        keep_units: bool,
        /// Convert noleap / all_leap / 360_day time axes to the standard calendar.
        #[arg(long)]
        to_standard_calendar: bool,
        /// How 360-day years map onto the standard calendar (xarray's `align_on`).
        #[arg(long, value_enum, default_value_t = Align::Year)]
        align_360: Align,
        /// Chunk layout: whole time series per chunk, or whole maps per chunk.
        #[arg(long, value_enum, default_value_t = Layout::FullTime)]
        layout: Layout,
        /// Target bytes per chunk.
        #[arg(long, default_value_t = DEFAULT_CHUNK_BYTES)]
        chunk_bytes: usize,
    },
    /// Check that a Zarr store is complete (every chunk present, metadata consistent) and count missing values.
    /// Exits with 1 when the store is incomplete.
    Validate {
        /// Zarr store path or URL.
        store: String,
    },
}

#[derive(Clone, Copy, ValueEnum)]
pub enum Align {
    Year,
    Date,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum Layout {
    FullTime,
    FullSpace,
}

pub fn run(command: Command) -> Result<ExitCode> {
    match command {
        Command::Inspect { files } => {
            for file in files {
                let location = Location::parse(&file)?;
                let dataset = backend::open(&location)?;
                print!("{}", summarise(dataset.as_ref())?);
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Convert {
            input,
            var,
            out,
            keep_units,
            to_standard_calendar: convert_calendar,
            align_360,
            layout,
            chunk_bytes,
        } => {
            let location = Location::parse(&input)?;
            let dataset = backend::open(&location)?;
            let variable = match var {
                Some(v) => v,
                None => single_data_variable(dataset.as_ref())?,
            };
            let mut array = decode_variable(dataset.as_ref(), &variable)?;
            if !keep_units {
                to_canonical(&mut array)?;
            }
            if convert_calendar {
                let align = match align_360 {
                    Align::Year => Align360::Year,
                    Align::Date => Align360::Date,
                };
                array = to_standard_calendar(&array, align)?;
            }
            let options = WriteOptions {
                layout: match layout {
                    Layout::FullTime => ChunkLayout::FullTime,
                    Layout::FullSpace => ChunkLayout::FullSpace,
                },
                chunk_bytes,
                provenance: Provenance {
                    history_entry: std::env::args().collect::<Vec<_>>().join(" "),
                    ..Provenance::default()
                },
                ..WriteOptions::default()
            };
            let destination = Location::parse(&out)?;
            write_zarr(&array, &destination, &options)?;
            println!("{}", destination.display);
            Ok(ExitCode::SUCCESS)
        }
        Command::Validate { store } => {
            let location = Location::parse(&store)?;
            let report = validate_store(&location)?;
            println!("{}", report.store);
            for array in &report.arrays {
                let nan = match array.nan_count {
                    Some(n) => {
                        format!(", NaN {n} of {} ({:.1}%)", array.element_count, percent(n, array.element_count))
                    }
                    None => String::new(),
                };
                println!(
                    "  {:<10} shape {:?}, chunks {}/{}{nan}",
                    array.name, array.shape, array.chunks_present, array.chunks_expected
                );
            }
            if report.is_complete() {
                println!("complete");
                Ok(ExitCode::SUCCESS)
            } else {
                for problem in &report.problems {
                    println!("  problem: {problem}");
                }
                let count = report.problems.len();
                let plural = if count == 1 { "" } else { "s" };
                eprintln!("error: {}: incomplete store ({count} problem{plural})", report.store);
                Ok(ExitCode::from(1))
            }
        }
    }
}

fn percent(part: u64, whole: u64) -> f64 {
    if whole == 0 { 0.0 } else { part as f64 * 100.0 / whole as f64 }
}

fn single_data_variable(dataset: &dyn backend::RawDataset) -> Result<String> {
    let names = data_variables(dataset);
    match names.as_slice() {
        [one] => Ok(one.clone()),
        _ => anyhow::bail!(
            "{}: choose a variable with --var (data variables: {})",
            dataset.location().display,
            names.join(", ")
        ),
    }
}
