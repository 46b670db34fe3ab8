//! Building the selected runtime: `local` and `ci` from the engine, `slurm` and `dask` here.

use std::path::PathBuf;

use downscale_config::{RuntimeKind, Settings};
use downscale_engine::{Budget, Cluster, EngineError, InProcessRuntime, Runtime, TaskContext, TaskError};

use crate::dask::DaskCluster;
use crate::slurm::SlurmCluster;

/// A runtime on a cluster. The process that runs a flow submits its tasks through [`Runtime::cluster`]; a job
/// (`downscale task` on a node) executes its task in process with the resources the job was given.
struct ClusterRuntime {
    in_process: InProcessRuntime,
    cluster: Box<dyn Cluster>,
}

impl Runtime for ClusterRuntime {
    fn name(&self) -> &'static str {
        self.in_process.name()
    }

    fn budget(&self) -> Budget {
        self.in_process.budget()
    }

    fn task_slots(&self) -> usize {
        self.in_process.task_slots()
    }

    fn execute(
        &self,
        body: &(dyn Fn(&TaskContext) -> Result<(), TaskError> + Send + Sync),
        context: &TaskContext,
    ) -> Result<(), TaskError> {
        self.in_process.execute(body, context)
    }

    fn cluster(&self) -> Option<&dyn Cluster> {
        Some(self.cluster.as_ref())
    }
}

/// Builds the runtime of `kind` from its settings. Building one on a cluster does not contact the cluster (a job
/// builds it too, to learn its budget): the engine checks the cluster before it submits anything.
pub fn build_runtime(settings: &Settings, kind: RuntimeKind) -> Result<Box<dyn Runtime>, EngineError> {
    match kind {
        RuntimeKind::Local | RuntimeKind::Ci => downscale_engine::build_runtime(settings, kind),
        RuntimeKind::Slurm => {
            let slurm = &settings.runtimes.slurm;
            // Inside a job, Slurm says what the job was given; elsewhere the settings say what jobs will get.
            let threads = env_number("SLURM_CPUS_PER_TASK").unwrap_or(u64::from(slurm.cpus_per_task));
            let memory_bytes = env_number("SLURM_MEM_PER_NODE").map_or(slurm.memory, |mib| mib << 20);
            let budget = Budget { threads: threads.max(1) as usize, memory_bytes };
            let cluster = SlurmCluster::new(slurm.clone(), PathBuf::from(&slurm.log_dir));
            let in_process = InProcessRuntime::new("slurm", budget)?;
            Ok(Box::new(ClusterRuntime { in_process, cluster: Box::new(cluster) }))
        }
        RuntimeKind::Dask => {
            let dask = &settings.runtimes.dask;
            let ram = downscale_engine::resources::total_ram().unwrap_or(4 << 30);
            let memory_bytes = dask.memory_limit.bytes_for(ram);
            let budget = Budget { threads: dask.threads_per_worker as usize, memory_bytes };
            let cluster = DaskCluster::new(dask.clone(), memory_bytes);
            let in_process = InProcessRuntime::new("dask", budget)?;
            Ok(Box::new(ClusterRuntime { in_process, cluster: Box::new(cluster) }))
        }
    }
}

/// A whole number from the environment, if it holds one.
fn env_number(name: &str) -> Option<u64> {
    std::env::var(name).ok()?.trim().parse().ok()
}
