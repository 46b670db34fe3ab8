//! Parameter files as users have them: every variant of the original's files parses, run ids match file names,
//! keys a method ignores are noted, and every malformed file gives one-line problems naming the file and the key.

use std::path::{Path, PathBuf};

use downscale_params::{BcsdCorrection, DEFAULT_NQUANTILES, Method, RunParameters, to_pretty_json};

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
    assert_eq!(keys, ["x", "latmin"], "a box north to south is noted, not refused");
}

/// `(file, key, fragment)` rows of a fixture folder's `EXPECTED.tsv`, comment lines left out.
fn expectations(dir: &Path) -> Vec<(String, String, String)> {
    let text = std::fs::read_to_string(dir.join("EXPECTED.tsv")).unwrap();
    text.lines()
        .filter(|line| !line.starts_with('#'))
        .map(|line| {
            let fields: Vec<&str> = line.split('\t').collect();
            assert_eq!(fields.len(), 3, "{line}");
            (fields[0].to_owned(), fields[1].to_owned(), fields[2].to_owned())
        })
        .collect()
}

#[test]
fn keys_a_method_ignores_are_accepted_with_a_note_each() {
    let dir = fixtures("accepted");
    let expected = expectations(&dir);
    let files = json_files(&dir);
    assert_eq!(files.len(), 7);
    for path in files {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let parameters = RunParameters::read(&path).unwrap_or_else(|problems| panic!("{name}: {problems}"));
        let file = path.display().to_string();
        let lines: Vec<String> = parameters.note_lines(&file).collect();
        let wanted: Vec<&(String, String, String)> =
            expected.iter().filter(|(listed, key, _)| *listed == name && key != "-").collect();
        assert!(expected.iter().any(|(listed, _, _)| *listed == name), "{name} has no expectation");
        assert_eq!(lines.len(), wanted.len(), "{name}: {lines:#?}");
        for (_, key, fragment) in wanted {
            let prefix = format!("{file}: key `{key}`: ");
            assert!(
                lines.iter().any(|line| line.starts_with(&prefix) && line.contains(fragment.as_str())),
                "{name}: no note starts with {prefix:?} and says {fragment:?}: {lines:#?}"
            );
        }
    }
}

#[test]
fn the_original_bcsd_files_carrying_detrend_and_model_params_still_read_with_notes() {
    let path =
        fixtures("valid").join("bcsd_ERA5_MIROC6_r1i1p1f1_ssp245_tasmax_-90_90_-180_180_1981_2010_2015_2099.json");
    let parameters = RunParameters::read(&path).unwrap();
    let keys: Vec<&str> = parameters.notes().iter().map(|note| note.key.as_str()).collect();
    assert_eq!(keys, ["bias_correction_kwargs.detrend", "model_params"]);
    assert_eq!(parameters.bcsd_correction(), BcsdCorrection::QuantileDeltaMapping { nquantiles: DEFAULT_NQUANTILES });
    // A file with a problem keeps its notes, so that the report explains every key at once.
    let invalid =
        RunParameters::read(&fixtures("invalid").join("bcsd_neither_absolute_nor_relative.json")).unwrap_err();
    let notes: Vec<String> = invalid.note_lines().collect();
    assert_eq!(notes.len(), 2, "{notes:#?}");
    assert!(notes[0].contains("key `bias_correction_kwargs.detrend`: ignored by `bcsd`"), "{notes:#?}");
    assert!(notes[1].contains("key `model_params`: ignored by `bcsd`"), "{notes:#?}");
}

#[test]
fn a_file_from_before_member_gets_one_line_saying_what_to_add() {
    let path = fixtures("invalid").join("written_before_member.json");
    let problems = RunParameters::read(&path).unwrap_err();
    let lines: Vec<String> = problems.lines().collect();
    assert_eq!(
        lines,
        [format!(
            "{}: written for an older version of the original system: add `member` (e.g. \"r1i1p1f1\"), \
             `grid_label` (e.g. \"gn\") and `table_id` (\"day\")",
            path.display()
        )]
    );
    // One of the three missing is a plain mistake, named by its key.
    let text = std::fs::read_to_string(fixtures("accepted").join("bcsd_point.json")).unwrap();
    let without_grid = text.replace("  \"grid_label\": \"gn\",\n", "");
    assert_ne!(without_grid, text);
    let problems = RunParameters::parse(&without_grid, "p.json").unwrap_err();
    assert_eq!(problems.lines().collect::<Vec<_>>(), ["p.json: key `grid_label`: missing (a required key)"]);
}

