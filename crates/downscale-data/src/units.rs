//! Conversion to canonical units, driven by one table: temperatures in K, precipitation in mm/day, other
//! predictors (pressure, humidity) as they are. A unit string that is not in the table is an error, never a guess:
//! a silent K/degC or flux/amount mix-up is the kind of bug that survives to published data.

use crate::array::DataArray;
use crate::attrs::AttrValue;
use crate::error::{DataError, Result};

/// A linear conversion `canonical = value * scale + offset`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Conversion {
    /// The canonical spelling of the units converted to, e.g. `K`, `mm day-1`.
    pub canonical: &'static str,
    /// The factor applied first.
    pub scale: f64,
    /// The offset added after scaling (°C to K: 273.15).
    pub offset: f64,
    /// Only valid for daily series: a per-day amount ("mm") becomes a rate by being read per day.
    pub needs_daily_steps: bool,
}

const SECONDS_PER_DAY: f64 = 86_400.0;

/// (aliases, canonical units, scale, offset, needs daily steps). Aliases are compared after [`normalise`].
const TABLE: &[(&[&str], &str, f64, f64, bool)] = &[
    (&["k", "kelvin", "degk", "deg_k", "degrees_k"], "K", 1.0, 0.0, false),
    (&["degc", "deg_c", "celsius", "degrees_celsius", "degree_celsius", "°c", "c"], "K", 1.0, 273.15, false),
    (&["mm day-1", "mm/day", "mm d-1", "mm/d", "kg m-2 day-1", "kg m-2 d-1"], "mm day-1", 1.0, 0.0, false),
    (&["kg m-2 s-1", "kg/m2/s", "kg m-2/s", "kg/m2 s", "mm s-1", "mm/s"], "mm day-1", SECONDS_PER_DAY, 0.0, false),
    (&["mm", "kg m-2"], "mm day-1", 1.0, 0.0, true),
    (&["pa"], "Pa", 1.0, 0.0, false),
    (&["hpa"], "Pa", 100.0, 0.0, false),
    (&["kg kg-1", "kg/kg", "1"], "kg kg-1", 1.0, 0.0, false),
    (&["m s-1", "m/s"], "m s-1", 1.0, 0.0, false),
    (&["%"], "%", 1.0, 0.0, false),
];

/// Lower-cases and removes the spelling variants of exponents (`m**-2`, `m^-2`) and repeated spaces.
fn normalise(units: &str) -> String {
    let compact = units.trim().to_lowercase().replace("**", "").replace('^', "");
    compact.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Looks up the conversion of `units` to canonical units.
pub fn conversion_for(units: &str) -> Option<Conversion> {
    let key = normalise(units);
    TABLE
        .iter()
        .find(|(aliases, ..)| aliases.contains(&key.as_str()))
        .map(|&(_, canonical, scale, offset, daily)| Conversion { canonical, scale, offset, needs_daily_steps: daily })
}

/// Every accepted spelling, for error messages.
fn accepted() -> String {
    TABLE.iter().flat_map(|(aliases, ..)| aliases.iter().copied()).collect::<Vec<_>>().join(", ")
}

/// Converts `array` in place to canonical units and updates its `units` attribute.
pub fn to_canonical(array: &mut DataArray) -> Result<()> {
    let unknown = |units: &str| DataError::UnknownUnits {
        path: array.source.clone(),
        variable: array.name.clone(),
        units: units.to_string(),
        expected: accepted(),
    };
    let units = array.units().ok_or_else(|| unknown("<none>"))?.to_string();
    let conversion = conversion_for(&units).ok_or_else(|| unknown(&units))?;
    if conversion.needs_daily_steps && !has_daily_steps(array) {
        return Err(DataError::bad_variable(
            &array.source,
            &array.name,
            format!("units '{units}' are an amount per time step; only daily series can become mm day-1"),
        ));
    }
    if conversion.scale != 1.0 || conversion.offset != 0.0 {
        let (scale, offset) = (conversion.scale, conversion.offset);
        // f64 arithmetic: K = degC + 273.15 is not exact in f32 on its own.
        array.data.mapv_inplace(|x| (f64::from(x) * scale + offset) as f32);
    }
    array.attrs.insert("units".into(), AttrValue::Text(conversion.canonical.into()));
    Ok(())
}

/// Daily data: one value per day at a fixed time of day. Gaps (a DJF-only series) are allowed; sub-daily steps are
/// not, since an amount per hour is not an amount per day.
fn has_daily_steps(array: &DataArray) -> bool {
    let Some(time) = &array.time else { return false };
    let day = |d: &crate::calendar::CfDateTime| time.calendar.day_number(d.year, d.month, d.day).ok();
    time.dates.windows(2).all(|w| {
        let same_time_of_day = (w[0].hour, w[0].minute, w[0].second) == (w[1].hour, w[1].minute, w[1].second);
        same_time_of_day && matches!((day(&w[0]), day(&w[1])), (Some(a), Some(b)) if b > a)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_covers_the_spellings_in_real_files() {
        let k = |u: &str| conversion_for(u).map(|c| (c.canonical, c.scale, c.offset, c.needs_daily_steps));
        assert_eq!(k("K"), Some(("K", 1.0, 0.0, false)));
        for celsius in ["degC", "Celsius", "deg_C", "degrees_Celsius"] {
            assert_eq!(k(celsius), Some(("K", 1.0, 273.15, false)), "{celsius}");
        }
        for flux in ["kg m-2 s-1", "kg m**-2 s**-1", "kg m^-2 s^-1", "kg/m2/s", "mm s-1", "mm/s"] {
            assert_eq!(k(flux), Some(("mm day-1", 86_400.0, 0.0, false)), "{flux}");
        }
        for rate in ["mm day-1", "mm/day", "mm d-1"] {
            assert_eq!(k(rate), Some(("mm day-1", 1.0, 0.0, false)), "{rate}");
        }
        assert_eq!(k("mm"), Some(("mm day-1", 1.0, 0.0, true)));
        assert_eq!(k("Pa"), Some(("Pa", 1.0, 0.0, false)));
        assert_eq!(k("kg kg-1"), Some(("kg kg-1", 1.0, 0.0, false)));
    }

    #[test]
    fn unknown_units_are_not_guessed() {
        for unknown in ["furlongs", "degF", "inches", "mm/hr", "kg m-2", ""] {
            if unknown == "kg m-2" {
                // A daily amount in kg m-2 is a daily amount in mm: known, but only for daily series.
                assert!(conversion_for(unknown).is_some_and(|c| c.needs_daily_steps));
            } else {
                assert_eq!(conversion_for(unknown), None, "{unknown}");
            }
        }
    }
}
