//! Weights computed once per grid pair and method, kept on disk as ESMF weight files.
//!
//! The key hashes what determines the weights — both grids' exact geometry, the method, its options and the
//! version of our weight algorithms — never a file or catalog name, so renamed inputs still hit and a changed grid
//! never reuses stale weights.

use std::path::{Path, PathBuf};

use blake2::digest::{Update, VariableOutput};

use crate::bilinear::bilinear_weights;
use crate::conservative::conservative_weights;
use crate::error::{RegridError, Result};
use crate::grid::Grid;
use crate::nearest::nearest_weights;
use crate::weight_file::{read_weight_file, write_esmf};
use crate::weights::{RegridMethod, Weights};

/// Bump when any weight algorithm changes its output, to invalidate cached files.
const ALGORITHM_VERSION: u32 = 1;

/// Options that change the weights of a method.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WeightOptions {
    /// How the weights are made; part of the cache key and of the file name.
    pub method: RegridMethod,
    /// Bilinear only: targets outside the source hull take the nearest source cell instead of being an error.
    pub extrapolate: bool,
}

/// Computes weights without caching.
pub fn compute_weights(source: &Grid, target: &Grid, options: WeightOptions) -> Result<Weights> {
    match options.method {
        RegridMethod::Bilinear => bilinear_weights(source, target, options.extrapolate),
        RegridMethod::Conservative => conservative_weights(source, target),
        RegridMethod::Nearest => nearest_weights(source, target),
    }
}

/// Whether a cached file was used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CacheOutcome {
    /// The weights were read from a file of an earlier call.
    Hit,
    /// The weights were computed and stored for the next call.
    Computed,
}

/// A directory of cached weight files.
#[derive(Debug, Clone)]
pub struct WeightCache {
    dir: PathBuf,
}

impl WeightCache {
    /// A cache in `dir`, created when the first weights are stored.
    pub fn new(dir: impl Into<PathBuf>) -> WeightCache {
        WeightCache { dir: dir.into() }
    }

    /// 128-bit BLAKE2b of the algorithm version, method, options and both grids' geometry, in hex.
    pub fn key(source: &Grid, target: &Grid, options: WeightOptions) -> String {
        let mut hasher = blake2::Blake2bVar::new(16).unwrap_or_else(|_| unreachable!("16 bytes is a valid size"));
        let text = format!(
            "v{ALGORITHM_VERSION};{};extrapolate={};source:{};target:{}",
            options.method.name(),
            options.extrapolate,
            source.fingerprint(),
            target.fingerprint()
        );
        hasher.update(text.as_bytes());
        let mut digest = [0u8; 16];
        hasher.finalize_variable(&mut digest).unwrap_or_else(|_| unreachable!("buffer has the requested size"));
        digest.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// Where the weights for this pair of grids and options are (or would be) stored: named by method and key, so
    /// a folder of cached files says which method each holds.
    pub fn path_for(&self, source: &Grid, target: &Grid, options: WeightOptions) -> PathBuf {
        self.dir.join(format!("{}-{}.nc", options.method.name(), Self::key(source, target, options)))
    }

    /// The cached weights for this pair, computing and storing them first when absent.
    pub fn weights(&self, source: &Grid, target: &Grid, options: WeightOptions) -> Result<(Weights, CacheOutcome)> {
        let path = self.path_for(source, target, options);
        if path.exists() {
            return Ok((read_weight_file(&path, source, target, options.method)?, CacheOutcome::Hit));
        }
        let weights = compute_weights(source, target, options)?;
        self.store(&weights, source, target, &path)?;
        Ok((weights, CacheOutcome::Computed))
    }

    /// Writes under a temporary name and renames, so a killed run never leaves a half-written weight file.
    fn store(&self, weights: &Weights, source: &Grid, target: &Grid, path: &Path) -> Result<()> {
        let io =
            |e: std::io::Error| RegridError::WeightFile { path: path.display().to_string(), detail: e.to_string() };
        std::fs::create_dir_all(&self.dir).map_err(io)?;
        let name = path.file_name().map(|n| n.to_string_lossy().to_string()).unwrap_or_default();
        let temporary = self.dir.join(format!(".{name}.partial-{}", std::process::id()));
        write_esmf(weights, source, target, &temporary)?;
        std::fs::rename(&temporary, path).map_err(io)
    }
}
