"""Reference outputs of scikit-downscale's GARD AnalogRegression from the project's source tree, for the Rust tests
of the GARD family. Writes the committed fixture
crates/downscale-methods/tests/fixtures/skdownscale_head_analog_regression.json.

    python skdownscale_head_analog_regression.py SOURCE_TREE OUTFILE

Not run by generate.sh: it needs the source tree of https://github.com/pangeo-data/scikit-downscale at commit
44d042584e0fd96bc16e2fca4caa928c5718b970 (the 0.1.5 release on PyPI cannot be used: its AnalogRegression.predict
stores a 1-element array into an array element, which numpy >= 1.24 refuses; the tree fixes it with `.item()`),
e.g.

    git clone https://github.com/pangeo-data/scikit-downscale /tmp/skds-head
    git -C /tmp/skds-head checkout 44d042584e0fd96bc16e2fca4caa928c5718b970

The tree is put first on sys.path, not installed (its pyproject asks for python >= 3.12; its code runs on 3.11).
It imports `sklearn.utils.validation.validate_data`, which scikit-learn has only since 1.6, so it does not import in
the 0.1.5 venv (.venv-skdownscale, scikit-learn 1.5.2); the fixture was made in a Python 3.11 venv with that venv's
pins and the scikit-learn the tree's uv.lock pins:

    python3.11 -m venv /tmp/venv-skds-head
    /tmp/venv-skds-head/bin/pip install numpy==2.1.3 scipy==1.14.1 pandas==2.2.3 xarray==2024.11.0 \\
        netCDF4==1.7.2 scikit-learn==1.7.2
    /tmp/venv-skds-head/bin/python scripts/oracles/skdownscale_head_analog_regression.py /tmp/skds-head \\
        crates/downscale-methods/tests/fixtures/skdownscale_head_analog_regression.json

The inputs are those of skdownscale_gard.py (imported from it: the same recipes, float32 values written with their
shortest float32 decimal and read back as doubles), in the same JSON schema; `versions` records the commit. Cases:
AnalogRegression(n_analogs=200) with thresh None and 0 on the synthetic case (2000 training rows, the first 150
prediction rows), on station tasmax (Amos: y = NRCan tasmax, X = CanESM2 tasmax and tasmax of the previous day,
train 1986-1990, predict 2041) and on an Iberia precipitation target with thresh 0 (E-OBS pr at 42.75N 8.25W,
X = NCEP-R1 psl [hPa above 1013.25], ta850 [degC], hus850 [g/kg], train DJF 1983-1992, predict the first 270 days
of DJF 1993-2002), and on the "steep" synthetic variant (wet exactly where x1 > -0.3; the first 100 prediction rows
with x1 > -0.3) with thresh 0, where some rows have only exceeding analogues. The analogue sets are checked to be
well defined as in skdownscale_gard.py (k = 200), and with thresh set every row has at least 10 exceeding
analogues, so that the regression on them is well determined.

With thresh set, `exceedance_prob` comes from LogisticRegression(tol=1e-12, max_iter=10000) refitted on each row's
analogues (checked against a Newton solve of the same penalised objective) and `exceedance_prob_default_tol` from
the default LogisticRegression(). The reference returns predict_proba(X)[0, 0], the probability of NOT exceeding
the threshold (P(dry)), and 1.0 when all analogues exceed it: recorded as is, flagged by
"exceedance_prob_is_p_dry": true. lbfgs stops on its relative function decrease (ftol 64 eps) before tol 1e-12, so
the tight-tol probabilities agree with the exact optimum of the penalised objective to about 1e-7, not to rounding.
"""
import json
import subprocess
import sys
import warnings
from importlib.metadata import version
from pathlib import Path

import numpy as np

COMMIT = "44d042584e0fd96bc16e2fca4caa928c5718b970"
N_ANALOGS = 200


