//! Pins `calendar_convert` to its Python reference, xarray's `convert_calendar`.
//!
//! The `xr` rows of `tests/fixtures/cftime_golden.csv` (written by
//! `scripts/cftime_golden.py`) are replayed here, then conversion plans are
//! checked on hand-picked and deterministic pseudo-random daily series.

mod calendar_common;

use std::collections::BTreeMap;

use calendar_common::{Rng, Row, golden_rows};
use downscale_data::calendar::{Calendar, CalendarError, CfDateTime};
use downscale_data::calendar_convert::{Align360, ConversionPlan, DayOrigin, plan_to_standard};

// ---------------------------------------------------------------- golden file

/// Parses the `xr` rows' "align=A from=Y-M-D to=Y-M-D" label.
fn parse_xr_label(label: &str) -> (Align360, CfDateTime, CfDateTime) {
    let mut align = None;
    let mut from = None;
    let mut to = None;
    for part in label.split_whitespace() {
        let (key, value) = part.split_once('=').unwrap_or_else(|| panic!("bad label {label:?}"));
        let date = || {
            let f: Vec<u32> = value.split('-').map(|x| x.parse().unwrap_or_else(|e| panic!("{label}: {e}"))).collect();
            CfDateTime::ymd(f[0] as i32, f[1], f[2]).with_time(12, 0, 0, 0)
        };
        match key {
            "align" => align = Some(if value == "year" { Align360::Year } else { Align360::Date }),
            "from" => from = Some(date()),
            "to" => to = Some(date()),
            _ => panic!("bad label {label:?}"),
        }
    }
    match (align, from, to) {
        (Some(a), Some(f), Some(t)) => (a, f, t),
        _ => panic!("bad label {label:?}"),
    }
}

#[test]
fn golden_plans_agree_with_xarray_convert_calendar() {
    let rows = golden_rows();
    let mut groups: BTreeMap<(String, String), Vec<&Row>> = BTreeMap::new();
    for row in rows.iter().filter(|r| r.kind == "xr") {
        groups.entry((row.calendar.clone(), row.units.clone())).or_default().push(row);
    }
    assert!(groups.len() >= 4, "expected xarray conversion groups, got {}", groups.len());
    for ((calendar_name, label), xr_rows) in groups {
        let calendar = Calendar::parse(&calendar_name).unwrap_or_else(|e| panic!("{calendar_name}: {e}"));
        let (align, from, to) = parse_xr_label(&label);
        let input = daily_series(calendar, from, to);
        let plan = plan_to_standard(calendar, &input, align).unwrap_or_else(|e| panic!("{calendar_name} {label}: {e}"));
        let context = format!("{calendar_name} {label}");
        assert_eq!(plan.dates.len(), plan.origins.len(), "{context}");
        let position: BTreeMap<CfDateTime, usize> = plan.dates.iter().enumerate().map(|(i, d)| (*d, i)).collect();

        // Every date xarray keeps is in the plan, taken from the same element.
        for row in &xr_rows {
            let date = row.date.unwrap_or_else(|| panic!("{row}: no date"));
            let index: usize = row.value.parse().unwrap_or_else(|e| panic!("{row}: {e}"));
            let at = position.get(&date).unwrap_or_else(|| panic!("{context}: {row}: date missing from the plan"));
            assert_eq!(plan.origins[*at], DayOrigin::Index(index), "{context}: {row}");
        }
        // Everything else fills xarray's holes: interpolated, or the last
        // value held at the very end.
        let kept: BTreeMap<CfDateTime, usize> =
            xr_rows.iter().filter_map(|r| Some((r.date?, r.value.parse().ok()?))).collect();
        let (first_kept, last_kept) = match (kept.keys().next(), kept.iter().next_back()) {
            (Some(f), Some((l, i))) => (*f, (*l, *i)),
            _ => panic!("{context}: empty xarray group"),
        };
        assert_eq!(plan.dates.first(), Some(&first_kept), "{context}: plan must start where xarray does");
        for (date, origin) in plan.dates.iter().zip(&plan.origins) {
            if kept.contains_key(date) {
                continue;
            }
            match origin {
                DayOrigin::Interpolate { weight_after, .. } => {
                    assert!(*weight_after > 0.0 && *weight_after < 1.0, "{context}: {date} {origin:?}")
                }
                DayOrigin::Index(i) => assert!(
                    *date > last_kept.0 && *i == last_kept.1,
                    "{context}: {date} is neither xarray's nor interpolated: {origin:?}"
                ),
            }
        }
        check_plan_invariants(&context, &plan, input.len());
    }
}

