//! No input makes opening or querying a catalog panic, and every refusal is one line naming the collection.

mod common;

use std::path::Path;

use common::assert_one_line_naming;
use downscale_catalog::{Catalog, Query};
use proptest::prelude::*;
use serde_json::{Value, json};

const COLLECTION: &str = r#"{
  "esmcat_version": "0.1.0",
  "id": "fuzz",
  "catalog_file": "t.csv",
  "attributes": [{"column_name": "source_id"}, {"column_name": "variable_id"}],
  "assets": {"column_name": "path", "format_column_name": "format"}
}"#;

/// Opens `collection` (with `csv` as `t.csv` beside it) and, when it opens, runs every accessor and lookup.
fn exercise(collection: &[u8], csv: &[u8], query: &Query) -> Result<(), TestCaseError> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.json");
    std::fs::write(&path, collection).unwrap();
    std::fs::write(dir.path().join("t.csv"), csv).unwrap();
    match Catalog::open(&path) {
        Err(error) => assert_one_line_naming(&error.to_string(), &path),
        Ok(catalog) => {
            for entry in catalog.entries() {
                let _ = (entry.asset().location(), entry.format(), entry.years(), entry.variable(), entry.place());
                for column in catalog.columns() {
                    let _ = entry.get(column);
                }
            }
            for column in catalog.columns() {
                prop_assert!(catalog.unique_values(column).is_ok());
            }
            let query_on = |query: &Query| check_lookups(&catalog, &path, query);
            query_on(query)?;
            // The query with the catalog's own first row, which must be found.
            if let Some(first) = catalog.entries().next() {
                let own =
                    catalog.columns().iter().fold(Query::new(), |q, c| q.eq(c.clone(), first.get(c).unwrap_or("")));
                prop_assert!(!catalog.search(&own).unwrap().is_empty());
                query_on(&own)?;
            }
        }
    }
    Ok(())
}

fn check_lookups(catalog: &Catalog, path: &Path, query: &Query) -> Result<(), TestCaseError> {
    if let Err(error) = catalog.search(query) {
        assert_one_line_naming(&error.to_string(), path);
    }
    if let Err(error) = catalog.unique(query) {
        assert_one_line_naming(&error.to_string(), path);
    }
    Ok(())
}

/// Text made of the characters that matter to CSV, paths, dates and escapes.
fn csv_text() -> impl Strategy<Value = String> {
    proptest::string::string_regex("[a-z_,\"\n\r\t 0-9\\-/.:é\u{1b}]{0,200}").unwrap()
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        "[a-z_./:\n-]{0,12}".prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map("[a-z_]{1,14}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn query() -> impl Strategy<Value = Query> {
    let column = prop_oneof![
        Just("source_id".to_string()),
        Just("variable_id".to_string()),
        Just("path".to_string()),
        "[a-z_\n]{0,10}"
    ];
    prop::collection::vec((column, prop::collection::vec("[a-zA-Z0-9\n.-]{0,8}", 0..3)), 0..4)
        .prop_map(|terms| terms.into_iter().fold(Query::new(), |q, (c, v)| q.any_of(c, v)))
}

/// Keys of the collection and of its nested objects, where a random value does the most damage.
const KEYS: [&str; 12] = [
    "esmcat_version",
    "id",
    "description",
    "title",
    "catalog_file",
    "catalog_dict",
    "attributes",
    "assets",
    "aggregation_control",
    "assets.column_name",
    "assets.format",
    "assets.format_column_name",
];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn arbitrary_collection_bytes(bytes in prop::collection::vec(any::<u8>(), 0..300), q in query()) {
        exercise(&bytes, b"source_id,variable_id,format,path\nX,tas,netcdf,a.nc\n", &q)?;
    }

    #[test]
    fn arbitrary_values_at_collection_keys(key in 0..KEYS.len(), value in json_value(), q in query()) {
        let mut collection: Value = serde_json::from_str(COLLECTION).unwrap();
        match KEYS[key].split_once('.') {
            Some((outer, inner)) => collection[outer][inner] = value,
            None => collection[KEYS[key]] = value,
        }
        exercise(collection.to_string().as_bytes(), b"source_id,variable_id,format,path\nX,tas,netcdf,a.nc\n", &q)?;
    }

    #[test]
    fn arbitrary_tables(body in csv_text(), header in prop_oneof![
        Just("source_id,variable_id,format,time_range,path\n"),
        Just("source_id,variable_id,format,path\n"),
        Just(""),
    ], q in query()) {
        exercise(COLLECTION.as_bytes(), format!("{header}{body}").as_bytes(), &q)?;
    }

    #[test]
    fn arbitrary_rows_of_a_valid_shape(
        rows in prop::collection::vec(("[A-Z]{0,3}", "[a-z]{0,3}", "netcdf|zarr|bad|", "[0-9]{0,8}-?[0-9]{0,8}(-clim)?", "[a-z./:]{0,10}"), 0..6),
        q in query(),
    ) {
        let mut csv = String::from("source_id,variable_id,format,time_range,path\n");
        for (source, variable, format, range, path) in rows {
            csv.push_str(&format!("{source},{variable},{format},{range},{path}\n"));
        }
        exercise(COLLECTION.as_bytes(), csv.as_bytes(), &q)?;
    }

    #[test]
    fn arbitrary_inline_records(records in prop::collection::vec(json_value(), 0..5), q in query()) {
        let mut collection: Value = serde_json::from_str(COLLECTION).unwrap();
        let object = collection.as_object_mut().unwrap();
        object.remove("catalog_file");
        object.insert("catalog_dict".into(), Value::Array(records));
        exercise(collection.to_string().as_bytes(), b"", &q)?;
    }
}

#[test]
fn inline_records_that_do_open_are_queried() {
    let mut collection: Value = serde_json::from_str(COLLECTION).unwrap();
    let object = collection.as_object_mut().unwrap();
    object.remove("catalog_file");
    object.insert("catalog_dict".into(), json!([{"source_id": "X", "variable_id": 1, "format": "zarr", "path": "p"}]));
    exercise(collection.to_string().as_bytes(), b"", &Query::new().eq("variable_id", "1")).unwrap();
}
