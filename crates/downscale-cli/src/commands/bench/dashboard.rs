//! `downscale bench dashboard`: how fast the dashboard answers the runs list and a run's page from the records of a
//! machine that has run for years: 10,000 runs and 1,000,000 log lines by default.
//!
//! The records are built through the engine's own API from a real run of the shipped Iberia BCSD example (see
//! [`records`]), the dashboard is served in this process on a loopback port, and every request is a real HTTP
//! request over loopback, its time taken from sending it to reading the whole body. No other dashboard of these
//! records exists to time in the same run, so the reference is the goal the dashboard was built to: each request
//! (and a run's page, its three requests in turn) under 100 ms at the 95th percentile.

mod records;

use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use downscale_dashboard::{Dashboard, DashboardOptions, StorageRoots};
use downscale_engine::Records;
use downscale_engine::records::{LogFilter, RunFilter};

use self::records::{Generated, ModelRun};

/// The goal for each request, and for a run's page.
const TARGET: Duration = Duration::from_millis(100);
/// Requests of each kind made before the timed ones, so that connections, caches and pages are warm.
const WARM_UP: usize = 5;
/// Runs whose pages are requested, spread from the oldest to the newest.
const PICKED_RUNS: usize = 10;

#[derive(clap::Args)]
pub(crate) struct Args {
    /// Runs in the records.
    #[arg(long, default_value_t = 10_000)]
    runs: usize,
    /// Log lines in the records, spread evenly over the runs.
    #[arg(long, default_value_t = 1_000_000)]
    log_lines: usize,
    /// Timed requests of each kind.
    #[arg(long, default_value_t = 100)]
    requests: usize,
    /// Build the records in this file and keep them (with the example run they are modelled on, beside it), or
    /// time a file built by an earlier run of this bench as it is [default: a temporary file, removed afterwards].
    #[arg(long, value_name = "PATH")]
    records: Option<PathBuf>,
}

pub(crate) fn run(args: Args) -> Result<ExitCode> {
    if args.runs == 0 || args.requests == 0 {
        bail!("--runs and --requests must be at least 1");
    }
    let temporary = tempfile::tempdir()?;
    let path = args.records.clone().unwrap_or_else(|| temporary.path().join("runs.sqlite"));
    let folder = path.parent().filter(|p| !p.as_os_str().is_empty()).map_or_else(|| ".".into(), PathBuf::from);
    let example_dir = folder.join("example-run");
    let picked = prepare(&args, &path, &example_dir)?;

    let dashboard = Dashboard::bind(DashboardOptions {
        bind: SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
        records: path.clone(),
        token: None,
        roots: StorageRoots::new([example_dir.to_str().context("the records' folder is not UTF-8")?]),
    })?;
    let address = dashboard.address()?;
    // Serves until the process ends.
    std::thread::spawn(move || dashboard.serve());
    let client = Client::new(address)?;

    let mut rows = Vec::new();
    let mut time = |label: String, paths: &dyn Fn(usize) -> Vec<String>| -> Result<()> {
        rows.push((label, client.time(args.requests, paths)?));
        Ok(())
    };
    let run = |n: usize| picked.runs[n % picked.runs.len()];
    time("runs list: /api/runs".into(), &|_| vec!["/api/runs".into()])?;
    time("  by state: ?state=failed".into(), &|_| vec!["/api/runs?state=failed".into()])?;
    let (text, matches) = (&picked.rare_text, picked.rare_matches);
    time(format!("  by text: ?q=(run id of {matches} runs)"), &|_| vec![format!("/api/runs?q={text}")])?;
    time("run: /api/runs/{id}".into(), &|n| vec![format!("/api/runs/{}", run(n))])?;
    time("  /api/runs/{id}/resources".into(), &|n| vec![format!("/api/runs/{}/resources", run(n))])?;
    time("  /api/runs/{id}/logs (last 500)".into(), &|n| vec![format!("/api/runs/{}/logs", run(n))])?;
    time("run page: the three in turn".into(), &|n| {
        let id = run(n);
        vec![format!("/api/runs/{id}"), format!("/api/runs/{id}/resources"), format!("/api/runs/{id}/logs")]
    })?;
    time("logs by level: ?level=warn".into(), &|n| vec![format!("/api/runs/{}/logs?level=warn", run(n))])?;
    let task = &picked.task;
    time(format!("logs by task: ?task={task}"), &|n| vec![format!("/api/runs/{}/logs?task={task}", run(n))])?;

    println!(
        "{:<40} {:>8} {:>8} {:>8} {:>10} {:>11}",
        "request", "p50 ms", "p95 ms", "max ms", "target ms", "p95/target"
    );
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    for (label, timings) in &rows {
        let (p50, p95, max) = (timings.percentile(50), timings.percentile(95), timings.percentile(100));
        println!(
            "{label:<40} {:>8.2} {:>8.2} {:>8.2} {:>10.0} {:>11.2}",
            ms(p50),
            ms(p95),
            ms(max),
            ms(TARGET),
            p95.as_secs_f64() / TARGET.as_secs_f64()
        );
    }
    println!(
        "{} requests of each kind (after {WARM_UP} to warm up) over loopback, each timed from sending to the whole body \
         read; run pages of {} runs from the oldest to the newest",
        args.requests,
        picked.runs.len()
    );
    println!(
        "target: the dashboard's goal (the runs list and a run's page under 100 ms at 10,000 runs and 1,000,000 log \
         lines); no other dashboard of these records runs here to compare against"
    );
    Ok(ExitCode::SUCCESS)
}

