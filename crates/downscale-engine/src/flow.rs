//! Flows: a method's tasks and how they connect, defined once per method and run with any parameter file.
//!
//! A flow is wiring only. A [`Task`] is data: the name of a registered [`TaskKind`] (its body), that kind's typed
//! parameters as JSON, its inputs by role (`"obs"`, `"coarse"`) with the task producing each, and the data outside
//! the flow it reads ([`External`]). The body reads its parameters from the context (`ctx.params::<T>()`), so what
//! the cache key hashes is exactly what the body sees, and a task can be written out, read back and run by another
//! process that has the same kinds. [`Flow::new`] checks the wiring once (unique ids, known inputs and kinds, no
//! cycle) and orders the tasks so that every task comes after its inputs.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::sync::Arc;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::context::TaskContext;
use crate::error::{EngineError, TaskError};
use crate::key::CacheKey;
use crate::shard::{Body, Registered, ShardedKind};

/// What a task produces.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ArtifactKind {
    /// A CF Zarr store (gridded data).
    Zarr,
    /// A small JSON document (a plan, statistics, a list of files).
    Json,
    /// A self-contained HTML page (a report).
    Html,
}

impl ArtifactKind {
    /// The artifact's entry in its task folder.
    pub fn file_name(self) -> &'static str {
        match self {
            ArtifactKind::Zarr => "data.zarr",
            ArtifactKind::Json => "value.json",
            ArtifactKind::Html => "report.html",
        }
    }

    /// The kind's word in artifact markers.
    pub fn as_str(self) -> &'static str {
        match self {
            ArtifactKind::Zarr => "zarr",
            ArtifactKind::Json => "json",
            ArtifactKind::Html => "html",
        }
    }
}

/// A kind of task: a body, registered under its name, and the type of its parameters.
pub trait TaskKind: Send + Sync + 'static {
    /// The name in task specs, cache keys, records and artifact folders (`get_experiment`).
    const NAME: &'static str;
    /// Bumped whenever the body's output changes for the same parameters and inputs, which invalidates old
    /// artifacts.
    const VERSION: u32;
    /// What the body produces.
    const ARTIFACT: ArtifactKind;
    /// Everything the body reads besides its inputs and external data; all of it goes into the cache key.
    type Params: Serialize + DeserializeOwned;
    /// Reads the context's inputs and writes its artifact through it.
    fn run(&self, ctx: &TaskContext, params: Self::Params) -> Result<(), TaskError>;
}

/// The task kinds a process can run, by name. A flow is built against them, and a process running a task written
/// by another looks its body up here.
#[derive(Clone, Default)]
pub struct Kinds {
    bodies: HashMap<&'static str, (u32, Body)>,
}

impl fmt::Debug for Kinds {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut names: Vec<&str> = self.bodies.keys().copied().collect();
        names.sort_unstable();
        f.debug_struct("Kinds").field("names", &names).finish()
    }
}

impl Kinds {
    /// No kinds yet; add them with [`with`](Self::with).
    pub fn new() -> Kinds {
        Kinds::default()
    }

    /// These kinds and `kind` (replacing one of the same name).
    pub fn with<K: TaskKind>(mut self, kind: K) -> Kinds {
        let body = Body::Whole(Arc::new(move |ctx: &TaskContext| {
            let params = ctx.params::<K::Params>()?;
            kind.run(ctx, params)
        }));
        self.bodies.insert(K::NAME, (K::VERSION, body));
        self
    }

    /// These kinds and the sharded `kind` (replacing one of the same name).
    pub fn with_sharded<K: ShardedKind>(mut self, kind: K) -> Kinds {
        self.bodies.insert(K::NAME, (K::VERSION, Body::Sharded(Arc::new(Registered(kind)))));
        self
    }

    /// The body registered under `name` at `version`.
    pub(crate) fn body(&self, name: &str, version: u32) -> Option<&Body> {
        self.bodies.get(name).filter(|(registered, _)| *registered == version).map(|(_, body)| body)
    }
}

/// Data a task reads from outside the flow (observations, model output): where it is, and what it is. The cache key
/// hashes the identity, never the location, as it hashes an input's key and not its artifact's path: moving the
/// data keeps the cache, new data in the same place invalidates it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct External {
    /// What to open (path or URL).
    pub location: String,
    /// What the data are and which version of them (a catalog row and the file's size and modification time).
    pub identity: Value,
}

/// One node of a flow, as data: it serialises to JSON and back unchanged.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Task {
    /// Unique within the flow (`get_experiment_train`); names the task in records and progress.
    pub id: String,
    /// The [`TaskKind`] whose body runs it.
    pub name: String,
    /// The kind's version when the task was made.
    pub version: u32,
    /// The kind's parameters as JSON.
    pub params: Value,
    /// Input role → id of the producing task.
    pub inputs: BTreeMap<String, String>,
    /// Data outside the flow by role.
    pub external: BTreeMap<String, External>,
    /// What it produces.
    pub kind: ArtifactKind,
}

