//! Damage to a Zarr store: its JSON metadata edited by hand or by a buggy writer, and its chunks lost, emptied, cut
//! short or corrupted by a failing copy.
//!
//! Files and fields are drawn as raw numbers and resolved against the store when applied (modulo the count of
//! candidates), so a mutation is plain data that can be printed and re-applied.

use std::path::Path;

use proptest::prelude::*;
use proptest::sample::select;
use serde_json::{Value, json};

/// Metadata fields whose damage matters most: the array geometry, the element type and its missing value, the
/// dimensions, the codecs, and the format markers.
const INTERESTING_KEYS: [&str; 24] = [
    "shape",
    "chunks",
    "chunk_shape",
    "chunk_grid",
    "dtype",
    "data_type",
    "fill_value",
    "dimension_names",
    "_ARRAY_DIMENSIONS",
    "compressor",
    "codecs",
    "filters",
    "order",
    "zarr_format",
    "node_type",
    "dimension_separator",
    "chunk_key_encoding",
    "units",
    "calendar",
    "_FillValue",
    "scale_factor",
    "add_offset",
    "missing_value",
    "coordinates",
];

/// Numbers no array can have as a length: empty, negative, beyond memory (1e12 as an integer and as a float, 2^62),
/// beyond u64, fractional, and a number written as a 400-digit string.
fn extreme_numbers() -> Vec<Value> {
    vec![
        json!(0),
        json!(-1),
        json!(1_000_000_000_000u64),
        json!(1e12),
        json!(1u64 << 62),
        json!(u64::MAX),
        json!(1.8446744073709552e19),
        json!(1u64 << 31),
        json!(1.5),
        json!("9".repeat(400)),
    ]
}

/// Values of the wrong kind or out of range for any field: extreme numbers, other types, element types of other
/// widths or that decoding cannot hold, broken codecs and chunk grids, and names with control characters.
fn hostile_values() -> Vec<Value> {
    let mut values = extreme_numbers();
    values.extend([
        Value::Null,
        json!(true),
        json!(""),
        json!("NaN"),
        json!("Infinity"),
        json!([]),
        json!({}),
        json!([0]),
        json!([1e12, 1e12, 1e12]),
        json!(["time", "time", "time"]),
        json!([null, 7]),
        json!(["\u{7}\n\u{1b}[31mred"]),
        json!("<f8"),
        json!("<i2"),
        json!(">f4"),
        json!("|S7"),
        json!("<U3"),
        json!("<M8[ns]"),
        json!("|b1"),
        json!("float16"),
        json!("complex64"),
        json!("string"),
        json!("r16"),
        json!("int64"),
        json!("uint8"),
        json!({"name": "no-such-type"}),
        json!({"id": "zlib", "level": 1}),
        json!({"id": "no-such-codec"}),
        json!({"id": "blosc", "cname": "nope", "clevel": 99, "shuffle": 7, "blocksize": 0}),
        json!([{"name": "bytes", "configuration": {"endian": "big"}}]),
        json!([{"name": "no-such-codec"}]),
        json!([{"name": "transpose", "configuration": {"order": [2, 1, 0]}}, {"name": "bytes"}]),
        json!({"name": "regular", "configuration": {"chunk_shape": [0]}}),
        json!(3),
        json!(2),
        json!("days since 10000000-01-01"),
        json!("noleap_but_not_really"),
    ]);
    values
}

#[derive(Debug, Clone)]
pub(crate) enum JsonBreakage {
    /// Cut the text before its closing bracket, at this fraction (per mille) of it.
    Cut(u16),
    Empty,
    TrailingGarbage,
    /// Nesting deeper than any parser's recursion limit.
    DeepNesting,
    /// A number of 10,000 digits instead of an object.
    HugeNumber,
    /// A byte that is not UTF-8 inside the text.
    NotUtf8,
}

#[derive(Debug, Clone)]
pub(crate) enum ChunkEdit {
    Delete,
    Empty,
    /// Keep this fraction (per mille) of the bytes, at least one byte fewer than all.
    Truncate(u16),
    /// XOR the byte at this fraction (per mille) of the chunk with a non-zero mask.
    Flip(u16, u8),
}

