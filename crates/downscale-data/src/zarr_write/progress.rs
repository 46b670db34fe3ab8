//! Which chunks of a store being written block by block hold their data, so that a store with a hole is never
//! published and two blocks never overwrite each other's values.

use std::collections::HashMap;
use std::ops::Range;
use std::sync::{Mutex, PoisonError};

/// Index ranges, one per dimension: a block, a chunk, or a rectangle of chunk indices.
pub(super) type Region = Vec<Range<usize>>;

/// How a block meets the chunk grid.
#[derive(Debug, PartialEq)]
pub(super) struct BlockCover {
    /// The chunks the block covers entirely, as chunk index ranges (empty on some axis when there are none).
    pub(super) whole_chunks: Region,
    /// The array region those chunks span (chunks at the array's edge end with it).
    pub(super) whole_region: Region,
    /// Chunks the block covers in part, each with the part it covers (array indices).
    pub(super) parts: Vec<(Vec<usize>, Region)>,
}

impl BlockCover {
    pub(super) fn has_whole_chunks(&self) -> bool {
        self.whole_chunks.iter().all(|r| !r.is_empty())
    }
}

/// Splits the non-empty `block` of an array of `shape`, chunked by `chunk`, into whole chunks and partial ones.
pub(super) fn cover(block: &[Range<usize>], shape: &[usize], chunk: &[usize]) -> BlockCover {
    let axes = block.iter().zip(shape).zip(chunk);
    let touched: Region = axes.clone().map(|((r, _), &k)| r.start / k..(r.end - 1) / k + 1).collect();
    let whole_chunks: Region = axes
        .clone()
        .map(|((r, &n), &k)| {
            // A chunk at the array's edge is whole when the block reaches the edge.
            let end = if r.end == n { n.div_ceil(k) } else { r.end / k };
            r.start.div_ceil(k)..end.max(r.start.div_ceil(k))
        })
        .collect();
    let whole_region =
        axes.clone().zip(&whole_chunks).map(|(((_, &n), &k), c)| c.start * k..(c.end * k).min(n)).collect();
    let has_whole = whole_chunks.iter().all(|r| !r.is_empty());
    let parts = grid(&touched)
        .into_iter()
        .filter(|index| !(has_whole && contains(&whole_chunks, index)))
        .map(|index| {
            let part = index
                .iter()
                .zip(block)
                .zip(chunk)
                .zip(shape)
                .map(|(((&c, r), &k), &n)| r.start.max(c * k)..r.end.min((c + 1) * k).min(n));
            let part: Region = part.collect();
            (index, part)
        })
        .collect();
    BlockCover { whole_chunks, whole_region, parts }
}

/// Every index of the rectangle `ranges`, in C order.
pub(super) fn grid(ranges: &[Range<usize>]) -> Vec<Vec<usize>> {
    ranges.iter().fold(vec![Vec::new()], |prefixes, range| {
        prefixes.iter().flat_map(|prefix| range.clone().map(move |i| [prefix.as_slice(), &[i]].concat())).collect()
    })
}

fn contains(region: &[Range<usize>], index: &[usize]) -> bool {
    region.iter().zip(index).all(|(r, i)| r.contains(i))
}

fn overlaps(a: &[Range<usize>], b: &[Range<usize>]) -> bool {
    a.iter().zip(b).all(|(a, b)| a.start < b.end && b.start < a.end)
}

fn volume(region: &[Range<usize>]) -> usize {
    region.iter().map(ExactSizeIterator::len).product()
}

/// The chunks written so far: rectangles of whole chunks, and the parts written of the others.
#[derive(Default)]
struct Written {
    whole: Vec<Region>,
    parts: HashMap<Vec<usize>, Vec<Region>>,
}

/// What one block added to the record, to take back if storing it fails.
#[derive(Debug)]
pub(super) struct Reservation {
    whole: Option<Region>,
    parts: Vec<(Vec<usize>, Region)>,
}

/// The record of written chunks, shared by the threads writing blocks.
pub(super) struct ChunkProgress {
    shape: Vec<usize>,
    chunk: Vec<usize>,
    written: Mutex<Written>,
}

impl ChunkProgress {
    pub(super) fn new(shape: &[usize], chunk: &[usize]) -> ChunkProgress {
        ChunkProgress { shape: shape.to_vec(), chunk: chunk.to_vec(), written: Mutex::default() }
    }

