//! Run ids: the original's name of a run, used for output folders and run records.

use blake2::digest::{Update, VariableOutput};

use crate::loose::python_str;
use crate::parameters::RunParameters;

impl RunParameters {
    /// `{method}_{obs}_{model}_{member}_{scenario}_{variable}_{features}_{latmin}_{latmax}_{lonmin}_{lonmax}_`
    /// `{train0}_{train1}_{predict0}_{predict1}`, every value as Python's `str()` prints what the file holds, as the
    /// original formats it. Files without `features` (MACA's) have no feature segment; the original could not
    /// form their run id at all (it joins `None`).
    pub fn run_id(&self) -> String {
        let mut parts = vec![
            self.method.as_str().to_owned(),
            self.obs.clone(),
            self.model.clone(),
            self.member.clone(),
            self.scenario.clone(),
            self.variable.clone(),
        ];
        if let Some(features) = &self.features {
            parts.push(features.join("_"));
        }
        let b = &self.bbox;
        parts.extend([&b.latmin, &b.latmax, &b.lonmin, &b.lonmax].map(|c| python_str(&c.written)));
        parts.extend(
            [&self.train.start, &self.train.end, &self.predict.start, &self.predict.end]
                .map(|y| python_str(&y.written)),
        );
        parts.join("_")
    }

    /// [`str_to_hash`] of the run id.
    pub fn run_id_hash(&self) -> String {
        str_to_hash(&self.run_id())
    }
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