/// What the requests ask for.
struct Picked {
    /// Record numbers of runs from the oldest to the newest.
    runs: Vec<i64>,
    /// A task every run has.
    task: String,
    /// Text that few runs contain (the run id of the oldest run), so the text filter reads every run.
    rare_text: String,
    /// How many runs contain it.
    rare_matches: usize,
}

/// Builds the records (or reads those an earlier run built) and picks what to ask for; prints what they hold.
fn prepare(args: &Args, path: &std::path::Path, example_dir: &std::path::Path) -> Result<Picked> {
    let reused = args.records.is_some() && path.exists();
    let records = Records::open(path)?;
    if !reused {
        std::fs::create_dir_all(example_dir)?;
        let (model, seconds) = super::time(|| ModelRun::run(example_dir))?;
        println!(
            "example run: {} on the ci runtime in {:.1} s ({} tasks)",
            model.run.run_id,
            seconds.as_secs_f64(),
            model.tasks.len()
        );
        let generated = records::generate(&records, &model, args.runs, args.log_lines)?;
        print_generated(&generated, path);
    }
    let newest = records.runs(1)?.into_iter().next().context("the records hold no run")?;
    if reused {
        let lines = records.log_page(newest.id, &LogFilter { limit: 1, ..LogFilter::default() })?;
        println!(
            "records: {path} as built before: {} runs, {} log lines",
            newest.id,
            lines.last().map_or(0, |line| line.seq),
            path = path.display()
        );
    }
    let count = usize::try_from(newest.id)?.max(1);
    let runs: Vec<i64> = (0..PICKED_RUNS.min(count))
        .map(|k| 1 + (k * (count - 1) / (PICKED_RUNS.min(count) - 1).max(1)) as i64)
        .collect();
    let oldest = records.find_run("1")?.context("the records have no run 1")?;
    let task = records.tasks(oldest.id)?.into_iter().next().context("the oldest run has no task")?.task_id;
    let filter = RunFilter { text: Some(oldest.run_id.clone()), limit: count, ..RunFilter::default() };
    let rare_matches = records.run_summaries(&filter)?.len();
    Ok(Picked { runs, task, rare_text: oldest.run_id, rare_matches })
}

fn print_generated(generated: &Generated, path: &std::path::Path) {
    println!(
        "records: {} runs ({} failed, {} running, {} found in the cache, the rest succeeded), {} log lines, {} \
         resource samples, generated in {:.1} s in {}",
        generated.runs,
        generated.failed,
        generated.running,
        generated.cached,
        generated.log_lines,
        generated.samples,
        generated.seconds,
        path.display()
    );
}

/// An HTTP client of the dashboard: reqwest's async client on a current-thread runtime, as the Prefect mirror uses
/// (its blocking client would change reqwest's features for the whole workspace).
struct Client {
    runtime: tokio::runtime::Runtime,
    http: reqwest::Client,
    base: String,
}

impl Client {
    fn new(address: SocketAddr) -> Result<Client> {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
        let http = {
            let _inside = runtime.enter();
            reqwest::Client::builder().timeout(Duration::from_secs(30)).build()?
        };
        Ok(Client { runtime, http, base: format!("http://{address}") })
    }

    /// Times `count` rounds of the requests `paths` gives for round `n` (all of them, in turn), after warming up.
    fn time(&self, count: usize, paths: &dyn Fn(usize) -> Vec<String>) -> Result<Timings> {
        for n in 0..WARM_UP {
            for path in paths(n) {
                self.get(&path)?;
            }
        }
        let mut timings = Vec::with_capacity(count);
        for n in 0..count {
            let paths = paths(n);
            let start = Instant::now();
            for path in &paths {
                self.get(path)?;
            }
            timings.push(start.elapsed());
        }
        timings.sort();
        Ok(Timings(timings))
    }

    /// One request, its whole body read; an answer other than 200 is an error.
    fn get(&self, path: &str) -> Result<()> {
        let url = format!("{}{path}", self.base);
        self.runtime.block_on(async {
            let response = self.http.get(&url).send().await.with_context(|| format!("GET {path}"))?;
            let status = response.status();
            let body = response.bytes().await.with_context(|| format!("GET {path}"))?;
            if !status.is_success() {
                bail!("GET {path}: {status}: {}", String::from_utf8_lossy(&body));
            }
            Ok(())
        })
    }
}

/// Durations of one kind of request, ascending.
struct Timings(Vec<Duration>);

impl Timings {
    /// The `p`th percentile (nearest rank): the smallest time at least `p` % of the requests took no longer than.
    fn percentile(&self, p: usize) -> Duration {
        let rank = (self.0.len() * p).div_ceil(100).max(1);
        self.0[rank - 1]
    }
}
