"""Reference outputs of xsdba 0.7.0 EmpiricalQuantileMapping, DetrendedQuantileMapping and QuantileDeltaMapping on
synthetic single-point series, for the Rust tests in crates/downscale-methods/tests/xsdba_oracle.rs.

    python xsdba_synthetic.py OUTDIR        (in the xsdba venv, see generate.sh)

Writes OUTDIR/xsdba/synthetic.json with:

- `versions`: xsdba, numpy, scipy, xarray (and pandas);
- `calendars`: month, day of year and days since 1970-01-01 of the training (1981-2010) and simulation (2031-2060)
  periods; `series`: every input sample by name, referenced by name from the cases (floats are written as
  strings, NaN as null: see `to_json`);
- `rng_check`: draws of numpy's legacy global RandomState after `np.random.seed(seed)`, so the test can check its
  MT19937 re-implementation before relying on it;
- `cases`: one per trained model (method, data, kind, number of quantiles, grouping, frequency adaptation) with the
  numpy seeds set before training and before every adjustment, xsdba's trained factors, and one output per
  (interp, extrapolation). An `extrapolation="nan"` output that equals the `constant` output except for values
  outside the trained range is stored as the indices where it is NaN and the constant output is not (checked
  here), which halves the file;
- `jitter`: `jitter_under_thresh` on a zero-inflated series.

Anchors (what each of our groupings is compared with):
- group "time": one xsdba call (`train` then `adjust`);
- per month: one xsdba call with group "time" per month subset, all trainings first (one seed), then all
  adjustments (one seed), which is the order in which the Rust code draws. The trained factors are xsdba's
  group="time.month" training, checked here to equal the per-month calls;
- day of year with a 31-day window: the trained factors are xsdba's `Grouper("time.dayofyear", window=31)` training.
  QDM's adjustment is xsdba's own (its ranks and nodes are per exact day of year, so its 2-D nearest/linear lookup
  in (quantile, day of year) reduces to the 1-D one). EQM's and DQM's adjustments in xsdba interpolate in 2-D
  (value, day of year) with scipy griddata, which takes neighbouring days' factors for a few tail values; their
  anchor applies each day of year's xsdba-trained factors with xsdba's own 1-D interpolation routine (and, for DQM,
  xsdba's scaling and PolyDetrend trend), and the difference to xsdba's 2-D output is recorded for information.

The recipes are fixed (seeded numpy Generators and legacy seeds), so the file is deterministic for given versions.
"""
import json
import math
import os
import sys
import warnings
from pathlib import Path

# xsdba orders the (time, window) dimensions of frequency adaptation with a Python set (`Grouper.filter_add_dims`),
# so with a windowed grouping the order of its random tie-break draws depends on string hashing, which differs from
# one process to the next. Fix the hash seed so that the draws come in time-major order (checked in `doy_case`).
if os.environ.get("PYTHONHASHSEED") != "0":
    os.execve(sys.executable, [sys.executable, *sys.argv], {**os.environ, "PYTHONHASHSEED": "0"})

import numpy as np
import pandas as pd
import scipy
import xarray as xr
import xsdba
from xsdba import utils as xsdba_utils
from xsdba.detrending import PolyDetrend

warnings.filterwarnings("ignore")

TRAIN = pd.date_range("1981-01-01", "2010-12-31", freq="D")
SIM = pd.date_range("2031-01-01", "2060-12-31", freq="D")
CLASSES = {
    "eqm": xsdba.EmpiricalQuantileMapping,
    "dqm": xsdba.DetrendedQuantileMapping,
    "qdm": xsdba.QuantileDeltaMapping,
}
ADJUSTMENTS = [(interp, extrapolation) for interp in ("nearest", "linear") for extrapolation in ("constant", "nan")]
NEAREST_ONLY = ADJUSTMENTS[:2]  # for the cases whose point is elsewhere (missing values, monthly adaptation)
DOY_WINDOW = 31


def years_since_1981(index):
    return (index.year.values - 1981) + index.dayofyear.values / 365.25


def seasonal(index):
    return np.sin(2 * np.pi * (index.dayofyear.values - 100) / 365.25)