impl Task {
    /// A task of kind `K` with `params` and no inputs; add them with [`input`](Self::input) and
    /// [`external`](Self::external). Parameters that do not serialise to JSON (a map with non-text keys) are an
    /// error of the flow's code, reported rather than panicking.
    pub fn of<K: TaskKind>(id: impl Into<String>, params: &K::Params) -> Result<Task, TaskError> {
        Task::new(id.into(), K::NAME, K::VERSION, params, K::ARTIFACT)
    }

    /// A task of the sharded kind `K` with `params` and no inputs; its artifact is a Zarr store.
    pub fn sharded<K: ShardedKind>(id: impl Into<String>, params: &K::Params) -> Result<Task, TaskError> {
        Task::new(id.into(), K::NAME, K::VERSION, params, ArtifactKind::Zarr)
    }

    fn new(
        id: String,
        name: &str,
        version: u32,
        params: &impl Serialize,
        kind: ArtifactKind,
    ) -> Result<Task, TaskError> {
        let params = serde_json::to_value(params)
            .map_err(|e| TaskError::new(format!("task '{id}': its parameters are not JSON: {e}")))?;
        let (inputs, external) = (BTreeMap::new(), BTreeMap::new());
        Ok(Task { id, name: name.to_string(), version, params, inputs, external, kind })
    }

    /// The task reading the artifact of task `task_id` as its input `role`.
    pub fn input(mut self, role: impl Into<String>, task_id: impl Into<String>) -> Task {
        self.inputs.insert(role.into(), task_id.into());
        self
    }

    /// The task reading data outside the flow as `role`.
    pub fn external(mut self, role: impl Into<String>, location: impl Into<String>, identity: Value) -> Task {
        self.external.insert(role.into(), External { location: location.into(), identity });
        self
    }
}

/// A checked, ordered set of tasks.
#[derive(Debug, Clone)]
pub struct Flow {
    /// The method (`bcsd`), for the run records.
    pub name: String,
    /// In execution order: every task after the tasks it reads.
    tasks: Vec<Task>,
    /// The bodies the tasks name.
    kinds: Kinds,
}

