//! Runtimes on a cluster: every task (and every shard of a sharded task) is a job running the same `downscale task`
//! command on some node, and the process that runs the flow only submits, watches and records. A [`Cluster`] is what
//! such a runtime offers the engine: submit a job (or an array of them, one element per shard) to start once the
//! jobs it names have succeeded, tell how jobs stand, cancel them. The engine's side is in `engine/on_cluster.rs`.
//!
//! Nothing here moves data: tasks find their inputs in the cache (`storage.intermediate`, a disk or a bucket every
//! node reaches) and leave their artifact and state there, which is also how the engine learns what a job did.

use std::collections::HashMap;
use std::fmt;

use crate::error::EngineError;

/// One job of a cluster, or one element of an array job.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct JobRef {
    /// The cluster's id of the (array) job.
    pub job: String,
    /// The element of an array job.
    pub element: Option<usize>,
}

impl fmt::Display for JobRef {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        match self.element {
            Some(element) => write!(f, "{}_{element}", self.job),
            None => f.write_str(&self.job),
        }
    }
}

/// Jobs as people read them: each job once, an array job with its elements in order (`12 13_[0,1,2]`); an element
/// submitted again under the same array job is listed once.
pub fn describe_jobs<'a>(jobs: impl IntoIterator<Item = &'a JobRef>) -> String {
    let mut elements: std::collections::BTreeMap<&str, Vec<usize>> = std::collections::BTreeMap::new();
    for job in jobs {
        elements.entry(job.job.as_str()).or_default().extend(job.element);
    }
    let described: Vec<String> = elements
        .into_iter()
        .map(|(job, mut elements)| {
            elements.sort_unstable();
            elements.dedup();
            if elements.is_empty() {
                job.to_string()
            } else {
                let list: Vec<String> = elements.iter().map(usize::to_string).collect();
                format!("{job}_[{}]", list.join(","))
            }
        })
        .collect();
    described.join(" ")
}

/// A job to submit.
#[derive(Debug, Clone)]
pub struct JobRequest {
    /// A short name for the cluster's queue listings (`<run>:<task>`).
    pub name: String,
    /// The program and its arguments. An array job's elements each get `--shard <element>` appended.
    pub command: Vec<String>,
    /// `Some(elements)` submits an array job with one element per shard number listed.
    pub elements: Option<Vec<usize>>,
    /// The jobs that must have succeeded before this one starts (DAG edges).
    pub after: Vec<JobRef>,
}

/// How a job stands, as its cluster says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JobStatus {
    /// Queued: waiting for the jobs it depends on or for resources.
    Pending,
    /// Started on a node.
    Running,
    /// Ended with exit status 0.
    Succeeded,
    /// Ended otherwise (non-zero exit, cancelled, out of time or memory, node lost): the cluster's word for it.
    Failed(String),
}

/// What the engine needs of a cluster. Implementations talk to a real scheduler (Slurm, Dask); they are called
/// from the thread that runs a flow, and from several at once when one process runs several flows (`downscale
/// batch --max-concurrent`).
pub trait Cluster: Send + Sync {
    /// Checks, before any work, that the cluster answers and can run jobs as configured (partition, memory): a
    /// problem is one line naming the runtime and the setting.
    fn check(&self) -> Result<(), EngineError>;
    /// Submits a job; returns the id of the job (or of the array job).
    fn submit(&self, request: &JobRequest) -> Result<String, EngineError>;
    /// The status of each job in `jobs` that the cluster knows; one it no longer knows is left out.
    fn poll(&self, jobs: &[JobRef]) -> Result<HashMap<JobRef, JobStatus>, EngineError>;
    /// Cancels these jobs (pending or running); ones that ended already are ignored.
    fn cancel(&self, jobs: &[JobRef]) -> Result<(), EngineError>;
    /// The last lines a job wrote on its standard error, when the cluster keeps them: for the error of a job that
    /// failed without leaving a state (killed, out of memory).
    fn log_tail(&self, job: &JobRef) -> Option<String>;
    /// Where people can watch the cluster's own view of the run (the Dask dashboard), if it has one.
    fn dashboard(&self) -> Option<String> {
        None
    }
    /// How many times a failed job is submitted again before the run fails.
    fn resubmissions(&self) -> u32;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jobs_are_described_once_each_with_their_elements() {
        let job = |job: &str, element| JobRef { job: job.into(), element };
        let jobs = [job("13", Some(0)), job("12", None), job("13", Some(2)), job("14", Some(1)), job("13", Some(1))];
        assert_eq!(describe_jobs(&jobs), "12 13_[0,1,2] 14_[1]");
        assert_eq!(describe_jobs(&[]), "");
    }
}
