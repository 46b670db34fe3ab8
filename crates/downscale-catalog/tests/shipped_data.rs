//! Every asset of the shipped catalogs opens with the data layer, holds the variable its row names, and covers
//! exactly the days its `time_range` says: the catalogs are checked against the files, not against their names.

mod common;

use common::shipped;
use downscale_catalog::{Catalog, CatalogDate, Entry};
use downscale_data::calendar::CfDateTime;
use downscale_data::read_variable;

fn same_day(catalog: CatalogDate, file: &CfDateTime) -> bool {
    (catalog.year, catalog.month, catalog.day) == (file.year, Some(file.month), Some(file.day))
}

fn global_text<'a>(array: &'a downscale_data::DataArray, name: &str) -> Option<&'a str> {
    array.global_attrs.get(name).and_then(|v| v.as_text())
}

fn check(entry: &Entry<'_>) {
    let variable = entry.variable().unwrap_or_else(|| panic!("{entry:?} names no variable"));
    let array = read_variable(&entry.asset().location(), variable).unwrap_or_else(|e| panic!("{}: {e}", entry.place()));
    assert_eq!(array.name, variable);
    let range = entry.time_range().unwrap();
    let dates = &array.time.as_ref().unwrap_or_else(|| panic!("{}: no time axis", entry.place())).dates;
    let (first, last) = (dates.first().unwrap(), dates.last().unwrap());
    assert!(
        same_day(range.start, first),
        "{}: time_range starts {} but the file on {first}",
        entry.place(),
        range.start
    );
    assert!(same_day(range.end, last), "{}: time_range ends {} but the file on {last}", entry.place(), range.end);
    let variable_id = entry.get("variable_id").unwrap();
    if let Some(level) = variable_id.strip_suffix("850") {
        assert_eq!(level, variable, "{}", entry.place());
        let plev = array
            .coord("plev")
            .and_then(|c| c.values.numbers())
            .unwrap_or_else(|| panic!("{}: no plev", entry.place()));
        assert_eq!(plev, [85000.0], "{}", entry.place());
    } else {
        assert_eq!(variable, variable_id);
    }
    // Where the file carries CMIP metadata, the catalog row must agree with it.
    for (attribute, column) in
        [("experiment_id", "experiment_id"), ("model_id", "source_id"), ("frequency", "table_id")]
    {
        if let (Some(file), Some(row)) = (global_text(&array, attribute), entry.get(column)) {
            assert_eq!(file, row, "{}: {attribute}", entry.place());
        }
    }
    if let (Some(file), Some(row)) = (global_text(&array, "frequency"), entry.get("frequency")) {
        assert_eq!(file, row, "{}: frequency", entry.place());
    }
}

#[test]
fn model_assets_match_their_rows() {
    let cmip = Catalog::open(shipped("cmip.json")).unwrap();
    cmip.entries().for_each(|entry| check(&entry));
}

#[test]
fn observation_assets_match_their_rows() {
    let obs = Catalog::open(shipped("obs.json")).unwrap();
    obs.entries().for_each(|entry| check(&entry));
}