// ---------------------------------------------------------------- helpers

fn daily_series(calendar: Calendar, from: CfDateTime, to: CfDateTime) -> Vec<CfDateTime> {
    let first = calendar.day_number(from.year, from.month, from.day).expect("valid start");
    let last = calendar.day_number(to.year, to.month, to.day).expect("valid end");
    (first..=last)
        .map(|n| {
            let (y, m, d) = calendar.date_from_day_number(n);
            CfDateTime::ymd(y, m, d).with_time(from.hour, from.minute, from.second, from.microsecond)
        })
        .collect()
}

fn check_plan_invariants(context: &str, plan: &ConversionPlan, input_len: usize) {
    assert_eq!(plan.dates.len(), plan.origins.len(), "{context}");
    for pair in plan.dates.windows(2) {
        let days = Calendar::Standard.day_number(pair[1].year, pair[1].month, pair[1].day).expect("valid")
            - Calendar::Standard.day_number(pair[0].year, pair[0].month, pair[0].day).expect("valid");
        assert_eq!(days, 1, "{context}: plan dates {} and {} are not consecutive", pair[0], pair[1]);
    }
    for origin in &plan.origins {
        match *origin {
            DayOrigin::Index(i) => assert!(i < input_len, "{context}: {origin:?}"),
            DayOrigin::Interpolate { before, after, weight_after } => {
                assert!(before < after && after < input_len, "{context}: {origin:?}");
                assert!(weight_after > 0.0 && weight_after < 1.0, "{context}: {origin:?}");
            }
        }
    }
}

fn ymd(date: &CfDateTime) -> (i32, u32, u32) {
    (date.year, date.month, date.day)
}

// ---------------------------------------------------------------- conversion

fn noon(y: i32, m: u32, d: u32) -> CfDateTime {
    CfDateTime::ymd(y, m, d).with_time(12, 0, 0, 0)
}

#[test]
fn noleap_inserts_feb_29_halfway() {
    let input = daily_series(Calendar::NoLeap, noon(1999, 12, 1), noon(2001, 2, 28));
    assert_eq!(input.len(), 455);
    let plan = plan_to_standard(Calendar::NoLeap, &input, Align360::Year).expect("valid series");
    assert_eq!(plan.dates.len(), 456);
    assert_eq!(plan.dates[0], noon(1999, 12, 1));
    assert_eq!(plan.dates[455], noon(2001, 2, 28));
    assert_eq!(plan.dates[90], noon(2000, 2, 29));
    assert_eq!(plan.origins[90], DayOrigin::Interpolate { before: 89, after: 90, weight_after: 0.5 });
    for (i, origin) in plan.origins.iter().enumerate() {
        let expected = if i < 90 {
            DayOrigin::Index(i)
        } else if i == 90 {
            origin.clone()
        } else {
            DayOrigin::Index(i - 1)
        };
        assert_eq!(*origin, expected, "position {i}");
    }
    check_plan_invariants("noleap", &plan, input.len());
    // all_leap drops the Feb 29 a non-leap year lacks; the rest is identity.
    let input = daily_series(Calendar::AllLeap, noon(2001, 2, 1), noon(2001, 3, 31));
    let plan = plan_to_standard(Calendar::AllLeap, &input, Align360::Date).expect("valid series");
    assert_eq!(plan.dates.len(), input.len() - 1);
    assert!(plan.origins.iter().all(|s| matches!(s, DayOrigin::Index(_))));
    assert!(!plan.origins.contains(&DayOrigin::Index(28)), "Feb 29 (index 28) must be dropped");
    // julian: Feb 29, 1900 does not exist in the standard calendar.
    let input = daily_series(Calendar::Julian, noon(1900, 2, 1), noon(1900, 3, 31));
    let plan = plan_to_standard(Calendar::Julian, &input, Align360::Date).expect("valid series");
    assert_eq!(plan.dates.len(), input.len() - 1);
    // Identity for the Gregorian calendars.
    for calendar in [Calendar::Standard, Calendar::ProlepticGregorian] {
        let input = daily_series(calendar, noon(1999, 12, 25), noon(2000, 3, 5));
        let plan = plan_to_standard(calendar, &input, Align360::Year).expect("valid series");
        assert_eq!(plan.dates, input);
        assert!(plan.origins.iter().enumerate().all(|(i, s)| *s == DayOrigin::Index(i)));
    }
}

