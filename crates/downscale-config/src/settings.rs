//! The typed view of the merged configuration.
//!
//! Every fixed section denies unknown fields, so a key that the built-in
//! defaults list but these types do not (or the reverse) fails the crate's own
//! tests instead of being silently dropped. String values are kept raw:
//! `$VAR` references are expanded only when a value is used, through
//! [`Config::expand`](crate::Config::expand), so a secret never sits in a
//! `Settings` that might be logged.

use std::collections::BTreeMap;
use std::fmt;

use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, Visitor};

use crate::memory::{MemoryLimit, absolute_bytes};
use crate::redact::{hide_uri_password, shown_text};

/// The whole configuration, as the rest of the tool consumes it.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// Which runtime to run on; `None` leaves the choice to the caller.
    pub runtime: Option<RuntimeKind>,
    /// Where pipeline outputs go.
    pub storage: Storage,
    /// Where the intake-esm catalogs are.
    pub data_catalog: DataCatalog,
    /// Switches that change how a run behaves.
    pub run_options: RunOptions,
    /// Per-runtime resources.
    pub runtimes: Runtimes,
    /// GARD's settings beyond the parameter file.
    pub gard: Gard,
    /// The web dashboard's settings.
    pub dashboard: Dashboard,
    /// Where runs are reported to as they go, beside the run records.
    pub reporting: Reporting,
    /// The SQLite file of run records (runs, tasks, log lines), on a local disk: several processes share it.
    pub run_records: String,
}

/// The runtimes the tool knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RuntimeKind {
    /// This machine, all cores by default.
    Local,
    /// This machine with the small footprint of a CI runner.
    Ci,
    /// Jobs submitted to a Slurm cluster.
    Slurm,
    /// A dask distributed cluster.
    Dask,
}

impl RuntimeKind {
    /// Every runtime, in the order error messages list them.
    pub const ALL: [RuntimeKind; 4] = [RuntimeKind::Local, RuntimeKind::Ci, RuntimeKind::Slurm, RuntimeKind::Dask];

    /// The name used in configuration (`local`, `ci`, `slurm`, `dask`).
    pub fn as_str(self) -> &'static str {
        match self {
            RuntimeKind::Local => "local",
            RuntimeKind::Ci => "ci",
            RuntimeKind::Slurm => "slurm",
            RuntimeKind::Dask => "dask",
        }
    }
}

impl fmt::Display for RuntimeKind {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Hand-written so that a wrong value is reported as "expected one of local,
/// ci, slurm, dask" rather than serde's wording about variant identifiers.
impl<'de> Deserialize<'de> for RuntimeKind {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct KindVisitor;
        impl Visitor<'_> for KindVisitor {
            type Value = RuntimeKind;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                let names: Vec<&str> = RuntimeKind::ALL.iter().map(|kind| kind.as_str()).collect();
                write!(f, "one of {}", names.join(", "))
            }
            fn visit_str<E: de::Error>(self, text: &str) -> Result<RuntimeKind, E> {
                RuntimeKind::ALL
                    .into_iter()
                    .find(|kind| kind.as_str() == text)
                    .ok_or_else(|| E::invalid_value(de::Unexpected::Str(text), &self))
            }
        }
        deserializer.deserialize_str(KindVisitor)
    }
}

/// The three storage areas of a run.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Storage {
    /// Intermediate products that later steps reuse (the cache).
    pub intermediate: StorageLocation,
    /// Final downscaled outputs.
    pub results: StorageLocation,
    /// Throw-away working space.
    pub scratch: StorageLocation,
}

/// An object-store location with its backend options.
///
/// Its `Debug` output hides secrets the way `show` does, since options may
/// hold literal credentials and `Debug` output ends up in logs.
#[derive(Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StorageLocation {
    /// A local path or a URL such as `s3://bucket/prefix`; raw, see
    /// [`Config::expand`](crate::Config::expand).
    pub uri: String,
    /// Object-store backend options (`aws_endpoint`, `allow_http`, ...),
    /// free-form; raw, see [`Config::expand_options`](crate::Config::expand_options).
    #[serde(deserialize_with = "string_map")]
    pub options: BTreeMap<String, String>,
}

impl fmt::Debug for StorageLocation {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        let options: BTreeMap<&str, String> =
            self.options.iter().map(|(key, value)| (key.as_str(), shown_text(key, value))).collect();
        f.debug_struct("StorageLocation")
            .field("uri", &hide_uri_password(&self.uri))
            .field("options", &options)
            .finish()
    }
}

/// The intake-esm collections to read inputs from.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DataCatalog {
    /// Climate-model collection: a path or URL of its JSON description.
    pub model: String,
    /// Observation collection: a path or URL of its JSON description.
    pub obs: String,
}

