//! The run parameters of one flow run, read from the original system's loose JSON.

use downscale_fs::{FileReadError, read_regular_file};
use serde_json::{Map, Value};

use crate::loose::{self, describe, kind_of};
use crate::method::{BiasCorrectionKind, Method};
use crate::problem::{Note, Problem, Problems, did_you_mean, note_lines};
use crate::schema;
use crate::strict_json::{self, JsonError};

/// Largest parameter file read, in bytes. Real ones are under 2 KB; the limit keeps a mistaken path (a log, a
/// data file) from being read whole.
pub const PARAMETER_FILE_LIMIT: u64 = 1 << 20;

/// A coordinate of the bounding box: its value, and the JSON value as written (the run id uses Python's `str()` of
/// it, so `"-90"` and `-90.0` give different run ids, as in the original).
#[derive(Debug, Clone, PartialEq)]
pub struct Coordinate {
    /// Degrees north or east.
    pub value: f64,
    /// The JSON value as the file wrote it, for the run id.
    pub written: Value,
}

/// The inclusive latitude/longitude box of a run (`latmin`, `latmax`, `lonmin`, `lonmax`), longitudes in −180..180.
#[derive(Debug, Clone, PartialEq)]
pub struct BBox {
    /// Southern edge.
    pub latmin: Coordinate,
    /// Northern edge.
    pub latmax: Coordinate,
    /// Western edge.
    pub lonmin: Coordinate,
    /// Eastern edge.
    pub lonmax: Coordinate,
}

impl BBox {
    /// The southern and northern bounds. Some of the original's files give `latmin: 90, latmax: -90`, which its
    /// flow read as the whole range because it sliced data stored north to south; validation notes them.
    pub fn latitudes(&self) -> (f64, f64) {
        let (a, b) = (self.latmin.value, self.latmax.value);
        (a.min(b), a.max(b))
    }
}

/// A year as written (`"1981"` or `1981`).
#[derive(Debug, Clone, PartialEq)]
pub struct Year {
    /// The year as a number, whatever the file wrote.
    pub value: i32,
    /// The JSON value as the file wrote it, for the run id.
    pub written: Value,
}

/// An inclusive range of years (`train_dates`, `predict_dates`).
#[derive(Debug, Clone, PartialEq)]
pub struct YearRange {
    /// The first year.
    pub start: Year,
    /// The last year, included.
    pub end: Year,
}

impl YearRange {
    /// First and last year, both included.
    pub fn years(&self) -> (i32, i32) {
        (self.start.value, self.end.value)
    }
}

/// Which keys held the periods: today's `train_dates`/`predict_dates`, or the older files'
/// `train_period`/`predict_period`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PeriodKeys {
    /// `train_dates` and `predict_dates`.
    Dates,
    /// `train_period` and `predict_period`, which messages then name.
    LegacyPeriods,
}

/// Options of the bias correction (`bias_correction_kwargs`): one set for every feature, or one per feature.
#[derive(Debug, Clone, PartialEq)]
pub enum BiasCorrectionKwargs {
    /// Options for every feature, e.g. `{"detrend": true}`.
    Flat(Map<String, Value>),
    /// Options by feature name, e.g. `{"pr": {"detrend": false}}`.
    PerFeature(Map<String, Value>),
}

impl BiasCorrectionKwargs {
    /// The options that apply to `feature`.
    pub fn for_feature(&self, feature: &str) -> Option<&Map<String, Value>> {
        match self {
            BiasCorrectionKwargs::Flat(options) => Some(options),
            BiasCorrectionKwargs::PerFeature(by_feature) => by_feature.get(feature).and_then(Value::as_object),
        }
    }

    /// The `detrend` option for `feature`, read loosely (`"False"`, `0`, `false` all mean false).
    pub fn detrend(&self, feature: &str) -> Option<bool> {
        self.for_feature(feature)?.get("detrend").and_then(|v| loose::boolean(v).ok())
    }
}

