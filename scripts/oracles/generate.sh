#!/usr/bin/env bash
# Generates the oracle fixtures the bias-correction and GARD tests compare against, from the real reference
# packages: scikit-downscale 0.1.5 (with statsmodels for the logistic MLE) and xsdba 0.7.0, each in its own venv
# (.venv-skdownscale, .venv-xsdba) because their pinned dependencies conflict (scikit-downscale 0.1.5 needs
# scikit-learn <= 1.5.2 and numpy < 2.2). The committed GARD AnalogRegression fixture is made apart, from
# scikit-downscale's source tree (see scripts/oracles/skdownscale_head_analog_regression.py).
#
#   scripts/oracles/generate.sh [OUTDIR]      (default target/oracles; the tests read $DOWNSCALE_ORACLES or that)
#
# Nothing is regenerated when the generators, their pinned requirements and the sample data are unchanged since
# the last run (a stamp file records their hash). The fixtures record the package versions they came from.
set -euo pipefail
cd "$(dirname "$0")/../.."
out="${1:-target/oracles}"
mkdir -p "$out"

stamp_now=$(cat scripts/oracles/*.py scripts/oracles/requirements-*.txt scripts/oracles/generate.sh \
  data/samples/stations_sdba/*.nc data/samples/iberia/obs_E-OBS/*.nc data/samples/iberia/reanalysis_NCEP-R1/*.nc \
  | sha256sum | cut -d' ' -f1)
if [ -f "$out/stamp" ] && [ "$(cat "$out/stamp")" = "$stamp_now" ]; then
  echo "oracle fixtures in $out are up to date" >&2
  exit 0
fi

venv() {  # venv NAME MODULES: installs .venv-NAME from requirements-NAME.txt unless MODULES (comma-separated) import
  local name=$1 modules=$2
  if ! ".venv-$name/bin/python" -c "import $modules" 2>/dev/null; then
    echo "installing the Python venv .venv-$name" >&2
    python3 -m venv ".venv-$name"
    ".venv-$name/bin/pip" install -q --disable-pip-version-check -r "scripts/oracles/requirements-$name.txt"
  fi
}
venv skdownscale "skdownscale, statsmodels"
venv xsdba xsdba

.venv-skdownscale/bin/python scripts/oracles/skdownscale_synthetic.py "$out"
.venv-skdownscale/bin/python scripts/oracles/stations.py skdownscale "$out"
.venv-skdownscale/bin/python scripts/oracles/skdownscale_gard.py "$out"
.venv-xsdba/bin/python scripts/oracles/xsdba_synthetic.py "$out"
.venv-xsdba/bin/python scripts/oracles/stations.py xsdba "$out"
echo "$stamp_now" > "$out/stamp"
