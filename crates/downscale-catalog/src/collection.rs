//! The ESM collection JSON: the description of a catalog table (which columns are attributes, which one holds the
//! asset, what format the assets are in, how intake-esm would aggregate them).
//!
//! Parsed from a `serde_json::Value` by hand rather than with derived deserialisers so that every error names the
//! exact key path (`attributes[2].column_name`) and says what was expected and what was found. Requiredness follows
//! intake-esm's own model, the reference reader: `esmcat_version`, `attributes` and `assets` are required, `id` and
//! `description` may be absent. Keys the specification does not define are ignored, as intake-esm does, so that
//! catalogs written by newer tools still open.

use serde_json::{Map, Value};

use crate::asset::AssetFormat;
use downscale_message::escape_controls;

use crate::error::CatalogError;

/// One attribute column: a column users search on, optionally tied to a controlled vocabulary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attribute {
    /// The table column.
    pub column_name: String,
    /// A URL of the controlled vocabulary; empty when the collection gives none (Pangeo writes `""`).
    pub vocabulary: String,
}

/// Where the format of each asset comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FormatSource {
    /// `assets.format`: every asset has this format.
    Fixed(AssetFormat),
    /// `assets.format_column_name`: each row names its format in this column.
    Column(String),
}

/// The `assets` object: the column that holds each dataset's path or URL, and how its format is known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assets {
    /// The table column holding each dataset's path or URL.
    pub column_name: String,
    /// Where each asset's format is given.
    pub format: FormatSource,
}

/// How intake-esm combines the assets of one group into one dataset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AggregationKind {
    /// Concatenate along a new dimension named after the attribute (ensemble members).
    JoinNew,
    /// Concatenate along an existing dimension (`options.dim`, usually time).
    JoinExisting,
    /// Merge the variables of several assets.
    Union,
}

/// One aggregation step of `aggregation_control.aggregations`.
#[derive(Debug, Clone, PartialEq)]
pub struct Aggregation {
    /// How the assets are combined.
    pub kind: AggregationKind,
    /// The attribute column whose values the assets differ in.
    pub attribute_name: String,
    /// Keyword arguments intake-esm passes to xarray; kept verbatim.
    pub options: Map<String, Value>,
}

/// `aggregation_control`, kept so that a catalog read here can be written back or explained without loss, and
/// because `variable_column_name` names the column holding each asset's variable.
#[derive(Debug, Clone, PartialEq)]
pub struct AggregationControl {
    /// The column naming each asset's variable.
    pub variable_column_name: String,
    /// The columns whose values make one dataset: assets equal in all of them are combined.
    pub groupby_attrs: Vec<String>,
    /// The combining steps, in the order intake-esm applies them.
    pub aggregations: Vec<Aggregation>,
}

/// Where the rows live: a CSV file named relative to the collection, or inline records.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum TableSource {
    File(String),
    Records(Vec<Value>),
}

/// The parsed collection JSON.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Collection {
    pub esmcat_version: String,
    pub id: String,
    pub title: Option<String>,
    pub description: Option<String>,
    pub last_updated: Option<String>,
    pub table: TableSource,
    pub attributes: Vec<Attribute>,
    pub assets: Assets,
    pub aggregation_control: Option<AggregationControl>,
}

