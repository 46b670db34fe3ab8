//! `downscale plan`: the flow a parameter file makes, as JSON on stdout, without running anything: every task as
//! the spec another process can run (its kind, version, parameters, inputs and external data), in an order where
//! each task comes after its inputs, with its cache key, whether its artifact is complete and, for a sharded task
//! whose inputs are complete, how many shards it has; and the outputs the run publishes. A cluster runtime
//! submits from this; a person reads it to see what a run will do and what it will find in the cache.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use serde_json::json;

use super::ConfigArgs;
use super::flow_setup::FlowSetup;

#[derive(clap::Args)]
pub(crate) struct Args {
    /// The run's parameter file.
    #[arg(long = "param-file", value_name = "FILE")]
    param_file: PathBuf,
}

pub(crate) fn run(args: Args, config: &ConfigArgs) -> Result<ExitCode> {
    let setup = FlowSetup::open(config.load()?, None)?;
    let prepared = setup.prepare(&args.param_file)?;
    let keys = prepared.flow.keys();
    let runner = setup.inspector();
    let tasks: Vec<_> = prepared
        .flow
        .tasks()
        .iter()
        .map(|task| {
            let complete = setup.artifacts.complete(&task.name, &keys[&task.id]).ok().flatten().is_some();
            // Known once the inputs are complete (the layout comes from their labels); null before, and for a task
            // that is not sharded.
            let shards = runner.shard_count(&prepared.flow, &task.id).ok().flatten();
            json!({"key": keys[&task.id], "complete": complete, "shards": shards, "spec": task})
        })
        .collect();
    let outputs: Vec<_> = prepared
        .outputs
        .iter()
        .map(|o| json!({"dataset": o.dataset, "task_id": o.task_id, "published_name": o.published_name}))
        .collect();
    let plan = json!({"run_id": prepared.run_id, "flow": prepared.flow.name, "tasks": tasks, "outputs": outputs});
    println!("{}", serde_json::to_string_pretty(&plan)?);
    Ok(ExitCode::SUCCESS)
}