/// Switches that change how a run behaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunOptions {
    /// Reuse intermediate products already in storage.
    pub use_cache: bool,
    /// Also write multi-resolution pyramids for web maps.
    pub generate_pyramids: bool,
    /// Reproduce the original system's flows bit for bit, for comparison with its published outputs, where this
    /// tool's defaults depart from them (BCSD: the original's point models with `fit`'s arguments swapped and
    /// additive anomalies, instead of quantile delta mapping and ratios for precipitation).
    pub carbonplan_compat: bool,
    /// The seed of a run's random draws (GARD's random fields): another seed makes another realisation of the same
    /// run; the same seed the same one.
    pub seed: u64,
    /// Evaluate each run as tasks of its flow: skill against the observations, quality checks, and the report,
    /// published beside its outputs (`...evaluation.json`, `...report.html`).
    pub evaluate: bool,
}

/// GARD's settings beyond the parameter file.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Gard {
    /// The correlation lengths of the random fields of its random effects.
    pub random_fields: RandomFields,
}

/// The web dashboard's settings.
#[derive(Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Dashboard {
    /// The token every request must carry (required to serve beyond loopback); a secret, never shown.
    pub token: Option<String>,
}

impl std::fmt::Debug for Dashboard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let token = self.token.as_ref().map(|_| crate::redact::REDACTED);
        f.debug_struct("Dashboard").field("token", &token).finish()
    }
}

/// The correlation lengths of GARD's random fields, per kind of variable.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RandomFields {
    /// For precipitation.
    pub precipitation: FieldLengths,
    /// For temperatures (`tas`, `tasmax`, `tasmin` share one field, as the original's did).
    pub temperature: FieldLengths,
}

/// A random field's Gaussian correlation lengths in space and time.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FieldLengths {
    /// In kilometres.
    pub length_km: f64,
    /// In days.
    pub length_days: f64,
}

/// Where runs are reported to as they go, beside the run records.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Reporting {
    /// A Prefect server that shows the runs in its UI.
    pub prefect: PrefectReporting,
}

/// A Prefect 3 server that mirrors each run. Its `Debug` output hides a password in the URL, as `show` does.
#[derive(Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PrefectReporting {
    /// The server's REST API, `/api` included (`http://127.0.0.1:4200/api`, as Prefect's own `PREFECT_API_URL`);
    /// `None` reports nothing. Checked to be an http(s) URL when read, so a typo fails before a run rather than
    /// becoming a warning in its log; raw, see [`Config::expand`](crate::Config::expand).
    #[serde(deserialize_with = "http_url")]
    pub api_url: Option<String>,
}

impl fmt::Debug for PrefectReporting {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.debug_struct("PrefectReporting").field("api_url", &self.api_url.as_deref().map(hide_uri_password)).finish()
    }
}

/// An optional http:// or https:// URL with a host. A wrong value is quoted with any password hidden: the
/// credentials of a server's basic authentication may be written in the URL.
fn http_url<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<String>, D::Error> {
    let Some(text) = Option::<String>::deserialize(deserializer)? else { return Ok(None) };
    let is_http = url::Url::parse(&text)
        .is_ok_and(|url| matches!(url.scheme(), "http" | "https") && url.host_str().is_some_and(|h| !h.is_empty()));
    if !is_http {
        let shown = hide_uri_password(&text);
        return Err(de::Error::invalid_value(
            de::Unexpected::Str(&shown),
            &"an http:// or https:// URL such as http://127.0.0.1:4200/api",
        ));
    }
    Ok(Some(text))
}

/// Resources of each runtime.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Runtimes {
    /// This machine.
    pub local: LocalRuntime,
    /// This machine inside CI: same shape as `local`, smaller defaults.
    pub ci: LocalRuntime,
    /// A Slurm cluster.
    pub slurm: SlurmRuntime,
    /// A dask distributed cluster.
    pub dask: DaskRuntime,
}

/// A runtime on the current machine.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LocalRuntime {
    /// Worker threads; 0 means one per core. A number above the machine's cores is capped to the cores (see
    /// [`LocalRuntime::worker_threads`]), and [`Config::warnings`](crate::Config::warnings) says so.
    pub threads: u32,
    /// How much memory the run may use; an absolute size is at least [`MIN_RUN_MEMORY`].
    #[serde(deserialize_with = "run_memory")]
    pub memory_limit: MemoryLimit,
}

/// The smallest absolute memory limit of a run on this machine. The process itself (libraries, coordinates, the
/// allocator's slack) takes about 100 MB of the budget, and tasks size their blocks from what is left: below this
/// they would stream through blocks of a few days or cells, correct but many times slower.
pub const MIN_RUN_MEMORY: u64 = 128 << 20;

impl LocalRuntime {
    /// The worker threads to start on a machine with `cores` cores: one per core for 0, and never more than the
    /// cores. The work is computation and local I/O, so threads beyond the cores only share them, while each
    /// thread gets its own share of the memory budget: 5000 threads on 2 cores shrank every block to a sliver and
    /// turned a 0.35 s run into minutes.
    pub fn worker_threads(&self, cores: usize) -> usize {
        let cores = cores.max(1);
        match self.threads as usize {
            0 => cores,
            threads => threads.min(cores),
        }
    }
}

