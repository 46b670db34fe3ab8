//! Pins `calendar` to its Python reference, cftime.
//!
//! `tests/fixtures/cftime_golden.csv` is written by `scripts/cftime_golden.py`
//! with cftime (decode/encode) and xarray (`convert_calendar`); the tests
//! here replay every cftime row, then check properties over deterministic
//! pseudo-random dates that the file cannot enumerate. The xarray rows are
//! replayed by `tests/calendar_conversion.rs`.

mod calendar_common;

use calendar_common::{Rng, Row, golden_rows};
use downscale_data::calendar::{Calendar, CalendarError, CfDateTime, TimeUnit, TimeUnits};

const MICROS_PER_DAY: i64 = 86_400_000_000;

// ---------------------------------------------------------------- golden file

/// Fails with the first offending rows (all of them counted).
fn report(what: &str, failures: Vec<String>) {
    if !failures.is_empty() {
        let shown: Vec<&str> = failures.iter().take(25).map(String::as_str).collect();
        panic!("{} {what} mismatches, first ones:\n{}", failures.len(), shown.join("\n"));
    }
}

/// cftime's `dayofyr` ignores the ten skipped days of 1582 (see the
/// calendar module docs); everywhere else ours must equal it.
fn expected_day_of_year(calendar: Calendar, date: &CfDateTime, cftime_day_of_year: u32) -> u32 {
    if calendar == Calendar::Standard && date.year == 1582 && (date.month, date.day) > (10, 4) {
        cftime_day_of_year - 10
    } else {
        cftime_day_of_year
    }
}

fn check_date_columns(calendar: Calendar, row: &Row, date: &CfDateTime, failures: &mut Vec<String>) {
    if let Some(cftime_doy) = row.day_of_year {
        let doy = calendar.day_of_year(date);
        if doy != expected_day_of_year(calendar, date, cftime_doy) {
            failures.push(format!("{row}: day_of_year {doy}"));
        }
    }
    if let Some(ordinal) = row.ordinal {
        let number = calendar.day_number(date.year, date.month, date.day);
        if number != Ok(ordinal) {
            failures.push(format!("{row}: day_number {number:?}"));
        }
    }
}

#[test]
fn golden_decode_matches_cftime() {
    let mut failures = Vec::new();
    let mut checked = 0;
    for row in golden_rows().iter().filter(|r| r.kind.starts_with("decode_") && r.kind != "decode_out") {
        let calendar = Calendar::parse(&row.calendar).unwrap_or_else(|e| panic!("{row}: {e}"));
        let units = TimeUnits::parse(&row.units).unwrap_or_else(|e| panic!("{row}: {e}"));
        let Some(expected) = row.date else { panic!("{row}: no date") };
        let decoded = if row.kind == "decode_i" {
            let value: i64 = row.value.parse().unwrap_or_else(|e| panic!("{row}: {e}"));
            // Integers that f64 holds exactly must decode the same either way.
            if value.unsigned_abs() <= 1 << 53 {
                let via_float = calendar.decode(&units, value as f64);
                if via_float != Ok(expected) {
                    failures.push(format!("{row}: decode(f64) gave {via_float:?}"));
                }
            }
            calendar.decode_i64(&units, value)
        } else {
            let value: f64 = row.value.parse().unwrap_or_else(|e| panic!("{row}: {e}"));
            calendar.decode(&units, value)
        };
        match decoded {
            Ok(date) if date == expected => check_date_columns(calendar, row, &date, &mut failures),
            other => failures.push(format!("{row}: got {other:?}")),
        }
        checked += 1;
    }
    assert!(checked >= 8_000, "only {checked} decode rows");
    report("decode", failures);
}

#[test]
fn golden_out_of_range_values_are_errors() {
    let mut failures = Vec::new();
    for row in golden_rows().iter().filter(|r| r.kind == "decode_out") {
        let calendar = Calendar::parse(&row.calendar).unwrap_or_else(|e| panic!("{row}: {e}"));
        let units = TimeUnits::parse(&row.units).unwrap_or_else(|e| panic!("{row}: {e}"));
        let result = match row.value.parse::<i64>() {
            Ok(value) => calendar.decode_i64(&units, value),
            Err(_) => calendar.decode(&units, row.value.parse().unwrap_or_else(|e| panic!("{row}: {e}"))),
        };
        if !matches!(result, Err(CalendarError::OutOfRange(_))) {
            failures.push(format!("{row}: got {result:?}"));
        }
    }
    report("out-of-range", failures);
}