impl Collection {
    /// Validates the JSON document `value` of the collection named `catalog` (used in every error).
    pub(crate) fn from_value(catalog: &str, value: &Value) -> Result<Collection, CatalogError> {
        let root = Object::root(catalog, value)?;
        // First, because a JSON file that is not a collection at all is best told so by its missing version.
        let esmcat_version = root.string("esmcat_version")?;
        let table = match (root.get("catalog_file"), root.get("catalog_dict")) {
            (Some(_), Some(_)) => {
                return Err(CatalogError::Collection {
                    catalog: catalog.to_string(),
                    detail: "`catalog_file` and `catalog_dict` are mutually exclusive; give one".to_string(),
                });
            }
            (Some(_), None) => TableSource::File(root.string("catalog_file")?),
            (None, Some(_)) => TableSource::Records(root.array("catalog_dict")?.to_vec()),
            (None, None) => {
                return Err(root.missing("catalog_file", "a CSV file name (or an inline `catalog_dict` array)"));
            }
        };
        let attributes = root
            .array("attributes")?
            .iter()
            .enumerate()
            .map(|(i, item)| {
                let attribute = root.nested(&format!("attributes[{i}]"), item)?;
                Ok(Attribute {
                    column_name: attribute.string("column_name")?,
                    vocabulary: attribute.optional_string("vocabulary")?.unwrap_or_default(),
                })
            })
            .collect::<Result<Vec<_>, CatalogError>>()?;
        let assets = root.object("assets")?;
        let format = match (assets.get("format"), assets.get("format_column_name")) {
            (Some(_), Some(_)) => {
                return Err(CatalogError::Collection {
                    catalog: catalog.to_string(),
                    detail: "`assets.format` and `assets.format_column_name` are mutually exclusive; give one"
                        .to_string(),
                });
            }
            (Some(_), None) => {
                let name = assets.string("format")?;
                let format = AssetFormat::parse(&name).ok_or_else(|| {
                    assets.wrong("format", AssetFormat::EXPECTED, &format!("\"{}\"", escape_controls(&name)))
                })?;
                FormatSource::Fixed(format)
            }
            (None, Some(_)) => FormatSource::Column(assets.string("format_column_name")?),
            (None, None) => {
                return Err(assets.missing("format", "a data format (or a `format_column_name`)"));
            }
        };
        let assets = Assets { column_name: assets.string("column_name")?, format };
        let aggregation_control = match root.get("aggregation_control") {
            None | Some(Value::Null) => None,
            Some(_) => Some(aggregation_control(&root.object("aggregation_control")?)?),
        };
        Ok(Collection {
            esmcat_version,
            id: root.optional_string("id")?.unwrap_or_default(),
            title: root.optional_string("title")?,
            description: root.optional_string("description")?,
            last_updated: root.optional_string("last_updated")?,
            table,
            attributes,
            assets,
            aggregation_control,
        })
    }
}

fn aggregation_control(control: &Object<'_>) -> Result<AggregationControl, CatalogError> {
    let groupby_attrs = control
        .array("groupby_attrs")?
        .iter()
        .enumerate()
        .map(|(i, item)| control.element_string(&format!("groupby_attrs[{i}]"), item))
        .collect::<Result<Vec<_>, _>>()?;
    let aggregations = match control.get("aggregations") {
        None => Vec::new(),
        Some(_) => control
            .array("aggregations")?
            .iter()
            .enumerate()
            .map(|(i, item)| {
                let step = control.nested(&format!("aggregations[{i}]"), item)?;
                let kind_name = step.string("type")?;
                let kind = match kind_name.as_str() {
                    "join_new" => AggregationKind::JoinNew,
                    "join_existing" => AggregationKind::JoinExisting,
                    "union" => AggregationKind::Union,
                    other => {
                        return Err(step.wrong(
                            "type",
                            "one of \"join_new\", \"join_existing\", \"union\"",
                            &format!("\"{}\"", escape_controls(other)),
                        ));
                    }
                };
                let options = match step.get("options") {
                    None => Map::new(),
                    Some(_) => step.object("options")?.map.clone(),
                };
                Ok(Aggregation { kind, attribute_name: step.string("attribute_name")?, options })
            })
            .collect::<Result<Vec<_>, CatalogError>>()?,
    };
    Ok(AggregationControl {
        variable_column_name: control.string("variable_column_name")?,
        groupby_attrs,
        aggregations,
    })
}

/// A JSON object together with its key path, so that errors can say `assets.column_name` rather than
/// `column_name`.
struct Object<'a> {
    catalog: &'a str,
    path: String,
    map: &'a Map<String, Value>,
}

