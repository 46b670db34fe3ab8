"""The CarbonPlan GARD-SV pipeline with scikit-downscale 0.1.5, on the raw input files, for the test that compares
`downscale run`'s `model` dataset with it (crates/downscale-cli/tests/gard_pipeline.rs).

    python gard_pipeline.py OBS GCM VARIABLE TRAIN0 TRAIN1 PREDICT0 PREDICT1 LATMIN LATMAX LONMIN LONMAX OUTDIR

Steps, as CarbonPlan's GARD flow runs them for one variable that is its own predictor:
1. the observations over the training years (converted to K, rounded to float32), cut to the box;
2. the model over the predicted years, cut to the box plus two model cells on each side;
3. interp_obs = bilinear(bilinear(obs -> model grid) -> obs grid), and the model bilinearly onto the obs grid, both
   with `cdo remapbil` (an implementation independent of this tool's, which is checked against it elsewhere);
4. at each observed cell: QuantileMapper(detrend=True).fit(interp_obs).transform(model), then
   PureRegression().fit(interp_obs, obs).predict(corrected model).

Writes OUTDIR/{pred,exceedance_prob,prediction_error}.f64 (days x lat x lon, little-endian, NaN where a cell has a
missing value in any series) and OUTDIR/pipeline.json (shape, dates, versions).
"""
import json
from importlib import metadata
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import sklearn
import xarray as xr
from skdownscale.pointwise_models import PureRegression, QuantileMapper

warnings.filterwarnings("ignore")
MARGIN = 2


def box(values, low, high, margin):
    """The index range of the cells whose centres lie in [low, high], widened by `margin` cells."""
    inside = np.nonzero((values >= low) & (values <= high))[0]
    return slice(max(inside[0] - margin, 0), min(inside[-1] + margin + 1, len(values)))


def years(da, first, last):
    return da.sel(time=(da.time.dt.year >= first) & (da.time.dt.year <= last))


def kelvin(da):
    scale_offset = {"K": 0.0, "degC": 273.15, "Celsius": 273.15}[da.attrs["units"]]
    out = (da.astype(np.float64) + scale_offset).astype(np.float32)
    out.attrs = {"units": "K"}
    return out


def write(da, path):
    da.to_dataset(name="v").to_netcdf(path, encoding={"v": {"_FillValue": np.float32(1e20), "dtype": "float32"}})


def remapbil(grid_file, source_file, out_file):
    subprocess.run(["cdo", "-s", "-O", f"remapbil,{grid_file}", source_file, out_file], check=True)
    return xr.open_dataset(out_file)["v"].load()


def cdo_version():
    shown = subprocess.run(["cdo", "-V"], capture_output=True, text=True)
    return (shown.stdout + shown.stderr).strip().splitlines()[0]


def main():
    obs_file, gcm_file, variable = sys.argv[1:4]
    train0, train1, predict0, predict1 = (int(v) for v in sys.argv[4:8])
    latmin, latmax, lonmin, lonmax = (float(v) for v in sys.argv[8:12])
    out = Path(sys.argv[12])
    out.mkdir(parents=True, exist_ok=True)

    obs = years(xr.open_dataset(obs_file)[variable], train0, train1)
    obs = kelvin(obs.isel(lat=box(obs.lat.values, latmin, latmax, 0), lon=box(obs.lon.values, lonmin, lonmax, 0)))
    gcm = years(xr.open_dataset(gcm_file)[variable], predict0, predict1)
    gcm = kelvin(gcm.isel(lat=box(gcm.lat.values, latmin, latmax, MARGIN), lon=box(gcm.lon.values, lonmin, lonmax, MARGIN)))
    for name, da in (("obs", obs), ("gcm", gcm)):
        write(da, out / f"{name}.nc")
    coarse = remapbil(out / "gcm.nc", out / "obs.nc", out / "obs_on_gcm.nc")
    write(coarse, out / "obs_on_gcm_clean.nc")
    interp_obs = remapbil(out / "obs.nc", out / "obs_on_gcm_clean.nc", out / "interp_obs.nc").values
    gcm_fine = remapbil(out / "obs.nc", out / "gcm.nc", out / "gcm_fine.nc").values
    y_all = obs.values

    days, rows, columns = gcm_fine.shape
    outputs = {name: np.full((days, rows, columns), np.nan) for name in ("pred", "exceedance_prob", "prediction_error")}
    modelled = 0
    for i in range(rows):
        for j in range(columns):
            x_train, y, x_pred = interp_obs[:, i, j].astype(np.float64), y_all[:, i, j].astype(np.float64), gcm_fine[:, i, j].astype(np.float64)
            if np.isnan(x_train).any() or np.isnan(y).any() or np.isnan(x_pred).any():
                continue
            corrected = QuantileMapper(detrend=True).fit(x_train[:, None]).transform(x_pred[:, None]).ravel()
            train = pd.DataFrame({variable: x_train})
            result = PureRegression().fit(train, y).predict(pd.DataFrame({variable: corrected}))
            for name in outputs:
                outputs[name][:, i, j] = result[name].values
            modelled += 1
    for name, values in outputs.items():
        values.astype("<f8").tofile(out / f"{name}.f64")
    dates = [str(t)[:10] for t in xr.open_dataset(out / "gcm_fine.nc").time.values]
    (out / "pipeline.json").write_text(json.dumps({
        "shape": [days, rows, columns], "dates": dates, "cells": modelled,
        "versions": {"scikit-downscale": metadata.version("scikit-downscale"), "scikit-learn": sklearn.__version__,
                     "numpy": np.__version__, "cdo": cdo_version()},
    }))


if __name__ == "__main__":
    main()
