"""Reference outputs of the scikit-downscale 0.1.5 GARD point models (PureRegression, PureAnalog) and of statsmodels'
unregularised logistic regression, for the Rust tests of the GARD family.

    python skdownscale_gard.py OUTDIR

Runs in the scikit-downscale venv (see generate.sh; statsmodels is pinned there too) and writes
OUTDIR/skdownscale/gard.json:

- `cases`: one GARD model run each, with its options, inputs (`train_x` rows x features, `train_y`, `predict_x`) and
  the reference columns `pred`, `exceedance_prob`, `prediction_error` (NaN as null). When a logistic model is fitted
  (thresh set and both classes present) `exceedance_prob` comes from LogisticRegression(tol=1e-12, max_iter=10000),
  i.e. the optimum of scikit-learn's L2-penalised (C = 1) objective, and `exceedance_prob_default_tol` from the
  default LogisticRegression();
- `logit`: statsmodels' unpenalised maximum-likelihood Logit (Newton, tol 1e-12): `params` (intercept first) and
  P(y = 1) at `predict_x`.

AnalogRegression is not here: in the 0.1.5 release its predict fails under numpy >= 1.24 (a 1-element array stored
into an array element); skdownscale_head_analog_regression.py records it from the fixed source tree.

Inputs. Every input is a float32 value written with the shortest decimal that round-trips as float32, read back as
a double (`f32` below): the reference runs on exactly the doubles the JSON holds, and the files stay small.
- synthetic (numpy seed 11): two N(0, 1) features, y = a logistic-gated lognormal amount (zero on dry days), the
  first 2000 rows to train, the next 300 to predict; a "steep" variant is wet exactly where x1 > -0.3, so that
  PureAnalog with a threshold meets analogue sets that are all wet (with any dry analogue its mean and weighted
  mean are NaN, written as 0, and its prediction_error is NaN);
- stations (data/samples/stations_sdba, read as stations.py does: canonical units K and mm/day, through float32):
  NRCan at one location is y (tasmax at Amos, pr at Vancouver), CanESM2 at the same location gives X (both noleap:
  the common dates), train 1981-1990, predict from CanESM2 2041-2050. Precipitation features are cube roots of
  mm/day. The files have no tasmin, so the multi-feature case uses CanESM2 tasmax, tasmax of the previous day and
  the cube root of pr, and the analogue cases CanESM2 tasmax and tasmax of the previous day (continuous: no ties);
- Iberia (data/samples/iberia): the E-OBS cell 42.75N 8.25W (Galicia; tas to K, pr amount in mm = mm/day) is y;
  the nearest NCEP-R1 cells give X: tas to K; pr x 86400 to mm/day, whose -1.2e-10 kg m-2 s-1 "zeros" (a third of
  the days at this cell) are clipped to 0 before the cube root; for the analogue cases psl as hPa above 1013.25,
  ta850 in degC and hus850 in g/kg, so that Euclidean distances weigh them comparably and logistic fits on them are
  well conditioned (with psl in hPa and ta850 in K, scikit-learn's lbfgs stops far from the optimum). Train DJF
  1983-1992 (1982-12-01 .. 1992-02-29), predict DJF 1993-2002.

Analogue cases are checked to be well defined: no duplicate training rows, and for every prediction row the k-th and
(k+1)-th smallest squared Euclidean distances (numpy, all pairs) differ by more than 1e-9 relative, and the KDTree's
analogue set equals numpy's. Fitted logistic models are checked against an independent Newton solve of the same
penalised objective. The recipes are fixed, so the file is deterministic for given package versions.
"""
import json
import math
import sys
import warnings
from importlib.metadata import version
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

sys.path.insert(0, str(Path(__file__).resolve().parent))
from stations import load  # noqa: E402

IBERIA = Path(__file__).resolve().parents[2] / "data" / "samples" / "iberia"
IBERIA_CELL = (42.75, -8.25)
IBERIA_TRAIN = ("1982-12-01", "1992-02-29")
IBERIA_PREDICT = ("1992-12-01", "2002-02-28")
TIGHT = {"tol": 1e-12, "max_iter": 10000}
GAP = 1e-9


def f32(values):
    """float32, then the shortest decimal that round-trips as float32, read back as a double."""
    array = np.asarray(values, dtype=np.float64)
    flat = [float(str(v)) for v in array.astype(np.float32).ravel()]
    return np.array(flat, dtype=np.float64).reshape(array.shape)


