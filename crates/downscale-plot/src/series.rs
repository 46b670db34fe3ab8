//! A time series: dates on x (in the series' own calendar), values on y with the units, and the line broken where
//! the record has a gap, so that a store of winters does not draw summers it does not hold.

use plotters::coord::Shift;
use plotters::prelude::*;

use crate::canvas::{Drawn, Image, ImageSpec, Painter, PlotArea, TITLE_HEIGHT, render, text, titled};
use crate::error::{PlotError, Result};
use crate::select::{Series, SeriesStep};
use crate::ticks::{TickedAxis, label_of, time_ticks, value_ticks};
use crate::time::fractional_year;

const MARGIN: u32 = 16;
const X_LABELS: u32 = 36;
const Y_LABELS: u32 = 76;
const LINE_COLOUR: RGBColor = RGBColor(31, 119, 180);
const GRID_COLOUR: RGBColor = RGBColor(225, 225, 225);
/// Up to this many points, each is marked too: monthly means of a few seasons are short segments, a point each.
const MARKED_POINTS: usize = 240;
/// A step longer than this many times the typical one is a gap in the record, where the line breaks.
const GAP_FACTOR: f64 = 2.5;

/// `series` as a line plot, titled `title` (by default [`Series::description`]), as `image` asks.
pub fn render_series(series: &Series, title: Option<&str>, image: ImageSpec) -> Result<Image> {
    let no_data = || PlotError::NoData { what: series.description() };
    if series.dates.len() != series.values.len() {
        return Err(PlotError::NotAGrid {
            source_name: series.description(),
            variable: series.name.clone(),
            detail: format!("has {} dates for {} values", series.dates.len(), series.values.len()),
        });
    }
    let positions: Vec<f64> = series.dates.iter().map(|date| position(series, date)).collect();
    let finite = || series.values.iter().copied().filter(|v| v.is_finite());
    let low = finite().reduce(f64::min).ok_or_else(no_data)?;
    let high = finite().reduce(f64::max).ok_or_else(no_data)?;
    let pad = if high > low { (high - low) * 0.05 } else { 0.5 };
    let (first, last) = (positions[0], positions[positions.len() - 1]);
    let x_pad = ((last - first) * 0.02).max(1.0 / 365.0);
    let painter = SeriesPainter {
        series,
        segments: segments(&positions, &series.values),
        x_range: first - x_pad..last + x_pad,
        y_range: low - pad..high + pad,
        title: title.map_or_else(|| series.description(), str::to_string),
    };
    render(&painter, image)
}

/// Where a value is drawn on the time axis: a day at its date, a month or a year at its middle.
fn position(series: &Series, date: &downscale_data::calendar::CfDateTime) -> f64 {
    let start = fractional_year(series.calendar, date);
    let days_in_year = f64::from(series.calendar.days_in_year(date.year).max(1));
    match series.step {
        SeriesStep::Daily => start,
        SeriesStep::Monthly => {
            start + f64::from(series.calendar.days_in_month(date.year, date.month)) / 2.0 / days_in_year
        }
        SeriesStep::Annual => start + 0.5,
    }
}

/// The runs of finite values without a gap: a missing value, or a step more than [`GAP_FACTOR`] times the median
/// step, ends a run.
fn segments(positions: &[f64], values: &[f64]) -> Vec<Vec<(f64, f64)>> {
    let mut steps: Vec<f64> = positions.windows(2).map(|pair| pair[1] - pair[0]).filter(|s| *s > 0.0).collect();
    steps.sort_by(f64::total_cmp);
    let longest = steps.get(steps.len() / 2).map_or(f64::INFINITY, |median| median * GAP_FACTOR);
    let mut runs: Vec<Vec<(f64, f64)>> = Vec::new();
    let mut previous: Option<f64> = None;
    for (&x, &y) in positions.iter().zip(values) {
        if !y.is_finite() {
            previous = None;
            continue;
        }
        match (previous, runs.last_mut()) {
            (Some(before), Some(run)) if x - before <= longest => run.push((x, y)),
            _ => runs.push(vec![(x, y)]),
        }
        previous = Some(x);
    }
    runs
}

struct SeriesPainter<'a> {
    series: &'a Series,
    segments: Vec<Vec<(f64, f64)>>,
    x_range: std::ops::Range<f64>,
    y_range: std::ops::Range<f64>,
    title: String,
}

