//! Sorting and selection in about linear time for the samples quantile mapping sees (thousands of values spread
//! over a range), because they dominate the cost of training (two quantile sets per group) and of QDM (one ranking
//! per group).
//!
//! Values are bucketed by `⌊(v - min) · B / (max - min)⌋`, which never puts a larger value in an earlier bucket
//! (subtraction, multiplication by a positive constant and truncation are all monotone in floating point), so
//! counting the buckets tells in which bucket every rank lies. Selection then only orders the few buckets holding
//! the wanted ranks, and sorting orders each (small) bucket. Heavily tied or skewed samples just make some buckets
//! large; those are ordered with the standard library, so the result never depends on the data's shape, only the
//! time does.

/// Scratch space reused across groups, so that adjusting or training a point does not allocate per group.
#[derive(Debug, Default)]
pub(crate) struct OrderScratch {
    /// Bucket start offsets (prefix sums of the counts), one more than the number of buckets.
    starts: Vec<u32>,
    /// Per bucket, where its next value goes in `gathered` (`u32::MAX` for buckets that are not wanted).
    cursors: Vec<u32>,
    gathered: Vec<f64>,
    /// The bucket of each (valid) value, in order, computed once by the counting pass for the passes after it.
    bucket_of: Vec<u32>,
    /// The valid values of a sample with missing values.
    valid: Vec<f64>,
}

/// The number of buckets for `n` values: a few values per bucket, within cache-friendly bounds.
fn bucket_count(n: usize, values_per_bucket: usize) -> usize {
    (n / values_per_bucket).clamp(1, 1 << 14)
}

/// The order-preserving bucketing of a NaN-free sample with a finite, positive range; `None` when the values are all
/// equal or the range is not finite (then callers fall back on the standard library).
#[derive(Debug, Clone, Copy)]
struct Buckets {
    min: f64,
    scale: f64,
    count: usize,
}

impl Buckets {
    fn new(values: &[f64], count: usize) -> Option<Buckets> {
        let (min, max) = nan_free_min_max(values);
        let range = max - min;
        (range > 0.0 && range.is_finite()).then(|| Buckets { min, scale: count as f64 / range, count })
    }

    /// Prefix sums of the bucket sizes of `values` (the sample the buckets were made from) into `starts` (bucket
    /// `b` holds ranks `starts[b]..starts[b + 1]`), and each value's bucket, in order, into `bucket_of`.
    fn count_into(&self, values: &[f64], starts: &mut Vec<u32>, bucket_of: &mut Vec<u32>) {
        starts.clear();
        starts.resize(self.count + 1, 0);
        // Every cell is written below: resizing without clearing zeroes only the cells a longer sample adds.
        bucket_of.resize(values.len(), 0);
        // Clamped in floating point first, so the conversion is a plain signed one (no unsigned or 64-bit range
        // fix-ups): `count` is at most 2^14 and the clamped value is in [0, count - 1]. `max`/`min` rather than
        // branches keep the loop vectorisable.
        let last = (self.count - 1) as f64;
        for (bucket, &value) in bucket_of.iter_mut().zip(values) {
            let clamped = ((value - self.min) * self.scale).max(0.0).min(last);
            // SAFETY: `clamped` is a number in [0, count - 1] ⊂ i32: `min`, `scale` and `last` are finite (the range
            // is), and `f64::max`/`f64::min` return the bound for a NaN or infinite product. Without the saturating
            // conversion's fix-ups the loop converts two values per instruction.
            *bucket = unsafe { clamped.to_int_unchecked::<i32>() } as u32;
        }
        for &bucket in bucket_of.iter() {
            starts[bucket as usize + 1] += 1;
        }
        let mut running = 0;
        for start in starts.iter_mut() {
            running += *start;
            *start = running;
        }
    }
}

