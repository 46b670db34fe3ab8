//! GARD's model and predictor corrections as a run uses them, read from a validated parameter file: the typed view
//! of `model_type`, `model_params`, `features` and `bias_correction_method`/`bias_correction_kwargs`.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::loose;
use crate::method::BiasCorrectionKind;
use crate::parameters::RunParameters;

/// scikit-downscale's default analogue count.
pub const DEFAULT_N_ANALOGS: usize = 200;

/// Which GARD model (`model_type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum GardModelType {
    /// One regression over the whole training period.
    PureRegression,
    /// A regression over each day's nearest analogues.
    AnalogRegression,
    /// Each day's analogues' values.
    PureAnalog,
}

/// What `PureAnalog` makes of its analogues (`model_params.kind`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AnalogKindName {
    /// The nearest analogue's value.
    BestAnalog,
    /// The analogues' mean.
    MeanAnalogs,
    /// Their inverse-distance weighted mean.
    WeightAnalogs,
    /// One of them at random.
    SampleAnalogs,
}

/// The occurrence model of a thresholded variable (`model_params.logistic_kwargs`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OccurrenceModel {
    /// scikit-learn's L2-penalised logistic regression with inverse strength `c` (`penalty: "l2"`, `C`).
    Penalised {
        /// scikit-learn's `C` (1 by default).
        c: f64,
    },
    /// The unregularised logistic regression NCAR GARD fits (`penalty: null` or `"none"`).
    Unregularised,
}

/// The GARD model of a run.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct GardModel {
    /// Which model.
    pub model_type: GardModelType,
    /// The occurrence threshold (`model_params.thresh`), for precipitation.
    pub thresh: Option<f64>,
    /// Analogues per prediction, for the analogue models.
    pub n_analogs: usize,
    /// `PureAnalog`'s kind.
    pub kind: AnalogKindName,
    /// Whether analogue distances compare standardised features (`model_params.analog_distance: "normalised"`).
    pub normalised_distance: bool,
    /// The occurrence model.
    pub occurrence: OccurrenceModel,
}

/// How one predictor is corrected towards its training distribution before the model sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PredictorCorrection {
    /// scikit-downscale's `QuantileMapper` (QM-RANK) over the whole prediction period, optionally detrended.
    QuantileMapper {
        /// `bias_correction_kwargs[feature].detrend`.
        detrend: bool,
    },
    /// Used as it is (`"none"`).
    None,
}

impl RunParameters {
    /// The run's GARD model; the defaults of the reference where the file leaves an option out. Meant for a file
    /// that passed validation, which has checked every value read here.
    pub fn gard_model(&self) -> GardModel {
        let option = |name: &str| self.model_params.as_ref().and_then(|params| params.get(name));
        let model_type = match self.model_type.as_deref() {
            Some("AnalogRegression") => GardModelType::AnalogRegression,
            Some("PureAnalog") => GardModelType::PureAnalog,
            _ => GardModelType::PureRegression,
        };
        let kind = match option("kind").and_then(Value::as_str) {
            Some("mean_analogs") => AnalogKindName::MeanAnalogs,
            Some("weight_analogs") => AnalogKindName::WeightAnalogs,
            Some("sample_analogs") => AnalogKindName::SampleAnalogs,
            _ => AnalogKindName::BestAnalog,
        };
        let logistic = option("logistic_kwargs").and_then(Value::as_object);
        let occurrence = match logistic.and_then(|kwargs| kwargs.get("penalty")) {
            Some(Value::Null) => OccurrenceModel::Unregularised,
            Some(Value::String(penalty)) if penalty == "none" => OccurrenceModel::Unregularised,
            _ => OccurrenceModel::Penalised {
                c: logistic.and_then(|kwargs| kwargs.get("C")).and_then(|c| loose::number(c).ok()).unwrap_or(1.0),
            },
        };
        GardModel {
            model_type,
            thresh: option("thresh").filter(|v| !v.is_null()).and_then(|v| loose::number(v).ok()),
            n_analogs: option("n_analogs")
                .and_then(|v| loose::integer(v).ok())
                .and_then(|n| usize::try_from(n).ok())
                .unwrap_or(DEFAULT_N_ANALOGS),
            kind,
            normalised_distance: option("analog_distance").and_then(Value::as_str) == Some("normalised"),
            occurrence,
        }
    }

    /// How `feature` is corrected: the file's `bias_correction_method` with the feature's options. `None` for a
    /// correction GARD's flow does not run (the caller refuses the file, naming the key).
    pub fn predictor_correction(&self, feature: &str) -> Option<PredictorCorrection> {
        match self.bias_correction_method.as_deref().and_then(BiasCorrectionKind::parse)? {
            BiasCorrectionKind::QuantileMapper => Some(PredictorCorrection::QuantileMapper {
                detrend: self
                    .bias_correction_kwargs
                    .as_ref()
                    .and_then(|kwargs| kwargs.detrend(feature))
                    .unwrap_or(false),
            }),
            BiasCorrectionKind::NoCorrection => Some(PredictorCorrection::None),
            _ => None,
        }
    }
}