#[test]
fn golden_units_refused_by_cftime_are_refused() {
    let mut failures = Vec::new();
    let mut checked = 0;
    for row in golden_rows().iter().filter(|r| r.kind == "units_err") {
        let calendar = Calendar::parse(&row.calendar).unwrap_or_else(|e| panic!("{row}: {e}"));
        let result = TimeUnits::parse(&row.units).and_then(|units| calendar.decode(&units, 0.0));
        match result {
            Err(e) if !e.to_string().contains('\n') => {}
            other => failures.push(format!("{row}: got {other:?}")),
        }
        checked += 1;
    }
    assert!(checked >= 100, "only {checked} units_err rows");
    report("refused-units", failures);
}

#[test]
fn golden_encode_matches_cftime() {
    let mut failures = Vec::new();
    let mut checked = 0;
    for row in golden_rows().iter().filter(|r| r.kind == "encode") {
        let calendar = Calendar::parse(&row.calendar).unwrap_or_else(|e| panic!("{row}: {e}"));
        let units = TimeUnits::parse(&row.units).unwrap_or_else(|e| panic!("{row}: {e}"));
        let Some(date) = row.date else { panic!("{row}: no date") };
        let expected: f64 = row.value.parse().unwrap_or_else(|e| panic!("{row}: {e}"));
        match calendar.encode(&units, &date) {
            // cftime's quotient is an exact integer or a correctly rounded
            // division, and so is ours: demand the identical double (which
            // is stricter than the 1e-9 relative tolerance floats would need).
            Ok(value) if value.to_bits() == expected.to_bits() || value == expected => {
                check_date_columns(calendar, row, &date, &mut failures)
            }
            other => failures.push(format!("{row}: got {other:?}")),
        }
        checked += 1;
    }
    assert!(checked >= 1_000, "only {checked} encode rows");
    report("encode", failures);
}

// ---------------------------------------------------------------- helpers

fn supported_days(calendar: Calendar) -> (i64, i64) {
    let first = calendar.day_number(1, 1, 1).expect("0001-01-01 exists");
    let last = calendar.day_number(9999, 12, calendar.days_in_month(9999, 12)).expect("last day exists");
    (first, last)
}

fn random_date(rng: &mut Rng, calendar: Calendar) -> CfDateTime {
    let (first, last) = supported_days(calendar);
    let (year, month, day) = calendar.date_from_day_number(rng.range(first, last));
    let time = match rng.next() % 3 {
        0 => (0, 0, 0, 0),
        1 => (rng.range(0, 23) as u32, rng.range(0, 59) as u32, rng.range(0, 59) as u32, 0),
        _ => (rng.range(0, 23) as u32, rng.range(0, 59) as u32, rng.range(0, 59) as u32, rng.range(0, 999_999) as u32),
    };
    CfDateTime::ymd(year, month, day).with_time(time.0, time.1, time.2, time.3)
}

fn absolute_micros(calendar: Calendar, date: &CfDateTime) -> i64 {
    calendar.day_number(date.year, date.month, date.day).expect("valid date") * MICROS_PER_DAY
        + date.time_of_day_micros()
}

// ---------------------------------------------------------------- properties

