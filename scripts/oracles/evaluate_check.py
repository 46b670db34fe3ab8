"""Independent check of `downscale evaluate`: recomputes every statistic of an evaluation.json from the stores
with numpy, scipy and xclim, and compares each cell and each land mean.

    evaluate_check.py MANIFEST EVALUATION_JSON

The definitions it reproduces (stated here so the two implementations can be compared line by line):
- days compared: those the observations and the daily output both hold, within the evaluation's period;
- mean, population standard deviation (ddof=0), numpy's linear quantiles, scipy's Wasserstein distance, over the
  finite values of each cell;
- lag-1 autocorrelation: Pearson correlation of the pairs (day, next calendar day) where both are present;
- precipitation: wet day >= 1 mm; wet-day frequency, mean wet-day amount, mean length of maximal wet and dry runs
  of consecutive present days;
- annual indices with xclim, on each complete index year separately (index years start after the longest run of
  months the record never holds; complete = every day of the held months present), averaged over the years;
- land means weighted by cos(latitude) over the cells with land fraction >= 0.5 where the value is finite;
  pattern correlation likewise weighted, over land cells where both means are finite;
- RMSE and correlation of paired days when the evaluation says the product is in phase;
- products: the output, the bilinear baseline rebuilt here, and the QDM baseline as the evaluation kept it
  (`--keep-baselines`: the QDM algorithm itself is checked against xsdba by the adjustment tests).

Exits 1 and lists the disagreements when any value differs by more than 1e-5 relative (a difference of two
statistics relative to the larger of them). The bilinear baseline is rounded to float32 like every stored product.
"""

import itertools
import json
import os
import sys
import warnings

import numpy as np
import pandas as pd
import scipy.stats
import xarray as xr

warnings.filterwarnings("ignore")
import xclim.indices as xci  # noqa: E402

TOLERANCE = 1e-5
WET_MM = 1.0
MONTHS = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]


def open_variable(path, variable):
    return xr.open_zarr(path, decode_times=True)[variable].load()


def open_observations(path, variable, product):
    """The observations the evaluation used: a store the flow wrote, or the catalogued file cut to the output's
    grid, in K or mm day-1 and float32 (as the flow stores them), days at midnight."""
    if not path.endswith(".nc"):
        return open_variable(path, variable)
    field = xr.open_dataset(path)[variable].load()
    field = field.sel(lat=product.lat, lon=product.lon, method="nearest", tolerance=1e-6)
    field = field.assign_coords(lat=product.lat, lon=product.lon, time=field.time.dt.floor("D"))
    units = field.attrs.get("units")
    if units in ("degC", "Celsius", "C"):
        field = (field.astype(np.float64) + 273.15).astype(np.float32)
    elif units not in ("K", "mm", "mm day-1", "mm/day"):
        raise SystemExit(f"{path}: units {units} not handled by this check")
    return field


def common_days(fields, first, last):
    days = fields[0].time.values
    for field in fields[1:]:
        days = np.intersect1d(days, field.time.values)
    days = days[(days >= np.datetime64(first)) & (days <= np.datetime64(last))]
    return [field.sel(time=days) for field in fields]


def bilinear(model, onto):
    """The model linearly interpolated in latitude and longitude onto `onto`'s grid (scipy through xarray), and
    outside the hull of the model's cell centres its nearest cell; float32, as every product is."""
    linear = model.interp(lat=onto.lat, lon=onto.lon, method="linear")
    nearest = model.sel(lat=onto.lat, lon=onto.lon, method="nearest").assign_coords(lat=onto.lat, lon=onto.lon)
    inside_lat = (onto.lat >= model.lat.min()) & (onto.lat <= model.lat.max())
    inside_lon = (onto.lon >= model.lon.min()) & (onto.lon <= model.lon.max())
    return linear.where(inside_lat & inside_lon, nearest).astype(np.float32)


