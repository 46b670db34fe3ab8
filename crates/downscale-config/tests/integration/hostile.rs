//! Configuration from a careless or hostile user: special files, pathological nesting, huge values and control
//! characters. Each is a prompt one-line error naming the source and the key; never a hang, a blow-up or a panic.

use std::time::{Duration, Instant};

use downscale_config::MAX_DEPTH;

use crate::fixture::Fixture;

fn mkfifo(path: &std::path::Path) {
    let status = std::process::Command::new("mkfifo").arg(path).status().expect("mkfifo runs");
    assert!(status.success(), "mkfifo {}", path.display());
}

#[test]
fn config_files_that_are_not_regular_files_are_refused_before_reading() {
    let mut fixture = Fixture::new();
    let fifo = fixture.path("fifo.yaml");
    mkfifo(&fifo);
    fixture.config_file(&fifo);
    let text = fixture.error().to_string();
    assert_eq!(
        text,
        format!(
            "config file {}: expected a YAML configuration file (a regular file), found a named pipe (FIFO)",
            fifo.display()
        )
    );
    for (path, found) in [("/dev/zero", "a character device"), ("/tmp", "a directory")] {
        let mut fixture = Fixture::new();
        fixture.config_file(std::path::Path::new(path));
        let text = fixture.error().to_string();
        assert!(text.starts_with(&format!("config file {path}: expected")) && text.ends_with(found), "{text}");
    }
}

#[test]
fn deep_yaml_nesting_is_refused_at_once_naming_the_file_and_depth() {
    let mut fixture = Fixture::new();
    let path = fixture.write("deep.yaml", &format!("runtimes:\n  slurm:\n    extra_args: {}\n", "[".repeat(100_000)));
    fixture.config_file(&path);
    let started = Instant::now();
    let text = fixture.error().to_string();
    assert!(started.elapsed() < Duration::from_secs(2), "took {:?}", started.elapsed());
    assert_eq!(
        text,
        format!(
            "config file {}: nested more than {MAX_DEPTH} levels deep at line 3; configuration needs a few levels",
            path.display()
        )
    );
    let mut fixture = Fixture::new();
    fixture.set(&format!("runtimes.slurm.extra_args={}", "[".repeat(100_000)));
    let text = fixture.error().to_string();
    assert!(text.contains("nested more than 64 levels deep"), "{text}");
    assert!(text.len() < 300, "the value is shortened in the message: {} bytes", text.len());
}

#[test]
fn show_text_prints_a_value_of_70000_characters() {
    let mut fixture = Fixture::new();
    let long = "x".repeat(70_000);
    fixture.set(&format!("storage.results.uri={long}"));
    let text = fixture.load().show_text();
    let line = text.lines().find(|l| l.starts_with("storage.results.uri = ")).expect("the long line");
    assert_eq!(line, format!("storage.results.uri = \"{long}\"    # --set"));
    // The other lines keep their comments in one column, not 70,000 characters to the right.
    let columns: Vec<usize> = text.lines().filter(|l| l.len() < 200).filter_map(|l| l.find("    # ")).collect();
    assert!(columns.windows(2).all(|w| w[0] == w[1]) && columns[0] < 100, "{text}");
}

#[test]
fn control_characters_in_values_are_escaped_in_messages() {
    let mut fixture = Fixture::new();
    fixture.set("runtime=local\n\u{1b}[31mINJECTED");
    let text = fixture.error().to_string();
    assert!(!text.chars().any(char::is_control), "{text:?}");
    assert!(text.starts_with("--set runtime=local\\n\\u{1b}[31mINJECTED"), "{text}");
}
