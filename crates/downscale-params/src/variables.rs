//! The variables a run can name, and how each is bias-corrected.
//!
//! Names follow the CMIP tables (`tasmax`, `pr`, ...); pressure-level predictors carry their level in the name
//! (`ta850`), as the sample data and GARD's multivariate runs use them.

/// How a variable's model bias is removed: by differences (temperatures) or by ratios (precipitation), the
/// distinction BCSD's point models and every quantile-mapping method make.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Correction {
    /// Differences: temperatures, pressure, winds.
    Absolute,
    /// Ratios: precipitation, humidity, amounts bounded at zero.
    Relative,
}

/// A variable the tool knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Variable {
    /// The CMIP name, with the pressure level for level predictors (`ta850`).
    pub name: &'static str,
    /// How its bias is removed.
    pub correction: Correction,
    /// Whether a method can produce it (the others are only predictors, e.g. winds and pressure for GARD).
    pub target: bool,
}

const fn variable(name: &'static str, correction: Correction, target: bool) -> Variable {
    Variable { name, correction, target }
}

use Correction::{Absolute, Relative};

/// Every known variable.
pub const VARIABLES: &[Variable] = &[
    variable("tas", Absolute, true),
    variable("tasmax", Absolute, true),
    variable("tasmin", Absolute, true),
    variable("pr", Relative, true),
    variable("psl", Absolute, false),
    variable("ua", Absolute, false),
    variable("va", Absolute, false),
    variable("uas", Absolute, false),
    variable("vas", Absolute, false),
    variable("huss", Relative, false),
    variable("hurs", Absolute, false),
    variable("sfcWind", Relative, false),
    variable("rsds", Relative, false),
    variable("ta850", Absolute, false),
    variable("hus850", Relative, false),
    variable("ua850", Absolute, false),
    variable("va850", Absolute, false),
    variable("zg500", Absolute, false),
];

/// The known variable called `name`.
pub fn lookup(name: &str) -> Option<&'static Variable> {
    VARIABLES.iter().find(|v| v.name == name)
}

/// The names of the variables a method can produce.
pub fn target_names() -> impl Iterator<Item = &'static str> {
    VARIABLES.iter().filter(|v| v.target).map(|v| v.name)
}
