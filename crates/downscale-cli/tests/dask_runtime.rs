//! The `dask` runtime on a real Dask LocalCluster of two worker processes, which the run's driver starts (the
//! repository's `.venv-dask`, from `scripts/setup.sh`): the Iberia BCSD flows publish the same bits as on `local`
//! and record the Dask dashboard's address; a worker process killed while it runs a shard is replaced and its job
//! runs again, with the same outputs; and a scheduler address where nothing answers is one error line.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use common::case::Case;
use common::{
    BCSD_DEFAULT_DIGESTS, digest_of_outputs, iberia_example, manifest_of_run, repo, run_with_shipped_catalogs_on,
};
use downscale_engine::{Records, TaskState};

/// The interpreter with dask.distributed that the tests' driver runs on.
fn python() -> PathBuf {
    let python = repo().join(".venv-dask/bin/python");
    assert!(python.exists(), "{} is missing: scripts/setup.sh installs it", python.display());
    python
}

/// The `--set` arguments of a run on a local cluster of two single-threaded workers of 2 GiB each.
fn dask_settings() -> Vec<String> {
    let settings = [
        ("runtimes.dask.python", python().display().to_string()),
        ("runtimes.dask.n_workers", "2".to_string()),
        ("runtimes.dask.threads_per_worker", "1".to_string()),
        ("runtimes.dask.memory_limit", "2GiB".to_string()),
    ];
    settings.into_iter().flat_map(|(key, value)| ["--set".to_string(), format!("{key}={value}")]).collect()
}

fn run_on_dask(dir: &Path, param_file: &Path) -> Command {
    let mut command = run_with_shipped_catalogs_on("dask", dir, param_file);
    command.args(dask_settings());
    command
}

#[test]
fn bcsd_on_a_dask_local_cluster_publishes_the_same_bits_as_local_and_records_the_dashboard() {
    for (variable, digest) in BCSD_DEFAULT_DIGESTS {
        let dir = tempfile::tempdir().unwrap();
        let manifest = manifest_of_run(&run_on_dask(dir.path(), &iberia_example(variable)).output().unwrap());
        assert_eq!(digest_of_outputs(&manifest, variable), digest, "{variable} on dask");

        let records = Records::open(&dir.path().join("runs.sqlite")).unwrap();
        let run = records.runs(1).unwrap().remove(0);
        assert_eq!(run.runtime, "dask");
        let tasks = records.tasks(run.id).unwrap();
        assert!(tasks.iter().all(|task| task.state == TaskState::Succeeded && task.cpu_seconds.is_some()), "{tasks:?}");
        let logs = records.logs(run.id).unwrap();
        let dashboard = logs.iter().find(|line| line.message.starts_with("dask dashboard: http://127.0.0.1:"));
        assert!(dashboard.is_some(), "{logs:?}");
        // The run's record holds the link, for the web dashboard.
        assert!(run.dashboard.as_deref().is_some_and(|link| link.starts_with("http://127.0.0.1:")), "{run:?}");
    }
}

/// The pid of a process whose command line holds every one of `words`, if one runs.
fn process_with(words: &[&str]) -> Option<u32> {
    for entry in std::fs::read_dir("/proc").ok()?.flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else { continue };
        let Ok(cmdline) = std::fs::read(entry.path().join("cmdline")) else { continue };
        let args: Vec<String> = cmdline.split(|&b| b == 0).map(|a| String::from_utf8_lossy(a).to_string()).collect();
        if words.iter().all(|word| args.iter().any(|arg| arg == word)) {
            return Some(pid);
        }
    }
    None
}

/// The parent of process `pid`.
fn parent_of(pid: u32) -> Option<u32> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status.lines().find_map(|line| line.strip_prefix("PPid:")).and_then(|ppid| ppid.trim().parse().ok())
}

#[test]
fn a_worker_killed_mid_shard_is_replaced_and_the_outputs_do_not_change() {
    let dir = tempfile::tempdir().unwrap();
    let case = Case::build(dir.path());
    let mut command = case.command(&["run", "--runtime", "dask"]);
    command.args(dask_settings());
    let child = command.stdout(std::process::Stdio::piped()).stderr(std::process::Stdio::piped()).spawn().unwrap();

    // Kill the worker process running the first postprocess shard seen: the shard's command is its child.
    let param_file = case.param_file.display().to_string();
    let started = Instant::now();
    let killed = loop {
        let shard = process_with(&["task", "postprocess", "--shard", &param_file]);
        if let Some(worker) = shard.and_then(parent_of) {
            // SAFETY: kill(2) on a pid read just now; the worst case of a reused pid is a wrong process signalled,
            // which the assertions below would then catch as no recovery having happened.
            assert_eq!(unsafe { libc::kill(worker as i32, libc::SIGKILL) }, 0);
            break worker;
        }
        assert!(started.elapsed() < Duration::from_secs(600), "no postprocess shard ever ran");
        std::thread::sleep(Duration::from_millis(20));
    };
    let output = child.wait_with_output().unwrap();
    let manifest = manifest_of_run(&output);
    assert!(std::fs::metadata(format!("/proc/{killed}")).is_err(), "the worker {killed} was killed");

    let clean = tempfile::tempdir().unwrap();
    let reference = Case::build(clean.path()).run();
    assert_eq!(digest_of_outputs(&manifest, "tas"), digest_of_outputs(&reference, "tas"));
}

#[test]
fn a_driver_interpreter_without_dask_or_missing_is_one_line() {
    let cases = [
        ("/usr/bin/python3", "runtimes.dask.python = '/usr/bin/python3' cannot import dask.distributed ("),
        ("no-such-python", "runtimes.dask.python = 'no-such-python' is not a program here (or not on PATH)"),
    ];
    for (python, expected) in cases {
        let dir = tempfile::tempdir().unwrap();
        let output = run_on_dask(dir.path(), &iberia_example("tas"))
            .args(["--set", &format!("runtimes.dask.python={python}")])
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!((output.status.code(), stderr.lines().count()), (Some(2), 1), "{stderr}");
        assert!(stderr.starts_with(&format!("error: runtime dask: {expected}")), "{stderr}");
        assert!(!dir.path().join("results").exists(), "nothing published");
    }
}

#[test]
fn a_scheduler_address_where_nothing_answers_is_one_line() {
    let dir = tempfile::tempdir().unwrap();
    // A port nothing listens on: bound and released just now.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let address = format!("tcp://127.0.0.1:{port}");
    let output = run_on_dask(dir.path(), &iberia_example("tas"))
        .args(["--set", &format!("runtimes.dask.scheduler_address={address}")])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    let expected = format!("error: runtime dask: cannot use runtimes.dask.scheduler_address = '{address}': ");
    assert!(stderr.starts_with(&expected), "{stderr}");
    assert!(!dir.path().join("results").exists(), "nothing published");
}
