//! Errors in preparing a run (before any task executes), one line each.

/// Why a run could not be prepared; the CLI prints it as the run's one error line.
#[derive(Debug, thiserror::Error)]
pub enum FlowError {
    /// An input the catalogs name cannot be found, read or told apart from another (the message names the file or
    /// the catalog query).
    #[error("{0}")]
    Input(String),
    /// The parameter file asks for what the flow cannot do.
    #[error("{file}: {detail}")]
    Parameters {
        /// The parameter file as the user named it.
        file: String,
        /// What is wrong and what was expected.
        detail: String,
    },
    /// A configuration value the flow cannot use (the message names the key).
    #[error("{key}: {detail}")]
    Configuration {
        /// The configuration key, e.g. `gard.random_fields.precipitation.length_km`.
        key: String,
        /// What is wrong and what was expected.
        detail: String,
    },
    /// The flow's tasks do not form a valid flow (a bug in the wiring, reported rather than panicking).
    #[error(transparent)]
    Engine(#[from] downscale_engine::EngineError),
}
