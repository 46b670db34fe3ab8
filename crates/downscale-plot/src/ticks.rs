//! Where axis and colour-bar ticks go and how they are labelled: round numbers (1, 2, 2.5 or 5 times a power of
//! ten), so that a reader can interpolate between them; plotters' own choice does not know about degrees or
//! calendars.

use downscale_data::calendar::{Calendar, CfDateTime};

use plotters::coord::ranged1d::{DefaultFormatting, KeyPointHint, Ranged};
use plotters::coord::types::RangedCoordf64;

use crate::time::fractional_year;

/// A tick: its position on the axis and its label.
pub(crate) type Tick = (f64, String);

/// The round step that puts at most `max_count` ticks on `[low, high]` (at least two when the range allows).
pub(crate) fn nice_step(low: f64, high: f64, max_count: usize) -> f64 {
    let span = (high - low).abs();
    if span == 0.0 || !span.is_finite() {
        return 1.0;
    }
    let rough = span / max_count.max(2).saturating_sub(1) as f64;
    let magnitude = 10f64.powf(rough.log10().floor());
    let candidates = [1.0, 2.0, 2.5, 5.0, 10.0].map(|multiple| multiple * magnitude);
    candidates.into_iter().find(|&step| step >= rough * (1.0 - 1e-9)).unwrap_or(10.0 * magnitude)
}

/// Multiples of [`nice_step`] inside `[low, high]`.
pub(crate) fn nice_ticks(low: f64, high: f64, max_count: usize) -> Vec<f64> {
    let step = nice_step(low, high, max_count);
    let first = (low / step).ceil() as i64;
    let last = (high / step + 1e-9).floor() as i64;
    // Multiples rather than sums of steps, and divisions for steps below one (3 / 10, not 3 * 0.1), so that ticks
    // are the round numbers they stand for rather than 0.30000000000000004; `+ 0.0` turns -0 into 0.
    let per_unit = (1.0 / step).round();
    let tick = |i: i64| if step < 1.0 { i as f64 / per_unit } else { i as f64 * step };
    (first..=last).map(|i| tick(i) + 0.0).collect()
}

/// Decimals that show every tick of a step distinctly (2.5 needs one, 0.25 two, 20 none).
fn decimals(step: f64) -> usize {
    (0..6).find(|&d| ((step * 10f64.powi(d as i32)).round() - step * 10f64.powi(d as i32)).abs() < 1e-6).unwrap_or(6)
}

/// Value ticks for a colour bar or a y axis, labelled with as many decimals as the step needs.
pub(crate) fn value_ticks(low: f64, high: f64, max_count: usize) -> Vec<Tick> {
    let places = decimals(nice_step(low, high, max_count));
    nice_ticks(low, high, max_count).into_iter().map(|v| (v, format!("{v:.places$}"))).collect()
}

/// Longitude or latitude ticks labelled in degrees with the hemisphere (`10°W`, `0°`, `42.5°N`).
pub(crate) fn degree_ticks(low: f64, high: f64, max_count: usize, latitude: bool) -> Vec<Tick> {
    let places = decimals(nice_step(low, high, max_count));
    let (negative, positive) = if latitude { ('S', 'N') } else { ('W', 'E') };
    nice_ticks(low, high, max_count)
        .into_iter()
        .map(|v| {
            let hemisphere = if v < 0.0 {
                negative.to_string()
            } else if v > 0.0 {
                positive.to_string()
            } else {
                String::new()
            };
            (v, format!("{:.places$}°{hemisphere}", v.abs()))
        })
        .collect()
}

/// A linear axis whose ticks are ours: plotters' own key points are not round in degrees or dates, and its
/// `WithKeyPoints` cannot take a label formatter.
pub(crate) struct TickedAxis {
    linear: RangedCoordf64,
    ticks: Vec<f64>,
}

impl TickedAxis {
    pub(crate) fn new(range: std::ops::Range<f64>, ticks: &[Tick]) -> TickedAxis {
        TickedAxis { linear: range.into(), ticks: ticks.iter().map(|t| t.0).collect() }
    }
}

/// The label of the tick at `value`, for plotters' label formatters, which are handed the tick positions back.
pub(crate) fn label_of(ticks: &[Tick], value: f64) -> String {
    ticks.iter().find(|(at, _)| (at - value).abs() < 1e-9).map(|(_, label)| label.clone()).unwrap_or_default()
}

impl Ranged for TickedAxis {
    type FormatOption = DefaultFormatting;
    type ValueType = f64;

    fn map(&self, value: &f64, limit: (i32, i32)) -> i32 {
        self.linear.map(value, limit)
    }

