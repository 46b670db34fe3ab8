//! An opened catalog: the collection, its validated table, and each row's resolved asset, format and time range.

use std::fmt;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::asset::{Asset, AssetFormat, has_url_scheme, lexically_normal};
use crate::collection::{AggregationControl, Assets, Attribute, Collection, FormatSource, TableSource};
use downscale_message::{escape_controls, one_line};

use crate::error::CatalogError;
use downscale_fs::{FileReadError, read_regular_file};

use crate::limits::COLLECTION_JSON_LIMIT;
use crate::table::Table;
use crate::time_range::TimeRange;

/// The column holding each asset's time span, as ESGF and NCAR catalogs name it.
pub const TIME_RANGE_COLUMN: &str = "time_range";

/// The column naming the variable inside the file when it differs from `variable_id` (the 850 hPa fields of the
/// sample data are `ta850` in the catalog but `ta` in the file).
pub const FILE_VARIABLE_COLUMN: &str = "file_variable";

/// The optional column of an observation catalog that marks a predictor product: on a reanalysis' rows it names the
/// observations the reanalysis supplies predictors for (perfect prognosis), so a method that learns the
/// observations from large-scale fields trains on the reanalysis' fields of the variables the observations lack.
pub const PREDICTORS_FOR_COLUMN: &str = "predictors_for";

/// An intake-esm catalog, validated when opened so that later lookups cannot meet a malformed row.
pub struct Catalog {
    path: PathBuf,
    /// `path` as messages show it.
    pub(crate) shown: String,
    collection: Collection,
    pub(crate) table: Table,
    catalog_file: Option<PathBuf>,
    pub(crate) asset_column: usize,
    assets: Vec<Asset>,
    formats: Vec<AssetFormat>,
    time_ranges: Vec<Option<TimeRange>>,
    variable_column: Option<usize>,
}

impl Catalog {
    /// Opens the collection JSON at `path` and the table it describes (its `catalog_file`, resolved from the
    /// JSON's directory, or its inline `catalog_dict`), and validates both.
    pub fn open(path: impl AsRef<Path>) -> Result<Catalog, CatalogError> {
        let path = path.as_ref();
        let shown = if path.as_os_str().is_empty() {
            "(empty path)".to_string()
        } else {
            escape_controls(&path.display().to_string())
        };
        let read_error = |detail: String| CatalogError::Read { catalog: shown.clone(), file: shown.clone(), detail };
        let bytes = read_regular_file(path, COLLECTION_JSON_LIMIT).map_err(|error| match error {
            FileReadError::Io(e) => read_error(one_line(&e)),
            other => CatalogError::Collection { catalog: shown.clone(), detail: other.describe("a collection JSON") },
        })?;
        let value: Value = serde_json::from_slice(&bytes)
            .map_err(|e| CatalogError::Json { catalog: shown.clone(), detail: one_line(&e) })?;
        let collection = Collection::from_value(&shown, &value)?;
        // Made absolute now: assets stay valid if the process later changes its working directory.
        let absolute = std::path::absolute(path).map_err(|e| read_error(one_line(&e)))?;
        let dir = absolute.parent().map(Path::to_path_buf).unwrap_or_default();
        let (table, catalog_file) = match &collection.table {
            TableSource::File(name) => {
                if has_url_scheme(name) {
                    return Err(CatalogError::Collection {
                        catalog: shown,
                        detail: format!(
                            "catalog_file {} is a URL; only local CSV files are supported: download it and name \
                             the local copy in catalog_file",
                            escape_controls(name)
                        ),
                    });
                }
                let csv = lexically_normal(&dir.join(name));
                (Table::read_csv(&shown, &csv)?, Some(csv))
            }
            TableSource::Records(records) => {
                let mut leading: Vec<&str> = collection.attributes.iter().map(|a| a.column_name.as_str()).collect();
                leading.push(&collection.assets.column_name);
                if let FormatSource::Column(column) = &collection.assets.format {
                    leading.push(column);
                }
                (Table::from_records(&shown, records, &leading)?, None)
            }
        };
        let columns = require_columns(&shown, &collection, &table)?;
        let mut catalog = Catalog {
            path: path.to_path_buf(),
            shown,
            collection,
            table,
            catalog_file,
            asset_column: columns.asset,
            assets: Vec::new(),
            formats: Vec::new(),
            time_ranges: Vec::new(),
            variable_column: None,
        };
        catalog.check_rows(&dir, &columns.format)?;
        catalog.variable_column = catalog
            .table
            .column_index(FILE_VARIABLE_COLUMN)
            .or_else(|| {
                let control = catalog.collection.aggregation_control.as_ref()?;
                catalog.table.column_index(&control.variable_column_name)
            })
            .or_else(|| catalog.table.column_index("variable_id"));
        Ok(catalog)
    }

