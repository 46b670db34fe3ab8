"""Reference outputs of scikit-downscale 0.1.5 and xsdba 0.7.0 on the real station series in
data/samples/stations_sdba, for the `downscale adjust` oracle tests.

    python stations.py {skdownscale|xsdba} OUTDIR

Each family runs in its own venv (see generate.sh). REF = NRCan (or AHCCD, which is in degC, has gaps and is stored
(location, time)), HIST = SIM = CanESM2; train 1981-2010, predict 2041-2070. The inputs are prepared exactly as
`downscale adjust` prepares them: float32 values converted to canonical units in float64 and rounded back to float32
(K; precipitation fluxes times 86400 to mm/day), every location adjusted independently. Writes
OUTDIR/<family>/stations.json: one entry per case with the command-line options, the files, and the expected
output per location in the output units (NaN as null).
"""
import json
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

warnings.filterwarnings("ignore")

SAMPLES = Path(__file__).resolve().parents[2] / "data" / "samples" / "stations_sdba"
FILES = {"nrcan": "nrcan_1950-2013.nc", "ahccd": "ahccd_1950-2013.nc", "canesm2": "CanESM2_1950-2100.nc"}
TRAIN, PREDICT = ("1981", "2010"), ("2041", "2070")
TO_CANONICAL = {"K": (1.0, 0.0), "degC": (1.0, 273.15), "kg m-2 s-1": (86400.0, 0.0), "mm s-1": (86400.0, 0.0),
                "mm day-1": (1.0, 0.0), "mm/d": (1.0, 0.0)}


def load(source, var, years):
    """(time, location) float64 values in canonical units, rounded through float32 like the Rust reader."""
    da = xr.open_dataset(SAMPLES / FILES[source])[var].transpose("time", "location")
    da = da.sel(time=slice(*years))
    scale, offset = TO_CANONICAL[da.attrs["units"]]
    values = (da.values.astype(np.float64) * scale + offset).astype(np.float32).astype(np.float64)
    # Noleap dates all exist in the standard calendar; a DatetimeIndex is what scikit-downscale groups by.
    index = pd.DatetimeIndex([pd.Timestamp(t.year, t.month, t.day) for t in da.time.values])
    return values, index, da.attrs["units"]


def output_units(ref_units):
    """Precipitation is written as mm day-1; other variables in REF's units."""
    return "mm day-1" if TO_CANONICAL[ref_units][0] != 1.0 or ref_units.startswith("mm") else ref_units


def to_output(values, ref_units):
    """Canonical float64 -> float32 (what the adjust step stores) -> REF's units, as the Rust writer does."""
    values = np.asarray(values, dtype=np.float64).astype(np.float32).astype(np.float64)
    if output_units(ref_units) == "mm day-1":
        return values.astype(np.float32)
    scale, offset = TO_CANONICAL[ref_units]
    return ((values - offset) / scale).astype(np.float32)


def case(name, method, var, args, ref_source, expected, ref_units):
    expected = to_output(expected, ref_units)
    return {
        "name": name,
        "method": method,
        "var": var,
        "ref": FILES[ref_source],
        "hist": FILES["canesm2"],
        "sim": FILES["canesm2"],
        "train": [int(TRAIN[0]), int(TRAIN[1])],
        "predict": [int(PREDICT[0]), int(PREDICT[1])],
        "args": args,
        "units": output_units(ref_units),
        # expected[location][time]
        "expected": [[None if np.isnan(v) else float(v) for v in expected[:, j]] for j in range(expected.shape[1])],
    }


def per_location(ref, hist, sim, fit_predict):
    return np.column_stack([fit_predict(ref[:, j], hist[:, j], sim[:, j]) for j in range(sim.shape[1])])


def per_month(ref, hist, sim, ref_index, sim_index, fit_predict):
    """An independent model per calendar month (the exact anchor for grouping by month)."""
    out = np.full(sim.shape, np.nan)
    for month in range(1, 13):
        r, s = ref_index.month == month, sim_index.month == month
        out[s] = per_location(ref[r], hist[r], sim[s], fit_predict)
    return out


