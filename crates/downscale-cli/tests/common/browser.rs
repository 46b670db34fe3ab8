//! A headless Chromium driven through chromedriver (Debian's `chromium` and `chromium-driver`, installed by
//! `scripts/setup.sh`), for the tests of web pages: the dashboard and the evaluation report.

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder};
use serde_json::{Value, json};

/// chromedriver on a free loopback port, killed when dropped.
pub(crate) struct Driver {
    child: Child,
    url: String,
}

impl Driver {
    pub(crate) fn start() -> Driver {
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
pub(crate) async fn browser(driver: &Driver, profile: &std::path::Path) -> Client {
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
pub(crate) async fn eval(client: &Client, script: &str) -> Value {
    client.execute(script, vec![]).await.unwrap()
}

/// Checks a screenshot is a picture, not a blank page, and keeps it where asked.
pub(crate) fn keep_screenshot(png_bytes: &[u8], name: &str) {
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
        // A relative folder is the repository's (`docs/images`), not the crate's, where tests run.
        let folder = super::repo().join(folder);
        std::fs::create_dir_all(&folder).unwrap();
        std::fs::write(folder.join(name), png_bytes).unwrap();
    }
}
