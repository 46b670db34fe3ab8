//! From a `(time, lat, lon)` array to what is drawn: one map (a day, or the mean of a month, a year, a range of years
//! or the whole record) or one domain-mean series. Means skip missing values cell by cell, so a cell that is
//! missing on some days is the mean of the days it has.

use std::ops::Range;

use downscale_data::DataArray;
use downscale_data::calendar::{Calendar, CfDateTime};
use ndarray::{Array2, ArrayView3, Axis};

use crate::error::{PlotError, Result};
use crate::time::{TimeSpec, day_label};

/// One map's worth of values on a latitude/longitude grid.
#[derive(Debug, Clone, PartialEq)]
pub struct Field {
    /// The variable's name.
    pub name: String,
    /// Its units (`K`, `mm day-1`); empty when the store has none.
    pub units: String,
    /// What the values are of: a day (`2081-01-01`), or a mean (`mean of 2081-01`, `mean of 2081-2100`).
    pub period: String,
    /// Cell-centre latitudes, ascending (degrees north).
    pub lat: Vec<f64>,
    /// Cell-centre longitudes, ascending (degrees east).
    pub lon: Vec<f64>,
    /// The values, `(lat, lon)`; NaN where there is no data.
    pub values: Array2<f32>,
}

impl Field {
    /// `name, period`: what the map shows, for its title and for messages.
    pub fn description(&self) -> String {
        format!("{}, {}", self.name, self.period)
    }
}

/// Which map of an array to draw.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldSelection {
    /// The first time step: what a store looks like, when nothing else is asked.
    FirstDay,
    /// The step on this day (its first, if the store has several a day).
    Day {
        /// The year.
        year: i32,
        /// The month, 1..=12.
        month: u32,
        /// The day of the month.
        day: u32,
    },
    /// The mean over one month.
    MonthMean {
        /// The year.
        year: i32,
        /// The month, 1..=12.
        month: u32,
    },
    /// The mean over one calendar year.
    YearMean(i32),
    /// The mean over every time step.
    RecordMean,
}

/// The mean a map shows: of the month or year of a time, or of the whole record (`--mean`, or `mean=` in the
/// dashboard's queries).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mean {
    /// Of one month.
    Month,
    /// Of one calendar year.
    Year,
    /// Of every time step.
    All,
}

impl std::str::FromStr for Mean {
    type Err = PlotError;

    fn from_str(text: &str) -> Result<Mean> {
        match text {
            "month" => Ok(Mean::Month),
            "year" => Ok(Mean::Year),
            "all" => Ok(Mean::All),
            other => Err(PlotError::BadSelection { detail: format!("mean '{other}': expected month, year or all") }),
        }
    }
}

impl FieldSelection {
    /// The map a time and a mean ask for together, the same on the command line and in the dashboard: a day
    /// alone; a month's mean with its month (`YYYY-MM`), a year's with its year (`YYYY`); the whole record's mean
    /// with no time; the first day with neither.
    pub fn from_time_and_mean(time: Option<TimeSpec>, mean: Option<Mean>) -> Result<FieldSelection> {
        let refuse = |detail: String| Err(PlotError::BadSelection { detail });
        match (mean, time) {
            (None, None) => Ok(FieldSelection::FirstDay),
            (None, Some(TimeSpec::Day { year, month, day })) => Ok(FieldSelection::Day { year, month, day }),
            (None, Some(period)) => {
                refuse(format!("time {period} is not a day: give YYYY-MM-DD, or ask for the mean of the month or year"))
            }
            (Some(Mean::Month), Some(TimeSpec::Month { year, month })) => Ok(FieldSelection::MonthMean { year, month }),
            (Some(Mean::Year), Some(TimeSpec::Year(year))) => Ok(FieldSelection::YearMean(year)),
            (Some(Mean::All), None) => Ok(FieldSelection::RecordMean),
            (Some(Mean::All), Some(_)) => refuse("the whole record's mean takes no time".into()),
            (Some(Mean::Month), _) => refuse("a month's mean needs the month as the time, YYYY-MM".into()),
            (Some(Mean::Year), _) => refuse("a year's mean needs the year as the time, YYYY".into()),
        }
    }
}