#[test]
fn day_numbers_round_trip_and_are_consecutive() {
    let mut rng = Rng(0x5EED_0001);
    for calendar in Calendar::ALL {
        let (first, last) = supported_days(calendar);
        for _ in 0..20_000 {
            let n = rng.range(first, last);
            let (y, m, d) = calendar.date_from_day_number(n);
            assert_eq!(calendar.day_number(y, m, d), Ok(n), "{calendar} day {n} -> {y}-{m}-{d}");
            // The next day number is the next valid date.
            let (y2, m2, d2) = calendar.date_from_day_number(n + 1);
            let expected_next = if d < calendar.days_in_month(y, m) {
                (y, m, d + 1)
            } else if m < 12 {
                (y, m + 1, 1)
            } else {
                (y + 1, 1, 1)
            };
            if !(calendar == Calendar::Standard && (y, m) == (1582, 10)) {
                assert_eq!((y2, m2, d2), expected_next, "{calendar} after {y}-{m}-{d}");
            }
        }
        // Walk every day of a few whole years, including the 1582 switch.
        for year in [1, 4, 100, 1582, 1600, 1900, 2000, 2100, 9999] {
            let start = calendar.day_number(year, 1, 1).expect("Jan 1 exists");
            let mut count = 0;
            let mut n = start;
            loop {
                let (y, m, d) = calendar.date_from_day_number(n);
                if y != year {
                    break;
                }
                count += 1;
                assert_eq!(calendar.day_of_year(&CfDateTime::ymd(y, m, d)), count, "{calendar} {y}-{m}-{d}");
                n += 1;
            }
            assert_eq!(count, calendar.days_in_year(year), "{calendar} {year}");
            let months: u32 = (1..=12).map(|m| calendar.days_in_month(year, m)).sum();
            assert_eq!(months, count, "{calendar} {year}");
        }
    }
    assert_eq!(
        Calendar::Standard.date_from_day_number(Calendar::Standard.day_number(1582, 10, 4).expect("exists") + 1),
        (1582, 10, 15)
    );
}

#[test]
fn encode_and_decode_round_trip() {
    let mut rng = Rng(0x5EED_0002);
    let units_list = [
        TimeUnit::Days,
        TimeUnit::Hours,
        TimeUnit::Minutes,
        TimeUnit::Seconds,
        TimeUnit::Milliseconds,
        TimeUnit::Microseconds,
    ];
    for calendar in Calendar::ALL {
        for _ in 0..5_000 {
            let unit = units_list[(rng.next() % 6) as usize];
            let units = TimeUnits { unit, reference: random_date(&mut rng, calendar) };
            let date = random_date(&mut rng, calendar);
            let value = calendar.encode(&units, &date).expect("both dates valid");
            let offset = absolute_micros(calendar, &date) - absolute_micros(calendar, &units.reference);
            if offset % unit.microseconds() == 0 {
                // Whole numbers of units decode exactly, through i64 always
                // and through f64 while the value is exactly representable.
                let whole = offset / unit.microseconds();
                assert_eq!(calendar.decode_i64(&units, whole), Ok(date), "{calendar} {units} {whole}");
                if whole.unsigned_abs() <= 1 << 53 {
                    assert_eq!(value, whole as f64);
                    assert_eq!(calendar.decode(&units, value), Ok(date), "{calendar} {units} {value}");
                }
            } else {
                // Floats come back within the value's own float resolution.
                let decoded = calendar.decode(&units, value).expect("in range");
                let error = (absolute_micros(calendar, &decoded) - absolute_micros(calendar, &date)).abs();
                let resolution = (value.abs() * f64::EPSILON * unit.microseconds() as f64).ceil() as i64;
                assert!(error <= resolution + 1, "{calendar} {units} {date}: {value} -> {decoded} ({error} us)");
            }
            // add_microseconds is the basis of both: check it is additive.
            let a = rng.range(-MICROS_PER_DAY * 400, MICROS_PER_DAY * 400);
            let b = rng.range(-MICROS_PER_DAY * 400, MICROS_PER_DAY * 400);
            if let (Ok(ab), Ok(whole)) = (
                calendar.add_microseconds(&date, a).and_then(|d| calendar.add_microseconds(&d, b)),
                calendar.add_microseconds(&date, a + b),
            ) {
                assert_eq!(ab, whole, "{calendar} {date} + {a} + {b}");
            }
        }
    }
}

