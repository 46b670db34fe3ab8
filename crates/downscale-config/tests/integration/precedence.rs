//! Layer order, merging, key spelling, value typing and re-reading.

use std::path::PathBuf;

use downscale_config::{MemoryLimit, RuntimeKind, ValueOrigin};
use serde_json::json;

use crate::fixture::Fixture;

fn source(fixture: &Fixture, key: &str) -> ValueOrigin {
    let config = fixture.load();
    config.get(key).unwrap_or_else(|| panic!("no entry {key}")).source.clone()
}

#[test]
fn defaults_apply_when_nothing_is_configured() {
    let config = Fixture::new().load();
    let s = config.settings();
    assert_eq!(s.runtime, None);
    assert_eq!(s.storage.intermediate.uri, "./downscale-output/intermediate");
    assert_eq!(s.storage.results.uri, "./downscale-output/results");
    assert_eq!(s.storage.scratch.uri, "./downscale-output/scratch");
    assert!(s.storage.results.options.is_empty());
    assert_eq!(s.data_catalog.model, "data/catalog/cmip.json");
    assert_eq!(s.data_catalog.obs, "data/catalog/obs.json");
    assert!(s.run_options.use_cache && !s.run_options.generate_pyramids && !s.run_options.carbonplan_compat);
    assert_eq!(s.runtimes.local.threads, 0);
    assert_eq!(s.runtimes.local.memory_limit, MemoryLimit::FractionOfRam(0.5));
    assert_eq!(s.runtimes.ci.threads, 1);
    assert_eq!(s.runtimes.ci.memory_limit, MemoryLimit::Bytes(2 << 30));
    let slurm = &s.runtimes.slurm;
    assert_eq!((slurm.partition.as_deref(), slurm.account.as_deref()), (None, None));
    assert_eq!((slurm.cpus_per_task, slurm.memory), (4, 16 << 30));
    assert_eq!(slurm.time_limit, "02:00:00");
    assert!(slurm.extra_args.is_empty());
    let dask = &s.runtimes.dask;
    assert_eq!(dask.scheduler_address, None);
    assert_eq!((dask.n_workers, dask.threads_per_worker), (4, 1));
    assert_eq!(dask.memory_limit, MemoryLimit::Bytes(4 << 30));
    assert_eq!(s.reporting.prefect.api_url, None);
    assert!(config.entries().iter().all(|entry| entry.source == ValueOrigin::Default));
    assert!(config.ignored_environment().is_empty());
}

#[test]
fn yaml_file_overrides_default() {
    let fixture = Fixture::new();
    let path = fixture.write("user/a.yaml", "run_options:\n  use_cache: false\nruntime: slurm\n");
    let config = fixture.load();
    assert!(!config.settings().run_options.use_cache);
    assert_eq!(config.settings().runtime, Some(RuntimeKind::Slurm));
    assert_eq!(config.get("run_options.use_cache").unwrap().source, ValueOrigin::File(path));
    assert_eq!(config.get("run_options.generate_pyramids").unwrap().source, ValueOrigin::Default);
}

#[test]
fn files_in_one_directory_merge_in_file_name_order() {
    let fixture = Fixture::new();
    fixture.write("etc/20-late.yml", "data_catalog:\n  model: late.json\n");
    let early = fixture.write("etc/10-early.yaml", "data_catalog:\n  model: early.json\n  obs: early-obs.json\n");
    fixture.write("etc/30-notes.txt", "data_catalog: [this is not read]\n");
    let config = fixture.load();
    // Relative paths in a file are taken from the file's folder.
    let in_etc = |name: &str| fixture.path("etc").join(name).display().to_string();
    assert_eq!(config.settings().data_catalog.model, in_etc("late.json"));
    assert_eq!(config.settings().data_catalog.obs, in_etc("early-obs.json"));
    assert_eq!(config.get("data_catalog.obs").unwrap().source, ValueOrigin::File(early));
}

#[test]
fn system_then_user_then_downscale_config_then_command_line_files() {
    let mut fixture = Fixture::new();
    let yaml = |n: u32| format!("runtimes:\n  dask:\n    n_workers: {n}\n");
    let system = fixture.write("etc/a.yaml", &yaml(1));
    assert_eq!(fixture.load().settings().runtimes.dask.n_workers, 1);
    assert_eq!(source(&fixture, "runtimes.dask.n_workers"), ValueOrigin::File(system));

    let user = fixture.write("user/a.yaml", &yaml(2));
    assert_eq!(fixture.load().settings().runtimes.dask.n_workers, 2);
    assert_eq!(source(&fixture, "runtimes.dask.n_workers"), ValueOrigin::File(user));

    let named = fixture.write("named.yaml", &yaml(3));
    fixture.env("DOWNSCALE_CONFIG", named.to_str().unwrap());
    assert_eq!(fixture.load().settings().runtimes.dask.n_workers, 3);
    assert_eq!(source(&fixture, "runtimes.dask.n_workers"), ValueOrigin::File(named));

    let first = fixture.write("cli-1.yaml", &yaml(4));
    let second = fixture.write("cli-2.yaml", &yaml(5));
    fixture.config_file(&first);
    assert_eq!(fixture.load().settings().runtimes.dask.n_workers, 4);
    fixture.config_file(&second);
    assert_eq!(fixture.load().settings().runtimes.dask.n_workers, 5);
    assert_eq!(source(&fixture, "runtimes.dask.n_workers"), ValueOrigin::File(second));
    assert!(fixture.load().ignored_environment().is_empty(), "DOWNSCALE_CONFIG is not reported as ignored");
}