def main():
    tree, outfile = Path(sys.argv[1]).resolve(), Path(sys.argv[2])
    head = subprocess.run(["git", "-C", str(tree), "rev-parse", "HEAD"], capture_output=True, text=True)
    if head.returncode == 0 and head.stdout.strip() != COMMIT:
        sys.exit(f"{tree} is at {head.stdout.strip()}, not {COMMIT}")
    sys.path.insert(0, str(tree))
    sys.path.insert(1, str(Path(__file__).resolve().parent))
    import sklearn
    import skdownscale
    from skdownscale.pointwise_models import AnalogRegression
    from skdownscale_gard import (TIGHT, AMOS, analogue_gap, columns, default_tol_warnings, iberia_case,
                                  logistic_probability, penalised_logit, station_case, synthetic, to_json)

    assert Path(skdownscale.__file__).resolve().is_relative_to(tree), skdownscale.__file__
    warnings.filterwarnings("ignore")
    notes, cases = [], []

    def analog_regression(name, thresh, train_x, train_y, predict_x):
        case = {"name": name, "model": "AnalogRegression", "thresh": thresh, "n_analogs": N_ANALOGS, "kind": None,
                "train_x": train_x, "train_y": train_y, "predict_x": predict_x}
        logistic_kwargs = dict(TIGHT) if thresh is not None else None
        model = AnalogRegression(n_analogs=N_ANALOGS, thresh=thresh, logistic_kwargs=logistic_kwargs)
        model.fit(train_x, train_y)
        gap = analogue_gap(train_x, predict_x, N_ANALOGS, model.kdtree_)
        case.update(columns(model.predict(predict_x)))
        note = f"{name}: min relative distance gap {gap:.3g}"
        if thresh is not None:
            default, n_warn = default_tol_warnings(
                lambda: AnalogRegression(n_analogs=N_ANALOGS, thresh=thresh).fit(train_x, train_y)
                .predict(predict_x))
            default = columns(default)
            assert np.array_equal(default["pred"], case["pred"])
            case["exceedance_prob_default_tol"] = default["exceedance_prob"]
            case["exceedance_prob_is_p_dry"] = True
            inds = model.kdtree_.query(predict_x, k=N_ANALOGS, return_distance=False)
            wet_counts, worst = [], 0.0
            for i, analogues in enumerate(inds):
                wet = (train_y[analogues] > thresh).astype(float)
                wet_counts.append(int(wet.sum()))
                if wet.all():
                    assert case["exceedance_prob"][i] == 1.0
                    continue
                beta = penalised_logit(train_x[analogues], wet)
                p_dry = 1.0 - logistic_probability(beta, predict_x[i:i + 1])[0]
                worst = max(worst, abs(p_dry - case["exceedance_prob"][i]))
            # The regression on the exceeding analogues must be well determined.
            assert min(wet_counts) >= 10, f"{name}: only {min(wet_counts)} analogues exceed the threshold"
            note += (f"; exceeding analogues per row {min(wet_counts)}..{max(wet_counts)} of {N_ANALOGS}, "
                     f"{sum(c == N_ANALOGS for c in wet_counts)} rows all exceeding; tight tol vs Newton max |dp| "
                     f"{worst:.2e}; default tol max |dp| "
                     f"{np.max(np.abs(default['exceedance_prob'] - case['exceedance_prob'])):.2e} "
                     f"({n_warn} ConvergenceWarning)")
        notes.append(note)
        return case

    train_x, train_y, predict_x, _ = synthetic()
    for thresh in (None, 0):
        cases.append(analog_regression(f"synthetic-analog-regression-thresh-{thresh}".lower(), thresh, train_x,
                                       train_y, predict_x[:150]))
    tasmax = station_case("tasmax", ["tasmax", "tasmax_lag1"], AMOS, train=("1986", "1990"),
                          predict=("2041", "2041"))
    cases.append(analog_regression("stations-tasmax-analog-regression", None, *tasmax))
    iberia_pr = iberia_case("pr", ["psl_anomaly_hpa", "ta850_degc", "hus850_gkg"], n_predict=270)
    cases.append(analog_regression("iberia-pr-analog-regression-thresh-0", 0, *iberia_pr))
    steep_x, steep_y, steep_predict, _ = synthetic(steep=True)
    steep_predict = steep_predict[steep_predict[:, 0] > -0.3][:100]
    cases.append(analog_regression("synthetic-steep-wet-analog-regression-thresh-0", 0, steep_x, steep_y,
                                   steep_predict))

    document = {
        "versions": {"scikit-downscale": f"source tree {COMMIT}", "scikit-learn": sklearn.__version__,
                     "numpy": np.__version__},
        "cases": cases,
    }
    outfile.parent.mkdir(parents=True, exist_ok=True)
    outfile.write_text(json.dumps(to_json(document), allow_nan=False, separators=(",", ":")) + "\n")
    for case in cases:
        notes.append(f"{case['name']}: n_train {len(case['train_y'])}, n_predict {len(case['predict_x'])}, "
                     f"n_features {np.shape(case['train_x'])[1]}")
    print("\n".join(notes), file=sys.stderr)
    print(f"wrote {outfile} ({outfile.stat().st_size / 1e3:.0f} kB; scikit-learn {version('scikit-learn')})",
          file=sys.stderr)


if __name__ == "__main__":
    main()