def make_series():
    """Every input sample by name: (values, calendar name, units)."""
    rng = np.random.default_rng(7)
    out = {
        "tas_ref": (285 + 10 * seasonal(TRAIN) + rng.normal(0, 3, len(TRAIN)), "train", "K"),
        "tas_hist": (283 + 12 * seasonal(TRAIN) + rng.normal(0, 4, len(TRAIN)), "train", "K"),
        "tas_sim": (284 + 12 * seasonal(SIM) + 0.05 * years_since_1981(SIM) + rng.normal(0, 4, len(SIM)), "sim", "K"),
        "pr_ref": (rng.gamma(0.8, 5, len(TRAIN)) + 0.01, "train", "mm/d"),
        "pr_hist": (rng.gamma(0.6, 4, len(TRAIN)) + 0.01, "train", "mm/d"),
        "pr_sim": (rng.gamma(0.6, 4.6, len(SIM)) * (1 + 0.005 * years_since_1981(SIM)) + 0.01, "sim", "mm/d"),
    }

    # Zero-inflated precipitation with a drier model (p_wet 0.40 and 0.42) than the reference (0.55): with kind "*"
    # the lowest nodes have zero quantiles in both samples (0/0 factors), and frequency adaptation has work to do.
    rng = np.random.default_rng(8)

    def wet_days(index, p_wet, shape, scale, trend=0.0):
        wet = rng.random(len(index)) < p_wet
        return np.where(wet, rng.gamma(shape, scale, len(index)) * (1 + trend * years_since_1981(index)), 0.0)

    out["dry_ref"] = (wet_days(TRAIN, 0.55, 0.7, 6.0), "train", "mm/d")
    out["dry_hist"] = (wet_days(TRAIN, 0.40, 0.6, 4.0), "train", "mm/d")
    out["dry_sim"] = (wet_days(SIM, 0.42, 0.6, 4.6, 0.005), "sim", "mm/d")

    # Temperature with about 1 % missing values in every sample (NaN policy).
    rng = np.random.default_rng(9)
    for name in ("ref", "hist", "sim"):
        values, calendar, units = out[f"tas_{name}"]
        values = values.copy()
        values[rng.random(len(values)) < 0.01] = np.nan
        out[f"gaps_{name}"] = (values, calendar, units)
    return out


SERIES = make_series()
INDEX = {"train": TRAIN, "sim": SIM}


def data_array(name, mask=None):
    values, calendar, units = SERIES[name]
    index = INDEX[calendar]
    if mask is not None:
        values, index = values[mask], index[mask]
    return xr.DataArray(values, dims="time", coords={"time": index}, attrs={"units": units})


def calendar_facts(index):
    return {
        "months": index.month.tolist(),
        "days_of_year": index.dayofyear.tolist(),
        "days": index.values.astype("datetime64[D]").astype(np.int64).tolist(),
    }


def seed_or_none(seed):
    if seed is not None:
        np.random.seed(seed)


def train_kwargs(case):
    kwargs = {"nquantiles": case["nquantiles"], "kind": case["kind"]}
    if case["adapt_freq_thresh"] is not None:
        kwargs["adapt_freq_thresh"] = f"{case['adapt_freq_thresh']} mm/d"
    return kwargs


def trained_factors(ds, method, prop):
    """xsdba's trained dataset as plain arrays, one row per group (key 0 for the single group of 'time')."""
    if prop is None:
        keys = [0]
        rows = {name: ds[name].values.reshape(1, -1) for name in ("hist_q", "af")}
    else:
        keys = ds[prop].values.tolist()
        rows = {name: ds[name].transpose(prop, "quantiles").values for name in ("hist_q", "af")}
    out = {"keys": keys, "hist_q": list(rows["hist_q"]), "af": list(rows["af"])}
    scalars = (["scaling"] if method == "dqm" else []) + (["P0_ref", "P0_hist", "pth"] if "pth" in ds else [])
    for name in scalars:
        out[name.lower()] = np.atleast_1d(ds[name].values).astype(np.float64)
    return out


