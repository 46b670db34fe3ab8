"""Reference outputs of scikit-downscale 0.1.5 on synthetic single-point series, for the Rust tests of the
scikit-downscale family (crates/downscale-methods/tests/skdownscale_oracle.rs).

    python skdownscale_synthetic.py OUTDIR

Runs the real reference classes (in the scikit-downscale venv, see generate.sh) on synthetic cases (BCSD
temperature and precipitation, the tie rule, QM-RANK, QM-REG, EDCDFm and the trend-aware regressor) and writes
OUTDIR/skdownscale/synthetic.json:

- `series`: every input sample by name (NaN as null), referenced by name from the cases;
- `calendars`: month, day of year and days since 1970-01-01 of the BCSD training and prediction periods;
- one list of cases per method with its options and the reference output.

The recipes are fixed (seeded numpy Generators), so the file is deterministic for given package versions.
"""
import json
import math
import sys
import warnings
from importlib.metadata import version
from pathlib import Path

import numpy as np
import pandas as pd
from skdownscale.pointwise_models import (
    BcsdPrecipitation,
    BcsdTemperature,
    EquidistantCdfMatcher,
    QuantileMapper,
    QuantileMappingReressor,
    TrendAwareQuantileMappingRegressor,
)

warnings.filterwarnings("ignore")

TRAIN = pd.date_range("1981-01-01", "2010-12-31", freq="D")
PREDICT = pd.date_range("2015-01-01", "2044-12-31", freq="D")


def seasonal_temperature(index, offset, amplitude, trend_per_year, noise, rng):
    """offset + amplitude sin(2 pi (doy - 100) / 365.25) + trend (years since 1981) + N(0, noise)."""
    doy = index.dayofyear.values
    years = index.year.values - 1981 + (doy - 1) / 365.25
    seasonal = amplitude * np.sin(2 * np.pi * (doy - 100) / 365.25)
    return offset + seasonal + trend_per_year * years + rng.normal(0, noise, len(index))


def wet_days(index, p_wet, shape, scale, rng):
    """Bernoulli(p_wet) x Gamma(shape, scale): zero-inflated daily precipitation."""
    wet = rng.random(len(index)) < p_wet
    return np.where(wet, rng.gamma(shape, scale, len(index)), 0.0)


def bcsd_inputs():
    """(name, variable, obs, model historical, model future) of the BCSD rows 1-3."""
    rng = np.random.default_rng(0)
    temperature = (
        seasonal_temperature(TRAIN, 285.0, 10.0, 0.0, 3.0, rng),
        seasonal_temperature(TRAIN, 283.0, 12.0, 0.02, 4.0, rng),
        seasonal_temperature(PREDICT, 284.0, 12.0, 0.05, 4.0, rng),
    )
    rng = np.random.default_rng(1)
    precipitation = (
        wet_days(TRAIN, 0.45, 0.7, 6.0, rng),
        wet_days(TRAIN, 0.60, 0.6, 4.0, rng),
        wet_days(PREDICT, 0.62, 0.6, 4.6, rng),
    )
    # The tie case: a drier model (p_wet 0.3) than the obs (0.6), so model-dry days form large tie blocks.
    rng = np.random.default_rng(5)
    ties = (
        wet_days(TRAIN, 0.6, 0.7, 5.0, rng),
        wet_days(TRAIN, 0.3, 0.7, 5.0, rng),
        wet_days(PREDICT, 0.3, 0.7, 5.0, rng),
    )
    return [
        ("temperature", "temperature", *temperature),
        ("precipitation", "precipitation", *precipitation),
        ("precipitation_ties", "precipitation", *ties),
    ]


def column(values, index=None):
    return pd.DataFrame({"x": values}, index=index)


def flat(result):
    return np.asarray(result, dtype=np.float64).ravel()


def bits(values):
    return np.ascontiguousarray(values, dtype=np.float64).view(np.uint64).tolist()


