use std::process::ExitCode;

use anyhow::Result;
use clap::ValueEnum;
use downscale_data::WriteOptions;
use downscale_data::calendar_convert::Align360;
use downscale_data::chunking::{ChunkLayout, DEFAULT_CHUNK_BYTES};
use downscale_data::time_convert::to_standard_calendar;
use downscale_data::units::to_canonical;

use super::{Output, OutputFormat};

#[derive(clap::Args)]
pub(crate) struct Args {
    #[command(flatten)]
    input: super::Input,
    /// Output Zarr store (path or URL).
    #[arg(long, value_name = "STORE")]
    out: String,
    /// Replace a Zarr store at --out that another program wrote (a store this tool wrote is replaced without it;
    /// a folder or file of anything else never is).
    #[arg(long)]
    overwrite: bool,
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
}

#[derive(Clone, Copy, ValueEnum)]
enum Align {
    Year,
    Date,
}

#[derive(Clone, Copy, ValueEnum)]
enum Layout {
    FullTime,
    FullSpace,
}

pub(crate) fn run(args: Args) -> Result<ExitCode> {
    let output = Output::checked(&args.out, args.overwrite, &[OutputFormat::Zarr])?;
    let mut array = args.input.read()?;
    if !args.keep_units {
        to_canonical(&mut array)?;
    }
    if args.to_standard_calendar {
        let align = match args.align_360 {
            Align::Year => Align360::Year,
            Align::Date => Align360::Date,
        };
        array = to_standard_calendar(&array, align)?;
    }
    let options = WriteOptions {
        layout: match args.layout {
            Layout::FullTime => ChunkLayout::FullTime,
            Layout::FullSpace => ChunkLayout::FullSpace,
        },
        chunk_bytes: args.chunk_bytes,
        provenance: super::command_line_provenance(),
        ..WriteOptions::default()
    };
    output.write(&array, options)?;
    Ok(ExitCode::SUCCESS)
}
