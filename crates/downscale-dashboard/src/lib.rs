//! The web dashboard of `downscale`: one page, built into the binary with every asset it needs, over the run records
//! (runs, their task graphs and states, tiles, log lines, resources) and the stores the runs published (maps and
//! series), for runs on any runtime, since every runtime writes the same records. The page reads a JSON API under
//! `/api/` (documented in `docs/dashboard-api.md`) that other tools can read too.
//!
//! Safety: it binds to loopback unless told otherwise, and any other address needs a token, checked on every
//! request in constant time; it shows no configuration (so no secret), hides passwords in the URLs it shows, and
//! serves data only from stores inside the configured storage roots.

mod api;
mod auth;
mod confine;
mod error;
mod images;
mod server;

pub use confine::StorageRoots;
pub use error::DashboardError;
pub use server::{Dashboard, DashboardOptions};
