//! The correlated random fields of GARD's random effects, checked by their statistics (a random field can only be
//! checked so): a 64 x 64 x 365 field has mean 0 and variance 1 at its nodes within the sampling error its
//! correlation allows, its spatial and temporal correlation lengths fitted from variograms are within 20% of the
//! requested ones, the same seed draws the same field and another seed another, and over 30 years the noise never
//! repeats (the original's tiled ten-year field repeated every 3652 days). On the E-OBS 0.5° Iberia grid the field
//! drawn for precipitation's lengths is standard normal in every cell with the correlation its distances give.

use downscale_methods::scrf::{FieldSpec, FieldStream, LatLonFieldStream};
use ndarray::{Array2, Array3, Axis, Zip, s};

/// Temperature's time scale (3.8 days) with a space scale of 10 grid steps.
const SPEC: FieldSpec = FieldSpec { length_km: 100.0, length_days: 3.8, spacing_km: 10.0 };

fn draw(spec: FieldSpec, (rows, columns, days): (usize, usize, usize), seed: u64) -> Array3<f64> {
    let mut stream = FieldStream::new(spec, rows, columns, seed).unwrap();
    let mut field = Array3::zeros((days, rows, columns));
    for mut day in field.outer_iter_mut() {
        day.assign(&stream.next_day());
    }
    field
}

/// The mean product of the field with itself `lag` steps along `axis`: its correlation at that lag.
fn correlation(field: &Array3<f64>, axis: usize, lag: usize) -> f64 {
    let length = field.len_of(Axis(axis));
    let a = field.slice_axis(Axis(axis), (0..length - lag).into());
    let b = field.slice_axis(Axis(axis), (lag..length).into());
    Zip::from(a).and(b).fold(0.0, |sum, x, y| sum + x * y) / a.len() as f64
}

/// The length `L` of `exp(-(h/L)²)` fitted to the correlations at lags 1, 2, ... while they exceed 0.1: a least
/// squares line through the origin of `-ln ρ` against `h²`, in units of the lag.
fn fitted_length(field: &Array3<f64>, axis: usize) -> f64 {
    let (mut hh, mut hy) = (0.0, 0.0);
    for lag in 1.. {
        let rho = correlation(field, axis, lag);
        if rho < 0.1 {
            break;
        }
        let h2 = (lag * lag) as f64;
        hh += h2 * h2;
        hy += h2 * -rho.ln();
    }
    (hh / hy).sqrt()
}

#[test]
fn a_field_is_standard_normal_with_the_requested_correlation_lengths() {
    let field = draw(SPEC, (64, 64, 365), 7);

    // Sampling error of a node's mean over 365 days: about 365 / (√π T) ≈ 54 independent days, so 1/√54 ≈ 0.136;
    // of its variance, √(2/54) ≈ 0.19. Nineteen nodes in twenty fall within two of those.
    let means = field.mean_axis(Axis(0)).unwrap();
    let variances = field.var_axis(Axis(0), 0.0);
    let share = |values: &Array2<f64>, centre: f64, bound: f64| {
        values.iter().filter(|v| (**v - centre).abs() <= bound).count() as f64 / values.len() as f64
    };
    assert!(share(&means, 0.0, 2.0 * 0.136) > 0.9, "node means: {}", share(&means, 0.0, 0.272));
    assert!(share(&variances, 1.0, 2.0 * 0.19) > 0.9, "node variances: {}", share(&variances, 1.0, 0.38));
    // Over the whole field (about 54 x 13 independent values): mean within 0.15 of 0, variance within 0.15 of 1.
    let (mean, variance) = (field.mean().unwrap(), field.var(0.0));
    assert!(mean.abs() < 0.15 && (variance - 1.0).abs() < 0.15, "mean {mean}, variance {variance}");

    let space = fitted_length(&field, 2) * SPEC.spacing_km;
    let time = fitted_length(&field, 0);
    assert!((space / SPEC.length_km - 1.0).abs() < 0.2, "space length {space} km, wanted {}", SPEC.length_km);
    assert!((time / SPEC.length_days - 1.0).abs() < 0.2, "time length {time} days, wanted {}", SPEC.length_days);
    // Rows and columns alike: the field is isotropic.
    let across = fitted_length(&field, 1) * SPEC.spacing_km;
    assert!((across / SPEC.length_km - 1.0).abs() < 0.2, "length across rows {across} km");
}

