//! One mutant from start to end: drawn from a seed, written next to an empty output path, put through every command
//! a user would run on it, judged, and, when something was wrong, saved as a reproducer.

use std::path::{Path, PathBuf};

use proptest::strategy::{Strategy, ValueTree};
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};

use crate::inputs::{Input, Kind};
use crate::mutate_file::{self, FileMutation};
use crate::mutate_store::{self, StoreMutation};
use crate::run::{self, Ending, INCOMPLETE_EXIT, Symptom};

/// Most mutations applied to one input: one alone says which damage a failure comes from, a few together reach
/// states one cannot (a cut file whose header was also changed).
const MAX_MUTATIONS: usize = 3;

#[derive(Debug, Clone)]
pub(crate) enum Mutation {
    File(FileMutation),
    Store(StoreMutation),
}

/// Mutations of one input, from `seed` and the case `index`.
#[derive(Debug, Clone)]
pub(crate) struct Mutant {
    pub kind: Kind,
    pub seed: u64,
    pub index: u64,
    pub mutations: Vec<Mutation>,
}

/// Draws case `index` of `input` with proptest's ChaCha generator seeded from (`seed`, kind, `index`) alone, so
/// any case can be drawn again on its own, without shrinking (each try runs processes, shrinking would take long;
/// the reproducer is saved instead).
pub(crate) fn draw(input: &Input, seed: u64, index: u64) -> Mutant {
    let mut key = [0u8; 32];
    key[..8].copy_from_slice(&seed.to_le_bytes());
    key[8..16].copy_from_slice(&index.to_le_bytes());
    key[16] = input.kind as u8;
    let mut runner = TestRunner::new_with_rng(Config::default(), TestRng::from_seed(RngAlgorithm::ChaCha, &key));
    let strategy = if input.kind.is_store() {
        proptest::collection::vec(mutate_store::strategy().prop_map(Mutation::Store), 1..=MAX_MUTATIONS).boxed()
    } else {
        proptest::collection::vec(mutate_file::strategy(input.len).prop_map(Mutation::File), 1..=MAX_MUTATIONS).boxed()
    };
    let mutations = strategy.new_tree(&mut runner).expect("the strategies always draw").current();
    Mutant { kind: input.kind, seed, index, mutations }
}

impl Mutant {
    /// The mutated input written to `dir` (under the kind's file name), with what each mutation did.
    pub(crate) fn write(&self, input: &Input, dir: &Path) -> (PathBuf, Vec<String>) {
        let path = dir.join(self.kind.file_name());
        input.copy_to(&path);
        let mut bytes = if self.kind.is_store() { Vec::new() } else { std::fs::read(&path).unwrap() };
        let done = self
            .mutations
            .iter()
            .map(|m| match m {
                Mutation::File(m) => m.apply(&mut bytes),
                Mutation::Store(m) => m.apply(&path, &input.files),
            })
            .collect();
        if !self.kind.is_store() {
            std::fs::write(&path, bytes).unwrap();
        }
        (path, done)
    }

    /// Each mutation's label.
    pub(crate) fn labels(&self, input: &Input) -> Vec<String> {
        self.mutations
            .iter()
            .map(|m| match m {
                Mutation::File(m) => m.label().to_string(),
                Mutation::Store(m) => m.label(&input.files),
            })
            .collect()
    }

    /// The class of the mutant's damage, for grouping failures: its mutation's label, or one class for all
    /// combinations (their example lists the mutations).
    pub(crate) fn label(&self, input: &Input) -> String {
        match self.labels(input).as_slice() {
            [one] => one.clone(),
            _ => "several mutations".to_string(),
        }
    }

    /// Which commands must fail: only said of a single mutation, whose effect is known.
    fn damage(&self, input: &Input) -> mutate_store::Damage {
        match self.mutations.as_slice() {
            [Mutation::File(m)] => {
                let cut = m.removes_data(input.len);
                mutate_store::Damage { inspect: cut, convert: cut, validate: false }
            }
            [Mutation::Store(m)] => m.damage(&input.files),
            _ => mutate_store::Damage { inspect: false, convert: false, validate: false },
        }
    }
}