#[derive(Debug, Clone)]
pub(crate) enum StoreMutation {
    /// Put an extreme number in place of an element of a `shape`, `chunks` or `chunk_shape` list.
    Resize {
        file: usize,
        pick: usize,
        value: Value,
    },
    /// Replace any value (among the interesting fields, or anywhere) of a metadata document.
    Replace {
        file: usize,
        pick: usize,
        interesting: bool,
        value: Value,
    },
    DeleteKey {
        file: usize,
        pick: usize,
    },
    BreakJson {
        file: usize,
        how: JsonBreakage,
    },
    DeleteMetadata {
        file: usize,
    },
    Chunk {
        chunk: usize,
        edit: ChunkEdit,
    },
}

/// One mutation of a store.
pub(crate) fn strategy() -> impl Strategy<Value = StoreMutation> {
    let per_mille = 0..1000u16;
    let breakage = prop_oneof![
        per_mille.clone().prop_map(JsonBreakage::Cut),
        Just(JsonBreakage::Empty),
        Just(JsonBreakage::TrailingGarbage),
        Just(JsonBreakage::DeepNesting),
        Just(JsonBreakage::HugeNumber),
        Just(JsonBreakage::NotUtf8),
    ];
    let chunk_edit = prop_oneof![
        Just(ChunkEdit::Delete),
        Just(ChunkEdit::Empty),
        per_mille.clone().prop_map(ChunkEdit::Truncate),
        (per_mille, 1..=u8::MAX).prop_map(|(at, mask)| ChunkEdit::Flip(at, mask)),
    ];
    prop_oneof![
        3 => (any::<usize>(), any::<usize>(), select(extreme_numbers()))
            .prop_map(|(file, pick, value)| StoreMutation::Resize { file, pick, value }),
        4 => (any::<usize>(), any::<usize>(), prop::bool::weighted(0.8), select(hostile_values()))
            .prop_map(|(file, pick, interesting, value)| StoreMutation::Replace { file, pick, interesting, value }),
        1 => (any::<usize>(), any::<usize>()).prop_map(|(file, pick)| StoreMutation::DeleteKey { file, pick }),
        2 => (any::<usize>(), breakage).prop_map(|(file, how)| StoreMutation::BreakJson { file, how }),
        1 => any::<usize>().prop_map(|file| StoreMutation::DeleteMetadata { file }),
        3 => (any::<usize>(), chunk_edit).prop_map(|(chunk, edit)| StoreMutation::Chunk { chunk, edit }),
    ]
}

/// The files of a store, relative to its root and sorted: metadata documents and chunks.
#[derive(Debug, Clone)]
pub(crate) struct StoreFiles {
    pub metadata: Vec<String>,
    pub chunks: Vec<String>,
    /// A v3 root `zarr.json` holding every array's metadata, which readers use instead of the arrays' own documents.
    pub consolidated_v3: bool,
}

impl StoreFiles {
    pub(crate) fn list(root: &Path) -> StoreFiles {
        let mut files = Vec::new();
        let mut pending = vec![root.to_path_buf()];
        while let Some(dir) = pending.pop() {
            for path in std::fs::read_dir(&dir).unwrap().map(|entry| entry.unwrap().path()) {
                if path.is_dir() {
                    pending.push(path);
                } else {
                    files.push(path.strip_prefix(root).unwrap().to_string_lossy().to_string());
                }
            }
        }
        files.sort();
        let (metadata, chunks) = files.into_iter().partition(|f| is_metadata(f));
        let root = std::fs::read(root.join("zarr.json")).ok().and_then(|b| serde_json::from_slice::<Value>(&b).ok());
        let consolidated_v3 = root.is_some_and(|r| r.get("consolidated_metadata").is_some_and(|c| !c.is_null()));
        StoreFiles { metadata, chunks, consolidated_v3 }
    }
}

fn is_metadata(relative: &str) -> bool {
    let name = relative.rsplit('/').next().unwrap_or(relative);
    matches!(name, ".zarray" | ".zattrs" | ".zgroup" | ".zmetadata" | "zarr.json")
}

/// The array a store file belongs to (`None` for the root's files).
pub(crate) fn array_of(relative: &str) -> Option<&str> {
    relative.split_once('/').map(|(array, _)| array)
}

/// Where a metadata document stands: the root group's own, an array's definition, or attributes and consolidated
/// copies (whose loss leaves a readable store).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum MetadataRole {
    Root,
    Array,
    Other,
}

pub(crate) fn metadata_role(relative: &str) -> MetadataRole {
    match (array_of(relative), relative.rsplit('/').next().unwrap_or(relative)) {
        (None, ".zgroup" | "zarr.json") => MetadataRole::Root,
        (Some(_), ".zarray" | "zarr.json") => MetadataRole::Array,
        _ => MetadataRole::Other,
    }
}

