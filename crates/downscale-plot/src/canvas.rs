//! What every image shares: its format and size, the vendored font, the backends that draw into memory, and the
//! pixel geometry of the plot area returned with the bytes.

use std::ops::Range;
use std::path::Path;
use std::sync::OnceLock;

use plotters::prelude::*;
use plotters::style::FontStyle;

use crate::error::{PlotError, Result};

/// DejaVu Sans, compiled in: rendering must not depend on the fonts of the machine it runs on (servers and CI
/// images often have none), and one font makes images the same everywhere. See `data/static/README.md`.
static DEJAVU_SANS: &[u8] = include_bytes!("../../../data/static/fonts/DejaVuSans.ttf");

/// The family every text style names; the vendored font is registered under it.
pub(crate) const FONT: &str = "sans-serif";

/// Smallest and largest images: below the minimum the axes, labels and colour bar no longer fit; the maximum
/// bounds the memory of one request to a few hundred MB.
const MIN_SIZE: (u32, u32) = (320, 240);
const MAX_SIDE: u32 = 8000;

/// The image formats written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageFormat {
    /// PNG, 8-bit RGB.
    Png,
    /// SVG text; large grids are drawn as runs of pixels rather than one rectangle per cell.
    Svg,
}

impl ImageFormat {
    /// The format a file name's extension names (`.png` or `.svg`, any case).
    pub fn from_path(path: &Path) -> Result<ImageFormat> {
        match path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase).as_deref() {
            Some("png") => Ok(ImageFormat::Png),
            Some("svg") => Ok(ImageFormat::Svg),
            _ => Err(PlotError::UnknownFormat { path: path.display().to_string() }),
        }
    }
}

/// The image to make: format and size in pixels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImageSpec {
    /// PNG or SVG.
    pub format: ImageFormat,
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
}

/// Where the data are drawn within an image, so that a caller (a test, a dashboard's hover) can find the pixel of a
/// value. Pixels count from the image's top-left corner.
#[derive(Debug, Clone, PartialEq)]
pub struct PlotArea {
    /// The columns the plot area covers (end exclusive).
    pub x_pixels: Range<i32>,
    /// The rows the plot area covers (end exclusive).
    pub y_pixels: Range<i32>,
    /// The data values at its left and right edges (longitudes of a map, fractional years of a series).
    pub x_range: Range<f64>,
    /// The data values at its bottom and top edges (latitudes of a map, values of a series).
    pub y_range: Range<f64>,
}

impl PlotArea {
    /// The pixel `(column, row)` where the point `(x, y)` is drawn: plotters' own mapping, the first and last
    /// columns for the ends of `x_range` and the last and first rows for the ends of `y_range`.
    pub fn pixel_of(&self, x: f64, y: f64) -> (i32, i32) {
        let along = |value: f64, range: &Range<f64>, from: i32, to: i32| {
            let share = (value - range.start) / (range.end - range.start);
            let length = f64::from(to - from);
            if length >= 0.0 {
                from + (length * share + 1e-3).floor() as i32
            } else {
                from + (length * share - 1e-3).ceil() as i32
            }
        };
        (
            along(x, &self.x_range, self.x_pixels.start, self.x_pixels.end - 1),
            along(y, &self.y_range, self.y_pixels.end - 1, self.y_pixels.start),
        )
    }
}

/// An image made: its bytes (PNG data or SVG text) and where its plot area lies.
#[derive(Debug, Clone)]
pub struct Image {
    /// The encoded image.
    pub bytes: Vec<u8>,
    /// The plot area's pixels and the data range they show.
    pub plot_area: PlotArea,
}

/// The result of drawing: plotters' errors differ per backend, and only their message is kept.
pub(crate) type Drawn<T> = std::result::Result<T, Box<dyn std::error::Error>>;

/// Something that draws itself on any backend.
pub(crate) trait Painter {
    /// What is drawn, for error messages (`map`, `series`).
    const WHAT: &'static str;

