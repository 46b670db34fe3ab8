//! Distributions of daily values compared: several sets of counts over the same bins, drawn as step lines of each
//! bin's share of the values, a colour each with a legend.
//!
//! Bins of equal width are drawn on a value axis. Bins widening with the value (precipitation's, from a trace to
//! hundreds of millimetres) are drawn one slot each with their edges as labels, and the shares on a logarithmic
//! axis, where the heavy-rain tail that matters for extremes is visible next to the dry days.

use plotters::coord::Shift;
use plotters::prelude::*;

use crate::canvas::{Drawn, Image, ImageSpec, Painter, PlotArea, render, text, titled};
use crate::error::{PlotError, Result};
use crate::ticks::{TickedAxis, label_of, value_ticks};

const MARGIN: u32 = 16;
const X_LABELS: u32 = 40;
const Y_LABELS: u32 = 76;
const GRID_COLOUR: RGBColor = RGBColor(225, 225, 225);
/// Line colours in order: black for the first set (the observations), then the Tableau palette's blue, orange and
/// green, distinct for colour-blind readers.
const COLOURS: [RGBColor; 4] =
    [RGBColor(0, 0, 0), RGBColor(31, 119, 180), RGBColor(255, 127, 14), RGBColor(44, 160, 44)];
/// Smallest share drawn on a logarithmic axis; empty bins sit on it.
const LOG_FLOOR: f64 = 1e-7;

/// Counts over common bins, to compare.
#[derive(Debug, Clone)]
pub struct Histograms {
    /// The title.
    pub title: String,
    /// The unit of the binned values (`K`, `mm day-1`).
    pub units: String,
    /// Bin edges, ascending (one more than each set's counts).
    pub edges: Vec<f64>,
    /// Each set's label and counts.
    pub sets: Vec<(String, Vec<u64>)>,
}

/// `histograms` as step lines of each bin's share of its set, as `image` asks.
pub fn render_histograms(histograms: &Histograms, image: ImageSpec) -> Result<Image> {
    let bins = histograms.edges.len().saturating_sub(1);
    if bins == 0 || histograms.sets.iter().any(|(_, counts)| counts.len() != bins) {
        return Err(PlotError::BadSelection {
            detail: format!("{}: every set needs one count per bin ({bins} bins)", histograms.title),
        });
    }
    let shares: Vec<(String, Vec<f64>)> = histograms
        .sets
        .iter()
        .filter_map(|(label, counts)| {
            let total: u64 = counts.iter().sum();
            (total > 0).then(|| (label.clone(), counts.iter().map(|&c| c as f64 / total as f64).collect()))
        })
        .collect();
    // Only the bins some set reaches, and one empty bin either side.
    let occupied = |k: usize| shares.iter().any(|(_, s)| s[k] > 0.0);
    let first = (0..bins).find(|&k| occupied(k)).ok_or_else(|| PlotError::NoData { what: histograms.title.clone() })?;
    let last = (0..bins).rev().find(|&k| occupied(k)).unwrap_or(first);
    let widths: Vec<f64> = histograms.edges.windows(2).map(|w| w[1] - w[0]).collect();
    let equal_widths = widths.iter().all(|w| (w - widths[0]).abs() <= 1e-9 * widths[0].abs().max(1.0));
    let painter =
        HistogramPainter { histograms, shares, bins: first.saturating_sub(1)..(last + 2).min(bins), equal_widths };
    render(&painter, image)
}

struct HistogramPainter<'a> {
    histograms: &'a Histograms,
    shares: Vec<(String, Vec<f64>)>,
    bins: std::ops::Range<usize>,
    equal_widths: bool,
}

impl HistogramPainter<'_> {
    /// Where edge `k` is drawn on the x axis.
    fn x_of(&self, k: usize) -> f64 {
        if self.equal_widths { self.histograms.edges[k] } else { k as f64 }
    }

    /// The step line of one set: a level across each bin, joined at the edges.
    fn steps(&self, shares: &[f64]) -> Vec<(f64, f64)> {
        let floor = if self.equal_widths { 0.0 } else { LOG_FLOOR };
        let mut points = vec![(self.x_of(self.bins.start), floor)];
        for k in self.bins.clone() {
            let level = shares[k].max(floor);
            points.push((self.x_of(k), level));
            points.push((self.x_of(k + 1), level));
        }
        points.push((self.x_of(self.bins.end), floor));
        points
    }
}