#[test]
fn the_same_seed_draws_the_same_field_and_another_seed_another() {
    let spec = FieldSpec { length_km: 404.3, length_days: 2.0, spacing_km: 50.0 };
    let first = draw(spec, (20, 30, 40), 1983);
    assert_eq!(first, draw(spec, (20, 30, 40), 1983));
    let other = draw(spec, (20, 30, 40), 1984);
    let largest = Zip::from(&first).and(&other).fold(0.0_f64, |m, a, b| m.max((a - b).abs()));
    assert!(largest > 1.0, "fields of two seeds differ by at most {largest}");
    // Nor are they correlated.
    let products = Zip::from(&first).and(&other).fold(0.0, |sum, a, b| sum + a * b) / first.len() as f64;
    assert!(products.abs() < 0.2, "{products}");
}

#[test]
fn thirty_years_of_noise_never_repeat() {
    let spec = FieldSpec { length_km: 20.0, length_days: 3.8, spacing_km: 10.0 };
    let days = 30 * 365;
    let field = draw(spec, (16, 16, days), 42);
    // A year apart and a decade apart the days are independent: about 7300 / 6.7 x 20 independent products, so a
    // mean product within 0.05 of 0 (the tiled field of the original would give 1 at 3652 days).
    for lag in [365, 3652, 3653] {
        let rho = correlation(&field, 0, lag);
        assert!(rho.abs() < 0.05, "correlation {rho} at {lag} days");
    }
    // Still unit variance at the end of the thirty years.
    let last_year = field.slice(s![days - 365.., .., ..]);
    let variance = last_year.var(0.0);
    assert!((variance - 1.0).abs() < 0.2, "{variance}");
}

#[test]
fn lengths_that_are_not_positive_are_refused() {
    for spec in [
        FieldSpec { length_km: 0.0, ..SPEC },
        FieldSpec { length_days: -1.0, ..SPEC },
        FieldSpec { spacing_km: f64::NAN, ..SPEC },
    ] {
        let error = FieldStream::new(spec, 4, 4, 0).err().expect("refused").to_string();
        assert!(error.starts_with("SCRF: ") && error.contains("must be a positive number"), "{error}");
    }
}

#[test]
fn on_the_iberia_grid_every_cell_is_standard_normal_with_the_correlation_of_its_distance() {
    // The E-OBS 0.5° grid of the shipped Iberia samples: 19 latitudes from 35.25°N, 29 longitudes from 9.75°W.
    let lats: Vec<f64> = (0..19).map(|i| 35.25 + 0.5 * i as f64).collect();
    let lons: Vec<f64> = (0..29).map(|j| -9.75 + 0.5 * j as f64).collect();
    let (length_km, length_days) = (404.3, 2.0);
    let mut stream = LatLonFieldStream::new(length_km, length_days, &lats, &lons, 2081).unwrap();
    let days = 3 * 365;
    let mut field = Array3::zeros((days, lats.len(), lons.len()));
    for mut day in field.outer_iter_mut() {
        day.assign(&stream.next_day());
    }
    // About 1095 / (√π 2) ≈ 309 independent days: a cell's mean within 4/√309 of 0, its variance within 4√(2/309)
    // of 1.
    for (mean, variance) in field.mean_axis(Axis(0)).unwrap().iter().zip(field.var_axis(Axis(0), 0.0).iter()) {
        assert!(mean.abs() < 0.23 && (variance - 1.0).abs() < 0.32, "mean {mean}, variance {variance}");
    }
    // Two cells 3.5° of longitude apart on 40.25°N: their Miller distance is R·3.5° ≈ 389 km, so their correlation
    // is exp(-(389/404.3)²) ≈ 0.40, estimated within 0.15 (three standard errors).
    let distance = 6371.0 * 3.5_f64.to_radians();
    let expected = (-(distance / length_km).powi(2)).exp();
    let (a, b) = (field.slice(s![.., 10, 0]), field.slice(s![.., 10, 7]));
    let rho = a.iter().zip(b.iter()).map(|(x, y)| x * y).sum::<f64>() / days as f64;
    assert!((rho - expected).abs() < 0.15, "correlation {rho}, expected {expected}");
    // A day apart: exp(-(1/2)²) ≈ 0.78.
    let lag = correlation(&field, 0, 1);
    assert!((lag - (-0.25_f64).exp()).abs() < 0.1, "lag-one correlation {lag}");
}
