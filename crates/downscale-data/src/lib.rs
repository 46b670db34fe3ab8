//! The data layer of `downscale`: labelled arrays, CF time and calendars, units, reading NetCDF and Zarr, and
//! writing CF Zarr atomically.

pub mod array;
pub mod attrs;
pub mod backend;
pub mod blocks;
pub mod calendar;
pub mod calendar_convert;
pub mod cf_encode;
pub mod chunking;
pub mod decode;
pub mod error;
mod hyperslab;
pub mod inspect;
mod limits;
pub mod location;
pub mod netcdf_write;
pub mod objects;
pub mod publish;
pub mod select;
pub mod time_convert;
pub mod units;
pub mod validate;
pub mod zarr_write;

pub use array::{CoordValues, Coordinate, DataArray, TimeAxis};
pub use attrs::{AttrValue, Attributes};
pub use blocks::VariableReader;
pub use cf_encode::Provenance;
pub use decode::{read_variable, read_variable_at};
pub use error::{DataError, Result};
pub use location::Location;
pub use netcdf_write::write_netcdf;
pub use objects::{ObjectVersion, copy_stores};
pub use publish::{OutputKind, PAGE_GENERATOR, PRODUCER_ATTRIBUTE, Replace, check_destination};
pub use zarr_write::{Companion, Compression, WriteOptions, ZarrWriter, write_zarr};
