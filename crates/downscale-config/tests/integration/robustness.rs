//! Loading never panics, whatever the files, environment and `--set` hold.

use downscale_config::load;
use proptest::prelude::*;

use crate::fixture::Fixture;

/// Text that is often almost-YAML, mixed with arbitrary strings.
fn yamlish() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[a-z_:\\- \\[\\]{}\n,'\"&*!#%$@|>0-9.~]{0,60}",
        "(runtime|storage|run_options|runtimes|data_catalog)(:\n  [a-z_\\-]{1,12}: [a-z0-9$%{}\\[\\]]{0,10}\n){1,3}",
    ]
}

fn key() -> impl Strategy<Value = String> {
    prop_oneof![any::<String>(), "(runtime|storage|run_options|runtimes)([._\\-]{1,2}[a-z_\\-]{0,12}){0,4}"]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn load_returns_ok_or_err_for_any_input(
        file in yamlish(),
        env_name in key(),
        env_value in yamlish(),
        set_key in key(),
        set_value in yamlish(),
    ) {
        let mut fixture = Fixture::new();
        fixture.write("user/fuzz.yaml", &file);
        fixture.env(&format!("DOWNSCALE_{}", env_name.to_uppercase().replace('.', "__")), &env_value);
        fixture.set(&format!("{set_key}={set_value}"));
        if let Ok(config) = load(&fixture.sources) {
            let _ = config.show_text();
            let _ = config.show_json();
            for entry in config.entries() {
                let _ = config.expand(&entry.key);
            }
        }
        let _ = downscale_config::set([(set_key.as_str(), set_value.as_str())]);
    }
}

#[test]
fn deeply_nested_input_is_an_error_not_a_crash() {
    let mut fixture = Fixture::new();
    let deep_block: String = (0..400).map(|depth| format!("{}k{depth}:\n", " ".repeat(depth))).collect();
    fixture.write("user/deep.yaml", &deep_block);
    assert!(load(&fixture.sources).is_err());
    std::fs::remove_file(fixture.path("user/deep.yaml")).unwrap();
    fixture.env("DOWNSCALE_RUNTIMES__SLURM__EXTRA_ARGS", &format!("{}{}", "[".repeat(5000), "]".repeat(5000)));
    assert!(load(&fixture.sources).is_err());
}