    /// Resolves every asset and parses every format and time range, naming the file, line and column of the
    /// first bad cell.
    fn check_rows(&mut self, dir: &Path, format: &RowFormat) -> Result<(), CatalogError> {
        let time_column = self.table.column_index(TIME_RANGE_COLUMN);
        let rows = self.table.rows.len();
        let (mut assets, mut formats, mut time_ranges) =
            (Vec::with_capacity(rows), Vec::with_capacity(rows), Vec::with_capacity(rows));
        for row in 0..rows {
            let bad = |column: usize, detail: String| CatalogError::Table {
                catalog: self.shown.clone(),
                place: format!(
                    "{}, column `{}`",
                    self.table.place(row),
                    escape_controls(self.table.columns.get(column).map_or("", String::as_str))
                ),
                detail,
            };
            let raw_asset = self.table.cell(row, self.asset_column);
            if raw_asset.trim().is_empty() {
                return Err(bad(self.asset_column, "no asset (path or URL) given".to_string()));
            }
            assets.push(Asset::resolve(raw_asset, dir));
            formats.push(match *format {
                RowFormat::Fixed(format) => format,
                RowFormat::Column(column) => {
                    let name = self.table.cell(row, column);
                    AssetFormat::parse(name).ok_or_else(|| {
                        bad(column, format!("format \"{}\" is not {}", escape_controls(name), AssetFormat::EXPECTED))
                    })?
                }
            });
            time_ranges.push(match time_column {
                Some(column) if !self.table.cell(row, column).is_empty() => {
                    let text = self.table.cell(row, column);
                    Some(
                        TimeRange::parse(text)
                            .map_err(|e| bad(column, format!("\"{}\": {e}", escape_controls(text))))?,
                    )
                }
                _ => None,
            });
        }
        (self.assets, self.formats, self.time_ranges) = (assets, formats, time_ranges);
        Ok(())
    }

    /// The collection JSON, as given to [`Catalog::open`].
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The resolved CSV file, or `None` for an inline `catalog_dict`.
    pub fn catalog_file(&self) -> Option<&Path> {
        self.catalog_file.as_deref()
    }

    /// The ESM collection specification version the collection declares (`esmcat_version`), as written.
    pub fn esmcat_version(&self) -> &str {
        &self.collection.esmcat_version
    }

    /// The collection id (empty when the collection has none, as intake-esm allows).
    pub fn id(&self) -> &str {
        &self.collection.id
    }

    /// The collection's title, for people; `None` when it has none.
    pub fn title(&self) -> Option<&str> {
        self.collection.title.as_deref()
    }

    /// The collection's description, for people; `None` when it has none.
    pub fn description(&self) -> Option<&str> {
        self.collection.description.as_deref()
    }

    /// When the collection says it was last updated, as written (the specification fixes no format).
    pub fn last_updated(&self) -> Option<&str> {
        self.collection.last_updated.as_deref()
    }

    /// The columns users search on, as the collection lists them.
    pub fn attributes(&self) -> &[Attribute] {
        &self.collection.attributes
    }

    /// The asset column and how each asset's format is known.
    pub fn assets(&self) -> &Assets {
        &self.collection.assets
    }

    /// How intake-esm would aggregate the assets, kept verbatim; `None` when the collection has none.
    pub fn aggregation_control(&self) -> Option<&AggregationControl> {
        self.collection.aggregation_control.as_ref()
    }

    /// Every column of the table, in table order.
    pub fn columns(&self) -> &[String] {
        &self.table.columns
    }

    /// The number of entries (rows).
    pub fn len(&self) -> usize {
        self.table.rows.len()
    }

    /// Whether the table has no entry (a valid catalog may be empty; every lookup in it fails).
    pub fn is_empty(&self) -> bool {
        self.table.rows.is_empty()
    }

    /// All entries, in table order.
    pub fn entries(&self) -> impl Iterator<Item = Entry<'_>> {
        (0..self.len()).map(move |row| Entry { catalog: self, row })
    }

    pub(crate) fn entry(&self, row: usize) -> Entry<'_> {
        Entry { catalog: self, row }
    }
}

