//! `downscale adjust`: bias-correct any NetCDF/Zarr variable with one of the library's methods, without a flow.

use std::process::ExitCode;

use anyhow::Result;
use clap::ValueEnum;
use downscale_data::{AttrValue, WriteOptions};
use downscale_methods::adjust::{BiasCorrection, SeriesGrouping, XsdbaSettings, adjust_points};
use downscale_methods::bcsd::FitOrder;
use downscale_methods::edcdfm::{DryPolicy, EdcdfmKind};
use downscale_methods::qm_regressor::Extrapolate;
use downscale_methods::xsdba::{AdjustOptions, Extrapolation, Grouping, Interp, Kind, TrainOptions};

use super::adjust_inputs::{AdjustInputs, Years};
use super::{Output, OutputFormat};

#[derive(clap::Args)]
pub struct Args {
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

#[derive(Clone, Copy, PartialEq, ValueEnum)]
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

#[derive(Clone, Copy, PartialEq, ValueEnum)]
enum KindName {
    Additive,
    Multiplicative,
}

#[derive(Clone, Copy, PartialEq, ValueEnum)]
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

pub fn run(args: Args) -> Result<ExitCode> {
    let output = Output::checked(&args.out, args.overwrite, &[OutputFormat::Netcdf, OutputFormat::Zarr])?;
    let train = Years::new("--train", &args.train)?;
    let predict = Years::new("--predict", &args.predict)?;
    // Options are checked against their ranges before any data is read; thresholds are in REF's units until the
    // inputs say how to convert them, which changes no range.
    method_from(&args, |threshold| threshold)?
        .check()
        .map_err(|error| anyhow::anyhow!("--{}: {}", error.option.replace('_', "-"), error.problem))?;
    let inputs = AdjustInputs::read(&args.var, [&args.reference, &args.hist, &args.sim], train, predict)?;
    let method = method_from(&args, |threshold| inputs.threshold_to_working_units(threshold))?;

    let adjusted = adjust_points(&method, &inputs.point_inputs(), args.seed.unwrap_or(0))
        .map_err(|e| anyhow::anyhow!("{}: {}: {}", input_files(&args), inputs.describe_point(e.point), e.error))?;

    let mut adjusted = inputs.output_array(adjusted);
    adjusted.attrs.insert("bias_correction_method".into(), AttrValue::Text(method.name().into()));
    adjusted.attrs.insert("bias_correction_options".into(), AttrValue::Text(options_text(&args)));
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

/// The library method for the command-line options, refusing options that the method would silently ignore;
/// `working_units` converts a threshold from REF's units to those the method works in.
fn method_from(args: &Args, working_units: impl Fn(f64) -> f64) -> Result<BiasCorrection> {
    let name = args.method.name();
    let family = Family::of(args.method);
    let given = |present: bool, option: &str, allowed: bool| -> Result<()> {
        if present && !allowed {
            anyhow::bail!("--method {name} does not take {option}");
        }
        Ok(())
    };
    let xsdba = family == Family::Xsdba;
    given(args.nquantiles.is_some(), "--nquantiles", xsdba)?;
    given(args.interp.is_some(), "--interp", xsdba)?;
    given(args.extrapolation.is_some(), "--extrapolation", xsdba)?;
    given(args.adapt_freq_thresh.is_some(), "--adapt-freq-thresh", xsdba)?;
    given(args.jitter_under_thresh.is_some(), "--jitter-under-thresh", xsdba)?;
    given(args.seed.is_some(), "--seed", xsdba)?;
    given(args.group == GroupName::Dayofyear, "--group dayofyear", xsdba)?;
    given(args.window.is_some(), "--window", args.group == GroupName::Dayofyear)?;
    given(args.group != GroupName::Time, "--group (BCSD always groups by calendar month)", family != Family::Bcsd)?;
    given(args.carbonplan_order, "--carbonplan-order", family == Family::Bcsd)?;
    let detrends = matches!(args.method, MethodName::QuantileMapper | MethodName::QmRegressor);
    given(args.detrend, "--detrend", detrends)?;
    given(args.extrapolate.is_some(), "--extrapolate", matches!(args.method, MethodName::QmRegressor))?;
    given(args.reference_dry_days, "--reference-dry-days", matches!(args.method, MethodName::Edcdfm))?;
    given(args.kind == KindName::Multiplicative, "--kind multiplicative", xsdba || args.method == MethodName::Edcdfm)?;

    let grouping = if args.group == GroupName::Month { SeriesGrouping::Month } else { SeriesGrouping::Time };
    let order = if args.carbonplan_order { FitOrder::CarbonPlan } else { FitOrder::Documented };
    let xsdba_settings = || XsdbaSettings {
        train: TrainOptions {
            nquantiles: args.nquantiles.unwrap_or(20),
            kind: if args.kind == KindName::Additive { Kind::Additive } else { Kind::Multiplicative },
            group: match args.group {
                GroupName::Time => Grouping::Time,
                GroupName::Month => Grouping::Month,
                GroupName::Dayofyear => Grouping::DayOfYear { window: args.window.unwrap_or(31) },
            },
            adapt_freq_thresh: args.adapt_freq_thresh.map(&working_units),
        },
        adjust: AdjustOptions {
            interp: match args.interp.unwrap_or(InterpName::Nearest) {
                InterpName::Nearest => Interp::Nearest,
                InterpName::Linear => Interp::Linear,
            },
            extrapolation: match args.extrapolation.unwrap_or(ExtrapolationName::Constant) {
                ExtrapolationName::Constant => Extrapolation::Constant,
                ExtrapolationName::Nan => Extrapolation::Nan,
            },
        },
        jitter_under: args.jitter_under_thresh.map(&working_units),
    };
    Ok(match args.method {
        MethodName::QuantileMapper => BiasCorrection::QuantileMapper { detrend: args.detrend, grouping },
        MethodName::QmRegressor => BiasCorrection::QuantileMappingRegressor {
            extrapolate: match args.extrapolate.unwrap_or(ExtrapolateName::None) {
                ExtrapolateName::None => Extrapolate::None,
                ExtrapolateName::OneToOne => Extrapolate::OneToOne,
                ExtrapolateName::Min => Extrapolate::Min,
                ExtrapolateName::Max => Extrapolate::Max,
                ExtrapolateName::Both => Extrapolate::Both,
            },
            trend_aware: args.detrend,
            grouping,
        },
        MethodName::Edcdfm => BiasCorrection::EquidistantCdfMatcher {
            kind: if args.kind == KindName::Additive { EdcdfmKind::Difference } else { EdcdfmKind::Ratio },
            dry_policy: if args.reference_dry_days { DryPolicy::Reference } else { DryPolicy::default() },
            grouping,
        },
        MethodName::BcsdTemperature => BiasCorrection::BcsdTemperature { order },
        MethodName::BcsdPrecipitation => BiasCorrection::BcsdPrecipitation { order },
        MethodName::Eqm => BiasCorrection::Eqm(xsdba_settings()),
        MethodName::Dqm => BiasCorrection::Dqm(xsdba_settings()),
        MethodName::Qdm => BiasCorrection::Qdm(xsdba_settings()),
    })
}

/// Which reference package a method comes from, which decides the options it takes.
#[derive(Clone, Copy, PartialEq)]
enum Family {
    ScikitDownscale,
    Bcsd,
    Xsdba,
}

impl Family {
    fn of(method: MethodName) -> Family {
        match method {
            MethodName::QuantileMapper | MethodName::QmRegressor | MethodName::Edcdfm => Family::ScikitDownscale,
            MethodName::BcsdTemperature | MethodName::BcsdPrecipitation => Family::Bcsd,
            MethodName::Eqm | MethodName::Dqm | MethodName::Qdm => Family::Xsdba,
        }
    }
}

/// The method's effective options (defaults included) as `key=value` pairs for the output's attributes, so a file
/// says how it was made.
fn options_text(args: &Args) -> String {
    let mut parts = Vec::new();
    match Family::of(args.method) {
        Family::Xsdba => {
            parts.push(format!("kind={}", args.kind.name()));
            parts.push(format!("group={}", args.group.name()));
            if args.group == GroupName::Dayofyear {
                parts.push(format!("window={}", args.window.unwrap_or(31)));
            }
            parts.push(format!("nquantiles={}", args.nquantiles.unwrap_or(20)));
            parts.push(format!("interp={}", args.interp.unwrap_or(InterpName::Nearest).name()));
            parts.push(format!("extrapolation={}", args.extrapolation.unwrap_or(ExtrapolationName::Constant).name()));
            if let Some(t) = args.adapt_freq_thresh {
                parts.push(format!("adapt_freq_thresh={t}"));
            }
            if let Some(t) = args.jitter_under_thresh {
                parts.push(format!("jitter_under_thresh={t}"));
            }
            if args.adapt_freq_thresh.is_some() || args.jitter_under_thresh.is_some() {
                parts.push(format!("seed={}", args.seed.unwrap_or(0)));
            }
        }
        Family::Bcsd => {
            parts.push("group=month".into());
            parts.push(format!("fit_order={}", if args.carbonplan_order { "carbonplan" } else { "documented" }));
        }
        Family::ScikitDownscale => {
            parts.push(format!("group={}", args.group.name()));
            match args.method {
                MethodName::QuantileMapper => parts.push(format!("detrend={}", args.detrend)),
                MethodName::QmRegressor => {
                    parts.push(format!("trend_aware={}", args.detrend));
                    parts.push(format!("extrapolate={}", args.extrapolate.unwrap_or(ExtrapolateName::None).name()));
                }
                _ => {
                    parts.push(format!("kind={}", args.kind.name()));
                    let dry = if args.reference_dry_days { "reference" } else { "zero-stays-zero" };
                    parts.push(format!("dry_days={dry}"));
                }
            }
        }
    }
    parts.join(" ")
}

/// The command-line spelling of an option value.
trait CommandLineName {
    fn name(&self) -> String;
}

impl<T: ValueEnum> CommandLineName for T {
    fn name(&self) -> String {
        self.to_possible_value().map(|v| v.get_name().to_string()).unwrap_or_default()
    }
}
