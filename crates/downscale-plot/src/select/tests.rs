//! The selection maths on a hand-made array small enough to check by eye: four days (two in January 2000, one in
//! February 2000, one in January 2001) on a 2 x 3 grid at latitudes 0° and 60°, where cos(lat) weighs 1 and 1/2.

use downscale_data::calendar::{Calendar, CfDateTime, TimeUnits};
use downscale_data::{AttrValue, Attributes, CoordValues, Coordinate, DataArray, TimeAxis};
use ndarray::{Array3, array};

use super::*;

const NAN: f32 = f32::NAN;

fn coordinate(name: &str, values: Vec<f64>) -> Coordinate {
    Coordinate {
        name: name.into(),
        dims: vec![name.into()],
        values: CoordValues::Numbers(values),
        attrs: Attributes::new(),
        bounds: None,
    }
}

fn tiny() -> DataArray {
    let days: [[[f32; 3]; 2]; 4] = [
        [[1.0, 2.0, NAN], [10.0, 20.0, NAN]],
        [[3.0, NAN, NAN], [30.0, 40.0, NAN]],
        [[5.0, 6.0, NAN], [50.0, 60.0, NAN]],
        [[7.0, 8.0, NAN], [NAN, NAN, NAN]],
    ];
    let data = Array3::from_shape_fn((4, 2, 3), |(t, i, j)| days[t][i][j]).into_dyn();
    let dates = vec![
        CfDateTime::ymd(2000, 1, 30),
        CfDateTime::ymd(2000, 1, 31),
        CfDateTime::ymd(2000, 2, 1),
        CfDateTime::ymd(2001, 1, 1),
    ];
    let units = TimeUnits::parse("days since 2000-01-01").unwrap();
    DataArray {
        name: "tas".into(),
        source: "tiny.zarr".into(),
        dims: vec!["time".into(), "lat".into(), "lon".into()],
        data,
        coords: vec![coordinate("lat", vec![0.0, 60.0]), coordinate("lon", vec![10.0, 20.0, 30.0])],
        time: Some(TimeAxis { calendar: Calendar::Standard, units, dates }),
        attrs: Attributes::from([("units".to_string(), AttrValue::Text("K".into()))]),
        global_attrs: Attributes::new(),
    }
}

fn assert_values(field: &Field, expected: ndarray::Array2<f32>) {
    let same = field.values.iter().zip(&expected).all(|(a, b)| (a.is_nan() && b.is_nan()) || (a - b).abs() < 1e-6);
    assert!(same && field.values.shape() == expected.shape(), "{}: {} != {expected}", field.period, field.values);
}

#[test]
fn days_and_means_skip_missing_values_cell_by_cell() {
    let array = tiny();
    let first = select_field(&array, FieldSelection::FirstDay).unwrap();
    assert_eq!((first.period.as_str(), first.units.as_str(), first.lat.clone()), ("2000-01-30", "K", vec![0.0, 60.0]));
    assert_values(&first, array![[1.0, 2.0, NAN], [10.0, 20.0, NAN]]);

    let day = select_field(&array, FieldSelection::Day { year: 2000, month: 2, day: 1 }).unwrap();
    assert_values(&day, array![[5.0, 6.0, NAN], [50.0, 60.0, NAN]]);

    let january = select_field(&array, FieldSelection::MonthMean { year: 2000, month: 1 }).unwrap();
    assert_eq!(january.period, "mean of 2000-01");
    assert_values(&january, array![[2.0, 2.0, NAN], [20.0, 30.0, NAN]]);

    let year = select_field(&array, FieldSelection::YearMean(2000)).unwrap();
    assert_values(&year, array![[3.0, 4.0, NAN], [30.0, 40.0, NAN]]);

    let all = select_field(&array, FieldSelection::RecordMean).unwrap();
    assert_eq!(all.period, "mean of 2000-01-30..2001-01-01");
    assert_values(&all, array![[4.0, 16.0 / 3.0, NAN], [30.0, 40.0, NAN]]);

    let both_years = mean_over_years(&array, 2000, 2001).unwrap();
    assert_eq!(both_years.period, "mean of 2000-2001");
    assert_values(&both_years, all.values.clone());
}

