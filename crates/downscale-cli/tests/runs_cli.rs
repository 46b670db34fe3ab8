//! `downscale runs list|show` on a records file written through the engine: states and levels print as the words
//! the file stores, and a word this version does not know (a file written by a newer one) is one error line.

mod common;

use std::path::Path;
use std::process::Output;

use common::{assert_one_line_error, isolated};
use downscale_engine::records::{NewRun, TaskReport};
use downscale_engine::{LogLevel, Records, TaskState};

/// A failed run with a cached task, a failed one and one never reached, in `dir/runs.sqlite`.
fn failed_run(dir: &Path) {
    let records = Records::open(&dir.join("runs.sqlite")).unwrap();
    let run =
        NewRun { run_id: "tas_run", flow: "bcsd", parameter_file: None, parameters: "{}", runtime: "ci", batch: None };
    let id = records.start_run(&run).unwrap();
    for task in ["get_obs", "bias_correct", "postprocess"] {
        records.plan_task(id, task, task, "key", &[]).unwrap();
    }
    records.task_finished(id, "get_obs", &TaskReport::unmeasured(TaskState::Cached, 0, None)).unwrap();
    records.task_started(id, "bias_correct").unwrap();
    records.log(id, Some("bias_correct"), LogLevel::Warn, "attempt 1 failed; retrying").unwrap();
    let report = TaskReport::unmeasured(TaskState::Failed, 2, Some("obs.nc: damaged".into()));
    records.task_finished(id, "bias_correct", &report).unwrap();
    records.finish_run(id, false, None, Some("task bias_correct: obs.nc: damaged")).unwrap();
}

fn runs(dir: &Path, args: &[&str]) -> Output {
    let home = dir.join("home");
    let mut command = isolated(&home);
    command.arg("runs").args(args).arg("--set").arg(format!("run_records={}", dir.join("runs.sqlite").display()));
    command.output().expect("the binary runs")
}

fn stdout(output: &Output) -> String {
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8_lossy(&output.stdout).to_string()
}

#[test]
fn states_and_levels_print_as_the_stored_words_in_aligned_columns() {
    let dir = tempfile::tempdir().unwrap();
    failed_run(dir.path());

    let list = stdout(&runs(dir.path(), &["list"]));
    let row = list.lines().nth(1).unwrap();
    assert!(row.starts_with("    1  failed     ci "), "{list}");

    let show = stdout(&runs(dir.path(), &["show", "tas_run"]));
    assert!(show.starts_with("run 1 (tas_run): failed\n"), "{show}");
    let task = |id: &str| show.lines().find(|l| l.starts_with(id)).unwrap_or_else(|| panic!("{id}: {show}"));
    // The task column is 34 wide, the state column 11.
    assert!(task("get_obs").starts_with(&format!("{:<34} cached      ", "get_obs")), "{show}");
    assert!(task("bias_correct").starts_with(&format!("{:<34} failed          2", "bias_correct")), "{show}");
    assert!(task("postprocess").starts_with(&format!("{:<34} pending     ", "postprocess")), "{show}");
    assert!(show.lines().any(|l| l.ends_with(" warn  attempt 1 failed; retrying")), "{show}");

    let json: serde_json::Value = serde_json::from_str(&stdout(&runs(dir.path(), &["show", "1", "--json"]))).unwrap();
    assert_eq!(json["run"]["state"], "failed");
    let states: Vec<&str> = json["tasks"].as_array().unwrap().iter().map(|t| t["state"].as_str().unwrap()).collect();
    assert_eq!(states, ["cached", "failed", "pending"]);
    assert_eq!(json["tasks"][0]["cache_hit"], true);
    assert_eq!(json["logs"][0]["level"], "warn");
}

#[test]
fn a_state_this_version_does_not_know_is_one_error_line_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    failed_run(dir.path());
    let records = dir.path().join("runs.sqlite");
    let file = rusqlite::Connection::open(&records).unwrap();
    file.execute("UPDATE tasks SET state = 'exploded' WHERE task_id = 'postprocess'", []).unwrap();
    let path = records.display().to_string();
    assert_one_line_error(&runs(dir.path(), &["show", "1"]), &[&path, "unknown task state 'exploded'"]);
    assert_one_line_error(&runs(dir.path(), &["show", "1", "--json"]), &["unknown task state 'exploded'"]);

    file.execute("UPDATE runs SET state = 'paused'", []).unwrap();
    assert_one_line_error(&runs(dir.path(), &["list"]), &[&path, "unknown run state 'paused'", "newer version"]);
}
