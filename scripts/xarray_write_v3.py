"""Writes a NetCDF file as a Zarr v3 store with xarray's defaults, as a user of the Python stack would.

Usage: xarray_write_v3.py IN.nc OUT.zarr
"""

import sys

import xarray as xr


def main():
    source, target = sys.argv[1:3]
    with xr.open_dataset(source) as ds:
        ds.to_zarr(target, zarr_format=3, mode="w")


if __name__ == "__main__":
    main()
