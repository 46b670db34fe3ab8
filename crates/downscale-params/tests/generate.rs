//! Generation from a Pangeo-CMIP6-style catalog: the files and names are the original's for the same inputs.

use std::collections::BTreeSet;
use std::path::Path;

use downscale_catalog::{Catalog, CatalogKind};
use downscale_params::{CatalogCoverage, Method, Plan, generate, to_pretty_json};

const MODELS: [&str; 3] = ["BCC-CSM2-MR", "MIROC6", "MRI-ESM2-0"];
const EXPERIMENTS: [(&str, &str); 3] = [("CMIP", "historical"), ("ScenarioMIP", "ssp245"), ("ScenarioMIP", "ssp585")];
const VARIABLES: [&str; 5] = ["tasmax", "tasmin", "pr", "ua", "va"];

/// A model catalog in the Pangeo CMIP6 layout (zarr stores on `gs://`, no time ranges) and an ERA5 catalog,
/// written into `dir`; MIROC6 has no ssp585 `tasmin`.
fn write_catalogs(dir: &Path) -> CatalogCoverage {
    let mut rows = String::from(
        "activity_id,institution_id,source_id,experiment_id,member_id,table_id,variable_id,grid_label,zstore,\
         dcpp_init_year,version\n",
    );
    for model in MODELS {
        for (activity, experiment) in EXPERIMENTS {
            for variable in VARIABLES {
                if (model, experiment, variable) == ("MIROC6", "ssp585", "tasmin") {
                    continue;
                }
                rows.push_str(&format!(
                    "{activity},X,{model},{experiment},r1i1p1f1,day,{variable},gn,\
                     gs://cmip6/CMIP6/{activity}/X/{model}/{experiment}/r1i1p1f1/day/{variable}/gn/v20190101/,,20190101\n"
                ));
            }
        }
    }
    std::fs::write(dir.join("pangeo-cmip6.csv"), rows).unwrap();
    let collection = |id: &str, csv: &str, columns: &[&str], asset: &str| {
        let attributes: Vec<_> =
            columns.iter().map(|c| serde_json::json!({ "column_name": c, "vocabulary": "" })).collect();
        serde_json::json!({
            "esmcat_version": "0.1.0",
            "id": id,
            "description": "test collection",
            "catalog_file": csv,
            "attributes": attributes,
            "assets": { "column_name": asset, "format": "zarr" },
        })
        .to_string()
    };
    let model_columns = CatalogKind::Model.columns();
    std::fs::write(
        dir.join("pangeo-cmip6.json"),
        collection("pangeo-cmip6", "pangeo-cmip6.csv", model_columns, "zstore"),
    )
    .unwrap();
    let obs_rows: String = VARIABLES.iter().map(|v| format!("ERA5,{v},s3://era5/{v}.zarr\n")).collect();
    std::fs::write(dir.join("era5.csv"), format!("source_id,variable_id,path\n{obs_rows}")).unwrap();
    std::fs::write(dir.join("era5.json"), collection("era5", "era5.csv", &["source_id", "variable_id"], "path"))
        .unwrap();
    let model = Catalog::open(dir.join("pangeo-cmip6.json")).unwrap();
    let obs = Catalog::open(dir.join("era5.json")).unwrap();
    CatalogCoverage::new(model, obs).unwrap()
}

fn fixture(name: &str) -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/valid").join(name)).unwrap()
}

