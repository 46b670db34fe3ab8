//! Why a plot could not be made: one line each, naming the store, variable, time or file concerned, because the
//! command line prints it as is and the dashboard shows it next to the plot that is missing.

/// A selection, a field or an image that cannot be made.
#[derive(Debug, thiserror::Error)]
pub enum PlotError {
    /// The array is not a `(time, lat, lon)` grid with numeric, ascending coordinates.
    #[error("{source_name}: variable '{variable}' {detail}")]
    NotAGrid {
        /// The store or file the array came from.
        source_name: String,
        /// The variable.
        variable: String,
        /// What is wrong with its layout.
        detail: String,
    },
    /// A time and a mean that do not make one map together.
    #[error("{detail}")]
    BadSelection {
        /// What is wrong, and what would do.
        detail: String,
    },
    /// A `--time` value that is not `YYYY-MM-DD`, `YYYY-MM` or `YYYY`.
    #[error("time '{given}' is not YYYY-MM-DD, YYYY-MM or YYYY: {detail}")]
    BadTime {
        /// The text given.
        given: String,
        /// What is wrong with it.
        detail: String,
    },
    /// A day, month, year or range of years that the data do not hold.
    #[error("{source_name}: {wanted} is outside the store's {first}..{last}")]
    OutsideRecord {
        /// The store or file the array came from.
        source_name: String,
        /// What was asked for, e.g. `time 2090-01-01` or `years 2070-2080`.
        wanted: String,
        /// The first date of the record.
        first: String,
        /// The last date of the record.
        last: String,
    },
    /// A time inside the record's span that has no step (a summer day in a store of winters).
    #[error("{source_name}: {wanted} has no time step in the store ({detail})")]
    NoTimeStep {
        /// The store or file the array came from.
        source_name: String,
        /// What was asked for.
        wanted: String,
        /// The nearest steps, or the months the store holds.
        detail: String,
    },
    /// A field or series without a single finite value, which no colour or axis range can show.
    #[error("{what} has no finite value to plot")]
    NoData {
        /// The field or series, e.g. `tas, 2081-01-01`.
        what: String,
    },
    /// Two fields that cannot be subtracted cell by cell.
    #[error("cannot subtract {subtrahend} from {minuend}: {detail}")]
    GridMismatch {
        /// The field subtracted from.
        minuend: String,
        /// The field subtracted.
        subtrahend: String,
        /// How their grids differ.
        detail: String,
    },
    /// An output name whose extension names no image format this crate writes.
    #[error("{path}: the image format comes from the extension, which must be .png or .svg")]
    UnknownFormat {
        /// The file name given.
        path: String,
    },
    /// An image size too small for the axes and the colour bar, or too large to hold in memory.
    #[error("image size {width}x{height} pixels: {detail}")]
    BadSize {
        /// Width asked for.
        width: u32,
        /// Height asked for.
        height: u32,
        /// Why it cannot be used.
        detail: String,
    },
    /// The vendored land polygons could not be read for the coastlines.
    #[error("coastlines: {0}")]
    Coastlines(String),
    /// Drawing or encoding failed (the vendored font refused, the PNG encoder failed).
    #[error("drawing the {what}: {detail}")]
    Drawing {
        /// The image being drawn (map, series).
        what: &'static str,
        /// The backend's message.
        detail: String,
    },
}

/// The crate's results.
pub type Result<T, E = PlotError> = std::result::Result<T, E>;
