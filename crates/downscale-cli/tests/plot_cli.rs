//! `downscale plot` on a real BCSD output (the Iberia tas example run on the ci runtime): maps of a day, a month's
//! mean and the whole record, a series and an SVG; the images decode, are the size asked for, are not uniform and
//! draw the land mask's sea cells in the no-data grey; and bad input is one line, with no image left behind.

mod common;

use std::path::{Path, PathBuf};

use common::{assert_one_line_error, downscale, iberia_example, run_with_shipped_catalogs, sample};
use downscale_plot::{
    Coastlines, Field, FieldSelection, ImageFormat, ImageSpec, MapOptions, NO_DATA_COLOUR, PlotArea, render_map,
    select_field,
};

/// The command's image sizes (`commands/plot.rs`): maps 900 x 650, series 900 x 450.
const MAP_SIZE: (u32, u32) = (900, 650);
const SERIES_SIZE: (u32, u32) = (900, 450);

/// A decoded RGB PNG.
struct Decoded {
    width: u32,
    height: u32,
    pixels: Vec<u8>,
}

impl Decoded {
    fn read(path: &Path) -> Decoded {
        let bytes = std::fs::read(path).unwrap();
        let mut reader = png::Decoder::new(bytes.as_slice()).read_info().expect("a PNG header");
        let mut pixels = vec![0; reader.output_buffer_size()];
        let info = reader.next_frame(&mut pixels).expect("PNG data");
        assert_eq!(info.color_type, png::ColorType::Rgb, "{}", path.display());
        pixels.truncate(info.buffer_size());
        Decoded { width: info.width, height: info.height, pixels }
    }

    fn at(&self, (x, y): (i32, i32)) -> [u8; 3] {
        let start = (y as usize * self.width as usize + x as usize) * 3;
        [self.pixels[start], self.pixels[start + 1], self.pixels[start + 2]]
    }

    fn distinct_colours(&self) -> usize {
        self.pixels.chunks(3).map(|c| [c[0], c[1], c[2]]).collect::<std::collections::HashSet<_>>().len()
    }
}

/// Runs `downscale plot` with `args`, which must succeed and print the image's path.
fn plot(args: &[&str], out: &Path) -> PathBuf {
    let output = downscale().arg("plot").args(args).arg("--out").arg(out).output().unwrap();
    assert!(output.status.success(), "{args:?}: {}", String::from_utf8_lossy(&output.stderr));
    assert_eq!(String::from_utf8_lossy(&output.stdout).trim(), out.display().to_string());
    out.to_path_buf()
}

/// The field the command maps for `selection`, and where the library puts its plot area in an image of the
/// command's size.
fn expected_map(store: &str, selection: FieldSelection) -> (Field, PlotArea, Vec<u8>) {
    let array = downscale_data::read_variable(store, "tas").unwrap();
    let field = select_field(&array, selection).unwrap();
    let coastlines = Coastlines::natural_earth_near(&field).unwrap();
    let spec = ImageSpec { format: ImageFormat::Png, width: MAP_SIZE.0, height: MAP_SIZE.1 };
    let image = render_map(&field, &coastlines, &MapOptions::default(), spec).unwrap();
    (field, image.plot_area, image.bytes)
}

/// A cell that is missing (sea), with all eight neighbours missing too, so no coastline passes its centre; and a
/// land cell with a value.
fn sea_and_land_cells(field: &Field) -> ((usize, usize), (usize, usize)) {
    let (rows, columns) = field.values.dim();
    let missing = |i: usize, j: usize| field.values[[i, j]].is_nan();
    let sea = (1..rows - 1)
        .flat_map(|i| (1..columns - 1).map(move |j| (i, j)))
        .find(|&(i, j)| (i - 1..=i + 1).all(|a| (j - 1..=j + 1).all(|b| missing(a, b))))
        .expect("the Iberian box has open sea");
    let land = (0..rows).flat_map(|i| (0..columns).map(move |j| (i, j))).find(|&(i, j)| !missing(i, j)).unwrap();
    (sea, land)
}

fn check_map(image: &Path, field: &Field, plot_area: &PlotArea) {
    let decoded = Decoded::read(image);
    assert_eq!((decoded.width, decoded.height), MAP_SIZE, "{}", image.display());
    assert!(decoded.distinct_colours() > 100, "{}: {} colours", image.display(), decoded.distinct_colours());
    let ((si, sj), (li, lj)) = sea_and_land_cells(field);
    let pixel = |i: usize, j: usize| plot_area.pixel_of(field.lon[j], field.lat[i]);
    assert_eq!(decoded.at(pixel(si, sj)), NO_DATA_COLOUR, "sea cell ({si}, {sj}) of {}", field.description());
    assert_ne!(decoded.at(pixel(li, lj)), NO_DATA_COLOUR, "land cell ({li}, {lj}) of {}", field.description());
}

