//! Collections in the shapes found in the wild: Pangeo's CMIP6 Zarr catalog (a `zstore` asset column of `gs://`
//! URLs, `aggregation_control`, empty `dcpp_init_year` cells), inline `catalog_dict` records, and mixed formats
//! named by a format column.

mod common;

use common::write_files;
use downscale_catalog::{AggregationKind, Asset, AssetFormat, Catalog, CatalogError, FormatSource, ModelKey, Query};

/// The collection JSON in the layout of `pangeo-cmip6.json`.
const PANGEO_JSON: &str = r#"{
  "esmcat_version": "0.1.0",
  "id": "glade-cmip6",
  "description": "Pangeo-style CMIP6 Zarr stores",
  "catalog_file": "pangeo-cmip6.csv",
  "attributes": [
    {"column_name": "activity_id", "vocabulary": "https://raw.githubusercontent.com/WCRP-CMIP/CMIP6_CVs/master/CMIP6_activity_id.json"},
    {"column_name": "source_id", "vocabulary": "https://raw.githubusercontent.com/WCRP-CMIP/CMIP6_CVs/master/CMIP6_source_id.json"},
    {"column_name": "institution_id", "vocabulary": ""},
    {"column_name": "experiment_id", "vocabulary": ""},
    {"column_name": "member_id", "vocabulary": ""},
    {"column_name": "table_id", "vocabulary": ""},
    {"column_name": "variable_id", "vocabulary": ""},
    {"column_name": "grid_label", "vocabulary": ""},
    {"column_name": "version", "vocabulary": ""},
    {"column_name": "dcpp_init_year", "vocabulary": ""}
  ],
  "assets": {"column_name": "zstore", "format": "zarr"},
  "aggregation_control": {
    "variable_column_name": "variable_id",
    "groupby_attrs": ["activity_id", "institution_id", "source_id", "experiment_id", "table_id", "grid_label"],
    "aggregations": [
      {"type": "union", "attribute_name": "variable_id"},
      {"type": "join_new", "attribute_name": "member_id", "options": {"coords": "minimal", "compat": "override"}},
      {"type": "join_new", "attribute_name": "dcpp_init_year", "options": {"coords": "minimal", "compat": "override"}}
    ]
  },
  "last_updated": "2024-01-01T00:00:00Z"
}"#;

const PANGEO_CSV: &str = "\
activity_id,institution_id,source_id,experiment_id,member_id,table_id,variable_id,grid_label,zstore,dcpp_init_year,version
CMIP,CNRM-CERFACS,CNRM-CM6-1,historical,r1i1p1f2,day,tas,gr,gs://cmip6/CMIP6/CMIP/CNRM-CERFACS/CNRM-CM6-1/historical/r1i1p1f2/day/tas/gr/v20181206/,,20181206
CMIP,CNRM-CERFACS,CNRM-CM6-1,historical,r1i1p1f2,day,pr,gr,gs://cmip6/CMIP6/CMIP/CNRM-CERFACS/CNRM-CM6-1/historical/r1i1p1f2/day/pr/gr/v20181206/,,20181206
ScenarioMIP,CNRM-CERFACS,CNRM-CM6-1,ssp585,r1i1p1f2,day,tas,gr,gs://cmip6/CMIP6/ScenarioMIP/CNRM-CERFACS/CNRM-CM6-1/ssp585/r1i1p1f2/day/tas/gr/v20190219/,,20190219
ScenarioMIP,NOAA-GFDL,GFDL-ESM4,ssp585,r1i1p1f1,day,tas,gr1,gs://cmip6/CMIP6/ScenarioMIP/NOAA-GFDL/GFDL-ESM4/ssp585/r1i1p1f1/day/tas/gr1/v20180701/,,20180701
DCPP,CNRM-CERFACS,CNRM-CM6-1,dcppA-hindcast,s1960-r1i1p1f2,Amon,tas,gr,gs://cmip6/CMIP6/DCPP/CNRM-CERFACS/CNRM-CM6-1/dcppA-hindcast/s1960-r1i1p1f2/Amon/tas/gr/v20190314/,1960.0,20190314
";

#[test]
fn a_pangeo_cmip6_collection_parses_and_searches() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_files(dir.path(), &[("pangeo-cmip6.json", PANGEO_JSON), ("pangeo-cmip6.csv", PANGEO_CSV)]);
    let catalog = Catalog::open(&path).unwrap();
    assert_eq!((catalog.id(), catalog.len(), catalog.esmcat_version()), ("glade-cmip6", 5, "0.1.0"));
    assert_eq!(catalog.last_updated(), Some("2024-01-01T00:00:00Z"));
    assert_eq!(catalog.attributes()[1].column_name, "source_id");
    assert!(catalog.attributes()[1].vocabulary.ends_with("CMIP6_source_id.json"));
    assert_eq!(catalog.assets().column_name, "zstore");
    assert_eq!(catalog.assets().format, FormatSource::Fixed(AssetFormat::Zarr));
    let control = catalog.aggregation_control().unwrap();
    assert_eq!(control.groupby_attrs.len(), 6);
    assert_eq!(control.aggregations[1].kind, AggregationKind::JoinNew);
    assert_eq!(control.aggregations[1].options["compat"], "override");

    let key = ModelKey::new("CNRM-CM6-1", "ssp585", "tas").member("r1i1p1f2").table("day").grid("gr");
    let entry = catalog.unique(&key.query()).unwrap();
    assert_eq!(
        entry.asset(),
        &Asset::Url(
            "gs://cmip6/CMIP6/ScenarioMIP/CNRM-CERFACS/CNRM-CM6-1/ssp585/r1i1p1f2/day/tas/gr/v20190219/".into()
        )
    );
    assert_eq!(entry.asset().as_path(), None);
    assert!(entry.format().is_zarr());
    assert_eq!((entry.get("dcpp_init_year"), entry.get("version")), (None, Some("20190219")));
    assert_eq!((entry.variable(), entry.years()), (Some("tas"), None));

    let tas = catalog.search(&Query::new().eq("variable_id", "tas").eq("table_id", "day")).unwrap();
    assert_eq!(tas.len(), 3);
    assert_eq!(catalog.unique_values("dcpp_init_year").unwrap(), ["1960.0"]);
    let historical = catalog.search(&ModelKey::new("CNRM-CM6-1", "historical", "pr").query()).unwrap();
    assert_eq!(historical.len(), 1);

    // A GFDL member that does not exist: the member is blamed, and the members GFDL does have are offered.
    let error = catalog.unique(&ModelKey::new("GFDL-ESM4", "ssp585", "tas").member("r2i1p1f1").query()).unwrap_err();
    let CatalogError::NoMatch { column, available, .. } = &error else { panic!("{error}") };
    assert_eq!((column.as_str(), available.as_slice()), ("member_id", ["r1i1p1f1".to_string()].as_slice()));
}