def rows(*columns):
    return np.column_stack([np.asarray(c, dtype=np.float64) for c in columns])


# ----------------------------------------------------------------------------------------------------- inputs


def synthetic(steep=False):
    """(train_x, train_y, predict_x, predict_y): 2 Gaussian features, pr-like y (seed 11): wet with probability
    logistic(0.2 + x1 - 0.6 x2), amount lognormal. With steep, the same draws but wet exactly where x1 > -0.3, so
    that the analogues of rows with a large x1 are all wet."""
    rng = np.random.default_rng(11)
    n = 2300
    x = rng.normal(0.0, 1.0, (n, 2))
    p_wet = 1.0 / (1.0 + np.exp(-(0.2 + 1.0 * x[:, 0] - 0.6 * x[:, 1])))
    wet = rng.random(n) < p_wet
    if steep:
        wet = x[:, 0] > -0.3
    amount = np.exp(0.5 + 0.6 * x[:, 0] + 0.3 * x[:, 1] + 0.5 * rng.normal(0.0, 1.0, n))
    x, y = f32(x), f32(np.where(wet, amount, 0.0))
    return x[:2000], y[:2000], x[2000:], y[2000:]


def station(source, var, years, location, lag=False):
    """One location's series over whole `years` (canonical units, float32 values), with its dates. With lag, the
    previous day's value instead (the year before is read for the first day)."""
    if not lag:
        values, index, _ = load(source, var, years)
        return values[:, location], index
    values, index, _ = load(source, var, (str(int(years[0]) - 1), years[1]))
    keep = index >= pd.Timestamp(f"{years[0]}-01-01")
    shifted = np.roll(values[:, location], 1)
    return shifted[keep], index[keep]


def common(y, y_index, *columns):
    """y and the feature columns on the dates they share (columns are (values, index) pairs on one calendar)."""
    dates = y_index
    for _, index in columns:
        dates = dates.intersection(index)
    pick = lambda values, index: values[index.get_indexer(dates)]
    assert len(dates) > 0
    return pick(y, y_index), rows(*(pick(v, i) for v, i in columns)), dates


def cbrt(values):
    return f32(np.cbrt(np.asarray(values, dtype=np.float64)))


STATION_TRAIN, STATION_PREDICT = ("1981", "1990"), ("2041", "2050")
VANCOUVER, AMOS = 0, 2


def station_case(y_var, features, location, train=STATION_TRAIN, predict=STATION_PREDICT):
    """(train_x, train_y, predict_x): y = NRCan y_var; features from CanESM2: "tasmax", "tasmax_lag1", "cbrt_pr"."""
    def column(feature, years):
        var = "pr" if feature == "cbrt_pr" else "tasmax"
        values, index = station("canesm2", var, years, location, lag=feature == "tasmax_lag1")
        return (cbrt(values) if feature == "cbrt_pr" else f32(values)), index

    y, y_index = station("nrcan", y_var, train, location)
    train_y, train_x, _ = common(f32(y), y_index, *(column(f, train) for f in features))
    predict_columns = [column(f, predict) for f in features]
    _, predict_x, _ = common(predict_columns[0][0], predict_columns[0][1], *predict_columns)
    return train_x, train_y, predict_x


def iberia_series(kind, var, level_name=None):
    """(values over time, dates) at the E-OBS cell (kind "obs") or the NCEP-R1 cell nearest to it."""
    folder = {"obs": "obs_E-OBS", "ncep": "reanalysis_NCEP-R1"}[kind]
    (path,) = (IBERIA / folder).glob(f"{var}_day_*.nc")
    da = xr.open_dataset(path)[level_name or var]
    lat, lon = IBERIA_CELL
    da = da.sel(lat=lat, lon=lon) if kind == "obs" else da.sel(lat=lat, lon=lon, method="nearest")
    values = da.values.astype(np.float64)
    assert np.all(np.abs(values) < 1e10), "a missing value at the chosen cell"
    return values, pd.DatetimeIndex(da.time.values)


NEGATIVE_NCEP_PR = {}