    /// Draws on `root`, the whole image, and says where the plot area is.
    fn paint<DB: DrawingBackend>(&self, root: &DrawingArea<DB, plotters::coord::Shift>) -> Drawn<PlotArea>
    where
        DB::ErrorType: 'static;
}

/// `painter`'s drawing, encoded as `spec` asks.
pub(crate) fn render<P: Painter>(painter: &P, spec: ImageSpec) -> Result<Image> {
    let ImageSpec { format, width, height } = spec;
    if width < MIN_SIZE.0 || height < MIN_SIZE.1 || width > MAX_SIDE || height > MAX_SIDE {
        return Err(PlotError::BadSize {
            width,
            height,
            detail: format!("each side must be {}x{} to {MAX_SIDE}x{MAX_SIDE}", MIN_SIZE.0, MIN_SIZE.1),
        });
    }
    register_font()?;
    let failed = |error: Box<dyn std::error::Error>| PlotError::Drawing { what: P::WHAT, detail: error.to_string() };
    match format {
        ImageFormat::Png => {
            let mut pixels = vec![0u8; width as usize * height as usize * 3];
            let plot_area = {
                let root = BitMapBackend::with_buffer(&mut pixels, (width, height)).into_drawing_area();
                let plot_area = painter.paint(&root).map_err(failed)?;
                root.present().map_err(|e| failed(e.into()))?;
                plot_area
            };
            Ok(Image { bytes: encode_png(&pixels, width, height).map_err(|e| failed(e.into()))?, plot_area })
        }
        ImageFormat::Svg => {
            let mut text = String::new();
            let plot_area = {
                let root = SVGBackend::with_string(&mut text, (width, height)).into_drawing_area();
                let plot_area = painter.paint(&root).map_err(failed)?;
                root.present().map_err(|e| failed(e.into()))?;
                plot_area
            };
            Ok(Image { bytes: text.into_bytes(), plot_area })
        }
    }
}

/// Registers the vendored font with plotters once per process.
fn register_font() -> Result<()> {
    static REGISTERED: OnceLock<bool> = OnceLock::new();
    let registered =
        *REGISTERED.get_or_init(|| plotters::style::register_font(FONT, FontStyle::Normal, DEJAVU_SANS).is_ok());
    registered.then_some(()).ok_or_else(|| PlotError::Drawing {
        what: "text",
        detail: "the vendored DejaVuSans.ttf is not a usable font".into(),
    })
}

/// RGB pixels as a PNG file's bytes.
fn encode_png(pixels: &[u8], width: u32, height: u32) -> std::result::Result<Vec<u8>, png::EncodingError> {
    let mut bytes = Vec::new();
    let mut encoder = png::Encoder::new(&mut bytes, width, height);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder.write_header()?;
    writer.write_image_data(pixels)?;
    writer.finish()?;
    Ok(bytes)
}

/// Height of the band above the plot that holds an image's title, pixels.
pub(crate) const TITLE_HEIGHT: u32 = 40;

/// Clears `root` to white and writes `title` centred in a band across its top; returns the area below the band.
pub(crate) fn titled<DB: DrawingBackend>(
    root: &DrawingArea<DB, plotters::coord::Shift>,
    title: &str,
) -> Drawn<DrawingArea<DB, plotters::coord::Shift>>
where
    DB::ErrorType: 'static,
{
    use plotters::style::text_anchor::{HPos, Pos, VPos};
    root.fill(&WHITE)?;
    let (width, _) = root.dim_in_pixel();
    let (title_area, body) = root.split_vertically(TITLE_HEIGHT);
    let centred = text(18.0).pos(Pos::new(HPos::Center, VPos::Center));
    title_area.draw_text(title, &centred, (width as i32 / 2, TITLE_HEIGHT as i32 / 2))?;
    Ok(body)
}

/// A text style in the vendored font.
pub(crate) fn text(size: f64) -> TextStyle<'static> {
    TextStyle::from((FONT, size).into_font()).color(&BLACK)
}

/// A plotters colour from an RGB triple.
pub(crate) fn rgb([r, g, b]: crate::colour::Rgb) -> RGBColor {
    RGBColor(r, g, b)
}
