//! Where artifacts live and how a complete one is recognised.
//!
//! Task `name` with key `k` owns the folder `<intermediate>/<name>/<k>/`: its artifact (`data.zarr` or
//! `value.json`) and, written last, `complete.json`, a small record of what produced it. The marker is one object
//! written atomically, after the artifact itself was published atomically, so "the marker exists" means "the
//! artifact is whole" on a local disk and on object storage alike, and a task killed at any point leaves at most an
//! unmarked folder that the next run overwrites. This replaces the original's chunk counting and `.zmetadata`
//! checks, which could call a half-written store complete.
//!
//! Beside them the process that executed the task leaves `state.json` ([`TaskStateFile`]): done or failed with the
//! error, timings, peak memory and bytes. The process that runs the flow reads it into the run records, so a task
//! executed by another process (`downscale task`, a cluster job) is recorded like one executed in process, and the
//! records themselves never have to be on storage that workers share.

use downscale_data::{Location, ZarrWriter};
use serde::{Deserialize, Serialize};

use crate::error::EngineError;
use crate::flow::{ArtifactKind, Task};
use crate::hold::TaskHold;
use crate::key::CacheKey;
use crate::records::TaskReport;

const MARKER: &str = "complete.json";
const STATE: &str = "state.json";
const SHARDS: &str = "shards";

/// How an execution of a task ended, as the executing process leaves it beside the artifact.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaskStateFile {
    /// The task's id in its flow.
    pub task_id: String,
    /// The task's cache key.
    pub key: CacheKey,
    /// The shard, for the state of one shard of a sharded task (`shards/<n>.json`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shard: Option<usize>,
    /// The machine that executed it.
    pub host: String,
    /// Its process there.
    pub pid: u32,
    /// How it ended and what it measured.
    pub report: TaskReport,
}

/// A finished artifact, as its marker describes it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Artifact {
    /// The task's name (the kind of work, not its id): the first part of the artifact's folder.
    pub task: String,
    /// The task's cache key: the second part of the folder.
    pub key: CacheKey,
    /// What it is, as [`ArtifactKind::as_str`](crate::ArtifactKind::as_str) spells it: `zarr`, `json` or `html`.
    pub kind: String,
    /// The data variable of a Zarr artifact.
    pub variable: Option<String>,
    /// Where the artifact is (a store or an object), as a location string.
    pub location: String,
    /// Its size in bytes when completed, for the run records.
    pub bytes: u64,
    /// When it was completed (UTC, RFC 3339).
    pub completed_at: String,
}

/// The intermediate storage root.
#[derive(Debug, Clone)]
pub struct ArtifactStore {
    root: Location,
}

impl ArtifactStore {
    /// The store under `root`: a path, `file://` or object-store URL (`storage.intermediate`).
    pub fn new(root: &str) -> Result<ArtifactStore, EngineError> {
        Ok(ArtifactStore::at(Location::parse(root)?))
    }

    /// The store under the location `root` (parsed with its object-store options).
    pub fn at(root: Location) -> ArtifactStore {
        ArtifactStore { root }
    }

    /// The folder of task `name` with `key`.
    pub(crate) fn folder(&self, name: &str, key: &CacheKey) -> Location {
        self.root.child(&format!("{name}/{key}"))
    }

    /// Where a complete artifact is, resolved through this store's client (its object-store options), not through
    /// the text of [`Artifact::location`], which names it for people and records.
    pub fn location_of(&self, artifact: &Artifact) -> Location {
        let file_name = match artifact.kind.as_str() {
            "json" => ArtifactKind::Json.file_name(),
            "html" => ArtifactKind::Html.file_name(),
            _ => ArtifactKind::Zarr.file_name(),
        };
        self.folder(&artifact.task, &artifact.key).child(file_name)
    }

    /// Where the body of `task` writes its artifact.
    pub fn artifact_location(&self, task: &Task, key: &CacheKey) -> Location {
        self.folder(&task.name, key).child(task.kind.file_name())
    }

    /// The artifact of `name`/`key` if it is complete.
    pub fn complete(&self, name: &str, key: &CacheKey) -> Result<Option<Artifact>, EngineError> {
        let marker = self.folder(name, key).child(MARKER);
        let Some(bytes) = marker.read_bytes()? else {
            return Ok(None);
        };
        // An unreadable marker (written by an older, incompatible engine) is treated as absent: the task re-runs.
        Ok(serde_json::from_slice(&bytes).ok())
    }

    /// Records `task`'s artifact as complete; called only after the artifact itself is published.
    pub fn mark_complete(
        &self,
        task: &Task,
        key: &CacheKey,
        variable: Option<String>,
    ) -> Result<Artifact, EngineError> {
        let location = self.artifact_location(task, key);
        let bytes = location.total_size()?;
        if bytes == 0 {
            return Err(EngineError::Storage {
                location: location.display.clone(),
                detail: "the task wrote no artifact".into(),
                source: None,
            });
        }
        let artifact = Artifact {
            task: task.name.clone(),
            key: key.clone(),
            kind: task.kind.as_str().to_string(),
            variable,
            location: location.display.clone(),
            bytes,
            completed_at: crate::now_utc(),
        };
        let marker = self.folder(&task.name, key).child(MARKER);
        let json = serde_json::to_vec_pretty(&artifact).expect("an artifact record serialises");
        marker.write_bytes(json)?;
        Ok(artifact)
    }