#[test]
fn an_inline_catalog_dict_works() {
    let json = r#"{
      "esmcat_version": "0.1.0",
      "id": "aws-cesm1-le",
      "description": "CESM1 Large Ensemble on S3",
      "catalog_dict": [
        {"component": "atm", "frequency": "daily", "experiment": "20C", "variable": "TREFHT", "path": "s3://ncar-cesm-lens/atm/daily/cesmLE-20C-TREFHT.zarr", "member": 1},
        {"component": "atm", "frequency": "daily", "experiment": "RCP85", "variable": "TREFHT", "path": "s3://ncar-cesm-lens/atm/daily/cesmLE-RCP85-TREFHT.zarr", "member": 1},
        {"component": "atm", "frequency": "daily", "experiment": "20C", "variable": "PRECT", "path": "local/cesmLE-20C-PRECT.zarr"}
      ],
      "attributes": [{"column_name": "component"}, {"column_name": "frequency"}, {"column_name": "experiment"}, {"column_name": "variable"}],
      "assets": {"column_name": "path", "format": "zarr"},
      "aggregation_control": {"variable_column_name": "variable", "groupby_attrs": ["component", "experiment", "frequency"]}
    }"#;
    let dir = tempfile::tempdir().unwrap();
    let path = write_files(dir.path(), &[("inline.json", json)]);
    let catalog = Catalog::open(&path).unwrap();
    assert_eq!(catalog.catalog_file(), None);
    assert_eq!(catalog.columns(), ["component", "frequency", "experiment", "variable", "path", "member"]);
    let entry = catalog.unique(&Query::new().eq("experiment", "20C").eq("variable", "PRECT")).unwrap();
    // Relative assets resolve from the collection's directory, also for inline records.
    assert_eq!(entry.asset(), &Asset::Path(dir.path().join("local/cesmLE-20C-PRECT.zarr")));
    assert_eq!((entry.get("member"), entry.place()), (None, "catalog_dict[2]".to_string()));
    // Without `file_variable` or `variable_id`, the variable is in aggregation_control's variable column.
    assert_eq!(entry.variable(), Some("PRECT"));
    let members = catalog.search(&Query::new().eq("member", "1")).unwrap();
    assert_eq!(members.len(), 2);
    let error = catalog.unique(&Query::new().eq("variable", "TREFHT")).unwrap_err();
    assert!(
        error.to_string().ends_with(
            "2 entries match variable=TREFHT, expected one; candidates: catalog_dict[0] experiment=20C \
             asset=s3://ncar-cesm-lens/atm/daily/cesmLE-20C-TREFHT.zarr; catalog_dict[1] experiment=RCP85 \
             asset=s3://ncar-cesm-lens/atm/daily/cesmLE-RCP85-TREFHT.zarr"
        ),
        "{error}"
    );
}

#[test]
fn a_format_column_allows_mixed_assets_and_urls_are_kept() {
    let json = r#"{
      "esmcat_version": "0.1.0",
      "id": "mixed",
      "catalog_file": "tables/mixed.csv",
      "attributes": [{"column_name": "source_id"}, {"column_name": "variable_id"}],
      "assets": {"column_name": "path", "format_column_name": "format"}
    }"#;
    let csv = "\
source_id,variable_id,format,time_range,path
A,tas,netcdf,185001-201412,data/a.nc
B,tas,zarr3,2015-2100,https://example.org/b.zarr
C,tas,zarr2,19500101-20141231,file:///srv/c.zarr
D,tas,opendap,,az://container/d
E,tas,reference,185001010600-185101010000,/abs/e.json
";
    let dir = tempfile::tempdir().unwrap();
    let path = write_files(dir.path(), &[("mixed.json", json), ("tables/mixed.csv", csv)]);
    let catalog = Catalog::open(&path).unwrap();
    let formats: Vec<_> = catalog.entries().map(|e| e.format()).collect();
    use AssetFormat::*;
    assert_eq!(formats, [Netcdf, Zarr3, Zarr2, Opendap, Reference]);
    let assets: Vec<_> = catalog.entries().map(|e| e.asset().location()).collect();
    assert_eq!(assets[0], dir.path().join("data/a.nc").to_string_lossy());
    assert_eq!(assets[1..], ["https://example.org/b.zarr", "file:///srv/c.zarr", "az://container/d", "/abs/e.json"]);
    let years: Vec<_> = catalog.entries().map(|e| e.years()).collect();
    assert_eq!(years, [Some((1850, 2014)), Some((2015, 2100)), Some((1950, 2014)), None, Some((1850, 1851))]);
}
