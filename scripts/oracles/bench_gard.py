"""Times scikit-downscale 0.1.5's GARD point models on the benchmark tile written by `downscale bench gard`.

    python bench_gard.py DIR

DIR holds case.json (the model and its parameters, the number of points, training and prediction days, and how many
times to repeat) and raw little-endian float64 arrays train_x.f64 (points x train days), train_y.f64 and predict_x.f64
(points x predict days), one feature. Each point is fitted and predicted on its own, as the original system's flow
applied the models point by point; the fastest of the repeated runs counts. Reading the files is not timed.
Writes DIR/pred.f64 (the `pred` output, points x predict days) and prints {"seconds": s}.

scikit-downscale 0.1.5's AnalogRegression.predict stores each step's one-element prediction array into a float row,
which numpy >= 1.24 refuses ("setting an array element with a sequence"). Its source tree fixes that by taking the
scalar (`.item()`); the subclass below does the same and nothing else, so each step does the reference's work.
"""
import json
import sys
import time
import warnings
from pathlib import Path

import numpy as np
from skdownscale.pointwise_models import AnalogRegression, PureRegression

warnings.filterwarnings("ignore")


class ScalarAnalogRegression(AnalogRegression):
    def _predict_one_step(self, logistic_model, lr_model, X):
        predicted, exceedance_prob, error = super()._predict_one_step(logistic_model, lr_model, X)
        return [np.asarray(predicted).item(), exceedance_prob, error]


def main():
    directory = Path(sys.argv[1])
    case = json.loads((directory / "case.json").read_text())
    points, train_days, predict_days = case["points"], case["train_days"], case["predict_days"]
    read = lambda name, days: np.fromfile(directory / name, dtype="<f8").reshape(points, days, 1)
    train_x, predict_x = read("train_x.f64", train_days), read("predict_x.f64", predict_days)
    train_y = np.fromfile(directory / "train_y.f64", dtype="<f8").reshape(points, train_days)

    def model():
        if case["model"] == "PureRegression":
            return PureRegression(thresh=case["thresh"])
        return ScalarAnalogRegression(n_analogs=case["n_analogs"])

    def run():
        start = time.perf_counter()
        preds = [model().fit(train_x[p], train_y[p]).predict(predict_x[p])[:, 0] for p in range(points)]
        return time.perf_counter() - start, preds

    runs = [run() for _ in range(case["repeat"])]
    seconds = min(s for s, _ in runs)
    np.asarray(runs[0][1], dtype="<f8").tofile(directory / "pred.f64")
    print(json.dumps({"seconds": seconds}))


if __name__ == "__main__":
    main()
