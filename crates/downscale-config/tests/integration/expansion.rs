//! `$VAR` expansion happens when a value is used, from the loaded environment.

use std::collections::BTreeMap;

use downscale_config::{ConfigError, ValueOrigin};

use crate::fixture::Fixture;

#[test]
fn references_stay_raw_in_settings_and_expand_on_use() {
    let mut fixture = Fixture::new();
    fixture.write(
        "user/a.yaml",
        "storage:\n  results:\n    uri: s3://$BUCKET/${RUN}-out/$$literal\n    options:\n      \
         azure_storage_connection_string: $AZURE_CONN\n      allow_http: true\n      retry_factor: 2.0\n",
    );
    fixture.env("BUCKET", "b1").env("RUN", "r7").env("AZURE_CONN", "AccountKey=abc==");
    let config = fixture.load();
    let results = &config.settings().storage.results;
    assert_eq!(results.uri, "s3://$BUCKET/${RUN}-out/$$literal");
    assert_eq!(results.options["azure_storage_connection_string"], "$AZURE_CONN");
    assert_eq!(config.expand("storage.results.uri").unwrap(), "s3://b1/r7-out/$literal");
    assert_eq!(
        config.expand_options("storage.results.options").unwrap(),
        BTreeMap::from([
            ("allow_http".to_owned(), "true".to_owned()),
            ("azure_storage_connection_string".to_owned(), "AccountKey=abc==".to_owned()),
            ("retry_factor".to_owned(), "2".to_owned()),
        ])
    );
    assert_eq!(results.options["retry_factor"], "2", "settings and expansion agree on the text");
    assert_eq!(config.expand_options("storage.scratch.options").unwrap(), BTreeMap::new());
    assert_eq!(config.expand("storage.intermediate.uri").unwrap(), "./downscale-output/intermediate");
}

#[test]
fn a_missing_variable_names_the_key_variable_and_source() {
    let fixture = Fixture::new();
    let path = fixture.write("user/a.yaml", "storage:\n  scratch:\n    uri: ${SCRATCH_ROOT}/tmp\n");
    let config = fixture.load();
    let error = config.expand("storage.scratch.uri").unwrap_err();
    assert_eq!(
        error,
        ConfigError::MissingVariable {
            key: "storage.scratch.uri".into(),
            variable: "SCRATCH_ROOT".into(),
            from: ValueOrigin::File(path.clone()),
        }
    );
    assert_eq!(
        error.to_string(),
        format!(
            "`storage.scratch.uri` (from file {}) refers to $SCRATCH_ROOT, which is not set in the environment",
            path.display()
        )
    );
}

#[test]
fn expansion_uses_the_environment_of_the_load_and_reports_bad_syntax() {
    let mut fixture = Fixture::new();
    fixture.env("DOWNSCALE_STORAGE__RESULTS__URI", "s3://x/$").env("DOWNSCALE_DATA_CATALOG__OBS", "$OBS");
    let config = fixture.load();
    let error = config.expand("storage.results.uri").unwrap_err().to_string();
    assert!(error.starts_with("`storage.results.uri` (from env DOWNSCALE_STORAGE__RESULTS__URI):"), "{error}");
    assert!(error.contains("write `$$` for a literal `$`"), "{error}");
    assert!(matches!(config.expand("data_catalog.obs"), Err(ConfigError::MissingVariable { .. })));
    fixture.env("OBS", "obs.json");
    assert_eq!(fixture.load().expand("data-catalog.obs").unwrap(), "obs.json");
}

#[test]
fn expanding_something_that_is_not_a_string_or_not_a_key_fails_clearly() {
    let config = Fixture::new().load();
    assert!(config.expand("runtime").unwrap_err().to_string().contains("expected a string to expand, found null"));
    assert_eq!(config.expand("runtimes.dask.n_workers").unwrap(), "4");
    let unknown = config.expand("storage.result.uri").unwrap_err().to_string();
    assert_eq!(unknown, "lookup: unknown key `storage.result.uri` (did you mean `storage.results.uri`?)");
    let not_a_map = config.expand_options("storage.results").unwrap_err().to_string();
    assert!(not_a_map.contains("expected a map of options"), "{not_a_map}");
}
