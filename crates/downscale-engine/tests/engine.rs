//! The engine on real storage and a real SQLite file: caching, partial re-runs, retries, failures and publishing.

use std::io::ErrorKind;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use downscale_data::{DataError, Location, read_variable};
use downscale_engine::{
    ArtifactKind, ArtifactStore, Budget, Engine, Flow, InProcessRuntime, Kinds, LogLevel, NoProgress, Output, Records,
    RetryPolicy, RunOutcome, RunRequest, RunState, Task, TaskContext, TaskError, TaskKind, TaskRunner, TaskState,
};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// A kind for one test: its body is the closure it holds, its parameters free-form.
macro_rules! test_kind {
    ($kind:ident, $name:literal, $artifact:expr) => {
        struct $kind(Box<dyn Fn(&TaskContext) -> Result<(), TaskError> + Send + Sync>);

        impl TaskKind for $kind {
            const NAME: &'static str = $name;
            const VERSION: u32 = 1;
            const ARTIFACT: ArtifactKind = $artifact;
            type Params = Value;
            fn run(&self, ctx: &TaskContext, _params: Value) -> Result<(), TaskError> {
                (self.0)(ctx)
            }
        }
    };
}

test_kind!(Flaky, "flaky", ArtifactKind::Json);
test_kind!(AlwaysFailing, "failing", ArtifactKind::Json);
test_kind!(Broken, "broken", ArtifactKind::Json);
test_kind!(Panics, "panics", ArtifactKind::Json);
test_kind!(Vandal, "vandal", ArtifactKind::Json);
test_kind!(ReadModel, "read_model", ArtifactKind::Zarr);
test_kind!(Mean, "mean", ArtifactKind::Json);

/// A task of a [`test_kind`] kind, without parameters.
fn task_of<K: TaskKind<Params = Value>>(id: &str) -> Task {
    Task::of::<K>(id, &json!({})).unwrap()
}

struct Setup {
    dir: tempfile::TempDir,
    runtime: InProcessRuntime,
    records: Records,
}

impl Setup {
    fn new() -> Setup {
        Setup::with_threads(1)
    }

    /// A setup whose runtime has `threads` threads, and so runs that many tasks at once.
    fn with_threads(threads: usize) -> Setup {
        let dir = tempfile::tempdir().unwrap();
        let records = Records::open(&dir.path().join("runs.sqlite")).unwrap();
        let runtime = InProcessRuntime::new("local", Budget { threads, memory_bytes: 1 << 30 }).unwrap();
        Setup { dir, runtime, records }
    }

    fn run(&self, flow: &Flow, outputs: Vec<Output>) -> RunOutcome {
        self.run_with_cache(flow, outputs, &self.dir.path().join("intermediate"))
    }

    /// A run whose intermediates are under `intermediate`, which other setups may share.
    fn run_with_cache(&self, flow: &Flow, outputs: Vec<Output>, intermediate: &std::path::Path) -> RunOutcome {
        let root = self.dir.path();
        let engine = Engine {
            tasks: TaskRunner {
                runtime: &self.runtime,
                artifacts: ArtifactStore::new(&intermediate.to_string_lossy()).unwrap(),
                use_cache: true,
                retry: RetryPolicy { attempts: 3, base_delay: Duration::from_millis(1) },
                progress: &NoProgress,
            },
            results: Location::parse(&root.join("results").to_string_lossy()).unwrap(),
            records: &self.records,
        };
        let parameters = json!({"method": "test"});
        let request = RunRequest {
            run_id: "test_run",
            flow,
            parameters: &parameters,
            parameter_file: None,
            attrs: json!({"title": "test"}),
            outputs,
            task_command: Vec::new(),
            batch: None,
        };
        engine.run(&request).unwrap()
    }

    fn states(&self, outcome: &RunOutcome) -> Vec<(String, TaskState)> {
        self.records.tasks(outcome.record).unwrap().into_iter().map(|t| (t.task_id, t.state)).collect()
    }
}

/// Adds its parameter to the sum of its inputs, counting its executions, after `sleep_ms`.
struct Add {
    executions: Arc<AtomicU32>,
}

#[derive(Serialize, Deserialize)]
struct AddParams {
    add: i64,
    /// The roles of the inputs to add.
    roles: Vec<String>,
    sleep_ms: u64,
}