/// One step of a path into a JSON document.
#[derive(Debug, Clone)]
enum Step {
    Key(String),
    Index(usize),
}

/// Every value's path in `value`, in document order, with whether it passes through an interesting key and whether
/// it is an element of a `shape`/`chunks`/`chunk_shape` list.
fn paths(value: &Value, prefix: &mut Vec<Step>, found: &mut Vec<(Vec<Step>, bool, bool)>) {
    let children: Vec<(Step, &Value)> = match value {
        Value::Object(map) => map.iter().map(|(k, v)| (Step::Key(k.clone()), v)).collect(),
        Value::Array(items) => items.iter().enumerate().map(|(i, v)| (Step::Index(i), v)).collect(),
        _ => Vec::new(),
    };
    for (step, child) in children {
        prefix.push(step);
        let interesting = prefix.iter().any(|s| matches!(s, Step::Key(k) if INTERESTING_KEYS.contains(&k.as_str())));
        let geometry = child.is_number()
            && matches!(prefix.iter().rev().nth(1), Some(Step::Key(k)) if ["shape", "chunks", "chunk_shape"]
                .contains(&k.as_str()));
        found.push((prefix.clone(), interesting, geometry));
        paths(child, prefix, found);
        prefix.pop();
    }
}

fn show(path: &[Step]) -> String {
    path.iter()
        .map(|s| match s {
            Step::Key(k) => format!(".{k}"),
            Step::Index(i) => format!("[{i}]"),
        })
        .collect()
}

/// The value at `path`, and its parent, to edit.
fn parent_mut<'a>(doc: &'a mut Value, path: &[Step]) -> Option<&'a mut Value> {
    let mut current = doc;
    for step in path.iter().take(path.len().saturating_sub(1)) {
        current = match step {
            Step::Key(k) => current.get_mut(k)?,
            Step::Index(i) => current.get_mut(*i)?,
        };
    }
    Some(current)
}

fn replace_at(doc: &mut Value, path: &[Step], value: Value) {
    if let (Some(parent), Some(last)) = (parent_mut(doc, path), path.last()) {
        match (parent, last) {
            (Value::Object(map), Step::Key(k)) => {
                map.insert(k.clone(), value);
            }
            (Value::Array(items), Step::Index(i)) => items[*i] = value,
            _ => {}
        }
    }
}

fn delete_at(doc: &mut Value, path: &[Step]) {
    if let (Some(parent), Some(last)) = (parent_mut(doc, path), path.last()) {
        match (parent, last) {
            (Value::Object(map), Step::Key(k)) => {
                map.remove(k);
            }
            (Value::Array(items), Step::Index(i)) => {
                items.remove(*i);
            }
            _ => {}
        }
    }
}

fn per_mille_of(len: usize, per_mille: u16) -> usize {
    len * usize::from(per_mille) / 1000
}

