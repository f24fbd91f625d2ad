"""Touchpoints and churn: keyword rules alone vs rules OR learned heads, in distribution and out of it, one run.

- in distribution: 5-fold cross-validation over both writers' posts pooled;
- out of distribution: heads fitted on one writer's posts, scored on the other writer's (both directions), and
  heads fitted on both writers, scored on the real telecom dev posts (texts from ../shared/data);
Per touchpoint and micro F1, churn P/R. Prints a table and one JSON line. Never reads the final split.

    python bench/telecom_heads.py
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sentiment import devset  # noqa: E402
from sentiment.analyze import merge_risks, merge_touchpoints  # noqa: E402
from sentiment.text import mentions  # noqa: E402
from sentiment.topics import OTHER, load_taxonomy, risk_flags  # noqa: E402
from sentiment.training_heads import fit_heads, prepare  # noqa: E402

TAX = load_taxonomy()


def predict(rows: list[dict], heads) -> tuple[list[tuple[str, ...]], list[bool]]:
    norm, words = prepare(rows)
    learned = heads.predict(norm, words) if heads else [frozenset()] * len(rows)
    touch = [merge_touchpoints(TAX.match(n), h, TAX.names) for n, h in zip(norm, learned, strict=True)]
    churn = ["churn" in merge_risks(risk_flags(n, mentions(r["text"])), h)
             for n, r, h in zip(norm, rows, learned, strict=True)]
    return touch, churn


def figures(rows: list[dict], touch: list[tuple[str, ...]], churn: list[bool]) -> dict:
    return devset.score(rows, ["neutral"] * len(rows), touch, [("churn",) if c else () for c in churn])


def summary(fig: dict) -> dict:
    per = {t: round(m["f1"], 3) for t, m in fig["touchpoints"]["per_touchpoint"].items() if t != OTHER}
    return {"touch_micro_f1": fig["touchpoints"]["micro"]["f1"], "touch_p": fig["touchpoints"]["micro"]["precision"],
            "touch_r": fig["touchpoints"]["micro"]["recall"], "churn_p": fig["churn"]["precision"],
            "churn_r": fig["churn"]["recall"], "per_touchpoint_f1": per}


def main() -> None:
    e, f = devset.written("e"), devset.written("f")
    try:
        service = devset.customer_service()
    except FileNotFoundError:
        service = []
    out: dict = {}
    for name, train, test in (("e->f", e, f), ("f->e", f, e)):
        heads = fit_heads(train, train + service)
        out[name] = {"rules": summary(figures(test, *predict(test, None))),
                     "rules+heads": summary(figures(test, *predict(test, heads)))}
    pooled = e + f
    fold = np.random.RandomState(20261124).randint(0, 5, len(pooled))
    touch: list = [None] * len(pooled)
    churn: list = [None] * len(pooled)
    for k in range(5):
        train = [r for r, g in zip(pooled, fold, strict=True) if g != k]
        test_idx = [i for i, g in enumerate(fold) if g == k]
        t, c = predict([pooled[i] for i in test_idx], fit_heads(train, train))
        for i, ti, ci in zip(test_idx, t, c, strict=True):
            touch[i], churn[i] = ti, ci
    out["5-fold CV (e+f)"] = {"rules": summary(figures(pooled, *predict(pooled, None))),
                              "rules+heads": summary(figures(pooled, touch, churn))}
    try:
        dev = devset.load("dev")
    except FileNotFoundError as exc:
        print(f"telecom dev skipped: {exc}", file=sys.stderr)
    else:
        heads = fit_heads(pooled, pooled + service)
        out["e+f->real dev"] = {"rules": summary(figures(dev, *predict(dev, None))),
                                "rules+heads": summary(figures(dev, *predict(dev, heads)))}
    print(f"{'setting':18} {'variant':12} {'touch F1':>8} {'P':>6} {'R':>6} {'churn P':>8} {'churn R':>8}")
    for name, variants in out.items():
        for variant, s in variants.items():
            print(f"{name:18} {variant:12} {s['touch_micro_f1']:>8.3f} {s['touch_p']:>6.3f} {s['touch_r']:>6.3f} "
                  f"{s['churn_p']:>8.3f} {s['churn_r']:>8.3f}")
    print(json.dumps(out, ensure_ascii=False))


if __name__ == "__main__":
    main()