/// The parameters of one run, as the original's `RunParameters`, with every value checked.
#[derive(Debug, Clone, PartialEq)]
pub struct RunParameters {
    /// The downscaling method.
    pub method: Method,
    /// The observation product (`source_id` in the observation catalog), e.g. `ERA5`.
    pub obs: String,
    /// The model (`source_id` in the model catalog), e.g. `CanESM5`.
    pub model: String,
    /// The ensemble member, e.g. `r1i1p1f1`.
    pub member: String,
    /// The model grid, e.g. `gn`.
    pub grid_label: String,
    /// The CMIP table of the model data, e.g. `day`.
    pub table_id: String,
    /// The experiment predicted: `historical` or a scenario such as `ssp245`.
    pub scenario: String,
    /// The target variable, e.g. `tasmax`.
    pub variable: String,
    /// The predictors; absent in MACA files (which have no feature segment in their run id).
    pub features: Option<Vec<String>>,
    /// The region downscaled.
    pub bbox: BBox,
    /// The years the method is trained on.
    pub train: YearRange,
    /// The years downscaled.
    pub predict: YearRange,
    /// Which keys held the two periods, for messages.
    pub period_keys: PeriodKeys,
    /// `None` when absent; BCSD and MACA files carry `""` (unused).
    pub bias_correction_method: Option<String>,
    /// The options of `bias_correction_method`.
    pub bias_correction_kwargs: Option<BiasCorrectionKwargs>,
    /// GARD's model, one of [`GARD_MODEL_TYPES`](crate::GARD_MODEL_TYPES).
    pub model_type: Option<String>,
    /// GARD's model options.
    pub model_params: Option<Map<String, Value>>,
    /// MACA's window of years (31 in the original's files).
    pub year_rolling_window: Option<u32>,
    /// MACA's window of days of year (21 in the original's files).
    pub day_rolling_window: Option<u32>,
    /// The document as read, in the file's key order: writing it back keeps the user's spelling of every value.
    document: Map<String, Value>,
    /// Keys held to no effect.
    notes: Vec<Note>,
}

/// BCSD's bias correction of the model on the coarse grid, as the flow runs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BcsdCorrection {
    /// xsdba's quantile delta mapping with `nquantiles` quantiles, fitted per calendar month (the default).
    QuantileDeltaMapping {
        /// Number of quantiles (`bias_correction_kwargs.nquantiles`, [`DEFAULT_NQUANTILES`] when absent).
        nquantiles: usize,
    },
    /// scikit-downscale's BCSD point models, as BCSD corrected before quantile delta mapping.
    BcsdPoint,
}

/// Quantiles of quantile delta mapping when `nquantiles` is not given: a training period of 20 to 30 years has
/// 600 to 900 days of one calendar month, so each quantile rests on a dozen or more values, and the tails are
/// still resolved.
pub const DEFAULT_NQUANTILES: usize = 50;

impl RunParameters {
    /// Reads and checks a parameter file: a regular file of at most [`PARAMETER_FILE_LIMIT`] bytes (a FIFO, a
    /// device or a directory is refused before it is read).
    pub fn read(path: &std::path::Path) -> Result<RunParameters, Problems> {
        let file = path.display().to_string();
        let whole = |message: String| Problems {
            file: file.clone(),
            problems: vec![Problem::whole(message)],
            notes: Vec::new(),
        };
        let bytes = read_regular_file(path, PARAMETER_FILE_LIMIT).map_err(|error| match error {
            FileReadError::Io(error) => whole(format!("cannot read the file: {error}")),
            other => whole(other.describe("a parameter file")),
        })?;
        let text = String::from_utf8(bytes).map_err(|error| {
            whole(format!(
                "not UTF-8 text (invalid byte at offset {}); save it as UTF-8",
                error.utf8_error().valid_up_to()
            ))
        })?;
        RunParameters::parse(&text, &file)
    }

