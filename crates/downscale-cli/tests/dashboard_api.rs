//! The dashboard's JSON API and images over the records of real runs: every endpoint, unknown runs, the token when
//! bound beyond loopback, and paths outside the storage roots.

mod common;

use common::dashboard::{DashboardProcess, RecordedRuns};
use serde_json::Value;

/// A GET answered: status, content type and body.
struct Answer {
    status: u16,
    content_type: String,
    body: Vec<u8>,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&self.body)))
    }
}

fn get_with(url: &str, bearer: Option<&str>) -> Answer {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    runtime.block_on(async {
        let mut request = reqwest::Client::new().get(url);
        if let Some(token) = bearer {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let content_type =
            response.headers().get("content-type").map(|v| v.to_str().unwrap().to_string()).unwrap_or_default();
        Answer { status, content_type, body: response.bytes().await.unwrap().to_vec() }
    })
}

fn get(url: &str) -> Answer {
    get_with(url, None)
}

/// A PNG's size and how many distinct colours it has.
fn png_size_and_colours(bytes: &[u8]) -> (u32, u32, usize) {
    let mut reader = png::Decoder::new(std::io::Cursor::new(bytes)).read_info().unwrap();
    let mut buffer = vec![0; reader.output_buffer_size()];
    let frame = reader.next_frame(&mut buffer).unwrap();
    let step = frame.color_type.samples();
    let colours: std::collections::HashSet<&[u8]> = buffer[..frame.buffer_size()].chunks(step).collect();
    (frame.width, frame.height, colours.len())
}

#[test]
fn every_endpoint_answers_from_the_records_of_real_runs() {
    let runs = RecordedRuns::make();
    let served = DashboardProcess::start(&runs, &["--bind", "127.0.0.1:0"]);
    let api = |path: &str| get(&format!("{}{path}", served.url));

    // The page and its assets, from the binary.
    let page = api("");
    assert_eq!((page.status, page.content_type.as_str()), (200, "text/html; charset=utf-8"));
    assert!(String::from_utf8_lossy(&page.body).contains("assets/app.js"));
    assert_eq!(api("assets/app.js").status, 200);
    assert_eq!(api("assets/app.css").status, 200);

    // The runs list: newest first, with states, summaries and progress; filters.
    let list = api("api/runs").json();
    let states: Vec<(i64, &str)> = list["runs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["id"].as_i64().unwrap(), r["state"].as_str().unwrap()))
        .collect();
    assert_eq!(states, [(runs.in_progress, "running"), (runs.failed, "failed"), (runs.done, "succeeded")]);
    let done = &list["runs"][2];
    assert_eq!((done["tasks_total"].as_u64(), done["tasks_ended"].as_u64()), (Some(10), Some(10)));
    assert!(done["summary"].as_str().unwrap().starts_with("tas · CNRM-CM5 rcp85 r1i1p1 · E-OBS"), "{done}");
    assert!(done["duration_seconds"].as_f64().unwrap() > 0.0);
    assert_eq!(api("api/runs?state=failed").json()["runs"].as_array().unwrap().len(), 1);
    assert_eq!(api("api/runs?q=IN_PROGRESS").json()["runs"][0]["id"].as_i64(), Some(runs.in_progress));
    assert_eq!(api("api/runs?flow=gard").json()["runs"].as_array().unwrap().len(), 0);
    let next_page = api(&format!("api/runs?before={}&limit=1", runs.in_progress)).json();
    assert_eq!(next_page["runs"][0]["id"].as_i64(), Some(runs.failed), "{next_page} {} {}", runs.done, runs.failed);
    let bad_state = api("api/runs?state=paused");
    assert_eq!(bad_state.status, 400);
    assert!(bad_state.json()["error"].as_str().unwrap().contains("unknown run state 'paused'"));

    // One run, by number or by run id (the newest run of that id: the failed attempt, made after the done one):
    // its tasks with the flow's edges, its failure, its outputs.
    let run = api(&format!("api/runs/{}", runs.done)).json();
    let run_id = run["run"]["run_id"].as_str().unwrap().to_string();
    assert_eq!(api(&format!("api/runs/{run_id}")).json()["run"]["id"].as_i64(), Some(runs.failed));
    let tasks = run["tasks"].as_array().unwrap();
    let postprocess = tasks.iter().find(|t| t["task_id"] == "postprocess").unwrap();
    assert!(postprocess["inputs"].as_array().unwrap().iter().any(|i| i == "bias_correct"), "{postprocess}");
    assert!(postprocess["tiles_total"].as_u64().unwrap() >= 1);
    assert_eq!(run["outputs"]["daily"], runs.done_manifest["datasets"]["daily"]);
    assert!(run["failure"].is_null());
    assert_eq!(run["run"]["parameters"]["variable"], "tas");
    let failed = api(&format!("api/runs/{}", runs.failed)).json();
    assert_eq!(failed["failure"]["task"], "get_experiment_predict");
    assert!(failed["failure"]["error"].as_str().unwrap().contains("tas_rcp85_damaged.nc"), "{failed}");

    // Unknown runs.
    for unknown in [
        "api/runs/9999",
        "api/runs/no_such_run",
        "api/runs/9999/logs",
        "api/runs/9999/resources",
        "api/runs/9999/manifest",
        "api/runs/9999/map.png",
    ] {
        let answer = api(unknown);
        assert_eq!(answer.status, 404, "{unknown}");
        assert!(answer.json()["error"].as_str().unwrap().contains("no run"), "{unknown}");
    }

    // Log lines: the last ones, those after one, by level and by task.
    let logs = api(&format!("api/runs/{}/logs", runs.done)).json();
    let lines = logs["lines"].as_array().unwrap();
    assert!(lines.last().unwrap()["message"].as_str().unwrap().starts_with("run succeeded"), "{logs}");
    let first = lines[0]["seq"].as_i64().unwrap();
    let after = api(&format!("api/runs/{}/logs?after={first}&limit=2", runs.done)).json();
    assert_eq!(after["lines"].as_array().unwrap().len(), 2);
    assert_eq!(after["lines"][0]["seq"].as_i64(), lines[1]["seq"].as_i64());
    let errors = api(&format!("api/runs/{}/logs?level=error", runs.failed)).json();
    assert!(
        errors["lines"].as_array().unwrap().iter().all(|l| l["level"] == "error") && errors["lines"][0].is_object()
    );
    let of_task = api(&format!("api/runs/{}/logs?task=bias_correct", runs.done)).json();
    assert!(of_task["lines"].as_array().unwrap().iter().all(|l| l["task_id"] == "bias_correct"));
    assert_eq!(api(&format!("api/runs/{}/logs?level=loud", runs.done)).status, 400);

    // Resources sampled while the run ran; the manifest once written.
    let samples = api(&format!("api/runs/{}/resources", runs.done)).json();
    assert!(samples["samples"][0]["rss_bytes"].as_u64().unwrap() > 1 << 20, "{samples}");
    assert_eq!(api(&format!("api/runs/{}/manifest", runs.done)).json()["run_id"].as_str(), Some(run_id.as_str()));
    assert!(api(&format!("api/runs/{}/manifest", runs.failed)).json()["failure"].is_object());
    assert_eq!(api(&format!("api/runs/{}/manifest", runs.in_progress)).status, 404);

    // Images of a run's outputs, and of a store by path inside the storage roots.
    for path in [
        format!("api/runs/{}/map.png", runs.done),
        format!("api/runs/{}/map.png?mean=all&dataset=monthly", runs.done),
        format!("api/runs/{}/map.png?mean=month&time=2085-01", runs.done),
        format!("api/runs/{}/series.png?mean=year", runs.done),
        format!("api/runs/{}/bias.png", runs.done),
    ] {
        let image = api(&path);
        assert_eq!(
            (image.status, image.content_type.as_str()),
            (200, "image/png"),
            "{path}: {}",
            String::from_utf8_lossy(&image.body)
        );
        let (width, height, colours) = png_size_and_colours(&image.body);
        assert!(width >= 600 && height >= 200 && colours > 20, "{path}: {width}×{height}, {colours} colours");
    }
    let daily = runs.done_manifest["datasets"]["daily"].as_str().unwrap();
    let by_path = api(&format!("api/map.png?store={daily}&time=2090-12-25"));
    assert_eq!(by_path.status, 200, "{}", String::from_utf8_lossy(&by_path.body));
    assert_eq!(api(&format!("api/series.png?store={daily}")).status, 200);
    assert_eq!(api(&format!("api/runs/{}/map.png?dataset=hourly", runs.done)).status, 404);
    assert_eq!(api(&format!("api/runs/{}/map.png?time=2085-01", runs.done)).status, 400);
    assert_eq!(api("api/map.png").status, 400);

    // Paths outside the storage roots are refused, however they are written.
    let records = runs.records_path();
    let climbing = format!("{}/../runs.sqlite", runs.dir.path().join("results").display());
    for outside in [records.display().to_string(), climbing, "/etc/passwd".into(), "/no/such/store.zarr".into()] {
        let answer = api(&format!("api/map.png?store={outside}"));
        assert_eq!(answer.status, 403, "{outside}");
        assert!(answer.json()["error"].as_str().unwrap().contains("not inside the configured storage roots"));
    }
}

#[test]
fn beyond_loopback_every_request_needs_the_token() {
    let runs = RecordedRuns::make();
    // Without a token, an address other than loopback is refused before anything is served.
    let refused = DashboardProcess::command(runs.dir.path(), &["--bind", "0.0.0.0:0"]).output().unwrap();
    assert!(!refused.status.success());
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert!(stderr.contains("--bind 0.0.0.0:0") && stderr.contains("needs a token"), "{stderr}");

    let token = "correct-horse-battery-staple";
    let served = DashboardProcess::start(&runs, &["--bind", "0.0.0.0:0", "--token", token]);
    let port = served.url.trim_end_matches('/').rsplit(':').next().unwrap().to_string();
    let url = |path: &str| format!("http://127.0.0.1:{port}/{path}");
    for path in [
        "",
        "assets/app.js",
        "api/runs",
        &format!("api/runs/{}", runs.done),
        &format!("api/runs/{}/map.png", runs.done),
    ] {
        assert_eq!(get(&url(path)).status, 401, "{path} without the token");
        assert_eq!(get_with(&url(path), Some("wrong-token")).status, 401, "{path} with another token");
    }
    let answer = get_with(&url("api/runs"), Some(token));
    assert_eq!(answer.status, 200);
    assert!(!String::from_utf8_lossy(&answer.body).contains(token), "the token is never shown");
    assert_eq!(get(&url(&format!("api/runs?token={token}"))).status, 200);
    assert_eq!(get(&url(&format!("?token={token}"))).status, 200);

    // The token from the configuration, given as an environment reference.
    let served = {
        let mut command = DashboardProcess::command(
            runs.dir.path(),
            &["--bind", "0.0.0.0:0", "--set", "dashboard.token=$TEST_DASHBOARD_TOKEN"],
        );
        command.env("TEST_DASHBOARD_TOKEN", token);
        let mut child = command.stdout(std::process::Stdio::piped()).spawn().unwrap();
        let mut line = String::new();
        std::io::BufRead::read_line(&mut std::io::BufReader::new(child.stdout.take().unwrap()), &mut line).unwrap();
        (child, line)
    };
    let (mut child, line) = served;
    let port = line.trim().trim_end_matches('/').rsplit(':').next().unwrap().to_string();
    let from_config = format!("http://127.0.0.1:{port}/api/runs");
    let outcome = (get(&from_config).status, get_with(&from_config, Some(token)).status);
    child.kill().unwrap();
    child.wait().unwrap();
    assert_eq!(outcome, (401, 200));
}

#[test]
fn a_run_whose_process_died_is_shown_interrupted_while_the_dashboard_serves() {
    let runs = RecordedRuns::make();
    let served = DashboardProcess::start(&runs, &["--bind", "127.0.0.1:0"]);
    let in_progress = format!("{}api/runs/{}", served.url, runs.in_progress);
    assert_eq!(get(&in_progress).json()["run"]["state"], "running");
    // Its process is gone (no process has this id: Linux's largest is 2^22).
    let raw = rusqlite::Connection::open(runs.records_path()).unwrap();
    raw.execute("UPDATE runs SET pid = ?1 WHERE id = ?2", rusqlite::params![u32::MAX, runs.in_progress]).unwrap();
    let started = std::time::Instant::now();
    while get(&in_progress).json()["run"]["state"] != "interrupted" {
        assert!(started.elapsed() < std::time::Duration::from_secs(30), "still running after 30 s");
        std::thread::sleep(std::time::Duration::from_millis(250));
    }
}

#[test]
fn a_missing_records_file_named_on_the_command_line_is_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("typo.sqlite");
    let output = DashboardProcess::command(dir.path(), &["--records", missing.to_str().unwrap()]).output().unwrap();
    assert!(!output.status.success());
    common::assert_one_line_error(&output, &["--records", "typo.sqlite", "no such file"]);
    assert!(!missing.exists(), "nothing is created");
}