def calendar(index):
    return {
        "months": index.month.tolist(),
        "days_of_year": index.dayofyear.tolist(),
        "days": (index.values.astype("datetime64[D]").astype(np.int64)).astype(float).tolist(),
    }


def main():
    out_dir = Path(sys.argv[1]) / "skdownscale"
    out_dir.mkdir(parents=True, exist_ok=True)
    series = {}

    def add(name, values):
        series[name] = np.asarray(values, dtype=np.float64)
        return name

    # Rows 1-3: BCSD point models in the library's order fit(model_hist, obs) and CarbonPlan's fit(obs, model_hist).
    bcsd = []
    for name, variable, obs, hist, future in bcsd_inputs():
        model = BcsdTemperature if variable == "temperature" else BcsdPrecipitation
        obs_df, hist_df, future_df = column(obs, TRAIN), column(hist, TRAIN), column(future, PREDICT)
        outputs = {
            "documented": flat(model(return_anoms=False).fit(hist_df, obs_df).predict(future_df)),
            "carbonplan": flat(model(return_anoms=False).fit(obs_df, hist_df).predict(future_df)),
        }
        entry = {
            "name": name,
            "variable": variable,
            "obs": add(f"{name}_obs", obs),
            "model_hist": add(f"{name}_model_hist", hist),
            "model_future": add(f"{name}_model_future", future),
            "train_calendar": "train",
            "predict_calendar": "predict",
            "outputs": outputs,
        }
        if name == "precipitation_ties":
            # The tie rule is checked bit for bit, so this case also carries its values as IEEE-754 bit patterns
            # (JSON integers): JSON parsers need not round 17-digit decimals correctly (serde_json's default
            # parser is off by one ulp on some).
            entry["exact_bits"] = {
                "obs": bits(obs),
                "model_future": bits(future),
                "documented": bits(outputs["documented"]),
            }
        bcsd.append(entry)

    # Rows 4-7: Gaussian samples with ramps, n_ref = 3000, n = 4500 (seed 3); then zero-inflated samples for the
    # EDCDFm ratio hazard from the same generator.
    rng = np.random.default_rng(3)
    n_train, n_predict = 3000, 4500
    obs = add("gauss_obs", rng.normal(10, 3, n_train) + np.linspace(0, 1, n_train))
    hist = add("gauss_hist", rng.normal(8, 4, n_train) + np.linspace(0, 1.5, n_train))
    future = add("gauss_future", rng.normal(9.5, 4.5, n_predict) + np.linspace(0, 3, n_predict))

    def zero_inflated(n, p_wet):
        return np.where(rng.random(n) < p_wet, rng.gamma(0.7, 5, n), 0.0)

    dry_hist = add("dry_hist", zero_inflated(n_train, 0.5))
    dry_obs = add("dry_obs", zero_inflated(n_train, 0.4))
    dry_future = add("dry_future", zero_inflated(n_predict, 0.5))
    for name in ("gauss_obs", "gauss_hist", "gauss_future"):
        add(f"{name}_abs", np.abs(series[name]))

    # Wide prediction (seed 4): values beyond both ends of the training range, and unequal training lengths, to
    # exercise every tail rule of QuantileMappingReressor.
    rng = np.random.default_rng(4)
    wide = add("wide_future", rng.normal(9, 8, 3000))
    add("gauss_obs_short", series[obs][:2000])
    add("gauss_hist_short", series[hist][:2000])

    # Detrend level case (seed 9): QuantileMapper(detrend=True) fitted on 1981-2010 obs, applied to 2015-2099.
    rng = np.random.default_rng(9)
    n_obs = len(pd.date_range("1981-01-01", "2010-12-31"))
    n_gcm = len(pd.date_range("2015-01-01", "2099-12-31"))
    level_obs = add("level_obs", 285 + 0.02 * np.arange(n_obs) / 365.25 + rng.normal(0, 3, n_obs))
    level_gcm = add("level_gcm", 288 + 0.05 * np.arange(n_gcm) / 365.25 + rng.normal(0, 4, n_gcm))

    def as_column(name):
        return series[name].reshape(-1, 1)

    quantile_mapper = []
    for name, reference, target in (("gauss", obs, future), ("level", level_obs, level_gcm)):
        for detrend in (False, True):
            if name == "level" and not detrend:
                continue
            output = QuantileMapper(detrend=detrend).fit(as_column(reference)).transform(as_column(target))
            quantile_mapper.append({
                "name": f"{name}_detrend_{detrend}".lower(),
                "detrend": detrend,
                "reference": reference,
                "x": target,
                "output": flat(output),
            })

    qm_regressor = []
    regressor_inputs = (
        ("gauss", hist, obs, future),
        ("wide", hist, obs, wide),
        ("wide_hist_longer", hist, "gauss_obs_short", wide),
        ("wide_hist_shorter", "gauss_hist_short", obs, wide),
    )
    for name, train_x, train_y, target in regressor_inputs:
        for extrapolate in (None, "1to1", "min", "max", "both"):
            model = QuantileMappingReressor(extrapolate=extrapolate).fit(as_column(train_x), series[train_y])
            qm_regressor.append({
                "name": f"{name}_{extrapolate}",
                "extrapolate": extrapolate,
                "hist": train_x,
                "reference": train_y,
                "x": target,
                "output": flat(model.predict(as_column(target))),
            })

    trend_aware = []
    for extrapolate in (None, "both"):
        model = TrendAwareQuantileMappingRegressor(QuantileMappingReressor(extrapolate=extrapolate))
        model.fit(pd.DataFrame(as_column(hist)), pd.DataFrame(as_column(obs)))
        trend_aware.append({
            "name": f"gauss_{extrapolate}",
            "extrapolate": extrapolate,
            "hist": hist,
            "reference": obs,
            "x": future,
            "output": flat(model.predict(pd.DataFrame(as_column(future)))),
        })

    edcdfm = []
    edcdfm_inputs = (
        ("gauss_difference", "difference", hist, obs, future),
        ("gauss_abs_ratio", "ratio", f"{hist}_abs", f"{obs}_abs", f"{future}_abs"),
        ("dry_ratio", "ratio", dry_hist, dry_obs, dry_future),
        ("dry_difference", "difference", dry_hist, dry_obs, dry_future),
    )
    for name, kind, train_x, train_y, target in edcdfm_inputs:
        with np.errstate(divide="ignore", invalid="ignore"):
            model = EquidistantCdfMatcher(kind=kind).fit(as_column(train_x), series[train_y])
            output = flat(model.predict(as_column(target)))
        edcdfm.append({"name": name, "kind": kind, "hist": train_x, "reference": train_y, "x": target, "output": output})

    document = {
        "generator": "scripts/oracles/skdownscale_synthetic.py",
        "versions": {
            package: version(package) for package in ("scikit-downscale", "scikit-learn", "numpy", "pandas")
        },
        "series": series,
        "calendars": {"train": calendar(TRAIN), "predict": calendar(PREDICT)},
        "bcsd": bcsd,
        "quantile_mapper": quantile_mapper,
        "qm_regressor": qm_regressor,
        "trend_aware": trend_aware,
        "edcdfm": edcdfm,
    }
    path = out_dir / "synthetic.json"
    path.write_text(json.dumps(to_json(document), allow_nan=False, separators=(",", ":")))
    print(f"wrote {path} ({path.stat().st_size / 1e6:.1f} MB)", file=sys.stderr)


def to_json(value):
    """Arrays to lists with NaN as null; floats keep their shortest repr. An infinity would be indistinguishable
    from NaN in JSON, so none may occur (none does in these cases)."""
    if isinstance(value, dict):
        return {key: to_json(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_json(item) for item in value]
    if isinstance(value, np.ndarray):
        if np.isinf(value).any():
            raise ValueError("an infinite value cannot be written as JSON")
        return [None if math.isnan(item) else item for item in value.tolist()]
    return value


if __name__ == "__main__":
    main()