impl Painter for SeriesPainter<'_> {
    const WHAT: &'static str = "series";

    fn paint<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Drawn<PlotArea>
    where
        DB::ErrorType: 'static,
    {
        let body = titled(root, &self.title)?;
        let (width, height) = root.dim_in_pixel();

        let plot_width = f64::from(width.saturating_sub(Y_LABELS + 2 * MARGIN));
        let plot_height = f64::from(height.saturating_sub(TITLE_HEIGHT + X_LABELS + 2 * MARGIN));
        let (x, y) = (&self.x_range, &self.y_range);
        let x_ticks = time_ticks(self.series.calendar, x.start, x.end, (plot_width / 90.0).clamp(2.0, 12.0) as usize);
        let y_ticks = value_ticks(y.start, y.end, (plot_height / 40.0).clamp(2.0, 10.0) as usize);
        let mut chart = ChartBuilder::on(&body)
            .margin(MARGIN)
            .x_label_area_size(X_LABELS)
            .y_label_area_size(Y_LABELS)
            .build_cartesian_2d(TickedAxis::new(x.clone(), &x_ticks), TickedAxis::new(y.clone(), &y_ticks))?;
        let units = if self.series.units.is_empty() { "no units" } else { &self.series.units };
        chart
            .configure_mesh()
            .bold_line_style(GRID_COLOUR)
            .light_line_style(TRANSPARENT)
            .label_style(text(13.0))
            .axis_desc_style(text(14.0))
            .y_desc(units)
            .x_label_formatter(&|at| label_of(&x_ticks, *at))
            .y_label_formatter(&|at| label_of(&y_ticks, *at))
            .draw()?;
        let points: usize = self.segments.iter().map(Vec::len).sum();
        // Plotters joins thick lines with mitres, which shoot far past the sharp turns of a daily series.
        let width = if points <= MARKED_POINTS { 2 } else { 1 };
        for run in &self.segments {
            chart.draw_series(LineSeries::new(run.iter().copied(), LINE_COLOUR.stroke_width(width)))?;
        }
        if points <= MARKED_POINTS {
            let marks = self.segments.iter().flatten().map(|&point| Circle::new(point, 3, LINE_COLOUR.filled()));
            chart.draw_series(marks)?;
        }
        let (x_pixels, y_pixels) = chart.plotting_area().get_pixel_range();
        Ok(PlotArea { x_pixels, y_pixels, x_range: x.clone(), y_range: y.clone() })
    }
}

#[cfg(test)]
mod tests {
    use downscale_data::calendar::{Calendar, CfDateTime};

    use super::*;

    #[test]
    fn lines_break_at_gaps_and_missing_values() {
        // Three winters of monthly means (Dec, Jan, Feb) with one missing January.
        let positions = [0.0, 1.0, 2.0, 12.0, 13.0, 14.0, 24.0, 25.0, 26.0].map(|m: f64| 2000.0 + m / 12.0);
        let values = [1.0, 2.0, 3.0, 4.0, f64::NAN, 6.0, 7.0, 8.0, 9.0];
        let runs = segments(&positions, &values);
        let lengths: Vec<usize> = runs.iter().map(Vec::len).collect();
        assert_eq!(lengths, [3, 1, 1, 3]);
        assert_eq!(runs[3][0].1, 7.0);
        let daily: Vec<f64> = (0..10).map(f64::from).collect();
        assert_eq!(segments(&daily, &daily).len(), 1, "an even record is one line");
    }

    fn monthly(values: Vec<f64>) -> Series {
        Series {
            name: "pr".into(),
            units: "mm day-1".into(),
            calendar: Calendar::Day360,
            step: SeriesStep::Monthly,
            dates: (1..=values.len() as u32).map(|month| CfDateTime::ymd(2001, month, 1)).collect(),
            values,
        }
    }

    #[test]
    fn series_are_drawn_on_their_calendar_with_their_units() {
        let spec = ImageSpec { format: crate::ImageFormat::Svg, width: 600, height: 400 };
        let image = render_series(&monthly(vec![1.0, 3.0, f64::NAN, 2.0]), None, spec).unwrap();
        let svg = String::from_utf8(image.bytes).unwrap();
        assert!(svg.contains("mm day-1") && svg.contains("2001-02") && svg.contains("<polyline"), "{svg}");
        // The March value is missing: January-February is one line and April a point of its own.
        assert_eq!(svg.matches("<circle").count(), 3);
        // January 2001 is drawn at its middle, half a 30-day month into the 360-day year.
        let area = image.plot_area;
        assert!(area.x_range.start < 2001.0 + 15.0 / 360.0 && area.x_range.end > 2001.0 + 105.0 / 360.0);
        let error = render_series(&monthly(vec![f64::NAN; 2]), None, spec).unwrap_err();
        assert_eq!(error.to_string(), "pr, area-weighted domain mean of monthly means has no finite value to plot");
    }
}