#[test]
fn times_the_record_lacks_are_one_line_errors() {
    let array = tiny();
    let error = |selection| select_field(&array, selection).unwrap_err().to_string();
    assert_eq!(
        error(FieldSelection::Day { year: 2090, month: 1, day: 1 }),
        "tiny.zarr: time 2090-01-01 is outside the store's 2000-01-30..2001-01-01"
    );
    assert_eq!(
        error(FieldSelection::MonthMean { year: 2000, month: 7 }),
        "tiny.zarr: month 2000-07 has no time step in the store (the nearest steps are 2000-02-01 and 2001-01-01)"
    );
    assert_eq!(
        error(FieldSelection::YearMean(1999)),
        "tiny.zarr: year 1999 is outside the store's 2000-01-30..2001-01-01"
    );
    let years = mean_over_years(&array, 2001, 2005).unwrap_err().to_string();
    assert!(years.contains("years 2001-2005 is outside"), "{years}");

    let mut station = tiny();
    station.dims = vec!["time".into(), "location".into(), "lon".into()];
    let message = select_field(&station, FieldSelection::FirstDay).unwrap_err().to_string();
    assert_eq!(message, "tiny.zarr: variable 'tas' has dims (time, location, lon), not (time, lat, lon)");
}

#[test]
fn domain_means_weigh_cells_by_cos_latitude() {
    let array = tiny();
    let daily = domain_mean_series(&array, SeriesStep::Daily).unwrap();
    // Day one: row 0° weighs 1 (values 1, 2), row 60° weighs 1/2 (10, 20): (3 + 15) / 3 = 6.
    let expected = [6.0, (3.0 + 35.0) / 2.0, (11.0 + 55.0) / 3.0, 7.5];
    assert_eq!(daily.dates.len(), 4);
    for (value, expected) in daily.values.iter().zip(expected) {
        assert!((value - expected).abs() < 1e-9, "{:?} against {expected:?}", daily.values);
    }
    let monthly = domain_mean_series(&array, SeriesStep::Monthly).unwrap();
    assert_eq!(monthly.dates, [CfDateTime::ymd(2000, 1, 1), CfDateTime::ymd(2000, 2, 1), CfDateTime::ymd(2001, 1, 1)]);
    assert!((monthly.values[0] - (expected[0] + expected[1]) / 2.0).abs() < 1e-9);
    let annual = domain_mean_series(&array, SeriesStep::Annual).unwrap();
    assert_eq!(annual.dates.len(), 2);
    assert!((annual.values[0] - (expected[0] + expected[1] + expected[2]) / 3.0).abs() < 1e-9);
    assert_eq!(annual.description(), "tas, area-weighted domain mean of annual means");
}

#[test]
fn differences_need_one_grid() {
    let array = tiny();
    let first = select_field(&array, FieldSelection::FirstDay).unwrap();
    let year = select_field(&array, FieldSelection::YearMean(2000)).unwrap();
    let change = difference(&first, &year).unwrap();
    assert_values(&change, array![[-2.0, -2.0, NAN], [-20.0, -20.0, NAN]]);
    assert_eq!(change.period, "2000-01-30 minus mean of 2000");

    let mut shifted = year.clone();
    shifted.lon = vec![10.5, 20.5, 30.5];
    let message = difference(&first, &shifted).unwrap_err().to_string();
    assert!(
        message.starts_with("cannot subtract tas, mean of 2000 from tas, 2000-01-30: their grids differ (lon"),
        "{message}"
    );
    let mut other_units = year;
    other_units.units = "degC".into();
    assert!(difference(&first, &other_units).unwrap_err().to_string().contains("units differ ('K' and 'degC')"));
}

#[test]
fn a_time_and_a_mean_make_one_map_or_say_what_would() {
    let time = |text: &str| Some(text.parse::<TimeSpec>().unwrap());
    let select = FieldSelection::from_time_and_mean;
    assert_eq!(select(None, None).unwrap(), FieldSelection::FirstDay);
    assert_eq!(select(time("2085-01-15"), None).unwrap(), FieldSelection::Day { year: 2085, month: 1, day: 15 });
    assert_eq!(select(time("2085-01"), Some(Mean::Month)).unwrap(), FieldSelection::MonthMean { year: 2085, month: 1 });
    assert_eq!(select(time("2085"), Some(Mean::Year)).unwrap(), FieldSelection::YearMean(2085));
    assert_eq!(select(None, Some(Mean::All)).unwrap(), FieldSelection::RecordMean);
    let refused = |time, mean| select(time, mean).unwrap_err().to_string();
    assert!(refused(time("2085"), None).contains("time 2085 is not a day"));
    assert!(refused(time("2085-01-15"), Some(Mean::Month)).contains("a month's mean needs the month"));
    assert!(refused(None, Some(Mean::Year)).contains("a year's mean needs the year"));
    assert!(refused(time("2085"), Some(Mean::All)).contains("takes no time"));
    assert_eq!("year".parse::<Mean>().unwrap(), Mean::Year);
    assert!("weekly".parse::<Mean>().unwrap_err().to_string().contains("expected month, year or all"));
}