def iberia_feature(feature):
    """NCEP-R1 predictor at the nearest cell in canonical-like units, as float32 values, with its dates."""
    if feature == "tas":
        values, index = iberia_series("ncep", "tas")
        return f32(values + 273.15), index
    if feature == "cbrt_pr":
        values, index = iberia_series("ncep", "pr")
        mm_day = f32(values * 86400.0)
        # NCEP-R1 stores its dry days as -1.2e-10 kg m-2 s-1 (a packing offset): clip to 0 before the cube root.
        NEGATIVE_NCEP_PR["count"], NEGATIVE_NCEP_PR["of"] = int((mm_day < 0).sum()), len(mm_day)
        NEGATIVE_NCEP_PR["min"] = float(mm_day.min())
        return cbrt(np.maximum(mm_day, 0.0)), index
    if feature == "psl_anomaly_hpa":
        values, index = iberia_series("ncep", "psl")
        return f32(f32(values) / 100.0 - 1013.25), index
    if feature == "ta850_degc":
        values, index = iberia_series("ncep", "ta850", "ta")
        return f32(values - 273.15), index
    if feature == "hus850_gkg":
        values, index = iberia_series("ncep", "hus850", "hus")
        return f32(f32(values) * 1000.0), index
    raise ValueError(feature)


def iberia_case(y_var, features, n_predict=None):
    """(train_x, train_y, predict_x): y = E-OBS y_var (tas in K, pr in mm/day) at the cell; X = NCEP-R1 features."""
    y, index = iberia_series("obs", y_var)
    y = f32(y + 273.15) if y_var == "tas" else f32(y)
    columns = [iberia_feature(f) for f in features]
    out = []
    for start, end in (IBERIA_TRAIN, IBERIA_PREDICT):
        window = (index >= pd.Timestamp(start)) & (index <= pd.Timestamp(end))
        out.append(common(y[window], index[window], *columns)[:2])
    (train_y, train_x), (_, predict_x) = out
    if n_predict is not None:
        predict_x = predict_x[:n_predict]
    return train_x, train_y, predict_x


# ----------------------------------------------------------------------------------------------------- checks


def analogue_gap(train_x, predict_x, k, kdtree=None):
    """Smallest relative gap between the k-th and (k+1)-th smallest squared distances over the prediction rows;
    asserts it exceeds GAP, that training rows are distinct, and that the KDTree (if given) finds the same sets."""
    train_x, predict_x = np.asarray(train_x), np.asarray(predict_x)
    assert len(np.unique(train_x, axis=0)) == len(train_x), "duplicate training rows"
    assert k < len(train_x)
    smallest = np.inf
    for start in range(0, len(predict_x), 500):
        block = predict_x[start:start + 500]
        d = np.zeros((len(block), len(train_x)))
        for f in range(train_x.shape[1]):
            d += (block[:, f, None] - train_x[None, :, f]) ** 2
        part = np.partition(d, (k - 1, k), axis=1)
        gap = (part[:, k] - part[:, k - 1]) / np.maximum(part[:, k], np.finfo(float).tiny)
        smallest = min(smallest, float(gap.min()))
        assert gap.min() > GAP, f"analogue tie at the k-th boundary (relative gap {gap.min():.3g}, k = {k})"
        if kdtree is not None:
            expected = np.sort(np.argpartition(d, k - 1, axis=1)[:, :k], axis=1)
            found = np.sort(kdtree.query(block, k=k, return_distance=False), axis=1)
            assert np.array_equal(expected, found), "the KDTree analogue set differs from numpy's"
    return smallest


def penalised_logit(x, y, c=1.0):
    """Newton solve of scikit-learn's LogisticRegression objective: sum of log-losses + ||w||^2 / (2 C), the
    intercept unpenalised. Returns (intercept, w...)."""
    a = np.column_stack([np.ones(len(x)), x])
    penalty = np.full(a.shape[1], 1.0 / c)
    penalty[0] = 0.0
    beta = np.zeros(a.shape[1])
    for _ in range(200):
        p = 1.0 / (1.0 + np.exp(-(a @ beta)))
        grad = a.T @ (p - y) + penalty * beta
        hess = (a * (p * (1 - p))[:, None]).T @ a + np.diag(penalty)
        step = np.linalg.solve(hess, grad)
        beta -= step
        if np.max(np.abs(step) / np.maximum(np.abs(beta), 1.0)) < 1e-14:
            break
    return beta


def logistic_probability(beta, x):
    return 1.0 / (1.0 + np.exp(-(beta[0] + np.asarray(x) @ beta[1:])))


