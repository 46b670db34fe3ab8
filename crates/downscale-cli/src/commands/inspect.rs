use std::process::ExitCode;

use anyhow::Result;
use downscale_data::inspect::summarise;
use downscale_data::{Location, backend};

#[derive(clap::Args)]
pub(crate) struct Args {
    /// Paths or URLs (file://, s3://, az://, gs://) of NetCDF files or Zarr stores.
    #[arg(required = true)]
    files: Vec<String>,
}

pub(crate) fn run(args: Args) -> Result<ExitCode> {
    for file in args.files {
        let location = Location::parse(&file)?;
        let dataset = backend::open(&location)?;
        print!("{}", summarise(dataset.as_ref())?);
    }
    Ok(ExitCode::SUCCESS)
}
