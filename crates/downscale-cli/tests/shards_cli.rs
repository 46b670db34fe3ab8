//! A sharded task's shards run as separate processes (`downscale task --shard`, as a cluster's array elements do).
//! One is killed while it writes a chunk: the task's store is not published nor marked complete; running the task
//! then executes that shard alone, leaving the others' work as it was; and the published outputs are bit for bit
//! those of a run that never lost a shard.
//!
//! The case is `downscale bench case` (the Iberia tas pair tiled 3x3 in space and twice in time): its daily output
//! spans six chunks, so BCSD's postprocess has six shards.

mod common;

use std::os::unix::process::{CommandExt, ExitStatusExt};

use common::case::Case;
use common::digest_of_outputs;
use serde_json::Value;

/// A task of the plan by id.
fn planned<'a>(plan: &'a [Value], id: &str) -> &'a Value {
    plan.iter().find(|task| task["spec"]["id"] == id).unwrap()
}

/// Files cannot grow past this in a killed shard's process: its first chunk (megabytes compressed) stops it.
const FILE_SIZE_LIMIT: libc::rlim_t = 64 << 10;

#[test]
fn a_shard_killed_mid_write_leaves_the_task_incomplete_and_is_run_again_alone() {
    let dir = tempfile::tempdir().unwrap();
    let case = Case::build(dir.path());

    // Every task before postprocess, each in its own process.
    let plan = case.plan();
    for task in &plan {
        let id = task["spec"]["id"].as_str().unwrap();
        if id == "postprocess" {
            break;
        }
        let output = case.command(&["task", "--task", id, "--runtime", "ci"]).output().unwrap();
        assert!(output.status.success(), "{id}: {}", String::from_utf8_lossy(&output.stderr));
    }
    let plan = case.plan();
    let postprocess = planned(&plan, "postprocess");
    assert_eq!(postprocess["shards"], 6, "{postprocess}");
    let folder = dir.path().join("intermediate/bcsd_postprocess").join(postprocess["key"].as_str().unwrap());

    // The shards as separate processes; shard 2 may not grow a file past 64 KiB, so the kernel kills it
    // (SIGXFSZ) in the middle of writing its chunk.
    for shard in 0..6 {
        let mut command = case.command(&["task", "--task", "postprocess", "--shard", &shard.to_string()]);
        if shard == 2 {
            let limit = libc::rlimit { rlim_cur: FILE_SIZE_LIMIT, rlim_max: FILE_SIZE_LIMIT };
            // SAFETY: setrlimit is async-signal-safe and touches only the child's own limits.
            unsafe {
                command.pre_exec(move || {
                    if libc::setrlimit(libc::RLIMIT_FSIZE, &limit) == 0 {
                        Ok(())
                    } else {
                        Err(std::io::Error::last_os_error())
                    }
                })
            };
            let output = command.output().unwrap();
            assert_eq!(output.status.signal(), Some(libc::SIGXFSZ), "killed while writing: {:?}", output.status);
            continue;
        }
        let output = command.output().unwrap();
        assert!(output.status.success(), "shard {shard}: {}", String::from_utf8_lossy(&output.stderr));
        let printed: Value = serde_json::from_slice(&output.stdout).unwrap();
        assert_eq!((printed["shard"].as_u64(), printed["report"]["state"].as_str()), (Some(shard), Some("succeeded")));
    }
    let stage = folder.join(".data.zarr.shards");
    // Each chunk is written to a temporary file and renamed once whole: shard 2's chunk is a cut-off temporary.
    let partial = stage.join("tas/c/0/0/2#1");
    assert_eq!(std::fs::metadata(&partial).unwrap().len(), FILE_SIZE_LIMIT, "shard 2 was killed writing its chunk");
    assert!(!stage.join("tas/c/0/0/2").exists());
    assert!(!folder.join("shards/2.json").exists(), "the killed shard left no state");
    assert!(!folder.join("complete.json").exists() && !folder.join("data.zarr").exists(), "not published");
    assert_eq!(planned(&case.plan(), "postprocess")["complete"], false);
    let states_before: Vec<Vec<u8>> =
        [0, 1, 3, 4, 5].iter().map(|n| std::fs::read(folder.join(format!("shards/{n}.json"))).unwrap()).collect();

    // The task, run as a whole, executes the missing shard alone and publishes.
    let output = case.command(&["task", "--task", "postprocess"]).output().unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let states_after: Vec<Vec<u8>> =
        [0, 1, 3, 4, 5].iter().map(|n| std::fs::read(folder.join(format!("shards/{n}.json"))).unwrap()).collect();
    assert!(states_before == states_after, "the shards that were done are not run again");
    let retried: Value = serde_json::from_slice(&std::fs::read(folder.join("shards/2.json")).unwrap()).unwrap();
    assert_eq!(retried["report"]["state"], "succeeded");
    assert!(folder.join("complete.json").exists() && !stage.exists(), "published from the stage");
    let published = folder.join("data.zarr/tas/c/0/0");
    let mut chunks: Vec<String> =
        std::fs::read_dir(published).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into()).collect();
    chunks.sort();
    assert_eq!(chunks, ["0", "1", "2"], "the cut-off temporary is not published");

    // A process dies between publishing and marking: the store is there, its marker is not, and the six states
    // say done. A shard run alone then starts a new stage, and the states of the published one no longer count:
    // the task runs the other five again instead of publishing a store with one chunk.
    std::fs::remove_file(folder.join("complete.json")).unwrap();
    let output = case.command(&["task", "--task", "postprocess", "--shard", "0"]).output().unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert!(!folder.join("shards/1.json").exists(), "the states of the published stage are gone");
    let output = case.command(&["task", "--task", "postprocess"]).output().unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert!(folder.join("complete.json").exists());

    // The run finds everything cached, and its outputs are those of a run that lost nothing.
    let manifest = case.run();
    let clean = tempfile::tempdir().unwrap();
    let reference = Case::build(clean.path()).run();
    assert_eq!(digest_of_outputs(&manifest, "tas"), digest_of_outputs(&reference, "tas"));
}
