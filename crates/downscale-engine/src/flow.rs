//! Flows: a method's tasks and how they connect, defined once per method and run with any parameter file.
//!
//! A flow is wiring only. Each [`Task`] names its inputs by role (`"obs"`, `"coarse"`) and the task that produces
//! each; its body is a function of a [`TaskContext`] that reads those inputs and writes one
//! artifact. [`Flow::new`] checks the wiring once (unique ids, known inputs, no cycle) and orders the tasks so that
//! every task comes after its inputs.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::sync::Arc;

use serde_json::Value;

use crate::context::TaskContext;
use crate::error::{EngineError, TaskError};
use crate::key::CacheKey;

/// What a task produces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArtifactKind {
    /// A CF Zarr store (gridded data).
    Zarr,
    /// A small JSON document (a plan, statistics, a list of files).
    Json,
}

impl ArtifactKind {
    /// The artifact's entry in its task folder.
    pub fn file_name(self) -> &'static str {
        match self {
            ArtifactKind::Zarr => "data.zarr",
            ArtifactKind::Json => "value.json",
        }
    }

    /// The kind's word in artifact markers.
    pub fn as_str(self) -> &'static str {
        match self {
            ArtifactKind::Zarr => "zarr",
            ArtifactKind::Json => "json",
        }
    }
}

/// A task body: reads the inputs of its context and writes its artifact through it.
pub type TaskBody = Arc<dyn Fn(&TaskContext) -> Result<(), TaskError> + Send + Sync>;

/// One node of a flow.
#[derive(Clone)]
pub struct Task {
    /// Unique within the flow (`get_experiment_train`); names the task in records and progress.
    pub id: String,
    /// The kind of work (`get_experiment`), shared by instances of one body; part of the cache key and the
    /// artifact's folder.
    pub name: String,
    /// Bumped whenever the body's output changes for the same inputs, which invalidates old artifacts.
    pub version: u32,
    /// What determines the output besides the inputs, as JSON (keys in any order).
    pub params: Value,
    /// Input role → id of the producing task.
    pub inputs: BTreeMap<String, String>,
    /// What it produces.
    pub kind: ArtifactKind,
    /// What it does.
    pub body: TaskBody,
}

impl fmt::Debug for Task {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Task")
            .field("id", &self.id)
            .field("name", &self.name)
            .field("version", &self.version)
            .field("params", &self.params)
            .field("inputs", &self.inputs)
            .field("kind", &self.kind)
            .finish()
    }
}

impl Task {
    /// A task without parameters or inputs; add them with [`params`](Self::params) and [`input`](Self::input).
    pub fn new(
        id: impl Into<String>,
        name: impl Into<String>,
        version: u32,
        kind: ArtifactKind,
        body: impl Fn(&TaskContext) -> Result<(), TaskError> + Send + Sync + 'static,
    ) -> Task {
        Task {
            id: id.into(),
            name: name.into(),
            version,
            params: Value::Object(Default::default()),
            inputs: BTreeMap::new(),
            kind,
            body: Arc::new(body),
        }
    }

    /// The task with these parameters (replacing any earlier ones).
    pub fn params(mut self, params: Value) -> Task {
        self.params = params;
        self
    }

    /// The task reading the artifact of task `task_id` as its input `role`.
    pub fn input(mut self, role: impl Into<String>, task_id: impl Into<String>) -> Task {
        self.inputs.insert(role.into(), task_id.into());
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
}

impl Flow {
    /// Checks the wiring (unique ids, inputs that name tasks of the flow, no cycle) and orders the tasks.
    pub fn new(name: impl Into<String>, tasks: Vec<Task>) -> Result<Flow, EngineError> {
        let name = name.into();
        let bad = |detail: String| EngineError::Flow { flow: name.clone(), detail };
        let mut by_id: HashMap<&str, &Task> = HashMap::new();
        for task in &tasks {
            if by_id.insert(&task.id, task).is_some() {
                return Err(bad(format!("two tasks have the id '{}'", task.id)));
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
        Ok(Flow { name, tasks: ordered })
    }

    /// The tasks in execution order.
    pub(crate) fn tasks(&self) -> &[Task] {
        &self.tasks
    }

    /// The task with this id.
    pub(crate) fn task(&self, id: &str) -> Option<&Task> {
        self.tasks.iter().find(|t| t.id == id)
    }

    /// Every task's cache key, by id.
    pub fn keys(&self) -> HashMap<String, CacheKey> {
        let mut keys: HashMap<String, CacheKey> = HashMap::new();
        for task in &self.tasks {
            let inputs: Vec<(String, CacheKey)> =
                task.inputs.iter().map(|(role, upstream)| (role.clone(), keys[upstream].clone())).collect();
            keys.insert(task.id.clone(), CacheKey::of(&task.name, task.version, &task.params, &inputs));
        }
        keys
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn task(id: &str) -> Task {
        Task::new(id, id, 1, ArtifactKind::Json, |_| Ok(()))
    }

    #[test]
    fn tasks_are_ordered_after_their_inputs() {
        let flow =
            Flow::new("f", vec![task("c").input("x", "b").input("y", "a"), task("b").input("x", "a"), task("a")])
                .unwrap();
        let ids: Vec<&str> = flow.tasks().iter().map(|t| t.id.as_str()).collect();
        assert_eq!(ids, ["a", "b", "c"]);
    }

    #[test]
    fn bad_wiring_is_an_error_naming_the_task() {
        let unknown = Flow::new("f", vec![task("a").input("x", "nope")]).unwrap_err().to_string();
        assert!(unknown.contains("task 'a' reads 'x' from unknown task 'nope'"), "{unknown}");
        let twice = Flow::new("f", vec![task("a"), task("a")]).unwrap_err().to_string();
        assert!(twice.contains("two tasks have the id 'a'"), "{twice}");
        let cycle = Flow::new("f", vec![task("a").input("x", "b"), task("b").input("x", "a")]).unwrap_err();
        assert!(cycle.to_string().contains("cycle"), "{cycle}");
    }

    #[test]
    fn a_parameter_changes_only_the_keys_downstream_of_it() {
        let build = |predict: i64| {
            Flow::new(
                "f",
                vec![
                    task("obs").params(json!({"train": [1981, 2010]})),
                    task("predict").params(json!({"predict": [2015, predict]})),
                    task("coarse").input("obs", "obs"),
                    task("corrected").input("obs", "coarse").input("sim", "predict"),
                ],
            )
            .unwrap()
            .keys()
        };
        let (before, after) = (build(2099), build(2100));
        assert_eq!(before["obs"], after["obs"]);
        assert_eq!(before["coarse"], after["coarse"]);
        assert_ne!(before["predict"], after["predict"]);
        assert_ne!(before["corrected"], after["corrected"]);
    }
}