/// How a domain-mean series is aggregated in time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SeriesStep {
    /// One value per time step of the store.
    Daily,
    /// The mean of each calendar month that has steps.
    Monthly,
    /// The mean of each calendar year that has steps.
    Annual,
}

/// The domain mean of a variable through time.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    /// The variable's name.
    pub name: String,
    /// Its units; empty when the store has none.
    pub units: String,
    /// The calendar of `dates`, which places them on the time axis.
    pub calendar: Calendar,
    /// How the values are aggregated; monthly and annual values are dated at their period's first day.
    pub step: SeriesStep,
    /// One date per value, ascending.
    pub dates: Vec<CfDateTime>,
    /// The values; NaN where no cell had data.
    pub values: Vec<f64>,
}

impl Series {
    /// `name, domain mean (monthly means)`: what the series shows.
    pub fn description(&self) -> String {
        let step = match self.step {
            SeriesStep::Daily => "",
            SeriesStep::Monthly => " of monthly means",
            SeriesStep::Annual => " of annual means",
        };
        format!("{}, area-weighted domain mean{step}", self.name)
    }
}

/// The array's grid and dates, checked once for every selection.
struct Grid<'a> {
    array: &'a DataArray,
    values: ArrayView3<'a, f32>,
    lat: &'a [f64],
    lon: &'a [f64],
    calendar: Calendar,
    dates: &'a [CfDateTime],
}

impl<'a> Grid<'a> {
    fn of(array: &'a DataArray) -> Result<Grid<'a>> {
        let bad = |detail: String| PlotError::NotAGrid {
            source_name: array.source.clone(),
            variable: array.name.clone(),
            detail,
        };
        let dims: Vec<&str> = array.dims.iter().map(String::as_str).collect();
        let time = array.time.as_ref().filter(|_| dims.len() == 3 && dims[1..] == ["lat", "lon"]);
        let time = time.ok_or_else(|| bad(format!("has dims ({}), not (time, lat, lon)", dims.join(", "))))?;
        if time.dates.is_empty() {
            return Err(bad("has no time steps".into()));
        }
        let axis = |name: &str| -> Result<&'a [f64]> {
            let values = array.coord(name).and_then(|c| c.values.numbers());
            let values = values.ok_or_else(|| bad(format!("has no numeric '{name}' coordinate")))?;
            if values.len() != array.shape()[array.axis_of(name).unwrap_or(0)] {
                return Err(bad(format!("has a '{name}' coordinate of the wrong length")));
            }
            if values.iter().any(|v| !v.is_finite()) || values.windows(2).any(|pair| pair[1] <= pair[0]) {
                return Err(bad(format!("has a '{name}' coordinate that is not finite and ascending")));
            }
            Ok(values)
        };
        let (lat, lon) = (axis("lat")?, axis("lon")?);
        let values = array.data.view().into_dimensionality().map_err(|e| bad(e.to_string()))?;
        Ok(Grid { array, values, lat, lon, calendar: time.calendar, dates: &time.dates })
    }

    fn outside(&self, wanted: String) -> PlotError {
        PlotError::OutsideRecord {
            source_name: self.array.source.clone(),
            wanted,
            first: day_label(&self.dates[0]),
            last: day_label(&self.dates[self.dates.len() - 1]),
        }
    }

    /// The steps whose date satisfies `inside`, which must be one block (dates ascend, and every period asked for
    /// is contiguous); `what` names the period in the errors when it is outside the record or has no step.
    fn steps(&self, what: String, inside: impl Fn(&CfDateTime) -> Ordering3) -> Result<Range<usize>> {
        let begin = self.dates.partition_point(|d| inside(d) == Ordering3::Before);
        let end = self.dates.partition_point(|d| inside(d) != Ordering3::After);
        if begin == end {
            if begin == 0 || begin == self.dates.len() {
                return Err(self.outside(what));
            }
            let (before, after) = (day_label(&self.dates[begin - 1]), day_label(&self.dates[begin]));
            return Err(PlotError::NoTimeStep {
                source_name: self.array.source.clone(),
                wanted: what,
                detail: format!("the nearest steps are {before} and {after}"),
            });
        }
        Ok(begin..end)
    }