def default_tol_warnings(run):
    """run() with warnings recorded; returns (result, number of ConvergenceWarnings)."""
    from sklearn.exceptions import ConvergenceWarning
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = run()
    return result, sum(issubclass(w.category, ConvergenceWarning) for w in caught)


# ----------------------------------------------------------------------------------------------------- cases


def columns(output):
    output = np.asarray(output, dtype=np.float64)
    assert output.shape[1] == 3
    return {"pred": output[:, 0], "exceedance_prob": output[:, 1], "prediction_error": output[:, 2]}


def pure_regression(name, thresh, train_x, train_y, predict_x, notes):
    from skdownscale.pointwise_models import PureRegression

    case = {"name": name, "model": "PureRegression", "thresh": thresh, "n_analogs": None, "kind": None,
            "train_x": train_x, "train_y": train_y, "predict_x": predict_x}
    logistic_kwargs = dict(TIGHT) if thresh is not None else None
    tight = PureRegression(thresh=thresh, logistic_kwargs=logistic_kwargs).fit(train_x, train_y)
    case.update(columns(tight.predict(predict_x)))
    if thresh is not None and hasattr(tight, "logistic_model_"):
        default, n_warn = default_tol_warnings(
            lambda: PureRegression(thresh=thresh).fit(train_x, train_y).predict(predict_x))
        default = columns(default)
        assert np.array_equal(default["pred"], case["pred"])
        case["exceedance_prob_default_tol"] = default["exceedance_prob"]
        beta = penalised_logit(train_x, (train_y > thresh).astype(float))
        newton = np.max(np.abs(logistic_probability(beta, predict_x) - case["exceedance_prob"]))
        notes.append(f"{name}: tight-tol vs Newton max |dp| {newton:.2e}; default tol max |dp| "
                     f"{np.max(np.abs(default['exceedance_prob'] - case['exceedance_prob'])):.2e}"
                     f" ({n_warn} ConvergenceWarning)")
    elif thresh is not None:
        notes.append(f"{name}: one class only, fell back to plain regression (thresh mutated to {tight.thresh})")
    return case


def pure_analog(name, kind, thresh, train_x, train_y, predict_x, notes, n_analogs=50):
    from skdownscale.pointwise_models import PureAnalog

    model = PureAnalog(n_analogs=n_analogs, kind=kind, thresh=thresh).fit(train_x, train_y)
    k = 1 if kind == "best_analog" else n_analogs
    gap = analogue_gap(train_x, predict_x, k, model.kdtree_)
    if kind == "sample_analogs":
        np.random.seed(0)
    with np.errstate(invalid="ignore"):
        out = columns(model.predict(predict_x))
    nan = int(np.isnan(out["prediction_error"]).sum())
    notes.append(f"{name}: k = {k}, min relative distance gap {gap:.3g}"
                 + (f"; {nan}/{len(predict_x)} prediction_error NaN" if nan else ""))
    return {"name": name, "model": "PureAnalog", "thresh": thresh, "n_analogs": n_analogs, "kind": kind,
            "train_x": train_x, "train_y": train_y, "predict_x": predict_x, **out}


def logit_case(name, train_x, train_y, predict_x, notes):
    import statsmodels.api as sm

    result = sm.Logit(train_y, sm.add_constant(train_x, has_constant="add")).fit(
        method="newton", tol=1e-12, maxiter=200, disp=0)
    assert result.mle_retvals["converged"], name
    params = np.asarray(result.params, dtype=np.float64)
    probability = np.asarray(result.predict(sm.add_constant(predict_x, has_constant="add")), dtype=np.float64)
    assert 0.05 < train_y.mean() < 0.95
    notes.append(f"{name}: {len(train_y)} rows, wet fraction {train_y.mean():.3f}, params {params.tolist()}, "
                 f"{result.mle_retvals['iterations']} Newton iterations")
    return {"name": name, "train_x": train_x, "train_y": train_y.astype(int).tolist(), "predict_x": predict_x,
            "params": params, "probability": probability}


