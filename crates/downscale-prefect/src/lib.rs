//! Mirrors runs to a Prefect 3 server, so that people who watch flows in the Prefect UI see `downscale`'s runs
//! there: each run becomes a flow run named by its run id, each task a task run named by its task id, with their
//! states and the run's log lines.
//!
//! The engine knows nothing of Prefect: a [`Mirror`] follows one run in the run records (SQLite, WAL mode, so a
//! second reader costs the run nothing) through its own connection on its own thread, and sends Prefect what
//! changed about once a second. Reporting is best effort: a Prefect that is down, slow or refusing costs one
//! warning and the rest of that run's mirroring, never the run.

mod client;
mod error;
mod mirror;
mod states;

pub use client::PrefectApi;
pub use error::PrefectError;
pub use mirror::Mirror;
