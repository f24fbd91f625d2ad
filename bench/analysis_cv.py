"""In-distribution cross-validation of linear3's general part beside its out-of-distribution figures, one run.

- in distribution: K-fold cross-validation over the pooled train splits (every source in every fold), each fold
  scored per source;
- out of distribution: the same model fitted without one three-way source, scored on that source's dev split
  (the other source's neutral class is all it has to go by);
- reference: the model fitted on every train split, scored on the dev splits (what `sentiment/models/README.md`
  reports for the shipped model).
Three-way sets: macro-F1 and negative recall with the shipped general bias; binary sets: accuracy (score >= 0.5).
Reads ../shared/data (or YUQING_SHARED_DATA). The last line is one JSON object.

    .venv/bin/python bench/analysis_cv.py [--folds 3]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _score(g, part, bias, name: str) -> dict:
    from sentiment.evaluate import three_label_metrics
    from sentiment.models.linear3 import LABELS
    from sentiment.training3 import general_log_probs

    lp = general_log_probs(g, part.X())
    if name.startswith(("weibo2018", "senti100k")):  # binary: P(positive) against P(negative)
        return {"accuracy": round(float(np.mean((lp[:, 2] > lp[:, 0]) == (np.asarray(part.y) == 2))), 4)}
    pred = np.argmax(lp + np.asarray(bias), axis=1)
    m = three_label_metrics([LABELS[i] for i in part.y], [LABELS[i] for i in pred])
    return {"macro_f1": round(m["macro_f1"], 4), "negative_recall": round(m["negative_recall"], 4)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folds", type=int, default=3)
    args = parser.parse_args()
    from sentiment.training3 import TRAIN, Part, fit_general, load_weibo

    data = Path(os.environ.get("YUQING_SHARED_DATA") or ROOT.parent / "shared" / "data")
    bias = json.loads((ROOT / "sentiment" / "models" / "thresholds.json").read_text())["linear3"]["bias_general"]
    weibo = load_weibo(data)
    started = time.process_time()
    out: dict = {"folds": args.folds, "cv": {}, "ood": {}, "reference": {}}

    g = fit_general([(n, weibo[n]) for n in TRAIN])
    for dev in ("virus_dev", "nlpcc_dev", "weibo2018_dev", "senti100k_dev"):
        out["reference"][dev] = _score(g, weibo[dev], bias, dev)

    rng = np.random.RandomState(20261207)
    folds = {n: rng.randint(0, args.folds, len(weibo[n].y)) for n in TRAIN}

    def take(part: Part, keep: np.ndarray) -> Part:
        idx = np.flatnonzero(keep)
        return Part([part.y[i] for i in idx], [part.norm[i] for i in idx], [part.words[i] for i in idx])

    scores: dict[str, list[dict]] = {}
    for k in range(args.folds):
        g = fit_general([(n, take(weibo[n], folds[n] != k)) for n in TRAIN])
        for n in TRAIN:
            if n == "faq_answers":
                continue
            scores.setdefault(n, []).append(_score(g, take(weibo[n], folds[n] == k), bias, n))
    for n, rows in scores.items():
        out["cv"][n] = {key: round(float(np.mean([r[key] for r in rows])), 4) for key in rows[0]}

    for left, dev in (("nlpcc_train", "nlpcc_dev"), ("virus_train", "virus_dev")):
        g = fit_general([(n, weibo[n]) for n in TRAIN if n != left])
        out["ood"][dev] = _score(g, weibo[dev], bias, dev)
    out["cpu_seconds"] = round(time.process_time() - started, 1)

    print(f"{'set':16} {'in-distribution CV':>26} {'out of distribution':>28} {'reference (all train)':>26}")
    for src, dev in (("nlpcc_train", "nlpcc_dev"), ("virus_train", "virus_dev"), ("weibo2018_train", "weibo2018_dev"),
                     ("senti100k_train", "senti100k_dev")):
        cv = out["cv"].get(src, {})
        ood = out["ood"].get(dev, {})
        ref = out["reference"][dev]
        fmt = lambda d: " / ".join(f"{k} {v:.3f}" for k, v in d.items()) or "-"  # noqa: E731
        print(f"{src.split('_')[0]:16} {fmt(cv):>26} {fmt(ood):>28} {fmt(ref):>26}")
    print(json.dumps(out, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
