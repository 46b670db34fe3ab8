//! The rows of a catalog, read from its CSV file or from the inline `catalog_dict` records, checked for shape
//! (unique header names, one field per column in every row) and kept as compact string records.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use csv::StringRecord;
use serde_json::Value;

use crate::collection::describe;
use downscale_message::{escape_controls, one_line};

use crate::error::CatalogError;
use downscale_fs::{FileReadError, read_regular_file};

use crate::limits::CATALOG_CSV_LIMIT;

/// Where the rows came from, to say where a bad row is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Origin {
    File(PathBuf),
    Inline,
}

/// The table of a catalog: every row has exactly `columns.len()` fields; empty fields mean "no value".
#[derive(Debug, Clone)]
pub(crate) struct Table {
    pub columns: Vec<String>,
    pub rows: Vec<StringRecord>,
    /// Per row, the CSV line it starts on, or its index in `catalog_dict`.
    positions: Vec<u64>,
    pub origin: Origin,
}

impl Table {
    /// "`cmip.csv` line 4" or "`catalog_dict[3]`", for messages about row `row`.
    pub(crate) fn place(&self, row: usize) -> String {
        let position = self.positions.get(row).copied().unwrap_or_default();
        match &self.origin {
            Origin::File(path) => format!("{} line {position}", escape_controls(&path.display().to_string())),
            Origin::Inline => format!("catalog_dict[{position}]"),
        }
    }

    /// "line 4" or "catalog_dict[3]": the place within a table already named.
    pub(crate) fn short_place(&self, row: usize) -> String {
        let position = self.positions.get(row).copied().unwrap_or_default();
        match &self.origin {
            Origin::File(_) => format!("line {position}"),
            Origin::Inline => format!("catalog_dict[{position}]"),
        }
    }

    /// The place of the header (the column names).
    pub(crate) fn header_place(&self) -> String {
        match &self.origin {
            Origin::File(path) => format!("{} header", escape_controls(&path.display().to_string())),
            Origin::Inline => "catalog_dict".to_string(),
        }
    }

    pub(crate) fn column_index(&self, name: &str) -> Option<usize> {
        self.columns.iter().position(|c| c == name)
    }

    /// Field `column` of row `row`; out-of-range indices read as empty rather than panic.
    pub(crate) fn cell(&self, row: usize, column: usize) -> &str {
        self.rows.get(row).and_then(|r| r.get(column)).unwrap_or("")
    }

    /// Reads a plain CSV file with a header line.
    pub(crate) fn read_csv(catalog: &str, path: &Path) -> Result<Table, CatalogError> {
        let shown = escape_controls(&path.display().to_string());
        let compressed = |what: &str| CatalogError::Collection {
            catalog: catalog.to_string(),
            detail: format!(
                "catalog_file {shown} is {what}; only plain CSV catalogs are supported: decompress or convert it \
                 to a .csv next to the collection and point catalog_file at that"
            ),
        };
        let lower = shown.to_ascii_lowercase();
        for (suffix, what) in [
            (".gz", "gzip-compressed"),
            (".bz2", "bzip2-compressed"),
            (".xz", "xz-compressed"),
            (".zip", "a zip archive"),
            (".parquet", "a Parquet file"),
        ] {
            if lower.ends_with(suffix) {
                return Err(compressed(what));
            }
        }
        let bytes = read_regular_file(path, CATALOG_CSV_LIMIT).map_err(|error| match error {
            FileReadError::Io(e) => {
                CatalogError::Read { catalog: catalog.to_string(), file: shown.clone(), detail: one_line(&e) }
            }
            other => CatalogError::Collection {
                catalog: catalog.to_string(),
                detail: format!("catalog_file {shown}: {}", other.describe("a catalog CSV")),
            },
        })?;
        // A compressed file under a .csv name would otherwise surface as a baffling UTF-8 error.
        if bytes.starts_with(&[0x1f, 0x8b]) {
            return Err(compressed("gzip-compressed (despite its name)"));
        }
        let origin = Origin::File(path.to_path_buf());
        let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(bytes.as_slice());
        let header_place = format!("{shown} header");
        let header = reader.headers().map_err(|e| csv_failure(catalog, &shown, &header_place, &e))?.clone();
        if header.is_empty() {
            return Err(CatalogError::Table {
                catalog: catalog.to_string(),
                place: shown,
                detail: "empty file: no header line".to_string(),
            });
        }
        let columns: Vec<String> = header.iter().map(str::to_string).collect();
        check_unique(catalog, &header_place, &columns)?;
        let mut rows = Vec::new();
        let mut positions = Vec::new();
        for record in reader.records() {
            let record = record.map_err(|e| csv_failure(catalog, &shown, &header_place, &e))?;
            let line = record.position().map_or(0, csv::Position::line);
            if record.len() != columns.len() {
                return Err(CatalogError::Table {
                    catalog: catalog.to_string(),
                    place: format!("{shown} line {line}"),
                    detail: format!("{} field(s), but the header has {}", record.len(), columns.len()),
                });
            }
            rows.push(record);
            positions.push(line);
        }
        Ok(Table { columns, rows, positions, origin })
    }

