//! `downscale plot`: a map or the domain-mean series of a store's variable, as a PNG or SVG file.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, anyhow, bail};
use clap::ValueEnum;
use downscale_plot::{
    Coastlines, FieldSelection, ImageFormat, ImageSpec, MapOptions, SeriesStep, TimeSpec, domain_mean_series,
    render_map, render_series, select_field,
};

/// Image sizes in pixels: a map has room for its colour bar beside it, a series is wide for its dates.
const MAP_SIZE: (u32, u32) = (900, 650);
const SERIES_SIZE: (u32, u32) = (900, 450);

#[derive(clap::Args)]
pub(crate) struct Args {
    /// Zarr store or NetCDF file (path or URL) with a (time, lat, lon) variable.
    store: String,
    /// Variable to plot (default: the only data variable).
    #[arg(long)]
    var: Option<String>,
    /// The day to map (YYYY-MM-DD), or with --mean the month (YYYY-MM) or year (YYYY) to average [default: the
    /// first day].
    #[arg(long, value_name = "T", conflicts_with = "series")]
    time: Option<String>,
    /// Map the mean of the --time month or year, or of the whole record (all); with --series, plot monthly or
    /// annual means.
    #[arg(long, value_enum)]
    mean: Option<Mean>,
    /// Plot the area-weighted domain mean through time instead of a map.
    #[arg(long)]
    series: bool,
    /// The image to write: FILE.png or FILE.svg (replaced if it exists).
    #[arg(long, value_name = "FILE")]
    out: PathBuf,
}

#[derive(Clone, Copy, ValueEnum)]
enum Mean {
    Month,
    Year,
    All,
}

pub(crate) fn run(args: Args) -> Result<ExitCode> {
    let format = ImageFormat::from_path(&args.out)?;
    let selection = if args.series { None } else { Some(map_selection(args.time.as_deref(), args.mean)?) };
    let series_step = match (args.series, args.mean) {
        (false, _) | (true, None) => SeriesStep::Daily,
        (true, Some(Mean::Month)) => SeriesStep::Monthly,
        (true, Some(Mean::Year)) => SeriesStep::Annual,
        (true, Some(Mean::All)) => bail!("--mean all makes one map, not a series: use --mean month or --mean year"),
    };
    let array = super::read_input(&args.store, args.var.as_deref())?;
    let image = match selection {
        Some(selection) => {
            let field = select_field(&array, selection)?;
            let coastlines = Coastlines::natural_earth_near(&field)?;
            let spec = ImageSpec { format, width: MAP_SIZE.0, height: MAP_SIZE.1 };
            render_map(&field, &coastlines, &MapOptions::default(), spec)?
        }
        None => {
            let series = domain_mean_series(&array, series_step)?;
            render_series(&series, None, ImageSpec { format, width: SERIES_SIZE.0, height: SERIES_SIZE.1 })?
        }
    };
    write_atomically(&args.out, &image.bytes)?;
    println!("{}", args.out.display());
    Ok(ExitCode::SUCCESS)
}

/// The map that `--time` and `--mean` ask for together.
fn map_selection(time: Option<&str>, mean: Option<Mean>) -> Result<FieldSelection> {
    let time = time.map(str::parse::<TimeSpec>).transpose().map_err(|e| anyhow!("--time: {e}"))?;
    let mean = mean.map(|mean| match mean {
        Mean::Month => downscale_plot::Mean::Month,
        Mean::Year => downscale_plot::Mean::Year,
        Mean::All => downscale_plot::Mean::All,
    });
    FieldSelection::from_time_and_mean(time, mean).map_err(|e| anyhow!("--time/--mean: {e}"))
}

/// Writes `bytes` under a temporary name beside `path`, then renames it there: a reader (a browser refreshing the
/// image) never sees a half-written file, and a failure leaves whatever was at `path` before.
fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let folder = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let cannot = || format!("{}: cannot write the image", path.display());
    // Permissions as for any file the user creates (less the umask), not the temporary file's private 0600.
    let mut temporary = tempfile::Builder::new()
        .prefix(".downscale-plot-")
        .permissions(std::fs::Permissions::from_mode(0o666))
        .tempfile_in(folder)
        .with_context(cannot)?;
    temporary.write_all(bytes).with_context(cannot)?;
    temporary.as_file().sync_all().with_context(cannot)?;
    temporary.persist(path).map_err(|e| e.error).with_context(cannot)?;
    Ok(())
}
