//! Spatially and temporally correlated random fields (SCRF): the standard-normal noise of GARD's random effects,
//! with the Gaussian covariance `C(h, τ) = exp(-(h/L)² - (τ/T)²)` of distance `h` (km) and lag `τ` (days), unit
//! variance. This is the covariance the original fitted to detrended reanalysis with variograms (precipitation
//! L = 404.3 km, T = 2.0 days; temperature L = 428.6 km, T = 3.8 days).
//!
//! Method. The Gaussian covariance is a product of a spatial and a temporal factor, and each factor is the
//! self-convolution of a Gaussian kernel of half its length scale (`exp(-x²/(2s²))` convolved with itself is
//! proportional to `exp(-x²/(4s²))`, so `s = L/2`). The field is therefore white noise convolved with a Gaussian
//! kernel in space and in time:
//! - each day, independent normals on a padded grid are convolved with the spatial kernel through the FFT
//!   (`rustfft`); the padding is the kernel's reach, so that the circular convolution correlates no two points of
//!   the grid through the wrap;
//! - days are combined by a running convolution with the temporal kernel, truncated at four of its standard
//!   deviations, so only that window of daily fields is held: memory does not grow with the period, and the noise
//!   never repeats (the original tiled one ten-year field over every decade, repeating every 3652 days).
//!
//! Both kernels are scaled so that the sum of their squares is 1, which makes the variance exactly 1 on the grid.
//! The same seed gives the same field.

use ndarray::{Array2, Zip};
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand_distr::{Distribution, StandardNormal};
use rustfft::FftPlanner;
use rustfft::num_complex::Complex;

use crate::error::{MethodError, Result};

/// What field to draw: its length scales, and the spacing of the regular grid it is drawn on.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FieldSpec {
    /// Correlation length in space, km (`L`).
    pub length_km: f64,
    /// Correlation length in time, days (`T`).
    pub length_days: f64,
    /// Distance between neighbouring grid nodes, km, along both axes.
    pub spacing_km: f64,
}

impl FieldSpec {
    fn check(&self) -> Result<()> {
        for (name, value) in
            [("length_km", self.length_km), ("length_days", self.length_days), ("spacing_km", self.spacing_km)]
        {
            if !(value.is_finite() && value > 0.0) {
                let message = format!("{name} must be a positive number, found {value}");
                return Err(MethodError::InvalidOption { method: "SCRF", message });
            }
        }
        Ok(())
    }
}

/// A field being drawn day after day on a `(rows, columns)` grid.
pub struct FieldStream {
    rows: usize,
    columns: usize,
    /// The padded grid the spatial convolution runs on.
    padded: (usize, usize),
    /// The spatial kernel's spectrum on the padded grid (real: the kernel is symmetric).
    kernel_spectrum: Array2<f64>,
    /// Weights of the days around the one drawn, from `-reach` to `+reach`.
    day_weights: Vec<f64>,
    /// The spatially correlated fields of the days in the window, oldest first.
    window: std::collections::VecDeque<Array2<f64>>,
    /// A second field drawn by the last convolution (the imaginary part), used for the next day.
    spare: Option<Array2<f64>>,
    planner: FftPlanner<f64>,
    rng: StdRng,
}

impl FieldStream {
    /// Starts a field on a grid of `rows × columns` nodes, drawn from `seed`.
    pub fn new(spec: FieldSpec, rows: usize, columns: usize, seed: u64) -> Result<FieldStream> {
        spec.check()?;
        if rows == 0 || columns == 0 {
            let message = format!("a grid of {rows} x {columns} nodes has no node");
            return Err(MethodError::InvalidOption { method: "SCRF", message });
        }
        // The spatial kernel exp(-d²/(2s²)) with s = L/2, in grid steps, reaching four standard deviations.
        let sigma = spec.length_km / 2.0 / spec.spacing_km;
        let reach = (4.0 * sigma).ceil() as usize;
        let padded = (rows + 2 * reach, columns + 2 * reach);
        let kernel_spectrum = kernel_spectrum(padded, sigma, reach);
        let sigma_days = spec.length_days / 2.0;
        let reach_days = (4.0 * sigma_days).ceil() as i64;
        let mut day_weights: Vec<f64> = (-reach_days..=reach_days)
            .map(|day| (-(day as f64).powi(2) / (2.0 * sigma_days * sigma_days)).exp())
            .collect();
        let norm = day_weights.iter().map(|w| w * w).sum::<f64>().sqrt();
        day_weights.iter_mut().for_each(|w| *w /= norm);
        let mut stream = FieldStream {
            rows,
            columns,
            padded,
            kernel_spectrum,
            day_weights,
            window: std::collections::VecDeque::new(),
            spare: None,
            planner: FftPlanner::new(),
            rng: StdRng::seed_from_u64(seed),
        };
        // The first day's window reaches back before it.
        while stream.window.len() < stream.day_weights.len() {
            let field = stream.spatial_field();
            stream.window.push_back(field);
        }
        Ok(stream)
    }

