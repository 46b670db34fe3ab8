"""The BCSD flow of `downscale run` in its `bcsd_point` variant, done the way a user of the Python stack would do it
on one core: cdo `remapbil` for the three regrids, xarray for the monthly spatial anomalies, the land mask, the
monthly and annual summaries and the NetCDF outputs, and scikit-downscale's `BcsdTemperature` point model (fit on
the model's historical run and the coarsened observations, in the library's documented order) per model cell.
`downscale bench flow` runs it on its scaled-up case and compares the cost per core with its own run.

    python bench_bcsd_flow.py OBS HIST FUTURE TRAIN_FIRST TRAIN_LAST PREDICT_FIRST PREDICT_LAST OUTDIR POINTS

OBS, HIST and FUTURE are daily tas (time, lat, lon) NetCDF files: observations in degC on the fine grid, the model's
historical and scenario runs in K on its grid. The years are calendar years, inclusive.

The steps follow the flow's tasks: the observations of the training years are coarsened onto the model grid (the
model's cells over the observations' box, plus two cells of margin), interpolated back onto the fine grid, and the
mean difference of fine and interpolated observations per calendar month is the spatial anomaly; the model cells
are bias-corrected one by one; the corrected field is interpolated onto the fine grid, the anomaly of each day's
month added back, and cells where the observations are always missing set to NaN; monthly and annual means are
taken, and the daily, monthly and annual fields written to OUTDIR as daily.nc, monthly.nc and annual.nc.

One model cell takes a noticeable fraction of a second in scikit-downscale, so only POINTS of the cells a user would
correct (those whose coarsened observations are not missing) are corrected, the ones nearest the middle of the
domain, and that step's time is scaled to all of them; the other cells stay NaN, so the outputs hold the downscaled
values only where every coarse cell the fine grid is interpolated from was corrected. cdo reads a NetCDF file chunked
as whole series very slowly, so the observations are first copied to a file chunked by day, untimed: that is not a
step a user of ordinary files would take.

Prints one JSON object on stdout: {"steps": {name: wall seconds}, "cpu_steps": {name: CPU seconds, this process and
cdo}, "output_cell_days": days x lat x lon of the daily output, "points": corrected cells, "cells": cells to correct}.
"""
import json
import resource
import subprocess
import sys
import time
import warnings
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr
from skdownscale.pointwise_models import BcsdTemperature

warnings.filterwarnings("ignore")

# Model cells kept around the observations' box, as the flow keeps them (bilinear interpolation back onto the box
# then has neighbours everywhere).
MODEL_MARGIN = 2

# degC to K, the flow's canonical temperature unit.
KELVIN = 273.15

steps = {}
cpu_steps = {}


def cpu_seconds():
    """User and system CPU seconds of this process and of the finished cdo children."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


@contextmanager
def step(name, scale=1.0):
    """Times the block as step `name`, its wall and CPU seconds multiplied by `scale`."""
    wall, cpu = time.perf_counter(), cpu_seconds()
    yield
    steps[name] = (time.perf_counter() - wall) * scale
    cpu_steps[name] = (cpu_seconds() - cpu) * scale


def cdo(*args):
    # cdo's HDF5 library reports every attribute it looks for and does not find on stderr.
    subprocess.run(["cdo", "-s", "-L", *map(str, args)], check=True, stderr=subprocess.DEVNULL)


def model_window(model, obs):
    """The model cells whose centres lie in the observations' box (their cells' edges), plus the margin."""
    window = {}
    for dim in ("lat", "lon"):
        fine = obs[dim].values
        half = (fine[1] - fine[0]) / 2
        centres = model[dim].values
        inside = np.flatnonzero((centres >= fine[0] - half) & (centres <= fine[-1] + half))
        window[dim] = slice(max(inside[0] - MODEL_MARGIN, 0), inside[-1] + MODEL_MARGIN + 1)
    return window


def grid_description(da, path):
    """A cdo grid description of `da`'s regular lat/lon grid."""
    lines = ["gridtype = lonlat", f"xsize = {da.sizes['lon']}", f"ysize = {da.sizes['lat']}"]
    lines += [f"xvals = {' '.join(map(repr, da.lon.values.tolist()))}"]
    lines += [f"yvals = {' '.join(map(repr, da.lat.values.tolist()))}"]
    path.write_text("\n".join(lines) + "\n")


def sampled_cells(valid, lat, lon, points):
    """The `points` valid cells nearest the middle of the grid, by distance in degrees."""
    rows, columns = np.nonzero(valid)
    distance = np.hypot(lat[rows] - lat.mean(), lon[columns] - lon.mean())
    nearest = np.argsort(distance, kind="stable")[:points]
    return list(zip(rows[nearest].tolist(), columns[nearest].tolist()))