impl StoreMutation {
    /// The store file the mutation changes, resolved against `files`.
    pub(crate) fn target<'a>(&self, files: &'a StoreFiles) -> Option<&'a str> {
        let pick = |list: &'a [String], n: usize| list.get(n % list.len().max(1)).map(String::as_str);
        match self {
            StoreMutation::Resize { file, .. }
            | StoreMutation::Replace { file, .. }
            | StoreMutation::DeleteKey { file, .. }
            | StoreMutation::BreakJson { file, .. }
            | StoreMutation::DeleteMetadata { file } => pick(&files.metadata, *file),
            StoreMutation::Chunk { chunk, .. } => pick(&files.chunks, *chunk),
        }
    }

    /// Applies the mutation to the store at `root`, listed as `files`; returns what was done, for reports.
    pub(crate) fn apply(&self, root: &Path, files: &StoreFiles) -> String {
        let Some(target) = self.target(files) else { return "nothing (no such file)".to_string() };
        let path = root.join(target);
        if !path.exists() {
            return format!("nothing ({target} is already gone)");
        }
        let bytes = std::fs::read(&path).unwrap();
        match self {
            StoreMutation::Resize { pick, value, .. } => edit_json(&path, &bytes, |doc| {
                let all = all_paths(doc);
                let geometry: Vec<_> = all.iter().filter(|(_, _, g)| *g).collect();
                let (chosen, _, _) = geometry.get(pick % geometry.len().max(1))?;
                replace_at(doc, chosen, value.clone());
                Some(format!("{target}: {} := {}", show(chosen), shorten(value)))
            }),
            StoreMutation::Replace { pick, interesting, value, .. } => edit_json(&path, &bytes, |doc| {
                let all = all_paths(doc);
                let candidates: Vec<_> = all.iter().filter(|(_, i, _)| *i || !*interesting).collect();
                let (chosen, _, _) = candidates.get(pick % candidates.len().max(1))?;
                replace_at(doc, chosen, value.clone());
                Some(format!("{target}: {} := {}", show(chosen), shorten(value)))
            }),
            StoreMutation::DeleteKey { pick, .. } => edit_json(&path, &bytes, |doc| {
                let all = all_paths(doc);
                let (chosen, _, _) = all.get(pick % all.len().max(1))?;
                delete_at(doc, chosen);
                Some(format!("{target}: delete {}", show(chosen)))
            }),
            StoreMutation::BreakJson { how, .. } => {
                let broken = break_json(&bytes, how);
                std::fs::write(&path, broken).unwrap();
                format!("{target}: invalid JSON ({how:?})")
            }
            StoreMutation::DeleteMetadata { .. } => {
                std::fs::remove_file(&path).unwrap();
                format!("delete {target}")
            }
            StoreMutation::Chunk { edit, .. } => {
                let len = bytes.len();
                match edit {
                    ChunkEdit::Delete => std::fs::remove_file(&path).unwrap(),
                    ChunkEdit::Empty => std::fs::write(&path, []).unwrap(),
                    ChunkEdit::Truncate(keep) => {
                        std::fs::write(&path, &bytes[..per_mille_of(len, *keep).min(len.saturating_sub(1))]).unwrap()
                    }
                    ChunkEdit::Flip(at, mask) => {
                        let mut changed = bytes;
                        if let Some(byte) = changed.get_mut(per_mille_of(len, *at)) {
                            *byte ^= mask;
                        }
                        std::fs::write(&path, changed).unwrap();
                    }
                }
                format!("chunk {target} ({len} bytes): {edit:?}")
            }
        }
    }

    /// A short name of the kind of mutation, grouping failures into classes.
    pub(crate) fn label(&self, files: &StoreFiles) -> String {
        let target = self.target(files).unwrap_or("-");
        let name = target.rsplit('/').next().unwrap_or(target);
        match self {
            StoreMutation::Resize { value, .. } => format!("{name} geometry := {}", shorten(value)),
            StoreMutation::Replace { value, .. } => format!("{name} value := {}", shorten(value)),
            StoreMutation::DeleteKey { .. } => format!("{name} key deleted"),
            StoreMutation::BreakJson { .. } => format!("{name} invalid JSON"),
            StoreMutation::DeleteMetadata { .. } => format!("{name} deleted"),
            StoreMutation::Chunk { edit, .. } => {
                let role = if array_of(target) == Some(DATA_VARIABLE) { "data" } else { "coordinate" };
                let what = match edit {
                    ChunkEdit::Delete => "deleted",
                    ChunkEdit::Empty => "emptied",
                    ChunkEdit::Truncate(_) => "truncated",
                    ChunkEdit::Flip(..) => "byte flip",
                };
                format!("{role} chunk {what}")
            }
        }
    }
}

impl StoreFiles {
    /// A mutation putting `value` at the `shape`/`chunks` element `path` (as reports show it, `.shape[0]`) of the
    /// metadata document `target` of the store at `root`: a fixed case, where the fuzzer draws its numbers.
    pub(crate) fn resize(&self, root: &Path, target: &str, path: &str, value: Value) -> StoreMutation {
        let file = self.metadata.iter().position(|m| m == target).expect("a metadata document of the store");
        let doc: Value = serde_json::from_slice(&std::fs::read(root.join(target)).unwrap()).unwrap();
        let geometry: Vec<_> = all_paths(&doc).into_iter().filter(|(_, _, g)| *g).collect();
        let pick = geometry.iter().position(|(p, _, _)| show(p) == path).expect("a geometry field of the document");
        StoreMutation::Resize { file, pick, value }
    }

    /// A mutation applying `edit` to the chunk `target`.
    pub(crate) fn chunk(&self, target: &str, edit: ChunkEdit) -> StoreMutation {
        StoreMutation::Chunk {
            chunk: self.chunks.iter().position(|c| c == target).expect("a chunk of the store"),
            edit,
        }
    }

