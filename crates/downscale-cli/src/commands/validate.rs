use std::process::ExitCode;

use anyhow::Result;
use downscale_data::Location;
use downscale_data::validate::validate_store;

#[derive(clap::Args)]
pub(crate) struct Args {
    /// Zarr store path or URL.
    store: String,
}

pub(crate) fn run(args: Args) -> Result<ExitCode> {
    let location = Location::parse(&args.store)?;
    let report = validate_store(&location)?;
    println!("{}", report.store);
    for array in &report.arrays {
        let nan = match array.nan_count {
            Some(n) => format!(", NaN {n} of {} ({:.1}%)", array.element_count, percent(n, array.element_count)),
            None => String::new(),
        };
        println!(
            "  {:<10} shape {:?}, chunks {}/{}{nan}",
            array.name, array.shape, array.chunks_present, array.chunks_expected
        );
    }
    if report.is_complete() {
        println!("complete");
        return Ok(ExitCode::SUCCESS);
    }
    for problem in &report.problems {
        println!("  problem: {problem}");
    }
    let count = report.problems.len();
    let plural = if count == 1 { "" } else { "s" };
    eprintln!("error: {}: incomplete store ({count} problem{plural})", report.store);
    Ok(ExitCode::from(1))
}

fn percent(part: u64, whole: u64) -> f64 {
    if whole == 0 { 0.0 } else { part as f64 * 100.0 / whole as f64 }
}
