//! Which time steps form each group, and the samples a group trains on.
//!
//! Groups are visited in ascending key order (xsdba's `groupby` order), which fixes the order of random draws.
//! With a day-of-year window, xsdba's `Grouper("time.dayofyear", window)` builds a centred rolling window over the
//! *time steps* (`rolling(center=True).construct("window")`, NaN beyond either end of the series) and then groups
//! the steps by their day of year, so the training sample of day `d` is, for every step of day `d` in time order, the
//! `window` steps around it. [`pool_into`] lays the sample out in that (step, offset) order, NaN padding included,
//! because frequency adaptation draws one random number per element of exactly that array.

use std::cell::RefCell;
use std::rc::Rc;

use super::Grouping;
use super::statistics::nan_mean;
use crate::series::TimeSeries;

/// The group key of every group: 0 for [`Grouping::Time`], the calendar month, or the day of year.
pub(crate) type GroupKey = u16;

/// The members (step indices, ascending) of each group of one series, by ascending key. Stored flat, group after
/// group (a counting sort by key), so building it is two passes and two allocations whatever the number of groups.
#[derive(Debug, Clone, Default)]
pub(crate) struct Groups {
    pub(crate) keys: Vec<GroupKey>,
    /// Group `g`'s members are `members[starts[g]..starts[g + 1]]`.
    starts: Vec<usize>,
    members: Vec<usize>,
}

/// The step keys a set of groups was built from, for [`Groups::of`]'s memo.
#[derive(Debug, PartialEq)]
enum StepKeys {
    /// One group of every step of a series this long.
    AllSteps(usize),
    Months(Vec<u8>),
    DaysOfYear(Vec<u16>),
}

/// How many distinct time axes the memo keeps: a point's reference, hist and simulation series.
const REMEMBERED_AXES: usize = 4;

thread_local! {
    /// The groups of the last few time axes this thread grouped. Every point of a tile shares its files' time axes,
    /// and regrouping the same steps for each point was a sixth of a monthly adjustment. The memo compares the keys
    /// themselves, not where they are stored, so it can never hand out the groups of other steps.
    static RECENT: RefCell<Vec<(StepKeys, Rc<Groups>)>> = const { RefCell::new(Vec::new()) };
}

