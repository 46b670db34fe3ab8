//! The evaluation as one self-contained HTML page: its images are PNGs embedded as data URIs and its style is
//! inline, so the file can be mailed, archived or opened offline, and a browser makes no request to show it.
//!
//! It shows what a reader checks first: the quality checks, the table of land means (observations, each product
//! and its comparison, the ideal value, the product closest to it in bold), maps of the climatology and of the
//! biases, the distributions of daily values, and for a scenario run the change signal against the raw model's.

use std::fmt::Write as _;

use base64::Engine as _;
use downscale_data::PAGE_GENERATOR;
use downscale_plot::{
    Coastlines, ColourScale, Field as MapField, Histograms, ImageFormat, ImageSpec, MapOptions, render_histograms,
    render_map,
};
use ndarray::Array2;
use rayon::prelude::*;

use crate::change::ChangeReport;
use crate::error::EvaluateError;
use crate::metrics::{Comparison, Statistic};
use crate::report::Evaluation;
use crate::skill::{Map, SkillReport, StatisticReport};

const MAP_SIZE: (u32, u32) = (620, 460);
const HISTOGRAM_SIZE: (u32, u32) = (820, 420);

const STYLE: &str = "body{font-family:system-ui,sans-serif;margin:2em auto;max-width:1300px;color:#222;padding:0 1em}\
h1{font-size:1.5em}h2{font-size:1.2em;margin-top:2em;border-bottom:1px solid #ddd}\
table{border-collapse:collapse;font-size:.9em}td,th{padding:.25em .6em;border-bottom:1px solid #eee;text-align:right}\
th:first-child,td:first-child{text-align:left}.best{font-weight:bold}.defect{color:#b00020}.ok{color:#1b7f3b}\
figure{display:inline-block;margin:.5em}figcaption{font-size:.85em;color:#555;max-width:620px}\
img{max-width:100%;border:1px solid #eee}.meta{color:#555}";

/// The evaluation as an HTML page.
pub fn html_report(evaluation: &Evaluation) -> Result<String, EvaluateError> {
    let mut page = String::new();
    let title = format!("Evaluation of {}", evaluation.run_id);
    let _ = write!(
        page,
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">{PAGE_GENERATOR}<title>{}</title>\
         <style>{STYLE}</style></head>\
         <body><h1>{}</h1><p class=\"meta\">Variable <b>{}</b> ({}). Output {}. Observations {}.</p>",
        escape(&title),
        escape(&title),
        escape(&evaluation.variable),
        escape(&evaluation.units),
        escape(&evaluation.downscaled),
        escape(&evaluation.observations)
    );
    quality_section(&mut page, evaluation);
    match (&evaluation.skill, &evaluation.skill_skipped) {
        (Some(skill), _) => skill_sections(&mut page, evaluation, skill)?,
        (None, Some(reason)) => {
            let _ = write!(page, "<h2>Skill against the observations</h2><p>None: {}</p>", escape(reason));
        }
        (None, None) => {}
    }
    match (&evaluation.change_signal, &evaluation.change_signal_skipped) {
        (Some(change), _) => change_section(&mut page, evaluation, change)?,
        (None, Some(reason)) => {
            let _ = write!(page, "<h2>Change signal</h2><p>None: {}</p>", escape(reason));
        }
        (None, None) => {}
    }
    let _ = write!(
        page,
        "<p class=\"meta\">Made by {}. Every number, per cell, is in <a href=\"evaluation.json\">evaluation.json</a> \
         beside this page.</p></body></html>",
        escape(&evaluation.producer)
    );
    Ok(page)
}

fn quality_section(page: &mut String, evaluation: &Evaluation) {
    let qa = &evaluation.qa;
    page.push_str("<h2>Quality checks</h2>");
    if qa.defects.is_empty() {
        page.push_str("<p class=\"ok\">The output passed every check.</p>");
    } else {
        page.push_str("<ul>");
        for defect in &qa.defects {
            let _ = write!(page, "<li class=\"defect\">{}</li>", escape(defect));
        }
        page.push_str("</ul>");
    }
    page.push_str("<table><tr><th>check</th><th>values found</th><th>cells</th></tr>");
    for check in &qa.values {
        let _ =
            write!(page, "<tr><td>{}</td><td>{}</td><td>{}</td></tr>", escape(&check.check), check.count, check.cells);
    }
    let _ = write!(
        page,
        "<tr><td>days missing from the predicted period</td><td>{}</td><td></td></tr><tr><td>stores that do not \
         validate</td><td>{}</td><td></td></tr></table>",
        qa.missing_days.len(),
        qa.invalid_stores.len()
    );
}

