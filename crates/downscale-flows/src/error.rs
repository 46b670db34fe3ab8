//! Errors in preparing a run (before any task executes), one line each.

#[derive(Debug, thiserror::Error)]
pub enum FlowError {
    #[error("{0}")]
    Input(String),
    #[error("{file}: {detail}")]
    Parameters { file: String, detail: String },
    #[error(transparent)]
    Engine(#[from] downscale_engine::EngineError),
}
