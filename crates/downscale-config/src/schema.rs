//! Which keys exist, derived from the built-in defaults, and the checks that
//! catch unknown keys with a "did you mean" suggestion.
//!
//! The defaults tree is the single list of keys: a mapping in it is a fixed
//! section whose keys are checked, an empty mapping is a free-form map
//! (object-store options), and anything else is a leaf whose type the typed
//! [`Settings`](crate::Settings) checks.

use std::collections::BTreeMap;

use figment::value::{Dict, Value};

use crate::tree::{TreeError, join};
use downscale_message::escape_controls;

/// One node of the key schema.
#[derive(Debug, Clone)]
pub(crate) enum Node {
    Section(BTreeMap<String, Node>),
    FreeMap,
    Leaf,
}

/// The tree of valid keys.
#[derive(Debug, Clone)]
pub(crate) struct Schema {
    root: BTreeMap<String, Node>,
}

/// An unknown key and the nearest valid one, if any is close.
#[derive(Debug)]
pub(crate) struct UnknownKey {
    pub key: String,
    pub suggestion: Option<String>,
}

/// What a layer's tree may get wrong before types are looked at.
#[derive(Debug)]
pub(crate) enum ShapeError {
    Unknown(UnknownKey),
    NotASection(TreeError),
}

impl Schema {
    pub(crate) fn from_defaults(defaults: &Dict) -> Schema {
        Schema { root: section(defaults) }
    }

    /// Whether `segment` is a top-level key; environment variables whose first
    /// segment is not are left to other tools.
    pub(crate) fn is_top_level(&self, segment: &str) -> bool {
        self.root.contains_key(segment)
    }

    /// The top-level keys, for suggesting one to a stray environment variable.
    pub(crate) fn top_level(&self) -> impl Iterator<Item = &str> {
        self.root.keys().map(String::as_str)
    }

    /// The schema node at dotted `key`, if the key exists.
    pub(crate) fn node(&self, key: &str) -> Option<&Node> {
        let mut segments = key.split('.');
        let mut node = self.root.get(segments.next()?)?;
        for segment in segments {
            match node {
                Node::Section(children) => node = children.get(segment)?,
                Node::FreeMap | Node::Leaf => return None,
            }
        }
        Some(node)
    }

    /// Checks every key of `tree`; types are left to the typed settings.
    pub(crate) fn check(&self, tree: &Dict) -> Result<(), ShapeError> {
        self.check_section(&self.root, tree, "")
    }

    fn check_section(&self, known: &BTreeMap<String, Node>, tree: &Dict, at: &str) -> Result<(), ShapeError> {
        for (segment, value) in tree {
            let key = join(at, segment);
            match known.get(segment) {
                None => return Err(ShapeError::Unknown(self.unknown(&key))),
                Some(Node::Section(children)) => match value {
                    Value::Dict(_, dict) => self.check_section(children, dict, &key)?,
                    _ => {
                        let problem = "expected a mapping of keys".to_owned();
                        return Err(ShapeError::NotASection(TreeError { key, problem }));
                    }
                },
                Some(Node::FreeMap | Node::Leaf) => {}
            }
        }
        Ok(())
    }

    /// Builds the unknown-key report for `key`, with the nearest valid key.
    pub(crate) fn unknown(&self, key: &str) -> UnknownKey {
        UnknownKey { key: escape_controls(key), suggestion: self.suggest(key) }
    }

    /// The valid key nearest to `key`: first by the whole dotted path (a typo),
    /// then by the last segment alone (a key put in the wrong section, such as
    /// a top-level `use_cache`).
    fn suggest(&self, key: &str) -> Option<String> {
        let mut all = Vec::new();
        collect_keys(&self.root, "", &mut all);
        closest(key, all.iter().map(String::as_str)).map(str::to_owned).or_else(|| {
            let last = key.rsplit('.').next().unwrap_or(key);
            let by_last = all.iter().filter_map(|k| Some((k.rsplit('.').next()?, k.as_str())));
            let mut best: Option<(usize, &str)> = None;
            for (segment, full) in by_last {
                let distance = strsim::damerau_levenshtein(last, segment);
                if distance <= tolerance(segment) && best.is_none_or(|(d, _)| distance < d) {
                    best = Some((distance, full));
                }
            }
            best.map(|(_, full)| full.to_owned())
        })
    }
}

/// The candidate closest to `word` by edit distance, if within tolerance.
pub(crate) fn closest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    candidates
        .into_iter()
        .map(|candidate| (strsim::damerau_levenshtein(word, candidate), candidate))
        .filter(|(distance, candidate)| *distance <= tolerance(candidate))
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, candidate)| candidate)
}

/// Edits allowed before a suggestion stops being helpful: one per three
/// characters, at least one.
fn tolerance(candidate: &str) -> usize {
    (candidate.chars().count() / 3).max(1)
}

fn section(dict: &Dict) -> BTreeMap<String, Node> {
    dict.iter()
        .map(|(key, value)| {
            let node = match value {
                Value::Dict(_, children) if children.is_empty() => Node::FreeMap,
                Value::Dict(_, children) => Node::Section(section(children)),
                _ => Node::Leaf,
            };
            (key.clone(), node)
        })
        .collect()
}

fn collect_keys(known: &BTreeMap<String, Node>, at: &str, out: &mut Vec<String>) {
    for (segment, node) in known {
        let key = join(at, segment);
        if let Node::Section(children) = node {
            collect_keys(children, &key, out);
        }
        out.push(key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tree::parse_document;

    fn schema() -> Schema {
        Schema::from_defaults(&parse_document("a:\n  use_cache: true\n  opts: {}\nrunner: 1\n").unwrap())
    }

    fn unknown(yaml: &str) -> UnknownKey {
        match schema().check(&parse_document(yaml).unwrap()) {
            Err(ShapeError::Unknown(unknown)) => unknown,
            other => panic!("expected an unknown key, got {other:?}"),
        }
    }

    #[test]
    fn suggests_typos_and_misplaced_keys() {
        let typo = unknown("a:\n  use_cahce: false\n");
        assert_eq!((typo.key.as_str(), typo.suggestion.as_deref()), ("a.use_cahce", Some("a.use_cache")));
        let misplaced = unknown("use_cache: false\n");
        assert_eq!(misplaced.suggestion.as_deref(), Some("a.use_cache"));
        assert_eq!(unknown("zzzzzzzz: 1\n").suggestion, None);
    }

    #[test]
    fn free_maps_accept_any_key_and_sections_need_mappings() {
        assert!(schema().check(&parse_document("a:\n  opts:\n    anything: x\n").unwrap()).is_ok());
        assert!(matches!(schema().check(&parse_document("a: 1\n").unwrap()), Err(ShapeError::NotASection(_))));
        assert!(schema().is_top_level("runner") && !schema().is_top_level("use_cache"));
        assert!(matches!(schema().node("a.opts"), Some(Node::FreeMap)));
        assert!(matches!(schema().node("a"), Some(Node::Section(_))));
        assert!(matches!(schema().node("a.use_cache"), Some(Node::Leaf)));
        assert!(schema().node("a.opts.x").is_none() && schema().node("a.nope").is_none());
    }
}