fn skill_sections(page: &mut String, evaluation: &Evaluation, skill: &SkillReport) -> Result<(), EvaluateError> {
    let products: Vec<&String> = skill.products.iter().collect();
    let period = &skill.period;
    let _ = write!(
        page,
        "<h2>Skill against the observations</h2><p>{} days from {} to {}; annual indices over {} complete index \
         years starting in month {}. Land means weighted by cos(latitude). {}</p>",
        period.days,
        period.first,
        period.last,
        period.index_years.len(),
        period.index_year_start_month,
        if skill.in_phase {
            "The products are in phase with the observations: RMSE and correlation are scored."
        } else {
            "The products are not in phase with the observations: only distributions are compared."
        }
    );
    page.push_str("<table><tr><th>statistic</th><th>unit</th><th>observed</th>");
    for product in &products {
        let _ = write!(page, "<th>{0}</th><th>{0}: comparison</th>", escape(product));
    }
    page.push_str("<th>ideal</th></tr>");
    for statistic in &skill.statistics {
        let best = closest_to_ideal(products.iter().map(|p| statistic.products[*p].skill.land_mean), statistic.ideal);
        let _ = write!(
            page,
            "<tr><td>{} ({})</td><td>{}</td><td>{}</td>",
            escape(&statistic.name),
            comparison_label(statistic.comparison),
            escape(&statistic.units),
            number(statistic.observed.land_mean)
        );
        for (k, product) in products.iter().enumerate() {
            let maps = &statistic.products[*product];
            let class = if best == Some(k) { " class=\"best\"" } else { "" };
            let _ = write!(
                page,
                "<td>{}</td><td{class}>{}</td>",
                number(maps.value.land_mean),
                number(maps.skill.land_mean)
            );
        }
        let _ = write!(page, "<td>{}</td></tr>", number(statistic.ideal));
    }
    for paired in &skill.paired {
        let best = closest_to_ideal(products.iter().map(|p| paired.products[*p].land_mean), paired.ideal);
        let _ = write!(page, "<tr><td>{}</td><td>{}</td><td></td>", escape(&paired.name), escape(&paired.units));
        for (k, product) in products.iter().enumerate() {
            let class = if best == Some(k) { " class=\"best\"" } else { "" };
            let _ = write!(page, "<td></td><td{class}>{}</td>", number(paired.products[*product].land_mean));
        }
        let _ = write!(page, "<td>{}</td></tr>", number(paired.ideal));
    }
    let best = closest_to_ideal(products.iter().map(|p| skill.pattern_correlation[*p]), 1.0);
    page.push_str("<tr><td>pattern correlation of the mean</td><td>1</td><td></td>");
    for (k, product) in products.iter().enumerate() {
        let class = if best == Some(k) { " class=\"best\"" } else { "" };
        let _ = write!(page, "<td></td><td{class}>{}</td>", number(skill.pattern_correlation[*product]));
    }
    page.push_str("<td>1</td></tr></table>");

    page.push_str("<h2>Maps</h2>");
    let grid = MapGrid::new(&skill.lat, &skill.lon)?;
    let mean = statistic(skill, Statistic::Mean);
    let units = evaluation.units.as_str();
    let mut maps = vec![
        MapFigure::new(mean.observed.clone(), "observed mean", units, ColourScale::Sequential)
            .captioned("Observed mean."),
    ];
    for product in &products {
        let value = mean.products[*product].value.clone();
        let title = format!("{product} mean");
        maps.push(
            MapFigure::new(value, &title, units, ColourScale::Sequential)
                .captioned(&format!("Mean of the {product} product.")),
        );
    }
    let mut biases = vec![Statistic::Mean, Statistic::StandardDeviation, Statistic::Percentile(99)];
    if skill.statistics.iter().any(|s| s.statistic == Statistic::WetDayFrequency) {
        biases.push(Statistic::WetDayFrequency);
    }
    for wanted in biases {
        let entry = statistic(skill, wanted);
        for product in &products {
            let (title, caption, shifted) = bias_titles(entry, product);
            let map = shift(&entry.products[*product].skill, shifted);
            let units = if entry.comparison == Comparison::Difference { entry.units.as_str() } else { "1" };
            maps.push(MapFigure::new(map, &title, units, ColourScale::Diverging).captioned(&caption));
        }
    }
    grid.figures(page, &maps)?;
    if let Some(distribution) = &skill.distribution {
        let histograms = Histograms {
            title: format!("{}: daily values over land", evaluation.variable),
            units: evaluation.units.clone(),
            edges: distribution.edges.clone(),
            sets: distribution.counts.iter().map(|(name, counts)| (name.clone(), counts.clone())).collect(),
        };
        let spec = ImageSpec { format: ImageFormat::Png, width: HISTOGRAM_SIZE.0, height: HISTOGRAM_SIZE.1 };
        let image = render_histograms(&histograms, spec)?;
        page.push_str("<h2>Distributions</h2>");
        figure(page, &image.bytes, "Share of the daily values of the land cells in each bin, on the days compared.");
    }
    Ok(())
}

