//! The BCSD flow's wiring, checked without running it: which task reads which, and which cache keys each choice of
//! the parameter file changes (a choice must change the key of every task whose output it changes, and no other).

use std::collections::{BTreeMap, BTreeSet, HashMap};

use downscale_engine::{CacheKey, Flow, ShardedKind, Task, TaskKind};
use downscale_flows::bcsd::{self, BcsdInputs, BcsdVariant};
use downscale_flows::shared;
use downscale_flows::sources::Source;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value, json};

fn source(name: &str, experiment: &str) -> Source {
    let mut fields = Map::new();
    for (column, value) in [
        ("activity_id", "CMIP5"),
        ("institution_id", "CNRM-CERFACS"),
        ("source_id", name),
        ("experiment_id", experiment),
        ("member_id", "r1i1p1"),
    ] {
        fields.insert(column.into(), value.into());
    }
    Source {
        location: format!("/data/{name}_{experiment}.nc"),
        file_variable: "tas".into(),
        identity: json!({"row": fields, "version": {"bytes": 1, "modified": "2020-01-01"}}),
        fields,
    }
}

fn inputs(variable: &str, variant: BcsdVariant) -> BcsdInputs {
    BcsdInputs {
        variable: variable.into(),
        bbox: [35.0, 45.0, -10.0, 5.0],
        train: [1983, 2002],
        predict: [2081, 2100],
        obs: source("E-OBS", "observations"),
        train_model: source("CNRM-CM5", "historical"),
        predict_model: source("CNRM-CM5", "rcp85"),
        variant,
        output_attrs: json!({"run_id": "test"}),
    }
}

const DEFAULT: BcsdVariant = BcsdVariant::QuantileDeltaMapping { nquantiles: 50 };

fn keys(inputs: &BcsdInputs) -> HashMap<String, CacheKey> {
    Flow::new("bcsd", bcsd::tasks(inputs).unwrap(), downscale_flows::kinds()).unwrap().keys()
}

/// The tasks whose keys differ between two builds.
fn changed(a: &BcsdInputs, b: &BcsdInputs) -> BTreeSet<String> {
    let (a, b) = (keys(a), keys(b));
    a.iter().filter(|(id, key)| b[*id] != **key).map(|(id, _)| id.clone()).collect()
}

fn set(ids: &[&str]) -> BTreeSet<String> {
    ids.iter().map(|id| id.to_string()).collect()
}

#[test]
fn every_task_reads_what_the_method_says() {
    let tasks = bcsd::tasks(&inputs("tas", DEFAULT)).unwrap();
    let wiring: BTreeMap<&str, Vec<(&str, &str)>> = tasks
        .iter()
        .map(|task| (task.id.as_str(), task.inputs.iter().map(|(role, from)| (role.as_str(), from.as_str())).collect()))
        .collect();
    let expected: BTreeMap<&str, Vec<(&str, &str)>> = [
        ("get_obs", vec![]),
        ("get_experiment_train", vec![]),
        ("get_experiment_predict", vec![]),
        ("coarsen_obs", vec![("grid", "get_experiment_train"), ("source", "get_obs")]),
        ("spatial_anomalies", vec![("coarse", "coarsen_obs"), ("obs", "get_obs")]),
        (
            "bias_correct",
            vec![("hist", "get_experiment_train"), ("reference", "coarsen_obs"), ("sim", "get_experiment_predict")],
        ),
        ("land_mask", vec![("grid", "get_obs")]),
        (
            "postprocess",
            vec![
                ("anomalies", "spatial_anomalies"),
                ("coarse", "bias_correct"),
                ("grid", "get_obs"),
                ("land", "land_mask"),
            ],
        ),
        ("summary_month", vec![("daily", "postprocess")]),
        ("summary_year", vec![("daily", "postprocess")]),
    ]
    .into_iter()
    .collect();
    assert_eq!(wiring, expected);
    // The published outputs come from the tasks that make them.
    let outputs: Vec<(String, String)> =
        bcsd::outputs(&inputs("tas", DEFAULT)).into_iter().map(|o| (o.task_id, o.published_name)).collect();
    assert_eq!(
        outputs,
        [
            ("postprocess".into(), "CMIP5.CNRM-CERFACS.CNRM-CM5.rcp85.r1i1p1.day.BCSD.tas.zarr".into()),
            ("summary_month".into(), "CMIP5.CNRM-CERFACS.CNRM-CM5.rcp85.r1i1p1.month.BCSD.tas.zarr".into()),
            ("summary_year".into(), "CMIP5.CNRM-CERFACS.CNRM-CM5.rcp85.r1i1p1.year.BCSD.tas.zarr".into()),
        ]
    );
}