def lag1(series, consecutive):
    today, tomorrow = series[:-1], series[1:]
    keep = consecutive & np.isfinite(today) & np.isfinite(tomorrow)
    if keep.sum() < 2:
        return np.nan
    a, b = today[keep], tomorrow[keep]
    if a.std() == 0 or b.std() == 0:
        return np.nan
    return np.corrcoef(a, b)[0, 1]


def spell_mean(series, consecutive, wet):
    lengths, run = [], 0
    for k, value in enumerate(series):
        inside = np.isfinite(value) and ((value >= WET_MM) == wet)
        if inside and run > 0 and consecutive[k - 1]:
            run += 1
        elif inside:
            if run:
                lengths.append(run)
            run = 1
        else:
            if run:
                lengths.append(run)
            run = 0
    if run:
        lengths.append(run)
    return np.mean(lengths) if lengths else np.nan


def season_start(times):
    held = set(pd.DatetimeIndex(times).month)
    if len(held) == 12:
        return 1
    best, best_length = 0, 0
    for start in range(1, 13):
        if start in held or ((start - 2) % 12 + 1) not in held:
            continue
        length = 0
        while length < 12 and ((start - 1 + length) % 12 + 1) not in held:
            length += 1
        if length > best_length:
            best, best_length = start, length
    return (best - 1 + best_length) % 12 + 1


def complete_years(times):
    index = pd.DatetimeIndex(times)
    start = season_start(times)
    held = set(index.month)
    labels = np.where(index.month >= start, index.year, index.year - 1)
    years = []
    for label in np.unique(labels):
        expected = 0
        for k in range(12):
            month = (start - 1 + k) % 12 + 1
            year = label if month >= start else label + 1
            if month in held:
                expected += pd.Period(f"{year}-{month:02d}").days_in_month
        where = np.nonzero(labels == label)[0]
        if len(where) == expected:
            years.append((int(label), slice(where[0], where[-1] + 1)))
    return start, years


def annual_index(name, field, years, start):
    freq = f"YS-{MONTHS[start - 1]}"
    functions = {
        "TXx": xci.tx_max, "TXn": xci.tx_min, "TNx": xci.tn_max, "TNn": xci.tn_min,
        "TGx": xci.tg_max, "TGn": xci.tg_min,
        "Rx1day": xci.max_1day_precipitation_amount,
        "Rx5day": lambda pr, freq: xci.max_n_day_precipitation_amount(pr, window=5, freq=freq),
        "R10mm": lambda pr, freq: xci.wetdays(pr, thresh="10 mm/day", freq=freq, op=">="),
        "CDD": lambda pr, freq: xci.maximum_consecutive_dry_days(pr, thresh="1 mm/day", freq=freq),
    }
    # In float64, as the evaluation sums (a 5-day sum of float32 amounts is good to ~1e-7 only).
    field = field.astype(np.float64)
    per_year = []
    for _, days in years:
        year = field.isel(time=days)
        value = functions[name](year, freq=freq)
        assert value.sizes["time"] == 1, (name, value.sizes)
        value = value.isel(time=0).values.astype(float)
        # A year without any value has no index (xclim counts 0 days there).
        value[~np.isfinite(year.values).any(axis=0)] = np.nan
        per_year.append(value)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return np.nanmean(np.stack(per_year), axis=0)


def statistic_maps(field, statistics, variable, consecutive, years, start):
    values = field.values.astype(np.float64)  # (time, lat, lon)
    nlat, nlon = values.shape[1:]
    maps = {}
    for name in statistics:
        if name in ("TXx", "TXn", "TNx", "TNn", "TGx", "TGn", "Rx1day", "Rx5day", "R10mm", "CDD"):
            maps[name] = annual_index(name, field, years, start)
            continue
        out = np.full((nlat, nlon), np.nan)
        for i in range(nlat):
            for j in range(nlon):
                series = values[:, i, j]
                finite = series[np.isfinite(series)]
                if finite.size == 0:
                    continue
                if name == "mean":
                    out[i, j] = finite.mean()
                elif name == "sd":
                    out[i, j] = finite.std()
                elif name.startswith("q"):
                    out[i, j] = np.quantile(finite, int(name[1:]) / 100)
                elif name == "lag1":
                    out[i, j] = lag1(series, consecutive)
                elif name == "wet_day_frequency":
                    out[i, j] = (finite >= WET_MM).mean()
                elif name == "wet_day_intensity":
                    wet = finite[finite >= WET_MM]
                    out[i, j] = wet.mean() if wet.size else np.nan
                elif name == "wet_spell_length":
                    out[i, j] = spell_mean(series, consecutive, True)
                elif name == "dry_spell_length":
                    out[i, j] = spell_mean(series, consecutive, False)
                else:
                    raise SystemExit(f"unknown statistic {name}")
        maps[name] = out
    return maps