    /// Waits for and takes the exclusive hold on task `name` with `key` among the processes (and engines) that
    /// share this cache, so that two runs needing the same task compute it once: the second finds it complete when
    /// the first lets go. The hold is `<name>/<key>.lock` beside the task's folder (the folder itself is cleared
    /// before each attempt): an OS file lock on a local disk, a lock object on object storage (see [`TaskHold`]).
    pub fn hold(&self, name: &str, key: &CacheKey) -> Result<TaskHold, EngineError> {
        let lock = format!("{name}/{key}.lock");
        match &self.root.local_path {
            Some(root) => TaskHold::file(&root.join(lock)),
            None => TaskHold::object(self.root.child(&lock)),
        }
    }

    /// Leaves `report` of `task`'s execution beside its artifact (`state.json`, replaced atomically).
    pub fn write_state(&self, task: &Task, key: &CacheKey, report: &TaskReport) -> Result<(), EngineError> {
        self.write_state_file(task, key, None, report)
    }

    /// Leaves `report` of the execution of shard `shard` of `task` under its folder (`shards/<shard>.json`).
    pub fn write_shard_state(
        &self,
        task: &Task,
        key: &CacheKey,
        shard: usize,
        report: &TaskReport,
    ) -> Result<(), EngineError> {
        self.write_state_file(task, key, Some(shard), report)
    }

    fn write_state_file(
        &self,
        task: &Task,
        key: &CacheKey,
        shard: Option<usize>,
        report: &TaskReport,
    ) -> Result<(), EngineError> {
        let state = TaskStateFile {
            task_id: task.id.clone(),
            key: key.clone(),
            shard,
            host: crate::resources::host_name(),
            pid: std::process::id(),
            report: report.clone(),
        };
        let json = serde_json::to_vec_pretty(&state).expect("a task state serialises");
        Ok(self.state_location(&task.name, key, shard).write_bytes(json)?)
    }

    fn state_location(&self, name: &str, key: &CacheKey, shard: Option<usize>) -> Location {
        match shard {
            None => self.folder(name, key).child(STATE),
            Some(shard) => self.folder(name, key).child(&format!("{SHARDS}/{shard}.json")),
        }
    }

    /// The state the last execution of task `name` with `key` left, if any (an unreadable one counts as none).
    pub fn state(&self, name: &str, key: &CacheKey) -> Result<Option<TaskStateFile>, EngineError> {
        self.state_file(name, key, None)
    }

    /// The state the last execution of shard `shard` of task `name` with `key` left, if any.
    pub fn shard_state(&self, name: &str, key: &CacheKey, shard: usize) -> Result<Option<TaskStateFile>, EngineError> {
        self.state_file(name, key, Some(shard))
    }

    fn state_file(
        &self,
        name: &str,
        key: &CacheKey,
        shard: Option<usize>,
    ) -> Result<Option<TaskStateFile>, EngineError> {
        let Some(bytes) = self.state_location(name, key, shard).read_bytes()? else {
            return Ok(None);
        };
        Ok(serde_json::from_slice(&bytes).ok())
    }

    /// Removes a sharded task's marker, state and (on a local disk) published artifact before it is finished
    /// again, keeping what its shards wrote (their stage and states), which a later attempt or another process goes
    /// on from. On object storage the stage is the artifact's own prefix, so it stays.
    pub fn clear_artifact(&self, task: &Task, key: &CacheKey) -> Result<(), EngineError> {
        let folder = self.folder(&task.name, key);
        folder.child(MARKER).remove_all()?;
        folder.child(STATE).remove_all()?;
        if self.root.local_path.is_some() {
            folder.child(task.kind.file_name()).remove_all()?;
        }
        Ok(())
    }

    /// Removes what the shards of `task` wrote: their stage and their states.
    pub fn clear_shards(&self, task: &Task, key: &CacheKey) -> Result<(), EngineError> {
        self.clear_shard_states(task, key)?;
        Ok(ZarrWriter::clear_shared(&self.artifact_location(task, key))?)
    }

    /// Removes the shards' states only. Losing a state only makes its shard run again, so this is safe while other
    /// processes write shards, unlike removing their stage.
    pub fn clear_shard_states(&self, task: &Task, key: &CacheKey) -> Result<(), EngineError> {
        Ok(self.folder(&task.name, key).child(SHARDS).remove_all()?)
    }

    /// Removes an unmarked folder's leftovers before a task writes again.
    pub fn clear(&self, name: &str, key: &CacheKey) -> Result<(), EngineError> {
        let folder = self.folder(name, key);
        Ok(folder.remove_all()?)
    }
}
