//! The `slurm` runtime's cluster: jobs go in with `sbatch` (a sharded task's shards as one job array, dependencies
//! as `--dependency=afterok:...`), are watched with `squeue --json` (never `sbatch --wait`, which backs off to tens of
//! seconds) and cancelled with `scancel`. No Slurm library is linked: its client commands are the stable interface
//! every site has, and their JSON is versioned (`openapi/v0.0.38` in Slurm 22.05; newer versions wrap numbers and
//! states, which [`job_records`] reads too).

use std::collections::{BTreeSet, HashMap};
use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use downscale_config::SlurmRuntime;
use downscale_engine::{Cluster, EngineError, JobRef, JobRequest, JobStatus};
use downscale_message::one_line_text;
use serde_json::Value;

/// Jobs on a Slurm cluster, as `runtimes.slurm` configures them.
pub(crate) struct SlurmCluster {
    settings: SlurmRuntime,
    /// Where `<job>.out` and `<job>.err` go: absolute, as jobs run on other machines.
    log_dir: PathBuf,
    /// The working directory of every job: the submitting process's, so relative paths in the configuration and
    /// parameter file name the same files on the nodes (which share the file system).
    work_dir: PathBuf,
}

impl SlurmCluster {
    pub(crate) fn new(settings: SlurmRuntime, log_dir: PathBuf) -> SlurmCluster {
        let work_dir = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
        let log_dir = if log_dir.is_absolute() { log_dir } else { work_dir.join(log_dir) };
        SlurmCluster { settings, log_dir, work_dir }
    }

    /// The log file of a job with this extension (`out`, `err`).
    fn log_file(&self, job: &JobRef, extension: &str) -> PathBuf {
        self.log_dir.join(format!("{job}.{extension}"))
    }
}

impl Cluster for SlurmCluster {
    fn check(&self) -> Result<(), EngineError> {
        // One line per node and partition: the partition (the default one marked `*`), its state, CPUs and MiB.
        let output = slurm_command("sinfo", &["--noheader", "--Node", "--format=%P %a %c %m"])?;
        let mut partitions: HashMap<String, (u64, u64)> = HashMap::new();
        let mut default = None;
        for line in String::from_utf8_lossy(&output.stdout).lines() {
            let fields: Vec<&str> = line.split_whitespace().collect();
            let [partition, _availability, cpus, memory] = fields[..] else { continue };
            let name = partition.trim_end_matches('*').to_string();
            if partition.ends_with('*') {
                default = Some(name.clone());
            }
            let number = |text: &str| text.trim_end_matches('+').parse::<u64>().unwrap_or(0);
            let largest = partitions.entry(name).or_default();
            *largest = (largest.0.max(number(cpus)), largest.1.max(number(memory)));
        }
        let names = || partitions.keys().cloned().collect::<BTreeSet<_>>().into_iter().collect::<Vec<_>>().join(", ");
        let partition = match (&self.settings.partition, default) {
            (Some(wanted), _) if !partitions.contains_key(wanted) => {
                return Err(problem(format!(
                    "runtimes.slurm.partition = '{wanted}': the cluster has no such partition (it has: {})",
                    names()
                )));
            }
            (Some(wanted), _) => wanted.clone(),
            (None, Some(default)) => default,
            (None, None) => {
                return Err(problem(format!(
                    "the cluster has no default partition: set runtimes.slurm.partition (it has: {})",
                    names()
                )));
            }
        };
        let (cpus, memory_mib) = partitions[&partition];
        let wanted_mib = self.settings.memory.div_ceil(1 << 20);
        if wanted_mib > memory_mib {
            return Err(problem(format!(
                "runtimes.slurm.memory = {wanted_mib} MiB per job is more than any node of partition '{partition}' \
                 has ({memory_mib} MiB at most)"
            )));
        }
        if u64::from(self.settings.cpus_per_task) > cpus {
            return Err(problem(format!(
                "runtimes.slurm.cpus_per_task = {} is more than any node of partition '{partition}' has ({cpus} at \
                 most)",
                self.settings.cpus_per_task
            )));
        }
        std::fs::create_dir_all(&self.log_dir).map_err(|error| {
            problem(format!("runtimes.slurm.log_dir: cannot create {}: {error}", self.log_dir.display()))
        })
    }

