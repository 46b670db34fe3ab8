//! Run ids: the original's name of a run, used for output folders and run records.

use blake2::digest::{Update, VariableOutput};

use crate::loose::python_str;
use crate::parameters::{PeriodKeys, RunParameters};
use crate::problem::Problem;

/// Longest run id, in bytes. A run id names folders (`results/<run_id>/`, the run records' `runs/<run_id>/`) and
/// `params generate` names the file `<run_id>.json`, and a file name is at most 255 bytes on every common file
/// system: refused when the file is validated, a longer id would otherwise fail a run only when its first folder is
/// made.
pub const MAX_RUN_ID_BYTES: usize = 250;

impl RunParameters {
    /// `{method}_{obs}_{model}_{member}_{scenario}_{variable}_{features}_{latmin}_{latmax}_{lonmin}_{lonmax}_`
    /// `{train0}_{train1}_{predict0}_{predict1}`, every value as Python's `str()` prints what the file holds, as the
    /// original formats it. Files without `features` (MACA's) have no feature segment; the original could not
    /// form their run id at all (it joins `None`).
    pub fn run_id(&self) -> String {
        self.run_id_parts().into_iter().map(|(_, part)| part).collect::<Vec<_>>().join("_")
    }

    /// The segments of the run id, each with the key it comes from.
    fn run_id_parts(&self) -> Vec<(&'static str, String)> {
        let mut parts = vec![
            ("method", self.method.as_str().to_owned()),
            ("obs", self.obs.clone()),
            ("model", self.model.clone()),
            ("member", self.member.clone()),
            ("scenario", self.scenario.clone()),
            ("variable", self.variable.clone()),
        ];
        if let Some(features) = &self.features {
            parts.push(("features", features.join("_")));
        }
        let b = &self.bbox;
        for (key, coordinate) in
            [("latmin", &b.latmin), ("latmax", &b.latmax), ("lonmin", &b.lonmin), ("lonmax", &b.lonmax)]
        {
            parts.push((key, python_str(&coordinate.written)));
        }
        let (train, predict) = match self.period_keys {
            PeriodKeys::Dates => ("train_dates", "predict_dates"),
            PeriodKeys::LegacyPeriods => ("train_period", "predict_period"),
        };
        for (key, year) in [
            (train, &self.train.start),
            (train, &self.train.end),
            (predict, &self.predict.start),
            (predict, &self.predict.end),
        ] {
            parts.push((key, python_str(&year.written)));
        }
        parts
    }

    /// [`str_to_hash`] of the run id.
    pub fn run_id_hash(&self) -> String {
        str_to_hash(&self.run_id())
    }
}

/// The problems of a run id as a folder name: a segment holding `/` or a control character, and an id longer than
/// [`MAX_RUN_ID_BYTES`]. Only the free-text segments (`obs`, `model`, and the box as written, e.g. `"-90\n"`) are
/// looked at: the others are checked against fixed forms already. The id joins 15 or more segments with `_`, so it
/// is never `.` or `..`.
pub(crate) fn run_id_problems(parameters: &RunParameters) -> Vec<Problem> {
    let parts = parameters.run_id_parts();
    let mut problems = Vec::new();
    for (key, part) in &parts {
        let free_text = matches!(*key, "obs" | "model" | "latmin" | "latmax" | "lonmin" | "lonmax");
        if free_text && part.chars().any(|c| c == '/' || c.is_control()) {
            problems.push(Problem::at(
                *key,
                format!("`{part}` holds `/` or a control character, which the run id (a folder name) cannot hold"),
            ));
        }
    }
    let length: usize = parts.iter().map(|(_, part)| part.len()).sum::<usize>() + parts.len() - 1;
    if length > MAX_RUN_ID_BYTES {
        let mut by_length: Vec<(&str, usize)> = Vec::new();
        for (key, part) in &parts {
            match by_length.iter_mut().find(|(k, _)| k == key) {
                Some((_, bytes)) => *bytes += part.len(),
                None => by_length.push((key, part.len())),
            }
        }
        by_length.sort_by_key(|&(_, bytes)| std::cmp::Reverse(bytes));
        let longest: Vec<String> = by_length.iter().take(2).map(|(key, bytes)| format!("`{key}` {bytes}")).collect();
        problems.push(Problem::at(
            by_length[0].0,
            format!(
                "makes the run id {length} bytes long (longest: {} bytes); the run id names folders and files, at \
                 most {MAX_RUN_ID_BYTES} bytes",
                longest.join(", ")
            ),
        ));
    }
    problems
}

/// The original's `str_to_hash`: the hex BLAKE2b digest of 8 bytes.
pub fn str_to_hash(text: &str) -> String {
    let mut hasher = blake2::Blake2bVar::new(8).expect("8 bytes is a valid BLAKE2b digest size");
    hasher.update(text.as_bytes());
    let mut digest = [0u8; 8];
    hasher.finalize_variable(&mut digest).expect("the buffer has the digest size");
    digest.iter().map(|byte| format!("{byte:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_matches_the_original() {
        // Python: hashlib.blake2b(b"test", digest_size=8).hexdigest()
        assert_eq!(str_to_hash("test"), "96ad3bb4a2d666d3");
    }
}