def store_outputs(case, outputs):
    """The outputs per (interp, extrapolation); a 'nan' output equal to its 'constant' twin outside the trained
    range is stored as the indices it adds NaN at."""
    stored = []
    for (interp, extrapolation), output in outputs.items():
        entry = {"interp": interp, "extrapolation": extrapolation}
        twin = outputs.get((interp, "constant"))
        if extrapolation == "nan" and twin is not None:
            added = np.isnan(output) & ~np.isnan(twin)
            rebuilt = np.where(added, np.nan, twin)
            if np.array_equal(rebuilt, output, equal_nan=True):
                entry["nan_added_to_constant"] = np.nonzero(added)[0].tolist()
                stored.append(entry)
                continue
        entry["output"] = output
        stored.append(entry)
    case["adjust"] = stored


def time_case(case, adjustments=ADJUSTMENTS):
    """group='time': one xsdba call."""
    cls = CLASSES[case["method"]]
    data = case["data"]
    seed_or_none(case["train_seed"])
    model = cls.train(data_array(f"{data}_ref"), data_array(f"{data}_hist"), group="time", **train_kwargs(case))
    case["trained"] = trained_factors(model.ds, case["method"], None)
    outputs = {}
    for interp, extrapolation in adjustments:
        seed_or_none(case["adjust_seed"])
        outputs[(interp, extrapolation)] = model.adjust(
            data_array(f"{data}_sim"), interp=interp, extrapolation=extrapolation
        ).values
    store_outputs(case, outputs)
    case["anchor"] = "xsdba train/adjust with group='time'"


def month_case(case, adjustments=ADJUSTMENTS):
    """Per month: one group='time' xsdba call per month subset; trained factors from group='time.month'."""
    cls = CLASSES[case["method"]]
    data = case["data"]
    train_months = TRAIN.month.values
    sim_months = SIM.month.values
    seed_or_none(case["train_seed"])
    models = {
        month: cls.train(
            data_array(f"{data}_ref", train_months == month),
            data_array(f"{data}_hist", train_months == month),
            group="time",
            **train_kwargs(case),
        )
        for month in range(1, 13)
    }
    seed_or_none(case["train_seed"])
    grouped = cls.train(
        data_array(f"{data}_ref"), data_array(f"{data}_hist"), group="time.month", **train_kwargs(case)
    )
    trained = trained_factors(grouped.ds, case["method"], "month")
    # The per-month calls and xsdba's own monthly grouping train identically (same draws in the same order).
    worst = 0.0
    for row, month in enumerate(trained["keys"]):
        separate = trained_factors(models[month].ds, case["method"], None)
        for name in ("hist_q", "af"):
            a, b = separate[name][0], trained[name][row]
            if not np.array_equal(np.isnan(a), np.isnan(b)):
                raise AssertionError(f"{case['name']}: NaN pattern of {name} differs in month {month}")
            worst = max(worst, float(np.nanmax(np.abs(a - b), initial=0.0)))
    case["trained"] = trained
    case["trained_time_month_vs_per_month_calls_max_diff"] = worst
    outputs = {}
    for interp, extrapolation in adjustments:
        out = np.full(len(SIM), np.nan)
        seed_or_none(case["adjust_seed"])
        for month in range(1, 13):
            subset = sim_months == month
            out[subset] = models[month].adjust(
                data_array(f"{data}_sim", subset), interp=interp, extrapolation=extrapolation
            ).values
        outputs[(interp, extrapolation)] = out
    store_outputs(case, outputs)
    case["anchor"] = "one xsdba train/adjust with group='time' per month subset (trainings first, then adjustments)"