    fn submit(&self, request: &JobRequest) -> Result<String, EngineError> {
        let settings = &self.settings;
        let mut args = vec![
            "--parsable".to_string(),
            format!("--job-name={}", request.name),
            format!("--chdir={}", self.work_dir.display()),
            format!("--cpus-per-task={}", settings.cpus_per_task),
            format!("--mem={}M", settings.memory.div_ceil(1 << 20)),
            format!("--time={}", settings.time_limit),
        ];
        if let Some(partition) = &settings.partition {
            args.push(format!("--partition={partition}"));
        }
        if let Some(account) = &settings.account {
            args.push(format!("--account={account}"));
        }
        let mut script = shell_words(&request.command);
        let pattern = match &request.elements {
            Some(elements) => {
                args.push(format!("--array={}", elements.iter().map(usize::to_string).collect::<Vec<_>>().join(",")));
                script.push_str(" --shard \"$SLURM_ARRAY_TASK_ID\"");
                "%A_%a"
            }
            None => "%j",
        };
        args.push(format!("--output={}", self.log_dir.join(format!("{pattern}.out")).display()));
        args.push(format!("--error={}", self.log_dir.join(format!("{pattern}.err")).display()));
        if !request.after.is_empty() {
            let jobs: Vec<String> = request.after.iter().map(JobRef::to_string).collect();
            args.push(format!("--dependency=afterok:{}", jobs.join(":")));
        }
        args.extend(settings.extra_args.iter().cloned());
        args.push(format!("--wrap={script}"));
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        let output = slurm_command("sbatch", &refs)?;
        // `--parsable` prints `<id>` or `<id>;<cluster>`.
        let stdout = String::from_utf8_lossy(&output.stdout);
        let id = stdout.trim().split(';').next().unwrap_or_default().to_string();
        if id.is_empty() || !id.chars().all(|c| c.is_ascii_digit()) {
            return Err(problem(format!(
                "sbatch printed no job id for {} (it printed '{}')",
                request.name,
                stdout.trim()
            )));
        }
        Ok(id)
    }

    fn poll(&self, jobs: &[JobRef]) -> Result<HashMap<JobRef, JobStatus>, EngineError> {
        let ids: BTreeSet<&str> = jobs.iter().map(|job| job.job.as_str()).collect();
        let list = ids.iter().copied().collect::<Vec<_>>().join(",");
        let output = slurm_command("squeue", &["--json", "--states=all", &format!("--jobs={list}")])?;
        let document: Value = serde_json::from_slice(&output.stdout)
            .map_err(|error| problem(format!("squeue --json printed what is not JSON: {error}")))?;
        let wanted: BTreeSet<&JobRef> = jobs.iter().collect();
        Ok(job_records(&document).into_iter().filter(|(job, _)| wanted.contains(job)).collect())
    }

    fn cancel(&self, jobs: &[JobRef]) -> Result<(), EngineError> {
        if jobs.is_empty() {
            return Ok(());
        }
        let ids: Vec<String> = jobs.iter().map(JobRef::to_string).collect();
        let refs: Vec<&str> = ids.iter().map(String::as_str).collect();
        // A job that ended meanwhile makes scancel complain; that is not a failure of cancelling the others.
        match run("scancel", &refs) {
            Ok(_) => Ok(()),
            Err(error) if error.kind() == ErrorKind::NotFound => Err(not_installed("scancel")),
            Err(_) => Ok(()),
        }
    }

    fn log_tail(&self, job: &JobRef) -> Option<String> {
        last_line(&self.log_file(job, "err"))
    }

    fn resubmissions(&self) -> u32 {
        self.settings.resubmissions
    }
}

