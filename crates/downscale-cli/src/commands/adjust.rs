//! `downscale adjust`: bias-correct any NetCDF/Zarr variable with one of the library's methods, without a flow.

use std::process::ExitCode;

use anyhow::Result;
use clap::ValueEnum;
use downscale_data::{AttrValue, WriteOptions};
use downscale_methods::adjust::{BiasCorrectionName, BiasCorrectionParams, GroupBy, ParamsError, adjust_points};
use downscale_methods::qm_regressor::Extrapolate;
use downscale_methods::xsdba::{Extrapolation, Interp, Kind};

use super::adjust_inputs::{AdjustInputs, Years};
use super::{Output, OutputFormat};

#[derive(clap::Args)]
pub(crate) struct Args {
    #[arg(long, value_enum)]
    method: MethodName,
    /// Variable to adjust; the same name is read from REF, HIST and SIM.
    #[arg(long)]
    var: String,
    /// Observations (the reference) over the training years.
    #[arg(long = "ref", value_name = "FILE")]
    reference: String,
    /// The model over the training years (may be the same file as --sim).
    #[arg(long, value_name = "FILE")]
    hist: String,
    /// The model series to adjust.
    #[arg(long, value_name = "FILE")]
    sim: String,
    /// First and last training year (inclusive), selected from REF and HIST.
    #[arg(long, num_args = 2, value_names = ["Y0", "Y1"], required = true)]
    train: Vec<i32>,
    /// First and last year to adjust (inclusive), selected from SIM.
    #[arg(long, num_args = 2, value_names = ["Y0", "Y1"], required = true)]
    predict: Vec<i32>,
    /// Output file: `.nc` for NetCDF, `.zarr` for a Zarr store. Written atomically.
    #[arg(long, value_name = "FILE")]
    out: String,
    /// Replace a NetCDF file or Zarr store at --out that another program wrote (an output this tool wrote is
    /// replaced without it; a folder or file of anything else never is).
    #[arg(long)]
    overwrite: bool,
    /// Additive (temperature) or multiplicative (precipitation) correction: xsdba's kind '+'/'*', EDCDFm's
    /// difference/ratio.
    #[arg(long, value_enum, default_value_t = KindName::Additive)]
    kind: KindName,
    /// Number of quantile nodes (xsdba methods; default 20).
    #[arg(long, value_name = "N")]
    nquantiles: Option<usize>,
    /// One model over all days, one per calendar month, or (xsdba methods) one per day of year pooling a moving
    /// window of --window days.
    #[arg(long, value_enum, default_value_t = GroupName::Time)]
    group: GroupName,
    /// Width of the day-of-year window in days (with --group dayofyear; default 31).
    #[arg(long, value_name = "DAYS")]
    window: Option<usize>,
    /// Interpolation of adjustment factors (xsdba methods; default nearest).
    #[arg(long, value_enum)]
    interp: Option<InterpName>,
    /// Outside the trained quantiles: repeat the end factors, or give missing values (xsdba methods; default
    /// constant).
    #[arg(long, value_enum)]
    extrapolation: Option<ExtrapolationName>,
    /// Remove linear trends before mapping: QuantileMapper(detrend=True), or the trend-aware QM regressor.
    #[arg(long)]
    detrend: bool,
    /// Tails of the QM regressor outside the training range (default none: the observed range).
    #[arg(long, value_enum)]
    extrapolate: Option<ExtrapolateName>,
    /// Frequency adaptation threshold in REF's units, e.g. 1 for 1 mm/day (xsdba `adapt_freq_thresh`).
    #[arg(long, value_name = "VALUE")]
    adapt_freq_thresh: Option<f64>,
    /// Replace values under this threshold (REF's units) by random values below it before training, so dry days
    /// do not tie (xsdba `jitter_under_thresh_value`).
    #[arg(long, value_name = "VALUE")]
    jitter_under_thresh: Option<f64>,
    /// Seed of the random draws of --adapt-freq-thresh and --jitter-under-thresh (default 0).
    #[arg(long)]
    seed: Option<u64>,
    /// BCSD: fit with CarbonPlan's swapped argument order (coarse obs as the model), which reproduces their
    /// published data, instead of the library's documented order.
    #[arg(long)]
    carbonplan_order: bool,
    /// EDCDFm ratio: reproduce scikit-downscale's 0/0 = NaN on dry days instead of the documented dry-day policy.
    #[arg(long)]
    reference_dry_days: bool,
}