def paired_maps(observed, product, names):
    o, p = observed.values.astype(np.float64), product.values.astype(np.float64)
    maps = {name: np.full(o.shape[1:], np.nan) for name in names}
    for i, j in itertools.product(range(o.shape[1]), range(o.shape[2])):
        a, b = o[:, i, j], p[:, i, j]
        if not np.isfinite(a).any():
            continue
        if "wasserstein" in maps and np.isfinite(b).any():
            maps["wasserstein"][i, j] = scipy.stats.wasserstein_distance(b[np.isfinite(b)], a[np.isfinite(a)])
        both = np.isfinite(a) & np.isfinite(b)
        if "rmse" in maps and both.any():
            maps["rmse"][i, j] = np.sqrt(np.mean((b[both] - a[both]) ** 2))
        if "correlation" in maps and both.sum() >= 2:
            maps["correlation"][i, j] = scipy.stats.pearsonr(b[both], a[both]).statistic
    return maps


def land_mean(values, land, weights):
    keep = land & np.isfinite(values)
    return np.sum(values[keep] * weights[keep]) / np.sum(weights[keep]) if keep.any() else np.nan


def compare(label, ours, theirs, problems, counts, scale_of=None):
    """Relative differences of `ours` and `theirs`; a difference of two statistics (`scale_of` its operands) is
    compared relative to the larger operand, since a bias near zero cancels most of its operands' digits."""
    ours = np.asarray(ours, dtype=float)
    theirs = np.asarray(theirs, dtype=float)
    counts[0] += ours.size
    if ours.shape != theirs.shape:
        problems.append(f"{label}: shape {ours.shape} against {theirs.shape}")
        return
    nan_mismatch = np.isnan(ours) != np.isnan(theirs)
    if nan_mismatch.any():
        problems.append(f"{label}: {nan_mismatch.sum()} cells missing in one only")
    both = np.isfinite(ours) & np.isfinite(theirs)
    scale = np.maximum(np.abs(ours[both]), np.abs(theirs[both]))
    if scale_of is not None:
        scale = np.maximum(scale, np.broadcast_to(np.asarray(scale_of, dtype=float), ours.shape)[both])
    scale = np.maximum(scale, 1e-9)
    relative = np.abs(ours[both] - theirs[both]) / scale
    if relative.size and relative.max() > TOLERANCE:
        problems.append(f"{label}: max relative difference {relative.max():.3g}")
    counts[1] = max(counts[1], relative.max() if relative.size else 0.0)


