#!/usr/bin/env bash
# The README's main job on the shipped sample data: build `downscale`, look at a GCM file and an observation file,
# convert the CNRM-CM5 and E-OBS Iberia files to CF Zarr (canonical units) and a 360-day model year to the standard
# calendar, bias-correct CanESM2 at three stations against NRCan observations (QDM, tasmax and pr, trained on
# 1981-2010, adjusted over 2041-2070), and validate the results. Outputs go to ./example-output.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
cargo build --release --locked
bin=target/release/downscale
out=example-output
mkdir -p "$out"
gcm=data/samples/iberia/gcm_CNRM-CM5/tas_day_CNRM-CM5_historical_r1i1p1_iberia_DJF_19821201-20020228.nc
obs=data/samples/iberia/obs_E-OBS/tas_day_E-OBS-v14-0.50reg_iberia_DJF_19821201-20020228.nc
model360=data/samples/cmip_misc/tasmax_day_HadGEM2-CC_rcp85_r1i1p1_na10kgrid_qm-moving-50bins-detrend_2095.nc

"$bin" inspect "$gcm" "$obs"
"$bin" convert --in "$gcm" --var tas --out "$out/tas_CNRM-CM5_historical_iberia.zarr"
"$bin" convert --in "$obs" --var tas --out "$out/tas_E-OBS_iberia.zarr"
"$bin" convert --in "$model360" --var tasmax --to-standard-calendar --out "$out/tasmax_HadGEM2-CC_2095_standard.zarr"
stations=data/samples/stations_sdba
for var_kind in tasmax:additive pr:multiplicative; do
  var=${var_kind%%:*}
  "$bin" adjust --method qdm --var "$var" --kind "${var_kind##*:}" --ref "$stations/nrcan_1950-2013.nc" \
    --hist "$stations/CanESM2_1950-2100.nc" --sim "$stations/CanESM2_1950-2100.nc" \
    --train 1981 2010 --predict 2041 2070 --out "$out/${var}_CanESM2_qdm_2041-2070.zarr"
done
for store in "$out"/*.zarr; do
  "$bin" validate "$store"
done