#[test]
fn maps_series_and_svg_of_a_bcsd_output() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = run_with_shipped_catalogs(dir.path(), "results", &iberia_example("tas"), &["--runtime", "ci"]);
    let daily = manifest["datasets"]["daily"].as_str().unwrap().to_string();
    let monthly = manifest["datasets"]["monthly"].as_str().unwrap().to_string();
    let images = dir.path().join("images");
    std::fs::create_dir(&images).unwrap();

    // The first day, without options; the command's image is the library's, byte for byte.
    let day = plot(&[&daily], &images.join("day.png"));
    let (field, area, bytes) = expected_map(&daily, FieldSelection::FirstDay);
    assert_eq!(field.period, "2081-01-01");
    check_map(&day, &field, &area);
    assert!(std::fs::read(&day).unwrap() == bytes, "the command draws what the library draws");

    // A month's mean, which is what the run's own monthly store holds for that month.
    let january = plot(&[&daily, "--time", "2085-01", "--mean", "month"], &images.join("january.png"));
    let (field, area, _) = expected_map(&daily, FieldSelection::MonthMean { year: 2085, month: 1 });
    check_map(&january, &field, &area);
    let published = downscale_data::read_variable(&monthly, "tas").unwrap();
    let published = select_field(&published, FieldSelection::MonthMean { year: 2085, month: 1 }).unwrap();
    for (ours, theirs) in field.values.iter().zip(&published.values) {
        assert!(ours.is_nan() == theirs.is_nan() && (ours.is_nan() || (ours - theirs).abs() < 1e-3), "{ours} {theirs}");
    }

    // The whole record.
    let all = plot(&[&daily, "--mean", "all"], &images.join("all.png"));
    let (field, area, _) = expected_map(&daily, FieldSelection::RecordMean);
    assert_eq!(field.period, "mean of 2081-01-01..2100-02-28");
    check_map(&all, &field, &area);

    // The domain-mean series of monthly means.
    let series = Decoded::read(&plot(&[&daily, "--series", "--mean", "month"], &images.join("series.png")));
    assert_eq!((series.width, series.height), SERIES_SIZE);
    assert!(series.distinct_colours() > 20, "{} colours", series.distinct_colours());
    assert!(series.pixels.chunks(3).any(|c| c == [31, 119, 180]), "the line is drawn");

    // A day's map as SVG.
    let svg = std::fs::read_to_string(plot(&[&daily, "--time", "2090-12-25"], &images.join("day.svg"))).unwrap();
    assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"));
    assert!(svg.matches("<rect").count() > 500, "one rectangle a cell");
    assert!(svg.contains("<polyline"), "coastlines and axes");
    assert!(svg.contains("2090-12-25") && svg.contains("no data"));

    let names: Vec<String> =
        std::fs::read_dir(&images).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().to_string()).collect();
    assert_eq!(names.len(), 5, "no temporary file is left: {names:?}");
}

#[test]
fn bad_input_is_one_line_and_leaves_no_image() {
    let store = sample("zarr/tas_day_E-OBS-v14-0.50reg_iberia_DJF_19821201-20020228.zarr");
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.zarr").display().to_string();
    let cases: [(&[&str], &str, &[&str]); 7] = [
        (&[&store, "--var", "tasmax"], "map.png", &[&store, "tasmax"]),
        (&[&store, "--time", "1990-13"], "map.png", &["--time", "'1990-13'", "month must be 01 to 12"]),
        (
            &[&store, "--time", "2090-01-01"],
            "map.png",
            &[&store, "time 2090-01-01 is outside", "1982-12-01..2002-02-28"],
        ),
        (&[&store, "--time", "1990-07", "--mean", "month"], "map.png", &[&store, "month 1990-07 has no time step"]),
        (&[&store, "--time", "1990"], "map.png", &["--time/--mean: time 1990 is not a day"]),
        (&[&store], "map.jpg", &["map.jpg", ".png or .svg"]),
        (&[&missing], "map.png", &[&missing]),
    ];
    for (args, out, what) in cases {
        let out = dir.path().join(out);
        let output = downscale().arg("plot").args(args).arg("--out").arg(&out).output().unwrap();
        assert_one_line_error(&output, what);
        assert!(!out.exists(), "{args:?} left {}", out.display());
    }
    let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert!(left.is_empty(), "nothing is written: {left:?}");
}
