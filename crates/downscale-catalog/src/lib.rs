//! Reading intake-esm data catalogs (the ESM collection specification): a collection JSON describing a CSV table
//! (or inline records) whose rows are datasets, searched by their attribute columns; and writing the catalogs of
//! published outputs ([`PublishedCatalog`]).
//!
//! `downscale` names its inputs through two such catalogs rather than through file paths: a **model** catalog
//! keyed like CMIP ([`ModelKey`], the columns of the Pangeo CMIP6 catalog) and an **observation** catalog keyed by
//! product and variable ([`ObsKey`]). The same code reads the catalogs shipped with the sample data
//! (`data/catalog/`) and public ones such as Pangeo's.
//!
//! Everything is checked when a catalog is opened: the JSON keys and their types, that the table has every column
//! the collection names, row widths, and every asset, format and `time_range` cell. Lookups afterwards fail only
//! on unknown columns or on queries that select none or several entries, and their messages say how to fix the
//! query. Every error is one line and starts with the collection file.
//!
//! Relative `catalog_file` and asset paths resolve from the directory of the collection JSON (intake-esm tries
//! the working directory first; a catalog that travels with its data must not depend on where it is run from).

mod asset;
mod catalog;
mod collection;
mod error;
mod limits;
mod published;
mod query;
mod search;
mod table;
mod time_range;

pub use asset::{Asset, AssetFormat};
pub use catalog::{Catalog, Entry, FILE_VARIABLE_COLUMN, PREDICTORS_FOR_COLUMN, TIME_RANGE_COLUMN};
pub use collection::{Aggregation, AggregationControl, AggregationKind, Assets, Attribute, FormatSource};
pub use error::CatalogError;
pub use limits::{CATALOG_CSV_LIMIT, COLLECTION_JSON_LIMIT};
pub use published::{COLLECTION_ID, PUBLISHED_COLUMNS, PublishedCatalog, PublishedStore, WEB_CATALOG_TITLE};
pub use query::{CatalogKind, ModelKey, ObsKey, Query};
pub use time_range::{CatalogDate, TimeRange};
