//! `downscale params validate` and `downscale params generate`: run parameter files.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::Subcommand;
use downscale_catalog::Catalog;
use downscale_params::{CatalogCoverage, Method, Plan, RunParameters, check_coverage, generate, to_pretty_json};

use super::{ConfigArgs, open_catalog};

#[derive(Subcommand)]
pub(crate) enum Command {
    /// Check parameter files: every problem of every file, one line each naming the file and the key, and their
    /// years against the data catalogs; keys a method ignores get a note. Exits with 1 when any file is invalid.
    Validate {
        /// Parameter files (JSON).
        #[arg(required = true, value_name = "FILE")]
        files: Vec<PathBuf>,
        #[command(flatten)]
        catalogs: CatalogArgs,
        /// Check the files alone, without the data catalogs.
        #[arg(long)]
        no_data: bool,
    },
    /// Write a parameter file for every method × model × member × scenario × variable whose data the catalogs hold,
    /// as <OUT>/<method>/<run_id>.json, with the original system's templates (train 1981–2010, historical
    /// 1950–2014, scenarios 2015–2099, MACA 1950–2099 unless given otherwise).
    Generate(Box<GenerateArgs>),
}

#[derive(clap::Args)]
pub(crate) struct CatalogArgs {
    /// Model catalog (intake-esm collection JSON); default: the configuration's `data_catalog.model`.
    #[arg(long, value_name = "JSON")]
    catalog: Option<PathBuf>,
    /// Observation catalog; default: the configuration's `data_catalog.obs`.
    #[arg(long, value_name = "JSON")]
    obs_catalog: Option<PathBuf>,
}

#[derive(clap::Args)]
pub(crate) struct GenerateArgs {
    /// Folder to write into (one subfolder per method).
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
    #[command(flatten)]
    catalogs: CatalogArgs,
    /// Methods (default: all).
    #[arg(long, value_delimiter = ',', value_name = "METHOD")]
    methods: Vec<String>,
    /// Models (catalog `source_id`; default: every one in the catalog).
    #[arg(long, value_delimiter = ',', value_name = "MODEL")]
    models: Vec<String>,
    /// Members (default: every one).
    #[arg(long, value_delimiter = ',', value_name = "MEMBER")]
    members: Vec<String>,
    /// Scenarios, `historical` included (default: every experiment in the catalog).
    #[arg(long, value_delimiter = ',', value_name = "SCENARIO")]
    scenarios: Vec<String>,
    /// Variables (default: tasmax,tasmin,pr).
    #[arg(long, value_delimiter = ',', value_name = "VAR")]
    variables: Vec<String>,
    /// Observation product (the observation catalog's `source_id`).
    #[arg(long, default_value = "ERA5")]
    obs: String,
    /// Training years.
    #[arg(long, num_args = 2, value_names = ["Y0", "Y1"])]
    train: Option<Vec<i32>>,
    /// Prediction years of historical runs.
    #[arg(long, num_args = 2, value_names = ["Y0", "Y1"])]
    historical: Option<Vec<i32>>,
    /// Prediction years of scenario runs.
    #[arg(long, num_args = 2, value_names = ["Y0", "Y1"])]
    future: Option<Vec<i32>>,
    /// Bounding box, written as given.
    #[arg(long, num_args = 4, value_names = ["LATMIN", "LATMAX", "LONMIN", "LONMAX"], allow_hyphen_values = true)]
    bbox: Option<Vec<String>>,
    /// Predictors that gard_multivariate puts before the variable (default: ua,va).
    #[arg(long, value_delimiter = ',', value_name = "VAR")]
    multivariate_predictors: Vec<String>,
}

pub(crate) fn run(command: Command, config: &ConfigArgs) -> Result<ExitCode> {
    match command {
        Command::Validate { files, catalogs, no_data } => validate(&files, &catalogs, no_data, config),
        Command::Generate(args) => generate_files(*args, config),
    }
}

impl CatalogArgs {
    /// The two catalogs, from the arguments or the configuration (loaded only when an argument is missing).
    fn open(&self, config: &ConfigArgs) -> Result<CatalogCoverage> {
        let loaded = match (&self.catalog, &self.obs_catalog) {
            (Some(_), Some(_)) => None,
            _ => Some(config.load()?),
        };
        let open = |given: &Option<PathBuf>, key: &str| -> Result<Catalog> {
            match (given, &loaded) {
                (Some(path), _) => Ok(Catalog::open(path)?),
                (None, Some(loaded)) => open_catalog(loaded, key),
                (None, None) => bail!("{key}: no catalog given and no configuration loaded"),
            }
        };
        Ok(CatalogCoverage::new(
            open(&self.catalog, "data_catalog.model")?,
            open(&self.obs_catalog, "data_catalog.obs")?,
        )?)
    }
}