#[test]
fn bcsd_reads_its_bias_correction_from_the_file() {
    let read = |name: &str| RunParameters::read(&fixtures("accepted").join(name)).unwrap();
    assert_eq!(read("bcsd_point.json").bcsd_correction(), BcsdCorrection::BcsdPoint);
    assert_eq!(
        read("bcsd_quantile_delta_mapping.json").bcsd_correction(),
        BcsdCorrection::QuantileDeltaMapping { nquantiles: 50 }
    );
    let text = std::fs::read_to_string(fixtures("accepted").join("bcsd_quantile_delta_mapping.json")).unwrap();
    for (written, nquantiles) in [("200", 200), ("\"7\"", 7), ("10000", 10_000), ("2", 2)] {
        let changed = text.replace("\"nquantiles\": 50", &format!("\"nquantiles\": {written}"));
        let parameters = RunParameters::parse(&changed, "q.json").unwrap_or_else(|problems| panic!("{problems}"));
        assert_eq!(parameters.bcsd_correction(), BcsdCorrection::QuantileDeltaMapping { nquantiles }, "{written}");
        assert!(parameters.notes().is_empty());
    }
    for refused in ["10001", "0", "-3", "2.5", "\"many\""] {
        let changed = text.replace("\"nquantiles\": 50", &format!("\"nquantiles\": {refused}"));
        let problems = RunParameters::parse(&changed, "q.json").unwrap_err();
        let lines: Vec<String> = problems.lines().collect();
        assert_eq!(lines.len(), 1, "{refused}: {lines:#?}");
        assert!(lines[0].starts_with("q.json: key `bias_correction_kwargs.nquantiles`: expected "), "{lines:#?}");
    }
    // Per-feature options, as GARD's files give them, work for BCSD's one feature too.
    let per_feature = text.replace("{\n    \"nquantiles\": 50\n  }", "{ \"tasmax\": { \"nquantiles\": 30 } }");
    assert_ne!(per_feature, text);
    let parameters = RunParameters::parse(&per_feature, "q.json").unwrap_or_else(|problems| panic!("{problems}"));
    assert_eq!(parameters.bcsd_correction(), BcsdCorrection::QuantileDeltaMapping { nquantiles: 30 });
}

#[test]
fn each_method_takes_only_its_own_bias_corrections() {
    let text = std::fs::read_to_string(fixtures("accepted").join("bcsd_point.json")).unwrap();
    let bcsd_with = |name: &str| text.replace("\"bcsd_point\"", &format!("\"{name}\""));
    // The original's BCSD flow never read `bias_correction_method`: its files that name GARD's corrections run
    // with BCSD's default, and say so.
    for name in ["quantile_mapper", "quantile_map", "detrended_quantile_map", "z_score", "none"] {
        let parameters = RunParameters::parse(&bcsd_with(name), "b.json").unwrap_or_else(|p| panic!("{name}: {p}"));
        assert_eq!(
            parameters.note_lines("b.json").collect::<Vec<_>>(),
            [format!(
                "b.json: key `bias_correction_method`: `{name}` is ignored by `bcsd` (the original's bcsd flow did not \
                 read it), and so are its options; `bcsd` corrects with quantile_delta_mapping (the default, also \
                 when empty or absent) or bcsd_point"
            )]
        );
        assert_eq!(parameters.bcsd_correction(), BcsdCorrection::QuantileDeltaMapping { nquantiles: 50 });
    }
    let problems = RunParameters::parse(&bcsd_with("quantile_delta_maping"), "b.json").unwrap_err();
    assert!(problems.to_string().contains("did you mean `quantile_delta_mapping`"), "{problems}");
    assert_eq!(
        RunParameters::parse(&bcsd_with(""), "b.json").unwrap().bcsd_correction(),
        BcsdCorrection::QuantileDeltaMapping { nquantiles: 50 }
    );
    let absent = text.replace("  \"bias_correction_method\": \"bcsd_point\",\n", "");
    assert_ne!(absent, text);
    assert_eq!(
        RunParameters::parse(&absent, "b.json").unwrap().bcsd_correction(),
        BcsdCorrection::QuantileDeltaMapping { nquantiles: 50 }
    );

    let gard = std::fs::read_to_string(
        fixtures("valid")
            .join("gard_ERA5_BCC-CSM2-MR_r1i1p1f1_historical_pr_pr_-90_90_-180_180_1981_2010_1950_2014.json"),
    )
    .unwrap();
    for name in ["quantile_delta_mapping", "bcsd_point"] {
        let changed = gard.replace("\"quantile_mapper\"", &format!("\"{name}\""));
        let problems = RunParameters::parse(&changed, "g.json").unwrap_err();
        let lines: Vec<String> = problems.lines().collect();
        assert_eq!(lines.len(), 1, "{lines:#?}");
        assert!(
            lines[0].starts_with(&format!(
                "g.json: key `bias_correction_method`: `{name}` is not a bias correction of `gard`: it takes \
                 quantile_mapper, "
            )),
            "{lines:#?}"
        );
    }
}
