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
    Read {
        /// The collection JSON, as the user named it.
        catalog: String,
        /// The file that could not be read: the collection itself or its CSV table.
        file: String,
        /// The operating system's reason.
        detail: String,
    },
    /// The collection file is not JSON at all.
    #[error("{catalog}: not valid JSON: {detail}")]
    Json {
        /// The collection JSON, as the user named it.
        catalog: String,
        /// The parser's message, with the line and column.
        detail: String,
    },
    /// A key of the collection JSON is missing or holds the wrong type (`key` is a path like `assets.format`).
    #[error("{catalog}: key `{key}`: expected {expected}, found {found}")]
    Key {
        /// The collection JSON, as the user named it.
        catalog: String,
        /// The key's path in the JSON, e.g. `attributes[2].column_name`.
        key: String,
        /// What the specification wants there.
        expected: String,
        /// What the file has there, shortened.
        found: String,
    },
    /// The collection is well-typed but cannot be used (both `catalog_file` and `catalog_dict`, a compressed or
    /// remote table, ...).
    #[error("{catalog}: {detail}")]
    Collection {
        /// The collection JSON, as the user named it.
        catalog: String,
        /// What cannot be used, and why.
        detail: String,
    },
    /// The table (CSV file or `catalog_dict`) is malformed; `place` names the file and line, or the record.
    #[error("{catalog}: {place}: {detail}")]
    Table {
        /// The collection JSON, as the user named it.
        catalog: String,
        /// The CSV file and line, or the `catalog_dict` record.
        place: String,
        /// What is wrong there.
        detail: String,
    },
    /// A query or a lookup named a column the table does not have.
    #[error("{catalog}: unknown column `{column}` (nearest: `{nearest}`; columns: {})", .columns.join(", "))]
    UnknownColumn {
        /// The collection JSON, as the user named it.
        catalog: String,
        /// The column asked for.
        column: String,
        /// The table's column nearest to it in spelling: the likely intent.
        nearest: String,
        /// Every column of the table, in table order.
        columns: Vec<String>,
    },
    /// The catalog lacks the columns a model or observation catalog must have.
    #[error("{catalog}: not {kind} catalog: missing column(s) {}", .missing.join(", "))]
    WrongKind {
        /// The collection JSON, as the user named it.
        catalog: String,
        /// The kind it was opened as, with its article: `a model`, `an observation`.
        kind: String,
        /// The columns that kind needs and the table lacks.
        missing: Vec<String>,
    },
    /// No entry satisfies the query. `reason` names the constraint that left nothing and the constraints applied
    /// before it; `available` lists the values `column` takes among the entries still left then, nearest to the
    /// wanted value first.
    #[error("{catalog}: no entry matches {query}: {reason}; {column} values there: {}", list_or_none(.available))]
    NoMatch {
        /// The collection JSON, as the user named it.
        catalog: String,
        /// The whole query, `column=value` pairs.
        query: String,
        /// The constraint that left nothing, and those applied before it.
        reason: String,
        /// That constraint's column.
        column: String,
        /// The values the column takes among the entries left before it, nearest to the wanted value first.
        available: Vec<String>,
    },
    /// More than one entry satisfies a query that must select exactly one; each candidate shows the columns that
    /// tell the candidates apart and its asset.
    #[error("{catalog}: {count} entries match {query}, expected one; candidates: {}", .candidates.join("; "))]
    Ambiguous {
        /// The collection JSON, as the user named it.
        catalog: String,
        /// The whole query, `column=value` pairs.
        query: String,
        /// How many entries match it.
        count: usize,
        /// Each matching entry: the columns that tell the candidates apart, and its asset.
        candidates: Vec<String>,
    },
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
