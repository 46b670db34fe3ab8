//! Helpers shared by `calendar_golden.rs` and `calendar_conversion.rs` (included with `mod calendar_common;`):
//! the rows of the golden file and a deterministic generator.

use downscale_data::calendar::CfDateTime;

const GOLDEN: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/cftime_golden.csv");

/// One data row of the golden file; `line` is its 1-based line number.
pub(crate) struct Row {
    pub line: usize,
    pub kind: String,
    pub calendar: String,
    pub units: String,
    pub value: String,
    pub date: Option<CfDateTime>,
    pub day_of_year: Option<u32>,
    pub ordinal: Option<i64>,
}

impl std::fmt::Display for Row {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "line {}: {} {} {:?} value={} expected={:?} dayofyr={:?} ordinal={:?}",
            self.line, self.kind, self.calendar, self.units, self.value, self.date, self.day_of_year, self.ordinal
        )
    }
}

pub(crate) fn golden_rows() -> Vec<Row> {
    let text = std::fs::read_to_string(GOLDEN)
        .unwrap_or_else(|e| panic!("cannot read {GOLDEN} (regenerate with scripts/cftime_golden.py): {e}"));
    let mut rows = Vec::new();
    let mut header_seen = false;
    for (index, line) in text.lines().enumerate() {
        if line.starts_with('#') || line.is_empty() {
            continue;
        }
        if !header_seen {
            assert!(line.starts_with("kind,calendar,units,value,"), "unexpected header {line:?}");
            header_seen = true;
            continue;
        }
        assert!(!line.contains('"'), "line {}: quoted CSV fields are not expected: {line}", index + 1);
        let fields: Vec<&str> = line.split(',').collect();
        assert_eq!(fields.len(), 13, "line {}: expected 13 fields: {line}", index + 1);
        let int = |i: usize| -> Option<i64> {
            (!fields[i].is_empty()).then(|| fields[i].parse().unwrap_or_else(|e| panic!("line {}: {e}", index + 1)))
        };
        let date = int(4).map(|year| CfDateTime {
            year: year as i32,
            month: int(5).unwrap_or(0) as u32,
            day: int(6).unwrap_or(0) as u32,
            hour: int(7).unwrap_or(0) as u32,
            minute: int(8).unwrap_or(0) as u32,
            second: int(9).unwrap_or(0) as u32,
            microsecond: int(10).unwrap_or(0) as u32,
        });
        rows.push(Row {
            line: index + 1,
            kind: fields[0].to_string(),
            calendar: fields[1].to_string(),
            units: fields[2].to_string(),
            value: fields[3].to_string(),
            date,
            day_of_year: int(11).map(|v| v as u32),
            ordinal: int(12),
        });
    }
    assert!(rows.len() >= 10_000, "golden file has only {} rows", rows.len());
    rows
}

/// splitmix64: a tiny deterministic generator, so failures reproduce.
pub(crate) struct Rng(pub u64);

impl Rng {
    pub(crate) fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `lo..=hi`.
    pub(crate) fn range(&mut self, lo: i64, hi: i64) -> i64 {
        lo + (self.next() % (hi - lo + 1) as u64) as i64
    }
}
