//! The catalogs shipped in `data/catalog` open, point at files that exist, and answer the lookups the tool makes.

mod common;

use common::shipped;
use downscale_catalog::{AssetFormat, Catalog, CatalogError, CatalogKind, ModelKey, ObsKey, Query};

#[test]
fn shipped_catalogs_open_with_every_asset_present() {
    let cmip = Catalog::open(shipped("cmip.json")).unwrap();
    let obs = Catalog::open(shipped("obs.json")).unwrap();
    assert_eq!((cmip.id(), cmip.len()), ("downscale-samples-cmip", 11));
    assert_eq!((obs.id(), obs.len()), ("downscale-samples-obs", 8));
    cmip.expect_kind(CatalogKind::Model).unwrap();
    obs.expect_kind(CatalogKind::Observation).unwrap();
    for entry in cmip.entries().chain(obs.entries()) {
        let path = entry.asset().as_path().unwrap_or_else(|| panic!("{entry:?} is not local"));
        assert!(path.is_file(), "{} does not exist", path.display());
        assert!(path.is_absolute() && !path.to_string_lossy().contains(".."), "{} is not resolved", path.display());
        assert_eq!(entry.format(), AssetFormat::Netcdf);
        assert!(entry.time_range().is_some(), "{entry:?} has no time range");
    }
}

#[test]
fn an_observation_catalog_is_not_a_model_catalog() {
    let obs = Catalog::open(shipped("obs.json")).unwrap();
    let message = obs.expect_kind(CatalogKind::Model).unwrap_err().to_string();
    assert!(
        message.ends_with(
            "not a model catalog: missing column(s) activity_id, institution_id, experiment_id, member_id, \
             table_id, grid_label"
        ),
        "{message}"
    );
}

#[test]
fn cnrm_historical_tas_is_unique() {
    let cmip = Catalog::open(shipped("cmip.json")).unwrap();
    let key = ModelKey::new("CNRM-CM5", "historical", "tas").member("r1i1p1").table("day").grid("gn");
    let entry = cmip.unique(&key.query()).unwrap();
    assert!(
        entry.raw_asset().ends_with("gcm_CNRM-CM5/tas_day_CNRM-CM5_historical_r1i1p1_iberia_DJF_19821201-20020228.nc")
    );
    assert!(entry.asset().to_string().ends_with(
        "data/samples/iberia/gcm_CNRM-CM5/tas_day_CNRM-CM5_historical_r1i1p1_iberia_DJF_19821201-20020228.nc"
    ));
    assert_eq!(entry.years(), Some((1982, 2002)));
    assert_eq!(entry.get("institution_id"), Some("CNRM-CERFACS"));
    assert_eq!(entry.variable(), Some("tas"));
    let ta850 = cmip.unique(&ModelKey::new("CNRM-CM5", "rcp85", "ta850").query()).unwrap();
    assert_eq!((ta850.variable(), ta850.years()), (Some("ta"), Some((2080, 2100))));
}

#[test]
fn an_experiment_without_a_variable_lists_the_candidates() {
    let cmip = Catalog::open(shipped("cmip.json")).unwrap();
    let error = cmip.unique(&Query::new().eq("experiment_id", "rcp85")).unwrap_err();
    let CatalogError::Ambiguous { count, candidates, .. } = &error else { panic!("{error}") };
    assert_eq!(*count, 5);
    assert_eq!(
        candidates[0],
        "line 7 variable_id=tas file_variable=tas \
         asset=../samples/iberia/gcm_CNRM-CM5/tas_day_CNRM-CM5_rcp85_r1i1p1_iberia_DJF_20801201-21000228.nc"
    );
    let message = error.to_string();
    assert!(message.contains("5 entries match experiment_id=rcp85, expected one; candidates: line 7 "), "{message}");
    for variable in ["tas", "pr", "psl", "ta850", "hus850"] {
        assert!(message.contains(&format!("variable_id={variable} ")), "{variable} missing from {message}");
    }
    // Columns all candidates share do not help to choose, so they are not listed.
    assert!(!message.contains("source_id=") && !message.contains("time_range="), "{message}");
}

