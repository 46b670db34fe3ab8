//! Reading and checking the three inputs of `downscale adjust`: years, units, points and calendars, so that the
//! methods receive clean `(time, point)` arrays and every problem is reported against the file it comes from.

use anyhow::{Result, bail};
use downscale_data::units::{conversion_for, to_canonical};
use downscale_data::{AttrValue, CoordValues, DataArray};
use downscale_flows::tasks::correct::time_facts;
use downscale_methods::adjust::PointInputs;
use downscale_methods::series::TimeFacts;
use ndarray::{Array2, ArrayD, IxDyn};

/// An inclusive range of years from the command line.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Years {
    pub option: &'static str,
    pub first: i32,
    pub last: i32,
}

impl Years {
    pub(crate) fn new(option: &'static str, values: &[i32]) -> Result<Years> {
        let [first, last] = values else { bail!("{option} takes two years: FIRST LAST") };
        if first > last {
            bail!("{option} {first} {last}: the first year is after the last");
        }
        Ok(Years { option, first: *first, last: *last })
    }
}

/// One input restricted to its years, as a `(time, point)` matrix in working units with its calendar facts.
struct Prepared {
    array: DataArray,
    matrix: Array2<f32>,
    facts: TimeFacts,
}

/// REF and HIST over the training years and SIM over the prediction years, checked against each other.
pub(crate) struct AdjustInputs {
    reference: Prepared,
    hist: Prepared,
    sim: Prepared,
    /// REF's units, which the output is written in (precipitation always as mm day-1).
    output_units: String,
    /// `output = working * scale + offset`.
    output_scale: f64,
    output_offset: f64,
}

impl AdjustInputs {
    /// Reads `var` from the REF, HIST and SIM files (a file given twice is read once), converts HIST and SIM to
    /// REF's units and selects the years.
    pub(crate) fn read(
        var: &str,
        [reference, hist, sim]: [&str; 3],
        train: Years,
        predict: Years,
    ) -> Result<AdjustInputs> {
        let mut reference_array = super::read_input(reference, Some(var))?;
        let mut sim_array = super::read_input(sim, Some(var))?;
        let mut hist_array = if hist == sim { sim_array.clone() } else { super::read_input(hist, Some(var))? };
        let reference_units = reference_array.units().unwrap_or("").to_string();
        for array in [&mut reference_array, &mut hist_array, &mut sim_array] {
            to_canonical(array)?;
        }
        let canonical = reference_array.units().unwrap_or("").to_string();
        for (role, array) in [("HIST", &hist_array), ("SIM", &sim_array)] {
            let units = array.units().unwrap_or("");
            if units != canonical {
                bail!(
                    "{}: variable {var} is in units convertible to '{units}', which cannot be converted to REF's \
                     '{reference_units}' ({role} and REF must measure the same quantity)",
                    array.source
                );
            }
        }
        // Precipitation is written as mm day-1 whatever REF's flux units; other quantities in REF's own units.
        let (output_units, output_scale, output_offset) = if canonical == "mm day-1" {
            (canonical.clone(), 1.0, 0.0)
        } else {
            let conversion = conversion_for(&reference_units).expect("to_canonical accepted these units");
            (reference_units, 1.0 / conversion.scale, -conversion.offset / conversion.scale)
        };
        let reference = prepare(reference_array, train, "REF")?;
        let hist = prepare(hist_array, train, "HIST")?;
        let sim = prepare(sim_array, predict, "SIM")?;
        for (role, other) in [("REF", &reference), ("HIST", &hist)] {
            check_same_points(role, &other.array, &sim.array)?;
        }
        if canonical == "mm day-1" {
            for (role, prepared) in [("REF", &reference), ("HIST", &hist), ("SIM", &sim)] {
                check_not_negative(role, prepared)?;
            }
        }
        Ok(AdjustInputs { reference, hist, sim, output_units, output_scale, output_offset })
    }