def skdownscale_cases():
    import importlib.metadata

    import sklearn
    from skdownscale.pointwise_models import (BcsdPrecipitation, BcsdTemperature, EquidistantCdfMatcher,
                                              QuantileMapper, QuantileMappingReressor,
                                              TrendAwareQuantileMappingRegressor)

    col = lambda a: a.reshape(-1, 1)
    cases = []
    for var in ("tasmax", "pr"):
        ref, ref_index, ref_units = load("nrcan", var, TRAIN)
        hist, hist_index, _ = load("canesm2", var, TRAIN)
        sim, sim_index, _ = load("canesm2", var, PREDICT)

        def qm(detrend):
            return lambda r, h, s: np.ravel(QuantileMapper(detrend=detrend).fit(col(r)).transform(col(s)))

        add = lambda name, method, args, out: cases.append(case(name, method, var, args, "nrcan", out, ref_units))
        add(f"quantile-mapper {var}", "quantile-mapper", [], per_location(ref, hist, sim, qm(False)))
        add(f"quantile-mapper month {var}", "quantile-mapper", ["--group", "month"],
            per_month(ref, hist, sim, ref_index, sim_index, qm(False)))

        def frame(values, index):
            return pd.DataFrame({"x": values}, index=index)

        for order, flag in (("documented", []), ("carbonplan", ["--carbonplan-order"])):
            model = BcsdTemperature if var == "tasmax" else BcsdPrecipitation
            method = "bcsd-temperature" if var == "tasmax" else "bcsd-precipitation"

            def bcsd(r, h, s, model=model, order=order):
                x, y = (frame(h, hist_index), frame(r, ref_index))
                if order == "carbonplan":
                    x, y = frame(r, ref_index), frame(h, hist_index)
                return np.ravel(np.asarray(model(return_anoms=False).fit(x, y).predict(frame(s, sim_index))))

            add(f"{method} {order}", method, flag, per_location(ref, hist, sim, bcsd))

        if var == "tasmax":
            add("quantile-mapper detrend tasmax", "quantile-mapper", ["--detrend"],
                per_location(ref, hist, sim, qm(True)))
            for extrapolate in (None, "1to1", "min", "max", "both"):
                def qmr(r, h, s, extrapolate=extrapolate):
                    return np.ravel(QuantileMappingReressor(extrapolate=extrapolate).fit(col(h), r).predict(col(s)))
                label = extrapolate or "none"
                add(f"qm-regressor {label}", "qm-regressor", ["--extrapolate", label],
                    per_location(ref, hist, sim, qmr))

            def trend_aware(r, h, s):
                model = TrendAwareQuantileMappingRegressor(QuantileMappingReressor(extrapolate="both"))
                df = lambda a: pd.DataFrame(col(a))
                return np.ravel(np.asarray(model.fit(df(h), df(r)).predict(df(s))))

            add("qm-regressor trend-aware", "qm-regressor", ["--detrend", "--extrapolate", "both"],
                per_location(ref, hist, sim, trend_aware))

            def edcdfm(r, h, s):
                return np.ravel(EquidistantCdfMatcher(kind="difference").fit(col(h), r).predict(col(s)))

            add("edcdfm difference", "edcdfm", [], per_location(ref, hist, sim, edcdfm))
        else:
            def edcdfm_ratio(r, h, s):
                return np.ravel(EquidistantCdfMatcher(kind="ratio").fit(col(h), r).predict(col(s)))

            add("edcdfm ratio reference dry days", "edcdfm", ["--kind", "multiplicative", "--reference-dry-days"],
                per_location(ref, hist, sim, edcdfm_ratio))
    versions = {"scikit-downscale": importlib.metadata.version("scikit-downscale"), "scikit-learn": sklearn.__version__,
                "numpy": np.__version__, "pandas": pd.__version__, "xarray": xr.__version__}
    return cases, versions