impl Painter for HistogramPainter<'_> {
    const WHAT: &'static str = "histogram";

    fn paint<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Drawn<PlotArea>
    where
        DB::ErrorType: 'static,
    {
        let body = titled(root, &self.histograms.title)?;
        let (width, _) = root.dim_in_pixel();

        let plot_width = f64::from(width.saturating_sub(Y_LABELS + 2 * MARGIN));
        let x_range = self.x_of(self.bins.start)..self.x_of(self.bins.end);
        let x_ticks = if self.equal_widths {
            value_ticks(x_range.start, x_range.end, (plot_width / 70.0).clamp(2.0, 12.0) as usize)
        } else {
            (self.bins.start..=self.bins.end).map(|k| (k as f64, format!("{}", self.histograms.edges[k]))).collect()
        };
        let highest = self.shares.iter().flat_map(|(_, s)| s.iter().copied()).fold(0.0, f64::max);
        let units = if self.histograms.units.is_empty() { "no units" } else { &self.histograms.units };
        let mut chart_builder = ChartBuilder::on(&body);
        chart_builder.margin(MARGIN).x_label_area_size(X_LABELS).y_label_area_size(Y_LABELS);
        let x_axis = || TickedAxis::new(x_range.clone(), &x_ticks);
        let (x_pixels, y_pixels, y_span) = if self.equal_widths {
            let y_range = 0.0..highest * 1.08;
            let mut chart = chart_builder.build_cartesian_2d(x_axis(), y_range.clone())?;
            chart
                .configure_mesh()
                .bold_line_style(GRID_COLOUR)
                .light_line_style(TRANSPARENT)
                .label_style(text(13.0))
                .axis_desc_style(text(14.0))
                .x_desc(units)
                .y_desc("share of days x cells")
                .x_label_formatter(&|at| label_of(&x_ticks, *at))
                .draw()?;
            self.draw_sets(&mut chart)?;
            let (x_pixels, y_pixels) = chart.plotting_area().get_pixel_range();
            (x_pixels, y_pixels, y_range)
        } else {
            let y_range = LOG_FLOOR..(highest * 2.0).max(LOG_FLOOR * 10.0);
            let mut chart = chart_builder.build_cartesian_2d(x_axis(), y_range.clone().log_scale())?;
            chart
                .configure_mesh()
                .bold_line_style(GRID_COLOUR)
                .light_line_style(TRANSPARENT)
                .label_style(text(13.0))
                .axis_desc_style(text(14.0))
                .x_desc(format!("{units} (bin edges)"))
                .y_desc("share of days x cells")
                .x_label_formatter(&|at| label_of(&x_ticks, *at))
                .y_label_formatter(&|at| format!("{at:.0e}"))
                .draw()?;
            self.draw_sets(&mut chart)?;
            let (x_pixels, y_pixels) = chart.plotting_area().get_pixel_range();
            (x_pixels, y_pixels, y_range)
        };
        Ok(PlotArea { x_pixels, y_pixels, x_range, y_range: y_span })
    }
}

impl HistogramPainter<'_> {
    fn draw_sets<'c, DB, Y>(&self, chart: &mut ChartContext<'c, DB, Cartesian2d<TickedAxis, Y>>) -> Drawn<()>
    where
        DB: DrawingBackend + 'c,
        DB::ErrorType: 'static,
        Y: Ranged<ValueType = f64>,
    {
        for (index, (label, shares)) in self.shares.iter().enumerate() {
            let colour = COLOURS[index % COLOURS.len()];
            chart
                .draw_series(LineSeries::new(self.steps(shares), colour.stroke_width(2)))?
                .label(label.as_str())
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], colour.stroke_width(2)));
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperRight)
            .background_style(WHITE.mix(0.85))
            .border_style(GRID_COLOUR)
            .label_font(text(13.0))
            .draw()?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::canvas::ImageFormat;

    fn spec() -> ImageSpec {
        ImageSpec { format: ImageFormat::Png, width: 700, height: 420 }
    }

    #[test]
    fn equal_and_widening_bins_both_draw() {
        let equal = Histograms {
            title: "tas".into(),
            units: "K".into(),
            edges: (0..=10).map(|k| 270.0 + f64::from(k)).collect(),
            sets: vec![("observed".into(), vec![0, 1, 5, 9, 5, 1, 0, 0, 0, 0]), ("downscaled".into(), vec![0; 10])],
        };
        let image = render_histograms(&equal, spec()).unwrap();
        assert!(image.bytes.starts_with(b"\x89PNG"));
        assert_eq!(image.plot_area.x_range, 270.0..277.0, "the occupied bins and one empty bin either side");
        let widening = Histograms {
            title: "pr".into(),
            units: "mm day-1".into(),
            edges: vec![0.0, 0.1, 1.0, 10.0, 100.0],
            sets: vec![("observed".into(), vec![700, 100, 150, 50])],
        };
        assert!(render_histograms(&widening, spec()).is_ok());
    }

    #[test]
    fn counts_that_do_not_fit_the_bins_are_refused() {
        let bad = Histograms {
            title: "t".into(),
            units: "K".into(),
            edges: vec![0.0, 1.0],
            sets: vec![("a".into(), vec![1, 2])],
        };
        assert!(matches!(render_histograms(&bad, spec()), Err(PlotError::BadSelection { .. })));
    }
}
