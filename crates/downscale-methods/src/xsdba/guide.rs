//! Guided search in a short ascending list: equal cells over the list's span, each with the number of list values
//! in the cells before it, so that counting the values below a number starts a step or two short of the answer
//! instead of comparing against every value. A cell is found by a monotone computation (subtraction,
//! multiplication by a positive constant, clamping, truncation), so every value in an earlier cell than a number is
//! below that number, and the start is never past the answer, whether values equal to the number count or not.

/// Cells per guide: a few per value for the usual 20–100 nodes.
const CELLS: usize = 256;

#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct SortedGuide {
    origin: f64,
    scale: f64,
    /// `below[c]`: how many values lie in cells before `c`; empty until built (every start is then 0).
    below: Vec<u32>,
}

impl SortedGuide {
    /// Builds the guide of the ascending `sorted` over `[first, last]` (values outside fall in the end cells), reusing
    /// its memory. A degenerate or infinite span gets one cell: lookups then walk from the start.
    pub(crate) fn rebuild(&mut self, first: f64, last: f64, sorted: &[f64]) {
        let range = last - first;
        self.origin = first;
        self.scale = if range > 0.0 && range.is_finite() { CELLS as f64 / range } else { 0.0 };
        self.below.clear();
        self.below.resize(CELLS + 1, 0);
        for &value in sorted {
            let cell = self.cell(value);
            self.below[cell + 1] += 1;
        }
        for cell in 1..self.below.len() {
            self.below[cell] += self.below[cell - 1];
        }
    }

    fn cell(&self, value: f64) -> usize {
        cell_of(self.origin, self.scale, value)
    }

    /// A lower bound of the number of values below (or at) `value`.
    #[inline(always)]
    pub(crate) fn start(&self, value: f64) -> usize {
        self.view().start(value)
    }
}

/// The cell of `value` in a guide starting at `origin` with `scale` cells per unit.
#[inline(always)]
fn cell_of(origin: f64, scale: f64, value: f64) -> usize {
    let clamped = ((value - origin) * scale).max(0.0).min((CELLS - 1) as f64);
    // SAFETY: `clamped` is a number in [0, CELLS - 1] ⊂ i32 (`f64::max`/`f64::min` return the bound for a NaN or
    // infinite product, as for a value below the origin); this lookup runs once per adjusted value.
    unsafe { clamped.to_int_unchecked::<i32>() as usize }
}

/// A [`SortedGuide`] borrowed as plain values, which a hot loop keeps in registers.
#[derive(Debug, Clone, Copy)]
pub(crate) struct GuideView<'a> {
    origin: f64,
    scale: f64,
    below: &'a [u32],
}

impl SortedGuide {
    pub(crate) fn view(&self) -> GuideView<'_> {
        GuideView { origin: self.origin, scale: self.scale, below: &self.below }
    }
}

impl GuideView<'_> {
    /// A lower bound of the number of values below (or at) `value`.
    #[inline(always)]
    pub(crate) fn start(&self, value: f64) -> usize {
        if self.below.is_empty() {
            return 0;
        }
        self.below[cell_of(self.origin, self.scale, value)] as usize
    }
}

/// How many NaN cells follow a list searched with [`count_prefix`]: the search reads this many cells at once.
pub(crate) const SEARCH_PADDING: usize = 4;

/// The length of the prefix of `padded` (an ascending list followed by [`SEARCH_PADDING`] NaN) whose cells satisfy
/// `in_prefix`, a predicate true for a prefix of the list and false for NaN (a comparison with the value looked up),
/// counted from `start`, a lower bound of the answer (a guide's start). Counts a window of cells per step without a
/// branch on each cell: the guide leaves the answer a cell or two past the start, so one window almost always holds
/// it, and a branch on each cell mispredicted on about every lookup.
#[inline(always)]
pub(crate) fn count_prefix(padded: &[f64], start: usize, in_prefix: impl Fn(f64) -> bool) -> usize {
    let mut count = start;
    loop {
        let window = padded[count..].first_chunk::<SEARCH_PADDING>().expect("the list is padded with NaN");
        let inside = window.iter().map(|&cell| usize::from(in_prefix(cell))).sum::<usize>();
        count += inside;
        if inside < SEARCH_PADDING {
            return count;
        }
    }
}

/// `sorted` followed by the [`SEARCH_PADDING`] NaN that [`count_prefix`] reads past its end.
pub(crate) fn padded_for_search(sorted: impl IntoIterator<Item = f64>, padded: &mut Vec<f64>) {
    padded.clear();
    padded.extend(sorted);
    padded.extend([f64::NAN; SEARCH_PADDING]);
}