#[test]
fn environment_overrides_yaml() {
    let mut fixture = Fixture::new();
    fixture.write("user/a.yaml", "storage:\n  results:\n    uri: s3://from-file/x\n");
    fixture.env("DOWNSCALE_STORAGE__RESULTS__URI", "s3://from-env/x");
    let config = fixture.load();
    assert_eq!(config.settings().storage.results.uri, "s3://from-env/x");
    assert_eq!(
        config.get("storage.results.uri").unwrap().source,
        ValueOrigin::Env("DOWNSCALE_STORAGE__RESULTS__URI".into())
    );
}

#[test]
fn set_overrides_environment_and_later_set_wins() {
    let mut fixture = Fixture::new();
    fixture.env("DOWNSCALE_RUNTIMES__LOCAL__THREADS", "3");
    assert_eq!(fixture.load().settings().runtimes.local.threads, 3);
    fixture.set("runtimes.local.threads=5");
    assert_eq!(fixture.load().settings().runtimes.local.threads, 5);
    assert_eq!(source(&fixture, "runtimes.local.threads"), ValueOrigin::Set);
    fixture.set("runtimes.local.threads=6");
    assert_eq!(fixture.load().settings().runtimes.local.threads, 6);
}

#[test]
fn scoped_override_beats_set() {
    let mut fixture = Fixture::new();
    fixture.set("run_options.use_cache=true");
    let guard = downscale_config::set([("run_options.use_cache", "false")]).unwrap();
    let config = fixture.load();
    assert!(!config.settings().run_options.use_cache);
    assert_eq!(config.get("run_options.use_cache").unwrap().source, ValueOrigin::Api);
    drop(guard);
    assert!(fixture.load().settings().run_options.use_cache);
    assert_eq!(source(&fixture, "run_options.use_cache"), ValueOrigin::Set);
}

#[test]
fn nested_keys_merge_across_layers() {
    let mut fixture = Fixture::new();
    let file = fixture.write(
        "user/storage.yaml",
        "storage:\n  results:\n    uri: s3://bucket/results\n    options:\n      aws_endpoint: http://localhost:9000\n",
    );
    fixture.env("DOWNSCALE_STORAGE__RESULTS__OPTIONS__ALLOW_HTTP", "true");
    let config = fixture.load();
    let storage = &config.settings().storage;
    assert_eq!(storage.results.uri, "s3://bucket/results");
    assert_eq!(storage.intermediate.uri, "./downscale-output/intermediate");
    assert_eq!(storage.results.options.get("aws_endpoint").map(String::as_str), Some("http://localhost:9000"));
    assert_eq!(storage.results.options.get("allow_http").map(String::as_str), Some("true"));
    assert_eq!(config.get("storage.results.options.aws_endpoint").unwrap().source, ValueOrigin::File(file));
    assert_eq!(config.get("storage.intermediate.uri").unwrap().source, ValueOrigin::Default);
    assert_eq!(config.get("storage.intermediate.options").unwrap().value, json!({}));
}

#[test]
fn dashes_and_underscores_are_alike_in_every_layer_and_in_lookups() {
    let fixture = Fixture::new();
    fixture.write("user/a.yaml", "run-options:\n  use-cache: false\n");
    assert!(!fixture.load().settings().run_options.use_cache);

    let mut fixture = Fixture::new();
    fixture.env("DOWNSCALE_RUN_OPTIONS__USE_CACHE", "false");
    assert!(!fixture.load().settings().run_options.use_cache);

    let mut fixture = Fixture::new();
    fixture.set("run-options.use-cache=false");
    let config = fixture.load();
    assert!(!config.settings().run_options.use_cache);
    assert_eq!(config.get("run-options.use-cache").unwrap().key, "run_options.use_cache");

    let _guard = downscale_config::set([("run-options.generate-pyramids", "true")]).unwrap();
    assert!(Fixture::new().load().settings().run_options.generate_pyramids);
}