impl TaskKind for Add {
    const NAME: &'static str = "add";
    const VERSION: u32 = 1;
    const ARTIFACT: ArtifactKind = ArtifactKind::Json;
    type Params = AddParams;
    fn run(&self, ctx: &TaskContext, params: AddParams) -> Result<(), TaskError> {
        self.executions.fetch_add(1, Ordering::SeqCst);
        std::thread::sleep(Duration::from_millis(params.sleep_ms));
        let mut sum = params.add;
        for role in &params.roles {
            sum += ctx.read_json::<i64>(role)?;
        }
        ctx.write_json(&sum)
    }
}

/// The kinds of a test whose adders count into `executions`.
fn adders(executions: &Arc<AtomicU32>) -> Kinds {
    Kinds::new().with(Add { executions: executions.clone() })
}

/// An [`Add`] task reading the tasks `inputs` under their own ids as roles.
fn adder(id: &str, add: i64, inputs: &[&str]) -> Task {
    slow_adder(id, add, inputs, Duration::ZERO)
}

/// An [`adder`] that takes `duration` before it writes.
fn slow_adder(id: &str, add: i64, inputs: &[&str], duration: Duration) -> Task {
    let roles: Vec<String> = inputs.iter().map(|s| s.to_string()).collect();
    let params = AddParams { add, roles, sleep_ms: duration.as_millis() as u64 };
    let mut task = Task::of::<Add>(id, &params).unwrap();
    for input in inputs {
        task = task.input(*input, *input);
    }
    task
}

fn chain(predict: i64, executions: &Arc<AtomicU32>) -> Flow {
    Flow::new(
        "sums",
        vec![
            adder("train", 1, &[]),
            adder("predict", predict, &[]),
            adder("coarse", 10, &["train"]),
            adder("corrected", 100, &["coarse", "predict"]),
        ],
        adders(executions),
    )
    .unwrap()
}

#[test]
fn a_second_run_executes_nothing_and_a_changed_parameter_reruns_only_what_depends_on_it() {
    let setup = Setup::new();
    let executions = Arc::new(AtomicU32::new(0));
    let first = setup.run(&chain(1000, &executions), vec![]);
    assert!(first.succeeded);
    assert_eq!(executions.load(Ordering::SeqCst), 4);
    assert!(setup.states(&first).iter().all(|(_, s)| *s == TaskState::Succeeded));
    // The records hold the flow's edges (the dashboard draws its graph from them) and what the process used.
    let edges: Vec<(String, Vec<String>)> =
        setup.records.tasks(first.record).unwrap().into_iter().map(|t| (t.task_id, t.inputs)).collect();
    let strings = |ids: &[&str]| ids.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    assert_eq!(
        edges,
        [
            ("train".to_string(), strings(&[])),
            ("predict".to_string(), strings(&[])),
            ("coarse".to_string(), strings(&["train"])),
            ("corrected".to_string(), strings(&["coarse", "predict"])),
        ]
    );
    let samples = setup.records.samples(first.record).unwrap();
    assert!(!samples.is_empty() && samples.iter().all(|s| s.rss_bytes > 0), "{samples:?}");

    let second = setup.run(&chain(1000, &executions), vec![]);
    assert_eq!(executions.load(Ordering::SeqCst), 4, "nothing executes again");
    let tasks = setup.records.tasks(second.record).unwrap();
    assert!(tasks.iter().all(|t| t.cache_hit && t.state == TaskState::Cached), "{tasks:?}");

    let third = setup.run(&chain(2000, &executions), vec![]);
    assert_eq!(executions.load(Ordering::SeqCst), 6);
    let states = setup.states(&third);
    let state = |id: &str| states.iter().find(|(t, _)| t == id).unwrap().1;
    assert_eq!((state("train"), state("coarse")), (TaskState::Cached, TaskState::Cached));
    assert_eq!((state("predict"), state("corrected")), (TaskState::Succeeded, TaskState::Succeeded));

    let manifest: Value =
        serde_json::from_slice(&std::fs::read(setup.dir.path().join("results/runs/test_run/latest.json")).unwrap())
            .unwrap();
    assert_eq!(manifest["parameters"]["method"], "test");
    assert_eq!(manifest["cache_keys"].as_object().unwrap().len(), 4);
    let corrected = manifest["intermediates"]["corrected"].as_str().unwrap();
    assert_eq!(std::fs::read_to_string(corrected).unwrap().trim(), "2111", "100 + (10 + 1) + 2000");
}

