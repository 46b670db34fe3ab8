//! Errors of the regridding layer: one line each, naming the grid or file concerned.

#[derive(Debug, thiserror::Error)]
pub enum RegridError {
    #[error("{source_name}: {detail}")]
    BadGrid { source_name: String, detail: String },
    #[error("{path}: {detail}")]
    WeightFile { path: String, detail: String },
    #[error("{0}")]
    Data(#[from] downscale_data::DataError),
    #[error("{what}: {detail}")]
    Other { what: String, detail: String },
}

pub type Result<T, E = RegridError> = std::result::Result<T, E>;