#[derive(Clone, Copy, ValueEnum)]
enum MethodName {
    QuantileMapper,
    QmRegressor,
    Edcdfm,
    BcsdTemperature,
    BcsdPrecipitation,
    Eqm,
    Dqm,
    Qdm,
}

#[derive(Clone, Copy, ValueEnum)]
enum KindName {
    Additive,
    Multiplicative,
}

#[derive(Clone, Copy, ValueEnum)]
enum GroupName {
    Time,
    Month,
    Dayofyear,
}

#[derive(Clone, Copy, ValueEnum)]
enum InterpName {
    Nearest,
    Linear,
}

#[derive(Clone, Copy, ValueEnum)]
enum ExtrapolationName {
    Constant,
    Nan,
}

#[derive(Clone, Copy, ValueEnum)]
enum ExtrapolateName {
    None,
    #[value(name = "1to1")]
    OneToOne,
    Min,
    Max,
    Both,
}

pub(crate) fn run(args: Args) -> Result<ExitCode> {
    let output = Output::checked(&args.out, args.overwrite, &[OutputFormat::Netcdf, OutputFormat::Zarr])?;
    let train = Years::new("--train", &args.train)?;
    let predict = Years::new("--predict", &args.predict)?;
    // Options are checked before any data is read; thresholds are in REF's units until the inputs say how to
    // convert them, which changes no range.
    let params = parameters(&args);
    params.check().map_err(option_error)?;
    let inputs = AdjustInputs::read(&args.var, [&args.reference, &args.hist, &args.sim], train, predict)?;
    let correction = params
        .clone()
        .map_thresholds(|threshold| inputs.threshold_to_working_units(threshold))
        .check()
        .map_err(option_error)?;

    let adjusted = adjust_points(&correction, &inputs.point_inputs(), params.seed())
        .map_err(|e| anyhow::anyhow!("{}: {}: {}", input_files(&args), inputs.describe_point(e.point), e.error))?;

    let mut adjusted = inputs.output_array(adjusted);
    adjusted.attrs.insert("bias_correction_method".into(), AttrValue::Text(correction.name().into()));
    adjusted.attrs.insert("bias_correction_options".into(), AttrValue::Text(params.effective_options()));
    adjusted.attrs.insert(
        "bias_correction_training".into(),
        AttrValue::Text(format!(
            "{} {}-{}; {} {}-{}",
            args.reference, train.first, train.last, args.hist, train.first, train.last
        )),
    );
    let provenance = super::command_line_provenance();
    output.write(&adjusted, WriteOptions { provenance, ..WriteOptions::default() })?;
    Ok(ExitCode::SUCCESS)
}

/// The input files by role, for errors that concern a point of all three (the method cannot tell which file a
/// sample came from once HIST and SIM may be the same file).
fn input_files(args: &Args) -> String {
    if args.hist == args.sim {
        format!("REF {}, HIST and SIM {}", args.reference, args.sim)
    } else {
        format!("REF {}, HIST {}, SIM {}", args.reference, args.hist, args.sim)
    }
}

/// The command-line options as the methods crate's parameters; which of them the method takes is its to decide.
fn parameters(args: &Args) -> BiasCorrectionParams {
    BiasCorrectionParams {
        method: args.method.into(),
        kind: args.kind.into(),
        group: args.group.into(),
        window: args.window,
        nquantiles: args.nquantiles,
        interp: args.interp.map(Into::into),
        extrapolation: args.extrapolation.map(Into::into),
        detrend: args.detrend,
        extrapolate: args.extrapolate.map(Into::into),
        adapt_freq_thresh: args.adapt_freq_thresh,
        jitter_under_thresh: args.jitter_under_thresh,
        seed: args.seed,
        carbonplan_order: args.carbonplan_order,
        reference_dry_days: args.reference_dry_days,
    }
}

impl From<MethodName> for BiasCorrectionName {
    fn from(method: MethodName) -> BiasCorrectionName {
        match method {
            MethodName::QuantileMapper => BiasCorrectionName::QuantileMapper,
            MethodName::QmRegressor => BiasCorrectionName::QuantileMappingRegressor,
            MethodName::Edcdfm => BiasCorrectionName::EquidistantCdfMatcher,
            MethodName::BcsdTemperature => BiasCorrectionName::BcsdTemperature,
            MethodName::BcsdPrecipitation => BiasCorrectionName::BcsdPrecipitation,
            MethodName::Eqm => BiasCorrectionName::Eqm,
            MethodName::Dqm => BiasCorrectionName::Dqm,
            MethodName::Qdm => BiasCorrectionName::Qdm,
        }
    }
}

