#!/usr/bin/env python3
"""Generate the golden file that pins the Rust CF-calendar module to cftime.

Usage:
    /tmp/pyenv/bin/python scripts/cftime_golden.py [OUT]

OUT defaults to crates/downscale-data/tests/fixtures/cftime_golden.csv
(relative to the repository root).  The output is deterministic: every
random choice comes from one seeded generator, so rerunning the script with
the same cftime/xarray/numpy versions reproduces the file byte for byte.

Row kinds (first column):

decode_f    num2date(float value, units, calendar) -> the date columns
decode_i    num2date(int64 value, units, calendar) -> the date columns
decode_out  num2date result lies outside years 1..=9999: the Rust side
            must return an out-of-range error (date columns empty)
units_err   cftime refuses these units for this calendar: the Rust side
            must refuse them too (value and date columns empty)
encode      date2num(date columns, units, calendar) -> value
xr          xarray convert_calendar(<calendar> -> "standard") of a daily
            series at 12:00 whose bounds and align_on are given in the
            units column as "align=A from=Y-M-D to=Y-M-D"; value is the
            index of the source element that lands on the target date in
            the date columns.

Date columns: year, month, day, hour, minute, second, microsecond, then
cftime's dayofyr and toordinal() of that date.
"""

import csv
import io
import math
import random
import sys
import warnings
from pathlib import Path

import cftime
import numpy as np
import xarray as xr

SEED = 20_260_901
CALENDARS = [
    "standard",
    "gregorian",
    "proleptic_gregorian",
    "julian",
    "noleap",
    "365_day",
    "all_leap",
    "366_day",
    "360_day",
]
UNIT_US = {
    "days": 86_400_000_000,
    "hours": 3_600_000_000,
    "minutes": 60_000_000,
    "seconds": 1_000_000,
    "milliseconds": 1_000,
    "microseconds": 1,
}
# Unit spellings as found in files; the key is the canonical unit.
UNIT_ALIASES = {
    "days": ["days", "day", "d", "Days", "DAYS"],
    "hours": ["hours", "hour", "hr", "hrs", "h"],
    "minutes": ["minutes", "minute", "min", "mins"],
    "seconds": ["seconds", "second", "sec", "secs", "s"],
    "milliseconds": ["milliseconds", "msec", "ms"],
    "microseconds": ["microseconds", "microsec"],
}
# Reference-date spellings (several are deliberately odd).  Those that do
# not exist in a calendar are skipped for that calendar.
REFERENCES = [
    "1850-01-01",
    "1850-01-01 00:00:00",
    "1850-01-01 00:00:00.0",
    "1850-1-1",
    "1-1-1",
    "0001-01-01 00:00:00",
    "1582-10-04 12:00",
    "1582-10-15",
    "1582-10-15 00:00:00",
    "1600-02-29",
    "1700-03-01 06:00:00",
    "1900-01-01 00:00:00",
    "1900-02-28 23:59:59",
    "1900-01-01 00:00:00.000249",
    "1950-01-01 00:00:00 UTC",
    "1970-01-01T00:00:00Z",
    "1970-01-01 00:00:00+00:00",
    "1999-12-31 23:59:59.999999",
    "2000-02-29 06:30:15.5",
    "2000-02-30",
    "2001-1-1T12:00",
    "2100-03-01 00:00",
    "5000-06-15 18:45:30.125",
    "9999-12-30",
]
EDGE_YEARS = [1, 2, 4, 100, 1000, 1581, 1582, 1583, 1600, 1700, 1900, 2000, 2100, 9998, 9999]

warnings.simplefilter("ignore")

rng = random.Random(SEED)
rows = []


def cal_ok(calendar, *args):
    try:
        cftime.datetime(*args, calendar=calendar)
        return True
    except ValueError:
        return False


def units_ok(units, calendar):
    try:
        cftime.num2date(0, units, calendar=calendar)
        return True
    except (ValueError, TypeError, OverflowError):
        return False


def date_cols(d):
    return [d.year, d.month, d.day, d.hour, d.minute, d.second, d.microsecond, d.dayofyr, d.toordinal()]


def num_text(v):
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    return repr(float(v))


def decode(calendar, units, value):
    """Append a decode row (or a decode_out row) for one value."""
    is_int = isinstance(value, int)
    arg = np.int64(value) if is_int else float(value)
    try:
        d = cftime.num2date(arg, units, calendar=calendar)
    except (ValueError, OverflowError):
        # cftime itself cannot represent it (e.g. before its minimum year).
        rows.append(["decode_out", calendar, units, num_text(value)] + [""] * 9)
        return
    if 1 <= d.year <= 9999:
        rows.append(["decode_i" if is_int else "decode_f", calendar, units, num_text(value)] + date_cols(d))
    else:
        rows.append(["decode_out", calendar, units, num_text(value)] + [""] * 9)


def encode(calendar, units, d):
    v = cftime.date2num(d, units, calendar=calendar)
    rows.append(["encode", calendar, units, num_text(v)] + date_cols(d))