    pub(crate) fn point_inputs(&self) -> PointInputs<'_> {
        PointInputs {
            reference: self.reference.matrix.view(),
            reference_time: &self.reference.facts,
            hist: self.hist.matrix.view(),
            hist_time: &self.hist.facts,
            sim: self.sim.matrix.view(),
            sim_time: &self.sim.facts,
            points: None,
        }
    }

    /// A threshold given in the output's units, in the working units the methods see.
    pub(crate) fn threshold_to_working_units(&self, threshold: f64) -> f64 {
        (threshold - self.output_offset) / self.output_scale
    }

    /// Names point `index` by its coordinates, e.g. `location=Amos` or `lat=40.25 lon=-3.75`.
    pub(crate) fn describe_point(&self, index: usize) -> String {
        let array = &self.sim.array;
        let shape = &array.shape()[1..];
        let mut remainder = index;
        let mut position = vec![0; shape.len()];
        for (axis, &len) in shape.iter().enumerate().rev() {
            position[axis] = remainder % len;
            remainder /= len;
        }
        let parts: Vec<String> = array.dims[1..]
            .iter()
            .zip(&position)
            .map(|(dim, &i)| match array.coord(dim).map(|c| &c.values) {
                Some(CoordValues::Numbers(values)) => format!("{dim}={}", values[i]),
                Some(CoordValues::Labels(labels)) => format!("{dim}={}", labels[i]),
                None => format!("{dim}[{i}]"),
            })
            .collect();
        format!("point {}", parts.join(" "))
    }

    /// SIM over the prediction years with the adjusted values, in the output units, as float32.
    pub(crate) fn output_array(&self, adjusted: Array2<f32>) -> DataArray {
        let (scale, offset) = (self.output_scale, self.output_offset);
        let converted = adjusted.mapv(|v| (f64::from(v) * scale + offset) as f32);
        let shape = IxDyn(self.sim.array.shape());
        let mut output = self.sim.array.with_data(
            ArrayD::from_shape_vec(shape, converted.into_raw_vec_and_offset().0)
                .expect("adjusted values have SIM's shape"),
        );
        output.attrs.insert("units".into(), AttrValue::Text(self.output_units.clone()));
        output
    }
}

/// Selects `years` from `array` (refusing years outside the data) and flattens it to `(time, point)`.
fn prepare(array: DataArray, years: Years, role: &str) -> Result<Prepared> {
    let selected = array
        .select_years(years.first, years.last)
        .map_err(|e| anyhow::anyhow!("{} {} {} for {role}: {e}", years.option, years.first, years.last))?;
    let time = selected.time.as_ref().expect("selected from a time series");
    let facts = time_facts(time);
    let matrix = selected.time_point_matrix();
    Ok(Prepared { array: selected, matrix, facts })
}

/// REF and HIST must hold the same points as SIM: same dimensions, sizes and coordinate values.
fn check_same_points(role: &str, other: &DataArray, sim: &DataArray) -> Result<()> {
    let describe = |a: &DataArray| {
        a.dims[1..].iter().zip(&a.shape()[1..]).map(|(d, n)| format!("{d}={n}")).collect::<Vec<_>>().join(", ")
    };
    if other.dims[1..] != sim.dims[1..] || other.shape()[1..] != sim.shape()[1..] {
        bail!(
            "{}: {role} has points ({}) but SIM {} has ({}); both must hold the same points",
            other.source,
            describe(other),
            sim.source,
            describe(sim)
        );
    }
    for dim in &sim.dims[1..] {
        let (Some(a), Some(b)) = (other.coord(dim), sim.coord(dim)) else { continue };
        let same = match (&a.values, &b.values) {
            (CoordValues::Numbers(x), CoordValues::Numbers(y)) => {
                x.iter().zip(y).all(|(p, q)| (p - q).abs() <= 1e-6 * p.abs().max(1.0))
            }
            (CoordValues::Labels(x), CoordValues::Labels(y)) => x == y,
            _ => false,
        };
        if !same {
            bail!(
                "{}: coordinate {dim} of {role} differs from SIM {}; both must hold the same points",
                other.source,
                sim.source
            );
        }
    }
    Ok(())
}

/// Precipitation below zero is a data error (a sign or units mix-up), not something to map.
fn check_not_negative(role: &str, prepared: &Prepared) -> Result<()> {
    let negative = prepared.matrix.iter().filter(|v| **v < 0.0).count();
    if negative > 0 {
        let smallest = prepared.matrix.iter().copied().filter(|v| !v.is_nan()).fold(f32::INFINITY, f32::min);
        bail!(
            "{}: variable {} of {role} has {negative} negative values (smallest {smallest} mm day-1); precipitation \
             must be >= 0",
            prepared.array.source,
            prepared.array.name
        );
    }
    Ok(())
}