    /// A mutation breaking the JSON of the metadata document `target` as `how` says.
    pub(crate) fn break_json(&self, target: &str, how: JsonBreakage) -> StoreMutation {
        StoreMutation::BreakJson {
            file: self.metadata.iter().position(|m| m == target).expect("a metadata document of the store"),
            how,
        }
    }

    /// A mutation deleting the metadata document `target`.
    pub(crate) fn delete(&self, target: &str) -> StoreMutation {
        StoreMutation::DeleteMetadata {
            file: self.metadata.iter().position(|m| m == target).expect("a metadata document of the store"),
        }
    }
}

/// The data variable of every store sample; the other arrays are its coordinates.
pub(crate) const DATA_VARIABLE: &str = "tas";

fn all_paths(doc: &Value) -> Vec<(Vec<Step>, bool, bool)> {
    let mut found = Vec::new();
    paths(doc, &mut Vec::new(), &mut found);
    found
}

/// Parses the document, edits it with `edit` and writes it back; a document that is not JSON (an earlier mutation
/// broke it) or has nothing to edit is left alone.
fn edit_json(path: &Path, bytes: &[u8], edit: impl FnOnce(&mut Value) -> Option<String>) -> String {
    let Ok(mut doc) = serde_json::from_slice::<Value>(bytes) else {
        return format!("nothing ({} is not JSON)", path.display());
    };
    match edit(&mut doc) {
        Some(done) => {
            std::fs::write(path, serde_json::to_vec_pretty(&doc).unwrap()).unwrap();
            done
        }
        None => "nothing (no such field)".to_string(),
    }
}

fn break_json(bytes: &[u8], how: &JsonBreakage) -> Vec<u8> {
    match how {
        JsonBreakage::Cut(per_mille) => {
            // Before the last non-blank byte (the closing bracket), so the cut text is never complete JSON.
            let last = bytes.iter().rposition(|b| !b.is_ascii_whitespace()).unwrap_or(0);
            bytes[..per_mille_of(last, *per_mille)].to_vec()
        }
        JsonBreakage::Empty => Vec::new(),
        JsonBreakage::TrailingGarbage => [bytes, b"}garbage"].concat(),
        JsonBreakage::DeepNesting => [b"[".repeat(100_000), b"]".repeat(100_000)].concat(),
        JsonBreakage::HugeNumber => b"1".repeat(10_000),
        JsonBreakage::NotUtf8 => {
            let quote = bytes.iter().position(|b| *b == b'"').map_or(0, |q| q + 1);
            [&bytes[..quote], b"\xff\xfe", &bytes[quote..]].concat()
        }
    }
}

/// A value as reports show it, at most 40 characters.
fn shorten(value: &Value) -> String {
    let text = value.to_string();
    if text.chars().count() > 40 { format!("{}...", text.chars().take(40).collect::<String>()) } else { text }
}

/// Whether the mutation, alone, leaves the store certainly damaged, per command: a lost or unreadable chunk, or a
/// metadata document lost or not JSON, is data loss that `validate` must report; a coordinate chunk or a
/// definition that cannot be read must stop `inspect` and `convert` too (a missing coordinate chunk would read as
/// fill values: a constant time axis), unless readers take the definition from consolidated metadata instead (v2
/// `.zmetadata` is not read; a v3 root holding consolidated metadata is). Edited values are not judged: many are
/// valid.
pub(crate) struct Damage {
    pub inspect: bool,
    pub convert: bool,
    pub validate: bool,
}

impl StoreMutation {
    pub(crate) fn damage(&self, files: &StoreFiles) -> Damage {
        let target = self.target(files).unwrap_or_default();
        let coordinate = array_of(target).is_some_and(|a| a != DATA_VARIABLE);
        let role = metadata_role(target);
        match self {
            StoreMutation::Chunk { edit: ChunkEdit::Delete, .. } => {
                Damage { inspect: false, convert: coordinate, validate: true }
            }
            StoreMutation::Chunk { edit: ChunkEdit::Empty | ChunkEdit::Truncate(_), .. } => {
                Damage { inspect: coordinate, convert: true, validate: true }
            }
            StoreMutation::DeleteMetadata { .. } => {
                let gone = role == MetadataRole::Root;
                Damage { inspect: gone, convert: gone, validate: role != MetadataRole::Other }
            }
            StoreMutation::BreakJson { .. } => {
                let read = !target.ends_with(".zmetadata") && (role == MetadataRole::Root || !files.consolidated_v3);
                Damage { inspect: read, convert: read, validate: true }
            }
            _ => Damage { inspect: false, convert: false, validate: false },
        }
    }
}
