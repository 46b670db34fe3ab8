//! Maps drawn from small hand-made fields: cell edges, where no-data cells land, the two ways cells are drawn, and
//! the errors.

use ndarray::Array2;

use super::*;
use crate::canvas::ImageFormat;

/// A field of `rows` x `columns` cells of `step` degrees from 30°N, 10°W.
fn field(rows: usize, columns: usize, step: f64, value: impl Fn(usize, usize) -> f32) -> Field {
    Field {
        name: "tas".into(),
        units: "K".into(),
        period: "2000-01-01".into(),
        lat: (0..rows).map(|i| 30.0 + i as f64 * step).collect(),
        lon: (0..columns).map(|j| -10.0 + j as f64 * step).collect(),
        values: Array2::from_shape_fn((rows, columns), |(i, j)| value(i, j)),
    }
}

fn png(rows: usize, columns: usize, step: f64, value: impl Fn(usize, usize) -> f32) -> (Vec<u8>, u32, PlotArea, Field) {
    let field = field(rows, columns, step, value);
    let spec = ImageSpec { format: ImageFormat::Png, width: 640, height: 480 };
    let image = render_map(&field, &Coastlines::default(), &MapOptions::default(), spec).unwrap();
    let decoder = png::Decoder::new(image.bytes.as_slice());
    let mut reader = decoder.read_info().unwrap();
    let mut pixels = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut pixels).unwrap();
    assert_eq!((info.width, info.height, info.color_type), (640, 480, png::ColorType::Rgb));
    (pixels, info.width, image.plot_area, field)
}

fn pixel(pixels: &[u8], width: u32, (x, y): (i32, i32)) -> [u8; 3] {
    let at = (y as usize * width as usize + x as usize) * 3;
    [pixels[at], pixels[at + 1], pixels[at + 2]]
}

#[test]
fn cell_edges_are_midpoints() {
    assert_eq!(cell_edges(&[0.0, 1.0, 3.0]), [-0.5, 0.5, 2.0, 4.0]);
    assert_eq!(cell_edges(&[5.0]), [4.5, 5.5]);
    let bounds = field_bounds(&field(2, 3, 1.0, |_, _| 0.0));
    assert_eq!(bounds, Bounds { west: -10.5, east: -7.5, south: 29.5, north: 31.5 });
}

#[test]
fn no_data_cells_are_grey_and_the_rest_coloured() {
    // A 10 x 16 field rising eastward, missing in its south-west quarter.
    let (pixels, width, plot, field) = png(10, 16, 1.0, |i, j| if i < 5 && j < 8 { f32::NAN } else { j as f32 });
    let centre = |i: usize, j: usize| plot.pixel_of(field.lon[j], field.lat[i]);
    assert_eq!(pixel(&pixels, width, centre(2, 3)), NO_DATA_COLOUR);
    assert_eq!(pixel(&pixels, width, centre(7, 0)), ColourScale::Sequential.colour_at(0.0), "the lowest value");
    assert_eq!(pixel(&pixels, width, centre(7, 15)), ColourScale::Sequential.colour_at(1.0), "the highest value");
    // The plot area keeps a degree of longitude cos(34.5°) of a degree of latitude, as at the map's middle.
    let (x, y) = (plot.x_pixels.len() as f64 / 16.0, plot.y_pixels.len() as f64 / 10.0);
    assert!((x / y - 34.5f64.to_radians().cos()).abs() < 0.01, "{x} {y}");
}

#[test]
fn grids_finer_than_the_image_are_drawn_pixel_by_pixel() {
    // 600 x 800 cells of 0.01° in a plot area of about 430 x 270 pixels.
    let (pixels, width, plot, field) =
        png(600, 800, 0.01, |i, j| if i < 300 && j < 400 { f32::NAN } else { (i + j) as f32 });
    assert_eq!(pixel(&pixels, width, plot.pixel_of(field.lon[100], field.lat[100])), NO_DATA_COLOUR);
    assert_ne!(pixel(&pixels, width, plot.pixel_of(field.lon[700], field.lat[500])), NO_DATA_COLOUR);
    // Each pixel shows one of the few cells under it, which near the north-east corner are all near the top.
    let corner = pixel(&pixels, width, plot.pixel_of(field.lon[798], field.lat[598]));
    let top = ColourScale::Sequential.colour_at(1.0);
    assert!(corner.iter().zip(top).all(|(&a, b)| a.abs_diff(b) <= 4), "{corner:?}");
}

#[test]
fn svg_maps_are_text_with_one_rectangle_a_cell() {
    let field = field(4, 5, 1.0, |i, j| (i * j) as f32);
    let spec = ImageSpec { format: ImageFormat::Svg, width: 500, height: 400 };
    let options = MapOptions { scale: ColourScale::Diverging, title: Some("change".into()), ..MapOptions::default() };
    let image = render_map(&field, &Coastlines::default(), &options, spec).unwrap();
    let svg = String::from_utf8(image.bytes).unwrap();
    assert!(
        svg.starts_with("<svg") && svg.contains("\nchange\n</text>") && svg.contains("\nno data\n</text>"),
        "{svg}"
    );
    assert!(svg.matches("<rect").count() > 20, "20 cells, the colour bar and the frame");
}

#[test]
fn empty_fields_and_bad_sizes_are_refused() {
    let spec = ImageSpec { format: ImageFormat::Png, width: 640, height: 480 };
    let empty = field(2, 2, 1.0, |_, _| f32::NAN);
    let error = render_map(&empty, &Coastlines::default(), &MapOptions::default(), spec).unwrap_err();
    assert_eq!(error.to_string(), "tas, 2000-01-01 has no finite value to plot");
    let tiny = ImageSpec { width: 100, ..spec };
    let error = render_map(&field(2, 2, 1.0, |_, _| 1.0), &Coastlines::default(), &MapOptions::default(), tiny);
    assert!(error.unwrap_err().to_string().starts_with("image size 100x480 pixels"));
    let mut ragged = field(2, 2, 1.0, |_, _| 1.0);
    ragged.lat.push(40.0);
    let error = render_map(&ragged, &Coastlines::default(), &MapOptions::default(), spec).unwrap_err();
    assert!(error.to_string().contains("has 3 latitudes and 2 longitudes for values of shape 2x2"), "{error}");
}