#[test]
fn independent_tasks_run_at_the_same_time_and_each_leaves_its_state() {
    let executions = Arc::new(AtomicU32::new(0));
    let slow = |id, add, inputs: &[&str]| slow_adder(id, add, inputs, Duration::from_millis(300));
    let flow = Flow::new(
        "sums",
        vec![slow("train", 1, &[]), slow("predict", 1000, &[]), slow("corrected", 10, &["train", "predict"])],
        adders(&executions),
    )
    .unwrap();
    let interval = |setup: &Setup, outcome: &RunOutcome, id: &str| {
        let tasks = setup.records.tasks(outcome.record).unwrap();
        let task = tasks.into_iter().find(|t| t.task_id == id).unwrap();
        let time = |text: Option<String>| chrono::DateTime::parse_from_rfc3339(&text.unwrap()).unwrap();
        (time(task.started_at), time(task.ended_at))
    };

    let two = Setup::with_threads(2);
    let outcome = two.run(&flow, vec![]);
    assert!(outcome.succeeded);
    let (train, predict, corrected) =
        (interval(&two, &outcome, "train"), interval(&two, &outcome, "predict"), interval(&two, &outcome, "corrected"));
    assert!(train.0 < predict.1 && predict.0 < train.1, "train and predict overlap: {train:?} {predict:?}");
    assert!(corrected.0 >= train.1.max(predict.1), "corrected waits for both: {corrected:?}");

    // One thread: one task at a time, in the flow's order.
    let one = Setup::with_threads(1);
    let outcome = one.run(&flow, vec![]);
    let (train, predict) = (interval(&one, &outcome, "train"), interval(&one, &outcome, "predict"));
    assert!(train.1 <= predict.0, "{train:?} then {predict:?}");

    // The executing process left each task's state beside its artifact.
    let store = ArtifactStore::new(&one.dir.path().join("intermediate").to_string_lossy()).unwrap();
    let keys = flow.keys();
    let state = store.state("add", &keys["corrected"]).unwrap().unwrap();
    assert_eq!((state.task_id.as_str(), state.report.state), ("corrected", TaskState::Succeeded));
    assert_eq!(state.pid, std::process::id());
    assert!(state.report.wall_seconds >= 0.3 && state.report.bytes_written > 0, "{state:?}");
}

#[test]
fn two_runs_sharing_a_cache_at_the_same_time_execute_each_task_once() {
    let shared = tempfile::tempdir().unwrap();
    let executions = Arc::new(AtomicU32::new(0));
    // Tasks that take a while, so that both runs want each one while the other is computing it.
    let slow = |id, add, inputs: &[&str]| slow_adder(id, add, inputs, Duration::from_millis(200));
    let flow = Flow::new(
        "sums",
        vec![slow("train", 1, &[]), slow("coarse", 10, &["train"]), slow("corrected", 100, &["coarse"])],
        adders(&executions),
    )
    .unwrap();
    let start = std::sync::Barrier::new(2);
    let runs: Vec<Vec<(String, bool, bool)>> = std::thread::scope(|scope| {
        let run = || {
            let setup = Setup::new();
            start.wait();
            let outcome = setup.run_with_cache(&flow, vec![], shared.path());
            let tasks = setup.records.tasks(outcome.record).unwrap();
            tasks.into_iter().map(|t| (t.task_id, t.cache_hit, outcome.succeeded)).collect()
        };
        let runs = [scope.spawn(run), scope.spawn(run)];
        runs.map(|run| run.join().unwrap()).into()
    });
    assert_eq!(executions.load(Ordering::SeqCst), 3, "each task is computed by one of the runs: {runs:?}");
    for (first, second) in runs[0].iter().zip(&runs[1]) {
        assert!(first.2 && second.2, "both runs succeed: {runs:?}");
        assert_eq!(first.0, second.0);
        assert!(first.1 != second.1, "{}: one run computes it, the other finds it cached: {runs:?}", first.0);
    }
}

