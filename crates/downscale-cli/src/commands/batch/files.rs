//! The parameter files of a batch folder, each made into its run as `downscale run` makes it. Running a batch and
//! showing its status both start here, so that a file the batch cannot run is `failed` with the same error in both.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use anyhow::{Result, bail};
use downscale_flows::PreparedRun;

use super::super::flow_setup::{FlowSetup, read_parameters};

/// A parameter file of a batch and its run, or why it has none.
pub(super) struct BatchFile {
    /// The folder as given, joined with the file's name: how every line about the file names it.
    pub(super) path: PathBuf,
    /// `path` as text.
    pub(super) display: String,
    /// Its run id, once its parameters are read.
    pub(super) run_id: Option<String>,
    /// Its run, or why it cannot run, as one line naming the file.
    pub(super) run: Result<PreparedRun, String>,
}

/// The parameter files (`*.json`) directly in `dir`, by name. `argument` is how the command line names the folder.
/// A folder that is missing, unreadable or holds no parameter file is an error naming it: a batch of nothing is a
/// wrong path, not a success.
pub(super) fn parameter_files(dir: &Path, argument: &str) -> Result<Vec<PathBuf>> {
    let shown = dir.display();
    let expected = "expected a folder of parameter files, *.json";
    match std::fs::metadata(dir) {
        Ok(metadata) if metadata.is_dir() => {}
        Ok(_) => bail!("{shown}: {argument}: not a folder ({expected})"),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => bail!("{shown}: {argument}: no such folder ({expected})"),
        Err(e) => bail!("{shown}: {argument}: cannot read it: {e}"),
    }
    let unreadable = |e: std::io::Error| anyhow::anyhow!("{shown}: {argument}: cannot list it: {e}");
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(unreadable)? {
        let name = entry.map_err(unreadable)?.file_name();
        let path = dir.join(&name);
        if Path::new(&name).extension().is_some_and(|extension| extension == "json") && path.is_file() {
            files.push(path);
        }
    }
    if files.is_empty() {
        bail!("{shown}: {argument}: holds no parameter file ({expected})");
    }
    files.sort();
    Ok(files)
}

/// Each of `files` made into its run. A file that cannot be (parameters that do not read, data the catalogs do not
/// have, the run id of an earlier file) gets its error instead, so that one bad file does not stop the others.
pub(super) fn prepare_all(setup: &FlowSetup, files: Vec<PathBuf>) -> Vec<BatchFile> {
    let mut first_with_run_id: HashMap<String, String> = HashMap::new();
    files
        .into_iter()
        .map(|path| {
            let display = path.display().to_string();
            let fail = |error: anyhow::Error| naming(&display, &downscale_message::one_line(error.as_ref()));
            let parameters = match read_parameters(&path) {
                Ok(parameters) => parameters,
                Err(error) => return BatchFile { run: Err(fail(error)), run_id: None, path, display },
            };
            let run_id = parameters.run_id();
            // A run id names one results folder and one line of the records: two files with it would publish over
            // each other, and the second would find the first's run done.
            let run = match first_with_run_id.get(&run_id) {
                Some(first) => Err(format!(
                    "{display}: {first} has its run id {run_id} already; a batch runs each run id once (remove one \
                     of the two files)"
                )),
                None => {
                    first_with_run_id.insert(run_id.clone(), display.clone());
                    setup.prepare_parameters(&parameters, &path).map_err(fail)
                }
            };
            BatchFile { path, display, run_id: Some(run_id), run }
        })
        .collect()
}

/// `error` as a line that names `file` once: the errors of parameters name their file already, those of the
/// catalogs and the data do not.
fn naming(file: &str, error: &str) -> String {
    if error.starts_with(&format!("{file}:")) { error.to_string() } else { format!("{file}: {error}") }
}