impl fmt::Debug for Catalog {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Catalog")
            .field("path", &self.path)
            .field("id", &self.collection.id)
            .field("columns", &self.table.columns)
            .field("entries", &self.len())
            .finish()
    }
}

/// Where each row's format comes from, once the format column is known to exist.
enum RowFormat {
    Fixed(AssetFormat),
    Column(usize),
}

/// Indices of the columns that say where and in what format each asset is.
struct AssetColumns {
    asset: usize,
    format: RowFormat,
}

/// Checks that the table has every column the collection names, and finds the asset columns.
fn require_columns(catalog: &str, collection: &Collection, table: &Table) -> Result<AssetColumns, CatalogError> {
    let index = |key: &str, column: &str| {
        table.column_index(column).ok_or_else(|| {
            let columns: Vec<String> = table.columns.iter().map(|text| escape_controls(text)).collect();
            CatalogError::Table {
                catalog: catalog.to_string(),
                place: table.header_place(),
                detail: format!(
                    "no column `{}`, which the collection's `{key}` names (columns: {})",
                    escape_controls(column),
                    columns.join(", ")
                ),
            }
        })
    };
    for (i, attribute) in collection.attributes.iter().enumerate() {
        index(&format!("attributes[{i}].column_name"), &attribute.column_name)?;
    }
    let asset = index("assets.column_name", &collection.assets.column_name)?;
    let format = match &collection.assets.format {
        FormatSource::Column(column) => RowFormat::Column(index("assets.format_column_name", column)?),
        FormatSource::Fixed(format) => RowFormat::Fixed(*format),
    };
    if let Some(control) = &collection.aggregation_control {
        index("aggregation_control.variable_column_name", &control.variable_column_name)?;
        for (i, attr) in control.groupby_attrs.iter().enumerate() {
            index(&format!("aggregation_control.groupby_attrs[{i}]"), attr)?;
        }
        for (i, step) in control.aggregations.iter().enumerate() {
            index(&format!("aggregation_control.aggregations[{i}].attribute_name"), &step.attribute_name)?;
        }
    }
    Ok(AssetColumns { asset, format })
}

/// One row of a catalog.
#[derive(Clone, Copy)]
pub struct Entry<'a> {
    catalog: &'a Catalog,
    row: usize,
}

impl<'a> Entry<'a> {
    /// The value in `column`; `None` when the column does not exist or the cell is empty (intake-esm reads empty
    /// cells as missing values).
    pub fn get(&self, column: &str) -> Option<&'a str> {
        let index = self.catalog.table.column_index(column)?;
        Some(self.catalog.table.cell(self.row, index)).filter(|value| !value.is_empty())
    }

    /// The asset, resolved: relative paths from the collection's directory, absolute paths and URLs as written.
    pub fn asset(&self) -> &'a Asset {
        &self.catalog.assets[self.row]
    }

    /// The asset exactly as the table writes it.
    pub fn raw_asset(&self) -> &'a str {
        self.catalog.table.cell(self.row, self.catalog.asset_column)
    }

    /// The format, from `assets.format` or this row's format column.
    pub fn format(&self) -> AssetFormat {
        self.catalog.formats[self.row]
    }

    /// The first and last date, from the `time_range` column (`None` when there is none or it is empty).
    pub fn time_range(&self) -> Option<TimeRange> {
        self.catalog.time_ranges[self.row]
    }

    /// The first and last year of [`Entry::time_range`].
    pub fn years(&self) -> Option<(i32, i32)> {
        self.time_range().map(|range| (range.start.year, range.end.year))
    }

    /// The name of the variable to read from the asset: the `file_variable` column when the table has one, else
    /// the column `aggregation_control.variable_column_name` names (intake-esm selects the asset's variables by
    /// it), else `variable_id`.
    pub fn variable(&self) -> Option<&'a str> {
        let index = self.catalog.variable_column?;
        Some(self.catalog.table.cell(self.row, index)).filter(|value| !value.is_empty())
    }

    /// Where the row is ("`cmip.csv` line 4" or "`catalog_dict[3]`"), for messages about it.
    pub fn place(&self) -> String {
        self.catalog.table.place(self.row)
    }

    /// Every `(column, value)` of the row, empty values included.
    pub fn fields(&self) -> impl Iterator<Item = (&'a str, &'a str)> {
        let catalog = self.catalog;
        let row = self.row;
        catalog.table.columns.iter().enumerate().map(move |(i, c)| (c.as_str(), catalog.table.cell(row, i)))
    }
}

impl fmt::Debug for Entry<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.fields()).finish()
    }
}
