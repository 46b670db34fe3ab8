//! Drawing the correlated random fields (SCRF) of GARD's random effects for a year of a global 0.25° grid (721 x
//! 1440 cells), with precipitation's and temperature's length scales, in seconds and peak memory. The original drew
//! one 10-year field per variable and tiled it; this tool draws the whole prediction period, so the cost per day
//! matters.

use std::time::Instant;

use anyhow::Result;
use downscale_engine::resources::{peak_rss, release_free_memory, reset_peak_rss};
use downscale_methods::scrf::LatLonFieldStream;

pub(super) fn run(days: usize) -> Result<()> {
    let lats: Vec<f64> = (0..721).map(|i| -90.0 + 0.25 * i as f64).collect();
    let lons: Vec<f64> = (0..1440).map(|j| 0.25 * j as f64).collect();
    let cell_days = (lats.len() * lons.len() * days) as f64;
    println!("SCRF on a global 0.25° grid ({} x {} cells), {} days, one thread", lats.len(), lons.len(), days);
    println!("{:>12} {:>9} {:>9} {:>9} {:>14} {:>10}", "field", "L km", "T days", "seconds", "ns/cell-day", "peak RSS");
    for (name, length_km, length_days) in [("pr", 404.3, 2.0), ("temperature", 428.6, 3.8)] {
        release_free_memory();
        reset_peak_rss();
        let start = Instant::now();
        let mut stream = LatLonFieldStream::new(length_km, length_days, &lats, &lons, 1)?;
        // The sum keeps every day's field used, as a flow's writing would.
        let mut checksum = 0.0;
        for _ in 0..days {
            checksum += stream.next_day()[[360, 720]];
        }
        let seconds = start.elapsed().as_secs_f64();
        let peak = peak_rss().unwrap_or(0) as f64 / 1e6;
        println!(
            "{name:>12} {length_km:>9.1} {length_days:>9.1} {seconds:>9.2} {:>14.1} {peak:>9.0}M",
            seconds * 1e9 / cell_days
        );
        std::hint::black_box(checksum);
    }
    println!("goal: a year of the global field in under a minute on 2 cores");
    Ok(())
}