    fn field(&self, values: Array2<f32>, period: String) -> Field {
        Field {
            name: self.array.name.clone(),
            units: self.array.units().unwrap_or_default().to_string(),
            period,
            lat: self.lat.to_vec(),
            lon: self.lon.to_vec(),
            values,
        }
    }

    /// The per-cell mean over `steps`, missing values skipped (f64 sums: a year of a fine grid is millions of
    /// values).
    fn mean(&self, steps: Range<usize>, period: String) -> Field {
        let block = self.values.slice_axis(Axis(0), steps.into());
        let (rows, columns) = (self.lat.len(), self.lon.len());
        let mut sums = Array2::<f64>::zeros((rows, columns));
        let mut counts = Array2::<u32>::zeros((rows, columns));
        for day in block.outer_iter() {
            ndarray::Zip::from(&mut sums).and(&mut counts).and(&day).for_each(|sum, count, &value| {
                if !value.is_nan() {
                    *sum += f64::from(value);
                    *count += 1;
                }
            });
        }
        let means = ndarray::Zip::from(&sums)
            .and(&counts)
            .map_collect(|&sum, &count| if count == 0 { f32::NAN } else { (sum / f64::from(count)) as f32 });
        self.field(means, period)
    }

    fn years_mean(&self, first: i32, last: i32) -> Result<Field> {
        let what = if first == last { format!("year {first:04}") } else { format!("years {first:04}-{last:04}") };
        // A range reaching past the record would quietly be the mean of fewer years than asked for.
        if first < self.dates[0].year || last > self.dates[self.dates.len() - 1].year {
            return Err(self.outside(what));
        }
        let steps = self.steps(what, |d| within(d.year, first, last))?;
        let period =
            if first == last { format!("mean of {first:04}") } else { format!("mean of {first:04}-{last:04}") };
        Ok(self.mean(steps, period))
    }
}

/// Where a date lies relative to a period: a three-way answer for binary searches over ascending dates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ordering3 {
    Before,
    Inside,
    After,
}

fn within<T: Ord>(value: T, first: T, last: T) -> Ordering3 {
    if value < first {
        Ordering3::Before
    } else if value > last {
        Ordering3::After
    } else {
        Ordering3::Inside
    }
}

/// The map `selection` asks for of a `(time, lat, lon)` array.
pub fn select_field(array: &DataArray, selection: FieldSelection) -> Result<Field> {
    let grid = Grid::of(array)?;
    match selection {
        FieldSelection::FirstDay => {
            Ok(grid.field(grid.values.index_axis(Axis(0), 0).to_owned(), day_label(&grid.dates[0])))
        }
        FieldSelection::Day { year, month, day } => {
            let wanted = (year, month, day);
            let steps = grid.steps(format!("time {}", TimeSpec::Day { year, month, day }), |d| {
                within((d.year, d.month, d.day), wanted, wanted)
            })?;
            let values = grid.values.index_axis(Axis(0), steps.start).to_owned();
            Ok(grid.field(values, day_label(&grid.dates[steps.start])))
        }
        FieldSelection::MonthMean { year, month } => {
            let label = TimeSpec::Month { year, month }.to_string();
            let steps =
                grid.steps(format!("month {label}"), |d| within((d.year, d.month), (year, month), (year, month)))?;
            Ok(grid.mean(steps, format!("mean of {label}")))
        }
        FieldSelection::YearMean(year) => grid.years_mean(year, year),
        FieldSelection::RecordMean => {
            let (first, last) = (day_label(&grid.dates[0]), day_label(&grid.dates[grid.dates.len() - 1]));
            Ok(grid.mean(0..grid.dates.len(), format!("mean of {first}..{last}")))
        }
    }
}