#[test]
fn transient_failures_are_retried_and_recorded() {
    let setup = Setup::new();
    let calls = Arc::new(AtomicU32::new(0));
    let counter = calls.clone();
    let flaky = Flaky(Box::new(move |ctx| {
        if counter.fetch_add(1, Ordering::SeqCst) == 0 {
            return Err(TaskError::caused_by(std::io::Error::new(ErrorKind::TimedOut, "storage timed out")));
        }
        ctx.write_json(&1)
    }));
    let flow = Flow::new("f", vec![task_of::<Flaky>("flaky")], Kinds::new().with(flaky)).unwrap();
    let outcome = setup.run(&flow, vec![]);
    assert!(outcome.succeeded);
    let task = &setup.records.tasks(outcome.record).unwrap()[0];
    assert_eq!((task.attempts, task.state), (2, TaskState::Succeeded));
    let logs = setup.records.logs(outcome.record).unwrap();
    assert!(logs.iter().any(|l| l.level == LogLevel::Warn && l.message.contains("storage timed out")), "{logs:?}");
}

/// A read failure of the data layer, with `cause` as its typed source when there is one.
fn read_error(cause: Option<std::io::Error>) -> DataError {
    let detail = cause.as_ref().map_or("the file ends early".to_string(), ToString::to_string);
    DataError::Read { path: "tas.nc".into(), detail, source: cause.map(|e| Box::new(e) as _) }
}

/// Makes the error a task fails with, on every attempt.
type Failing = fn() -> DataError;

/// A transient `io::Error` inside a `DataError` is retried (3 attempts here); a damaged file, a bad variable, a
/// lasting I/O error or a read failure without a typed cause fails at the first attempt.
#[test]
fn only_a_transient_cause_is_retried() {
    let cases: [(&str, Failing, u32); 6] = [
        ("timed out", || read_error(Some(std::io::Error::new(ErrorKind::TimedOut, "timed out"))), 3),
        ("interrupted", || read_error(Some(std::io::Error::from(ErrorKind::Interrupted))), 3),
        ("permission", || read_error(Some(std::io::Error::from(ErrorKind::PermissionDenied))), 1),
        ("no cause", || read_error(None), 1),
        ("malformed", || DataError::Malformed { path: "tas.nc".into(), detail: "header cut short".into() }, 1),
        (
            "bad variable",
            || DataError::BadVariable { path: "tas.nc".into(), variable: "tas".into(), detail: "4 dims".into() },
            1,
        ),
    ];
    for (name, error, attempts) in cases {
        let setup = Setup::new();
        let calls = Arc::new(AtomicU32::new(0));
        let counter = calls.clone();
        let failing = AlwaysFailing(Box::new(move |_| {
            counter.fetch_add(1, Ordering::SeqCst);
            Err(error().into())
        }));
        let flow = Flow::new("f", vec![task_of::<AlwaysFailing>("failing")], Kinds::new().with(failing)).unwrap();
        let outcome = setup.run(&flow, vec![]);
        assert!(!outcome.succeeded, "{name}");
        assert_eq!(calls.load(Ordering::SeqCst), attempts, "{name}");
        let task = &setup.records.tasks(outcome.record).unwrap()[0];
        assert_eq!((task.attempts, task.state), (attempts, TaskState::Failed), "{name}");
        let recorded = task.error.as_deref().unwrap();
        assert!(recorded.starts_with("tas.nc: ") && !recorded.contains('\n'), "{name}: {recorded}");
    }
}

