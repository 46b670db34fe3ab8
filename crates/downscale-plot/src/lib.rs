//! Maps and time-series plots of `downscale`'s output stores, as PNG or SVG bytes.
//!
//! Two steps, both pure: select what to draw from a decoded `(time, lat, lon)` array ([`select_field`],
//! [`mean_over_years`], [`difference`], [`domain_mean_series`]), then render it ([`render_map`],
//! [`render_series`]) into an [`Image`]: the encoded bytes and the plot area's pixel geometry. Nothing is written
//! to disk and no system font is looked up (DejaVu Sans is compiled in), so the command line and a web server
//! make the same images.

mod canvas;
mod coast;
mod colour;
mod error;
mod histogram;
mod map;
mod select;
mod series;
mod ticks;
mod time;

pub use canvas::{Image, ImageFormat, ImageSpec, PlotArea};
pub use coast::Coastlines;
pub use colour::{ColourScale, NO_DATA_COLOUR, Rgb};
pub use error::{PlotError, Result};
pub use histogram::{Histograms, render_histograms};
pub use map::{MapOptions, render_map};
pub use select::{
    Field, FieldSelection, Mean, Series, SeriesStep, difference, domain_mean_series, mean_over_years, select_field,
};
pub use series::render_series;
pub use time::TimeSpec;