impl<'a> Object<'a> {
    fn root(catalog: &'a str, value: &'a Value) -> Result<Object<'a>, CatalogError> {
        match value {
            Value::Object(map) => Ok(Object { catalog, path: String::new(), map }),
            other => Err(CatalogError::Key {
                catalog: catalog.to_string(),
                key: "(top level)".to_string(),
                expected: "an object".to_string(),
                found: describe(other),
            }),
        }
    }

    fn key_path(&self, key: &str) -> String {
        if self.path.is_empty() { key.to_string() } else { format!("{}.{key}", self.path) }
    }

    fn get(&self, key: &str) -> Option<&'a Value> {
        self.map.get(key)
    }

    fn wrong(&self, key: &str, expected: &str, found: &str) -> CatalogError {
        CatalogError::Key {
            catalog: self.catalog.to_string(),
            key: escape_controls(&self.key_path(key)),
            expected: expected.to_string(),
            found: found.to_string(),
        }
    }

    fn missing(&self, key: &str, expected: &str) -> CatalogError {
        self.wrong(key, expected, "nothing (the key is missing)")
    }

    fn string(&self, key: &str) -> Result<String, CatalogError> {
        match self.get(key) {
            Some(Value::String(s)) => Ok(s.clone()),
            Some(other) => Err(self.wrong(key, "a string", &describe(other))),
            None => Err(self.missing(key, "a string")),
        }
    }

    /// A string that may be absent; `null` counts as absent, as pydantic's `Optional[str]` treats it.
    fn optional_string(&self, key: &str) -> Result<Option<String>, CatalogError> {
        match self.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(_) => self.string(key).map(Some),
        }
    }

    fn array(&self, key: &str) -> Result<&'a [Value], CatalogError> {
        match self.get(key) {
            Some(Value::Array(items)) => Ok(items),
            Some(other) => Err(self.wrong(key, "an array", &describe(other))),
            None => Err(self.missing(key, "an array")),
        }
    }

    fn object(&self, key: &str) -> Result<Object<'a>, CatalogError> {
        match self.get(key) {
            Some(Value::Object(map)) => Ok(Object { catalog: self.catalog, path: self.key_path(key), map }),
            Some(other) => Err(self.wrong(key, "an object", &describe(other))),
            None => Err(self.missing(key, "an object")),
        }
    }

    /// An object held in an array, addressed as `name` (`attributes[2]`) below this object.
    fn nested(&self, name: &str, value: &'a Value) -> Result<Object<'a>, CatalogError> {
        match value {
            Value::Object(map) => Ok(Object { catalog: self.catalog, path: self.key_path(name), map }),
            other => Err(self.wrong(name, "an object", &describe(other))),
        }
    }

    fn element_string(&self, name: &str, value: &Value) -> Result<String, CatalogError> {
        match value {
            Value::String(s) => Ok(s.clone()),
            other => Err(self.wrong(name, "a string", &describe(other))),
        }
    }
}

/// What a JSON value is, for "expected X, found Y" messages; short scalars are shown so the user can find them.
pub(crate) fn describe(value: &Value) -> String {
    match value {
        Value::Null => "null".to_string(),
        Value::Bool(b) => format!("the boolean {b}"),
        Value::Number(n) => format!("the number {n}"),
        Value::String(s) if s.chars().count() <= 40 => format!("the string \"{}\"", escape_controls(s)),
        Value::String(_) => "a string".to_string(),
        Value::Array(_) => "an array".to_string(),
        Value::Object(_) => "an object".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(value: Value) -> Result<Collection, CatalogError> {
        Collection::from_value("c.json", &value)
    }

    fn minimal() -> Value {
        json!({
            "esmcat_version": "0.1.0",
            "catalog_file": "c.csv",
            "attributes": [{"column_name": "source_id"}],
            "assets": {"column_name": "path", "format": "netcdf"}
        })
    }

    #[test]
    fn optional_keys_take_intake_esm_defaults() {
        let collection = parse(minimal()).unwrap();
        assert_eq!(collection.id, "");
        assert_eq!(collection.description, None);
        assert_eq!(collection.attributes[0].vocabulary, "");
        assert_eq!(collection.assets.format, FormatSource::Fixed(AssetFormat::Netcdf));
        assert_eq!(collection.table, TableSource::File("c.csv".into()));
        assert!(collection.aggregation_control.is_none());
    }

    #[test]
    fn errors_name_the_key_path_and_the_expectation() {
        let mut value = minimal();
        value["attributes"][0]["column_name"] = json!(3);
        assert_eq!(
            parse(value).unwrap_err().to_string(),
            "c.json: key `attributes[0].column_name`: expected a string, found the number 3"
        );
        let mut value = minimal();
        value["assets"]["format"] = json!("grib");
        let message = parse(value).unwrap_err().to_string();
        assert!(message.starts_with("c.json: key `assets.format`: expected one of"), "{message}");
        let mut value = minimal();
        value["aggregation_control"] = json!({"variable_column_name": "v", "groupby_attrs": ["a", 1]});
        assert_eq!(
            parse(value).unwrap_err().to_string(),
            "c.json: key `aggregation_control.groupby_attrs[1]`: expected a string, found the number 1"
        );
    }

    #[test]
    fn aggregation_control_is_kept() {
        let mut value = minimal();
        value["aggregation_control"] = json!({
            "variable_column_name": "variable_id",
            "groupby_attrs": ["source_id"],
            "aggregations": [
                {"type": "join_existing", "attribute_name": "time_range", "options": {"dim": "time"}},
                {"type": "union", "attribute_name": "variable_id"}
            ]
        });
        let control = parse(value).unwrap().aggregation_control.unwrap();
        assert_eq!(control.variable_column_name, "variable_id");
        assert_eq!(control.aggregations[0].kind, AggregationKind::JoinExisting);
        assert_eq!(control.aggregations[0].options["dim"], json!("time"));
        assert!(control.aggregations[1].options.is_empty());
    }
}