/// The commands run on an input at `input`, with `out` as the output path: each as its name and arguments.
fn commands(kind: Kind, input: &Path, out: &Path) -> Vec<(&'static str, Vec<String>)> {
    let input = input.to_string_lossy().to_string();
    let out = out.to_string_lossy().to_string();
    let mut commands = vec![
        ("inspect", vec!["inspect".to_string(), input.clone()]),
        ("convert", vec!["convert".into(), "--in".into(), input.clone(), "--out".into(), out]),
    ];
    if kind.is_store() {
        commands.push(("validate", vec!["validate".into(), input]));
    }
    commands
}

/// The name of the check of a store that `convert` wrote, among the commands' names.
pub(crate) const VALIDATE_OUTPUT: &str = "validate of the converted store";

/// One thing wrong with one command on one mutant.
#[derive(Debug, Clone)]
pub(crate) struct Failure {
    pub command: &'static str,
    pub symptom: Symptom,
}

/// What exercising a mutant gave.
pub(crate) struct Exercised {
    /// Commands run, including `validate` of converted stores.
    pub runs: usize,
    pub failures: Vec<Failure>,
}

/// Runs every command on the mutant, in a fresh folder holding only it and the output path, and judges each run.
pub(crate) fn exercise(input: &Input, mutant: &Mutant) -> Exercised {
    let dir = tempfile::tempdir().unwrap();
    let work = dir.path().join("work");
    let logs = dir.path().join("logs");
    std::fs::create_dir_all(&work).unwrap();
    std::fs::create_dir_all(&logs).unwrap();
    let (path, _) = mutant.write(input, &work);
    let out = work.join("out.zarr");
    let damage = mutant.damage(input);
    let mut failures = Vec::new();
    let mut runs = 0;
    let mut fail = |command, symptom| failures.push(Failure { command, symptom });
    for (command, args) in commands(mutant.kind, &path, &out) {
        let before = run::snapshot(&work, &out);
        let result = run::run(&args, &work, &logs);
        runs += 1;
        let extra_code = (command == "validate").then_some(INCOMPLETE_EXIT);
        if let Some(symptom) = run::judge(&result, extra_code) {
            fail(command, symptom);
        }
        if let Some(symptom) = run::compare(&before, &run::snapshot(&work, &out)) {
            fail(command, symptom);
        }
        let must_fail = match command {
            "inspect" => damage.inspect,
            "convert" => damage.convert,
            _ => damage.validate,
        };
        if must_fail && let Some(symptom) = run::accepted_damage(&result) {
            fail(command, symptom);
        }
        if command == "convert" && result.ending == Ending::Exited(0) {
            let check = run::run(&["validate".to_string(), out.to_string_lossy().to_string()], &work, &logs);
            runs += 1;
            if let Some(symptom) = run::output_incomplete(&check) {
                fail(VALIDATE_OUTPUT, symptom);
            }
        }
    }
    Exercised { runs, failures }
}

/// Writes the mutant to `root/<kind>-<seed>-<index>/` with a README of what was done and what went wrong; returns
/// the command line of each failure, on the saved mutant.
pub(crate) fn save_reproducer(input: &Input, mutant: &Mutant, failures: &[Failure], root: &Path) -> Vec<String> {
    let dir = root.join(format!("{}-{}-{}", mutant.kind.name(), mutant.seed, mutant.index));
    if dir.exists() {
        std::fs::remove_dir_all(&dir).unwrap();
    }
    std::fs::create_dir_all(&dir).unwrap();
    let (path, done) = mutant.write(input, &dir);
    let out = std::env::temp_dir().join("fuzz-out.zarr");
    let all = commands(mutant.kind, &path, &out);
    let line = |failure: &Failure| {
        let name = if failure.command == VALIDATE_OUTPUT { "convert" } else { failure.command };
        let args = all.iter().find(|(n, _)| *n == name).map(|(_, args)| args.join(" ")).unwrap_or_default();
        format!("downscale {args}")
    };
    let lines: Vec<String> = failures.iter().map(line).collect();
    let mut readme = format!(
        "Mutant {} of the {} sample {} (DOWNSCALE_FUZZ_SEED={}).\n\nMutations:\n",
        mutant.index,
        mutant.kind.name(),
        input.path.display(),
        mutant.seed
    );
    for step in &done {
        readme.push_str(&format!("  {step}\n"));
    }
    readme.push_str("\nFailures:\n");
    for (failure, line) in failures.iter().zip(&lines) {
        readme.push_str(&format!(
            "  {}: {}: {}\n    {line}\n",
            failure.command, failure.symptom.label, failure.symptom.detail
        ));
    }
    std::fs::write(dir.join("README.txt"), readme).unwrap();
    lines
}