impl From<KindName> for Kind {
    fn from(kind: KindName) -> Kind {
        match kind {
            KindName::Additive => Kind::Additive,
            KindName::Multiplicative => Kind::Multiplicative,
        }
    }
}

impl From<GroupName> for GroupBy {
    fn from(group: GroupName) -> GroupBy {
        match group {
            GroupName::Time => GroupBy::Time,
            GroupName::Month => GroupBy::Month,
            GroupName::Dayofyear => GroupBy::DayOfYear,
        }
    }
}

impl From<InterpName> for Interp {
    fn from(interp: InterpName) -> Interp {
        match interp {
            InterpName::Nearest => Interp::Nearest,
            InterpName::Linear => Interp::Linear,
        }
    }
}

impl From<ExtrapolationName> for Extrapolation {
    fn from(extrapolation: ExtrapolationName) -> Extrapolation {
        match extrapolation {
            ExtrapolationName::Constant => Extrapolation::Constant,
            ExtrapolationName::Nan => Extrapolation::Nan,
        }
    }
}

impl From<ExtrapolateName> for Extrapolate {
    fn from(extrapolate: ExtrapolateName) -> Extrapolate {
        match extrapolate {
            ExtrapolateName::None => Extrapolate::None,
            ExtrapolateName::OneToOne => Extrapolate::OneToOne,
            ExtrapolateName::Min => Extrapolate::Min,
            ExtrapolateName::Max => Extrapolate::Max,
            ExtrapolateName::Both => Extrapolate::Both,
        }
    }
}

/// The error's one line in the command line's words: a parameter `a_b` is the option `--a-b`.
fn option_error(error: ParamsError) -> anyhow::Error {
    let flag = |option: &str| format!("--{}", option.replace('_', "-"));
    match error {
        ParamsError::NotTaken { method, option, value, reason } => {
            let value = value.map(|value| format!(" {value}")).unwrap_or_default();
            let reason = reason.map(|reason| format!(" ({reason})")).unwrap_or_default();
            anyhow::anyhow!("--method {method} does not take {}{value}{reason}", flag(option))
        }
        ParamsError::OnlyWith { option, other, value } => {
            anyhow::anyhow!("{} is only taken with {} {value}", flag(option), flag(other))
        }
        ParamsError::OutOfRange(error) => anyhow::anyhow!("{}: {}", flag(error.option), error.problem),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The command-line spelling of an option value.
    fn spelled<T: ValueEnum>(value: &T) -> String {
        value.to_possible_value().map(|v| v.get_name().to_string()).unwrap_or_default()
    }

    /// Output attributes are spelled by the methods crate; a file must say what the command line said.
    #[test]
    fn outputs_spell_methods_and_values_as_the_command_line_does() {
        for &method in MethodName::value_variants() {
            assert_eq!(BiasCorrectionName::from(method).as_str(), spelled(&method));
        }
        let qdm = |edit: &dyn Fn(&mut BiasCorrectionParams)| {
            let mut params = BiasCorrectionParams::new(BiasCorrectionName::Qdm);
            edit(&mut params);
            params.effective_options()
        };
        for &kind in KindName::value_variants() {
            assert!(qdm(&|p| p.kind = kind.into()).contains(&format!("kind={}", spelled(&kind))));
        }
        for &group in GroupName::value_variants() {
            assert!(qdm(&|p| p.group = group.into()).contains(&format!("group={}", spelled(&group))));
        }
        for &interp in InterpName::value_variants() {
            assert!(qdm(&|p| p.interp = Some(interp.into())).contains(&format!("interp={}", spelled(&interp))));
        }
        for &extrapolation in ExtrapolationName::value_variants() {
            let options = qdm(&|p| p.extrapolation = Some(extrapolation.into()));
            assert!(options.contains(&format!("extrapolation={}", spelled(&extrapolation))), "{options}");
        }
        for &extrapolate in ExtrapolateName::value_variants() {
            let mut params = BiasCorrectionParams::new(BiasCorrectionName::QuantileMappingRegressor);
            params.extrapolate = Some(extrapolate.into());
            assert!(params.effective_options().contains(&format!("extrapolate={}", spelled(&extrapolate))));
        }
    }
}
