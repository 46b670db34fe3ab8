//! How much of a catalog is read: a policy, so that a mistaken path (a FIFO, `/dev/zero`, a huge file) is refused
//! instead of filling memory. Files are read through `downscale_fs::read_regular_file`.

/// Largest collection JSON a catalog may have. Real ones (Pangeo's, the sample data's) are a few KB; the rows are
/// in the CSV.
pub const COLLECTION_JSON_LIMIT: u64 = 4 << 20;

/// Largest catalog CSV table. A CSV lists every file of a data set, so it can be large (Pangeo's CMIP6 table is
/// about 100 MB uncompressed); the limit only keeps a mistaken path from filling memory.
pub const CATALOG_CSV_LIMIT: u64 = 256 << 20;
