//! A map of one field: the cells coloured by value (no-data cells in [`NO_DATA_COLOUR`]), coastlines on top, axes
//! in degrees, and a colour bar with the units and a no-data swatch.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::canvas::{Drawn, Image, ImageSpec, Painter, PlotArea, TITLE_HEIGHT, render, rgb, text, titled};
use crate::coast::{Bounds, Coastlines, LonLat};
use crate::colour::{ColourScale, NO_DATA_COLOUR};
use crate::error::{PlotError, Result};
use crate::select::Field;
use crate::ticks::{TickedAxis, degree_ticks, label_of, value_ticks};

/// Heights and widths of the parts around the plot area, in pixels.
const LEGEND_WIDTH: u32 = 120;
const MARGIN: u32 = 12;
const X_LABELS: u32 = 36;
const Y_LABELS: u32 = 60;
/// Colour bar: its left edge and width within the legend, and the room kept above it (units) and below it (the
/// no-data swatch).
const BAR_LEFT: i32 = 14;
const BAR_WIDTH: i32 = 20;
const ABOVE_BAR: i32 = 26;
const BELOW_BAR: i32 = 36;
/// Coastlines: dark enough to read over viridis' yellow and the diverging scale's white alike.
const COAST_COLOUR: RGBColor = RGBColor(30, 30, 30);

/// How a map is coloured and titled.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MapOptions {
    /// The colour scale: sequential for values, diverging for differences.
    pub scale: ColourScale,
    /// Span the 2nd to 98th percentile of the values rather than their minimum to maximum (see
    /// [`ColourScale::value_range`] for why).
    pub robust_range: bool,
    /// The title; by default [`Field::description`].
    pub title: Option<String>,
}

/// `field` as a map with `coastlines` (clipped to the field's box), as `image` asks.
pub fn render_map(field: &Field, coastlines: &Coastlines, options: &MapOptions, image: ImageSpec) -> Result<Image> {
    check_field(field)?;
    let range = options
        .scale
        .value_range(field.values.iter().copied(), options.robust_range)
        .ok_or_else(|| PlotError::NoData { what: field.description() })?;
    let bounds = field_bounds(field);
    let painter = MapPainter {
        field,
        lat_edges: cell_edges(&field.lat),
        lon_edges: cell_edges(&field.lon),
        coast: coastlines.clipped(&bounds),
        bounds,
        scale: options.scale,
        range,
        title: options.title.clone().unwrap_or_else(|| field.description()),
    };
    render(&painter, image)
}

/// A field whose values match its axes, which ascend: the fields of [`crate::select_field`] always do, but a
/// field's parts are public and may be put together by hand.
fn check_field(field: &Field) -> Result<()> {
    let bad =
        |detail: String| PlotError::NotAGrid { source_name: field.description(), variable: field.name.clone(), detail };
    let (rows, columns) = field.values.dim();
    if (rows, columns) != (field.lat.len(), field.lon.len()) || rows == 0 || columns == 0 {
        return Err(bad(format!(
            "has {} latitudes and {} longitudes for values of shape {rows}x{columns}",
            field.lat.len(),
            field.lon.len()
        )));
    }
    for (name, axis) in [("latitudes", &field.lat), ("longitudes", &field.lon)] {
        if axis.iter().any(|v| !v.is_finite()) || axis.windows(2).any(|pair| pair[1] <= pair[0]) {
            return Err(bad(format!("has {name} that are not finite and ascending")));
        }
    }
    Ok(())
}

/// Cell edges from centres: midpoints between neighbours, and the outer edges half a spacing beyond the first and
/// last centres. A single centre gets a cell one degree wide, as no spacing says otherwise.
fn cell_edges(centres: &[f64]) -> Vec<f64> {
    match centres {
        [] => Vec::new(),
        [only] => vec![only - 0.5, only + 0.5],
        [first, second, ..] => {
            let last_step = centres[centres.len() - 1] - centres[centres.len() - 2];
            let mut edges = vec![first - (second - first) / 2.0];
            edges.extend(centres.windows(2).map(|pair| (pair[0] + pair[1]) / 2.0));
            edges.push(centres[centres.len() - 1] + last_step / 2.0);
            edges
        }
    }
}

/// The box a field's cells cover (latitudes kept within the poles).
pub(crate) fn field_bounds(field: &Field) -> Bounds {
    let (lat, lon) = (cell_edges(&field.lat), cell_edges(&field.lon));
    let ((south, north), (west, east)) = (first_last(&lat), first_last(&lon));
    Bounds { west, east, south: south.max(-90.0), north: north.min(90.0) }
}

