//! The dashboard in a real browser: headless Chromium driven through chromedriver (Debian's `chromium` and
//! `chromium-driver`, installed by `scripts/setup.sh`) shows the runs of real records with their states, a failed
//! run's graph with the failed task marked and its error, a live change of a task's state without a reload, and a
//! map. Screenshots are checked to be pictures (many colours), and written to `$DOWNSCALE_SCREENSHOTS` when it is
//! set (`docs/images` for the README's).

mod common;

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::dashboard::{DashboardProcess, RecordedRuns};
use downscale_engine::TaskState;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};

/// chromedriver on a free loopback port, killed when dropped.
struct Driver {
    child: Child,
    url: String,
}

impl Driver {
    fn start() -> Driver {
        let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let child = Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver (Debian's chromium-driver, installed by scripts/setup.sh) runs");
        let url = format!("http://127.0.0.1:{port}");
        let started = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(started.elapsed() < Duration::from_secs(30), "chromedriver did not listen on {port}");
            std::thread::sleep(Duration::from_millis(100));
        }
        Driver { child, url }
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A headless Chromium session. The flags keep it off the network (this machine's network is closed, and
/// Chromium's background services would otherwise try to reach Google's hosts at every start).
async fn browser(driver: &Driver, profile: &std::path::Path) -> Client {
    let mut capabilities = serde_json::Map::new();
    capabilities.insert(
        "goog:chromeOptions".into(),
        json!({
            "binary": "/usr/bin/chromium",
            "args": [
                "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic",
                "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--window-size=1280,1000", format!("--user-data-dir={}", profile.display()),
            ],
        }),
    );
    ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(capabilities)
        .connect(&driver.url)
        .await
        .expect("a Chromium session starts")
}

/// Evaluates `script` (a function body returning a value) in the page.
async fn eval(client: &Client, script: &str) -> Value {
    client.execute(script, vec![]).await.unwrap()
}

/// Waits up to 20 s for `script` to return true.
async fn until(client: &Client, what: &str, script: &str) {
    let started = Instant::now();
    while eval(client, script).await != json!(true) {
        assert!(started.elapsed() < Duration::from_secs(20), "waited 20 s for {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Checks a screenshot is a picture, not a blank page, and keeps it where asked.
fn keep_screenshot(png_bytes: &[u8], name: &str) {
    let mut reader = png::Decoder::new(std::io::Cursor::new(png_bytes)).read_info().unwrap();
    let mut buffer = vec![0; reader.output_buffer_size()];
    let frame = reader.next_frame(&mut buffer).unwrap();
    let colours: std::collections::HashSet<&[u8]> =
        buffer[..frame.buffer_size()].chunks(frame.color_type.samples()).collect();
    assert!(
        frame.width >= 1000 && colours.len() > 50,
        "{name}: {}×{}, {} colours",
        frame.width,
        frame.height,
        colours.len()
    );
    if let Some(folder) = std::env::var_os("DOWNSCALE_SCREENSHOTS") {
        let folder = std::path::PathBuf::from(folder);
        std::fs::create_dir_all(&folder).unwrap();
        std::fs::write(folder.join(name), png_bytes).unwrap();
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
