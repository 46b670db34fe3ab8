"""The reference of `downscale bench evaluate`: the metrics `downscale evaluate` computes for a temperature run,
written as a user of xarray and xclim would, vectorised over the grid, on the same stores.

    bench_evaluate.py MANIFEST

Reads the run's daily output, the observations and the raw model its manifest names, interpolates the model onto
the observations' grid (the bilinear baseline), and for both products computes on the shared days: mean, standard
deviation, the 1st/5th/50th/95th/99th percentiles, lag-1 autocorrelation of consecutive days, the Wasserstein
distance to the observations, the annual maximum and minimum (xclim's tg_max and tg_min over complete winters),
their comparisons with the observations, land means weighted by cos(latitude), the pattern correlation of the
means, and the QA counts (missing values on land, temperatures outside [180, 340] K). Prints one JSON line: the
seconds taken (reading included, interpreter start excluded) and the land means, which the bench compares with
its own to show both did the same work.
"""

import json
import sys
import time
import warnings

import numpy as np
import pandas as pd
import xarray as xr

warnings.filterwarnings("ignore")
import xclim.indices as xci  # noqa: E402

PERCENTILES = [1, 5, 50, 95, 99]


def bilinear(model, onto):
    linear = model.interp(lat=onto.lat, lon=onto.lon, method="linear")
    nearest = model.sel(lat=onto.lat, lon=onto.lon, method="nearest").assign_coords(lat=onto.lat, lon=onto.lon)
    inside = ((onto.lat >= model.lat.min()) & (onto.lat <= model.lat.max())
              & (onto.lon >= model.lon.min()) & (onto.lon <= model.lon.max()))
    return linear.where(inside, nearest).astype(np.float32)


def complete_winters(times):
    index = pd.DatetimeIndex(times)
    labels = np.where(index.month == 12, index.year, index.year - 1)
    complete = []
    for label in np.unique(labels):
        expected = 31 + 31 + pd.Period(f"{label + 1}-02").days_in_month
        if (labels == label).sum() == expected:
            complete.append(label)
    return complete


def main():
    manifest = json.load(open(sys.argv[1]))
    variable = manifest["parameters"]["variable"]
    start = time.perf_counter()
    observed = xr.open_zarr(manifest["intermediates"]["get_obs"])[variable].load()
    output = xr.open_zarr(manifest["datasets"]["daily"])[variable].load()
    model = xr.open_zarr(manifest["intermediates"]["get_experiment_predict"])[variable].load()
    land = xr.open_zarr(manifest["intermediates"]["land_mask"])["land"].load() >= 0.5

    # QA of the output: missing values where land has observations, values beyond physical bounds.
    covered = land & observed.notnull().any("time")
    qa = {
        "missing_on_land": int((output.isnull() & covered).sum()),
        "outside_bounds": int(((output < 180) | (output > 340)).sum()),
    }
    products = {"downscaled": output, "bilinear": bilinear(model, observed)}
    days = observed.time.values
    for product in products.values():
        days = np.intersect1d(days, product.time.values)
    observed = observed.sel(time=days)
    products = {name: p.sel(time=days) for name, p in products.items()}
    consecutive = np.diff(days) == np.timedelta64(1, "D")
    winters = complete_winters(days)
    weights = np.cos(np.deg2rad(observed.lat)) * xr.ones_like(observed.lon)

    def land_mean(field):
        keep = land & field.notnull()
        return float((field * weights).where(keep).sum() / weights.where(keep).sum())

    def statistics(field):
        out = {"mean": field.mean("time"), "sd": field.std("time")}
        quantiles = field.quantile([p / 100 for p in PERCENTILES], dim="time")
        for p in PERCENTILES:
            out[f"q{p:02d}"] = quantiles.sel(quantile=p / 100, drop=True)
        today = field.isel(time=slice(0, -1))
        pairs = xr.DataArray(consecutive, dims="time", coords={"time": today.time})
        tomorrow = field.isel(time=slice(1, None)).assign_coords(time=today.time)
        out["lag1"] = xr.corr(today.where(pairs), tomorrow.where(pairs), dim="time")
        annual_max = xci.tg_max(field.astype(np.float64), freq="YS-DEC")
        annual_min = xci.tg_min(field.astype(np.float64), freq="YS-DEC")
        keep = annual_max.time.dt.year.isin(winters)
        out["TGx"] = annual_max.where(keep, drop=True).mean("time")
        out["TGn"] = annual_min.where(keep, drop=True).mean("time")
        return {name: value.where(covered) for name, value in out.items()}

    observed_statistics = statistics(observed)
    result = {"qa": qa, "land_means": {}}
    sorted_observed = np.sort(observed.values, axis=0)
    for name, product in products.items():
        ours = statistics(product)
        for statistic, value in ours.items():
            reference = observed_statistics[statistic]
            comparison = value / reference if statistic == "sd" else value - reference
            result["land_means"][f"{name} {statistic}"] = land_mean(comparison)
        wasserstein = np.abs(np.sort(product.values, axis=0) - sorted_observed).mean(axis=0)
        result["land_means"][f"{name} wasserstein"] = land_mean(observed_statistics["mean"] * 0 + wasserstein)
        mean, reference = ours["mean"], observed_statistics["mean"]
        keep = (land & mean.notnull() & reference.notnull()).values
        w = weights.values[keep] / weights.values[keep].sum()
        a, b = mean.values[keep], reference.values[keep]
        a, b = a - np.sum(w * a), b - np.sum(w * b)
        result["land_means"][f"{name} pattern"] = float(np.sum(w * a * b) / np.sqrt(np.sum(w * a * a) * np.sum(w * b * b)))
    result["seconds"] = time.perf_counter() - start
    print(json.dumps(result))


if __name__ == "__main__":
    main()