    /// The ticks as the bold key points (labels, grid lines); no light ones.
    fn key_points<Hint: KeyPointHint>(&self, hint: Hint) -> Vec<f64> {
        if hint.weight().allow_light_points() { Vec::new() } else { self.ticks.clone() }
    }

    fn range(&self) -> std::ops::Range<f64> {
        self.linear.range()
    }
}

/// Ticks for a time axis in fractional years ([`fractional_year`]) from `start` to `end`: whole years
/// every 1, 2, 5, 10... years when the axis spans three years or more, else month starts every 1, 2, 3 or 6 months
/// (labelled `YYYY-MM`), so that a single season still gets labels.
pub(crate) fn time_ticks(calendar: Calendar, start: f64, end: f64, max_count: usize) -> Vec<Tick> {
    if end - start >= 3.0 {
        let step = nice_step(start, end, max_count).max(1.0).round();
        let first = (start / step).ceil() as i64;
        let last = (end / step).floor() as i64;
        return (first..=last).map(|i| (i as f64 * step, format!("{}", i as f64 * step))).collect();
    }
    let months_spanned = ((end - start) * 12.0).ceil().max(1.0) as usize;
    let every = [1, 2, 3, 6, 12].into_iter().find(|m| months_spanned / m < max_count.max(2)).unwrap_or(12);
    let mut ticks = Vec::new();
    let (mut year, mut month) = (start.floor() as i32, 1u32);
    loop {
        let position = fractional_year(calendar, &CfDateTime::ymd(year, month, 1));
        if position > end + 1e-9 {
            return ticks;
        }
        if position >= start - 1e-9 && (month - 1) % every as u32 == 0 {
            ticks.push((position, format!("{year:04}-{month:02}")));
        }
        (year, month) = if month == 12 { (year + 1, 1) } else { (year, month + 1) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(ticks: &[Tick]) -> Vec<&str> {
        ticks.iter().map(|(_, label)| label.as_str()).collect()
    }

    #[test]
    fn steps_are_round_and_ticks_stay_inside() {
        assert_eq!(nice_step(0.0, 10.0, 6), 2.0);
        assert_eq!(nice_step(271.3, 288.9, 6), 5.0);
        assert_eq!(nice_step(0.0, 1.0, 5), 0.25);
        assert_eq!(nice_ticks(-10.25, 5.25, 9), vec![-10.0, -8.0, -6.0, -4.0, -2.0, 0.0, 2.0, 4.0]);
        assert_eq!(nice_ticks(0.0, 0.3, 4), vec![0.0, 0.1, 0.2, 0.3], "no drift in multiples of 0.1");
        let ticks = nice_ticks(271.3, 288.9, 6);
        assert_eq!(ticks, vec![275.0, 280.0, 285.0]);
        for (low, high) in [(-3.7, 12.2), (0.001, 0.0093), (-1e5, 3e5)] {
            let ticks = nice_ticks(low, high, 7);
            assert!(ticks.len() >= 2 && ticks.len() <= 7, "{low}..{high}: {ticks:?}");
            assert!(ticks.iter().all(|&t| t >= low && t <= high), "{low}..{high}: {ticks:?}");
        }
    }

    #[test]
    fn labels_carry_the_decimals_and_hemispheres_they_need() {
        assert_eq!(labels(&value_ticks(0.0, 1.0, 5)), ["0.00", "0.25", "0.50", "0.75", "1.00"]);
        assert_eq!(labels(&value_ticks(270.0, 290.0, 5)), ["270", "275", "280", "285", "290"]);
        assert_eq!(labels(&degree_ticks(-10.25, 5.25, 5, false)), ["10°W", "5°W", "0°", "5°E"]);
        assert_eq!(labels(&degree_ticks(34.75, 45.25, 7, true)), ["36°N", "38°N", "40°N", "42°N", "44°N"]);
        assert_eq!(labels(&degree_ticks(-1.0, 1.0, 5, true)), ["1.0°S", "0.5°S", "0.0°", "0.5°N", "1.0°N"]);
    }

    #[test]
    fn time_ticks_are_years_or_month_starts() {
        let years = time_ticks(Calendar::Standard, 2080.9, 2100.2, 8);
        assert_eq!(labels(&years), ["2085", "2090", "2095", "2100"]);
        let winter = time_ticks(Calendar::Standard, 2084.91, 2085.16, 8);
        assert_eq!(labels(&winter), ["2084-12", "2085-01", "2085-02"]);
        let months = time_ticks(Calendar::Day360, 2085.0, 2086.99, 6);
        assert_eq!(labels(&months), ["2085-01", "2085-07", "2086-01", "2086-07"]);
        assert!((months[1].0 - 2085.5).abs() < 1e-12, "July starts half way through a 360-day year");
    }
}
