//! Parameter files as users have them: every variant of the original's files parses, run ids match file names,
//! and every malformed file gives one-line problems naming the file and the key.

use std::path::{Path, PathBuf};

use downscale_params::{Method, RunParameters, to_pretty_json};

fn fixtures(kind: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(kind)
}

fn json_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    files
}

fn stem(path: &Path) -> String {
    path.file_stem().unwrap().to_string_lossy().into_owned()
}

#[test]
fn every_variant_of_the_original_files_parses_and_its_run_id_is_its_name() {
    let files = json_files(&fixtures("valid"));
    assert_eq!(files.len(), 8);
    for path in files {
        let parameters = RunParameters::read(&path).unwrap_or_else(|problems| panic!("{problems}"));
        let name = stem(&path);
        // BCSD and DeepSD files carry `features` but their names predate the feature segment of the run id, as in
        // the original's repository: the run id has the segment, the name does not.
        let expected = match (parameters.method, &parameters.features) {
            (Method::Bcsd | Method::Deepsd, Some(features)) => {
                let variable_segment = format!("_{}_", parameters.variable);
                name.replacen(&variable_segment, &format!("{variable_segment}{}_", features.join("_")), 1)
            }
            _ => name.clone(),
        };
        assert_eq!(parameters.run_id(), expected, "{}", path.display());
    }
}

#[test]
fn the_documented_example_reads_with_its_per_feature_options() {
    let path = fixtures("valid")
        .join("gard_ERA5_BCC-CSM2-MR_r1i1p1f1_historical_pr_pr_-90_90_-180_180_1981_2010_1950_2014.json");
    let parameters = RunParameters::read(&path).unwrap();
    assert_eq!(parameters.method, Method::Gard);
    assert_eq!(parameters.features.as_deref(), Some(&["pr".to_owned()][..]));
    assert_eq!((parameters.bbox.latmin.value, parameters.bbox.lonmax.value), (-90.0, 180.0));
    assert_eq!((parameters.train.years(), parameters.predict.years()), ((1981, 2010), (1950, 2014)));
    let kwargs = parameters.bias_correction_kwargs.as_ref().unwrap();
    assert_eq!((kwargs.detrend("pr"), kwargs.detrend("tasmax")), (Some(false), Some(true)));
    assert_eq!(parameters.model_params.as_ref().unwrap()["thresh"], 0);
    assert_eq!(parameters.run_id_hash().len(), 16);
}

#[test]
fn loose_values_mean_what_the_original_meant() {
    let read = |name: &str| RunParameters::read(&fixtures("valid").join(name)).unwrap();
    let bcsd = read("bcsd_ERA5_MIROC6_r1i1p1f1_ssp245_tasmax_-90_90_-180_180_1981_2010_2015_2099.json");
    assert_eq!(bcsd.bias_correction_kwargs.unwrap().detrend("tasmax"), Some(false), "\"False\" is false");
    let analog =
        read("gard_ERA5_CanESM5_r1i1p1f1_historical_tasmax_ua_va_tasmax_-90_90_-180_180_1981_2010_1950_2014.json");
    let kwargs = analog.bias_correction_kwargs.unwrap();
    assert_eq!((kwargs.detrend("ua"), kwargs.detrend("tasmax")), (Some(false), Some(true)), "0/1 are booleans");
    let legacy = read("bcsd_ERA5_AWI-CM-1-1-M_r1i1p1f1_historical_pr_-90_90_-180_180_1981_2010_1950_2014.json");
    assert_eq!(legacy.period_keys, downscale_params::PeriodKeys::LegacyPeriods);
    assert_eq!(legacy.predict.years(), (1950, 2014));
    let numbers = read("gard_ERA5_CNRM-CM5_r1i1p1_rcp85_tas_tas_35.5_44.0_-9.5_3.5_1983_2002_2081_2100.json");
    assert_eq!(numbers.bbox.latmax.value, 44.0);
    let flat = numbers.bias_correction_kwargs.unwrap();
    assert_eq!(flat.for_feature("tas").unwrap()["n_endpoints"], 10, "flat options apply to every feature");
    let maca = read("maca_ERA5_MRI-ESM2-0_r1i1p1f1_ssp585_pr_-90_90_-180_180_1981_2010_1950_2099.json");
    assert_eq!((maca.year_rolling_window, maca.day_rolling_window, maca.features), (Some(31), Some(21), None));
}

#[test]
fn parse_write_parse_is_stable() {
    for path in json_files(&fixtures("valid")) {
        let first = RunParameters::read(&path).unwrap();
        let written = to_pretty_json(first.to_json());
        let second = RunParameters::parse(&written, "rewritten").unwrap();
        assert_eq!(first, second, "{}", path.display());
        assert_eq!(to_pretty_json(second.to_json()), written);
        // The layout is the original files' own: a file written by us is byte-identical to the fixture.
        assert_eq!(written, std::fs::read_to_string(&path).unwrap(), "{}", path.display());
    }
}

#[test]
fn every_malformed_file_names_the_file_and_the_key() {
    let dir = fixtures("invalid");
    let expected = std::fs::read_to_string(dir.join("EXPECTED.tsv")).unwrap();
    let cases: Vec<(&str, &str, &str)> = expected
        .lines()
        .filter(|line| !line.starts_with('#'))
        .map(|line| {
            let mut fields = line.split('\t');
            (fields.next().unwrap(), fields.next().unwrap(), fields.next().unwrap())
        })
        .collect();
    assert!(cases.len() >= 30, "{} cases", cases.len());
    assert_eq!(cases.len(), json_files(&dir).len(), "every fixture has an expectation");
    for (name, key, fragment) in cases {
        let path = dir.join(name);
        let problems = RunParameters::read(&path).expect_err(name);
        let lines: Vec<String> = problems.lines().collect();
        let prefix = match key {
            "-" => format!("{}: ", path.display()),
            key => format!("{}: key `{key}`: ", path.display()),
        };
        assert!(
            lines.iter().any(|line| line.starts_with(&prefix) && line.contains(fragment)),
            "{name}: no line starts with {prefix:?} and says {fragment:?}: {lines:#?}"
        );
        assert!(lines.iter().all(|line| !line.contains('\n')), "{name}: {lines:#?}");
    }
}

#[test]
fn all_problems_are_reported_at_once() {
    let text = r#"{"method": "bcsd", "obs": "ERA5", "model": "M", "member": "r1i1p1f1", "grid_label": "gn",
        "table_id": "day", "scenario": "ssp585", "variable": "tasmax", "latmin": "95", "latmax": "90",
        "lonmin": "-180", "lonmax": "180", "train_dates": ["1981", "2010"], "predict_dates": ["2099", "2015"],
        "colour": "blue"}"#;
    let problems = RunParameters::parse(text, "many.json").unwrap_err();
    let keys: Vec<_> = problems.problems.iter().map(|p| p.key.clone().unwrap()).collect();
    assert_eq!(keys, ["colour", "predict_dates"], "type problems first; the box is checked once types are right");
    let text = text.replace(r#"["2099", "2015"]"#, r#"["2015", "2099"]"#).replace(r#""colour": "blue""#, r#""x": 1"#);
    let problems = RunParameters::parse(&text, "many.json").unwrap_err();
    let keys: Vec<_> = problems.problems.iter().map(|p| p.key.clone().unwrap()).collect();
    assert_eq!(keys, ["x", "latmin", "latmin"]);
}