#[test]
fn invalid_dates_are_rejected() {
    let invalid = [
        (Calendar::Standard, 2001, 2, 29),
        (Calendar::Standard, 1900, 2, 29),
        (Calendar::Standard, 2000, 2, 30),
        (Calendar::Standard, 1582, 10, 5),
        (Calendar::Standard, 1582, 10, 10),
        (Calendar::Standard, 1582, 10, 14),
        (Calendar::ProlepticGregorian, 1900, 2, 29),
        (Calendar::Julian, 1901, 2, 29),
        (Calendar::NoLeap, 2000, 2, 29),
        (Calendar::AllLeap, 2001, 2, 30),
        (Calendar::Day360, 2000, 1, 31),
        (Calendar::Day360, 2000, 13, 1),
        (Calendar::Standard, 2000, 13, 1),
        (Calendar::Standard, 2000, 0, 1),
        (Calendar::Standard, 2000, 1, 0),
        (Calendar::Standard, 2000, 4, 31),
    ];
    for (calendar, y, m, d) in invalid {
        let result = calendar.day_number(y, m, d);
        assert!(matches!(result, Err(CalendarError::InvalidDate { .. })), "{calendar} {y}-{m}-{d}: {result:?}");
        let date = CfDateTime::ymd(y, m, d);
        assert!(calendar.validate(&date).is_err());
        assert!(calendar.add_microseconds(&date, 0).is_err());
        let units = TimeUnits::parse("days since 2000-01-01").expect("valid units");
        assert!(calendar.encode(&units, &date).is_err());
    }
    let valid = [
        (Calendar::Standard, 2000, 2, 29),
        (Calendar::Standard, 1500, 2, 29),
        (Calendar::Standard, 1582, 10, 4),
        (Calendar::Standard, 1582, 10, 15),
        (Calendar::ProlepticGregorian, 1582, 10, 10),
        (Calendar::Julian, 1900, 2, 29),
        (Calendar::AllLeap, 2001, 2, 29),
        (Calendar::Day360, 2001, 2, 30),
    ];
    for (calendar, y, m, d) in valid {
        assert!(calendar.day_number(y, m, d).is_ok(), "{calendar} {y}-{m}-{d}");
    }
    for (y, m, d) in [(0, 1, 1), (-1, 12, 31), (10_000, 1, 1)] {
        for calendar in Calendar::ALL {
            assert!(matches!(calendar.day_number(y, m, d), Err(CalendarError::OutOfRange(_))));
        }
    }
    // Bad times of day.
    for (h, mi, s, us) in [(24, 0, 0, 0), (0, 60, 0, 0), (0, 0, 60, 0), (0, 0, 0, 1_000_000)] {
        let date = CfDateTime::ymd(2000, 1, 1).with_time(h, mi, s, us);
        assert!(matches!(Calendar::Standard.validate(&date), Err(CalendarError::InvalidTime { .. })));
    }
    // Property: day_number accepts exactly the days the calendar has.
    let mut rng = Rng(0x5EED_0003);
    for calendar in Calendar::ALL {
        for _ in 0..20_000 {
            let (y, m, d) = (rng.range(1, 9999) as i32, rng.range(0, 13) as u32, rng.range(0, 32) as u32);
            let exists = (1..=12).contains(&m)
                && (1..=31).contains(&d)
                && if calendar == Calendar::Standard && (y, m) == (1582, 10) {
                    !(5..=14).contains(&d)
                } else {
                    d <= calendar.days_in_month(y, m)
                };
            assert_eq!(calendar.day_number(y, m, d).is_ok(), exists, "{calendar} {y}-{m}-{d}");
        }
    }
}

