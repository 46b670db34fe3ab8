//! Arbitrary input never panics: any text, any JSON document, and any value in place of any key of a valid file
//! give parameters or problems.

use downscale_params::{KEYS, RunParameters};
use proptest::prelude::*;
use serde_json::{Map, Value};

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        "[-0-9.eE a-zA-Z_]{0,12}".prop_map(Value::String),
        prop::sample::select(vec!["1981", "-90", "True", "False", "pr", "tasmax", "", "0", "1e400"])
            .prop_map(Value::from),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map("[a-z_]{0,10}", inner, 0..4)
                .prop_map(|map| Value::Object(map.into_iter().collect())),
        ]
    })
}

const VALID: &str = include_str!(
    "fixtures/valid/gard_ERA5_BCC-CSM2-MR_r1i1p1f1_historical_pr_pr_-90_90_-180_180_1981_2010_1950_2014.json"
);

proptest! {
    #[test]
    fn any_text_gives_parameters_or_problems(text in "\\PC{0,200}") {
        let _ = RunParameters::parse(&text, "arbitrary.json");
    }

    #[test]
    fn any_value_of_any_key_gives_parameters_or_problems(
        key in prop::sample::select(KEYS.to_vec()),
        value in json_value(),
        drop_key in prop::sample::select(KEYS.to_vec()),
    ) {
        let mut document: Map<String, Value> = serde_json::from_str(VALID).unwrap();
        document.remove(drop_key);
        document.insert(key.to_owned(), value);
        let text = serde_json::to_string(&document).unwrap();
        match RunParameters::parse(&text, "mutated.json") {
            Ok(parameters) => prop_assert!(!parameters.run_id().is_empty()),
            Err(problems) => prop_assert!(!problems.problems.is_empty()),
        }
    }

    #[test]
    fn any_document_gives_parameters_or_problems(value in json_value()) {
        let text = serde_json::to_string(&value).unwrap();
        let _ = RunParameters::parse(&text, "arbitrary.json");
    }
}