def column(values, index):
    # The flow computes each cell in f64 from the f32 inputs; so does this.
    return pd.DataFrame({"tas": values.astype(np.float64)}, index=index)


def main():
    obs_file, hist_file, future_file = sys.argv[1:4]
    train = [int(y) for y in sys.argv[4:6]]
    predict = [int(y) for y in sys.argv[6:8]]
    out = Path(sys.argv[8])
    points = int(sys.argv[9])
    out.mkdir(parents=True, exist_ok=True)

    # Untimed preparation: the observations chunked by day, and the model grid the flow cuts out.
    obs_days = out / "obs_by_day.nc"
    with xr.open_dataset(obs_file) as ds:
        ds["tas"].encoding.update(chunksizes=(1, ds.sizes["lat"], ds.sizes["lon"]))
        ds.to_netcdf(obs_days)
        fine_grid = ds["tas"].isel(time=0, drop=True)
    with xr.open_dataset(hist_file) as ds:
        window = model_window(ds, fine_grid)
        grid_description(ds["tas"].isel(window), out / "model_grid.txt")
    train_years = slice(str(train[0]), str(train[1]))
    predict_years = slice(str(predict[0]), str(predict[1]))

    with step("coarsen obs (cdo)"):
        cdo(f"-remapbil,{out / 'model_grid.txt'}", f"-selyear,{train[0]}/{train[1]}", obs_days, out / "coarse.nc")

    with step("interpolate obs (cdo)"):
        cdo(f"-remapbil,{obs_days}", out / "coarse.nc", out / "interpolated.nc")

    with step("anomalies (xarray)"):
        obs = xr.open_dataset(obs_days)["tas"].sel(time=train_years).load() + KELVIN
        interpolated = xr.open_dataset(out / "interpolated.nc")["tas"].load() + KELVIN
        anomalies = (obs - interpolated).groupby("time.month").mean("time")
        land = obs.notnull().any("time")

    with step("load model (xarray)"):
        coarse = xr.open_dataset(out / "coarse.nc")["tas"].load() + KELVIN
        hist = xr.open_dataset(hist_file)["tas"].isel(window).sel(time=train_years).load()
        future = xr.open_dataset(future_file)["tas"].isel(window).sel(time=predict_years).load()
        # Models stamp days at noon, observations at midnight.
        hist["time"] = hist.indexes["time"].floor("D")
        future["time"] = future.indexes["time"].floor("D")

    valid = (coarse.notnull().all("time") & hist.notnull().all("time") & future.notnull().all("time")).values
    cells = sampled_cells(valid, coarse.lat.values, coarse.lon.values, points)
    corrected = xr.full_like(future, np.nan)
    hist_index, coarse_index, future_index = hist.indexes["time"], coarse.indexes["time"], future.indexes["time"]
    with step("bcsd per cell (sampled, scaled)", scale=int(valid.sum()) / len(cells)):
        for i, j in cells:
            model = BcsdTemperature(return_anoms=False).fit(
                column(hist.values[:, i, j], hist_index), column(coarse.values[:, i, j], coarse_index)
            )
            corrected.values[:, i, j] = model.predict(column(future.values[:, i, j], future_index))["tas"].values

    with step("interpolate corrected (cdo)"):
        corrected.to_netcdf(out / "corrected_coarse.nc")
        cdo(f"-remapbil,{obs_days}", out / "corrected_coarse.nc", out / "corrected_fine.nc")

    with step("restore anomalies, mask (xarray)"):
        fine = xr.open_dataset(out / "corrected_fine.nc")["tas"].load()
        daily = (fine.groupby("time.month") + anomalies).drop_vars("month").where(land)

    with step("summaries (xarray)"):
        # The flow's summaries have a step for every month with days; resampling makes the others, all NaN.
        monthly = daily.resample(time="MS").mean().dropna("time", how="all")
        annual = daily.resample(time="YS").mean()

    with step("write outputs (netcdf)"):
        for name, field in (("daily", daily), ("monthly", monthly), ("annual", annual)):
            field.astype(np.float32).to_dataset(name="tas").to_netcdf(out / f"{name}.nc")

    json.dump(
        {
            "steps": steps,
            "cpu_steps": cpu_steps,
            "output_cell_days": int(np.prod(daily.shape)),
            "points": len(cells),
            "cells": int(valid.sum()),
        },
        sys.stdout,
    )
    print()


if __name__ == "__main__":
    main()