fn validate(files: &[PathBuf], catalogs: &CatalogArgs, no_data: bool, config: &ConfigArgs) -> Result<ExitCode> {
    let coverage = if no_data { None } else { Some(catalogs.open(config)?) };
    let mut invalid = 0;
    for file in files {
        let shown = file.display().to_string();
        // Notes go to stderr with the errors: stdout keeps one `ok` line per valid file for scripts.
        let problems = match RunParameters::read(file) {
            Ok(parameters) => {
                for line in parameters.note_lines(&shown) {
                    eprintln!("note: {line}");
                }
                let problems = coverage.as_ref().map(|c| check_coverage(&parameters, c)).unwrap_or_default();
                if problems.is_empty() {
                    println!("{shown}: ok, run id {}", parameters.run_id());
                    continue;
                }
                downscale_params::Problems { file: shown, problems, notes: Vec::new() }
            }
            Err(problems) => {
                for line in problems.note_lines() {
                    eprintln!("note: {line}");
                }
                problems
            }
        };
        invalid += 1;
        for line in problems.lines() {
            eprintln!("error: {line}");
        }
    }
    if invalid == 0 {
        return Ok(ExitCode::SUCCESS);
    }
    eprintln!("{invalid} of {} parameter files are invalid", files.len());
    Ok(ExitCode::from(1))
}

fn generate_files(args: GenerateArgs, config: &ConfigArgs) -> Result<ExitCode> {
    let coverage = args.catalogs.open(config)?;
    let mut plan = Plan { obs: args.obs, ..Plan::default() };
    if !args.methods.is_empty() {
        plan.methods = args
            .methods
            .iter()
            .map(|name| Method::parse(name).with_context(|| format!("--methods: unknown method `{name}`")))
            .collect::<Result<_>>()?;
    }
    plan.models = args.models;
    plan.members = args.members;
    plan.scenarios = args.scenarios;
    if !args.variables.is_empty() {
        plan.variables = args.variables;
    }
    if !args.multivariate_predictors.is_empty() {
        plan.multivariate_predictors = args.multivariate_predictors;
    }
    for (years, target, flag) in [
        (args.train, &mut plan.train, "--train"),
        (args.historical, &mut plan.historical, "--historical"),
        (args.future, &mut plan.future, "--future"),
    ] {
        if let Some(years) = years {
            if years[0] > years[1] {
                bail!("{flag} {} {}: the first year is after the second", years[0], years[1]);
            }
            *target = (years[0], years[1]);
        }
    }
    if let Some(bbox) = args.bbox {
        plan.bbox = [bbox[0].clone(), bbox[1].clone(), bbox[2].clone(), bbox[3].clone()];
    }
    let (runs, skipped) = generate(&plan, &coverage.experiments(), &coverage);
    for skip in &skipped {
        eprintln!("skipped {}: {}", skip.run_id, skip.reason);
    }
    for run in &runs {
        let path = args.out.join(run.method.as_str()).join(format!("{}.json", run.run_id()));
        write_atomically(&path, &to_pretty_json(run.to_json()))?;
        println!("{}", path.display());
    }
    eprintln!("wrote {} parameter files, skipped {} combinations", runs.len(), skipped.len());
    Ok(ExitCode::SUCCESS)
}

/// Writes under a temporary name in the same folder, then renames, so that no half-written file is ever seen.
fn write_atomically(path: &Path, text: &str) -> Result<()> {
    let folder = path.parent().expect("the path has a method folder");
    std::fs::create_dir_all(folder).with_context(|| format!("{}: cannot create the folder", folder.display()))?;
    let temporary = tempfile::NamedTempFile::new_in(folder)
        .with_context(|| format!("{}: cannot create a temporary file", folder.display()))?;
    std::fs::write(temporary.path(), text).with_context(|| format!("{}: cannot write", temporary.path().display()))?;
    temporary.persist(path).with_context(|| format!("{}: cannot write", path.display()))?;
    Ok(())
}
