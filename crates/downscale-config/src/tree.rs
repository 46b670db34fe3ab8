//! Configuration trees: YAML documents and `key=value` assignments turned into
//! figment values with normalised keys.
//!
//! YAML is parsed with `yaml_serde` and converted here, rather than through
//! figment's own YAML support, so that every layer goes through one place that
//! normalises keys (`-` becomes `_`), rejects keys that could not be addressed
//! by a dotted path, and reports problems with the dotted key they occur at.

use figment::value::{Dict, Empty, Num, Tag, Value};

use crate::depth::{MAX_DEPTH, too_deep_at};

/// A problem inside one tree, at a dotted key (empty for the whole document).
#[derive(Debug)]
pub(crate) struct TreeError {
    pub key: String,
    pub problem: String,
}

/// Normalises one key segment: `-` and `_` are the same character in keys.
pub(crate) fn normalise_segment(segment: &str) -> String {
    segment.replace('-', "_")
}

/// Normalises a dotted key as given to a lookup or `--set`.
pub(crate) fn normalise_key(key: &str) -> String {
    key.trim().split('.').map(normalise_segment).collect::<Vec<_>>().join(".")
}

/// Parses a whole YAML document; an empty document is an empty tree.
pub(crate) fn parse_document(text: &str) -> Result<Dict, TreeError> {
    bounded_depth(text)?;
    let parsed: yaml_serde::Value = yaml_serde::from_str(text).map_err(yaml_error)?;
    match parsed {
        yaml_serde::Value::Null => Ok(Dict::new()),
        yaml_serde::Value::Mapping(mapping) => convert_mapping(mapping, ""),
        other => Err(TreeError {
            key: String::new(),
            problem: format!("expected a mapping of keys at the top of the document, found {}", kind_of(&other)),
        }),
    }
}

/// Refuses text nesting deeper than [`MAX_DEPTH`] before the parser spends its time on it (see `depth`).
fn bounded_depth(text: &str) -> Result<(), TreeError> {
    match too_deep_at(text, MAX_DEPTH) {
        None => Ok(()),
        Some(line) => Err(TreeError {
            key: String::new(),
            problem: format!(
                "nested more than {MAX_DEPTH} levels deep at line {line}; configuration needs a few levels"
            ),
        }),
    }
}

/// Some libyaml messages carry their position and some do not; every YAML
/// error should say where, so the position is added when it is missing.
fn yaml_error(error: yaml_serde::Error) -> TreeError {
    let message = error.to_string();
    let problem = match error.location() {
        Some(at) if !message.contains(" line ") => {
            format!("invalid YAML: {message} at line {} column {}", at.line(), at.column())
        }
        _ => format!("invalid YAML: {message}"),
    };
    TreeError { key: String::new(), problem }
}

/// Reads an environment or `--set` value the way donfig does: YAML scalars
/// (`8`, `true`, `null`, `1.5`) and flow collections (`[a, b]`, `{k: v}`) are
/// typed; anything else is the text exactly as given. Keeping plain text
/// verbatim matters for secrets, which YAML would otherwise mangle: `a #b`
/// would lose its "comment" and `&x y` its "anchor". Quoting (`'8'`) forces
/// a string.
pub(crate) fn parse_scalar(raw: &str, key: &str) -> Result<Value, TreeError> {
    let verbatim = || Value::String(Tag::Default, raw.to_owned());
    let trimmed = raw.trim_start();
    bounded_depth(raw).map_err(|e| TreeError { key: key.to_owned(), ..e })?;
    let Ok(parsed) = yaml_serde::from_str::<yaml_serde::Value>(raw) else {
        return Ok(verbatim());
    };
    match parsed {
        yaml_serde::Value::Null | yaml_serde::Value::Bool(_) | yaml_serde::Value::Number(_) => convert(parsed, key),
        yaml_serde::Value::Sequence(_) if trimmed.starts_with('[') => convert(parsed, key),
        yaml_serde::Value::Mapping(_) if trimmed.starts_with('{') => convert(parsed, key),
        yaml_serde::Value::String(text) if trimmed.starts_with(['\'', '"']) => Ok(Value::String(Tag::Default, text)),
        _ => Ok(verbatim()),
    }
}

