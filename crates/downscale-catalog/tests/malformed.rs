//! Malformed collections and tables are refused when opened, each with one line that names the collection file
//! and says what is wrong where.

mod common;

use std::path::Path;

use common::{assert_one_line_naming, obs_collection};
use downscale_catalog::Catalog;

const GOOD_CSV: &str = "source_id,variable_id,path\nE-OBS,tas,tas.nc\n";

/// A collection with `key` replaced by `value` (raw JSON), or removed when `value` is `None`.
fn collection_with(key: &str, value: Option<&str>) -> String {
    let mut json: serde_json::Value = serde_json::from_str(&obs_collection("obs.csv")).unwrap();
    let (object, last) = match key.split_once('.') {
        Some((outer, inner)) => (json[outer].as_object_mut().unwrap(), inner),
        None => (json.as_object_mut().unwrap(), key),
    };
    match value {
        Some(raw) => object.insert(last.to_string(), serde_json::from_str(raw).unwrap()),
        None => object.remove(last),
    };
    json.to_string()
}

/// Writes `collection` and the table `csv` (as `obs.csv`) into a fresh directory and opens the collection; the
/// error must be one line naming the collection and contain every `fragment`.
fn refused(collection: &str, csv: &[u8], fragments: &[&str]) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("obs.json");
    std::fs::write(&path, collection).unwrap();
    std::fs::write(dir.path().join("obs.csv"), csv).unwrap();
    let message = match Catalog::open(&path) {
        Ok(catalog) => panic!("{catalog:?} opened, expected an error with {fragments:?}"),
        Err(error) => error.to_string(),
    };
    assert_one_line_naming(&message, &path);
    for fragment in fragments {
        assert!(message.contains(fragment), "{message:?} lacks {fragment:?}");
    }
}

fn table_refused(csv: &str, fragments: &[&str]) {
    refused(&obs_collection("obs.csv"), csv.as_bytes(), fragments);
}

#[test]
fn the_control_case_opens() {
    let dir = tempfile::tempdir().unwrap();
    let path = common::write_files(dir.path(), &[("obs.json", &obs_collection("obs.csv")), ("obs.csv", GOOD_CSV)]);
    assert_eq!(Catalog::open(path).unwrap().len(), 1);
}

#[test]
fn collection_files_that_are_not_json_objects() {
    refused("{ \"esmcat_version\": ", GOOD_CSV.as_bytes(), &["not valid JSON: EOF while parsing"]);
    refused("", GOOD_CSV.as_bytes(), &["not valid JSON"]);
    refused("[1, 2]", GOOD_CSV.as_bytes(), &["key `(top level)`: expected an object, found an array"]);
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("absent.json");
    let message = Catalog::open(&missing).unwrap_err().to_string();
    assert_one_line_naming(&message, &missing);
    assert!(message.contains("cannot read") && message.contains("No such file"), "{message}");
}

#[test]
fn collection_keys_of_the_wrong_type() {
    let csv = GOOD_CSV.as_bytes();
    let cases: &[(&str, Option<&str>, &str)] = &[
        ("esmcat_version", None, "key `esmcat_version`: expected a string, found nothing (the key is missing)"),
        ("esmcat_version", Some("0.1"), "key `esmcat_version`: expected a string, found the number 0.1"),
        ("id", Some("[\"x\"]"), "key `id`: expected a string, found an array"),
        ("attributes", Some("{}"), "key `attributes`: expected an array, found an object"),
        (
            "attributes",
            Some("[{\"column_name\": \"source_id\"}, {\"vocabulary\": \"\"}]"),
            "key `attributes[1].column_name`: expected a string, found nothing",
        ),
        (
            "attributes",
            Some("[\"source_id\"]"),
            "key `attributes[0]`: expected an object, found the string \"source_id\"",
        ),
        ("assets", None, "key `assets`: expected an object, found nothing"),
        ("assets.column_name", Some("true"), "key `assets.column_name`: expected a string, found the boolean true"),
        ("assets.format", Some("\"grib\""), "key `assets.format`: expected one of \"netcdf\", \"zarr\""),
        ("assets.format", None, "key `assets.format`: expected a data format (or a `format_column_name`)"),
        (
            "assets.format_column_name",
            Some("\"format\""),
            "`assets.format` and `assets.format_column_name` are mutually exclusive",
        ),
        ("catalog_file", None, "key `catalog_file`: expected a CSV file name (or an inline `catalog_dict` array)"),
        ("catalog_file", Some("7"), "key `catalog_file`: expected a string, found the number 7"),
        ("catalog_dict", Some("[]"), "`catalog_file` and `catalog_dict` are mutually exclusive"),
        (
            "aggregation_control",
            Some("{\"groupby_attrs\": []}"),
            "key `aggregation_control.variable_column_name`: expected a string",
        ),
        (
            "aggregation_control",
            Some(
                "{\"variable_column_name\": \"variable_id\", \"groupby_attrs\": [], \"aggregations\": [{\"type\": \"concat\", \"attribute_name\": \"x\"}]}",
            ),
            "key `aggregation_control.aggregations[0].type`: expected one of \"join_new\", \"join_existing\", \"union\", found \"concat\"",
        ),
    ];
    for (key, value, fragment) in cases {
        refused(&collection_with(key, *value), csv, &[fragment]);
    }
}

