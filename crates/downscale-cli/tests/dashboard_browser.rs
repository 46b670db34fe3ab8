//! The dashboard in a real browser: headless Chromium driven through chromedriver (Debian's `chromium` and
//! `chromium-driver`, installed by `scripts/setup.sh`) shows the runs of real records with their states, a failed
//! run's graph with the failed task marked and its error, a live change of a task's state without a reload, and a
//! map. Screenshots are checked to be pictures (many colours), and written to `$DOWNSCALE_SCREENSHOTS` when it is
//! set (`docs/images` for the README's).

mod common;

use std::time::{Duration, Instant};

use common::browser::{Driver, browser, eval, keep_screenshot};
use common::dashboard::{DashboardProcess, RecordedRuns};
use downscale_engine::TaskState;
use fantoccini::{Client, Locator};
use serde_json::json;

/// Waits up to 20 s for `script` to return true.
async fn until(client: &Client, what: &str, script: &str) {
    let started = Instant::now();
    while eval(client, script).await != json!(true) {
        assert!(started.elapsed() < Duration::from_secs(20), "waited 20 s for {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[test]
fn the_dashboard_shows_real_runs_live_in_headless_chromium() {
    let runs = RecordedRuns::make();
    let served = DashboardProcess::start(&runs, &["--bind", "127.0.0.1:0"]);
    let driver = Driver::start();
    let profile = tempfile::tempdir().unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    runtime.block_on(async {
        let client = browser(&driver, profile.path()).await;

        // The runs list: all three, newest first, each with its state.
        client.goto(&served.url).await.unwrap();
        until(&client, "three runs listed", "return document.querySelectorAll('#runs tr.run').length === 3").await;
        let states = eval(
            &client,
            "return [...document.querySelectorAll('#runs tr.run')].map(r => [Number(r.dataset.run), r.dataset.state])",
        )
        .await;
        assert_eq!(states, json!([[runs.in_progress, "running"], [runs.failed, "failed"], [runs.done, "succeeded"]]));
        keep_screenshot(&client.screenshot().await.unwrap(), "dashboard-runs.png");

        // The failed run: its graph marks the failed task, and its error is there in full.
        client
            .find(Locator::Css(&format!("tr.run[data-run='{}'] a", runs.failed)))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        until(&client, "the failed run's graph", "return document.querySelectorAll('#graph g.task').length === 10")
            .await;
        let failed = eval(
            &client,
            "return [...document.querySelectorAll('#graph g.task[data-state=failed]')].map(g => g.dataset.taskId)",
        )
        .await;
        assert_eq!(failed, json!(["get_experiment_predict"]));
        let error = client.find(Locator::Id("failure")).await.unwrap().text().await.unwrap();
        assert!(error.contains("get_experiment_predict") && error.contains("tas_rcp85_damaged.nc"), "{error}");

        // The run in progress: a task the records advance changes state on the page, which is not reloaded (a
        // mark left on the window stays).
        client.goto(&format!("{}#/run/{}", served.url, runs.in_progress)).await.unwrap();
        until(
            &client,
            "the graph of the run in progress",
            "return document.querySelectorAll('#graph g.task').length === 10",
        )
        .await;
        let task = runs.in_progress_tasks[0].clone();
        let state_of = format!("return document.querySelector(\"#graph g.task[data-task-id='{task}']\").dataset.state");
        assert_eq!(eval(&client, &state_of).await, json!("pending"));
        eval(&client, "window.notReloaded = true; return true").await;
        runs.advance(&task, 3);
        assert_eq!(runs.state_of(&task), TaskState::Running);
        until(&client, "the task shown running", &format!("{state_of} === 'running'")).await;
        let tiles =
            format!("return document.querySelector(\"#graph g.task[data-task-id='{task}'] .tile-count\").textContent");
        assert_eq!(eval(&client, &tiles).await, json!("3/4"));
        until(
            &client,
            "its log line",
            &format!("return document.getElementById('logs').textContent.includes('{task}: tile 3 of 4')"),
        )
        .await;
        assert_eq!(eval(&client, "return window.notReloaded === true").await, json!(true), "the page was not reloaded");

        // The done run: its map loads (a PNG drawn by the server), beside the series and the climatology.
        client.goto(&format!("{}#/run/{}", served.url, runs.done)).await.unwrap();
        for image in ["map", "series", "bias"] {
            until(
                &client,
                &format!("the {image} image"),
                &format!(
                    "const i = document.getElementById('{image}'); return !!i && i.complete && i.naturalWidth > 500"
                ),
            )
            .await;
        }
        until(&client, "the resources chart", "return !!document.querySelector('#resources svg path')").await;
        eval(&client, "window.scrollTo(0, 0); return true").await;
        keep_screenshot(&client.screenshot().await.unwrap(), "dashboard-run.png");
        // A map that cannot be drawn says why in its place.
        client.find(Locator::Id("time")).await.unwrap().send_keys("2085-01-15\n").await.unwrap();
        client.find(Locator::Css("#mean option[value='month']")).await.unwrap().click().await.unwrap();
        until(&client, "the map's error", "const e = document.getElementById('map'); return !!e && e.tagName === 'P'").await;
        let reason = client.find(Locator::Id("map")).await.unwrap().text().await.unwrap();
        assert!(reason.contains("a month's mean needs the month"), "{reason}");
        client.find(Locator::Id("time")).await.unwrap().clear().await.unwrap();
        client.find(Locator::Id("time")).await.unwrap().send_keys("2085-01\n").await.unwrap();
        until(&client, "the month's map", "const i = document.getElementById('map'); return i.tagName === 'IMG' && i.complete && i.naturalWidth > 500").await;
        let data = client.find(Locator::Id("data")).await.unwrap();
        keep_screenshot(&data.screenshot().await.unwrap(), "dashboard-data.png");
        client.close().await.unwrap();
    });
}
