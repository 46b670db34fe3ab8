#!/usr/bin/env bash
# The README's main job on the shipped sample data: build `downscale`, then downscale CNRM-CM5 rcp85 near-surface
# temperature over Iberia with BCSD against E-OBS (trained on the winters 1983-2002, predicted for the winters
# 2081-2100) on the default `local` runtime, and validate the published stores. Outputs, intermediates and run
# records go to ./downscale-output (the configuration's defaults).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
cargo build --release --locked -p downscale-cli
bin=target/release/downscale
params=examples/iberia/bcsd/bcsd_E-OBS_CNRM-CM5_r1i1p1_rcp85_tas_35_45_-10_5_1983_2002_2081_2100.json
manifest=$("$bin" run --param-file "$params" | tail -n 1)
for store in downscale-output/results/"$(basename "$params" .json)"/*.zarr; do
  "$bin" validate "$store"
done
echo "run manifest: $manifest"
echo "open the daily output with: python -c 'import xarray as xr; print(xr.open_zarr(\"downscale-output/results/$(basename "$params" .json)/CMIP5.CNRM-CERFACS.CNRM-CM5.rcp85.r1i1p1.day.BCSD.tas.zarr\"))'"