/// The smallest and largest of the NaN-free `values` (infinities for an empty slice), in independent lanes: one
/// running minimum is a chain of dependent comparisons, a few cycles per value, where lanes vectorise. Plain
/// comparisons, cheaper than `f64::min`'s NaN handling, which NaN-free values do not need.
fn nan_free_min_max(values: &[f64]) -> (f64, f64) {
    const LANES: usize = 8;
    let (chunks, remainder) = values.as_chunks::<LANES>();
    // Two passes: in one, the compiler paired each lane's minimum with its maximum instead of vectorising lanes.
    let low = chunks.iter().fold([f64::INFINITY; LANES], |low, chunk| {
        std::array::from_fn(|lane| if chunk[lane] < low[lane] { chunk[lane] } else { low[lane] })
    });
    let high = chunks.iter().fold([f64::NEG_INFINITY; LANES], |high, chunk| {
        std::array::from_fn(|lane| if chunk[lane] > high[lane] { chunk[lane] } else { high[lane] })
    });
    let fold =
        |(lo, hi): (f64, f64), (&l, &h): (&f64, &f64)| (if l < lo { l } else { lo }, if h > hi { h } else { hi });
    let lanes_extremes = low.iter().zip(&high).fold((f64::INFINITY, f64::NEG_INFINITY), fold);
    remainder.iter().zip(remainder).fold(lanes_extremes, fold)
}

/// The order statistics of the NaN-free `values` at the 0-based ranks `positions` (ascending, unique, each below
/// `values.len()`), written to `out` in the same order.
pub(crate) fn order_statistics(values: &[f64], positions: &[usize], scratch: &mut OrderScratch, out: &mut Vec<f64>) {
    out.clear();
    let Some(buckets) = Buckets::new(values, bucket_count(values.len(), 4)) else {
        scratch.gathered.clear();
        scratch.gathered.extend_from_slice(values);
        select_positions(&mut scratch.gathered, 0, positions);
        out.extend(positions.iter().map(|&p| scratch.gathered[p]));
        return;
    };
    buckets.count_into(values, &mut scratch.starts, &mut scratch.bucket_of);
    let starts = &scratch.starts;
    // The buckets holding wanted ranks get consecutive room in `gathered`.
    scratch.cursors.clear();
    scratch.cursors.resize(buckets.count, u32::MAX);
    let mut room = 0;
    for &position in positions {
        let bucket = starts.partition_point(|&start| start as usize <= position) - 1;
        if scratch.cursors[bucket] == u32::MAX {
            scratch.cursors[bucket] = room;
            room += starts[bucket + 1] - starts[bucket];
        }
    }
    scratch.gathered.clear();
    scratch.gathered.resize(room as usize, 0.0);
    for (&value, &bucket) in values.iter().zip(&scratch.bucket_of) {
        let cursor = &mut scratch.cursors[bucket as usize];
        if *cursor != u32::MAX {
            scratch.gathered[*cursor as usize] = value;
            *cursor += 1;
        }
    }
    // Each cursor now points at the end of its bucket's room; order each wanted bucket by the ranks it holds.
    let mut first = 0;
    while first < positions.len() {
        let bucket = starts.partition_point(|&start| start as usize <= positions[first]) - 1;
        let (rank_start, rank_end) = (starts[bucket] as usize, starts[bucket + 1] as usize);
        let last = first + positions[first..].partition_point(|&p| p < rank_end);
        let room_end = scratch.cursors[bucket] as usize;
        let slice = &mut scratch.gathered[room_end - (rank_end - rank_start)..room_end];
        select_positions(slice, rank_start, &positions[first..last]);
        out.extend(positions[first..last].iter().map(|&p| slice[p - rank_start]));
        first = last;
    }
}

/// Buckets of up to this many values are searched by counting over a fixed-size window (branch-free; the values
/// after the bucket are all larger, or the +inf padding, so they never count); larger buckets are sorted and
/// binary-searched.
const RANK_WINDOW: usize = 8;

/// Average ranks (1-based; tied values share the mean of their ranks, pandas/bottleneck "average") of `values` into
/// `ranks`, NaN for NaN. Returns the number of valid values. A value's rank is the start of its bucket plus the
/// number of values of its bucket below it (and equal to it, for the tie block), so nothing is sorted unless a bucket
/// is large (many ties).
pub(crate) fn average_ranks(values: &[f64], scratch: &mut OrderScratch, ranks: &mut Vec<f64>) -> usize {
    let valid_count = values.iter().filter(|v| !v.is_nan()).count();
    if valid_count == values.len() {
        ranks_of_valid(values, values, scratch, ranks);
    } else {
        // The passes run over a plain slice of the valid values, which the compiler vectorises.
        let mut valid = std::mem::take(&mut scratch.valid);
        valid.clear();
        valid.extend(values.iter().copied().filter(|v| !v.is_nan()));
        ranks_of_valid(values, &valid, scratch, ranks);
        scratch.valid = valid;
    }
    valid_count
}