/// Runs a Slurm client command; a missing command or a non-zero exit is one line naming the runtime.
fn slurm_command(program: &str, args: &[&str]) -> Result<Output, EngineError> {
    let output = run(program, args).map_err(|error| match error.kind() {
        ErrorKind::NotFound => not_installed(program),
        _ => problem(format!("cannot run {program}: {error}")),
    })?;
    if output.status.success() {
        return Ok(output);
    }
    let stderr = String::from_utf8_lossy(&output.stderr);
    // Slurm prefixes its messages with the command and a level (`sbatch: error: ...`); the last one says the most.
    let said: Vec<&str> = stderr
        .lines()
        .map(|line| line.trim_start_matches(&format!("{program}: ")).trim_start_matches("error: ").trim())
        .filter(|line| !line.is_empty())
        .collect();
    let said = if said.is_empty() { format!("exit status {}", output.status) } else { said.join("; ") };
    Err(problem(format!("{program} failed: {}", one_line_text(&said))))
}

fn run(program: &str, args: &[&str]) -> std::io::Result<Output> {
    Command::new(program).args(args).output()
}

fn not_installed(program: &str) -> EngineError {
    problem(format!(
        "`{program}` is not installed here (or not on PATH): the slurm runtime submits from a machine with Slurm's \
         client commands"
    ))
}

/// A problem of the runtime itself, named as such.
fn problem(detail: String) -> EngineError {
    EngineError::Runtime { runtime: "slurm", detail }
}

/// The last non-empty line of a file, if it has one.
fn last_line(path: &Path) -> Option<String> {
    let text = std::fs::read_to_string(path).ok()?;
    text.lines().rev().find(|line| !line.trim().is_empty()).map(|line| one_line_text(line.trim()))
}

/// The command line as one `sh` line: each word in single quotes (a quote inside becomes `'\''`), so paths with
/// spaces or `$` reach the program unchanged. Hand-written: it is these three lines, and the quoting rule is POSIX's.
fn shell_words(words: &[String]) -> String {
    let quoted: Vec<String> = words.iter().map(|word| format!("'{}'", word.replace('\'', r"'\''"))).collect();
    quoted.join(" ")
}

/// Every job and array element in a `squeue --json` document with its status. A pending array is one record with a
/// range of elements (`0-5%2`, `1,3`); a running or ended element has its own record.
pub(crate) fn job_records(document: &Value) -> Vec<(JobRef, JobStatus)> {
    let mut records = Vec::new();
    for job in document.get("jobs").and_then(Value::as_array).into_iter().flatten() {
        let status = status_of(job);
        let job_id = number(job.get("job_id")).unwrap_or(0);
        let array_id = number(job.get("array_job_id")).unwrap_or(0);
        if array_id == 0 {
            records.push((JobRef { job: job_id.to_string(), element: None }, status));
            continue;
        }
        let array = array_id.to_string();
        let elements = job.get("array_task_string").and_then(Value::as_str).unwrap_or_default();
        if !elements.is_empty() {
            for element in expand_elements(elements) {
                records.push((JobRef { job: array.clone(), element: Some(element) }, status.clone()));
            }
        } else if let Some(element) = number(job.get("array_task_id")) {
            records.push((JobRef { job: array, element: Some(element as usize) }, status));
        }
    }
    records
}

/// A number as Slurm 22.05 writes it (`3`) or as later versions do (`{"set": true, "number": 3}`).
fn number(value: Option<&Value>) -> Option<u64> {
    let value = value?;
    match value.get("number") {
        Some(inner) if value.get("set").and_then(Value::as_bool) != Some(false) => inner.as_u64(),
        Some(_) => None,
        None => value.as_u64(),
    }
}

/// A job's status from its state (`"RUNNING"`, or `["RUNNING"]` in later versions) and exit code.
fn status_of(job: &Value) -> JobStatus {
    let state = match job.get("job_state") {
        Some(Value::Array(states)) => states.first().and_then(Value::as_str).unwrap_or_default(),
        Some(value) => value.as_str().unwrap_or_default(),
        None => "",
    };
    match state {
        "PENDING" | "CONFIGURING" | "REQUEUED" | "REQUEUE_HOLD" | "REQUEUE_FED" | "RESIZING" | "SUSPENDED" => {
            JobStatus::Pending
        }
        "RUNNING" | "COMPLETING" | "STAGE_OUT" | "SIGNALING" => JobStatus::Running,
        "COMPLETED" => JobStatus::Succeeded,
        "FAILED" => JobStatus::Failed(match exit_status(job) {
            Some(code) => format!("failed with exit status {code}"),
            None => "failed".into(),
        }),
        "CANCELLED" => JobStatus::Failed("was cancelled".into()),
        "TIMEOUT" => JobStatus::Failed("ran out of its time limit (runtimes.slurm.time_limit)".into()),
        "OUT_OF_MEMORY" => JobStatus::Failed("was killed for using more than runtimes.slurm.memory".into()),
        "NODE_FAIL" => JobStatus::Failed("lost its node".into()),
        "" => JobStatus::Failed("is in no state squeue names".into()),
        other => JobStatus::Failed(format!("ended {}", other.to_ascii_lowercase())),
    }
}

