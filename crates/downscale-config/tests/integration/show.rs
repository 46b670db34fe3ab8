//! `show_text` / `show_json`, redaction, and ignored environment variables.

use serde_json::json;

use crate::fixture::Fixture;

fn secrets_fixture() -> Fixture {
    let mut fixture = Fixture::new();
    fixture.write(
        "user/secrets.yaml",
        "storage:\n  intermediate:\n    uri: s3://alice:hunter2@minio.local/cache\n    options:\n      \
         azure_storage_connection_string: DefaultEndpointsProtocol=https;AccountKey=c2VjcmV0\n      \
         aws_secret_access_key: ${AWS_SECRET}\n      account_key: abc123\n      aws_access_key_id: AKIAEXAMPLE\n",
    );
    fixture.env("DOWNSCALE_STORAGE__RESULTS__URI", "s3://bucket/x");
    fixture.env("DOWNSCALE_STORAGE__RESULTS__OPTIONS__SAS_TOKEN", "sv=2020&sig=zzz");
    fixture
}

#[test]
fn show_text_has_one_line_per_key_with_its_source() {
    let text = secrets_fixture().load().show_text();
    let line = text.lines().find(|l| l.starts_with("storage.results.uri = ")).expect("results line");
    assert!(line.starts_with("storage.results.uri = \"s3://bucket/x\""), "{line}");
    assert!(line.ends_with("    # env DOWNSCALE_STORAGE__RESULTS__URI"), "{line}");
    assert!(text.lines().any(|l| l.starts_with("runtime = null") && l.ends_with("# default")), "{text}");
    assert!(text.lines().any(|l| l.starts_with("runtimes.slurm.extra_args = []")), "{text}");
    assert!(text.lines().any(|l| l.starts_with("storage.scratch.options = {}")), "{text}");
    let comment_columns: Vec<usize> = text.lines().filter_map(|l| l.find("    # ")).collect();
    assert!(comment_columns.windows(2).all(|w| w[0] == w[1]), "sources are aligned:\n{text}");
}

#[test]
fn show_text_redacts_secrets_but_shows_references() {
    let text = secrets_fixture().load().show_text();
    for secret in ["hunter2", "c2VjcmV0", "abc123", "zzz"] {
        assert!(!text.contains(secret), "{secret} leaked:\n{text}");
    }
    let line = |key: &str| {
        text.lines().find(|l| l.starts_with(&format!("{key} = "))).unwrap_or_else(|| panic!("{key}")).to_owned()
    };
    assert!(line("storage.intermediate.options.azure_storage_connection_string").contains("\"<redacted>\""));
    assert!(line("storage.intermediate.options.account_key").contains("\"<redacted>\""));
    assert!(line("storage.results.options.sas_token").contains("\"<redacted>\""));
    assert!(line("storage.intermediate.options.aws_secret_access_key").contains("\"${AWS_SECRET}\""));
    assert!(line("storage.intermediate.options.aws_access_key_id").contains("\"AKIAEXAMPLE\""));
    assert!(line("storage.intermediate.uri").contains("\"s3://alice:<redacted>@minio.local/cache\""));
}

#[test]
fn show_json_lists_keys_values_sources_and_redacts() {
    let shown = secrets_fixture().load().show_json();
    let keys = shown["keys"].as_array().expect("keys array");
    let find = |key: &str| keys.iter().find(|k| k["key"] == key).unwrap_or_else(|| panic!("{key}")).clone();
    assert_eq!(
        find("storage.results.uri"),
        json!({
            "key": "storage.results.uri",
            "value": "s3://bucket/x",
            "source": "env DOWNSCALE_STORAGE__RESULTS__URI",
            "resolves_to": null
        })
    );
    assert_eq!(find("storage.intermediate.options.azure_storage_connection_string")["value"], "<redacted>");
    assert_eq!(find("storage.intermediate.options.aws_secret_access_key")["value"], "${AWS_SECRET}");
    assert_eq!(find("storage.intermediate.uri")["value"], "s3://alice:<redacted>@minio.local/cache");
    assert_eq!(
        find("run_options.use_cache"),
        json!({"key": "run_options.use_cache", "value": true, "source": "default"})
    );
    assert!(find("storage.intermediate.uri")["source"].as_str().unwrap().starts_with("file "));
    assert!(!shown.to_string().contains("hunter2") && !shown.to_string().contains("c2VjcmV0"));
    assert_eq!(shown["ignored_environment"], json!([]));
}

#[test]
fn unrelated_downscale_variables_are_ignored_and_reported() {
    let mut fixture = Fixture::new();
    fixture
        .env("DOWNSCALE_RUNTIM", "slurm")
        .env("DOWNSCALE_PYTHON", "/usr/bin/python3")
        .env("DOWNSCALE_ORACLES", "/data/oracles")
        .env("DOWNSCALE_CORPUS", "/data/corpus")
        .env("DOWNSCALE_CONFIG", "")
        .env("UNRELATED", "x");
    let config = fixture.load();
    assert_eq!(config.settings().runtime, None);
    let ignored: Vec<(&str, Option<&str>)> =
        config.ignored_environment().iter().map(|v| (v.name.as_str(), v.suggestion.as_deref())).collect();
    assert_eq!(
        ignored,
        [
            ("DOWNSCALE_CORPUS", None),
            ("DOWNSCALE_ORACLES", None),
            ("DOWNSCALE_PYTHON", None),
            ("DOWNSCALE_RUNTIM", Some("runtime"))
        ]
    );
    let text = config.show_text();
    assert!(
        text.contains(
            "# ignored environment variable DOWNSCALE_RUNTIM: not a configuration key (did you mean `runtime`?)"
        ),
        "{text}"
    );
    assert!(!text.contains("/data/oracles"), "values of ignored variables are not shown");
    assert_eq!(
        config.show_json()["ignored_environment"][3],
        json!({"name": "DOWNSCALE_RUNTIM", "suggestion": "runtime"})
    );
}

#[test]
fn debug_output_does_not_leak_secrets() {
    let mut fixture = secrets_fixture();
    fixture.env("AWS_SECRET", "s3cr3t-value").set("storage.scratch.options.password=letmein");
    let config = fixture.load();
    let debug = format!("{config:?} {:?} {:?}", config.settings(), fixture.sources);
    for secret in ["hunter2", "c2VjcmV0", "abc123", "zzz", "s3cr3t-value", "letmein"] {
        assert!(!debug.contains(secret), "{secret} leaked: {debug}");
    }
    assert!(debug.contains("AWS_SECRET") && debug.contains("s3://bucket/x"), "{debug}");
}
