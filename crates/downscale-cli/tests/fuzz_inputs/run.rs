//! Running the binary on one input under a watchdog, and judging what it did: how it ended, what it printed, and
//! which files it touched.

use std::collections::BTreeMap;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

/// Longest a command may take on these small inputs before it counts as hung (they take well under a second).
const TIMEOUT: Duration = Duration::from_secs(15);

/// Address space a command may use. The inputs are a few MB; a mutant claiming terabytes must be refused, not
/// allocated, and the limit keeps one that is allocated from taking the machine's memory from other work.
const MEMORY_LIMIT_BYTES: u64 = 4 << 30;

/// Exit code of every error (`main.rs`), and `validate`'s for an incomplete store.
pub(crate) const ERROR_EXIT: i32 = 2;
pub(crate) const INCOMPLETE_EXIT: i32 = 1;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Ending {
    Exited(i32),
    Signal(i32),
    Hung,
}

/// One command's run.
pub(crate) struct Run {
    pub ending: Ending,
    pub stderr: String,
}

/// What was wrong with a run; `label` names the class, `detail` the evidence.
#[derive(Debug, Clone)]
pub(crate) struct Symptom {
    pub label: &'static str,
    pub detail: String,
}

fn symptom(label: &'static str, detail: impl Into<String>) -> Symptom {
    Symptom { label, detail: detail.into() }
}

/// Runs the binary with `args` in `cwd` (so a stray relative write lands where the snapshot sees it), its output in
/// files under `logs` (a pipe that nobody reads while polling could block it), killed after [`TIMEOUT`].
pub(crate) fn run(args: &[String], cwd: &Path, logs: &Path) -> Run {
    let stdout_path = logs.join("stdout");
    let stderr_path = logs.join("stderr");
    let mut command = crate::common::downscale();
    command
        .args(args)
        .current_dir(cwd)
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&stdout_path).unwrap())
        .stderr(std::fs::File::create(&stderr_path).unwrap());
    // SAFETY: between fork and exec the closure only calls setrlimit, which is async-signal-safe and allocates
    // nothing.
    unsafe {
        command.pre_exec(|| {
            let limit = libc::rlimit { rlim_cur: MEMORY_LIMIT_BYTES, rlim_max: MEMORY_LIMIT_BYTES };
            if libc::setrlimit(libc::RLIMIT_AS, &limit) == 0 { Ok(()) } else { Err(std::io::Error::last_os_error()) }
        });
    }
    let mut child = command.spawn().expect("the binary starts");
    let start = Instant::now();
    let ending = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break match (status.code(), status.signal()) {
                (Some(code), _) => Ending::Exited(code),
                (None, Some(signal)) => Ending::Signal(signal),
                (None, None) => unreachable!("a process ends with a code or a signal"),
            };
        }
        if start.elapsed() > TIMEOUT {
            child.kill().unwrap();
            child.wait().unwrap();
            break Ending::Hung;
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let stderr = String::from_utf8_lossy(&std::fs::read(&stderr_path).unwrap()).to_string();
    Run { ending, stderr }
}

/// How a command ended and what it printed on stderr, against the rules every command keeps: it ends by itself
/// (no signal, no hang), without a panic, with 0, 2 for an error or `extra_code`; a failure is one `error: ` line
/// (after any `warning: ` lines) without control characters; a success prints nothing but warnings there. Only the
/// most severe breach is returned: a panic also breaks the exit code and the one-line rule.
pub(crate) fn judge(run: &Run, extra_code: Option<i32>) -> Option<Symptom> {
    let code = match run.ending {
        Ending::Signal(signal) => return Some(symptom("killed by a signal", format!("signal {signal}"))),
        Ending::Hung => return Some(symptom("hang", format!("still running after {} s", TIMEOUT.as_secs()))),
        Ending::Exited(code) => code,
    };
    if run.stderr.contains("panicked") {
        return Some(symptom("panic", format!("exit code {code}: {}", excerpt(&run.stderr))));
    }
    if code != 0 && code != ERROR_EXIT && Some(code) != extra_code {
        return Some(symptom("unexpected exit code", format!("exit code {code}: {}", excerpt(&run.stderr))));
    }
    let lines: Vec<&str> = run.stderr.lines().collect();
    let (warnings, rest) = lines.split_at(lines.iter().take_while(|l| l.starts_with("warning: ")).count());
    let well_formed = match (code, rest) {
        (0, rest) => rest.is_empty(),
        (_, [line]) => line.starts_with("error: "),
        _ => false,
    };
    if !well_formed {
        return Some(symptom("stderr is not one error line", excerpt(&run.stderr)));
    }
    if warnings.iter().chain(rest).flat_map(|l| l.chars()).any(char::is_control) {
        return Some(symptom("control character on stderr", excerpt(&run.stderr)));
    }
    None
}

/// The start of `text`, on one line, for reports.
pub(crate) fn excerpt(text: &str) -> String {
    let flat = text.trim_end().replace('\n', "\\n");
    if flat.chars().count() > 300 { format!("{}...", flat.chars().take(300).collect::<String>()) } else { flat }
}

/// What a folder holds: every file's content hash and every folder, by relative path.
pub(crate) type Snapshot = BTreeMap<PathBuf, Option<u64>>;

/// A snapshot of `root`, leaving out `skip` (the output path) and everything under it.
pub(crate) fn snapshot(root: &Path, skip: &Path) -> Snapshot {
    let mut found = Snapshot::new();
    let mut pending = vec![root.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for path in std::fs::read_dir(&dir).unwrap().map(|entry| entry.unwrap().path()) {
            if path == skip {
                continue;
            }
            let relative = path.strip_prefix(root).unwrap().to_path_buf();
            let metadata = std::fs::symlink_metadata(&path).unwrap();
            if metadata.is_dir() {
                pending.push(path);
                found.insert(relative, None);
            } else {
                let mut hasher = DefaultHasher::new();
                std::fs::read(&path).unwrap_or_default().hash(&mut hasher);
                metadata.file_type().is_symlink().hash(&mut hasher);
                found.insert(relative, Some(hasher.finish()));
            }
        }
    }
    found
}

/// The paths that differ between two snapshots, as one symptom (none when equal).
pub(crate) fn compare(before: &Snapshot, after: &Snapshot) -> Option<Symptom> {
    let mut changed: Vec<String> = Vec::new();
    for (path, hash) in before {
        match after.get(path) {
            None => changed.push(format!("removed {}", path.display())),
            Some(h) if h != hash => changed.push(format!("changed {}", path.display())),
            _ => {}
        }
    }
    changed.extend(after.keys().filter(|p| !before.contains_key(*p)).map(|p| format!("created {}", p.display())));
    (!changed.is_empty()).then(|| symptom("files outside the output touched", changed.join(", ")))
}

/// A success where the input is certainly damaged.
pub(crate) fn accepted_damage(run: &Run) -> Option<Symptom> {
    (run.ending == Ending::Exited(0)).then(|| symptom("exit 0 on damaged input", "the damaged input was accepted"))
}

/// `validate` of a store that `convert` just wrote, which must be complete.
pub(crate) fn output_incomplete(run: &Run) -> Option<Symptom> {
    (run.ending != Ending::Exited(0))
        .then(|| symptom("converted store does not validate", format!("{:?}: {}", run.ending, excerpt(&run.stderr))))
}
