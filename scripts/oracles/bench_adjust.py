"""Times the reference packages on the benchmark tile written by `downscale bench adjust`.

    python bench_adjust.py xsdba TILE_DIR
    python bench_adjust.py skdownscale TILE_DIR POINTS

TILE_DIR holds ref.nc (1981-2010), hist.nc (1981-2010) and sim.nc (2041-2070), each tasmax (time, lat, lon).
xsdba adjusts the whole tile at once, as a user would call it, after a warm-up call on a corner of the tile (numba
compiles its kernels on first use). scikit-downscale is applied point by point (as the original system's flow did)
on the first POINTS points only, because one point takes a noticeable fraction of a second; points per second is
what is compared. Every case runs REPEAT times and the fastest run counts. Reading the files is not timed. Prints one JSON object:
{"case": {"seconds": s, "points": n}, ...}.
"""
import json
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

warnings.filterwarnings("ignore")

# Each reference case runs this many times and its fastest run counts, as for our side.
REPEAT = 2


def load(tile, name):
    da = xr.open_dataset(Path(tile) / f"{name}.nc")["tasmax"].load()
    da.attrs["units"] = "K"
    return da


def bench_xsdba(tile):
    import xsdba

    ref, hist, sim = (load(tile, n) for n in ("ref", "hist", "sim"))
    points = ref.sizes["lat"] * ref.sizes["lon"]
    results = {}
    for name, cls in (("eqm", xsdba.EmpiricalQuantileMapping), ("dqm", xsdba.DetrendedQuantileMapping),
                      ("qdm", xsdba.QuantileDeltaMapping)):
        for group in ("time", "time.month"):
            # Warm-up on a 2x2 corner, so that numba's one-off compilation is not timed.
            corner = dict(lat=slice(0, 2), lon=slice(0, 2))
            cls.train(ref.isel(corner), hist.isel(corner), nquantiles=20, kind="+", group=group).adjust(
                sim.isel(corner), interp="nearest").load()
            def run():
                start = time.perf_counter()
                cls.train(ref, hist, nquantiles=20, kind="+", group=group).adjust(sim, interp="nearest").load()
                return time.perf_counter() - start

            label = "month" if group == "time.month" else "time"
            results[f"{name} {label}"] = {"seconds": min(run() for _ in range(REPEAT)), "points": points}
    return results


def bench_skdownscale(tile, points):
    from skdownscale.pointwise_models import BcsdTemperature

    ref, hist, sim = (load(tile, n) for n in ("ref", "hist", "sim"))

    def frame(da, j):
        index = pd.DatetimeIndex([pd.Timestamp(t.year, t.month, t.day) for t in da.time.values])
        values = da.values.reshape(da.shape[0], -1)[:, j]
        return pd.DataFrame({"x": values.astype(np.float64)}, index=index)

    columns = [(frame(ref, j), frame(hist, j), frame(sim, j)) for j in range(points)]
    def run():
        start = time.perf_counter()
        for r, h, s in columns:
            BcsdTemperature(return_anoms=False).fit(h, r).predict(s)
        return time.perf_counter() - start

    return {"bcsd-temperature month": {"seconds": min(run() for _ in range(REPEAT)), "points": points}}


def main():
    family, tile = sys.argv[1], sys.argv[2]
    results = bench_xsdba(tile) if family == "xsdba" else bench_skdownscale(tile, int(sys.argv[3]))
    print(json.dumps(results))


if __name__ == "__main__":
    main()