    /// Parses and checks parameter JSON; `file` names it in messages. Every problem is reported, not only the first.
    /// A leading UTF-8 byte order mark, which Windows editors write, is skipped.
    pub fn parse(text: &str, file: &str) -> Result<RunParameters, Problems> {
        let fail = |problems| Problems { file: file.to_owned(), problems, notes: Vec::new() };
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let document = match strict_json::parse(text) {
            Ok(Value::Object(map)) => map,
            Ok(other) => {
                return Err(fail(vec![Problem::whole(format!(
                    "expected a JSON object of run parameters, found {}",
                    kind_of(&other)
                ))]));
            }
            Err(JsonError::Duplicate { key, line, column }) => {
                let message =
                    format!("given twice (again at line {line} column {column}); JSON keeps only the last: remove one");
                return Err(fail(vec![Problem::at(key, message)]));
            }
            Err(JsonError::Syntax(error)) => {
                return Err(fail(vec![Problem::whole(format!("not valid JSON: {error}"))]));
            }
        };
        let mut reader = Reader { document: &document, problems: Vec::new(), notes: Vec::new() };
        let parsed = reader.parameters();
        let Reader { problems, notes, .. } = reader;
        match parsed {
            Some(mut parameters) if problems.is_empty() => {
                parameters.document = document;
                parameters.notes = notes;
                Ok(parameters)
            }
            _ => Err(Problems { notes, ..fail(problems) }),
        }
    }

    /// The parameters as JSON, exactly as they were read.
    pub fn to_json(&self) -> &Map<String, Value> {
        &self.document
    }

    /// The keys this file holds to no effect, in the order they were checked.
    pub fn notes(&self) -> &[Note] {
        &self.notes
    }

    /// One line per note, naming `file` (the file as the user named it) and the key.
    pub fn note_lines<'a>(&'a self, file: &'a str) -> impl Iterator<Item = String> + 'a {
        note_lines(file, &self.notes)
    }

    /// BCSD's bias correction: `bcsd_point` when the file names it, else quantile delta mapping with the file's
    /// `nquantiles` or [`DEFAULT_NQUANTILES`]. A BCSD file naming one of the original's corrections (which the
    /// original's BCSD flow ignored, as validation notes) gets the default too; a file of another method names none
    /// of BCSD's and gets the default, which its flow does not read.
    pub fn bcsd_correction(&self) -> BcsdCorrection {
        match self.bias_correction_method.as_deref().and_then(BiasCorrectionKind::parse) {
            Some(BiasCorrectionKind::BcsdPoint) => BcsdCorrection::BcsdPoint,
            _ => {
                let nquantiles = self
                    .bias_correction_kwargs
                    .as_ref()
                    .and_then(|kwargs| kwargs.for_feature(&self.variable))
                    .and_then(|options| options.get("nquantiles"))
                    .and_then(|value| loose::integer(value).ok())
                    .and_then(|n| usize::try_from(n).ok())
                    .unwrap_or(DEFAULT_NQUANTILES);
                BcsdCorrection::QuantileDeltaMapping { nquantiles }
            }
        }
    }
}

/// Reads the keys of one document, recording a problem for every bad value.
struct Reader<'a> {
    document: &'a Map<String, Value>,
    problems: Vec<Problem>,
    notes: Vec<Note>,
}