def xsdba_cases():
    import scipy
    import xsdba

    classes = {"eqm": xsdba.EmpiricalQuantileMapping, "dqm": xsdba.DetrendedQuantileMapping,
               "qdm": xsdba.QuantileDeltaMapping}
    cases = []

    def run(method, ref, hist, sim, ref_index, sim_index, units, kind, nquantiles, interp, extrapolation,
            group="time", **adjust_kwargs):
        """One xsdba call over all locations at once (group 'time' unless given)."""
        def da(values, index):
            return xr.DataArray(values, dims=("time", "location"), coords={"time": _noleap(index)},
                                attrs={"units": units})

        trained = classes[method].train(da(ref, ref_index), da(hist, ref_index), nquantiles=nquantiles, kind=kind,
                                        group=group)
        out = trained.adjust(da(sim, sim_index), interp=interp, extrapolation=extrapolation, **adjust_kwargs)
        return out.transpose("time", "location").values

    for var, kind, units in (("tasmax", "+", "K"), ("pr", "*", "mm/d")):
        ref, ref_index, ref_units = load("nrcan", var, TRAIN)
        hist, _, _ = load("canesm2", var, TRAIN)
        sim, sim_index, _ = load("canesm2", var, PREDICT)
        kind_args = [] if kind == "+" else ["--kind", "multiplicative"]
        for method in classes:
            for nquantiles, interp, extrapolation in ((20, "nearest", "constant"), (50, "linear", "constant"),
                                                       (20, "linear", "nan")):
                args = kind_args + ["--nquantiles", str(nquantiles), "--interp", interp,
                                    "--extrapolation", extrapolation]
                out = run(method, ref, hist, sim, ref_index, sim_index, units, kind, nquantiles, interp,
                          extrapolation)
                cases.append(case(f"{method} {var} {nquantiles} {interp} {extrapolation}", method, var, args,
                                  "nrcan", out, ref_units))
            # Grouping by month: the exact anchor is one xsdba call per month subset (xsdba's own group='time.month' with 'nearest' interpolation differs by up to ~0.9 K).
            out = np.full(sim.shape, np.nan)
            for month in range(1, 13):
                r, s = ref_index.month == month, sim_index.month == month
                out[s] = run(method, ref[r], hist[r], sim[s], ref_index[r], sim_index[s], units, kind, 20,
                             "nearest", "constant")
            cases.append(case(f"{method} {var} month", method, var, kind_args + ["--group", "month"], "nrcan", out,
                              ref_units))
        # Day of year with a 31-day window. Only QDM's adjustment is xsdba's own here: its ranks and nodes are per
        # exact day of year, so xsdba's 2-D lookup reduces to the 1-D one (EQM and DQM are anchored on synthetic
        # data instead, see xsdba_synthetic.py). rank_window=False is the 0.7 default, given to keep it pinned.
        out = run("qdm", ref, hist, sim, ref_index, sim_index, units, kind, 20, "nearest", "constant",
                  group=xsdba.Grouper("time.dayofyear", window=31), rank_window=False)
        cases.append(case(f"qdm {var} dayofyear 31", "qdm", var,
                          kind_args + ["--group", "dayofyear", "--window", "31"], "nrcan", out, ref_units))
    # AHCCD as REF: degrees Celsius, missing values, stored (location, time).
    ref, ref_index, ref_units = load("ahccd", "tasmax", TRAIN)
    hist, _, _ = load("canesm2", "tasmax", TRAIN)
    sim, sim_index, _ = load("canesm2", "tasmax", PREDICT)
    for method in classes:
        out = run(method, ref, hist, sim, ref_index, sim_index, "K", "+", 20, "nearest", "constant")
        cases.append(case(f"{method} tasmax ahccd", method, "tasmax", [], "ahccd", out, ref_units))
    versions = {"xsdba": xsdba.__version__, "numpy": np.__version__, "scipy": scipy.__version__,
                "xarray": xr.__version__, "pandas": pd.__version__}
    return cases, versions


def _noleap(index):
    """The noleap time coordinate of dates that came from a noleap file."""
    import cftime
    return [cftime.DatetimeNoLeap(t.year, t.month, t.day) for t in index]


def main():
    family, outdir = sys.argv[1], Path(sys.argv[2])
    cases, versions = {"skdownscale": skdownscale_cases, "xsdba": xsdba_cases}[family]()
    target = outdir / family / "stations.json"
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(target, "w") as f:
        json.dump({"versions": versions, "cases": cases}, f, allow_nan=False)
    print(f"{target}: {len(cases)} cases")


if __name__ == "__main__":
    main()