#[test]
fn a_failed_task_fails_the_run_with_a_manifest_and_nothing_under_results() {
    let setup = Setup::new();
    let executions = Arc::new(AtomicU32::new(0));
    let kinds = adders(&executions)
        .with(Broken(Box::new(|_| Err(TaskError::new("obs.nc: variable 'tas' not found")))))
        .with(Panics(Box::new(|_| panic!("index out of bounds"))));
    let broken = task_of::<Broken>("broken").input("first", "first");
    let panics = task_of::<Panics>("panics").input("b", "broken");
    let flow = Flow::new("f", vec![adder("first", 1, &[]), broken, panics], kinds.clone()).unwrap();
    let outputs = vec![Output { dataset: "daily".into(), task_id: "first".into(), published_name: "x.json".into() }];
    let outcome = setup.run(&flow, outputs);
    assert!(!outcome.succeeded);
    let failure = outcome.failure.clone().unwrap();
    assert_eq!((failure.task.as_str(), failure.error.as_str()), ("broken", "obs.nc: variable 'tas' not found"));
    assert!(outcome.manifest.contains("/results/failed-runs/test_run/"), "{}", outcome.manifest);
    let manifest: Value = serde_json::from_slice(&std::fs::read(&outcome.manifest).unwrap()).unwrap();
    assert_eq!(manifest["failure"]["task"], "broken");
    let results: Vec<String> = std::fs::read_dir(setup.dir.path().join("results"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .collect();
    assert_eq!(results, ["failed-runs"], "no output and no run manifest is published");
    let run = setup.records.find_run("test_run").unwrap().unwrap();
    assert_eq!(run.state, RunState::Failed);
    assert!(run.error.unwrap().contains("task broken: obs.nc"));
    let states = setup.states(&outcome);
    assert_eq!(states[1], ("broken".into(), TaskState::Failed));
    assert_eq!(states[2], ("panics".into(), TaskState::Pending));

    // A panicking body is recorded as that task's failure too.
    let flow = Flow::new("f", vec![task_of::<Panics>("panics")], kinds).unwrap();
    let outcome = setup.run(&flow, vec![]);
    assert!(outcome.failure.unwrap().error.contains("panicked: index out of bounds"));
}

#[test]
fn a_failure_while_publishing_publishes_no_output() {
    let setup = Setup::new();
    let executions = Arc::new(AtomicU32::new(0));
    // The last task removes the second output's artifact, so its copy fails after the first output's succeeded.
    let vandal = Vandal(Box::new(|ctx| {
        Location::parse(&ctx.input("second")?.location)?.remove_all()?;
        ctx.write_json(&0)
    }));
    let kinds = adders(&executions).with(vandal);
    let tasks =
        vec![adder("first", 1, &[]), adder("second", 2, &[]), task_of::<Vandal>("vandal").input("second", "second")];
    let flow = Flow::new("f", tasks, kinds).unwrap();
    let output = |dataset: &str, task: &str| Output {
        dataset: dataset.into(),
        task_id: task.into(),
        published_name: format!("{task}.json"),
    };
    let outcome = setup.run(&flow, vec![output("daily", "first"), output("monthly", "second")]);
    assert!(!outcome.succeeded);
    let failure = outcome.failure.unwrap();
    assert_eq!(failure.task, "publish");
    assert!(failure.error.contains("second.json"), "{}", failure.error);
    let results: Vec<String> = std::fs::read_dir(setup.dir.path().join("results"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .collect();
    assert_eq!(results, ["failed-runs"], "not even the output copied before the failure is published");
    assert_eq!(setup.records.find_run("test_run").unwrap().unwrap().state, RunState::Failed);
}

#[test]
fn zarr_outputs_are_published_under_the_run_and_read_back() {
    let setup = Setup::new();
    let samples = concat!(env!("CARGO_MANIFEST_DIR"), "/../../data/samples/iberia/gcm_CNRM-CM5");
    let source = format!("{samples}/tas_day_CNRM-CM5_rcp85_r1i1p1_iberia_DJF_20801201-21000228.nc");
    let kinds = Kinds::new()
        .with(ReadModel(Box::new(|ctx| {
            let array = ctx.read_external(ctx.external("source")?, "tas")?;
            ctx.write_array(&array, &Default::default())
        })))
        .with(Mean(Box::new(|ctx| {
            let array = ctx.read_array("model")?;
            ctx.write_json(&array.valid_mean())
        })));
    let copy = task_of::<ReadModel>("model").external("source", source.clone(), json!({"model": "CNRM-CM5"}));
    let mean = task_of::<Mean>("mean").input("model", "model");
    let flow = Flow::new("f", vec![copy, mean], kinds).unwrap();
    let name = "CMIP5.CNRM-CERFACS.CNRM-CM5.rcp85.r1i1p1.day.TEST.tas.zarr";
    let outputs = vec![Output { dataset: "daily".into(), task_id: "model".into(), published_name: name.into() }];
    let outcome = setup.run(&flow, outputs);
    assert!(outcome.succeeded, "{:?}", outcome.failure);
    let published = setup.dir.path().join("results/test_run").join(name);
    let original = read_variable(&source, "tas").unwrap();
    let back = read_variable(&published.to_string_lossy(), "tas").unwrap();
    assert_eq!(back.data, original.data);
    let tasks = setup.records.tasks(outcome.record).unwrap();
    assert!(tasks[0].bytes_read.unwrap() > 100_000 && tasks[0].bytes_written.unwrap() > 10_000, "{tasks:?}");
    assert!(tasks[1].bytes_read.unwrap() == tasks[0].bytes_written.unwrap());
    assert!(tasks[0].peak_rss_bytes.unwrap() > 0 && tasks[0].wall_seconds.unwrap() > 0.0);
}