#[test]
fn decode_edge_cases() {
    let units = TimeUnits::parse("days since 2000-01-01").expect("valid");
    for value in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
        assert_eq!(Calendar::Standard.decode(&units, value), Err(CalendarError::NonFinite));
    }
    assert!(matches!(Calendar::Standard.decode(&units, 1e300), Err(CalendarError::OutOfRange(_))));
    assert!(matches!(Calendar::Standard.decode_i64(&units, i64::MAX), Err(CalendarError::OutOfRange(_))));
    // 730121 days separate 0001-01-01 (Julian) and 2000-01-01 (Gregorian).
    assert!(matches!(Calendar::Standard.decode(&units, -730_122.0), Err(CalendarError::OutOfRange(_))));
    assert_eq!(
        Calendar::Standard.decode(&units, -730_121.0),
        Ok(CfDateTime::ymd(1, 1, 1)),
        "0001-01-01 is the first supported day"
    );
    assert_eq!(Calendar::NoLeap.decode(&units, 0.1), Ok(CfDateTime::ymd(2000, 1, 1).with_time(2, 24, 0, 0)));
    assert_eq!(Calendar::Standard.decode(&units, 59.5), Ok(CfDateTime::ymd(2000, 2, 29).with_time(12, 0, 0, 0)));
    assert_eq!(Calendar::NoLeap.decode(&units, 59.0), Ok(CfDateTime::ymd(2000, 3, 1)));
    assert_eq!(Calendar::Day360.decode(&units, 59.0), Ok(CfDateTime::ymd(2000, 2, 30)));
    // A reference that does not exist in the calendar is an error at use.
    let leap_reference = TimeUnits::parse("days since 2000-02-29").expect("parses without a calendar");
    assert!(matches!(Calendar::NoLeap.decode(&leap_reference, 0.0), Err(CalendarError::InvalidDate { .. })));
    let gap = TimeUnits::parse("hours since 1582-10-04 12:00").expect("valid");
    assert_eq!(Calendar::Standard.decode(&gap, 24.0), Ok(CfDateTime::ymd(1582, 10, 15).with_time(12, 0, 0, 0)));
    assert_eq!(Calendar::Julian.decode(&gap, 24.0), Ok(CfDateTime::ymd(1582, 10, 5).with_time(12, 0, 0, 0)));

    // No input may panic: arbitrary bit patterns and magnitudes.
    let mut rng = Rng(0x5EED_0004);
    for calendar in Calendar::ALL {
        for unit in ["days", "hours", "seconds", "microseconds"] {
            let units = TimeUnits::parse(&format!("{unit} since 5000-06-15 12:00:00")).expect("valid");
            for _ in 0..5_000 {
                let value = f64::from_bits(rng.next());
                let _ = calendar.decode(&units, value);
                let _ = calendar.decode_i64(&units, rng.next() as i64);
            }
        }
        let _ = calendar.date_from_day_number(i64::MIN);
        let _ = calendar.date_from_day_number(i64::MAX);
    }
}

#[test]
fn time_units_parse_cf_spellings() {
    let at = |y, m, d, h, mi, s, us| CfDateTime::ymd(y, m, d).with_time(h, mi, s, us);
    let cases = [
        ("days since 1950-01-01", TimeUnit::Days, at(1950, 1, 1, 0, 0, 0, 0)),
        ("hours since 1900-01-01 00:00:00", TimeUnit::Hours, at(1900, 1, 1, 0, 0, 0, 0)),
        ("days since 1950-1-1", TimeUnit::Days, at(1950, 1, 1, 0, 0, 0, 0)),
        ("days since 1850-01-01 00:00:00.0", TimeUnit::Days, at(1850, 1, 1, 0, 0, 0, 0)),
        ("seconds since 1970-01-01T00:00:00Z", TimeUnit::Seconds, at(1970, 1, 1, 0, 0, 0, 0)),
        ("hours since 1950-01-01 00:00:00 UTC", TimeUnit::Hours, at(1950, 1, 1, 0, 0, 0, 0)),
        ("  Days SINCE 1950-01-01 06:30  ", TimeUnit::Days, at(1950, 1, 1, 6, 30, 0, 0)),
        ("d since 2000-2-3 4:5:6.5", TimeUnit::Days, at(2000, 2, 3, 4, 5, 6, 500_000)),
        ("hr since 1-1-1", TimeUnit::Hours, at(1, 1, 1, 0, 0, 0, 0)),
        ("h since +1950-01-01", TimeUnit::Hours, at(1950, 1, 1, 0, 0, 0, 0)),
        ("min since 1950-01-01 00:00:00+00:00", TimeUnit::Minutes, at(1950, 1, 1, 0, 0, 0, 0)),
        ("s since 1950-01-01T12:00:00.000Z", TimeUnit::Seconds, at(1950, 1, 1, 12, 0, 0, 0)),
        ("msec since 1950-01-01 00:00:00 GMT", TimeUnit::Milliseconds, at(1950, 1, 1, 0, 0, 0, 0)),
        ("microseconds since 1950-01-01 00:00:00.999999", TimeUnit::Microseconds, at(1950, 1, 1, 0, 0, 0, 999_999)),
        ("days since 2000-02-30", TimeUnit::Days, at(2000, 2, 30, 0, 0, 0, 0)),
    ];
    for (text, unit, reference) in cases {
        let parsed = TimeUnits::parse(text).unwrap_or_else(|e| panic!("{text:?}: {e}"));
        assert_eq!(parsed, TimeUnits { unit, reference }, "{text:?}");
        // Display is canonical and parses back to the same thing.
        assert_eq!(TimeUnits::parse(&parsed.to_string()), Ok(parsed.clone()), "{parsed}");
    }
    assert_eq!(
        TimeUnits::parse("days since 1950-1-1").map(|u| u.to_string()),
        Ok("days since 1950-01-01 00:00:00".to_string())
    );
    // cftime truncates float("0.000249") * 1e6 = 248.99999999999997.
    assert_eq!(TimeUnits::parse("days since 1900-01-01 00:00:00.000249").map(|u| u.reference.microsecond), Ok(248));
    assert_eq!(TimeUnit::parse("HRS"), Ok(TimeUnit::Hours));
    assert_eq!(TimeUnit::Days.microseconds(), MICROS_PER_DAY);
    assert_eq!(TimeUnit::Milliseconds.cf_name(), "milliseconds");
}