/// Builds the tree `{a: {b: value}}` for the key segments `[a, b]`.
pub(crate) fn nest(segments: &[String], value: Value) -> Dict {
    let mut current = value;
    for segment in segments.iter().skip(1).rev() {
        current = Value::Dict(Tag::Default, Dict::from([(segment.clone(), current)]));
    }
    segments.first().map(|first| Dict::from([(first.clone(), current)])).unwrap_or_default()
}

/// Checks that a split key has no empty segment (`a..b`, trailing `__`).
pub(crate) fn check_segments(segments: &[String], shown: &str) -> Result<(), String> {
    if segments.iter().any(|s| s.is_empty()) {
        return Err(format!("`{shown}` is not a valid key: it has an empty segment"));
    }
    Ok(())
}

fn convert_mapping(mapping: yaml_serde::Mapping, at: &str) -> Result<Dict, TreeError> {
    let mut dict = Dict::new();
    for (raw_key, value) in mapping {
        let yaml_serde::Value::String(raw_key) = raw_key else {
            return Err(TreeError {
                key: at.to_owned(),
                problem: format!("mapping keys must be strings, found {}", kind_of(&raw_key)),
            });
        };
        let segment = normalise_segment(&raw_key);
        let key = join(at, &segment);
        if segment.is_empty() || segment.contains('.') {
            let problem = format!("`{raw_key}` is not a valid key: keys are non-empty and nest instead of using dots");
            return Err(TreeError { key: at.to_owned(), problem });
        }
        if dict.contains_key(&segment) {
            let problem = "given twice (`-` and `_` are the same in keys)".to_owned();
            return Err(TreeError { key, problem });
        }
        let converted = convert(value, &key)?;
        dict.insert(segment, converted);
    }
    Ok(dict)
}

fn convert(value: yaml_serde::Value, key: &str) -> Result<Value, TreeError> {
    let tag = Tag::Default;
    Ok(match value {
        yaml_serde::Value::Null => Value::Empty(tag, Empty::None),
        yaml_serde::Value::Bool(b) => Value::Bool(tag, b),
        yaml_serde::Value::Number(n) => Value::Num(
            tag,
            match (n.as_u64(), n.as_i64()) {
                (Some(u), _) => Num::U64(u),
                (None, Some(i)) => Num::I64(i),
                _ => Num::F64(n.as_f64().unwrap_or(f64::NAN)),
            },
        ),
        yaml_serde::Value::String(s) => Value::String(tag, s),
        yaml_serde::Value::Sequence(items) => {
            Value::Array(tag, items.into_iter().map(|item| convert(item, key)).collect::<Result<_, _>>()?)
        }
        yaml_serde::Value::Mapping(mapping) => Value::Dict(tag, convert_mapping(mapping, key)?),
        yaml_serde::Value::Tagged(tagged) => {
            let problem = format!("YAML tags such as `{}` are not supported", tagged.tag);
            return Err(TreeError { key: key.to_owned(), problem });
        }
    })
}

fn kind_of(value: &yaml_serde::Value) -> &'static str {
    match value {
        yaml_serde::Value::Null => "null",
        yaml_serde::Value::Bool(_) => "a boolean",
        yaml_serde::Value::Number(_) => "a number",
        yaml_serde::Value::String(_) => "a string",
        yaml_serde::Value::Sequence(_) => "a list",
        yaml_serde::Value::Mapping(_) => "a mapping",
        yaml_serde::Value::Tagged(_) => "a tagged value",
    }
}

/// `a.b` + `c` → `a.b.c`; the empty prefix is the root.
pub(crate) fn join(prefix: &str, segment: &str) -> String {
    if prefix.is_empty() { segment.to_owned() } else { format!("{prefix}.{segment}") }
}

