//! `downscale task`: executes one task of a run in this process, the way a node of a cluster will. The flow is built
//! from the run's parameter file and configuration exactly as `downscale run` builds it, so the task has the same
//! cache key; its inputs are read from the cache, where they must be complete already. It writes its artifact, and
//! its state (succeeded or failed with the error, timings, peak memory, bytes) beside it for the process that runs
//! the flow to gather into the run records, and prints that state as one line of JSON on stdout.
//!
//! The exit status tells a scheduler what happened: 0 the artifact is complete (executed now or found in the cache),
//! 1 the task was executed and failed (its state says why), 2 it could not be executed at all (a bad parameter file
//! or configuration, an unknown task id, an input not complete yet) and left no state.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use downscale_config::RuntimeKind;
use downscale_engine::{NoProgress, RetryPolicy, TaskRunner};
use downscale_message::one_line;
use serde_json::json;

use super::ConfigArgs;
use super::flow_setup::FlowSetup;
use super::run::{LogFormat, init_logging, parse_runtime};

#[derive(clap::Args)]
pub(crate) struct Args {
    /// The run's parameter file.
    #[arg(long = "param-file", value_name = "FILE")]
    param_file: PathBuf,
    /// The id of the task to execute (`downscale plan` lists them).
    #[arg(long, value_name = "ID")]
    task: String,
    /// Execute only this shard of a sharded task (numbered from 0; `downscale plan` shows how many there are once
    /// the task's inputs are complete), leaving the store to be published by `downscale task` without `--shard`,
    /// which runs only the shards not done yet.
    #[arg(long, value_name = "N", conflicts_with = "publish")]
    shard: Option<usize>,
    /// For a sharded task whose shards ran as separate `--shard` jobs: publish its store from them (running any
    /// shard not done), never starting them afresh, whatever `run_options.use_cache` says. The job a cluster runs
    /// after a task's shards.
    #[arg(long)]
    publish: bool,
    /// The runtime whose budget the task gets (default: `runtime` of the configuration, else `ci` when CI=true,
    /// else `local`).
    #[arg(long, value_parser = parse_runtime)]
    runtime: Option<RuntimeKind>,
    /// More log lines on stderr: -v for the task's, -vv for everything.
    #[arg(short, action = clap::ArgAction::Count)]
    verbose: u8,
}

pub(crate) fn run(args: Args, config: &ConfigArgs) -> Result<ExitCode> {
    init_logging(LogFormat::Text, false, args.verbose);
    let setup = FlowSetup::open(config.load()?, args.runtime)?;
    let prepared = setup.prepare(&args.param_file)?;
    let runner = TaskRunner {
        runtime: setup.runtime.as_ref(),
        artifacts: setup.artifacts.clone(),
        use_cache: setup.config.settings().run_options.use_cache,
        retry: RetryPolicy::default(),
        progress: &NoProgress,
    };
    let key = prepared.flow.keys().remove(&args.task).map(|key| key.to_string());
    let (result, report, artifact) = match args.shard {
        Some(shard) => {
            let outcome = runner.run_shard(&prepared.flow, &args.task, shard)?;
            (outcome.result, outcome.report, None)
        }
        None => {
            let outcome = match args.publish {
                true => runner.publish(&prepared.flow, &args.task)?,
                false => runner.run_one(&prepared.flow, &args.task)?,
            };
            let artifact = outcome.result.as_ref().ok().map(|artifact| artifact.location.clone());
            (outcome.result.map(|_| ()), outcome.report, artifact)
        }
    };
    let state = json!({"task_id": args.task, "shard": args.shard, "key": key, "artifact": artifact, "report": report});
    println!("{state}");
    let what = match args.shard {
        Some(shard) => format!("shard {shard} of task {}", args.task),
        None => format!("task {}", args.task),
    };
    match result {
        Ok(()) => Ok(ExitCode::SUCCESS),
        Err(error) => {
            eprintln!(
                "error: {}: {what} of run {} failed: {}",
                args.param_file.display(),
                prepared.run_id,
                one_line(&error)
            );
            Ok(ExitCode::from(1))
        }
    }
}