def unit_word(unit):
    return rng.choice(UNIT_ALIASES[unit])


def valid_refs(calendar):
    return [r for r in REFERENCES if units_ok("days since " + r, calendar)]


def span_in_units(calendar, units):
    """Values (in the unit) of 0001-01-01 and 9999-12-30 for these units."""
    lo = cftime.date2num(cftime.datetime(1, 1, 1, calendar=calendar), units, calendar=calendar)
    hi = cftime.date2num(cftime.datetime(9999, 12, 30, calendar=calendar), units, calendar=calendar)
    return float(lo), float(hi)


def random_date(calendar, year_lo=1, year_hi=9999, with_time=True):
    while True:
        y = rng.randint(year_lo, year_hi)
        m = rng.randint(1, 12)
        d = rng.randint(1, 31)
        if with_time:
            t = (rng.randint(0, 23), rng.randint(0, 59), rng.randint(0, 59), rng.choice([0, 0, rng.randint(0, 999_999)]))
        else:
            t = (0, 0, 0, 0)
        if cal_ok(calendar, y, m, d, *t):
            return cftime.datetime(y, m, d, *t, calendar=calendar)




for calendar in CALENDARS:
    refs = valid_refs(calendar)

    # 1. Days around the edge years, the 1582 switch and month ends, decoded
    #    from whole and fractional values in several units.
    edge_days = []
    for y in EDGE_YEARS:
        for m, d in [(1, 1), (2, 27), (2, 28), (2, 29), (2, 30), (3, 1), (10, 3), (10, 4), (10, 5), (10, 15), (10, 16), (12, 30), (12, 31)]:
            if cal_ok(calendar, y, m, d):
                edge_days.append(cftime.datetime(y, m, d, calendar=calendar))
    for target in edge_days:
        unit = rng.choice(["days", "days", "hours", "minutes", "seconds"])
        units = f"{unit_word(unit)} since {rng.choice(refs)}"
        v = cftime.date2num(target, units, calendar=calendar)
        per_day = 86_400_000_000 / UNIT_US[unit]
        if isinstance(v, (int, np.integer)):
            decode(calendar, units, int(v))
        frac_days = rng.choice([0.0, 0.5, -0.5, 0.25, 1.0, -1.0, 0.999, 1e-6])
        decode(calendar, units, float(v) + frac_days * per_day)

    # 2. Every day across the 1582 switch and across Feb/Mar of 1900, 2000, 2100.
    for ref, first, last in [("1582-10-01", -3, 30), ("1582-09-20", 8, 30), ("1900-02-20", 6, 12),
                             ("2000-02-20", 6, 12), ("2100-02-20", 6, 12)]:
        units = f"days since {ref}"
        if not units_ok(units, calendar):
            continue
        for k in range(first, last):
            decode(calendar, units, k)
            if k % 3 == 0:
                decode(calendar, units, k + 0.5)
    for ref in ["1582-10-20 00:00:00", "1582-10-15 12:00:00"]:
        units = f"hours since {ref}"
        if units_ok(units, calendar):
            for k in range(-20 * 24, 24, 17):
                decode(calendar, units, k)

    # 3. Random values across years 1..9999 in every unit.
    for unit in ["days", "hours", "minutes", "seconds", "milliseconds", "microseconds"]:
        for _ in range(10):
            units = f"{unit_word(unit)} since {rng.choice(refs)}"
            lo, hi = span_in_units(calendar, units)
            for _ in range(4):
                kind = rng.random()
                x = rng.uniform(lo, hi)
                if kind < 0.3:
                    decode(calendar, units, int(x))
                elif kind < 0.6:
                    decode(calendar, units, round(x, rng.randint(0, 6)))
                else:
                    decode(calendar, units, x)

    # 4. Floats that stress the rounding to whole microseconds: small
    #    fractions, values near a half microsecond, near whole seconds, and
    #    large magnitudes where the float spacing exceeds a microsecond.
    for unit in ["days", "hours", "minutes", "seconds"]:
        units = f"{unit} since {rng.choice(refs)}"
        per_us = UNIT_US[unit]
        for v in [0.1, 0.2, 0.3, 1 / 3, 2 / 3, 1e-7, 5e-7, 1e-6, 0.05, 0.15, 1.1, 12.3, 100.01, -0.1, -1 / 3]:
            decode(calendar, units, v)
        for _ in range(8):
            k = rng.randint(-20_000, 20_000)
            us = rng.randint(0, 999_999)
            for delta in [0.5, 0.4999999, 0.5000001, -0.4, 0.6]:
                decode(calendar, units, k + (us + delta) / per_us)
            for sec_frac in [0.9999995, 0.9999996, 0.9999994, 0.0000005, 0.0000014, 0.0000015]:
                decode(calendar, units, k + sec_frac * 1_000_000 / per_us)
        lo, hi = span_in_units(calendar, units)
        for _ in range(8):
            x = rng.uniform(lo, hi)
            decode(calendar, units, x)
            decode(calendar, units, math.nextafter(x, math.inf))
    for units in ["milliseconds since 1970-01-01", "microseconds since 2000-01-01 00:00:00"]:
        if units_ok(units, calendar):
            for v in [0.4, 0.5, 0.6, 1.5, 2.5, -0.5, -1.5, 123456.789, 2.0**53, -(2.0**53) - 2]:
                decode(calendar, units, v)

    # 5. A few values whose date falls outside years 1..=9999.
    for units, v in [("days since 9999-12-30", 2), ("days since 0001-01-01", -1), ("hours since 1-1-1", -25.0),
                     ("seconds since 1970-01-01", 1e12), ("days since 1850-01-01", -1e6), ("days since 1850-01-01", 1e300)]:
        decode(calendar, units, v)

    # 6. Encoding random dates (with time of day and microseconds).
    for _ in range(120):
        unit = rng.choice(["days", "days", "hours", "minutes", "seconds", "milliseconds", "microseconds"])
        units = f"{unit_word(unit)} since {rng.choice(refs)}"
        encode(calendar, units, random_date(calendar))
    for y in EDGE_YEARS:
        for m, d in [(1, 1), (2, 28), (2, 29), (3, 1), (10, 4), (10, 15), (12, 31)]:
            if cal_ok(calendar, y, m, d):
                unit = rng.choice(["days", "hours", "seconds"])
                units = f"{unit_word(unit)} since {rng.choice(refs)}"
                h, us = rng.choice([(0, 0), (12, 0), (6, 1)])
                encode(calendar, units, cftime.datetime(y, m, d, h, 0, 0, us, calendar=calendar))

    # 7. Units that cftime refuses for this calendar.
    bad = [
        "days since 2000-02-29", "days since 2001-02-29", "days since 2000-02-30", "days since 2000-01-31",
        "days since 1582-10-10", "days since 1900-02-29", "days since 1950-13-01", "days since 1950-00-10",
        "days since 1950-01-00", "days since 1950-01-01 24:00:00", "days since 1950-01-01 00:60:00",
        "days since 1950-01-01 00:00:60", "fortnights since 1950-01-01", "days after 1950-01-01", "days since",
        "days since 1950", "days since 1950-01", "days since 0000-01-01", "years since 1950-01-01",
        "months since 1950-01-01", "common_years since 1950-01-01", "since 1950-01-01", "",
    ]
    for units in bad:
        if not units_ok(units, calendar):
            rows.append(["units_err", calendar, units] + [""] * 10)