def check_change(manifest, evaluation, problems, counts):
    """The change signal: each statistic's change between the historical run's output and this run's, and the raw
    model's (interpolated as the bilinear baseline) between the same periods, per cell where the product has one."""
    variable = evaluation["variable"]
    change = evaluation["change_signal"]
    observed = open_variable(evaluation["downscaled"], variable)  # its grid, which the model is interpolated onto
    intermediates = manifest["intermediates"]
    task = next(t for t in ["get_experiment_predict", f"get_experiment_predict_{variable}"] if t in intermediates)
    fields = [
        open_variable(change["downscaled_historical"], variable),
        open_variable(evaluation["downscaled"], variable),
        bilinear(open_variable(change["model_historical"], variable), observed),
        bilinear(open_variable(intermediates[task], variable), observed),
    ]
    land = xr.open_zarr(manifest["intermediates"]["land_mask"])["land"].values >= 0.5
    weights = np.repeat(np.cos(np.deg2rad(observed.lat.values))[:, None], observed.sizes["lon"], axis=1)
    for statistic in change["statistics"]:
        name = statistic["name"]
        values = []
        for field in fields:
            times = field.time.values
            consecutive = np.diff(times) == np.timedelta64(1, "D")
            values.append(statistic_maps(field, [name], variable, consecutive, [], 1)[name])
        # Scales: a change is compared relative to its operands (a difference relative to the larger statistic, a
        # relative change relative to the ratio future / historical), as a change near zero cancels their digits.
        if statistic["change"] == "difference":
            product, model = values[1] - values[0], values[3] - values[2]
            product_scale = np.maximum(np.abs(values[0]), np.abs(values[1]))
            model_scale = np.maximum(np.abs(values[2]), np.abs(values[3]))
        else:
            with np.errstate(divide="ignore", invalid="ignore"):
                product = np.where(values[0] != 0, values[1] / values[0] - 1, np.nan)
                model = np.where(values[2] != 0, values[3] / values[2] - 1, np.nan)
            product_scale, model_scale = np.abs(1 + product), np.abs(1 + model)
        model = np.where(np.isfinite(product), model, np.nan)
        departure = product - model
        scales = {"downscaled": product_scale, "model": model_scale,
                  "departure": np.maximum(product_scale, model_scale)}
        for label, mine in [("downscaled", product), ("model", model), ("departure", departure)]:
            scale = scales[label]
            compare(f"change {name} {label} map", statistic[label]["values"], mine, problems, counts, scale)
            land_scale = np.nanmax(np.where(land & np.isfinite(mine), scale, np.nan))
            compare(f"change {name} {label} land mean", statistic[label]["land_mean"], land_mean(mine, land, weights),
                    problems, counts, land_scale)
    print(f"change signal: {len(change['statistics'])} statistics")


def main():
    manifest = json.load(open(sys.argv[1]))
    evaluation = json.load(open(sys.argv[2]))
    problems, counts = [], [0, 0.0]
    if evaluation.get("change_signal"):
        check_change(manifest, evaluation, problems, counts)
    if evaluation.get("skill"):
        check_skill(manifest, evaluation, problems, counts)
    print(f"compared {counts[0]} values; largest relative difference {counts[1]:.3g}")
    for problem in problems:
        print(problem)
    sys.exit(1 if problems else 0)