impl Flow {
    /// Checks the wiring (unique ids, inputs that name tasks of the flow, kinds among `kinds` at the tasks'
    /// versions, no cycle) and orders the tasks.
    pub fn new(name: impl Into<String>, tasks: Vec<Task>, kinds: Kinds) -> Result<Flow, EngineError> {
        let name = name.into();
        let bad = |detail: String| EngineError::Flow { flow: name.clone(), detail };
        let mut by_id: HashMap<&str, &Task> = HashMap::new();
        for task in &tasks {
            if by_id.insert(&task.id, task).is_some() {
                return Err(bad(format!("two tasks have the id '{}'", task.id)));
            }
            if kinds.body(&task.name, task.version).is_none() {
                return Err(bad(format!(
                    "task '{}' is of kind '{}' version {}, which this build does not have",
                    task.id, task.name, task.version
                )));
            }
        }
        for task in &tasks {
            for (role, upstream) in &task.inputs {
                if !by_id.contains_key(upstream.as_str()) {
                    return Err(bad(format!("task '{}' reads '{role}' from unknown task '{upstream}'", task.id)));
                }
            }
        }
        // Depth-first topological order that keeps the given order among independent tasks.
        let mut state: HashMap<&str, bool> = HashMap::new(); // false = in progress, true = done
        let mut order: Vec<&str> = Vec::new();
        fn visit<'a>(
            id: &'a str,
            by_id: &HashMap<&'a str, &'a Task>,
            state: &mut HashMap<&'a str, bool>,
            order: &mut Vec<&'a str>,
        ) -> Result<(), String> {
            match state.get(id) {
                Some(true) => return Ok(()),
                Some(false) => return Err(format!("tasks form a cycle through '{id}'")),
                None => {}
            }
            state.insert(id, false);
            for upstream in by_id[id].inputs.values() {
                visit(upstream, by_id, state, order)?;
            }
            state.insert(id, true);
            order.push(id);
            Ok(())
        }
        for task in &tasks {
            visit(&task.id, &by_id, &mut state, &mut order).map_err(bad)?;
        }
        let ordered = order.iter().map(|id| by_id[id].clone()).collect();
        Ok(Flow { name, tasks: ordered, kinds })
    }

    /// The tasks in an execution order: every task after its inputs.
    pub fn tasks(&self) -> &[Task] {
        &self.tasks
    }

    /// The task with this id.
    pub fn task(&self, id: &str) -> Option<&Task> {
        self.tasks.iter().find(|t| t.id == id)
    }

    /// The body of `task` (checked to exist when the flow was made).
    pub(crate) fn body(&self, task: &Task) -> Result<&Body, TaskError> {
        self.kinds
            .body(&task.name, task.version)
            .ok_or_else(|| TaskError::new(format!("task '{}': no body of kind '{}'", task.id, task.name)))
    }

    /// Every task's cache key, by id.
    pub fn keys(&self) -> HashMap<String, CacheKey> {
        let mut keys: HashMap<String, CacheKey> = HashMap::new();
        for task in &self.tasks {
            let inputs: Vec<(String, CacheKey)> =
                task.inputs.iter().map(|(role, upstream)| (role.clone(), keys[upstream].clone())).collect();
            let external: BTreeMap<&str, &Value> =
                task.external.iter().map(|(role, data)| (role.as_str(), &data.identity)).collect();
            keys.insert(task.id.clone(), CacheKey::of(&task.name, task.version, &task.params, &inputs, &external));
        }
        keys
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// A kind whose body does nothing, with free-form parameters.
    struct Nothing;

    impl TaskKind for Nothing {
        const NAME: &'static str = "nothing";
        const VERSION: u32 = 1;
        const ARTIFACT: ArtifactKind = ArtifactKind::Json;
        type Params = Value;
        fn run(&self, _ctx: &TaskContext, _params: Value) -> Result<(), TaskError> {
            Ok(())
        }
    }

    fn task(id: &str) -> Task {
        Task::of::<Nothing>(id, &json!({})).unwrap()
    }

    fn flow(tasks: Vec<Task>) -> Result<Flow, EngineError> {
        Flow::new("f", tasks, Kinds::new().with(Nothing))
    }

    #[test]
    fn tasks_are_ordered_after_their_inputs() {
        let flow = flow(vec![task("c").input("x", "b").input("y", "a"), task("b").input("x", "a"), task("a")]).unwrap();
        let ids: Vec<&str> = flow.tasks().iter().map(|t| t.id.as_str()).collect();
        assert_eq!(ids, ["a", "b", "c"]);
    }

    #[test]
    fn bad_wiring_is_an_error_naming_the_task() {
        let unknown = flow(vec![task("a").input("x", "nope")]).unwrap_err().to_string();
        assert!(unknown.contains("task 'a' reads 'x' from unknown task 'nope'"), "{unknown}");
        let twice = flow(vec![task("a"), task("a")]).unwrap_err().to_string();
        assert!(twice.contains("two tasks have the id 'a'"), "{twice}");
        let cycle = flow(vec![task("a").input("x", "b"), task("b").input("x", "a")]).unwrap_err();
        assert!(cycle.to_string().contains("cycle"), "{cycle}");
        let unregistered = Flow::new("f", vec![task("a")], Kinds::new()).unwrap_err().to_string();
        assert!(unregistered.contains("task 'a' is of kind 'nothing' version 1"), "{unregistered}");
        let older = Task { version: 0, ..task("a") };
        assert!(flow(vec![older]).unwrap_err().to_string().contains("version 0"));
    }

    #[test]
    fn a_parameter_changes_only_the_keys_downstream_of_it() {
        let build = |predict: i64| {
            let with = |id: &str, params: Value| Task::of::<Nothing>(id, &params).unwrap();
            flow(vec![
                with("obs", json!({"train": [1981, 2010]})),
                with("predict", json!({"predict": [2015, predict]})),
                task("coarse").input("obs", "obs"),
                task("corrected").input("obs", "coarse").input("sim", "predict"),
            ])
            .unwrap()
            .keys()
        };
        let (before, after) = (build(2099), build(2100));
        assert_eq!(before["obs"], after["obs"]);
        assert_eq!(before["coarse"], after["coarse"]);
        assert_ne!(before["predict"], after["predict"]);
        assert_ne!(before["corrected"], after["corrected"]);
    }

    #[test]
    fn external_data_is_keyed_by_what_it_is_not_where_it_is() {
        let read = |location: &str, version: i64| {
            let task = task("read").external("source", location, json!({"row": "E-OBS", "version": version}));
            flow(vec![task]).unwrap().keys()["read"].clone()
        };
        assert_eq!(read("/a/obs.nc", 1), read("/b/obs.nc", 1));
        assert_ne!(read("/a/obs.nc", 1), read("/a/obs.nc", 2));
    }

    #[test]
    fn a_task_round_trips_through_json() {
        let task = task("read").input("grid", "coarse").external("source", "/a/obs.nc", json!({"row": 1}));
        let text = serde_json::to_string(&task).unwrap();
        assert_eq!(serde_json::from_str::<Task>(&text).unwrap(), task);
    }
}