def doy_case(case, adjust=True):
    """Day of year with a 31-day window (see the module docstring for the anchor)."""
    cls = CLASSES[case["method"]]
    data, kind = case["data"], case["kind"]
    group = xsdba.Grouper("time.dayofyear", window=DOY_WINDOW)
    if xsdba.Grouper.filter_add_dims(["time", "window"]) != ["time", "window"]:
        raise AssertionError("frequency adaptation would draw in window-major order (see PYTHONHASHSEED above)")
    seed_or_none(case["train_seed"])
    model = cls.train(data_array(f"{data}_ref"), data_array(f"{data}_hist"), group=group, **train_kwargs(case))
    case["trained"] = trained_factors(model.ds, case["method"], "dayofyear")
    if not adjust:
        case["anchor"] = "trained factors only"
        store_outputs(case, {})
        return
    sim = data_array(f"{data}_sim")
    sim_doy = SIM.dayofyear.values
    outputs = {}
    if case["method"] == "qdm":
        for interp, extrapolation in ADJUSTMENTS:
            seed_or_none(case["adjust_seed"])
            outputs[(interp, extrapolation)] = model.adjust(
                sim, interp=interp, extrapolation=extrapolation, rank_window=False
            ).values
        store_outputs(case, outputs)
        case["anchor"] = "xsdba train/adjust with Grouper('time.dayofyear', window=31), rank_window=False"
        return

    def per_doy(x, interp, extrapolation):
        """Each day of year's trained factors, interpolated by xsdba's own 1-D routine, applied to x."""
        out = np.full(len(x), np.nan)
        for doy in np.unique(sim_doy):
            members = sim_doy == doy
            hist_q = model.ds.hist_q.sel(dayofyear=doy).values
            af = model.ds.af.sel(dayofyear=doy).values
            factor = xsdba_utils._interp_on_quantiles_1D(x[members], hist_q, af, interp, extrapolation)
            out[members] = x[members] + factor if kind == "+" else x[members] * factor
        return out

    info = {}
    for interp, extrapolation in ADJUSTMENTS:
        if case["method"] == "eqm":
            out = per_doy(sim.values, interp, extrapolation)
        else:
            scaling = model.ds.scaling.sel(dayofyear=xr.DataArray(sim_doy, dims="time")).values
            scaled = sim.copy(data=sim.values + scaling if kind == "+" else sim.values * scaling)
            trend = PolyDetrend(degree=1, kind=kind, group=group).fit(scaled).ds.trend.values
            detrended = scaled.values - trend if kind == "+" else scaled.values * (1 / trend)
            adjusted = per_doy(detrended, interp, extrapolation)
            out = adjusted + trend if kind == "+" else adjusted * trend
        outputs[(interp, extrapolation)] = out
        direct = model.adjust(sim, interp=interp, extrapolation=extrapolation).values
        difference = np.abs(direct - out)
        both = ~np.isnan(difference)
        info[f"{interp} {extrapolation}"] = {
            "max_abs_diff": float(difference[both].max()),
            "fraction_differing_over_1e-9": float(np.mean(difference[both] > 1e-9)),
        }
    store_outputs(case, outputs)
    case["anchor"] = (
        "xsdba-trained day-of-year factors applied per day of year with xsdba's _interp_on_quantiles_1D"
        + (" after xsdba's scaling and PolyDetrend(degree=1) trend" if case["method"] == "dqm" else "")
    )
    case["xsdba_2d_griddata_adjust_vs_anchor"] = info


def make_case(name, method, data, kind, nquantiles, group, adapt_freq_thresh=None, train_seed=None, adjust_seed=None):
    return {
        "name": name,
        "method": method,
        "data": data,
        "kind": kind,
        "nquantiles": nquantiles,
        "group": group,
        "adapt_freq_thresh": adapt_freq_thresh,
        "train_seed": train_seed,
        "adjust_seed": adjust_seed,
    }


