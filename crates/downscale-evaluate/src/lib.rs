//! Evaluation of downscaled outputs: skill against observations, quality checks, and the numbers a report shows.
//!
//! A method's output is only as useful as the evidence that it is right. This crate computes that evidence from
//! daily `(time, lat, lon)` fields: the statistics of the VALUE framework's marginal, temporal and extreme aspects
//! (Maraun et al. 2015) for the observations and each product on the days they share, compared cell by cell and
//! summarised over land ([`skill`]), and the quality checks a published output must pass ([`QaScan`]). Everything
//! here is a pure function of the fields it is given; which fields a run's manifest points at is the caller's.

mod baseline;
mod change;
mod days;
mod distribution;
mod error;
mod evaluate;
mod field;
mod html;
mod indices;
mod metrics;
mod nullable;
mod places;
mod qa;
mod report;
mod skill;
mod stats;

pub use baseline::bilinear_baseline;
pub use change::{Change, ChangeFields, ChangeReport, ChangeStatistic, change_signal};
pub use distribution::Distribution;
pub use error::EvaluateError;
pub use evaluate::{BILINEAR, DOWNSCALED, EvaluationInputs, Historical, QDM_BILINEAR, evaluate};
pub use field::Field;
pub use html::html_report;
pub use indices::{AnnualIndex, WET_DAY_MM};
pub use metrics::{Comparison, PERCENTILES, PairedStatistic, Quantity, Statistic};
pub use places::{LocatedPlace, Place, locate, series_at, shipped_cities};
pub use qa::{
    Example, ExpectedDays, InvalidStore, MAX_TEMPERATURE_K, MIN_TEMPERATURE_K, QaReport, QaScan, ValueDefect, scan,
};
pub use report::Evaluation;
pub use skill::{
    Land, Map, PairedReport, Period, Product, ProductStatistic, SkillOptions, SkillReport, StatisticReport, skill,
};