def check_skill(manifest, evaluation, problems, counts):
    variable = evaluation["variable"]
    skill = evaluation["skill"]
    named = {"downscaled": open_variable(evaluation["downscaled"], variable)}
    observed_all = open_observations(evaluation["observations"], variable, named["downscaled"])
    folder = os.path.dirname(os.path.abspath(sys.argv[2]))
    for product in skill["products"]:
        if product == "bilinear":
            intermediates = manifest["intermediates"]
            task = next(t for t in ["get_experiment_predict", f"get_experiment_predict_{variable}"] if t in intermediates)
            named["bilinear"] = bilinear(open_variable(intermediates[task], variable), observed_all)
        elif product != "downscaled":
            # A baseline this check does not rebuild (QDM at the model's scale, checked against xsdba elsewhere):
            # its field as the evaluation kept it (--keep-baselines); the statistics of it are checked here.
            store = os.path.join(folder, f"{product}.zarr")
            if not os.path.isdir(store):
                problems.append(f"product {product}: no {store} (evaluate with --keep-baselines)")
                continue
            named[product] = open_variable(store, variable)
    fields = common_days([observed_all, *named.values()], skill["period"]["first"], skill["period"]["last"])
    observed, products = fields[0], dict(zip(named, fields[1:]))
    if observed.sizes["time"] != skill["period"]["days"]:
        problems.append(f"days: {skill['period']['days']} against {observed.sizes['time']}")
    times = observed.time.values
    consecutive = np.diff(times) == np.timedelta64(1, "D")
    start, years = complete_years(times)
    if start != skill["period"]["index_year_start_month"]:
        problems.append(f"index years start in month {skill['period']['index_year_start_month']}, not {start}")
    if [y for y, _ in years] != skill["period"]["index_years"]:
        problems.append(f"index years {skill['period']['index_years']} against {[y for y, _ in years]}")

    land = xr.open_zarr(manifest["intermediates"]["land_mask"])["land"].values >= 0.5
    weights = np.repeat(np.cos(np.deg2rad(observed.lat.values))[:, None], observed.sizes["lon"], axis=1)
    names = [s["name"] for s in skill["statistics"]]
    ours_observed = statistic_maps(observed, names, variable, consecutive, years, start)
    if set(products) != set(skill["products"]):
        problems.append(f"products {sorted(skill['products'])} against {sorted(products)}")
    for product_name, product in products.items():
        # A cell without observations (sea) has no statistics for any product.
        covered = np.isfinite(observed.values).any(axis=0)
        ours_product = {
            name: np.where(covered, values, np.nan)
            for name, values in statistic_maps(product, names, variable, consecutive, years, start).items()
        }
        for statistic in skill["statistics"]:
            name = statistic["name"]
            o, p = ours_observed[name], ours_product[name]
            theirs = statistic["products"][product_name]
            if statistic["comparison"] == "difference":
                comparison = p - o
            elif statistic["comparison"] == "relative":
                comparison = np.where(o != 0, (p - o) / np.where(o != 0, o, 1), np.nan)
            else:
                comparison = np.where(o != 0, p / np.where(o != 0, o, 1), np.nan)
            operands = np.maximum(np.abs(o), np.abs(p)) if statistic["comparison"] == "difference" else None
            checks = [("observed", ours_observed[name], statistic["observed"], None),
                      (product_name, p, theirs["value"], None),
                      (f"{product_name} comparison", comparison, theirs["skill"], operands)]
            for label, mine, map_, scale_of in checks:
                compare(f"{name} {label} map", map_["values"], mine, problems, counts, scale_of)
                land_scale = None if scale_of is None else np.nanmax(np.where(land, scale_of, np.nan))
                compare(f"{name} {label} land mean", map_["land_mean"], land_mean(mine, land, weights), problems,
                        counts, land_scale)
        paired = paired_maps(observed, product, [p["name"] for p in skill["paired"]])
        for statistic in skill["paired"]:
            mine = paired[statistic["name"]]
            theirs = statistic["products"][product_name]
            label = f"{statistic['name']} {product_name}"
            compare(f"{label} map", theirs["values"], mine, problems, counts)
            compare(f"{label} land mean", theirs["land_mean"], land_mean(mine, land, weights), problems, counts)
        o_mean, p_mean = ours_observed["mean"], ours_product["mean"]
        keep = land & np.isfinite(o_mean) & np.isfinite(p_mean)
        w = weights[keep] / weights[keep].sum()
        a, b = p_mean[keep], o_mean[keep]
        a_c, b_c = a - np.sum(w * a), b - np.sum(w * b)
        pattern = np.sum(w * a_c * b_c) / np.sqrt(np.sum(w * a_c**2) * np.sum(w * b_c**2))
        compare(f"pattern correlation {product_name}", skill["pattern_correlation"][product_name], pattern, problems,
                counts)

    distribution = skill.get("distribution")
    if distribution:
        edges = np.asarray(distribution["edges"])
        covered = land & np.isfinite(observed.values).any(axis=0)
        for name, field in [("observed", observed), *products.items()]:
            values = field.values[:, covered].astype(np.float64)
            values = np.clip(values[np.isfinite(values)], edges[0], edges[-1])
            mine, _ = np.histogram(values, bins=edges)
            if list(mine) != distribution["counts"][name]:
                problems.append(f"distribution of {name}: counts differ in {np.sum(mine != distribution['counts'][name])} bins")
            counts[0] += len(mine)
    print(f"skill: {len(names)} statistics and {len(skill['paired'])} paired statistics of {len(products)} products")


if __name__ == "__main__":
    main()