/// The per-cell mean of years `first..=last` (calendar years): a climatology, e.g. of a downscaled future or of the
/// observations, to map or to subtract from another with [`difference`].
pub fn mean_over_years(array: &DataArray, first: i32, last: i32) -> Result<Field> {
    Grid::of(array)?.years_mean(first.min(last), first.max(last))
}

/// `minuend - subtrahend` cell by cell (NaN where either is), for a change or a bias map. The fields must be on the
/// same grid: comparing different grids needs a regridding first, which is not a plotting decision.
pub fn difference(minuend: &Field, subtrahend: &Field) -> Result<Field> {
    let mismatch = |detail: String| PlotError::GridMismatch {
        minuend: minuend.description(),
        subtrahend: subtrahend.description(),
        detail,
    };
    let same = |a: &[f64], b: &[f64]| a.len() == b.len() && a.iter().zip(b).all(|(x, y)| (x - y).abs() <= 1e-6);
    for (name, a, b) in [("lat", &minuend.lat, &subtrahend.lat), ("lon", &minuend.lon, &subtrahend.lon)] {
        if !same(a, b) {
            return Err(mismatch(format!(
                "their grids differ ({name}: {} values from {:?} to {:?} against {} from {:?} to {:?})",
                a.len(),
                a.first(),
                a.last(),
                b.len(),
                b.first(),
                b.last()
            )));
        }
    }
    if minuend.units != subtrahend.units {
        return Err(mismatch(format!("their units differ ('{}' and '{}')", minuend.units, subtrahend.units)));
    }
    let values = &minuend.values - &subtrahend.values;
    let period = format!("{} minus {}", minuend.period, subtrahend.period);
    Ok(Field { period, values, ..minuend.clone() })
}

/// The area-weighted mean over the domain at every time step (weights cos(latitude), the cell area on a regular
/// grid; missing cells skipped), then averaged per month or year when `step` asks.
pub fn domain_mean_series(array: &DataArray, step: SeriesStep) -> Result<Series> {
    let grid = Grid::of(array)?;
    let weights: Vec<f64> = grid.lat.iter().map(|lat| lat.to_radians().cos().max(0.0)).collect();
    let daily: Vec<f64> = grid
        .values
        .outer_iter()
        .map(|day| {
            let (mut sum, mut total) = (0.0f64, 0.0f64);
            for (row, weight) in day.outer_iter().zip(&weights) {
                for &value in row.iter().filter(|v| !v.is_nan()) {
                    sum += weight * f64::from(value);
                    total += weight;
                }
            }
            if total > 0.0 { sum / total } else { f64::NAN }
        })
        .collect();
    let period_start = |date: &CfDateTime| match step {
        SeriesStep::Daily => *date,
        SeriesStep::Monthly => CfDateTime::ymd(date.year, date.month, 1),
        SeriesStep::Annual => CfDateTime::ymd(date.year, 1, 1),
    };
    let (mut dates, mut values): (Vec<CfDateTime>, Vec<f64>) = (Vec::new(), Vec::new());
    let mut sums: Vec<(f64, usize)> = Vec::new();
    for (date, value) in grid.dates.iter().zip(&daily) {
        let start = period_start(date);
        if dates.last() != Some(&start) {
            dates.push(start);
            sums.push((0.0, 0));
        }
        if let (false, Some((sum, count))) = (value.is_nan(), sums.last_mut()) {
            *sum += value;
            *count += 1;
        }
    }
    values.extend(sums.iter().map(|&(sum, count)| if count == 0 { f64::NAN } else { sum / count as f64 }));
    Ok(Series {
        name: array.name.clone(),
        units: array.units().unwrap_or_default().to_string(),
        calendar: grid.calendar,
        step,
        dates,
        values,
    })
}

#[cfg(test)]
mod tests;
