//! Cache keys: what determines a task's output, hashed.
//!
//! A key covers the task's name and version, its semantic parameters and the keys of its inputs, so keys chain
//! through the graph like a Merkle tree: changing one parameter changes the keys of exactly the tasks downstream of
//! it. Nothing else goes in, deliberately: not the package version (a release that does not touch a task keeps its
//! cache) and not a path (moving the storage root keeps the cache). A task whose algorithm changes bumps its version.

use std::collections::BTreeMap;
use std::fmt;

use blake2::digest::consts::U16;
use blake2::{Blake2b, Digest};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// 16 bytes of BLAKE2b as 32 hex digits: short enough for paths, long enough that collisions never happen.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct CacheKey(String);

impl CacheKey {
    /// The key of task `name` at `version` with `params`, the keys of its inputs by role and the identities of
    /// the external data it reads by role.
    pub fn of(
        name: &str,
        version: u32,
        params: &Value,
        inputs: &[(String, CacheKey)],
        external: &BTreeMap<&str, &Value>,
    ) -> CacheKey {
        let mut inputs: Vec<(&str, &str)> = inputs.iter().map(|(role, key)| (role.as_str(), key.0.as_str())).collect();
        inputs.sort();
        let mut document = serde_json::json!({
            "task": name,
            "version": version,
            "params": canonical(params),
            "inputs": inputs,
        });
        // Only tasks that read external data carry the entry, so the keys of the others are what they were.
        if !external.is_empty() {
            let identities: serde_json::Map<String, Value> =
                external.iter().map(|(role, identity)| (role.to_string(), canonical(identity))).collect();
            document["external"] = Value::Object(identities);
        }
        let mut hasher = Blake2b::<U16>::new();
        hasher.update(document.to_string().as_bytes());
        CacheKey(hasher.finalize().iter().map(|byte| format!("{byte:02x}")).collect())
    }

    /// The key in hex, as folder names and records hold it.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for CacheKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// `value` with every object's keys sorted, so that the order parameters were written in never changes a key.
pub fn canonical(value: &Value) -> Value {
    match value {
        Value::Object(map) => {
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            entries.sort_by(|a, b| a.0.cmp(b.0));
            Value::Object(entries.into_iter().map(|(k, v)| (k.clone(), canonical(v))).collect())
        }
        Value::Array(items) => Value::Array(items.iter().map(canonical).collect()),
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn key(params: Value, inputs: &[(&str, &CacheKey)]) -> CacheKey {
        let inputs: Vec<(String, CacheKey)> = inputs.iter().map(|(r, k)| (r.to_string(), (*k).clone())).collect();
        CacheKey::of("regrid", 1, &params, &inputs, &BTreeMap::new())
    }

    #[test]
    fn key_order_of_parameters_and_inputs_does_not_matter() {
        let a = CacheKey::of("a", 1, &json!({}), &[], &BTreeMap::new());
        let b = CacheKey::of("b", 1, &json!({}), &[], &BTreeMap::new());
        let one: Value = serde_json::from_str(r#"{"x": 1, "y": {"p": [1, 2], "q": "s"}}"#).unwrap();
        let two: Value = serde_json::from_str(r#"{"y": {"q": "s", "p": [1, 2]}, "x": 1}"#).unwrap();
        assert_eq!(key(one.clone(), &[("s", &a), ("t", &b)]), key(two, &[("t", &b), ("s", &a)]));
        assert_eq!(key(one.clone(), &[]).as_str().len(), 32);
    }

    #[test]
    fn every_part_changes_the_key() {
        let a = CacheKey::of("a", 1, &json!({}), &[], &BTreeMap::new());
        let b = CacheKey::of("b", 1, &json!({}), &[], &BTreeMap::new());
        let base = key(json!({"x": 1}), &[("s", &a)]);
        assert_ne!(base, key(json!({"x": 2}), &[("s", &a)]));
        assert_ne!(base, key(json!({"x": 1}), &[("s", &b)]));
        assert_ne!(base, key(json!({"x": 1}), &[("t", &a)]));
        assert_ne!(base, CacheKey::of("regrid", 2, &json!({"x": 1}), &[("s".into(), a.clone())], &BTreeMap::new()));
        assert_ne!(base, CacheKey::of("coarsen", 1, &json!({"x": 1}), &[("s".into(), a)], &BTreeMap::new()));
    }
}