    /// The next day's field, `(rows, columns)`, standard normal at every node.
    pub fn next_day(&mut self) -> Array2<f64> {
        let mut day = Array2::<f64>::zeros((self.rows, self.columns));
        for (weight, field) in self.day_weights.iter().zip(&self.window) {
            Zip::from(&mut day).and(field).for_each(|out, &value| *out += weight * value);
        }
        self.window.pop_front();
        let field = self.spatial_field();
        self.window.push_back(field);
        day
    }

    /// One day's spatially correlated, unit-variance field, white in time. Each convolution of complex white noise
    /// yields two independent fields (its real and imaginary parts); the second is kept for the next call.
    fn spatial_field(&mut self) -> Array2<f64> {
        if let Some(field) = self.spare.take() {
            return field;
        }
        let (rows, columns) = self.padded;
        let mut grid: Array2<Complex<f64>> = Array2::from_shape_simple_fn((rows, columns), || {
            Complex::new(StandardNormal.sample(&mut self.rng), StandardNormal.sample(&mut self.rng))
        });
        fft_2d(&mut self.planner, &mut grid, false);
        Zip::from(&mut grid).and(&self.kernel_spectrum).for_each(|value, &k| *value *= k);
        fft_2d(&mut self.planner, &mut grid, true);
        let scale = 1.0 / (rows * columns) as f64;
        let (top, left) = ((rows - self.rows) / 2, (columns - self.columns) / 2);
        let interior = grid.slice(ndarray::s![top..top + self.rows, left..left + self.columns]);
        self.spare = Some(interior.map(|value| value.im * scale));
        interior.map(|value| value.re * scale)
    }
}

/// The spectrum of the spatial kernel `exp(-d²/(2σ²))` (σ in grid steps, cut at `reach` steps), centred on the
/// padded grid's origin and scaled so that the sum of its squares is 1.
fn kernel_spectrum((rows, columns): (usize, usize), sigma: f64, reach: usize) -> Array2<f64> {
    let wrapped = |index: usize, size: usize| if index <= size / 2 { index as f64 } else { index as f64 - size as f64 };
    let mut kernel = Array2::<Complex<f64>>::zeros((rows, columns));
    for ((row, column), value) in kernel.indexed_iter_mut() {
        let (dy, dx) = (wrapped(row, rows), wrapped(column, columns));
        if dy.abs() <= reach as f64 && dx.abs() <= reach as f64 {
            *value = Complex::new((-(dx * dx + dy * dy) / (2.0 * sigma * sigma)).exp(), 0.0);
        }
    }
    let norm = kernel.iter().map(|value| value.norm_sqr()).sum::<f64>().sqrt();
    kernel.mapv_inplace(|value| value / norm);
    let mut planner = FftPlanner::new();
    fft_2d(&mut planner, &mut kernel, false);
    kernel.map(|value| value.re)
}

/// An in-place 2-D FFT (forward, or inverse without the 1/n scaling): rows, then columns.
fn fft_2d(planner: &mut FftPlanner<f64>, grid: &mut Array2<Complex<f64>>, inverse: bool) {
    let (rows, columns) = grid.dim();
    let plan = |planner: &mut FftPlanner<f64>, n| match inverse {
        true => planner.plan_fft_inverse(n),
        false => planner.plan_fft_forward(n),
    };
    let along_rows = plan(planner, columns);
    for mut row in grid.rows_mut() {
        let mut buffer = row.to_vec();
        along_rows.process(&mut buffer);
        row.iter_mut().zip(buffer).for_each(|(out, value)| *out = value);
    }
    let along_columns = plan(planner, rows);
    for mut column in grid.columns_mut() {
        let mut buffer = column.to_vec();
        along_columns.process(&mut buffer);
        column.iter_mut().zip(buffer).for_each(|(out, value)| *out = value);
    }
}

/// The Earth's radius the projection uses, km.
const EARTH_RADIUS_KM: f64 = 6371.0;

