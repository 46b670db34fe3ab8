//! Missing numbers in the evaluation's JSON: a NaN (a statistic a cell or a product does not have) is written as
//! `null`, as serde_json writes any non-finite number, and read back as NaN, so an evaluation written by one task
//! can be read by the next (the report).

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// One number.
pub(crate) mod number {
    use super::*;

    pub(crate) fn serialize<S: Serializer>(value: &f64, serializer: S) -> Result<S::Ok, S::Error> {
        value.is_finite().then_some(*value).serialize(serializer)
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<f64, D::Error> {
        Ok(Option::<f64>::deserialize(deserializer)?.unwrap_or(f64::NAN))
    }
}

/// Rows of numbers (a map's values).
pub(crate) mod rows {
    use super::*;

    pub(crate) fn serialize<S: Serializer>(rows: &[Vec<f64>], serializer: S) -> Result<S::Ok, S::Error> {
        let rows: Vec<Vec<Option<f64>>> =
            rows.iter().map(|row| row.iter().map(|v| v.is_finite().then_some(*v)).collect()).collect();
        rows.serialize(serializer)
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<Vec<f64>>, D::Error> {
        let rows = Vec::<Vec<Option<f64>>>::deserialize(deserializer)?;
        Ok(rows.into_iter().map(|row| row.into_iter().map(|v| v.unwrap_or(f64::NAN)).collect()).collect())
    }
}

/// Numbers by name.
pub(crate) mod by_name {
    use super::*;

    pub(crate) fn serialize<S: Serializer>(map: &BTreeMap<String, f64>, serializer: S) -> Result<S::Ok, S::Error> {
        let map: BTreeMap<&String, Option<f64>> = map.iter().map(|(k, v)| (k, v.is_finite().then_some(*v))).collect();
        map.serialize(serializer)
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<BTreeMap<String, f64>, D::Error> {
        let map = BTreeMap::<String, Option<f64>>::deserialize(deserializer)?;
        Ok(map.into_iter().map(|(k, v)| (k, v.unwrap_or(f64::NAN))).collect())
    }
}
