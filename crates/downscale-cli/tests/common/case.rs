//! `downscale bench case`: the Iberia tas pair tiled 3x3 in space and twice in time, whose daily output spans six
//! chunks, so BCSD's postprocess has six shards. Tests that need a sharded task with several shards use it.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use super::downscale;

/// The scaled-up case built under `dir`: its parameter file and the settings that point a command at its
/// catalogs and at storage under `dir`.
pub(crate) struct Case {
    pub(crate) param_file: PathBuf,
    pub(crate) settings: Vec<String>,
}

impl Case {
    pub(crate) fn build(dir: &Path) -> Case {
        let output = downscale().args(["bench", "case", "--out"]).arg(dir).output().unwrap();
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
        let described: Value = serde_json::from_slice(&output.stdout).unwrap();
        let path = |key: &str| PathBuf::from(described[key].as_str().unwrap());
        let settings = [
            ("storage.intermediate.uri", dir.join("intermediate")),
            ("storage.results.uri", dir.join("results")),
            ("run_records", dir.join("runs.sqlite")),
            ("data_catalog.obs", path("data_catalog.obs")),
            ("data_catalog.model", path("data_catalog.model")),
        ];
        let settings =
            settings.into_iter().flat_map(|(key, value)| ["--set".into(), format!("{key}={}", value.display())]);
        Case { param_file: path("param_file"), settings: settings.collect() }
    }

    pub(crate) fn command(&self, args: &[&str]) -> Command {
        let mut command = downscale();
        command.args(args).arg("--param-file").arg(&self.param_file).args(&self.settings);
        command
    }

    /// The run id of the case's parameter file.
    pub(crate) fn run_id(&self) -> String {
        let output = self.command(&["plan"]).output().unwrap();
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
        let plan: Value = serde_json::from_slice(&output.stdout).unwrap();
        plan["run_id"].as_str().unwrap().to_string()
    }

    pub(crate) fn plan(&self) -> Vec<Value> {
        let output = self.command(&["plan"]).output().unwrap();
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
        let plan: Value = serde_json::from_slice(&output.stdout).unwrap();
        plan["tasks"].as_array().unwrap().clone()
    }

    /// `downscale run` on the ci runtime; returns the manifest.
    pub(crate) fn run(&self) -> Value {
        let output = self.command(&["run", "--runtime", "ci"]).output().unwrap();
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
        let manifest = String::from_utf8_lossy(&output.stdout).lines().last().unwrap().to_string();
        serde_json::from_slice(&std::fs::read(manifest).unwrap()).unwrap()
    }
}