#[test]
fn tables_that_cannot_be_read_here() {
    let csv = GOOD_CSV.as_bytes();
    refused(&obs_collection("absent.csv"), csv, &["cannot read ", "absent.csv: No such file"]);
    refused(
        &obs_collection("obs.csv.gz"),
        csv,
        &["catalog_file ", "obs.csv.gz is gzip-compressed; only plain CSV catalogs are supported"],
    );
    refused(&obs_collection("obs.parquet"), csv, &["is a Parquet file; only plain CSV"]);
    refused(
        &obs_collection("gs://cmip6/pangeo-cmip6.csv"),
        csv,
        &["catalog_file gs://cmip6/pangeo-cmip6.csv is a URL"],
    );
    refused(&obs_collection("obs.csv"), &[0x1f, 0x8b, 8, 0, 0, 0], &["obs.csv is gzip-compressed (despite its name)"]);
}

#[test]
fn tables_whose_header_does_not_fit_the_collection() {
    table_refused("", &["obs.csv: empty file: no header line"]);
    table_refused(
        "source_id,path\nE-OBS,tas.nc\n",
        &[
            "obs.csv header: no column `variable_id`, which the collection's `attributes[1].column_name` names (columns: source_id, path)",
        ],
    );
    table_refused(
        "source_id,variable_id,zstore\nE-OBS,tas,tas.nc\n",
        &["no column `path`, which the collection's `assets.column_name` names"],
    );
    table_refused(
        "source_id,variable_id,path,source_id\nE-OBS,tas,tas.nc,X\n",
        &["obs.csv header: column `source_id` appears more than once"],
    );
    let with_format_column =
        collection_with("assets", Some("{\"column_name\": \"path\", \"format_column_name\": \"format\"}"));
    refused(
        &with_format_column,
        GOOD_CSV.as_bytes(),
        &["no column `format`, which the collection's `assets.format_column_name` names"],
    );
}

#[test]
fn rows_that_are_malformed() {
    table_refused(
        "source_id,variable_id,path\nE-OBS,tas,tas.nc\nE-OBS,pr\n",
        &["obs.csv line 3: 2 field(s), but the header has 3"],
    );
    table_refused(
        "source_id,variable_id,path\nE-OBS,tas,tas.nc\nE-OBS,pr,\n",
        &["obs.csv line 3, column `path`: no asset (path or URL) given"],
    );
    table_refused("source_id,variable_id,path\nE-OBS,tas,\"  \"\n", &["obs.csv line 2, column `path`: no asset"]);
    table_refused(
        "source_id,variable_id,time_range,path\nE-OBS,tas,1982-2002,a.nc\nE-OBS,pr,19821201-2002,b.nc\n",
        &[
            "obs.csv line 3, column `time_range`: \"19821201-2002\": expected YYYY-YYYY, YYYYMM-YYYYMM or YYYYMMDD-YYYYMMDD",
        ],
    );
    table_refused(
        "source_id,variable_id,time_range,path\nE-OBS,tas,\"1982\n-2002\",a.nc\n",
        &["obs.csv line 2, column `time_range`: \"1982\\n-2002\""],
    );
    refused(
        &obs_collection("obs.csv"),
        b"source_id,variable_id,path\nE-OBS,t\xffs,a.nc\n",
        &["obs.csv line 2: field 2 is not valid UTF-8"],
    );
    let with_format_column =
        collection_with("assets", Some("{\"column_name\": \"path\", \"format_column_name\": \"format\"}"));
    refused(
        &with_format_column,
        b"source_id,variable_id,format,path\nE-OBS,tas,netcdf,a.nc\nE-OBS,pr,NetCDF4,b.nc\n",
        &["obs.csv line 3, column `format`: format \"NetCDF4\" is not one of \"netcdf\", \"zarr\""],
    );
}

#[test]
fn inline_records_that_are_malformed() {
    let inline = |records: &str| {
        collection_with("catalog_file", None).replacen('{', &format!("{{\"catalog_dict\": {records},"), 1)
    };
    let csv = GOOD_CSV.as_bytes();
    refused(&inline("{}"), csv, &["key `catalog_dict`: expected an array, found an object"]);
    refused(
        &inline("[{\"source_id\": \"X\", \"variable_id\": \"tas\", \"path\": \"a.nc\"}, 3]"),
        csv,
        &["key `catalog_dict[1]`: expected an object, found the number 3"],
    );
    refused(
        &inline("[{\"source_id\": \"X\", \"variable_id\": \"tas\"}]"),
        csv,
        &["catalog_dict[0], column `path`: no asset (path or URL) given"],
    );
    refused(
        &inline("[{\"source_id\": {\"a\": 1}, \"variable_id\": \"tas\", \"path\": \"a.nc\"}]"),
        csv,
        &["key `catalog_dict[0].source_id`: expected a string, number, boolean or null, found an object"],
    );
}

#[test]
fn directories_are_not_collections() {
    let dir = tempfile::tempdir().unwrap();
    let message = Catalog::open(dir.path()).unwrap_err().to_string();
    assert_one_line_naming(&message, dir.path());
    assert!(message.ends_with("expected a collection JSON (a regular file), found a directory"), "{message}");
    let message = Catalog::open(Path::new("")).unwrap_err().to_string();
    assert!(message.starts_with("(empty path): cannot read"), "{message}");
}
