//! Reading the loose types the original's parameter files use: numbers and years written as strings, booleans
//! written as `"True"`/`"False"` or `0`/`1`.

use serde_json::Value;

/// A short description of a JSON value's type, for "expected X, found Y" messages.
pub(crate) fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

/// The text Python's `str()` gives for a JSON value, which is what the original put into run ids
/// (`f"{self.latmin}"` of whatever the file held).
pub fn python_str(value: &Value) -> String {
    match value {
        Value::Null => "None".to_owned(),
        Value::Bool(true) => "True".to_owned(),
        Value::Bool(false) => "False".to_owned(),
        Value::String(text) => text.clone(),
        Value::Number(number) => match (number.as_i64(), number.as_u64(), number.as_f64()) {
            (Some(i), _, _) => i.to_string(),
            (None, Some(u), _) => u.to_string(),
            (None, None, Some(f)) => python_float_repr(f),
            _ => number.to_string(),
        },
        Value::Array(_) | Value::Object(_) => value.to_string(),
    }
}

/// Python's `repr` of a float: the shortest digits that round-trip (as Rust's `{:e}` gives them), written in fixed
/// notation with at least one decimal when the decimal exponent is in -4..16, and as `d.ddde±XX` otherwise.
fn python_float_repr(value: f64) -> String {
    if !value.is_finite() {
        return if value.is_nan() {
            "nan".into()
        } else if value > 0.0 {
            "inf".into()
        } else {
            "-inf".into()
        };
    }
    let scientific = format!("{value:e}");
    let (mantissa, exponent) = scientific.split_once('e').expect("`{:e}` always writes an exponent");
    let exponent: i32 = exponent.parse().expect("`{:e}` writes an integer exponent");
    let (sign, mantissa) = mantissa.strip_prefix('-').map_or(("", mantissa), |m| ("-", m));
    let digits: String = mantissa.chars().filter(|c| *c != '.').collect();
    if (-4..16).contains(&exponent) {
        let point = exponent + 1;
        let text = if point <= 0 {
            format!("0.{}{digits}", "0".repeat((-point) as usize))
        } else if point as usize >= digits.len() {
            format!("{digits}{}.0", "0".repeat(point as usize - digits.len()))
        } else {
            format!("{}.{}", &digits[..point as usize], &digits[point as usize..])
        };
        format!("{sign}{text}")
    } else {
        let fraction = if digits.len() > 1 { format!(".{}", &digits[1..]) } else { String::new() };
        let exponent_sign = if exponent < 0 { '-' } else { '+' };
        format!("{sign}{}{fraction}e{exponent_sign}{:02}", &digits[..1], exponent.abs())
    }
}

/// A number written as a JSON number or a numeric string.
pub(crate) fn number(value: &Value) -> Result<f64, String> {
    let parsed = match value {
        Value::Number(n) => n.as_f64(),
        Value::String(text) => text.trim().parse::<f64>().ok(),
        _ => None,
    };
    match parsed {
        Some(x) if x.is_finite() => Ok(x),
        _ => Err(format!("expected a number (as a number or a string like \"-90\"), found {}", describe(value))),
    }
}

/// A whole number written as a JSON integer or an integer string.
pub(crate) fn integer(value: &Value) -> Result<i64, String> {
    let parsed = match value {
        Value::Number(n) => {
            n.as_i64().or_else(|| n.as_f64().filter(|f| f.fract() == 0.0 && f.abs() < 1e15).map(|f| f as i64))
        }
        Value::String(text) => text.trim().parse::<i64>().ok(),
        _ => None,
    };
    parsed.ok_or_else(|| format!("expected a whole number, found {}", describe(value)))
}

/// A boolean written as `true`/`false`, `"True"`/`"False"` (any case) or `0`/`1`, as the original's files do.
pub(crate) fn boolean(value: &Value) -> Result<bool, String> {
    let parsed = match value {
        Value::Bool(b) => Some(*b),
        Value::Number(n) => match n.as_i64() {
            Some(0) => Some(false),
            Some(1) => Some(true),
            _ => None,
        },
        Value::String(text) => match text.trim().to_ascii_lowercase().as_str() {
            "true" => Some(true),
            "false" => Some(false),
            _ => None,
        },
        _ => None,
    };
    parsed
        .ok_or_else(|| format!("expected a boolean (true/false, \"True\"/\"False\" or 0/1), found {}", describe(value)))
}

/// A non-empty string.
pub(crate) fn text(value: &Value) -> Result<&str, String> {
    match value {
        Value::String(text) if !text.trim().is_empty() => Ok(text),
        Value::String(_) => Err("expected a non-empty string".to_owned()),
        other => Err(format!("expected a string, found {}", kind_of(other))),
    }
}

/// A value shown in a message: its kind, and the value itself when it is short.
pub(crate) fn describe(value: &Value) -> String {
    let shown = value.to_string();
    if shown.chars().count() <= 40 { format!("{} {shown}", kind_of(value)) } else { kind_of(value).to_owned() }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn floats_print_as_python_does() {
        for (value, python) in [
            (90.0, "90.0"),
            (-90.5, "-90.5"),
            (0.1, "0.1"),
            (1e-5, "1e-05"),
            (0.0001, "0.0001"),
            (1e16, "1e+16"),
            (1.5e16, "1.5e+16"),
            (123456789012345.6, "123456789012345.6"),
            (-0.0, "-0.0"),
            (2.5e-7, "2.5e-07"),
        ] {
            assert_eq!(python_float_repr(value), python, "{value}");
        }
        assert_eq!(python_str(&json!(-90)), "-90");
        assert_eq!(python_str(&json!("-90")), "-90");
        assert_eq!(python_str(&json!(true)), "True");
    }

    #[test]
    fn loose_booleans_and_numbers() {
        for (value, expected) in
            [(json!("False"), false), (json!("true"), true), (json!(1), true), (json!(false), false)]
        {
            assert_eq!(boolean(&value), Ok(expected), "{value}");
        }
        assert!(boolean(&json!("yes")).is_err());
        assert!(boolean(&json!(2)).is_err());
        assert_eq!(number(&json!(" -90 ")), Ok(-90.0));
        assert!(number(&json!("north")).is_err());
        assert!(number(&json!("NaN")).is_err());
        assert_eq!(integer(&json!("31")), Ok(31));
        assert!(integer(&json!(31.5)).is_err());
    }
}
