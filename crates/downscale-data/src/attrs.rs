//! CF attributes: the small set of value kinds NetCDF and Zarr attributes actually take.

use std::collections::BTreeMap;

/// One attribute value. NetCDF has a dozen numeric types; after decoding only "text", "number" and "list of
/// numbers" matter, and keeping the set this small lets NetCDF, Zarr v2 and Zarr v3 attributes compare equal.
#[derive(Debug, Clone, PartialEq)]
pub enum AttrValue {
    /// Text: a NetCDF char array or string, a Zarr string.
    Text(String),
    /// One number, whatever its stored type.
    Number(f64),
    /// Several numbers (`valid_range`, `flag_values`).
    Numbers(Vec<f64>),
    /// Several strings (Zarr lists; NetCDF string arrays).
    Texts(Vec<String>),
}

/// Attributes keyed by name (sorted, so two files with the same attributes print and hash the same).
pub type Attributes = BTreeMap<String, AttrValue>;

impl AttrValue {
    /// The string, when the value is one.
    pub fn as_text(&self) -> Option<&str> {
        match self {
            AttrValue::Text(s) => Some(s),
            _ => None,
        }
    }

    /// A single number, also from a one-element list (NetCDF stores scalars as length-1 arrays).
    pub fn as_number(&self) -> Option<f64> {
        match self {
            AttrValue::Number(x) => Some(*x),
            AttrValue::Numbers(v) if v.len() == 1 => Some(v[0]),
            _ => None,
        }
    }

    /// The value as Zarr metadata writes it: integral numbers as integers, NaN and infinities as zarr-python's
    /// strings.
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value;
        let number = |x: f64| {
            // JSON has no NaN or infinities; zarr-python spells them as strings, and so do we.
            if x.is_finite() {
                if x.fract() == 0.0 && x.abs() < 9.0e15 { Value::from(x as i64) } else { Value::from(x) }
            } else if x.is_nan() {
                Value::from("NaN")
            } else if x > 0.0 {
                Value::from("Infinity")
            } else {
                Value::from("-Infinity")
            }
        };
        match self {
            AttrValue::Text(s) => Value::from(s.as_str()),
            AttrValue::Number(x) => number(*x),
            AttrValue::Numbers(v) => Value::Array(v.iter().map(|x| number(*x)).collect()),
            AttrValue::Texts(v) => Value::Array(v.iter().map(|s| Value::from(s.as_str())).collect()),
        }
    }

    /// From a Zarr attribute; `None` for values that are not plain CF attributes (objects, mixed lists).
    pub fn from_json(value: &serde_json::Value) -> Option<Self> {
        use serde_json::Value;
        let number = |v: &Value| match v {
            Value::Number(n) => n.as_f64(),
            Value::String(s) => match s.as_str() {
                "NaN" => Some(f64::NAN),
                "Infinity" => Some(f64::INFINITY),
                "-Infinity" => Some(f64::NEG_INFINITY),
                _ => None,
            },
            Value::Bool(b) => Some(f64::from(u8::from(*b))),
            _ => None,
        };
        match value {
            Value::String(s) => Some(AttrValue::Text(s.clone())),
            Value::Number(_) | Value::Bool(_) => number(value).map(AttrValue::Number),
            Value::Array(items) => {
                if items.iter().all(Value::is_string) {
                    Some(AttrValue::Texts(items.iter().filter_map(|v| v.as_str().map(str::to_string)).collect()))
                } else {
                    items.iter().map(number).collect::<Option<Vec<_>>>().map(AttrValue::Numbers)
                }
            }
            _ => None,
        }
    }
}

impl std::fmt::Display for AttrValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AttrValue::Text(s) => write!(f, "{s}"),
            AttrValue::Number(x) => write!(f, "{x}"),
            AttrValue::Numbers(v) => {
                let parts: Vec<String> = v.iter().map(|x| x.to_string()).collect();
                write!(f, "{}", parts.join(", "))
            }
            AttrValue::Texts(v) => write!(f, "{}", v.join(", ")),
        }
    }
}