fn first_last(edges: &[f64]) -> (f64, f64) {
    (edges.first().copied().unwrap_or(0.0), edges.last().copied().unwrap_or(1.0))
}

struct MapPainter<'a> {
    field: &'a Field,
    lat_edges: Vec<f64>,
    lon_edges: Vec<f64>,
    coast: Vec<Vec<LonLat>>,
    bounds: Bounds,
    scale: ColourScale,
    range: (f64, f64),
    title: String,
}

impl MapPainter<'_> {
    fn colour_of(&self, value: f32) -> RGBColor {
        if value.is_nan() {
            return rgb(NO_DATA_COLOUR);
        }
        let (low, high) = self.range;
        rgb(self.scale.colour_at((f64::from(value) - low) / (high - low)))
    }

    /// The plot area's size: the room left by the labels, narrowed on one side so that a degree of longitude is
    /// cos(latitude) of a degree of latitude at the map's middle, as on the ground.
    fn plot_size(&self, room: (f64, f64)) -> (f64, f64) {
        let b = &self.bounds;
        let shrink = ((b.south + b.north) / 2.0).to_radians().cos().max(0.1);
        let aspect = (b.east - b.west) * shrink / (b.north - b.south);
        if room.0 / room.1 > aspect { (room.1 * aspect, room.1) } else { (room.0, room.0 / aspect) }
    }

    /// Every cell as a rectangle, when the grid is coarser than the image: exact edges, and an SVG of one element
    /// a cell. Corners go top-left first, as SVG's rectangles need a positive height.
    fn cell_rectangles(&self) -> impl Iterator<Item = Rectangle<(f64, f64)>> + '_ {
        self.lat_edges.windows(2).enumerate().flat_map(move |(row, lat)| {
            self.lon_edges.windows(2).enumerate().map(move |(column, lon)| {
                let colour = self.colour_of(self.field.values[[row, column]]);
                Rectangle::new([(lon[0], lat[1]), (lon[1], lat[0])], colour.filled())
            })
        })
    }

    /// The cell under each pixel's centre, in runs of one colour along each row, when the grid has more cells than
    /// the image has pixels: drawing every cell would paint most pixels many times over.
    fn draw_pixels<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>, plot: &PlotArea) -> Drawn<()>
    where
        DB::ErrorType: 'static,
    {
        let (width, height) = (plot.x_pixels.len(), plot.y_pixels.len());
        let index = |edges: &[f64], value: f64| edges.partition_point(|&e| e <= value).clamp(1, edges.len() - 1) - 1;
        let columns: Vec<usize> = (0..width)
            .map(|x| {
                let lon =
                    plot.x_range.start + (x as f64 + 0.5) / width as f64 * (plot.x_range.end - plot.x_range.start);
                index(&self.lon_edges, lon)
            })
            .collect();
        for y in 0..height {
            let lat = plot.y_range.end - (y as f64 + 0.5) / height as f64 * (plot.y_range.end - plot.y_range.start);
            let row = index(&self.lat_edges, lat);
            let mut start = 0;
            while start < width {
                let colour = self.colour_of(self.field.values[[row, columns[start]]]);
                let mut end = start + 1;
                while end < width && self.colour_of(self.field.values[[row, columns[end]]]) == colour {
                    end += 1;
                }
                area.draw(&Rectangle::new([(start as i32, y as i32), (end as i32, y as i32 + 1)], colour.filled()))?;
                start = end;
            }
        }
        Ok(())
    }

    /// The colour bar beside the plot area `plot`, in `legend` (whose top-left pixel is `origin`): the scale from
    /// bottom to top with round ticks, the units above and a no-data swatch below.
    fn draw_legend<DB: DrawingBackend>(
        &self,
        legend: &DrawingArea<DB, Shift>,
        plot: &PlotArea,
        origin: (i32, i32),
    ) -> Drawn<()>
    where
        DB::ErrorType: 'static,
    {
        let top = plot.y_pixels.start - origin.1 + ABOVE_BAR;
        let bottom = plot.y_pixels.end - origin.1 - BELOW_BAR;
        let right = BAR_LEFT + BAR_WIDTH;
        let units = if self.field.units.is_empty() { "no units" } else { &self.field.units };
        legend.draw_text(units, &text(14.0).pos(Pos::new(HPos::Left, VPos::Bottom)), (BAR_LEFT - 6, top - 8))?;
        let (low, high) = self.range;
        let span = f64::from((bottom - top - 1).max(1));
        for y in top..bottom {
            let colour = rgb(self.scale.colour_at(f64::from(bottom - 1 - y) / span));
            legend.draw(&Rectangle::new([(BAR_LEFT, y), (right, y + 1)], colour.filled()))?;
        }
        legend.draw(&Rectangle::new([(BAR_LEFT, top), (right, bottom)], BLACK.stroke_width(1)))?;
        let label = text(12.0).pos(Pos::new(HPos::Left, VPos::Center));
        for (value, tick) in value_ticks(low, high, ((bottom - top) / 40).clamp(2, 10) as usize) {
            let y = bottom - 1 - ((value - low) / (high - low) * span).round() as i32;
            legend.draw(&PathElement::new(vec![(right, y), (right + 5, y)], BLACK.stroke_width(1)))?;
            legend.draw_text(&tick, &label, (right + 8, y))?;
        }
        let swatch = (bottom + 14, bottom + 28);
        legend.draw(&Rectangle::new([(BAR_LEFT, swatch.0), (right, swatch.1)], rgb(NO_DATA_COLOUR).filled()))?;
        legend.draw(&Rectangle::new([(BAR_LEFT, swatch.0), (right, swatch.1)], BLACK.stroke_width(1)))?;
        legend.draw_text("no data", &label, (right + 8, (swatch.0 + swatch.1) / 2))?;
        Ok(())
    }
}

