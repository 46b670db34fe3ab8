//! Error messages: one line, naming the source, the key and what was expected.

use downscale_config::ConfigError;

use crate::fixture::Fixture;

fn message(fixture: &Fixture) -> String {
    let message = fixture.error().to_string();
    assert!(!message.contains('\n'), "one line: {message}");
    message
}

#[test]
fn unknown_key_in_a_file_suggests_the_nearest() {
    let fixture = Fixture::new();
    let path = fixture.write("etc/a.yaml", "run_options:\n  use_cahce: false\n");
    assert_eq!(
        message(&fixture),
        format!(
            "config file {}: unknown key `run_options.use_cahce` (did you mean `run_options.use_cache`?)",
            path.display()
        )
    );
    match fixture.error() {
        ConfigError::UnknownKey { key, suggestion, .. } => {
            assert_eq!((key.as_str(), suggestion.as_deref()), ("run_options.use_cahce", Some("run_options.use_cache")));
        }
        other => panic!("unexpected error {other:?}"),
    }
}

#[test]
fn misplaced_key_suggests_its_section() {
    let fixture = Fixture::new();
    fixture.write("user/a.yaml", "use_cache: false\n");
    assert!(message(&fixture).ends_with("unknown key `use_cache` (did you mean `run_options.use_cache`?)"));
}

#[test]
fn unknown_key_from_set_and_from_recognised_environment() {
    let mut fixture = Fixture::new();
    fixture.set("storage.result.uri=s3://x");
    assert_eq!(
        message(&fixture),
        "--set storage.result.uri=s3://x: unknown key `storage.result` (did you mean `storage.results`?)"
    );
    let mut fixture = Fixture::new();
    fixture.env("DOWNSCALE_RUN_OPTIONS__USECACHE", "1");
    assert_eq!(
        message(&fixture),
        "environment DOWNSCALE_RUN_OPTIONS__USECACHE=1: unknown key `run_options.usecache` (did you mean `run_options.use_cache`?)"
    );
}

#[test]
fn wrong_types_name_what_was_expected() {
    let mut fixture = Fixture::new();
    fixture.set("run_options.use_cache=maybe");
    assert_eq!(message(&fixture), "--set run_options.use_cache=maybe: expected a boolean");

    let mut fixture = Fixture::new();
    fixture.env("DOWNSCALE_RUNTIME", "cloud");
    assert_eq!(message(&fixture), "environment DOWNSCALE_RUNTIME=cloud: expected one of local, ci, slurm, dask");

    let mut fixture = Fixture::new();
    fixture.env("DOWNSCALE_RUNTIMES__LOCAL__THREADS", "-2");
    assert_eq!(
        message(&fixture),
        "environment DOWNSCALE_RUNTIMES__LOCAL__THREADS=-2: expected a non-negative integer (at most 4294967295)"
    );

    let fixture = Fixture::new();
    let path = fixture.write("user/a.yaml", "runtimes:\n  dask:\n    n_workers: many\n");
    assert_eq!(
        message(&fixture),
        format!(
            "config file {}: `runtimes.dask.n_workers`: expected a non-negative integer (at most 4294967295), found the string \"many\"",
            path.display()
        )
    );

    let fixture = Fixture::new();
    fixture.write("user/a.yaml", "storage: s3://bucket\n");
    assert!(message(&fixture).ends_with("`storage`: expected a mapping of keys"));

    let fixture = Fixture::new();
    fixture.write("user/a.yaml", "runtimes:\n  slurm:\n    extra_args: --exclusive\n");
    assert!(
        message(&fixture).ends_with("`runtimes.slurm.extra_args`: expected a list, found the string \"--exclusive\"")
    );
}

#[test]
fn memory_limits_are_checked_at_load() {
    let mut fixture = Fixture::new();
    fixture.env("DOWNSCALE_RUNTIMES__CI__MEMORY_LIMIT", "lots");
    let text = message(&fixture);
    assert!(text.starts_with("environment DOWNSCALE_RUNTIMES__CI__MEMORY_LIMIT=lots: invalid memory limit \"lots\""));
    assert!(text.contains("expected a size like 8GiB"), "{text}");

    let mut fixture = Fixture::new();
    fixture.set("runtimes.slurm.memory=50%");
    assert!(message(&fixture).contains("not a share of RAM"));
}