/// A field on a latitude/longitude grid, day after day. It is drawn on a regular km grid of the Miller cylindrical
/// projection (as the original drew its fields) covering the grid, with a spacing of an eighth of the length scale,
/// and interpolated bilinearly to each cell centre. Distances are therefore the projection's: true along the
/// equator, and east-west stretched by 1/cos(latitude) away from it (a 404 km length is about 310 km of ground
/// east-west at 40°N), as in the original's fields. Interpolating between nodes averages them, which would lower the
/// variance between nodes by up to about 1.5% at that spacing; each cell's value is divided by the standard
/// deviation its interpolation weights give under the field's covariance, so every cell stays exactly unit-variance.
pub struct LatLonFieldStream {
    stream: FieldStream,
    /// Per cell, row-major (`lat × lon`).
    cells: Vec<CellInterpolation>,
    shape: (usize, usize),
}

/// How a cell's value comes from the km grid: its four nodes `(row, column, weight)`, and the factor that makes
/// the interpolated value unit-variance.
struct CellInterpolation {
    nodes: [(usize, usize, f64); 4],
    scale: f64,
}

impl LatLonFieldStream {
    /// Starts a field of correlation lengths `length_km` and `length_days` on the cell centres `lats × lons`
    /// (degrees), drawn from `seed`.
    pub fn new(length_km: f64, length_days: f64, lats: &[f64], lons: &[f64], seed: u64) -> Result<LatLonFieldStream> {
        let spec = FieldSpec { length_km, length_days, spacing_km: length_km / 8.0 };
        spec.check()?;
        if lats.iter().chain(lons).any(|v| !v.is_finite()) || lats.iter().any(|lat| lat.abs() > 90.0) {
            let message = "cell centres must be finite, with latitudes within ±90°".to_string();
            return Err(MethodError::InvalidOption { method: "SCRF", message });
        }
        let ys: Vec<f64> = lats.iter().map(|&lat| miller_y(lat)).collect();
        let xs: Vec<f64> = lons.iter().map(|&lon| EARTH_RADIUS_KM * lon.to_radians()).collect();
        let bounds = |values: &[f64]| values.iter().fold((f64::MAX, f64::MIN), |(lo, hi), &v| (lo.min(v), hi.max(v)));
        let ((y0, y1), (x0, x1)) = (bounds(&ys), bounds(&xs));
        let step = spec.spacing_km;
        let (rows, columns) = (((y1 - y0) / step).floor() as usize + 2, ((x1 - x0) / step).floor() as usize + 2);
        let stream = FieldStream::new(spec, rows, columns, seed)?;
        let covariance = |dr: f64, dc: f64| (-((dr * dr + dc * dc) * step * step) / (length_km * length_km)).exp();
        let mut cells = Vec::with_capacity(ys.len() * xs.len());
        for &y in &ys {
            for &x in &xs {
                let (fr, fc) = ((y - y0) / step, (x - x0) / step);
                let (r, c) = ((fr.floor() as usize).min(rows - 2), (fc.floor() as usize).min(columns - 2));
                let (ty, tx) = (fr - r as f64, fc - c as f64);
                let nodes = [
                    (r, c, (1.0 - ty) * (1.0 - tx)),
                    (r, c + 1, (1.0 - ty) * tx),
                    (r + 1, c, ty * (1.0 - tx)),
                    (r + 1, c + 1, ty * tx),
                ];
                let mut variance = 0.0;
                for &(ra, ca, wa) in &nodes {
                    for &(rb, cb, wb) in &nodes {
                        variance += wa * wb * covariance(ra as f64 - rb as f64, ca as f64 - cb as f64);
                    }
                }
                cells.push(CellInterpolation { nodes, scale: 1.0 / variance.sqrt() });
            }
        }
        Ok(LatLonFieldStream { stream, cells, shape: (lats.len(), lons.len()) })
    }

    /// The next day's field, `(lat, lon)`, standard normal in every cell.
    pub fn next_day(&mut self) -> Array2<f64> {
        let nodes = self.stream.next_day();
        let values: Vec<f64> = self
            .cells
            .iter()
            .map(|cell| cell.nodes.iter().map(|&(r, c, w)| w * nodes[[r, c]]).sum::<f64>() * cell.scale)
            .collect();
        Array2::from_shape_vec(self.shape, values).expect("one value per cell")
    }
}

/// The northing of latitude `lat` (degrees) in the Miller cylindrical projection, km.
fn miller_y(lat: f64) -> f64 {
    EARTH_RADIUS_KM * 1.25 * (std::f64::consts::FRAC_PI_4 + 0.4 * lat.to_radians()).tan().ln()
}