impl Painter for MapPainter<'_> {
    const WHAT: &'static str = "map";

    fn paint<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Drawn<PlotArea>
    where
        DB::ErrorType: 'static,
    {
        let body = titled(root, &self.title)?;
        let (width, _) = root.dim_in_pixel();
        let (map_area, legend_area) = body.split_horizontally(width - LEGEND_WIDTH);

        let (area_width, area_height) = map_area.dim_in_pixel();
        let room = (
            f64::from(area_width.saturating_sub(Y_LABELS + 2 * MARGIN).max(1)),
            f64::from(area_height.saturating_sub(X_LABELS + 2 * MARGIN).max(1)),
        );
        let (plot_width, plot_height) = self.plot_size(room);
        let (pad_x, pad_y) = (((room.0 - plot_width) / 2.0) as u32, ((room.1 - plot_height) / 2.0) as u32);
        let b = self.bounds;
        let lon_ticks = degree_ticks(b.west, b.east, (plot_width / 70.0).clamp(2.0, 10.0) as usize, false);
        let lat_ticks = degree_ticks(b.south, b.north, (plot_height / 40.0).clamp(2.0, 10.0) as usize, true);
        let mut chart = ChartBuilder::on(&map_area)
            .margin_left(MARGIN + pad_x)
            .margin_right(MARGIN + pad_x)
            .margin_top(MARGIN + pad_y)
            .margin_bottom(MARGIN + pad_y)
            .x_label_area_size(X_LABELS)
            .y_label_area_size(Y_LABELS)
            .build_cartesian_2d(
                TickedAxis::new(b.west..b.east, &lon_ticks),
                TickedAxis::new(b.south..b.north, &lat_ticks),
            )?;
        chart
            .configure_mesh()
            .disable_mesh()
            .label_style(text(13.0))
            .x_label_formatter(&|lon| label_of(&lon_ticks, *lon))
            .y_label_formatter(&|lat| label_of(&lat_ticks, *lat))
            .draw()?;

        let (x_pixels, y_pixels) = chart.plotting_area().get_pixel_range();
        let plot = PlotArea { x_pixels, y_pixels, x_range: b.west..b.east, y_range: b.south..b.north };
        let cells = self.field.values.len();
        if cells <= plot.x_pixels.len() * plot.y_pixels.len() {
            chart.draw_series(self.cell_rectangles())?;
        } else {
            self.draw_pixels(&chart.plotting_area().strip_coord_spec(), &plot)?;
        }
        chart
            .draw_series(self.coast.iter().map(|line| PathElement::new(line.clone(), COAST_COLOUR.stroke_width(1))))?;
        chart.plotting_area().draw(&Rectangle::new([(b.west, b.north), (b.east, b.south)], BLACK.stroke_width(1)))?;
        let origin = (width as i32 - LEGEND_WIDTH as i32, TITLE_HEIGHT as i32);
        self.draw_legend(&legend_area, &plot, origin)?;
        Ok(plot)
    }
}

#[cfg(test)]
mod tests;