impl Reader<'_> {
    fn problem(&mut self, key: &str, message: impl Into<String>) {
        self.problems.push(Problem::at(key, message));
    }

    /// The value of a required key.
    fn required(&mut self, key: &str) -> Option<&Value> {
        let value = self.document.get(key);
        if value.is_none() {
            self.problem(key, "missing (a required key)");
        }
        value
    }

    fn required_text(&mut self, key: &str) -> Option<String> {
        let value = self.required(key)?;
        match loose::text(value) {
            Ok(text) => Some(text.to_owned()),
            Err(message) => {
                self.problem(key, message);
                None
            }
        }
    }

    fn optional_text(&mut self, key: &str) -> Option<Option<String>> {
        match self.document.get(key) {
            None | Some(Value::Null) => Some(None),
            Some(Value::String(text)) => Some(Some(text.clone())),
            Some(other) => {
                let message = format!("expected a string, found {}", kind_of(other));
                self.problem(key, message);
                None
            }
        }
    }

    fn parameters(&mut self) -> Option<RunParameters> {
        self.unknown_keys();
        let method = self.method();
        let obs = self.required_text("obs");
        let model = self.required_text("model");
        let (member, grid_label, table_id) = self.dataset_keys();
        let scenario = self.required_text("scenario");
        let variable = self.required_text("variable");
        let features = self.features();
        let bbox = self.bbox();
        let periods = self.periods();
        let bias_correction_method = self.optional_text("bias_correction_method");
        let bias_correction_kwargs = self.kwargs();
        let model_type = self.optional_text("model_type");
        let model_params = self.model_params();
        let year_rolling_window = self.window("year_rolling_window");
        let day_rolling_window = self.window("day_rolling_window");
        let (train, predict, period_keys) = periods?;
        let parameters = RunParameters {
            method: method?,
            obs: obs?,
            model: model?,
            member: member?,
            grid_label: grid_label?,
            table_id: table_id?,
            scenario: scenario?,
            variable: variable?,
            features: features?,
            bbox: bbox?,
            train,
            predict,
            period_keys,
            bias_correction_method: bias_correction_method?,
            bias_correction_kwargs: bias_correction_kwargs?,
            model_type: model_type?,
            model_params: model_params?,
            year_rolling_window: year_rolling_window?,
            day_rolling_window: day_rolling_window?,
            document: Map::new(),
            notes: Vec::new(),
        };
        let (problems, notes) = schema::check(&parameters);
        self.problems.extend(problems);
        self.notes.extend(notes);
        Some(parameters)
    }

    /// `member`, `grid_label` and `table_id`. The original's early files had none of the three, and three "missing"
    /// lines would read as three mistakes: such a file gets one line saying what to add.
    fn dataset_keys(&mut self) -> (Option<String>, Option<String>, Option<String>) {
        const KEYS: [&str; 3] = ["member", "grid_label", "table_id"];
        if KEYS.iter().all(|key| !self.document.contains_key(*key)) {
            self.problems.push(Problem::whole(
                "written for an older version of the original system: add `member` (e.g. \"r1i1p1f1\"), \
                 `grid_label` (e.g. \"gn\") and `table_id` (\"day\")",
            ));
            return (None, None, None);
        }
        (self.required_text("member"), self.required_text("grid_label"), self.required_text("table_id"))
    }

    fn unknown_keys(&mut self) {
        let unknown: Vec<String> =
            self.document.keys().filter(|key| !schema::KEYS.contains(&key.as_str())).cloned().collect();
        for key in unknown {
            let hint = did_you_mean(&key, schema::KEYS.iter().copied());
            self.problem(&key, format!("unknown key{hint}"));
        }
    }

    fn method(&mut self) -> Option<Method> {
        let name = self.required_text("method")?;
        let method = Method::parse(&name);
        if method.is_none() {
            let names: Vec<&str> = Method::ALL.iter().map(|m| m.as_str()).collect();
            let hint = did_you_mean(&name, names.iter().copied());
            self.problem("method", format!("unknown method `{name}`{hint}: expected one of {}", names.join(", ")));
        }
        method
    }

    fn features(&mut self) -> Option<Option<Vec<String>>> {
        let value = match self.document.get("features") {
            None | Some(Value::Null) => return Some(None),
            Some(value) => value,
        };
        let Value::Array(items) = value else {
            let message = format!("expected a list of variable names, found {}", describe(value));
            self.problem("features", message);
            return None;
        };
        let mut features = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            match loose::text(item) {
                Ok(name) => features.push(name.to_owned()),
                Err(message) => self.problem(&format!("features[{i}]"), message),
            }
        }
        (features.len() == items.len()).then_some(Some(features))
    }

    fn coordinate(&mut self, key: &str) -> Option<Coordinate> {
        let value = self.required(key)?.clone();
        match loose::number(&value) {
            Ok(number) => Some(Coordinate { value: number, written: value }),
            Err(message) => {
                self.problem(key, message);
                None
            }
        }
    }

    fn bbox(&mut self) -> Option<BBox> {
        let latmin = self.coordinate("latmin");
        let latmax = self.coordinate("latmax");
        let lonmin = self.coordinate("lonmin");
        let lonmax = self.coordinate("lonmax");
        Some(BBox { latmin: latmin?, latmax: latmax?, lonmin: lonmin?, lonmax: lonmax? })
    }

    fn periods(&mut self) -> Option<(YearRange, YearRange, PeriodKeys)> {
        let has = |key: &str| self.document.contains_key(key);
        let legacy = has("train_period") || has("predict_period");
        let current = has("train_dates") || has("predict_dates");
        if legacy && current {
            self.problems.push(Problem::whole(
                "give the periods either as `train_dates`/`predict_dates` or as the older \
                 `train_period`/`predict_period`, not both",
            ));
            return None;
        }
        let (train_key, predict_key, keys) = if legacy {
            ("train_period", "predict_period", PeriodKeys::LegacyPeriods)
        } else {
            ("train_dates", "predict_dates", PeriodKeys::Dates)
        };
        let train = self.year_range(train_key);
        let predict = self.year_range(predict_key);
        Some((train?, predict?, keys))
    }

    fn year_range(&mut self, key: &str) -> Option<YearRange> {
        let value = self.required(key)?.clone();
        let items = match &value {
            Value::Array(items) if items.len() == 2 => items,
            _ => {
                self.problem(key, format!("expected two years like [\"1981\", \"2010\"], found {}", describe(&value)));
                return None;
            }
        };
        let start = self.year(&format!("{key}[0]"), &items[0]);
        let end = self.year(&format!("{key}[1]"), &items[1]);
        let (start, end) = (start?, end?);
        if start.value > end.value {
            self.problem(key, format!("the first year ({}) is after the second ({})", start.value, end.value));
            return None;
        }
        Some(YearRange { start, end })
    }

    fn year(&mut self, key: &str, value: &Value) -> Option<Year> {
        let text = loose::python_str(value);
        let is_year = matches!(value, Value::String(_) | Value::Number(_))
            && text.len() == 4
            && text.bytes().all(|b| b.is_ascii_digit());
        if is_year {
            Some(Year { value: text.parse().expect("four ASCII digits"), written: value.clone() })
        } else {
            self.problem(key, format!("expected a four-digit year like \"1981\", found {}", describe(value)));
            None
        }
    }

    fn kwargs(&mut self) -> Option<Option<BiasCorrectionKwargs>> {
        let map = match self.document.get("bias_correction_kwargs") {
            None | Some(Value::Null) => return Some(None),
            Some(Value::Object(map)) => map,
            Some(other) => {
                let message = format!("expected an object of options, found {}", describe(other));
                self.problem("bias_correction_kwargs", message);
                return None;
            }
        };
        let nested = map.values().filter(|v| v.is_object()).count();
        if nested == 0 {
            Some(Some(BiasCorrectionKwargs::Flat(map.clone())))
        } else if nested == map.len() {
            Some(Some(BiasCorrectionKwargs::PerFeature(map.clone())))
        } else {
            self.problem(
                "bias_correction_kwargs",
                "mixes per-feature option objects with plain options: give either one object of options for \
                 every feature ({\"detrend\": false}) or one per feature ({\"pr\": {\"detrend\": false}})",
            );
            None
        }
    }

    fn model_params(&mut self) -> Option<Option<Map<String, Value>>> {
        match self.document.get("model_params") {
            None | Some(Value::Null) => Some(None),
            Some(Value::Object(map)) => Some(Some(map.clone())),
            Some(other) => {
                let message = format!("expected an object of model options, found {}", describe(other));
                self.problem("model_params", message);
                None
            }
        }
    }

    fn window(&mut self, key: &str) -> Option<Option<u32>> {
        let Some(value) = self.document.get(key) else { return Some(None) };
        match loose::integer(value) {
            Ok(days) if days > 0 && days % 2 == 1 && days < 10_000 => Some(Some(days as u32)),
            Ok(days) => {
                self.problem(key, format!("expected an odd positive window length, found {days}"));
                None
            }
            Err(message) => {
                self.problem(key, message);
                None
            }
        }
    }
}