#[test]
fn yaml_syntax_errors_name_the_file_and_line() {
    let fixture = Fixture::new();
    let path = fixture.write("etc/broken.yaml", "run_options:\n  use_cache: [true\n");
    let text = message(&fixture);
    assert!(text.starts_with(&format!("config file {}: invalid YAML", path.display())), "{text}");
    assert!(text.contains("at line 3 column 1"), "{text}");
}

#[test]
fn a_broken_layer_is_reported_even_when_a_higher_one_overrides_it() {
    let mut fixture = Fixture::new();
    fixture.env("DOWNSCALE_RUN_OPTIONS__USE_CACHE", "sometimes").set("run_options.use_cache=true");
    assert!(message(&fixture).starts_with("environment DOWNSCALE_RUN_OPTIONS__USE_CACHE=sometimes"));
}

#[test]
fn malformed_set_and_empty_key_segments() {
    let mut fixture = Fixture::new();
    fixture.set("run_options.use_cache");
    assert!(message(&fixture).starts_with("--set run_options.use_cache: expected KEY=VALUE"));
    let mut fixture = Fixture::new();
    fixture.set("run_options..use_cache=true");
    assert!(message(&fixture).contains("empty segment"));
    let mut fixture = Fixture::new();
    fixture.env("DOWNSCALE_RUN_OPTIONS__", "1");
    assert!(message(&fixture).contains("empty segment"));
}

#[test]
fn secrets_in_rejected_values_are_not_echoed() {
    let mut fixture = Fixture::new();
    fixture.set("storage.results.options.account_key=[hunter2]");
    let text = message(&fixture);
    assert!(!text.contains("hunter2"), "{text}");
    assert!(text.starts_with("--set storage.results.options.account_key=<redacted>: expected"), "{text}");
}

#[test]
fn one_key_from_two_environment_spellings_is_an_error() {
    let mut fixture = Fixture::new();
    fixture.env("DOWNSCALE_RUNTIME", "ci").env("DOWNSCALE_runtime", "local");
    assert!(message(&fixture).contains("sets `runtime`, which DOWNSCALE_RUNTIME sets too"));
}

#[test]
fn scoped_set_checks_keys_and_values_when_made() {
    let error = downscale_config::set([("run_options.use_cahce", "false")]).unwrap_err().to_string();
    assert_eq!(
        error,
        "scoped set run_options.use_cahce=false: unknown key `run_options.use_cahce` (did you mean `run_options.use_cache`?)"
    );
    let error = downscale_config::set([("runtime", "cloud")]).unwrap_err().to_string();
    assert_eq!(error, "scoped set runtime=cloud: expected one of local, ci, slurm, dask");
}

#[test]
fn a_nested_value_in_one_assignment_names_the_inner_key() {
    let mut fixture = Fixture::new();
    fixture.env("DOWNSCALE_STORAGE__RESULTS", "{uri: [1, 2]}");
    assert_eq!(
        message(&fixture),
        "environment DOWNSCALE_STORAGE__RESULTS={uri: [1, 2]}: `storage.results.uri`: expected a string, found a list"
    );
}

#[test]
fn a_prefect_api_url_is_http_and_its_password_is_never_quoted() {
    let mut fixture = Fixture::new();
    fixture.set("reporting.prefect.api_url=http://127.0.0.1:4200/api");
    assert_eq!(fixture.load().settings().reporting.prefect.api_url.as_deref(), Some("http://127.0.0.1:4200/api"));

    let mut fixture = Fixture::new();
    fixture.set("reporting.prefect.api_url=127.0.0.1:4200/api");
    let line = message(&fixture);
    assert!(
        line.starts_with("--set reporting.prefect.api_url=127.0.0.1:4200/api: expected an http:// or https:// URL")
    );

    let fixture = Fixture::new();
    let path = fixture.write("etc/a.yaml", "reporting:\n  prefect:\n    api_url: ftp://admin:hunter2@host/api\n");
    let line = message(&fixture);
    assert!(
        line.starts_with(&format!("config file {}: `reporting.prefect.api_url`: expected an http", path.display()))
    );
    assert!(line.contains("ftp://admin:<redacted>@host/api") && !line.contains("hunter2"), "{line}");

    let mut fixture = Fixture::new();
    fixture.set("reporting.prefect.api_url=https://admin:hunter2@prefect.example/api");
    let settings = fixture.load().settings().clone();
    assert!(!format!("{settings:?}").contains("hunter2"));
}
