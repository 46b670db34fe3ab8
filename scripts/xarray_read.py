"""Opens a store with `xarray.open_zarr(path)` -- no arguments, as a user would -- and reports what xarray sees.

Usage: xarray_read.py STORE VARIABLE RAW_OUT
Prints a JSON summary (dims, shape, attributes, coordinates, decoded times, calendar) to stdout and writes the
variable's values as little-endian float32 to RAW_OUT, for an exact comparison by the Rust interop test.
"""

import json
import sys
import warnings

import numpy as np
import pandas as pd
import xarray as xr


def as_text(date):
    if isinstance(date, np.datetime64):
        date = pd.Timestamp(date)
    return date.strftime("%Y-%m-%d %H:%M:%S")


def plain(value):
    if isinstance(value, np.ndarray):
        return [plain(v) for v in value.tolist()]
    if isinstance(value, (np.floating, np.integer)):
        return value.item()
    return value


def main():
    store, variable, raw_out = sys.argv[1:4]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a warning on open is a defect of the store
        ds = xr.open_zarr(store)
    da = ds[variable]
    da.values.astype("<f4").tofile(raw_out)
    summary = {
        "dims": list(da.dims),
        "shape": list(da.shape),
        "attrs": {k: plain(v) for k, v in da.attrs.items()},
        "global_attrs": {k: plain(v) for k, v in ds.attrs.items()},
        "coords": {
            name: {"dims": list(c.dims), "values": [str(v) for v in np.atleast_1d(c.values)] if c.dtype.kind in "OUS" else plain(np.atleast_1d(c.values))}
            for name, c in ds.coords.items()
            if name != "time"
        },
        "times": [as_text(t) for t in ds["time"].values] if "time" in ds.coords else [],
        "calendar": ds["time"].encoding.get("calendar") if "time" in ds.coords else None,
        "time_dtype": str(ds["time"].dtype) if "time" in ds.coords else None,
    }
    json.dump(summary, sys.stdout)


if __name__ == "__main__":
    main()
