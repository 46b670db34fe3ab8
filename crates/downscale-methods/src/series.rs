//! A point's time series together with the calendar facts that methods group by. The methods never decode
//! calendars themselves: callers (the data layer) give each step's month, day of year and a time coordinate in
//! days, so a noleap model and standard-calendar observations are each grouped by their own calendar.

/// One point's daily (or monthly) series. All slices have the same length; NaN marks a missing value.
#[derive(Debug, Clone, Copy)]
pub struct TimeSeries<'a> {
    /// The data, in the units the method works in; NaN is missing.
    pub values: &'a [f64],
    /// Calendar month of each step, 1..=12.
    pub months: &'a [u8],
    /// Day of year of each step, 1..=366 (1..=360 in a 360-day calendar).
    pub days_of_year: &'a [u16],
    /// Time coordinate of each step in days since any fixed origin (used for trends in time).
    pub days: &'a [f64],
}

impl<'a> TimeSeries<'a> {
    /// Number of time steps, missing ones included.
    pub fn len(&self) -> usize {
        self.values.len()
    }

    /// Whether the series has no time step at all (an all-missing series is not empty).
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// The series with other values on the same time steps.
    pub fn with_values(&self, values: &'a [f64]) -> TimeSeries<'a> {
        debug_assert_eq!(values.len(), self.values.len());
        TimeSeries { values, ..*self }
    }

    /// The values and calendar facts of a subset of steps, in the given order.
    pub fn select(&self, steps: &[usize]) -> (Vec<f64>, TimeFacts) {
        let values = steps.iter().map(|&i| self.values[i]).collect();
        let facts = TimeFacts {
            months: steps.iter().map(|&i| self.months[i]).collect(),
            days_of_year: steps.iter().map(|&i| self.days_of_year[i]).collect(),
            days: steps.iter().map(|&i| self.days[i]).collect(),
        };
        (values, facts)
    }

    /// Indices of the steps in calendar month `month`.
    pub fn month_indices(&self, month: u8) -> Vec<usize> {
        (0..self.len()).filter(|&i| self.months[i] == month).collect()
    }
}

/// Owned calendar facts for a series, for callers that build them (tests, the CLI).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TimeFacts {
    /// Calendar month of each step, 1..=12.
    pub months: Vec<u8>,
    /// Day of year of each step, 1..=366 (1..=360 in a 360-day calendar).
    pub days_of_year: Vec<u16>,
    /// Time coordinate of each step in days since any fixed origin.
    pub days: Vec<f64>,
}

impl TimeFacts {
    /// `values` on these time steps; `values` must have one value per step.
    pub fn series<'a>(&'a self, values: &'a [f64]) -> TimeSeries<'a> {
        TimeSeries { values, months: &self.months, days_of_year: &self.days_of_year, days: &self.days }
    }

    /// Number of time steps.
    pub fn len(&self) -> usize {
        self.months.len()
    }

    /// Whether there is no time step.
    pub fn is_empty(&self) -> bool {
        self.months.is_empty()
    }
}
