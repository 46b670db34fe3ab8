//! Runtimes on clusters: `slurm` submits a flow's tasks as Slurm jobs (a sharded task as a job array, each DAG edge
//! a dependency), `dask` submits them to a Dask distributed scheduler. Either way every job runs the same
//! `downscale task` command, which executes its task in process with what the job was given; the engine submits,
//! polls and records through [`downscale_engine::Cluster`]. For Kubernetes, which has no runtime here, [`IndexedJob`]
//! writes the manifests that run one task.

mod dask;
mod kubernetes;
mod runtime;
mod slurm;

pub use kubernetes::IndexedJob;
pub use runtime::build_runtime;