# 8. xarray convert_calendar to "standard" (the plan in calendar_convert.rs
#    must reproduce the index mapping).
def xr_rows(calendar, align, start, end):
    t = xr.date_range(f"{start} 12:00", f"{end} 12:00", freq="D", calendar=calendar, use_cftime=True)
    da = xr.DataArray(np.arange(len(t)), dims="time", coords={"time": t})
    kwargs = {"align_on": align} if calendar == "360_day" else {}
    out = da.convert_calendar("standard", **kwargs)
    label = f"align={align} from={start} to={end}"
    for idx, tv in zip(out.values, out.time.values):
        ts = np.datetime_as_string(tv, unit="us")
        d = cftime.datetime(int(ts[0:4]), int(ts[5:7]), int(ts[8:10]), int(ts[11:13]), int(ts[14:16]),
                            int(ts[17:19]), int(ts[20:26]), calendar="standard")
        rows.append(["xr", calendar, label, str(int(idx))] + date_cols(d))


xr_rows("360_day", "year", "2095-01-01", "2096-12-30")
xr_rows("360_day", "date", "2095-01-01", "2096-12-30")
xr_rows("360_day", "year", "2003-05-17", "2004-03-11")
xr_rows("noleap", "date", "1999-12-01", "2001-02-28")
xr_rows("all_leap", "date", "1999-12-01", "2001-03-01")

out_path = Path(sys.argv[1]) if len(sys.argv) > 1 else (
    Path(__file__).resolve().parent.parent / "crates/downscale-data/tests/fixtures/cftime_golden.csv"
)
buf = io.StringIO()
buf.write(
    "# Golden values for crates/downscale-data/src/calendar.rs and calendar_convert.rs.\n"
    f"# Produced by scripts/cftime_golden.py (seed {SEED}) with cftime {cftime.__version__}, "
    f"xarray {xr.__version__}, numpy {np.__version__}; do not edit by hand.\n"
    "# Regenerate: /tmp/pyenv/bin/python scripts/cftime_golden.py\n"
    "# See the script's docstring for the meaning of each row kind.\n"
)
writer = csv.writer(buf, lineterminator="\n")
writer.writerow(["kind", "calendar", "units", "value", "year", "month", "day", "hour", "minute", "second",
                 "microsecond", "dayofyr", "ordinal"])
writer.writerows(rows)
out_path.parent.mkdir(parents=True, exist_ok=True)
out_path.write_text(buf.getvalue())
counts = {}
for r in rows:
    counts[r[0]] = counts.get(r[0], 0) + 1
print(f"wrote {len(rows)} rows to {out_path}: {counts}", file=sys.stderr)