def main():
    warnings.filterwarnings("ignore")
    out_dir = Path(sys.argv[1]) / "skdownscale"
    out_dir.mkdir(parents=True, exist_ok=True)
    notes, cases = [], []

    syn = synthetic()
    train_x, train_y, predict_x, _ = syn
    assert 0.3 < (train_y > 0).mean() < 0.7
    for thresh in (None, 0):
        cases.append(pure_regression(f"synthetic-pure-regression-thresh-{thresh}".lower(), thresh,
                                     train_x, train_y, predict_x, notes))

    tasmax = station_case("tasmax", ["tasmax"], AMOS)
    cases.append(pure_regression("stations-tasmax-pure-regression", None, *tasmax, notes))
    cases.append(pure_regression("stations-tasmax-pure-regression-thresh-0-one-class", 0, *tasmax, notes))
    pr = station_case("pr", ["cbrt_pr"], VANCOUVER)
    for thresh in (None, 0):
        cases.append(pure_regression(f"stations-pr-pure-regression-thresh-{thresh}".lower(), thresh, *pr, notes))
    multi = station_case("tasmax", ["tasmax", "tasmax_lag1", "cbrt_pr"], AMOS)
    cases.append(pure_regression("stations-tasmax-3-features-pure-regression", None, *multi, notes))
    iberia_tas = iberia_case("tas", ["tas"])
    cases.append(pure_regression("iberia-tas-pure-regression", None, *iberia_tas, notes))
    iberia_pr = iberia_case("pr", ["cbrt_pr"])
    for thresh in (None, 0):
        cases.append(pure_regression(f"iberia-pr-pure-regression-thresh-{thresh}".lower(), thresh, *iberia_pr,
                                     notes))
    notes.append(f"NCEP-R1 pr below zero (clipped to 0): {NEGATIVE_NCEP_PR}")

    analog_tasmax = station_case("tasmax", ["tasmax", "tasmax_lag1"], AMOS)
    for kind in ("best_analog", "mean_analogs", "weight_analogs", "sample_analogs"):
        cases.append(pure_analog(f"synthetic-pure-analog-{kind}", kind, None, train_x, train_y, predict_x, notes))
        cases.append(pure_analog(f"stations-tasmax-pure-analog-{kind}", kind, None, *analog_tasmax, notes))
    analog_pr = iberia_case("pr", ["psl_anomaly_hpa", "ta850_degc", "hus850_gkg"])
    steep_x, steep_y, steep_predict, _ = synthetic(steep=True)
    for kind in ("mean_analogs", "weight_analogs"):
        cases.append(pure_analog(f"iberia-pr-pure-analog-{kind}-thresh-0", kind, 0, *analog_pr, notes))
        cases.append(pure_analog(f"synthetic-steep-wet-pure-analog-{kind}-thresh-0", kind, 0, steep_x, steep_y,
                                 steep_predict, notes))

    logit = [logit_case("synthetic-wet", train_x, (train_y > 0).astype(float), predict_x, notes)]
    logit_x, logit_y, logit_predict = station_case("pr", ["cbrt_pr", "tasmax"], VANCOUVER)
    logit.append(logit_case("stations-pr-wet-cbrt-pr-tasmax", logit_x, (logit_y > 0).astype(float), logit_predict,
                            notes))

    names = [c["name"] for c in cases] + [c["name"] for c in logit]
    assert len(set(names)) == len(names)
    document = {
        "versions": {package: version(package)
                     for package in ("scikit-downscale", "scikit-learn", "numpy", "statsmodels")},
        "cases": cases,
        "logit": logit,
    }
    path = out_dir / "gard.json"
    path.write_text(json.dumps(to_json(document), allow_nan=False, separators=(",", ":")))
    for case in cases:
        notes.append(f"{case['name']}: n_train {len(case['train_y'])}, n_predict {len(case['predict_x'])}, "
                     f"n_features {np.shape(case['train_x'])[1]}")
    print("\n".join(notes), file=sys.stderr)
    print(f"wrote {path} ({path.stat().st_size / 1e6:.1f} MB)", file=sys.stderr)


def to_json(value):
    """Arrays to (nested) lists with NaN as null; floats keep their shortest repr. An infinity would be
    indistinguishable from NaN in JSON, so none may occur."""
    if isinstance(value, dict):
        return {key: to_json(item) for key, item in value.items()}
    if isinstance(value, np.ndarray):
        return to_json(value.tolist())
    if isinstance(value, (list, tuple)):
        return [to_json(item) for item in value]
    if isinstance(value, (np.floating, np.integer)):
        value = value.item()
    if isinstance(value, float):
        if math.isinf(value):
            raise ValueError("an infinite value cannot be written as JSON")
        return None if math.isnan(value) else value
    return value


if __name__ == "__main__":
    main()