#[test]
fn generated_names_and_files_are_the_originals() {
    let dir = tempfile::tempdir().unwrap();
    let coverage = write_catalogs(dir.path());
    let (runs, skipped) = generate(&Plan::default(), &coverage.experiments(), &coverage);
    let names: BTreeSet<String> = runs.iter().map(|r| format!("{}/{}.json", r.method, r.run_id())).collect();

    // 3 models × 3 experiments × 3 variables for BCSD, GARD, GARD-MV and DeepSD, MACA without historical, less
    // MIROC6 ssp585 tasmin, which the catalog does not have.
    let per_method = |method: Method| runs.iter().filter(|r| r.method == method).count();
    assert_eq!(per_method(Method::Bcsd), 26);
    assert_eq!(per_method(Method::Gard), 26);
    assert_eq!(per_method(Method::GardMultivariate), 26);
    assert_eq!(per_method(Method::Maca), 17);
    assert_eq!(per_method(Method::Deepsd), 26);
    assert_eq!(skipped.len(), 5, "{skipped:#?}");
    assert!(skipped.iter().all(|s| s.run_id.contains("MIROC6_r1i1p1f1_ssp585_tasmin")), "{skipped:#?}");

    // File names of the original's repository for the same runs.
    for expected in [
        "bcsd/bcsd_ERA5_BCC-CSM2-MR_r1i1p1f1_historical_pr_-90_90_-180_180_1981_2010_1950_2014.json",
        "bcsd/bcsd_ERA5_MIROC6_r1i1p1f1_ssp245_tasmax_-90_90_-180_180_1981_2010_2015_2099.json",
        "gard/gard_ERA5_BCC-CSM2-MR_r1i1p1f1_historical_pr_pr_-90_90_-180_180_1981_2010_1950_2014.json",
        "gard_multivariate/gard_multivariate_ERA5_MIROC6_r1i1p1f1_ssp585_tasmax_ua_va_tasmax_-90_90_-180_180_1981_2010_2015_2099.json",
        "maca/maca_ERA5_BCC-CSM2-MR_r1i1p1f1_ssp245_pr_-90_90_-180_180_1981_2010_1950_2099.json",
        "deepsd/deepsd_ERA5_MIROC6_r1i1p1f1_historical_tasmin_-90_90_-180_180_1981_2010_1950_2014.json",
    ] {
        assert!(names.contains(expected), "{expected} missing from {names:#?}");
    }
    assert!(!names.iter().any(|n| n.starts_with("maca/") && n.contains("_historical_")), "MACA skips historical");

    // GARD, GARD-MV and MACA files are byte for byte the original's layout and values (the fixtures are those files).
    let text_of = |method: Method, model: &str, scenario: &str, variable: &str| {
        let run = runs
            .iter()
            .find(|r| r.method == method && r.model == model && r.scenario == scenario && r.variable == variable)
            .unwrap();
        to_pretty_json(run.to_json())
    };
    assert_eq!(
        text_of(Method::Gard, "BCC-CSM2-MR", "historical", "pr"),
        fixture("gard_ERA5_BCC-CSM2-MR_r1i1p1f1_historical_pr_pr_-90_90_-180_180_1981_2010_1950_2014.json")
    );
    assert_eq!(
        text_of(Method::Maca, "MRI-ESM2-0", "ssp585", "pr"),
        fixture("maca_ERA5_MRI-ESM2-0_r1i1p1f1_ssp585_pr_-90_90_-180_180_1981_2010_1950_2099.json")
    );
    assert_eq!(
        text_of(Method::GardMultivariate, "MIROC6", "ssp585", "pr"),
        fixture("gard_multivariate_ERA5_MIROC6_r1i1p1f1_ssp585_pr_ua_va_pr_-90_90_-180_180_1981_2010_2015_2099.json")
    );
}

#[test]
fn maca_runs_span_the_historical_and_scenario_years() {
    let dir = tempfile::tempdir().unwrap();
    let coverage = write_catalogs(dir.path());
    let plan = Plan { methods: vec![Method::Maca], models: vec!["MIROC6".into()], ..Plan::default() };
    let (runs, _) = generate(&plan, &coverage.experiments(), &coverage);
    let run = runs.iter().find(|r| r.scenario == "ssp245" && r.variable == "tasmin").unwrap();
    assert_eq!((run.train.years(), run.predict.years()), ((1981, 2010), (1950, 2099)));
    assert_eq!((run.year_rolling_window, run.day_rolling_window), (Some(31), Some(21)));
    assert_eq!(run.features, None);
}