/// Standard dates whose values are interpolated in a plan.
fn interpolated(plan: &ConversionPlan) -> Vec<(i32, u32, u32)> {
    plan.dates
        .iter()
        .zip(&plan.origins)
        .filter(|(_, s)| matches!(s, DayOrigin::Interpolate { .. }))
        .map(|(d, _)| ymd(d))
        .collect()
}

#[test]
fn day360_year_alignment_positions() {
    for (year, length, expected) in [
        (2095, 365, vec![(2095, 2, 6), (2095, 4, 19), (2095, 7, 2), (2095, 9, 12), (2095, 11, 25)]),
        (2096, 366, vec![(2096, 1, 31), (2096, 3, 31), (2096, 6, 1), (2096, 7, 31), (2096, 10, 1), (2096, 11, 30)]),
    ] {
        let input = daily_series(Calendar::Day360, noon(year, 1, 1), noon(year, 12, 30));
        assert_eq!(input.len(), 360);
        let plan = plan_to_standard(Calendar::Day360, &input, Align360::Year).expect("valid series");
        assert_eq!(plan.dates.len(), length, "{year}");
        assert_eq!(plan.dates.first(), Some(&noon(year, 1, 1)));
        assert_eq!(plan.dates.last(), Some(&noon(year, 12, 31)));
        assert_eq!(interpolated(&plan), expected, "{year}");
        // Each input is used exactly once, in order.
        let used: Vec<usize> = plan
            .origins
            .iter()
            .filter_map(|s| match s {
                DayOrigin::Index(i) => Some(*i),
                DayOrigin::Interpolate { .. } => None,
            })
            .collect();
        assert_eq!(used, (0..360).collect::<Vec<_>>(), "{year}");
        for origin in &plan.origins {
            if let DayOrigin::Interpolate { before, after, weight_after } = origin {
                assert_eq!((after - before, *weight_after), (1, 0.5), "{year}");
            }
        }
        check_plan_invariants("360_day year", &plan, input.len());
    }
}

#[test]
fn day360_date_alignment_positions() {
    for (year, length) in [(2095, 365), (2096, 366)] {
        let input = daily_series(Calendar::Day360, noon(year, 1, 1), noon(year, 12, 30));
        let plan = plan_to_standard(Calendar::Day360, &input, Align360::Date).expect("valid series");
        assert_eq!(plan.dates.len(), length, "{year}");
        let expected: Vec<(i32, u32, u32)> = [1, 3, 5, 7, 8, 10].iter().map(|&m| (year, m, 31)).collect();
        assert_eq!(interpolated(&plan), expected, "{year}");
        // Jan 31 lies halfway between Jan 30 (index 29) and Feb 1 (index 30).
        let jan31 = plan.dates.iter().position(|d| ymd(d) == (year, 1, 31)).expect("Jan 31 present");
        assert_eq!(plan.origins[jan31], DayOrigin::Interpolate { before: 29, after: 30, weight_after: 0.5 });
        // Dec 31 holds Dec 30, the last input.
        assert_eq!(plan.dates.last(), Some(&noon(year, 12, 31)));
        assert_eq!(plan.origins.last(), Some(&DayOrigin::Index(359)));
        // 360-day Feb 30 (index 59) is dropped, and Feb 29 (58) unless leap.
        assert!(!plan.origins.contains(&DayOrigin::Index(59)));
        assert_eq!(plan.origins.contains(&DayOrigin::Index(58)), length == 366);
        check_plan_invariants("360_day date", &plan, input.len());
    }
    // Across a year boundary Dec 31 is interpolated towards Jan 1.
    let input = daily_series(Calendar::Day360, noon(2095, 12, 1), noon(2096, 1, 10));
    let plan = plan_to_standard(Calendar::Day360, &input, Align360::Date).expect("valid series");
    let dec31 = plan.dates.iter().position(|d| ymd(d) == (2095, 12, 31)).expect("Dec 31 present");
    assert_eq!(plan.origins[dec31], DayOrigin::Interpolate { before: 29, after: 30, weight_after: 0.5 });
    assert_eq!(plan.dates.len(), 41);
}

