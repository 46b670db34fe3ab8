//! Chunk shapes from a memory target: the two layouts of the original system, computed the same way so that a
//! global ERA5 field gets 25-day chunks and a 30-year series 48×48-cell chunks.

/// How a store is split into chunks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ChunkLayout {
    /// Whole maps, chunked along time: fast to read one day everywhere.
    FullSpace,
    /// Whole time series, chunked in space: fast to read one place at all times (what point-wise methods and the
    /// published daily products use).
    #[default]
    FullTime,
}

/// The original's target of about 100 MB per chunk: large enough for object storage, small enough for memory.
pub const DEFAULT_CHUNK_BYTES: usize = 100_000_000;

/// Chunk shape for an array of `shape` whose first axis is time (when `has_time`), for elements of `item_size`
/// bytes. Axes that the layout keeps whole get their full length; the `k` chunked axes each get
/// `min(ceil(n^(1/k)), len)` with `n = target / (item_size * product of whole axes)`.
pub fn chunk_shape(
    shape: &[usize],
    has_time: bool,
    layout: ChunkLayout,
    item_size: usize,
    target_bytes: usize,
) -> Vec<usize> {
    let chunked: Vec<bool> = (0..shape.len())
        .map(|axis| match (has_time, layout) {
            (false, _) => false,
            (true, ChunkLayout::FullSpace) => axis == 0,
            (true, ChunkLayout::FullTime) => axis != 0,
        })
        .collect();
    let whole_bytes: f64 =
        shape.iter().zip(&chunked).filter(|(_, c)| !**c).map(|(&n, _)| n.max(1) as f64).product::<f64>()
            * item_size as f64;
    let k = chunked.iter().filter(|c| **c).count();
    let per_axis = if k == 0 { 1.0 } else { (target_bytes as f64 / whole_bytes).powf(1.0 / k as f64).ceil().max(1.0) };
    shape
        .iter()
        .zip(&chunked)
        .map(|(&n, &c)| if c { (per_axis as usize).clamp(1, n.max(1)) } else { n.max(1) })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_the_original_worked_cases() {
        // A global 721x1440 float32 map gives 25 days per chunk.
        assert_eq!(
            chunk_shape(&[31046, 721, 1440], true, ChunkLayout::FullSpace, 4, DEFAULT_CHUNK_BYTES),
            vec![25, 721, 1440]
        );
        // Thirty years of days (10958) give 48x48-cell series.
        assert_eq!(
            chunk_shape(&[10958, 721, 1440], true, ChunkLayout::FullTime, 4, DEFAULT_CHUNK_BYTES),
            vec![10958, 48, 48]
        );
        // 1950-2014 (23741 days) gives 33x33.
        assert_eq!(
            chunk_shape(&[23741, 721, 1440], true, ChunkLayout::FullTime, 4, DEFAULT_CHUNK_BYTES),
            vec![23741, 33, 33]
        );
    }

    #[test]
    fn small_arrays_are_one_chunk_and_no_axis_is_zero() {
        assert_eq!(
            chunk_shape(&[1805, 19, 29], true, ChunkLayout::FullTime, 4, DEFAULT_CHUNK_BYTES),
            vec![1805, 19, 29]
        );
        assert_eq!(chunk_shape(&[0, 3], true, ChunkLayout::FullSpace, 4, DEFAULT_CHUNK_BYTES), vec![1, 3]);
        assert_eq!(chunk_shape(&[7], false, ChunkLayout::FullTime, 8, 1), vec![7]);
    }
}
