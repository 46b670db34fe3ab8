//! Reading a block of decoded indices from storage. Decoding reorders axes (time first) and indices (latitude
//! flipped, longitudes wrapped and sorted), so a block of decoded indices is, along each axis, a list of stored
//! indices that need not be contiguous. Each such list is split into a few contiguous stored runs; the block is the
//! assembly of the hyperslabs of those runs, each read once, so a tile straddling the wrap of a 0–360 grid reads its
//! two halves and not every longitude between them.

use std::ops::Range;

use ndarray::{ArrayD, Axis, IxDyn, Slice};

use crate::backend::RawDataset;
use crate::decode::Unpacking;
use crate::error::Result;

/// Where one decoded axis is stored: the stored axis and the stored index of each decoded index.
#[derive(Debug, Clone)]
pub(crate) struct StoredAxis {
    pub(crate) axis: usize,
    pub(crate) indices: Vec<usize>,
}

/// Beyond this many runs on one axis (an axis in no simple order), its bounding stored range is read whole and the
/// wanted indices selected from it, rather than issuing a read per run.
const MAX_RUNS_PER_AXIS: usize = 4;

/// A contiguous stored range whose values fill consecutive decoded positions of a block.
#[derive(Debug, Clone, PartialEq)]
struct Run {
    stored: Range<usize>,
    /// Positions within `stored`, in decoded order, when that order is not the stored one (a flipped latitude, or
    /// the selection inside a bounding range).
    order: Option<Vec<usize>>,
}

impl Run {
    fn len(&self) -> usize {
        self.order.as_ref().map_or(self.stored.len(), Vec::len)
    }
}

/// Splits stored indices into maximal runs of consecutive ascending or descending indices.
fn runs(indices: &[usize]) -> Vec<Run> {
    let mut runs = Vec::new();
    let mut i = 0;
    while i < indices.len() {
        let first = indices[i];
        let step = match indices.get(i + 1) {
            Some(&next) if next == first + 1 => 1,
            Some(&next) if next + 1 == first => -1,
            _ => 0,
        };
        let mut len = 1;
        while step != 0 && indices.get(i + len).is_some_and(|&x| x as isize == first as isize + step * len as isize) {
            len += 1;
        }
        runs.push(if step < 0 {
            Run { stored: first + 1 - len..first + 1, order: Some((0..len).rev().collect()) }
        } else {
            Run { stored: first..first + len, order: None }
        });
        i += len;
    }
    if runs.len() > MAX_RUNS_PER_AXIS {
        let low = indices.iter().copied().min().unwrap_or(0);
        let high = indices.iter().copied().max().map_or(0, |m| m + 1);
        return vec![Run { stored: low..high, order: Some(indices.iter().map(|&x| x - low).collect()) }];
    }
    runs
}

/// The values of the decoded block `ranges` of variable `name`, in decoded axis order and C layout. `ranges` are
/// already checked against the decoded shape.
pub(crate) fn read_decoded(
    ds: &dyn RawDataset,
    name: &str,
    unpacking: &Unpacking,
    axes: &[StoredAxis],
    ranges: &[Range<usize>],
) -> Result<ArrayD<f32>> {
    let shape: Vec<usize> = ranges.iter().map(ExactSizeIterator::len).collect();
    if shape.contains(&0) {
        return Ok(ArrayD::zeros(IxDyn(&shape)));
    }
    let per_axis: Vec<Vec<Run>> = axes.iter().zip(ranges).map(|(a, r)| runs(&a.indices[r.clone()])).collect();
    let read = |pick: &[&Run]| -> Result<ArrayD<f32>> {
        let mut start = vec![0; axes.len()];
        let mut count = vec![0; axes.len()];
        for (axis, run) in axes.iter().zip(pick) {
            start[axis.axis] = run.stored.start;
            count[axis.axis] = run.stored.len();
        }
        let stored = unpacking.read_f32(ds, name, &start, &count)?;
        Ok(to_decoded_order(stored, axes, pick))
    };
    if per_axis.iter().all(|runs| runs.len() == 1) {
        let pick: Vec<&Run> = per_axis.iter().map(|runs| &runs[0]).collect();
        return read(&pick);
    }
    let mut block = ArrayD::from_elem(IxDyn(&shape), f32::NAN);
    for pick in combinations(&per_axis) {
        let part = read(&pick.iter().map(|&(_, run)| run).collect::<Vec<_>>())?;
        let mut target = block.view_mut();
        for (axis, &(offset, run)) in pick.iter().enumerate() {
            target.slice_axis_inplace(Axis(axis), Slice::from(offset..offset + run.len()));
        }
        target.assign(&part);
    }
    Ok(block)
}

/// Every choice of one run per axis, each with its offset in the block along that axis.
fn combinations(per_axis: &[Vec<Run>]) -> Vec<Vec<(usize, &Run)>> {
    per_axis.iter().fold(vec![Vec::new()], |partial, runs| {
        let offsets = runs.iter().scan(0, |offset, run| {
            let at = *offset;
            *offset += run.len();
            Some((at, run))
        });
        let offsets: Vec<(usize, &Run)> = offsets.collect();
        partial
            .iter()
            .flat_map(|prefix| offsets.iter().map(move |&choice| [prefix.as_slice(), &[choice]].concat()))
            .collect()
    })
}

/// A stored hyperslab permuted to decoded axis order, with each run's positions picked, in C layout.
fn to_decoded_order(stored: ArrayD<f32>, axes: &[StoredAxis], pick: &[&Run]) -> ArrayD<f32> {
    let order: Vec<usize> = axes.iter().map(|a| a.axis).collect();
    let mut data = stored.permuted_axes(IxDyn(&order));
    for (axis, run) in pick.iter().enumerate() {
        if let Some(positions) = &run.order {
            data = data.select(Axis(axis), positions);
        }
    }
    standard_layout(data)
}

/// `data` in C order, copied only when it is not already.
fn standard_layout(data: ArrayD<f32>) -> ArrayD<f32> {
    if data.is_standard_layout() { data } else { data.as_standard_layout().into_owned() }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(stored: Range<usize>, order: Option<Vec<usize>>) -> Run {
        Run { stored, order }
    }

    #[test]
    fn indices_split_into_ascending_and_descending_runs() {
        assert_eq!(runs(&[3, 4, 5]), [run(3..6, None)]);
        assert_eq!(runs(&[5, 4, 3]), [run(3..6, Some(vec![2, 1, 0]))]);
        // The wrap point of a 0–360 grid sorted to [-180, 180): the western half first.
        assert_eq!(runs(&[254, 255, 0, 1]), [run(254..256, None), run(0..2, None)]);
        assert_eq!(runs(&[7]), [run(7..8, None)]);
    }

    #[test]
    fn scattered_indices_read_their_bounding_range_once() {
        assert_eq!(runs(&[9, 1, 5, 3, 7, 2]), [run(1..10, Some(vec![8, 0, 4, 2, 6, 1]))]);
    }

    #[test]
    fn combinations_cover_the_block_once() {
        let per_axis = vec![vec![run(0..2, None)], vec![run(6..8, None), run(0..3, None)]];
        let offsets: Vec<Vec<usize>> =
            combinations(&per_axis).iter().map(|pick| pick.iter().map(|&(o, _)| o).collect()).collect();
        assert_eq!(offsets, [[0, 0], [0, 2]]);
    }
}