#[test]
fn bad_units_and_unknown_calendars_are_errors() {
    let bad = [
        "",
        "days",
        "days since",
        "since 1950-01-01",
        "days after 1950-01-01",
        "fortnights since 1950-01-01",
        "months since 1950-01-01",
        "common_years since 1950-01-01",
        "days since 1950",
        "days since 1950-01",
        "days since 1950-01-01 12",
        "days since 1950-01-01  12:00",
        "days since 1950-01-01 foo",
        "days since 1950-01-01 00:00:00 +01:00",
        "days since 1950-01-01 00:00:00 -6:00",
        "days since 1950-13-01",
        "days since 1950-01-32",
        "days since 1950-001-01",
        "days since 1950-01-01 24:00:00",
        "days since 1950-01-01 00:60",
        "days since 1950-01-01 00:00:60",
        "days since 1950-01-01 00:00:00.9999999999999999999",
        "days since 0000-01-01",
        "days since -100-01-01",
        "days since 10000-01-01",
        "days since 1950-01-01T",
    ];
    for text in bad {
        match TimeUnits::parse(text) {
            Err(e @ (CalendarError::BadUnits(_) | CalendarError::OutOfRange(_))) => {
                let message = e.to_string();
                assert!(
                    !message.contains('\n') && (message.contains("expected") || message.contains("outside")),
                    "{text:?}: {message}"
                );
            }
            other => panic!("{text:?} should be refused, got {other:?}"),
        }
    }
    let calendar_names = [
        ("standard", Calendar::Standard),
        ("GREGORIAN", Calendar::Standard),
        ("Proleptic_Gregorian", Calendar::ProlepticGregorian),
        ("julian", Calendar::Julian),
        ("noleap", Calendar::NoLeap),
        ("365_day", Calendar::NoLeap),
        ("all_leap", Calendar::AllLeap),
        ("366_day", Calendar::AllLeap),
        ("360_day", Calendar::Day360),
    ];
    for (name, calendar) in calendar_names {
        assert_eq!(Calendar::parse(name), Ok(calendar), "{name}");
        assert_eq!(Calendar::parse(calendar.cf_name()), Ok(calendar));
    }
    for name in ["", "none", "tai", "gregorian_proleptic", "360", "noleaps"] {
        match Calendar::parse(name) {
            Err(CalendarError::UnknownCalendar(got)) => assert_eq!(got, name),
            other => panic!("{name:?} should be unknown, got {other:?}"),
        }
    }
    let message = Calendar::parse("lunar").map(|_| ()).unwrap_err().to_string();
    assert!(message.contains("expected one of standard"), "{message}");
}

#[test]
fn date_display() {
    assert_eq!(CfDateTime::ymd(1990, 1, 1).to_string(), "1990-01-01");
    assert_eq!(CfDateTime::ymd(1990, 1, 1).with_time(12, 0, 0, 0).to_string(), "1990-01-01 12:00:00");
    assert_eq!(CfDateTime::ymd(5, 3, 9).with_time(0, 0, 0, 1200).to_string(), "0005-03-09 00:00:00.001200");
}