/// A figment value as JSON, for display. Non-finite floats, which JSON cannot
/// hold, are shown as their text.
pub(crate) fn to_json(value: &Value) -> serde_json::Value {
    use serde_json::Value as Json;
    match value {
        Value::String(_, s) => Json::String(s.clone()),
        Value::Char(_, c) => Json::String(c.to_string()),
        Value::Bool(_, b) => Json::Bool(*b),
        Value::Num(_, n) => num_to_json(n),
        Value::Empty(..) => Json::Null,
        Value::Dict(_, dict) => Json::Object(dict.iter().map(|(k, v)| (k.clone(), to_json(v))).collect()),
        Value::Array(_, items) => Json::Array(items.iter().map(to_json).collect()),
    }
}

fn num_to_json(n: &Num) -> serde_json::Value {
    if let Some(u) = n.to_u128().and_then(|u| u64::try_from(u).ok()) {
        return u.into();
    }
    if let Some(i) = n.to_i128().and_then(|i| i64::try_from(i).ok()) {
        return i.into();
    }
    let f = n.to_f64().unwrap_or(f64::NAN);
    serde_json::Number::from_f64(f).map_or_else(|| serde_json::Value::String(f.to_string()), serde_json::Value::Number)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scalar(raw: &str) -> serde_json::Value {
        to_json(&parse_scalar(raw, "k").expect(raw))
    }

    #[test]
    fn scalars_are_typed_like_yaml_and_other_text_kept_verbatim() {
        assert_eq!(scalar("8"), serde_json::json!(8));
        assert_eq!(scalar("-3"), serde_json::json!(-3));
        assert_eq!(scalar("false"), serde_json::json!(false));
        assert_eq!(scalar("null"), serde_json::Value::Null);
        assert_eq!(scalar("[a, b]"), serde_json::json!(["a", "b"]));
        assert_eq!(scalar("{a-b: 1}"), serde_json::json!({"a_b": 1}));
        assert_eq!(scalar("'8'"), serde_json::json!("8"));
        assert_eq!(scalar("pa ss #word"), serde_json::json!("pa ss #word"));
        assert_eq!(scalar("&anchor value"), serde_json::json!("&anchor value"));
        assert_eq!(scalar("a: b"), serde_json::json!("a: b"));
        assert_eq!(scalar("[unclosed"), serde_json::json!("[unclosed"));
        assert_eq!(scalar("02:00:00"), serde_json::json!("02:00:00"));
    }

    #[test]
    fn documents_normalise_keys_and_reject_ambiguous_ones() {
        let dict = parse_document("run-options:\n  use-cache: false\n").unwrap();
        assert_eq!(to_json(&Value::from(dict)), serde_json::json!({"run_options": {"use_cache": false}}));
        assert!(parse_document("").unwrap().is_empty());
        let twice = parse_document("a:\n  b-c: 1\n  b_c: 2\n").unwrap_err();
        assert_eq!(twice.key, "a.b_c");
        assert!(parse_document("a.b: 1").unwrap_err().problem.contains("dots"));
        assert!(parse_document("1: x").unwrap_err().problem.contains("keys must be strings"));
        assert!(parse_document("- a").unwrap_err().problem.contains("top of the document"));
        assert!(parse_document("a: !custom 1").unwrap_err().problem.contains("tags"));
    }

    #[test]
    fn yaml_syntax_errors_name_the_line() {
        for (text, line) in [("a: 1\nb: [\n", "line 3"), ("a: 1\n\tb: 2\n", "line 2")] {
            let error = parse_document(text).unwrap_err();
            assert!(error.problem.starts_with("invalid YAML"), "{}", error.problem);
            assert!(error.problem.contains(line), "{}", error.problem);
        }
    }

    #[test]
    fn nest_builds_a_path() {
        let dict = nest(&["a".into(), "b".into()], Value::from(1u64));
        assert_eq!(to_json(&Value::from(dict)), serde_json::json!({"a": {"b": 1}}));
    }
}