    /// Builds the table from `catalog_dict` records. Columns are the `leading` ones (attributes, then assets, in
    /// collection order) followed by any other keys in sorted order, so the order does not depend on how the JSON
    /// library keeps object keys.
    pub(crate) fn from_records(catalog: &str, records: &[Value], leading: &[&str]) -> Result<Table, CatalogError> {
        let mut seen = HashSet::new();
        let mut extra = Vec::new();
        for (i, record) in records.iter().enumerate() {
            let Value::Object(map) = record else {
                return Err(CatalogError::Key {
                    catalog: catalog.to_string(),
                    key: format!("catalog_dict[{i}]"),
                    expected: "an object".to_string(),
                    found: describe(record),
                });
            };
            for key in map.keys() {
                if !leading.contains(&key.as_str()) && seen.insert(key.as_str()) {
                    extra.push(key.as_str());
                }
            }
        }
        extra.sort_unstable();
        let mut columns: Vec<String> = Vec::new();
        for name in leading.iter().chain(&extra) {
            if !columns.iter().any(|c| c == name) {
                columns.push((*name).to_string());
            }
        }
        let mut rows = Vec::with_capacity(records.len());
        for (i, record) in records.iter().enumerate() {
            let mut row = StringRecord::with_capacity(0, columns.len());
            for column in &columns {
                let cell = match record.get(column) {
                    None | Some(Value::Null) => String::new(),
                    Some(Value::String(s)) => s.clone(),
                    Some(Value::Number(n)) => n.to_string(),
                    Some(Value::Bool(b)) => b.to_string(),
                    Some(other) => {
                        return Err(CatalogError::Key {
                            catalog: catalog.to_string(),
                            key: format!("catalog_dict[{i}].{}", escape_controls(column)),
                            expected: "a string, number, boolean or null".to_string(),
                            found: describe(other),
                        });
                    }
                };
                row.push_field(&cell);
            }
            rows.push(row);
        }
        let positions = (0..records.len() as u64).collect();
        Ok(Table { columns, rows, positions, origin: Origin::Inline })
    }
}

fn check_unique(catalog: &str, place: &str, columns: &[String]) -> Result<(), CatalogError> {
    let mut seen = HashSet::new();
    match columns.iter().find(|c| !seen.insert(c.as_str())) {
        Some(duplicate) => Err(CatalogError::Table {
            catalog: catalog.to_string(),
            place: place.to_string(),
            detail: format!("column `{}` appears more than once", escape_controls(duplicate)),
        }),
        None => Ok(()),
    }
}

fn csv_failure(catalog: &str, shown: &str, header_place: &str, error: &csv::Error) -> CatalogError {
    let place = match error.position() {
        Some(position) if position.line() > 1 => format!("{shown} line {}", position.line()),
        _ => header_place.to_string(),
    };
    let detail = match error.kind() {
        csv::ErrorKind::Utf8 { err, .. } => format!("field {} is not valid UTF-8", err.field() + 1),
        _ => one_line(error),
    };
    CatalogError::Table { catalog: catalog.to_string(), place, detail }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn records_put_known_columns_first_and_stringify_scalars() {
        let records = vec![
            json!({"zeta": 1, "path": "a.nc", "source_id": "X"}),
            json!({"source_id": "Y", "path": "b.nc", "alpha": true, "zeta": null}),
        ];
        let table = Table::from_records("c.json", &records, &["source_id", "path"]).unwrap();
        assert_eq!(table.columns, ["source_id", "path", "alpha", "zeta"]);
        assert_eq!(table.rows[0].iter().collect::<Vec<_>>(), ["X", "a.nc", "", "1"]);
        assert_eq!(table.rows[1].iter().collect::<Vec<_>>(), ["Y", "b.nc", "true", ""]);
        assert_eq!(table.place(1), "catalog_dict[1]");
    }

    #[test]
    fn nested_values_in_records_are_refused() {
        let records = vec![json!({"path": ["a.nc"]})];
        let error = Table::from_records("c.json", &records, &["path"]).unwrap_err();
        assert_eq!(
            error.to_string(),
            "c.json: key `catalog_dict[0].path`: expected a string, number, boolean or null, found an array"
        );
    }
}
