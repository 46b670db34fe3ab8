#!/usr/bin/env bash
# The whole test suite, exactly as CI runs it: set-up, formatting, lints, the cftime golden file check, and every
# test (including the xarray interop tests against the venv's real xarray/zarr, and the bias-correction oracle tests
# against fixtures generated here from the real scikit-downscale and xsdba packages).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
# A one-off build gains nothing from incremental state, which would add over a gigabyte to the target folder.
export CARGO_INCREMENTAL="${CARGO_INCREMENTAL:-0}"

export DOWNSCALE_PYTHON="$PWD/.venv/bin/python"
scripts/oracles/generate.sh target/oracles
export DOWNSCALE_ORACLES="$PWD/target/oracles"
# The full internal sample corpus, when it sits beside the checkout, is decoded too (the repository ships a subset).
if [ -d ../shared/data ]; then
  DOWNSCALE_CORPUS="$(cd ../shared/data && pwd)"
  export DOWNSCALE_CORPUS
fi

cargo fmt --all --check
cargo clippy --workspace --all-targets --locked -- -D warnings

# The committed golden file must be what cftime produces today.
golden=$(mktemp)
"$DOWNSCALE_PYTHON" scripts/cftime_golden.py "$golden"
cmp "$golden" crates/downscale-data/tests/fixtures/cftime_golden.csv
rm -f "$golden"

log=$(mktemp)
cargo test --workspace --locked 2>&1 | tee "$log"
# One closing line for the whole suite (cargo prints one per test binary, ending with the empty doc-test run).
awk '/^test result:/ { p += $4; f += $6 } END { printf "summary: %d passed, %d failed\n", p, f }' "$log"
rm -f "$log"
