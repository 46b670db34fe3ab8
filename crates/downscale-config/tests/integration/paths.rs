//! Relative paths: from a configuration file they are taken from the file's folder, from anywhere else from the
//! working directory; `show` says where each one points, and messages say where a path came from.

use downscale_config::{Config, ValueOrigin, variable_for};
use serde_json::json;

use crate::fixture::Fixture;

fn here() -> String {
    std::env::current_dir().unwrap().display().to_string()
}

#[test]
fn relative_paths_in_a_file_are_taken_from_its_folder() {
    let mut fixture = Fixture::new();
    let file = fixture.write(
        "project/conf/downscale.yaml",
        "data_catalog:\n  model: ../catalogs/cmip.json\n  obs: ./obs.json\nrun_records: runs.sqlite\nstorage:\n  \
         results:\n    uri: ../out/results\n  intermediate:\n    uri: s3://bucket/cache\n  scratch:\n    uri: \
         $SCRATCH/x\n",
    );
    fixture.config_file(&file).env("SCRATCH", "/fast");
    let config = fixture.load();
    let project = fixture.path("project").display().to_string();
    let settings = config.settings();
    assert_eq!(settings.data_catalog.model, format!("{project}/catalogs/cmip.json"));
    assert_eq!(settings.data_catalog.obs, format!("{project}/conf/obs.json"));
    assert_eq!(settings.run_records, format!("{project}/conf/runs.sqlite"));
    assert_eq!(settings.storage.results.uri, format!("{project}/out/results"));
    assert_eq!(config.expand("storage.results.uri").unwrap(), format!("{project}/out/results"));
    // URLs and `$` references are left as written; a reference is expanded when used.
    assert_eq!(settings.storage.intermediate.uri, "s3://bucket/cache");
    assert_eq!(config.expand("storage.scratch.uri").unwrap(), "/fast/x");

    // The entry keeps the value as written and its source, with the resolved path beside them.
    let entry = config.get("data_catalog.model").unwrap();
    assert_eq!(entry.value, json!("../catalogs/cmip.json"));
    assert_eq!(entry.source, ValueOrigin::File(file.clone()));
    assert_eq!(entry.resolved.as_deref(), Some(format!("{project}/catalogs/cmip.json").as_str()));
    assert_eq!(config.get("storage.intermediate.uri").unwrap().resolved, None);
    assert_eq!(config.get("storage.scratch.uri").unwrap().resolved, None);
    assert_eq!(config.absolute_path("data_catalog.model"), Some(format!("{project}/catalogs/cmip.json")));
    assert_eq!(config.absolute_path("storage.intermediate.uri"), None);
    assert_eq!(config.absolute_path("runtime"), None);
}

#[test]
fn the_file_that_sets_the_value_is_the_one_it_is_taken_from() {
    let mut fixture = Fixture::new();
    fixture.write("etc/a.yaml", "data_catalog:\n  model: a.json\n  obs: a-obs.json\n");
    let later = fixture.write("elsewhere/b.yaml", "data_catalog:\n  model: b.json\n");
    fixture.config_file(&later);
    let config = fixture.load();
    let at = |relative: &str| fixture.path(relative).display().to_string();
    assert_eq!(config.settings().data_catalog.model, at("elsewhere/b.json"));
    assert_eq!(config.settings().data_catalog.obs, at("etc/a-obs.json"));
}

#[test]
fn paths_from_the_defaults_the_environment_and_set_stay_relative_to_the_working_directory() {
    let mut fixture = Fixture::new();
    fixture.env("DOWNSCALE_DATA_CATALOG__OBS", "env/obs.json").set("run_records=set/runs.sqlite");
    let config = fixture.load();
    let settings = config.settings();
    assert_eq!(settings.data_catalog.model, "data/catalog/cmip.json");
    assert_eq!(settings.data_catalog.obs, "env/obs.json");
    assert_eq!(settings.run_records, "set/runs.sqlite");
    assert_eq!(config.expand("storage.results.uri").unwrap(), "./downscale-output/results");
    assert!(config.entries().iter().all(|entry| entry.resolved.is_none()));
    assert_eq!(config.absolute_path("data_catalog.model"), Some(format!("{}/data/catalog/cmip.json", here())));
    assert_eq!(config.absolute_path("storage.results.uri"), Some(format!("{}/downscale-output/results", here())));
}

#[test]
fn show_says_where_each_relative_path_points() {
    let mut fixture = Fixture::new();
    let file = fixture.write("x/downscale.yaml", "data_catalog:\n  model: ../cat/cmip.json\n  obs: /abs/obs.json\n");
    fixture.config_file(&file);
    let config = fixture.load();
    let text = config.show_text();
    let line = |key: &str| text.lines().find(|l| l.starts_with(&format!("{key} = "))).unwrap().to_owned();
    let catalog = fixture.path("cat/cmip.json").display().to_string();
    assert!(
        line("data_catalog.model").ends_with(&format!("    # file {}; resolves to {catalog}", file.display())),
        "{text}"
    );
    assert!(line("data_catalog.obs").ends_with(&format!("    # file {}", file.display())), "{text}");
    assert!(
        line("run_records").ends_with(&format!("    # default; resolves to {}/downscale-output/runs.sqlite", here())),
        "{text}"
    );
    assert!(line("runtime").ends_with("    # default"), "{text}");

    let shown = config.show_json();
    let keys = shown["keys"].as_array().unwrap();
    let find = |key: &str| keys.iter().find(|k| k["key"] == key).unwrap().clone();
    assert_eq!(
        find("data_catalog.model"),
        json!({
            "key": "data_catalog.model",
            "value": "../cat/cmip.json",
            "source": format!("file {}", file.display()),
            "resolves_to": catalog
        })
    );
    assert_eq!(find("data_catalog.obs")["resolves_to"], "/abs/obs.json");
    assert!(find("runtime").get("resolves_to").is_none(), "only path-valued keys have one");
}

#[test]
fn messages_say_where_a_path_came_from_and_how_to_set_it() {
    let mut fixture = Fixture::new();
    let file = fixture.write("x/downscale.yaml", "data_catalog:\n  model: ../cat/cmip.json\n");
    fixture.config_file(&file).env("DOWNSCALE_DATA_CATALOG__OBS", "/abs/obs.json").set("run_records=r.sqlite");
    let config = fixture.load();
    assert_eq!(config.path_origin("data_catalog.model"), format!("`../cat/cmip.json` in {}", file.display()));
    assert_eq!(config.path_origin("data_catalog.obs"), "from the environment variable DOWNSCALE_DATA_CATALOG__OBS");
    assert_eq!(config.path_origin("run_records"), format!("relative to {}; from --set", here()));
    assert_eq!(config.path_origin("storage.results.uri"), format!("relative to {}; the built-in default", here()));
    assert_eq!(
        Config::how_to_set("data_catalog.model", "PATH"),
        "set it with --set data_catalog.model=PATH, the environment variable DOWNSCALE_DATA_CATALOG__MODEL, or a \
         configuration file"
    );
}

#[test]
fn the_variable_a_hint_names_sets_the_key() {
    for key in ["data_catalog.model", "data_catalog.obs", "run_records", "storage.results.uri", "runtimes.ci.threads"] {
        let mut fixture = Fixture::new();
        let name = variable_for(key);
        let value = if key.ends_with("threads") { "1" } else { "/from/the/variable" };
        fixture.env(&name, value);
        let config = fixture.load();
        let entry = config.get(key).unwrap();
        assert_eq!(entry.source, ValueOrigin::Env(name.clone()), "{key}");
        assert_eq!(config.expand(key).unwrap(), value, "{key}");
    }
}