/// Slurm job parameters.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SlurmRuntime {
    /// `--partition`, if any.
    #[serde(deserialize_with = "lenient_optional_string")]
    pub partition: Option<String>,
    /// `--account`, if any; numeric account names are common, hence lenient.
    #[serde(deserialize_with = "lenient_optional_string")]
    pub account: Option<String>,
    /// `--cpus-per-task`, 1 or more.
    #[serde(deserialize_with = "at_least_one")]
    pub cpus_per_task: u32,
    /// `--mem`, in bytes (written like `16GiB`).
    #[serde(deserialize_with = "absolute_bytes")]
    pub memory: u64,
    /// `--time`, in any form Slurm accepts (`02:00:00`, `90`, `1-00:00`).
    #[serde(deserialize_with = "lenient_string")]
    pub time_limit: String,
    /// Extra `sbatch` arguments, passed through unchanged.
    pub extra_args: Vec<String>,
    /// How many times a failed job (a task, or one shard's array element) is submitted again before the run fails.
    pub resubmissions: u32,
    /// The folder of the jobs' log files (`<job>.out` with the task's state, `<job>.err` with its log lines), on a
    /// file system the nodes and the submitting machine share.
    pub log_dir: String,
}

/// Dask distributed cluster parameters.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DaskRuntime {
    /// Address of an existing scheduler; `None` starts a local cluster.
    pub scheduler_address: Option<String>,
    /// Number of workers, 1 or more.
    #[serde(deserialize_with = "at_least_one")]
    pub n_workers: u32,
    /// Threads per worker, 1 or more.
    #[serde(deserialize_with = "at_least_one")]
    pub threads_per_worker: u32,
    /// Memory limit of each worker.
    pub memory_limit: MemoryLimit,
    /// How many times a failed task (or shard) is submitted again before the run fails.
    pub resubmissions: u32,
    /// The Python interpreter that runs the driver: one with `dask.distributed` installed (and `bokeh` for the
    /// dashboard).
    pub python: String,
}

/// A count of workers, threads or CPUs, where 0 would start nothing (a local runtime's `threads` is not one: its 0
/// means one per core).
fn at_least_one<'de, D: Deserializer<'de>>(deserializer: D) -> Result<u32, D::Error> {
    match u32::deserialize(deserializer)? {
        0 => Err(de::Error::custom("expected 1 or more, found 0")),
        count => Ok(count),
    }
}

/// A local runtime's memory limit: an absolute size is at least [`MIN_RUN_MEMORY`]. (A share of RAM is checked
/// by its form only here; it becomes bytes when a runtime starts.)
fn run_memory<'de, D: Deserializer<'de>>(deserializer: D) -> Result<MemoryLimit, D::Error> {
    let limit = MemoryLimit::deserialize(deserializer)?;
    match limit {
        MemoryLimit::Bytes(bytes) if bytes < MIN_RUN_MEMORY => Err(de::Error::custom(format!(
            "a run's memory limit must be at least {} MiB (the process alone takes about 100 MB), found {bytes} bytes",
            MIN_RUN_MEMORY >> 20
        ))),
        _ => Ok(limit),
    }
}

/// Accepts any scalar and keeps its text: YAML reads `allow_http: true` as a
/// boolean and `time_limit: 90` as an integer, while the consumers (object
/// store options, `sbatch --time`) want the text.
struct LenientString;

impl Visitor<'_> for LenientString {
    type Value = String;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a string, number or boolean")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<String, E> {
        Ok(v.to_owned())
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<String, E> {
        Ok(v.to_string())
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<String, E> {
        Ok(v.to_string())
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<String, E> {
        Ok(v.to_string())
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<String, E> {
        Ok(v.to_string())
    }
}

fn lenient_string<'de, D: Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    deserializer.deserialize_any(LenientString)
}

fn lenient_optional_string<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<String>, D::Error> {
    struct OptionVisitor;
    impl<'de> Visitor<'de> for OptionVisitor {
        type Value = Option<String>;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a string, number, boolean or null")
        }
        fn visit_none<E: de::Error>(self) -> Result<Option<String>, E> {
            Ok(None)
        }
        fn visit_unit<E: de::Error>(self) -> Result<Option<String>, E> {
            Ok(None)
        }
        fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Option<String>, D::Error> {
            lenient_string(deserializer).map(Some)
        }
    }
    deserializer.deserialize_option(OptionVisitor)
}

fn string_map<'de, D: Deserializer<'de>>(deserializer: D) -> Result<BTreeMap<String, String>, D::Error> {
    struct MapVisitor;
    impl<'de> Visitor<'de> for MapVisitor {
        type Value = BTreeMap<String, String>;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a mapping of option names to values")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            let mut options = BTreeMap::new();
            while let Some(key) = map.next_key::<String>()? {
                let value = map.next_value_seed(LenientSeed)?;
                options.insert(key, value);
            }
            Ok(options)
        }
    }
    deserializer.deserialize_map(MapVisitor)
}

struct LenientSeed;

impl<'de> de::DeserializeSeed<'de> for LenientSeed {
    type Value = String;
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<String, D::Error> {
        lenient_string(deserializer)
    }
}