fn change_section(page: &mut String, evaluation: &Evaluation, change: &ChangeReport) -> Result<(), EvaluateError> {
    let _ = write!(
        page,
        "<h2>Change signal</h2><p>Change from the historical run ({}) to this run, for the output and for the raw \
         model interpolated onto the same grid; the departure is the output's change minus the model's (0 where the \
         method keeps the model's change). Land means:</p><table><tr><th>statistic</th><th>change</th><th>unit</th>\
         <th>downscaled</th><th>model</th><th>departure</th></tr>",
        escape(&change.downscaled_historical)
    );
    for statistic in &change.statistics {
        let _ = write!(
            page,
            "<tr><td>{}</td><td>{:?}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            escape(&statistic.name),
            statistic.change,
            escape(&statistic.units),
            number(statistic.downscaled.land_mean),
            number(statistic.model.land_mean),
            number(statistic.departure.land_mean)
        );
    }
    page.push_str("</table>");
    let grid = MapGrid::new(&change.lat, &change.lon)?;
    if let Some(mean) = change.statistics.iter().find(|s| s.statistic == Statistic::Mean) {
        let maps: Vec<MapFigure> = [
            (&mean.downscaled, "downscaled change of the mean"),
            (&mean.model, "raw model's change of the mean"),
            (&mean.departure, "departure of the change of the mean"),
        ]
        .into_iter()
        .map(|(map, title)| {
            MapFigure::new(map.clone(), title, &mean.units, ColourScale::Diverging)
                .captioned(&format!("The {title} ({}).", escape(&evaluation.variable)))
        })
        .collect();
        grid.figures(page, &maps)?;
    }
    Ok(())
}

/// The statistic `wanted` of a report (every report has the marginal ones).
fn statistic(skill: &SkillReport, wanted: Statistic) -> &StatisticReport {
    skill.statistics.iter().find(|s| s.statistic == wanted).expect("every report has its marginal statistics")
}

/// A bias map's title and caption, and whether the map is shifted by −1 (a ratio shown as its departure from 1, so
/// the diverging colours are white where the product is right).
fn bias_titles(entry: &StatisticReport, product: &str) -> (String, String, bool) {
    match entry.comparison {
        Comparison::Difference => (
            format!("{product}: bias of {}", entry.name),
            format!("The {product} product's {} minus the observed.", entry.name),
            false,
        ),
        Comparison::Relative => (
            format!("{product}: relative bias of {}", entry.name),
            format!("The {product} product's {} over the observed, minus 1.", entry.name),
            false,
        ),
        Comparison::Ratio => (
            format!("{product}: ratio of {} - 1", entry.name),
            format!("The {product} product's {} over the observed, minus 1.", entry.name),
            true,
        ),
    }
}

