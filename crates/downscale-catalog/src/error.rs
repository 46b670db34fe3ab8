//! One error type whose messages fit on one line and always start with the collection file they concern.

/// Everything that can go wrong while opening or querying a catalog.
///
/// Every variant carries `catalog`, the collection JSON as the user named it, because a run configured with a model
/// and an observation catalog must say *which* one is wrong. Values taken from the files are escaped so that a
/// quoted newline inside a CSV cell cannot break the one-line promise.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CatalogError {
    /// The collection JSON or its CSV could not be read from disk. The file is named after `cannot read` only when
    /// it is not the collection itself, which the message starts with.
    #[error("{catalog}: cannot read{}: {detail}", other_file(.catalog, .file))]
    Read { catalog: String, file: String, detail: String },
    /// The collection file is not JSON at all.
    #[error("{catalog}: not valid JSON: {detail}")]
    Json { catalog: String, detail: String },
    /// A key of the collection JSON is missing or holds the wrong type (`key` is a path like `assets.format`).
    #[error("{catalog}: key `{key}`: expected {expected}, found {found}")]
    Key { catalog: String, key: String, expected: String, found: String },
    /// The collection is well-typed but cannot be used (both `catalog_file` and `catalog_dict`, a compressed or
    /// remote table, ...).
    #[error("{catalog}: {detail}")]
    Collection { catalog: String, detail: String },
    /// The table (CSV file or `catalog_dict`) is malformed; `place` names the file and line, or the record.
    #[error("{catalog}: {place}: {detail}")]
    Table { catalog: String, place: String, detail: String },
    /// A query or a lookup named a column the table does not have.
    #[error("{catalog}: unknown column `{column}` (nearest: `{nearest}`; columns: {})", .columns.join(", "))]
    UnknownColumn { catalog: String, column: String, nearest: String, columns: Vec<String> },
    /// The catalog lacks the columns a model or observation catalog must have.
    #[error("{catalog}: not {kind} catalog: missing column(s) {}", .missing.join(", "))]
    WrongKind { catalog: String, kind: String, missing: Vec<String> },
    /// No entry satisfies the query. `reason` names the constraint that left nothing and the constraints applied
    /// before it; `available` lists the values `column` takes among the entries still left then, nearest to the
    /// wanted value first.
    #[error("{catalog}: no entry matches {query}: {reason}; {column} values there: {}", list_or_none(.available))]
    NoMatch { catalog: String, query: String, reason: String, column: String, available: Vec<String> },
    /// More than one entry satisfies a query that must select exactly one; each candidate shows the columns that
    /// tell the candidates apart and its asset.
    #[error("{catalog}: {count} entries match {query}, expected one; candidates: {}", .candidates.join("; "))]
    Ambiguous { catalog: String, query: String, count: usize, candidates: Vec<String> },
}

/// ` FILE` when `file` is not `catalog`, else nothing.
fn other_file(catalog: &str, file: &str) -> String {
    if file == catalog { String::new() } else { format!(" {file}") }
}

fn list_or_none(values: &[String]) -> String {
    if values.is_empty() { "(none)".to_string() } else { values.join(", ") }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_match_message_reads_as_one_sentence() {
        let error = CatalogError::NoMatch {
            catalog: "cmip.json".into(),
            query: "experiment_id=historical, source_id=CNRM-CM6".into(),
            reason: "source_id=CNRM-CM6 leaves none among the entries with experiment_id=historical".into(),
            column: "source_id".into(),
            available: vec!["CNRM-CM5".into(), "BNU-ESM".into()],
        };
        assert_eq!(
            error.to_string(),
            "cmip.json: no entry matches experiment_id=historical, source_id=CNRM-CM6: source_id=CNRM-CM6 leaves \
             none among the entries with experiment_id=historical; source_id values there: CNRM-CM5, BNU-ESM"
        );
    }
}