#[test]
fn conversion_rejects_bad_series() {
    let good = daily_series(Calendar::NoLeap, noon(2000, 1, 1), noon(2000, 1, 10));
    let mut unsorted = good.clone();
    unsorted[4] = unsorted[1];
    assert!(matches!(
        plan_to_standard(Calendar::NoLeap, &unsorted, Align360::Year),
        Err(CalendarError::Unsorted { index: 4, .. })
    ));
    let mut duplicate = good.clone();
    duplicate[5] = duplicate[4];
    assert!(matches!(
        plan_to_standard(Calendar::NoLeap, &duplicate, Align360::Year),
        Err(CalendarError::Unsorted { index: 5, .. })
    ));
    let mut gappy = good.clone();
    gappy.remove(6);
    assert!(matches!(
        plan_to_standard(Calendar::NoLeap, &gappy, Align360::Year),
        Err(CalendarError::Gap { index: 6, .. })
    ));
    let mut hourly = good.clone();
    hourly[2] = hourly[1].with_time(18, 0, 0, 0);
    assert!(matches!(
        plan_to_standard(Calendar::NoLeap, &hourly, Align360::Year),
        Err(CalendarError::NotDaily { index: 2, .. })
    ));
    let mut invalid = good.clone();
    invalid[0] = noon(2000, 2, 29);
    assert!(matches!(
        plan_to_standard(Calendar::NoLeap, &invalid, Align360::Year),
        Err(CalendarError::InvalidDate { .. })
    ));
    let early = daily_series(Calendar::NoLeap, noon(1582, 10, 1), noon(1582, 10, 30));
    assert!(matches!(
        plan_to_standard(Calendar::NoLeap, &early, Align360::Date),
        Err(CalendarError::UnsupportedConversion { .. })
    ));
    let early_360 = daily_series(Calendar::Day360, noon(1582, 11, 1), noon(1583, 1, 30));
    assert!(plan_to_standard(Calendar::Day360, &early_360, Align360::Year).is_err());
    assert!(plan_to_standard(Calendar::Day360, &early_360, Align360::Date).is_ok());
    assert_eq!(
        plan_to_standard(Calendar::Day360, &[], Align360::Year),
        Ok(ConversionPlan { dates: vec![], origins: vec![] })
    );
    for error in [
        plan_to_standard(Calendar::NoLeap, &unsorted, Align360::Year),
        plan_to_standard(Calendar::NoLeap, &gappy, Align360::Year),
        plan_to_standard(Calendar::NoLeap, &hourly, Align360::Year),
        plan_to_standard(Calendar::NoLeap, &early, Align360::Year),
    ] {
        let message = error.expect_err("invalid").to_string();
        assert!(message.contains("expected") && !message.contains('\n'), "{message}");
    }
}

#[test]
fn conversion_plans_are_consistent_for_random_series() {
    let mut rng = Rng(0x5EED_0005);
    for calendar in Calendar::ALL {
        for align in [Align360::Year, Align360::Date] {
            for _ in 0..200 {
                let start = calendar.day_number(1583, 1, 1).expect("exists") + rng.range(0, 3_000_000);
                let length = rng.range(1, 800);
                let dates: Vec<CfDateTime> = (start..start + length)
                    .map(|n| {
                        let (y, m, d) = calendar.date_from_day_number(n);
                        CfDateTime::ymd(y, m, d)
                    })
                    .filter(|d| d.year <= 9999)
                    .collect();
                let context = format!("{calendar} {align:?} from {}", dates[0]);
                let plan = plan_to_standard(calendar, &dates, align).unwrap_or_else(|e| panic!("{context}: {e}"));
                check_plan_invariants(&context, &plan, dates.len());
                // Lengths match the span of the input in the standard calendar.
                let years = (dates[dates.len() - 1].year - dates[0].year) as usize;
                assert!(plan.dates.len() <= dates.len() + 6 * (years + 1) + 1, "{context}");
                assert!(plan.dates.len() + 2 * (years + 1) >= dates.len(), "{context}");
            }
        }
    }
}
