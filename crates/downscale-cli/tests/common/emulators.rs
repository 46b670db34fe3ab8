//! Object-storage emulators the tests run against: moto server (S3) and Azurite (Azure Blob), each started by the
//! test that needs it on a free port of the loopback interface and stopped when dropped. `scripts/setup.sh`
//! installs them (`.venv-moto`, `.azurite`).

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::repo;

/// Which object store an emulator serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Service {
    /// S3, by moto server.
    S3,
    /// Azure Blob storage, by Azurite.
    Azure,
}

/// A running emulator.
pub(crate) struct Emulator {
    service: Service,
    child: Child,
    port: u16,
    /// Where an Azurite that keeps its blobs across restarts keeps them.
    location: Option<std::path::PathBuf>,
}

impl Emulator {
    /// Starts an emulator of `service` and waits until it accepts connections.
    pub(crate) fn start(service: Service) -> Emulator {
        let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        Emulator::start_on(service, port, None)
    }

    /// Starts Azurite keeping its blobs in the folder `location`, so that it can be stopped and started again
    /// with them (moto server keeps nothing across a restart).
    pub(crate) fn start_persistent(location: &std::path::Path) -> Emulator {
        let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        Emulator::start_on(Service::Azure, port, Some(location.to_path_buf()))
    }

    /// Stops the emulator, waits `outage`, and starts it again on the same port and blobs. The stop is a SIGTERM,
    /// after which Azurite saves its blob index: killed outright it loses the blobs written in its last seconds,
    /// which no real store does to writes it acknowledged.
    pub(crate) fn stop_and_restart(&mut self, outage: Duration) {
        // SAFETY: kill(2) on our own child, not yet reaped, so its pid cannot have been reused.
        unsafe { libc::kill(self.child.id() as i32, libc::SIGTERM) };
        let _ = self.child.wait();
        std::thread::sleep(outage);
        self.child = spawn(self.service, self.port, self.location.as_deref());
    }

    fn start_on(service: Service, port: u16, location: Option<std::path::PathBuf>) -> Emulator {
        let child = spawn(service, port, location.as_deref());
        Emulator { service, child, port, location }
    }

    fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Creates the bucket (S3) or container (Azure) `name`.
    pub(crate) fn create_bucket(&self, name: &str) {
        match self.service {
            Service::S3 => {
                let mut stream = TcpStream::connect(("127.0.0.1", self.port)).unwrap();
                let host = format!("127.0.0.1:{}", self.port);
                let request =
                    format!("PUT /{name} HTTP/1.1\r\nHost: {host}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
                stream.write_all(request.as_bytes()).unwrap();
                let mut response = String::new();
                stream.read_to_string(&mut response).unwrap();
                assert!(response.starts_with("HTTP/1.1 200"), "creating bucket {name}: {response}");
            }
            Service::Azure => {
                // object_store cannot create containers: a signed request does.
                let script = repo().join("scripts/azurite_create_container.py");
                let output = Command::new("python3").arg(script).arg(self.endpoint()).arg(name).output().unwrap();
                assert!(
                    output.status.success(),
                    "creating container {name}: {}",
                    String::from_utf8_lossy(&output.stderr)
                );
            }
        }
    }

    /// The URL of `prefix` in bucket `bucket`.
    pub(crate) fn url(&self, bucket: &str, prefix: &str) -> String {
        match self.service {
            Service::S3 => format!("s3://{bucket}/{prefix}"),
            Service::Azure => format!("az://{bucket}/{prefix}"),
        }
    }

    /// The environment that points `object_store`'s client at this emulator, with its published development
    /// credentials (not secrets).
    pub(crate) fn environment(&self) -> Vec<(&'static str, String)> {
        match self.service {
            Service::S3 => vec![
                ("AWS_ENDPOINT", self.endpoint()),
                ("AWS_ALLOW_HTTP", "true".into()),
                ("AWS_ACCESS_KEY_ID", "test".into()),
                ("AWS_SECRET_ACCESS_KEY", "test".into()),
                ("AWS_REGION", "us-east-1".into()),
            ],
            Service::Azure => {
                vec![("AZURE_STORAGE_USE_EMULATOR", "true".into()), ("AZURITE_BLOB_STORAGE_URL", self.endpoint())]
            }
        }
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts the emulator process of `service` on `port` and waits until it accepts connections.
fn spawn(service: Service, port: u16, location: Option<&std::path::Path>) -> Child {
    let mut command = match service {
        Service::S3 => {
            let binary = repo().join(".venv-moto/bin/moto_server");
            assert!(binary.exists(), "{} is missing: scripts/setup.sh installs it", binary.display());
            let mut command = Command::new(binary);
            command.args(["-H", "127.0.0.1", "-p", &port.to_string()]);
            command
        }
        Service::Azure => {
            let main = repo().join(".azurite/node_modules/azurite/dist/src/blob/main.js");
            assert!(main.exists(), "{} is missing: scripts/setup.sh installs it", main.display());
            let mut command = Command::new("node");
            // Without --disableTelemetry Azurite tries to reach the network and logs errors.
            command.arg(main).args(["--silent", "--disableTelemetry", "--loose"]);
            match &location {
                Some(location) => command.arg("--location").arg(location),
                None => command.arg("--inMemoryPersistence"),
            };
            command.args(["--skipApiVersionCheck", "--blobHost", "127.0.0.1", "--blobPort", &port.to_string()]);
            command
        }
    };
    let child = command.stdout(Stdio::null()).stderr(Stdio::null()).spawn().expect("the emulator starts");
    let started = Instant::now();
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(started.elapsed() < Duration::from_secs(60), "{service:?} emulator did not answer within a minute");
        std::thread::sleep(Duration::from_millis(100));
    }
    child
}