    /// Records `cover` as written, before it is stored, so that a concurrent block overlapping it is refused rather
    /// than racing it. Writing exactly the same block again (a retry) is allowed; any other overlap is an error.
    pub(super) fn reserve(&self, cover: &BlockCover) -> Result<Reservation, String> {
        let mut written = self.written.lock().unwrap_or_else(PoisonError::into_inner);
        let whole = cover.has_whole_chunks().then(|| cover.whole_chunks.clone());
        let new_whole = whole.filter(|w| !written.whole.contains(w));
        if let Some(w) = &new_whole
            && (written.whole.iter().any(|old| overlaps(old, w)) || written.parts.keys().any(|c| contains(w, c)))
        {
            return Err(format!("the block overlaps chunks another block wrote (chunk index ranges {w:?})"));
        }
        let mut new_parts = Vec::new();
        for (index, part) in &cover.parts {
            let earlier = written.parts.get(index).map_or(&[][..], Vec::as_slice);
            if earlier.contains(part) {
                continue;
            }
            if earlier.iter().any(|old| overlaps(old, part)) || written.whole.iter().any(|w| contains(w, index)) {
                return Err(format!("the block overlaps part of chunk {index:?} that another block wrote"));
            }
            new_parts.push((index.clone(), part.clone()));
        }
        if let Some(w) = &new_whole {
            written.whole.push(w.clone());
        }
        for (index, part) in &new_parts {
            written.parts.entry(index.clone()).or_default().push(part.clone());
        }
        Ok(Reservation { whole: new_whole, parts: new_parts })
    }

    /// Takes back what a block whose storing failed had reserved.
    pub(super) fn release(&self, reservation: Reservation) {
        let mut written = self.written.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(whole) = reservation.whole {
            written.whole.retain(|w| *w != whole);
        }
        for (index, part) in reservation.parts {
            if let Some(parts) = written.parts.get_mut(&index) {
                parts.retain(|p| *p != part);
            }
        }
    }

    /// The chunks not completely written, in C order of chunk indices.
    pub(super) fn missing_chunks(&self) -> Vec<Vec<usize>> {
        let written = self.written.lock().unwrap_or_else(PoisonError::into_inner);
        let chunks: Region = self.shape.iter().zip(&self.chunk).map(|(&n, &k)| 0..n.div_ceil(k)).collect();
        grid(&chunks)
            .into_iter()
            .filter(|index| {
                if written.whole.iter().any(|w| contains(w, index)) {
                    return false;
                }
                let covered: usize = written.parts.get(index).map_or(0, |parts| parts.iter().map(|p| volume(p)).sum());
                covered < volume(&self.chunk_region(index))
            })
            .collect()
    }

    /// The array region of chunk `index`, cut at the array's edge.
    fn chunk_region(&self, index: &[usize]) -> Region {
        index.iter().zip(&self.chunk).zip(&self.shape).map(|((&c, &k), &n)| c * k..((c + 1) * k).min(n)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aligned_blocks_are_whole_chunks_and_edges_count_as_whole() {
        // 10 x 7 array, 4 x 3 chunks: the last chunk row and column are cut by the array's edge.
        let c = cover(&[4..10, 0..7], &[10, 7], &[4, 3]);
        assert_eq!(c.whole_chunks, [1..3, 0..3]);
        assert_eq!(c.whole_region, [4..10, 0..7]);
        assert!(c.parts.is_empty());
    }

    #[test]
    fn unaligned_blocks_split_into_whole_and_partial_chunks() {
        let c = cover(&[2..10, 0..7], &[10, 7], &[4, 3]);
        assert_eq!(c.whole_chunks, [1..3, 0..3]);
        assert_eq!(
            c.parts,
            [(vec![0, 0], vec![2..4, 0..3]), (vec![0, 1], vec![2..4, 3..6]), (vec![0, 2], vec![2..4, 6..7])]
        );
        let inside_one_chunk = cover(&[1..2, 1..2], &[10, 7], &[4, 3]);
        assert!(!inside_one_chunk.has_whole_chunks());
        assert_eq!(inside_one_chunk.parts, [(vec![0, 0], vec![1..2, 1..2])]);
    }

    #[test]
    fn progress_counts_missing_chunks_and_refuses_overlaps() {
        let progress = ChunkProgress::new(&[10, 7], &[4, 3]);
        assert_eq!(progress.missing_chunks().len(), 9);
        progress.reserve(&cover(&[0..2, 0..7], &[10, 7], &[4, 3])).unwrap();
        assert_eq!(progress.missing_chunks().len(), 9, "half of the first chunk row");
        progress.reserve(&cover(&[0..2, 0..7], &[10, 7], &[4, 3])).unwrap();
        let retry = progress.reserve(&cover(&[2..4, 0..7], &[10, 7], &[4, 3])).unwrap();
        assert_eq!(progress.missing_chunks().len(), 6);
        progress.release(retry);
        assert_eq!(progress.missing_chunks().len(), 9);
        assert!(progress.reserve(&cover(&[1..3, 0..1], &[10, 7], &[4, 3])).unwrap_err().contains("chunk [0, 0]"));
        progress.reserve(&cover(&[2..10, 0..7], &[10, 7], &[4, 3])).unwrap();
        assert!(progress.missing_chunks().is_empty());
        assert!(progress.reserve(&cover(&[5..6, 0..7], &[10, 7], &[4, 3])).is_err());
    }
}