#[test]
fn a_misspelt_source_gives_the_nearest_values() {
    let cmip = Catalog::open(shipped("cmip.json")).unwrap();
    let error = cmip.unique(&ModelKey::new("CNRM-CM6", "historical", "tas").query()).unwrap_err();
    let CatalogError::NoMatch { column, available, .. } = &error else { panic!("{error}") };
    assert_eq!(column, "source_id");
    assert_eq!(available, &["CNRM-CM5", "BNU-ESM"]);
    assert!(error.to_string().ends_with(
        "no entry matches source_id=CNRM-CM6, experiment_id=historical, variable_id=tas: source_id=CNRM-CM6 leaves \
         none; source_id values there: CNRM-CM5, BNU-ESM"
    ));
}

#[test]
fn the_blamed_constraint_is_the_first_that_leaves_nothing() {
    let cmip = Catalog::open(shipped("cmip.json")).unwrap();
    // BNU-ESM has only tasmax: the variable is to blame, and only BNU-ESM's variables are offered.
    let error = cmip.unique(&ModelKey::new("BNU-ESM", "historical", "tas").query()).unwrap_err();
    assert!(
        error.to_string().ends_with(
            "variable_id=tas leaves none among the entries with source_id=BNU-ESM, experiment_id=historical; \
             variable_id values there: tasmax"
        ),
        "{error}"
    );
}

#[test]
fn searches_accept_several_values_per_column() {
    let cmip = Catalog::open(shipped("cmip.json")).unwrap();
    let query = Query::new()
        .eq("source_id", "CNRM-CM5")
        .any_of("experiment_id", ["historical", "rcp85"])
        .eq("variable_id", "psl");
    let years: Vec<_> = cmip.search(&query).unwrap().iter().map(|e| e.years().unwrap()).collect();
    assert_eq!(years, [(1982, 2002), (2080, 2100)]);
    assert!(cmip.search(&Query::new().eq("source_id", "nothing")).unwrap().is_empty());
    assert_eq!(cmip.search(&Query::new()).unwrap().len(), cmip.len());
    assert_eq!(cmip.unique_values("experiment_id").unwrap(), ["historical", "rcp85"]);
    assert_eq!(cmip.unique_values("variable_id").unwrap(), ["hus850", "pr", "psl", "ta850", "tas", "tasmax"]);
}

#[test]
fn observation_keys_find_products() {
    let obs = Catalog::open(shipped("obs.json")).unwrap();
    let eobs = obs.unique(&ObsKey::new("E-OBS", "pr").frequency("day").query()).unwrap();
    assert!(eobs.raw_asset().ends_with("pr_day_E-OBS-v14-0.50reg_iberia_DJF_19821201-20020228.nc"));
    let hus = obs.unique(&ObsKey::new("NCEP-R1", "hus850").query()).unwrap();
    assert_eq!(hus.variable(), Some("hus"));
    let anusplin = obs.unique(&ObsKey::new("ANUSPLIN", "tasmax").query()).unwrap();
    assert_eq!(anusplin.years(), Some((1969, 1972)));
    assert_eq!(obs.unique_values("source_id").unwrap(), ["ANUSPLIN", "E-OBS", "NCEP-R1"]);
}

#[test]
fn unknown_columns_suggest_the_nearest() {
    let cmip = Catalog::open(shipped("cmip.json")).unwrap();
    let error = cmip.search(&Query::new().eq("sourceid", "CNRM-CM5")).unwrap_err();
    let CatalogError::UnknownColumn { nearest, .. } = &error else { panic!("{error}") };
    assert_eq!(nearest, "source_id");
    let message = error.to_string();
    assert!(message.contains("unknown column `sourceid` (nearest: `source_id`; columns: activity_id, "), "{message}");
    common::assert_one_line_naming(&message, &shipped("cmip.json"));
    assert!(cmip.unique_values("Experiment").unwrap_err().to_string().contains("nearest: `experiment_id`"));
    // A model query against the observation catalog fails on the first model-only column.
    let obs = Catalog::open(shipped("obs.json")).unwrap();
    let error = obs.unique(&ModelKey::new("E-OBS", "historical", "tas").query()).unwrap_err();
    assert!(error.to_string().contains("unknown column `experiment_id`"), "{error}");
}