/// The exit status of an ended job: Slurm 22.05 writes the wait status (exit 1 is 256), later versions an object
/// with `return_code`.
fn exit_status(job: &Value) -> Option<u64> {
    let code = job.get("exit_code")?;
    match code.get("return_code") {
        Some(inner) => number(Some(inner)),
        None => code.as_u64().map(|status| status >> 8),
    }
}

/// The elements of an array range as squeue writes them: `0-5%2` (at most 2 at once), `1,3,7-9`, `0-10:2`.
fn expand_elements(text: &str) -> Vec<usize> {
    let text = text.split('%').next().unwrap_or_default();
    let mut elements = Vec::new();
    for part in text.split(',') {
        let (range, step) = match part.split_once(':') {
            Some((range, step)) => (range, step.parse().unwrap_or(1).max(1)),
            None => (part, 1),
        };
        match range.split_once('-') {
            Some((first, last)) => {
                if let (Ok(first), Ok(last)) = (first.parse::<usize>(), last.parse::<usize>()) {
                    elements.extend((first..=last).step_by(step));
                }
            }
            None => elements.extend(range.parse::<usize>().ok()),
        }
    }
    elements
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn array_ranges_expand_as_squeue_writes_them() {
        assert_eq!(expand_elements("0-5%2"), vec![0, 1, 2, 3, 4, 5]);
        assert_eq!(expand_elements("1,3,7-9"), vec![1, 3, 7, 8, 9]);
        assert_eq!(expand_elements("0-10:5"), vec![0, 5, 10]);
        assert_eq!(expand_elements("4"), vec![4]);
    }

    #[test]
    fn both_json_shapes_give_the_same_records() {
        let old = json!({"jobs": [
            {"job_id": 7, "array_job_id": 6, "array_task_id": 2, "array_task_string": "", "job_state": "FAILED",
             "exit_code": 256},
            {"job_id": 6, "array_job_id": 6, "array_task_id": null, "array_task_string": "3-4", "job_state": "PENDING"},
            {"job_id": 9, "array_job_id": 0, "job_state": "COMPLETED", "exit_code": 0}]});
        let new = json!({"jobs": [
            {"job_id": 7, "array_job_id": {"set": true, "number": 6}, "array_task_id": {"set": true, "number": 2},
             "array_task_string": "", "job_state": ["FAILED"], "exit_code": {"return_code": {"set": true, "number": 1}}},
            {"job_id": 6, "array_job_id": {"set": true, "number": 6}, "array_task_id": {"set": false, "number": 0},
             "array_task_string": "3-4", "job_state": ["PENDING"]},
            {"job_id": 9, "array_job_id": {"set": true, "number": 0}, "job_state": ["COMPLETED"]}]});
        let expected = vec![
            (JobRef { job: "6".into(), element: Some(2) }, JobStatus::Failed("failed with exit status 1".into())),
            (JobRef { job: "6".into(), element: Some(3) }, JobStatus::Pending),
            (JobRef { job: "6".into(), element: Some(4) }, JobStatus::Pending),
            (JobRef { job: "9".into(), element: None }, JobStatus::Succeeded),
        ];
        assert_eq!(job_records(&old), expected);
        assert_eq!(job_records(&new), expected);
    }

    #[test]
    fn words_survive_the_shell() {
        let words = vec!["/opt/down scale".to_string(), "it's".into(), "$HOME".into()];
        let line = shell_words(&words);
        let output = Command::new("sh").arg("-c").arg(format!("printf '%s|' {line}")).output().unwrap();
        assert_eq!(String::from_utf8_lossy(&output.stdout), "/opt/down scale|it's|$HOME|");
    }
}