/// [`average_ranks`] given the valid values of `values`, in order.
fn ranks_of_valid(values: &[f64], valid: &[f64], scratch: &mut OrderScratch, ranks: &mut Vec<f64>) {
    ranks.clear();
    let valid_count = valid.len();
    let gathered = &mut scratch.gathered;
    gathered.clear();
    let Some(buckets) = Buckets::new(valid, bucket_count(valid_count, 2)) else {
        // All values equal, or an infinite range: one sorted copy and binary searches.
        gathered.extend_from_slice(valid);
        gathered.sort_unstable_by(f64::total_cmp);
        ranks.extend(values.iter().map(|&v| if v.is_nan() { f64::NAN } else { average_rank(0, gathered, v) }));
        return;
    };
    buckets.count_into(valid, &mut scratch.starts, &mut scratch.bucket_of);
    let starts = &scratch.starts;
    gathered.resize(valid_count + RANK_WINDOW, f64::INFINITY);
    scratch.cursors.clear();
    scratch.cursors.extend_from_slice(&starts[..buckets.count]);
    for (&value, &bucket) in valid.iter().zip(&scratch.bucket_of) {
        let cursor = &mut scratch.cursors[bucket as usize];
        gathered[*cursor as usize] = value;
        *cursor += 1;
    }
    for bucket in starts.windows(2) {
        let bucket = &mut gathered[bucket[0] as usize..bucket[1] as usize];
        if bucket.len() > RANK_WINDOW {
            bucket.sort_unstable_by(f64::total_cmp);
        }
    }
    let mut bucket_of = scratch.bucket_of.iter();
    ranks.extend(values.iter().map(|&v| {
        if v.is_nan() {
            return f64::NAN;
        }
        let bucket = *bucket_of.next().expect("one bucket per valid value") as usize;
        let (start, end) = (starts[bucket] as usize, starts[bucket + 1] as usize);
        match gathered[start..].first_chunk::<RANK_WINDOW>() {
            Some(window) if end - start <= RANK_WINDOW => {
                let (below, not_above) =
                    window.iter().fold((0, 0), |(b, n), &x| (b + usize::from(x < v), n + usize::from(x <= v)));
                tie_block_rank(start + below, start + not_above)
            }
            _ => average_rank(start, &gathered[start..end], v),
        }
    }));
}

/// The average rank of `value` among the ascending `sorted` values, which hold ranks `offset + 1 ..`.
fn average_rank(offset: usize, sorted: &[f64], value: f64) -> f64 {
    let below = sorted.partition_point(|&x| x < value);
    let not_above = sorted.partition_point(|&x| x <= value);
    tie_block_rank(offset + below, offset + not_above)
}

/// The mean of the 1-based ranks `below + 1 ..= not_above` shared by a tie block.
pub(crate) fn tie_block_rank(below: usize, not_above: usize) -> f64 {
    (below + 1 + not_above) as f64 / 2.0
}

/// Slices up to this length are sorted rather than selected in.
const SORT_WHOLE_BELOW: usize = 20;

