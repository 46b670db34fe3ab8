//! `downscale manifests kubernetes`: the manifests that run one task of a run on a Kubernetes cluster, printed as
//! YAML on stdout (see `downscale_cluster::IndexedJob`). The flow is built as `downscale run` builds it, so the pods
//! compute the task under the same cache key; a sharded task's shard count comes from its inputs' labels, so its
//! inputs must be complete in the cache (the tasks before it ran, on the cluster or anywhere sharing the storage).

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Result, bail};
use downscale_cluster::IndexedJob;
use downscale_config::MemoryLimit;
use serde_json::json;

use super::ConfigArgs;
use super::flow_setup::FlowSetup;

#[derive(clap::Subcommand)]
pub(crate) enum Command {
    /// A ConfigMap and an Indexed Job running one task, one pod per shard (untested against a live cluster)
    Kubernetes(KubernetesArgs),
}

#[derive(clap::Args)]
pub(crate) struct KubernetesArgs {
    /// The run's parameter file.
    #[arg(long = "param-file", value_name = "FILE")]
    param_file: PathBuf,
    /// The id of the task (`downscale plan` lists them).
    #[arg(long, value_name = "ID")]
    task: String,
    /// The container image with the `downscale` binary on its PATH.
    #[arg(long)]
    image: String,
    /// CPUs of each pod.
    #[arg(long, default_value_t = 4)]
    cpus: u32,
    /// Memory of each pod (its request and limit), e.g. 16GiB.
    #[arg(long, default_value = "16GiB", value_parser = parse_memory)]
    memory: u64,
    /// Pods running at once.
    #[arg(long, default_value_t = 8)]
    parallelism: usize,
    /// Retries of a failed shard's pod.
    #[arg(long, default_value_t = 2)]
    backoff_limit_per_index: u32,
    /// The Secret whose keys become the pods' environment: the object store's endpoint and credentials
    /// (`AWS_ENDPOINT`, `AWS_ACCESS_KEY_ID`, `AZURE_STORAGE_ACCOUNT_NAME`, ...).
    #[arg(long, default_value = "downscale-storage")]
    secret: String,
}

fn parse_memory(text: &str) -> Result<u64, String> {
    match MemoryLimit::parse(text) {
        Ok(MemoryLimit::Bytes(bytes)) => Ok(bytes),
        Ok(MemoryLimit::FractionOfRam(_)) => Err("expected a size such as 16GiB, not a share of RAM".into()),
        Err(error) => Err(error.to_string()),
    }
}

pub(crate) fn run(command: Command, config: &ConfigArgs) -> Result<ExitCode> {
    let Command::Kubernetes(args) = command;
    let setup = FlowSetup::open(config.load()?, None)?;
    let settings = setup.config.settings();
    // Pods share no disk with this machine: what they read and write must be on object storage.
    for (key, uri) in [
        ("storage.intermediate.uri", &settings.storage.intermediate.uri),
        ("storage.results.uri", &settings.storage.results.uri),
    ] {
        if !uri.contains("://") || uri.starts_with("file://") {
            bail!(
                "{key} = '{uri}' is a local path: pods on a Kubernetes cluster need object storage (s3://, az://, gs://)"
            );
        }
    }
    let prepared = setup.prepare(&args.param_file)?;
    let runner = setup.inspector();
    let shards = runner.shard_count(&prepared.flow, &args.task)?;
    let parameters = std::fs::read_to_string(&args.param_file)?;
    let configuration = json!({
        "storage": {
            "intermediate": {"uri": settings.storage.intermediate.uri},
            "results": {"uri": settings.storage.results.uri},
        },
        "data_catalog": {"model": settings.data_catalog.model, "obs": settings.data_catalog.obs},
        "run_options": {
            "use_cache": settings.run_options.use_cache,
            "generate_pyramids": settings.run_options.generate_pyramids,
            "carbonplan_compat": settings.run_options.carbonplan_compat,
            "evaluate": settings.run_options.evaluate,
        },
    });
    let configuration = yaml_serde::to_string(&configuration)?;
    let job = IndexedJob {
        run_id: &prepared.run_id,
        task_id: &args.task,
        shards,
        image: &args.image,
        cpus: args.cpus,
        memory: args.memory,
        parallelism: args.parallelism,
        backoff_limit_per_index: args.backoff_limit_per_index,
        parameters: &parameters,
        configuration: &configuration,
        secret: &args.secret,
    };
    let manifests = job.manifests();
    let names: Vec<&str> = manifests[1..].iter().filter_map(|m| m["metadata"]["name"].as_str()).collect();
    // How to use them, as comments a YAML reader skips.
    println!(
        "# Task {} of run {}; untested against a live cluster. Save this as FILE, then:",
        args.task, prepared.run_id
    );
    println!("#   kubectl apply -f FILE");
    println!("#   kubectl wait --for=condition=complete --timeout=24h job/{}", names[0]);
    if let Some(publish) = names.get(1) {
        println!("#   kubectl patch job {publish} --type=merge -p '{{\"spec\":{{\"suspend\":false}}}}'");
        println!("#   kubectl wait --for=condition=complete --timeout=2h job/{publish}");
    }
    for manifest in manifests {
        print!("---\n{}", yaml_serde::to_string(&manifest)?);
    }
    Ok(ExitCode::SUCCESS)
}