fn shift(map: &Map, by_one: bool) -> Map {
    if !by_one {
        return map.clone();
    }
    Map {
        land_mean: map.land_mean - 1.0,
        values: map.values.iter().map(|row| row.iter().map(|v| v - 1.0).collect()).collect(),
    }
}

/// A grid's latitudes and longitudes, and its coastlines (read once per report: the land polygons are megabytes).
struct MapGrid<'a> {
    lat: &'a [f64],
    lon: &'a [f64],
    coastlines: Coastlines,
}

impl<'a> MapGrid<'a> {
    fn new(lat: &'a [f64], lon: &'a [f64]) -> Result<MapGrid<'a>, EvaluateError> {
        let outline = map_field(lat, lon, Array2::zeros((lat.len(), lon.len())), "", "");
        Ok(MapGrid { lat, lon, coastlines: Coastlines::natural_earth_near(&outline)? })
    }

    /// Draws `maps` (in parallel: each image is drawn and PNG-encoded on its own) and adds them to `page` in order.
    fn figures(&self, page: &mut String, maps: &[MapFigure]) -> Result<(), EvaluateError> {
        let images: Vec<Vec<u8>> = maps.par_iter().map(|map| self.image(map)).collect::<Result<_, _>>()?;
        for (map, image) in maps.iter().zip(&images) {
            figure(page, image, &map.caption);
        }
        Ok(())
    }

    /// A map as PNG bytes.
    fn image(&self, map: &MapFigure) -> Result<Vec<u8>, EvaluateError> {
        let values = Array2::from_shape_fn((self.lat.len(), self.lon.len()), |(i, j)| map.map.values[i][j] as f32);
        let field = map_field(self.lat, self.lon, values, &map.title, &map.units);
        let options = MapOptions { scale: map.scale, robust_range: false, title: Some(map.title.clone()) };
        let spec = ImageSpec { format: ImageFormat::Png, width: MAP_SIZE.0, height: MAP_SIZE.1 };
        Ok(render_map(&field, &self.coastlines, &options, spec)?.bytes)
    }
}

/// A map figure of the report: what to draw, how, and its caption.
struct MapFigure {
    map: Map,
    title: String,
    units: String,
    scale: ColourScale,
    caption: String,
}

impl MapFigure {
    fn new(map: Map, title: &str, units: &str, scale: ColourScale) -> MapFigure {
        MapFigure { map, title: title.to_string(), units: units.to_string(), scale, caption: String::new() }
    }

    fn captioned(self, caption: &str) -> MapFigure {
        MapFigure { caption: caption.to_string(), ..self }
    }
}

fn map_field(lat: &[f64], lon: &[f64], values: Array2<f32>, title: &str, units: &str) -> MapField {
    MapField {
        name: title.to_string(),
        units: units.to_string(),
        period: String::new(),
        lat: lat.to_vec(),
        lon: lon.to_vec(),
        values,
    }
}

/// An embedded PNG with its caption.
fn figure(page: &mut String, png: &[u8], caption: &str) {
    let data = base64::engine::general_purpose::STANDARD.encode(png);
    let _ = write!(
        page,
        "<figure><img alt=\"{0}\" src=\"data:image/png;base64,{data}\"><figcaption>{0}</figcaption></figure>",
        escape(caption)
    );
}

/// The index of the value closest to `ideal`, when any is finite.
fn closest_to_ideal(values: impl Iterator<Item = f64>, ideal: f64) -> Option<usize> {
    values
        .enumerate()
        .filter(|(_, v)| v.is_finite())
        .min_by(|(_, a), (_, b)| (a - ideal).abs().total_cmp(&(b - ideal).abs()))
        .map(|(k, _)| k)
}

fn comparison_label(comparison: Comparison) -> &'static str {
    match comparison {
        Comparison::Difference => "bias",
        Comparison::Relative => "relative bias",
        Comparison::Ratio => "ratio",
    }
}

/// A number with four significant decimals, or a dash when missing.
fn number(value: f64) -> String {
    if value.is_finite() { format!("{value:.4}") } else { "&ndash;".to_string() }
}

/// Text safe inside HTML elements and attribute values. (Five replacements: no templating crate is needed for a
/// page assembled in one function.)
fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;").replace('\'', "&#39;")
}
