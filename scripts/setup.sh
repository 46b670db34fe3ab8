#!/usr/bin/env bash
# Installs what building and testing downscale need on Debian 12: the NetCDF/HDF5 C libraries (the `netcdf` crate
# links Debian's libnetcdf), cdo (the oracle the regridding tests compare against), a Python venv with the
# reference tools the interop and oracle tests compare against (xarray + zarr-python read our stores; cftime is the
# calendar oracle), the S3 and Azure emulators of the object-storage tests, and Slurm with munge for the `slurm`
# runtime's tests (scripts/slurm-up.sh starts a one-node cluster), a Prefect server for the reporting tests, and
# Chromium with its WebDriver (chromedriver) for the dashboard's browser test. Safe to run repeatedly.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(pkg-config libnetcdf-dev libhdf5-dev netcdf-bin cdo slurmctld slurmd slurm-client munge chromium chromium-driver)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing Debian packages: ${missing[*]}" >&2
  sudo_cmd=""
  [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if [ ! -x .venv/bin/python ] || ! .venv/bin/python -c "import xarray, zarr, netCDF4, cftime" 2>/dev/null; then
  echo "creating the Python venv .venv (xarray, zarr, netCDF4, cftime)" >&2
  python3 -m venv .venv
  .venv/bin/pip install -q --disable-pip-version-check -r scripts/requirements-oracles.txt
fi

# The S3 emulator the object-storage tests start (moto server), in a venv of its own: its dependencies' pins are not
# the oracles'.
if [ ! -x .venv-moto/bin/moto_server ]; then
  echo "creating the Python venv .venv-moto (moto server, an S3 emulator)" >&2
  python3 -m venv .venv-moto
  .venv-moto/bin/pip install -q --disable-pip-version-check "moto[server]==5.2.5"
fi

# The Dask distributed scheduler the `dask` runtime's tests run on (a LocalCluster the run starts), with bokeh for its
# dashboard, in a venv of its own.
if [ ! -x .venv-dask/bin/python ] || ! .venv-dask/bin/python -c "import distributed, bokeh" 2>/dev/null; then
  echo "creating the Python venv .venv-dask (dask.distributed)" >&2
  python3 -m venv .venv-dask
  .venv-dask/bin/pip install -q --disable-pip-version-check "dask[distributed]==2026.8.0" "bokeh==3.9.0"
fi

# The evaluation's independent check (numpy, scipy, xclim) and intake-esm, in a venv of its own: xclim pins its own
# scientific stack.
if [ ! -x .venv-evaluate/bin/python ] || ! .venv-evaluate/bin/python -c "import xclim, scipy, intake_esm" 2>/dev/null; then
  echo "creating the Python venv .venv-evaluate (xclim, scipy, intake-esm)" >&2
  python3 -m venv .venv-evaluate
  .venv-evaluate/bin/pip install -q --disable-pip-version-check -r scripts/requirements-evaluate.txt
fi

# A Prefect 3 server, whose UI shows runs mirrored with `reporting.prefect.api_url` and which the reporting tests
# start, in a venv of its own.
if [ ! -x .venv-prefect/bin/prefect ] || ! .venv-prefect/bin/python -c "import prefect" 2>/dev/null; then
  echo "creating the Python venv .venv-prefect (Prefect server)" >&2
  python3 -m venv .venv-prefect
  .venv-prefect/bin/pip install -q --disable-pip-version-check "prefect==3.9.1"
fi

# The Azure Blob emulator of the same tests (Azurite; 3.35 is the last release for Node 20).
if [ ! -f .azurite/node_modules/azurite/dist/src/blob/main.js ]; then
  if ! command -v npm >/dev/null; then
    sudo_cmd=""
    [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
    DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null
  fi
  echo "installing Azurite (an Azure Blob emulator) into .azurite" >&2
  mkdir -p .azurite
  npm install --no-save --silent --prefix .azurite azurite@3.35.0
fi