def all_cases():
    cases = []
    time, month, doy = {"type": "time"}, {"type": "month"}, {"type": "dayofyear", "window": DOY_WINDOW}
    # 2 data x 2 nquantiles x 3 methods, each adjusted with 2 interps x 2 extrapolations.
    for data, kind in (("tas", "+"), ("pr", "*")):
        for nquantiles in (20, 50):
            for method in CLASSES:
                case = make_case(f"{method} {data} {nquantiles} time", method, data, kind, nquantiles, time)
                time_case(case)
                cases.append(case)
    # Row 9: per month.
    for method in CLASSES:
        case = make_case(f"{method} tas 20 month", method, "tas", "+", 20, month)
        month_case(case)
        cases.append(case)
    case = make_case("eqm pr 50 month", "eqm", "pr", "*", 50, month)
    month_case(case)
    cases.append(case)
    # Day of year, 31-day window.
    for method in CLASSES:
        case = make_case(f"{method} tas 20 doy31", method, "tas", "+", 20, doy)
        doy_case(case)
        cases.append(case)
    # Dry days with kind '*': 0/0 factors dropped, infinite factors kept.
    for method in CLASSES:
        case = make_case(f"{method} dry 20 time", method, "dry", "*", 20, time)
        time_case(case)
        cases.append(case)
    # Frequency adaptation at 1 mm/d (hist is drier than ref, so hist is adapted in training and sim in adjust).
    for index, method in enumerate(CLASSES):
        case = make_case(f"{method} dry 20 time adapt", method, "dry", "*", 20, time, 1.0, 101 + index, 201 + index)
        time_case(case)
        cases.append(case)
    for index, method in enumerate(CLASSES):
        case = make_case(f"{method} dry 20 month adapt", method, "dry", "*", 20, month, 1.0, 111 + index, 211 + index)
        month_case(case, NEAREST_ONLY)
        cases.append(case)
    case = make_case("eqm dry 20 doy31 adapt", "eqm", "dry", "*", 20, doy, 1.0, 121, None)
    doy_case(case, adjust=False)
    cases.append(case)
    # Missing values everywhere.
    for method in CLASSES:
        case = make_case(f"{method} gaps 20 time", method, "gaps", "+", 20, time)
        time_case(case, NEAREST_ONLY)
        cases.append(case)
    return cases


def rng_check():
    out = []
    for seed in (0, 7, 101, 4294967295):
        np.random.seed(seed)
        sample = np.random.random_sample(6)
        uniform = np.random.uniform(0.1, 0.25, 4)
        out.append({"seed": seed, "random_sample": sample, "uniform_0.1_0.25": uniform})
    return out


def jitter_case():
    seed, threshold = 301, 0.5
    np.random.seed(seed)
    values = xsdba.processing.jitter_under_thresh(data_array("dry_sim"), f"{threshold} mm/d").values
    return {"series": "dry_sim", "threshold": threshold, "seed": seed, "output": values}


def main():
    out_dir = Path(sys.argv[1]) / "xsdba"
    out_dir.mkdir(parents=True, exist_ok=True)
    document = {
        "generator": "scripts/oracles/xsdba_synthetic.py",
        "versions": {
            "xsdba": xsdba.__version__,
            "numpy": np.__version__,
            "scipy": scipy.__version__,
            "xarray": xr.__version__,
            "pandas": pd.__version__,
        },
        "calendars": {"train": calendar_facts(TRAIN), "sim": calendar_facts(SIM)},
        "series": {name: {"values": values, "calendar": calendar} for name, (values, calendar, _) in SERIES.items()},
        "rng_check": rng_check(),
        "cases": all_cases(),
        "jitter": jitter_case(),
    }
    path = out_dir / "synthetic.json"
    path.write_text(json.dumps(to_json(document), allow_nan=False, separators=(",", ":")))
    print(f"wrote {path} ({path.stat().st_size / 1e6:.1f} MB)", file=sys.stderr)


def to_json(value):
    """Arrays and numpy scalars to plain JSON. Floats are written as strings of their shortest round-trip repr
    ("inf" and "-inf" for the infinite factors of kind '*' with a zero hist quantile), NaN as null: serde_json
    without its `float_roundtrip` feature may parse a JSON number one ulp off, which would change the inputs and
    hide exact agreement, while Rust's `str::parse::<f64>` is correctly rounded. Integers stay numbers."""
    if isinstance(value, dict):
        return {key: to_json(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_json(item) for item in value]
    if isinstance(value, np.ndarray):
        return [to_json(item) for item in value.tolist()]
    if isinstance(value, (np.floating, float)):
        value = float(value)
        if math.isnan(value):
            return None
        return repr(value)
    if isinstance(value, np.integer):
        return int(value)
    return value


if __name__ == "__main__":
    main()
