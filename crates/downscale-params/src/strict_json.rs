//! Parsing a parameter file's JSON strictly: a key given twice in one object is an error, not "the last wins".
//!
//! serde_json's `Value` keeps the last of duplicate keys without a word, so a file with two `"member"` entries
//! would run with one the user may not have meant. The document is built here instead, through the same parser,
//! remembering where the duplicate was. Nesting stays bounded by serde_json's recursion limit of 128 levels (the
//! workspace does not enable its `unbounded_depth` feature), which refuses a file of 100,000 nested `[` at once;
//! parameter files nest three levels.

use std::cell::RefCell;
use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};

/// Why a document could not be parsed.
pub(crate) enum JsonError {
    /// Not JSON (syntax, nesting deeper than 128 levels, ...).
    Syntax(serde_json::Error),
    /// The dotted `key` (e.g. `bias_correction_kwargs.pr.detrend`) is given twice, the second time at `line`.
    Duplicate { key: String, line: usize, column: usize },
}

/// Parses `text` into a document, refusing duplicate keys at any depth.
pub(crate) fn parse(text: &str) -> Result<Value, JsonError> {
    let duplicate = RefCell::new(None);
    let mut deserializer = serde_json::Deserializer::from_str(text);
    let parsed = StrictSeed { path: String::new(), duplicate: &duplicate }
        .deserialize(&mut deserializer)
        .and_then(|value| deserializer.end().map(|()| value));
    parsed.map_err(|error| match duplicate.into_inner() {
        Some(key) => JsonError::Duplicate { key, line: error.line(), column: error.column() },
        None => JsonError::Syntax(error),
    })
}

/// Builds a [`Value`] at `path`, recording the path of the first duplicate key in `duplicate`.
struct StrictSeed<'a> {
    path: String,
    duplicate: &'a RefCell<Option<String>>,
}

impl StrictSeed<'_> {
    fn child(&self, segment: &str) -> StrictSeed<'_> {
        let path = if self.path.is_empty() { segment.to_owned() } else { format!("{}.{segment}", self.path) };
        StrictSeed { path, duplicate: self.duplicate }
    }
}

impl<'de> DeserializeSeed<'de> for StrictSeed<'_> {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for StrictSeed<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E: de::Error>(self, value: bool) -> Result<Value, E> {
        Ok(Value::Bool(value))
    }

    fn visit_i64<E: de::Error>(self, value: i64) -> Result<Value, E> {
        Ok(Value::from(value))
    }

    fn visit_u64<E: de::Error>(self, value: u64) -> Result<Value, E> {
        Ok(Value::from(value))
    }

    fn visit_f64<E: de::Error>(self, value: f64) -> Result<Value, E> {
        Ok(Number::from_f64(value).map_or(Value::Null, Value::Number))
    }

    fn visit_str<E: de::Error>(self, value: &str) -> Result<Value, E> {
        Ok(Value::String(value.to_owned()))
    }

    fn visit_string<E: de::Error>(self, value: String) -> Result<Value, E> {
        Ok(Value::String(value))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element_seed(self.child_item(items.len()))? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut object = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            let child = self.child(&key);
            if object.contains_key(&key) {
                *self.duplicate.borrow_mut() = Some(child.path);
                return Err(de::Error::custom("duplicate key"));
            }
            let value = map.next_value_seed(child)?;
            object.insert(key, value);
        }
        Ok(Value::Object(object))
    }
}

impl StrictSeed<'_> {
    /// The seed of item `index` of a list at this path: `features[0]`.
    fn child_item(&self, index: usize) -> StrictSeed<'_> {
        StrictSeed { path: format!("{}[{index}]", self.path), duplicate: self.duplicate }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_parse_as_serde_json_would() {
        let text = r#"{"b": [1, -2, 2.5, "x", null, true], "a": {"c": {}}}"#;
        let strict = match parse(text) {
            Ok(value) => value,
            Err(_) => panic!("parses"),
        };
        assert_eq!(strict, serde_json::from_str::<Value>(text).unwrap());
        assert_eq!(strict.as_object().unwrap().keys().collect::<Vec<_>>(), ["b", "a"]);
    }

    #[test]
    fn duplicate_keys_are_found_at_any_depth() {
        for (text, path, line) in [
            ("{\"member\": \"r1i1p1\",\n\"member\": \"r2i1p1\"}", "member", 2),
            ("{\"k\": {\"pr\": {\"detrend\": 1, \"detrend\": 0}}}", "k.pr.detrend", 1),
            ("{\"f\": [{\"a\": 1}, {\"a\": 1, \"a\": 2}]}", "f[1].a", 1),
        ] {
            match parse(text) {
                Err(JsonError::Duplicate { key, line: at, .. }) => assert_eq!((key.as_str(), at), (path, line)),
                _ => panic!("{text}: expected a duplicate"),
            }
        }
    }

    #[test]
    fn nesting_is_bounded_by_the_parser() {
        let deep = "[".repeat(100_000);
        let started = std::time::Instant::now();
        match parse(&deep) {
            Err(JsonError::Syntax(error)) => assert!(error.to_string().contains("recursion limit exceeded")),
            _ => panic!("expected the recursion limit"),
        }
        assert!(started.elapsed().as_secs() < 1);
    }
}