#[test]
fn environment_values_are_typed_like_yaml_scalars() {
    let mut fixture = Fixture::new();
    fixture
        .env("DOWNSCALE_RUN_OPTIONS__CARBONPLAN_COMPAT", "true")
        .env("DOWNSCALE_RUN_OPTIONS__USE_CACHE", "false")
        .env("DOWNSCALE_RUNTIMES__CI__THREADS", "8")
        .env("DOWNSCALE_RUNTIMES__SLURM__EXTRA_ARGS", "[--qos=high, --exclusive]")
        .env("DOWNSCALE_RUNTIMES__SLURM__PARTITION", "'8'")
        .env("DOWNSCALE_RUNTIMES__SLURM__TIME_LIMIT", "90")
        .env("DOWNSCALE_RUNTIMES__DASK__MEMORY_LIMIT", "8000000000")
        .env("DOWNSCALE_RUNTIME", "null");
    let config = fixture.load();
    let s = config.settings();
    assert!(s.run_options.carbonplan_compat && !s.run_options.use_cache);
    assert_eq!(s.runtimes.ci.threads, 8);
    assert_eq!(config.get("runtimes.ci.threads").unwrap().value, json!(8));
    assert_eq!(s.runtimes.slurm.extra_args, ["--qos=high", "--exclusive"]);
    assert_eq!(s.runtimes.slurm.partition.as_deref(), Some("8"));
    assert_eq!(s.runtimes.slurm.time_limit, "90");
    assert_eq!(s.runtimes.dask.memory_limit, MemoryLimit::Bytes(8_000_000_000));
    assert_eq!(s.runtime, None);
    assert_eq!(config.get("runtime").unwrap().source, ValueOrigin::Env("DOWNSCALE_RUNTIME".into()));
}

#[test]
fn every_load_reads_the_files_again() {
    let fixture = Fixture::new();
    let path = fixture.write("user/a.yaml", "runtime: local\n");
    assert_eq!(fixture.load().settings().runtime, Some(RuntimeKind::Local));
    std::fs::write(&path, "runtime: dask\n").unwrap();
    assert_eq!(fixture.load().settings().runtime, Some(RuntimeKind::Dask));
    std::fs::remove_file(&path).unwrap();
    assert_eq!(fixture.load().settings().runtime, None);
}

#[test]
fn each_key_reports_its_own_source() {
    let mut fixture = Fixture::new();
    let system = fixture.write("etc/base.yaml", "data_catalog:\n  model: sys.json\n");
    let user = fixture.write("user/mine.yaml", "data_catalog:\n  obs: user.json\n");
    fixture.env("DOWNSCALE_RUNTIMES__CI__THREADS", "2").set("runtimes.dask.n_workers=9");
    let _guard = downscale_config::set([("runtime", "ci")]).unwrap();
    let config = fixture.load();
    let expected = [
        ("data_catalog.model", ValueOrigin::File(system)),
        ("data_catalog.obs", ValueOrigin::File(user)),
        ("runtimes.ci.threads", ValueOrigin::Env("DOWNSCALE_RUNTIMES__CI__THREADS".into())),
        ("runtimes.dask.n_workers", ValueOrigin::Set),
        ("runtime", ValueOrigin::Api),
        ("runtimes.ci.memory_limit", ValueOrigin::Default),
    ];
    for (key, source) in expected {
        assert_eq!(config.get(key).map(|e| &e.source), Some(&source), "{key}");
    }
    let keys: Vec<&str> = config.entries().iter().map(|e| e.key.as_str()).collect();
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(keys, sorted);
    assert!(keys.contains(&"runtimes.slurm.partition") && keys.contains(&"storage.scratch.options"));
}

#[test]
fn a_missing_directory_is_skipped_but_a_missing_named_file_is_not() {
    let mut fixture = Fixture::new();
    fixture.sources.system_dir = Some(PathBuf::from("/nonexistent/downscale-config-test"));
    assert!(fixture.load().settings().run_options.use_cache);
    let missing = fixture.path("missing.yaml");
    fixture.config_file(&missing);
    let message = fixture.error().to_string();
    assert!(message.starts_with(&format!("config file {}: cannot read", missing.display())), "{message}");
}

#[test]
fn optional_keys_can_be_set_and_unset() {
    let mut fixture = Fixture::new();
    fixture
        .set("runtimes.slurm.partition=gpu")
        .set("runtimes.slurm.account=12345")
        .set("runtimes.dask.scheduler_address=tcp://10.0.0.1:8786")
        .set("runtime=dask");
    let config = fixture.load();
    let s = config.settings();
    assert_eq!(s.runtimes.slurm.partition.as_deref(), Some("gpu"));
    assert_eq!(s.runtimes.slurm.account.as_deref(), Some("12345"));
    assert_eq!(s.runtimes.dask.scheduler_address.as_deref(), Some("tcp://10.0.0.1:8786"));
    assert_eq!(s.runtime, Some(RuntimeKind::Dask));
    fixture.set("runtime=null").set("runtimes.slurm.partition=~");
    let s = fixture.load().settings().clone();
    assert_eq!((s.runtime, s.runtimes.slurm.partition), (None, None));
}
