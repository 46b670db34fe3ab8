//! Holding a task while it executes, so that runs sharing a cache compute it once: the second waits for the hold
//! and then finds the task complete.
//!
//! On a local disk the hold is an OS file lock on `<name>/<key>.lock`, released when the guard is dropped or the
//! process dies. Object storage has no locks, so there the hold is the object `<name>/<key>.lock` itself, created
//! only if absent (a conditional put), kept fresh by its holder every [`HEARTBEAT`] (a conditional replace of the
//! version it wrote last) and removed when the guard is dropped. A lock not refreshed for [`STALE_AFTER`] belongs to
//! a run that died; a waiter takes it over by replacing exactly the version it saw, so of several waiters one wins.
//! Staleness compares the store's clock with this machine's, so they must agree to within a minute or so.

use std::sync::mpsc::{self, RecvTimeoutError};
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime};

use downscale_data::{Location, ObjectVersion};

use crate::error::EngineError;

/// How often the holder of an object lock refreshes it.
const HEARTBEAT: Duration = Duration::from_secs(10);

/// How long an object lock may go unrefreshed before waiters take it over: a dozen missed heartbeats.
const STALE_AFTER: Duration = Duration::from_secs(120);

/// How often a waiter looks at an object lock again.
const POLL: Duration = Duration::from_millis(200);

/// An exclusive hold on one task of a cache (see [`ArtifactStore::hold`](crate::ArtifactStore::hold)); dropping it
/// lets go.
#[derive(Debug)]
pub struct TaskHold {
    /// Kept for what dropping it does.
    _held: Held,
}

/// What a hold keeps until it is dropped.
#[derive(Debug)]
enum Held {
    /// An OS lock on a local file, released with the file.
    File { _file: std::fs::File },
    /// A lock object on object storage, refreshed by a thread and removed when dropped.
    Object { _lock: ObjectLock },
}

impl TaskHold {
    /// Waits for and takes the OS lock on the local file `path`.
    pub(crate) fn file(path: &std::path::Path) -> Result<TaskHold, EngineError> {
        let error = |e| EngineError::io(path.display(), e);
        if let Some(folder) = path.parent() {
            std::fs::create_dir_all(folder).map_err(error)?;
        }
        let file = std::fs::OpenOptions::new().create(true).truncate(false).write(true).open(path).map_err(error)?;
        file.lock().map_err(error)?;
        Ok(TaskHold { _held: Held::File { _file: file } })
    }

    /// Waits for and takes the lock object `location`, taking over one whose holder stopped refreshing it.
    pub(crate) fn object(location: Location) -> Result<TaskHold, EngineError> {
        loop {
            if let Some(version) = location.create_bytes(lock_content())? {
                return Ok(TaskHold { _held: Held::Object { _lock: ObjectLock::keep(location, version) } });
            }
            match location.version()? {
                Some((version, written)) if age(written) > STALE_AFTER => {
                    if let Some(version) = location.replace_bytes_if(lock_content(), &version)? {
                        tracing::warn!("{}: took over a lock not refreshed for {:?}", location.display, age(written));
                        return Ok(TaskHold { _held: Held::Object { _lock: ObjectLock::keep(location, version) } });
                    }
                }
                // Held and fresh, or released just now (the next create decides).
                _ => std::thread::sleep(POLL),
            }
        }
    }
}

/// A held lock object and the thread refreshing it.
#[derive(Debug)]
struct ObjectLock {
    location: Location,
    /// Dropped to stop the refreshing thread.
    stop: Option<mpsc::Sender<()>>,
    refresher: Option<JoinHandle<()>>,
}

impl ObjectLock {
    /// Keeps the lock at `version` fresh until dropped.
    fn keep(location: Location, version: ObjectVersion) -> ObjectLock {
        let (stop, stopped) = mpsc::channel::<()>();
        let refreshed = location.clone();
        let refresher = std::thread::spawn(move || {
            let mut version = version;
            while let Err(RecvTimeoutError::Timeout) = stopped.recv_timeout(HEARTBEAT) {
                match refreshed.replace_bytes_if(lock_content(), &version) {
                    Ok(Some(next)) => version = next,
                    Ok(None) => {
                        tracing::warn!("{}: another run took this lock over; it is no longer held", refreshed.display);
                        return;
                    }
                    Err(e) => tracing::warn!("{}: cannot refresh the lock: {e}", refreshed.display),
                }
            }
        });
        ObjectLock { location, stop: Some(stop), refresher: Some(refresher) }
    }
}

impl Drop for ObjectLock {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(refresher) = self.refresher.take() {
            let _ = refresher.join();
        }
        if let Err(e) = self.location.remove_all() {
            tracing::warn!(
                "{}: cannot remove the lock (waiters take it over when it goes stale): {e}",
                self.location.display
            );
        }
    }
}

/// What a lock object says: who holds it, for people looking at the bucket.
fn lock_content() -> Vec<u8> {
    let holder = serde_json::json!({
        "host": crate::resources::host_name(),
        "pid": std::process::id(),
        "refreshed_at": crate::now_utc(),
    });
    serde_json::to_vec(&holder).expect("a lock's content serialises")
}

/// How long ago `written` was, by this machine's clock (zero for a time ahead of it).
fn age(written: SystemTime) -> Duration {
    SystemTime::now().duration_since(written).unwrap_or_default()
}