#[test]
fn each_choice_changes_the_keys_of_exactly_the_tasks_it_changes() {
    let base = inputs("tas", DEFAULT);
    let after_correction = set(&["bias_correct", "postprocess", "summary_month", "summary_year"]);
    // The coarse correction: temperature's anomalies are additive in every variant.
    for variant in
        [BcsdVariant::BcsdPoint, BcsdVariant::CarbonPlanCompat, BcsdVariant::QuantileDeltaMapping { nquantiles: 20 }]
    {
        assert_eq!(changed(&base, &inputs("tas", variant)), after_correction, "{variant:?}");
    }
    // Precipitation's default restores ratios, the point models differences.
    let with_anomalies = {
        let mut ids = after_correction.clone();
        ids.insert("spatial_anomalies".into());
        ids
    };
    assert_eq!(changed(&inputs("pr", DEFAULT), &inputs("pr", BcsdVariant::BcsdPoint)), with_anomalies);
    // The predicted years: the prediction and everything after it.
    let later = BcsdInputs { predict: [2091, 2100], ..inputs("tas", DEFAULT) };
    let mut after_predict = after_correction.clone();
    after_predict.insert("get_experiment_predict".into());
    assert_eq!(changed(&base, &later), after_predict);
    // The training years: everything but the prediction's input.
    let shorter = BcsdInputs { train: [1983, 1992], ..inputs("tas", DEFAULT) };
    let mut all: BTreeSet<String> = keys(&base).into_keys().collect();
    all.remove("get_experiment_predict");
    assert_eq!(changed(&base, &shorter), all);
    // New data in the predicted model's file (its identity), not where the file is.
    let mut moved = inputs("tas", DEFAULT);
    moved.predict_model.location = "/elsewhere/CNRM-CM5_rcp85.nc".into();
    assert!(changed(&base, &moved).is_empty());
    let mut replaced = inputs("tas", DEFAULT);
    replaced.predict_model.identity["version"] = json!({"bytes": 2, "modified": "2021-01-01"});
    assert_eq!(changed(&base, &replaced), after_predict);
    // The run's attributes go into the published stores only.
    let renamed = BcsdInputs { output_attrs: json!({"run_id": "other"}), ..inputs("tas", DEFAULT) };
    assert_eq!(changed(&base, &renamed), set(&["postprocess", "summary_month", "summary_year"]));
}

#[test]
fn a_variable_bcsd_does_not_downscale_is_refused_before_any_task() {
    let error = bcsd::tasks(&inputs("psl", DEFAULT)).unwrap_err().to_string();
    assert!(error.contains("'psl'") && error.contains("tas, tasmax, tasmin or pr"), "{error}");
}

/// `params` read as kind `K`'s parameters and written back.
fn as_read_by<K: TaskKind>(params: &Value) -> Value {
    round_trip::<K::Params>(K::NAME, params)
}

/// [`as_read_by`] for a sharded kind.
fn as_read_by_shards<K: ShardedKind>(params: &Value) -> Value {
    round_trip::<K::Params>(K::NAME, params)
}

fn round_trip<P: Serialize + DeserializeOwned>(name: &str, params: &Value) -> Value {
    let typed: P = serde_json::from_value(params.clone()).unwrap_or_else(|e| panic!("{name}: {e}"));
    serde_json::to_value(typed).unwrap()
}

/// The cache key hashes a task's parameters, and every one of them is a field of the type its body reads (no
/// field is left out of the type, none is added by it): so what the key hashes is what the body sees. And a task
/// written out as JSON reads back the same, for another process to run.
#[test]
fn every_task_hashes_exactly_the_parameters_its_body_reads() {
    for variable in ["tas", "pr"] {
        for variant in [DEFAULT, BcsdVariant::BcsdPoint, BcsdVariant::CarbonPlanCompat] {
            for task in bcsd::tasks(&inputs(variable, variant)).unwrap() {
                let read_back = match task.name.as_str() {
                    "get_obs" => as_read_by::<shared::GetObs>(&task.params),
                    "get_experiment" => as_read_by::<shared::GetExperiment>(&task.params),
                    "regrid" => as_read_by::<shared::Regrid>(&task.params),
                    "land_mask" => as_read_by::<shared::LandMask>(&task.params),
                    "time_summary" => as_read_by_shards::<shared::TimeSummary>(&task.params),
                    "bcsd_spatial_anomalies" => as_read_by::<bcsd::SpatialAnomalies>(&task.params),
                    "bcsd_fit_and_predict" => as_read_by_shards::<bcsd::FitAndPredict>(&task.params),
                    "bcsd_postprocess" => as_read_by_shards::<bcsd::Postprocess>(&task.params),
                    other => panic!("task '{}' of a kind this test does not know: {other}", task.id),
                };
                assert_eq!(read_back, task.params, "{}", task.id);
                let text = serde_json::to_string(&task).unwrap();
                assert_eq!(serde_json::from_str::<Task>(&text).unwrap(), task);
            }
        }
    }
    // A parameter the body does not read is refused, not silently hashed.
    let mut params = bcsd::tasks(&inputs("tas", DEFAULT)).unwrap()[0].params.clone();
    params["colour"] = "blue".into();
    assert!(serde_json::from_value::<shared::ReadParams>(params).is_err());
}