impl Groups {
    pub(crate) fn of(series: &TimeSeries, grouping: Grouping) -> Rc<Groups> {
        let n = series.len();
        match grouping {
            Grouping::Time if n == 0 => Rc::new(Groups::default()),
            Grouping::Time => remembered_with(
                |k| matches!(k, StepKeys::AllSteps(length) if *length == n),
                || (StepKeys::AllSteps(n), Groups { keys: vec![0], starts: vec![0, n], members: (0..n).collect() }),
            ),
            Grouping::Month => {
                remembered(series.months, StepKeys::Months, |k| matches!(k, StepKeys::Months(m) if m == series.months))
            }
            Grouping::DayOfYear { .. } => remembered(
                series.days_of_year,
                StepKeys::DaysOfYear,
                |k| matches!(k, StepKeys::DaysOfYear(d) if d == series.days_of_year),
            ),
        }
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = (GroupKey, &[usize])> {
        self.keys.iter().copied().enumerate().map(|(group, key)| (key, self.group(group)))
    }

    /// The key and members of the only group, when there is exactly one.
    pub(crate) fn only_group(&self) -> Option<(GroupKey, &[usize])> {
        match self.keys[..] {
            [key] => Some((key, self.group(0))),
            _ => None,
        }
    }

    pub(crate) fn members_of(&self, key: GroupKey) -> &[usize] {
        match self.keys.binary_search(&key) {
            Ok(group) => self.group(group),
            Err(_) => &[],
        }
    }

    fn group(&self, group: usize) -> &[usize] {
        &self.members[self.starts[group]..self.starts[group + 1]]
    }
}

/// The groups of `step_keys`, from the memo when this thread grouped the same keys recently.
fn remembered<K: Copy + Into<usize>>(
    step_keys: &[K],
    owned: impl FnOnce(Vec<K>) -> StepKeys,
    same: impl Fn(&StepKeys) -> bool,
) -> Rc<Groups> {
    remembered_with(same, || (owned(step_keys.to_vec()), counting_sort(step_keys)))
}

/// The remembered groups that `same` recognises, or the keys and groups `build` makes, remembered.
fn remembered_with(same: impl Fn(&StepKeys) -> bool, build: impl FnOnce() -> (StepKeys, Groups)) -> Rc<Groups> {
    RECENT.with_borrow_mut(|recent| {
        if let Some(position) = recent.iter().position(|(keys, _)| same(keys)) {
            let entry = recent.remove(position);
            let groups = Rc::clone(&entry.1);
            recent.push(entry);
            return groups;
        }
        let (keys, groups) = build();
        let groups = Rc::new(groups);
        if recent.len() == REMEMBERED_AXES {
            recent.remove(0);
        }
        recent.push((keys, Rc::clone(&groups)));
        groups
    })
}

/// Groups the steps by their keys, `step_keys[i]` being step `i`'s key: a counting sort over a plain slice (the
/// compiler keeps each pass to a few instructions per step, which matters as every point of a tile regroups).
fn counting_sort<K: Copy + Into<usize>>(step_keys: &[K]) -> Groups {
    let largest = step_keys.iter().map(|&key| key.into()).max().unwrap_or(0);
    let mut counts = vec![0usize; largest + 1];
    for &key in step_keys {
        counts[key.into()] += 1;
    }
    let keys: Vec<GroupKey> = (0..counts.len()).filter(|&key| counts[key] > 0).map(|key| key as GroupKey).collect();
    // Where each key's next member goes, and where each non-empty group starts.
    let mut next = vec![0; counts.len()];
    let mut starts = Vec::with_capacity(keys.len() + 1);
    let mut offset = 0;
    for &key in &keys {
        starts.push(offset);
        next[usize::from(key)] = offset;
        offset += counts[usize::from(key)];
    }
    starts.push(offset);
    let mut members = vec![0; step_keys.len()];
    for (step, &key) in step_keys.iter().enumerate() {
        let slot = &mut next[key.into()];
        members[*slot] = step;
        *slot += 1;
    }
    Groups { keys, starts, members }
}

/// The window (in time steps) a grouping pools over: 1 except for a day-of-year window.
pub(crate) fn window_length(grouping: Grouping) -> usize {
    match grouping {
        Grouping::DayOfYear { window } => window.max(1),
        Grouping::Time | Grouping::Month => 1,
    }
}

/// The offsets of a centred rolling window of `window` steps, as xarray's `rolling(center=True)` places it: from
/// `-(window / 2)` to `window - 1 - window / 2` (so an even window reaches one step further back than forward).
fn window_offsets(window: usize) -> std::ops::Range<isize> {
    let start = -((window / 2) as isize);
    start..start + window as isize
}

/// The training sample of one group: for each member step in time order, the `window` values around it (NaN beyond
/// the ends of the series). With a window of 1 it is just the members' values.
pub(crate) fn pool_into(values: &[f64], members: &[usize], window: usize, out: &mut Vec<f64>) {
    out.clear();
    if window <= 1 {
        // Members are unique ascending steps, so as many members as steps are all the steps, in order.
        if members.len() == values.len() {
            out.extend_from_slice(values);
        } else {
            out.extend(members.iter().map(|&i| values[i]));
        }
        return;
    }
    out.reserve(members.len() * window);
    for &member in members {
        for offset in window_offsets(window) {
            let position = member as isize + offset;
            out.push(if position >= 0 { values.get(position as usize).copied().unwrap_or(f64::NAN) } else { f64::NAN });
        }
    }
}

/// The mean of the valid values in the centred window around every step (NaN when none is valid): the series that
/// xsdba's `PolyDetrend` fits per group when the grouping has a window (it averages the window dimension away before
/// fitting in time), summed as numpy does over the padded window. With a window of 1 this is the series itself.
pub(crate) fn window_means(values: &[f64], window: usize) -> Vec<f64> {
    if window <= 1 {
        return values.to_vec();
    }
    let mut padded = Vec::with_capacity(window);
    (0..values.len())
        .map(|step| {
            pool_into(values, &[step], window, &mut padded);
            nan_mean(&padded)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_follow_xarray_rolling_center() {
        assert_eq!(window_offsets(3), -1..2);
        assert_eq!(window_offsets(4), -2..2);
        assert_eq!(window_offsets(31), -15..16);
        let values = [0.0, 1.0, 2.0, 3.0, 4.0];
        let mut pool = Vec::new();
        pool_into(&values, &[0, 4], 3, &mut pool);
        let expected = [f64::NAN, 0.0, 1.0, 3.0, 4.0, f64::NAN];
        assert!(pool.iter().zip(expected).all(|(a, b)| a == &b || (a.is_nan() && b.is_nan())));
        pool_into(&values, &[1, 3], 1, &mut pool);
        assert_eq!(pool, vec![1.0, 3.0]);
        assert_eq!(window_means(&[1.0, f64::NAN, 5.0], 3), vec![1.0, 3.0, 5.0]);
    }

    #[test]
    fn remembered_groups_belong_to_the_same_steps() {
        let days = vec![0.0; 4];
        let facts = |months: [u8; 4]| crate::series::TimeFacts {
            months: months.to_vec(),
            days_of_year: vec![1; 4],
            days: days.clone(),
        };
        let values = [0.0; 4];
        // More axes than the memo keeps, each the same length, then the first again: every answer is its own.
        let axes = [[1u8, 1, 2, 2], [2, 2, 1, 1], [1, 2, 1, 2], [3, 3, 3, 3], [1, 2, 3, 4], [1, 1, 2, 2]];
        for months in axes {
            let groups = Groups::of(&facts(months).series(&values), Grouping::Month);
            for (key, members) in groups.iter() {
                assert!(members.iter().all(|&i| GroupKey::from(months[i]) == key), "{months:?}");
            }
            assert_eq!(groups.iter().map(|(_, m)| m.len()).sum::<usize>(), 4);
        }
    }

    #[test]
    fn groups_are_in_ascending_key_order() {
        let months = [3u8, 1, 3, 2];
        let facts = crate::series::TimeFacts { months: months.to_vec(), days_of_year: vec![1; 4], days: vec![0.0; 4] };
        let values = [0.0; 4];
        let groups = Groups::of(&facts.series(&values), Grouping::Month);
        assert_eq!(groups.keys, vec![1, 2, 3]);
        let members: Vec<&[usize]> = groups.iter().map(|(_, members)| members).collect();
        assert_eq!(members, vec![&[1][..], &[3], &[0, 2]]);
        assert_eq!(groups.members_of(3), &[0, 2]);
        assert!(groups.members_of(4).is_empty());
    }
}