/// Reorders `values` so that every index in `positions` (ascending, unique, offset by `base`) holds the order
/// statistic of that rank, by recursive selection around the middle wanted position.
fn select_positions(values: &mut [f64], base: usize, positions: &[usize]) {
    if positions.is_empty() || values.len() < 2 {
        return;
    }
    // A bucket of a few values is ordered faster whole (the standard library's small-sort network) than by
    // repeated selection.
    if values.len() <= SORT_WHOLE_BELOW {
        values.sort_unstable_by(f64::total_cmp);
        return;
    }
    let middle = positions.len() / 2;
    let pivot = positions[middle] - base;
    values.select_nth_unstable_by(pivot, f64::total_cmp);
    let (left, right) = values.split_at_mut(pivot);
    select_positions(left, base, &positions[..middle]);
    select_positions(&mut right[1..], base + pivot + 1, &positions[middle + 1..]);
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    #[test]
    fn min_max_covers_the_lanes_and_the_remainder() {
        assert_eq!(nan_free_min_max(&[]), (f64::INFINITY, f64::NEG_INFINITY));
        assert_eq!(nan_free_min_max(&[2.0, -1.0, 3.0]), (-1.0, 3.0));
        // The extremes in the remainder, then inside the lanes.
        let mut values: Vec<f64> = (0..19).map(|k| (k % 5) as f64).collect();
        values[17] = -7.0;
        values[18] = 9.0;
        assert_eq!(nan_free_min_max(&values), (-7.0, 9.0));
        values.swap(17, 3);
        values.swap(18, 12);
        assert_eq!(nan_free_min_max(&values), (-7.0, 9.0));
        assert_eq!(nan_free_min_max(&[f64::NEG_INFINITY, 0.0]), (f64::NEG_INFINITY, 0.0));
    }

    /// A small deterministic generator for test samples (no dependency on the random sources under test).
    pub(crate) fn sample(n: usize, seed: u64, spread: impl Fn(f64) -> f64) -> Vec<f64> {
        let mut state = seed;
        (0..n)
            .map(|_| {
                state = state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
                spread((state >> 11) as f64 / (1u64 << 53) as f64)
            })
            .collect()
    }

    /// Average ranks the slow way: count smaller and equal values.
    fn naive_ranks(values: &[f64]) -> Vec<f64> {
        let valid: Vec<f64> = values.iter().copied().filter(|v| !v.is_nan()).collect();
        let rank = |v: f64| {
            let below = valid.iter().filter(|&&x| x < v).count();
            let equal = valid.iter().filter(|&&x| x == v).count();
            below as f64 + (equal as f64 + 1.0) / 2.0
        };
        values.iter().map(|&v| if v.is_nan() { f64::NAN } else { rank(v) }).collect()
    }

    /// Maps a uniform draw to a sample value, shaping the distribution.
    type Shape = Box<dyn Fn(f64) -> f64>;

    #[test]
    fn selection_and_ranks_agree_with_the_slow_ways() {
        let shapes: [(&str, Shape); 5] = [
            ("uniform", Box::new(|u| 280.0 + 20.0 * u)),
            ("many ties", Box::new(|u| if u < 0.6 { 0.0 } else { (u * 10.0).floor() })),
            ("one outlier", Box::new(|u| if u > 0.999 { 1e12 } else { u })),
            ("all equal", Box::new(|_| 3.5)),
            (
                "gaps and infinity",
                Box::new(|u| {
                    if u < 0.1 {
                        f64::NAN
                    } else if u > 0.99 {
                        f64::INFINITY
                    } else {
                        u
                    }
                }),
            ),
        ];
        let mut scratch = OrderScratch::default();
        for (name, shape) in shapes {
            for n in [1, 2, 7, 100, 3000] {
                let values = sample(n, n as u64, &shape);
                let mut ranks = Vec::new();
                let valid = average_ranks(&values, &mut scratch, &mut ranks);
                let expected = naive_ranks(&values);
                assert!(ranks.iter().zip(&expected).all(|(a, b)| a == b || (a.is_nan() && b.is_nan())), "{name} {n}");
                let unsorted: Vec<f64> = values.iter().copied().filter(|v| !v.is_nan()).collect();
                assert_eq!(valid, unsorted.len());
                if unsorted.is_empty() {
                    continue;
                }
                let mut sorted = unsorted.clone();
                sorted.sort_by(f64::total_cmp);
                let mut positions: Vec<usize> = (0..valid).step_by(1 + valid / 13).chain([valid - 1]).collect();
                positions.dedup();
                let mut out = Vec::new();
                order_statistics(&unsorted, &positions, &mut scratch, &mut out);
                let expected: Vec<f64> = positions.iter().map(|&p| sorted[p]).collect();
                assert_eq!(out, expected, "{name}, n = {n}");
            }
        }
    }
}
