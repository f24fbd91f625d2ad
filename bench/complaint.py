"""The telecom complaint detector beside linear3: its C and thresholds chosen out of distribution, one run.

Scenarios (the detector is fitted on the first, scored on the second; the sentiment model is the shipped linear3's
general part with its telecom layer refitted without the scored rows, so neither part has seen them; every post is
read as a post about an operator):
- e+cs -> f: writer e's posts and the customer-service turns -> writer f's posts;
- f+cs -> e: the other way round;
- e+f -> cs: both writers -> the 488 customer-service turns;
- all -> dev: every training row -> the real telecom dev set (120 first posts of threads);
- all -> devf: every training row -> the real follow-up turns of the dev threads (144, labelled in round 4).
For each (C, telecom neutral bias, hi, lo, strong): complaints labelled negative, non-complaints labelled negative,
three-way macro-F1.

The choice (round 3, shipped): at the shipped telecom bias, no written/other-company scenario's complaint recall below
the no-detector's, then the highest mean of macro-F1 + complaint recall - false alarms over those three; settings
within 0.005 of the best are not told apart by these sets, and the simplest of them (fewest rules acting) is taken.
The two real dev sets confirm.

`--round4` asks the question again with the real follow-up turns (sentiment/models/README.md, round 4): the mean over
all five sets, complaints first (no set's complaint recall more than 0.01 below round 3's detector) and the CANON
examples right. It picks the telecom bias 0 with a demotion (complaint recall up on every set, but the dev set's
macro-F1 0.786 -> 0.699); it was not adopted. Never reads a final split.

    YUQING_SHARED_DATA=../shared/data python bench/complaint.py
"""

from __future__ import annotations

import itertools
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sentiment import devset  # noqa: E402
from sentiment.evaluate import three_label_metrics  # noqa: E402
from sentiment.models.linear3 import LABELS, ThreeWayModel  # noqa: E402
from sentiment.text import mentions  # noqa: E402
from sentiment.topics import risk_flags  # noqa: E402
from sentiment.training_complaint import fit_complaint, fit_set_rows  # noqa: E402
from sentiment.training_heads import prepare  # noqa: E402

CS = [3.0, 10.0, 30.0]
HIS = [0.5, 0.6, 0.65, 0.7, 0.75, 0.8, 0.9, 1.01]
LOS = [0.0, 0.2, 0.3, 0.35, 0.4, 0.45, 0.5]
STRONGS = [0.7, 0.8, 0.9, 0.95, 1.01]


NEUTRAL_BIASES = [0.0, 0.5, 1.0, 1.5, 2.0, 2.5]
TIE = 0.005
SHIPPED_BIAS = 1.5  # linear3's telecom neutral bias (thresholds.json)
ROUND3 = (30.0, SHIPPED_BIAS, 0.65, 0.0, 0.7)  # round 3's detector: C, bias, hi, lo, strong
# The issue's and the tests' own examples, which a setting must get right (not scored, a hard constraint): a calm
# fault report and a plain gripe are complaints, a how-to question is not. Round 4's mean alone picked a demotion
# that called "联通的网速太慢了" positive.
CANON = [{"text": "家里宽带从昨天开始连不上，光猫红灯，麻烦安排师傅上门看一下", "sentiment": "negative", "complaint": True},
         {"text": "联通的网速太慢了", "sentiment": "negative", "complaint": True},
         {"text": "@中国移动 请问怎么查询剩余流量？", "sentiment": "neutral", "complaint": False}]


def model_without(shipped: ThreeWayModel, rows: list[dict]) -> ThreeWayModel:
    """The shipped general part with a telecom layer fitted on the telecom fit set minus `rows`."""
    from sentiment.devset import shared_data
    from sentiment.training3 import Part, fit_telecom, telecom_fit_set

    if not rows:
        return shipped
    drop = set(prepare(rows)[0])
    tel = telecom_fit_set(shared_data())
    keep = [i for i, t in enumerate(tel.norm) if t not in drop]
    part = Part([tel.y[i] for i in keep], [tel.norm[i] for i in keep], [tel.words[i] for i in keep])
    g = {k: shipped.a[k] for k in ("idf", "flat_w", "flat_b", "neutral_w", "neutral_b", "polar_w", "polar_b")}
    t = fit_telecom(g, part)
    print(f"telecom layer refitted on {len(keep)} of {len(tel.y)} posts", flush=True)
    return ThreeWayModel({**shipped.a, **t}, "bench")


def base(model: ThreeWayModel, rows: list[dict]) -> dict:
    norm, words = prepare(rows)
    risky = np.array([bool(risk_flags(n, mentions(r["text"]))) for n, r in zip(norm, rows, strict=True)])
    lp, _, _ = model.log_probs(norm, words, [True] * len(rows))
    labels, otherwise = {}, {}
    for bn in NEUTRAL_BIASES:
        biased = lp + np.array([0.0, bn, model.a["bias_telecom"][2]])
        pred = biased.argmax(1)
        pred[(pred == 1) & risky] = 0
        labels[bn] = [LABELS[i] for i in pred]
        otherwise[bn] = ["positive" if b[2] > b[1] else "neutral" for b in biased]
    return {"norm": norm, "words": words, "risky": risky, "labels": labels, "otherwise": otherwise, "p": np.exp(lp),
            "gold": [r["sentiment"] for r in rows], "complaint": np.array([bool(r["complaint"]) for r in rows])}


def figures(b: dict, labels: list[str]) -> tuple[float, float, float]:
    neg = np.array([lab == "negative" for lab in labels])
    c = b["complaint"]
    return (float(neg[c].mean()), float(neg[~c].mean()) if (~c).any() else 0.0,
            three_label_metrics(b["gold"], labels)["macro_f1"])


def main() -> None:
    shipped = ThreeWayModel.load(complaint=False)
    e, f = devset.written("e"), devset.written("f")
    cs = devset.customer_service()
    dev = devset.load("dev")
    devf = devset.load("dev_followups")
    round3 = "--round4" not in sys.argv
    extra = fit_set_rows(None, {r["text"] for r in e + f + cs})  # the rest of the telecom fit set, in every fit
    scenarios = {"e+cs->f": (e + cs + extra, f), "f+cs->e": (f + cs + extra, e), "e+f->cs": (e + f + extra, cs),
                 "all->dev": (e + f + cs + extra, dev), "all->devf": (e + f + cs + extra, devf),
                 "all->canon": (e + f + cs + extra, CANON)}
    bases = {k: base(shipped if k.startswith("all->") else model_without(shipped, test), test)
             for k, (_, test) in scenarios.items()}
    results = {}
    for c in CS:
        probs = {}
        for k, (train, _) in scenarios.items():
            det = fit_complaint(train, c=c)
            probs[k] = det.proba(bases[k]["norm"], bases[k]["words"])
            acc = float(np.mean((probs[k] >= 0.5) == bases[k]["complaint"]))
            print(f"C={c:<5} {k:9} detector accuracy at 0.5: {acc:.3f}")
        for bn, hi, lo, strong in itertools.product(NEUTRAL_BIASES, HIS, LOS, STRONGS):
            if lo > hi:
                continue

            row = {}
            for k, b in bases.items():
                from sentiment.models.complaint import ComplaintDetector

                d = ComplaintDetector(np.zeros(1), 0.0, hi, lo, strong, "x")
                p = b["p"]
                labels = d.decide(b["labels"][bn], probs[k], p[:, 0], b["otherwise"][bn], b["risky"])
                row[k] = figures(b, labels)
            results[(c, bn, hi, lo, strong)] = row
    base_row = {k: figures(b, b["labels"][SHIPPED_BIAS]) for k, b in bases.items()}
    ood = [k for k in scenarios if not k.startswith("all->")] if round3 else [k for k in scenarios if k != "all->canon"]

    floor = {k: base_row[k][0] for k in scenarios}
    if not round3:  # complaints first: no scenario's complaint recall more than 0.01 below round 3's detector
        r3 = results[ROUND3]
        floor = {k: max(floor[k], r3[k][0] - 0.01) for k in scenarios}

    def key(item):  # no chosen scenario's complaint recall below the floor
        (c, bn, *_), row = item
        canon = row["all->canon"][:2] == (1.0, 0.0) or round3
        keeps = canon and (bn == SHIPPED_BIAS or not round3) and all(row[k][0] >= floor[k] for k in ood)
        return (keeps, round(float(np.mean([row[k][2] + row[k][0] - row[k][1] for k in ood])), 4))

    ranked = sorted(results.items(), key=key, reverse=True)

    def parts(setting):  # rules that act: promotion (hi <= 1), demotion (lo > 0)
        _, _, hi, lo, _ = setting
        return (hi <= 1.0) + (lo > 0.0)

    # settings within TIE of the best are not told apart by these sets: the simplest of them (fewest rules acting)
    # is chosen, then the best
    top = [item for item in ranked if key(item)[0] == key(ranked[0])[0] and key(item)[1] >= key(ranked[0])[1] - TIE]
    chosen = min(top, key=lambda item: (parts(item[0]), -key(item)[1]))
    out = [a for a in sys.argv[1:] if not a.startswith("--")]
    if out:  # all figures, for reading
        Path(out[0]).write_text(json.dumps([[list(k), v] for k, v in results.items()]), encoding="utf-8")

    def show(name, row):
        cells = "  ".join(f"{k}: {row[k][0]:.3f}/{row[k][1]:.3f}/{row[k][2]:.3f}" for k in scenarios)
        print(f"{name:28} {cells}")

    print("\ncomplaints->neg / non-complaints->neg / macro-F1")
    show("no detector (bias 1.5)", base_row)
    for (c, bn, hi, lo, strong), row in ranked[:25]:
        show(f"C={c} b={bn} hi={hi} lo={lo} s={strong}", row)
    show("chosen: C={} b={} hi={} lo={} s={}".format(*chosen[0]), chosen[1])
    best = chosen
    names = ("C", "neutral_bias", "hi", "lo", "strong")
    print(json.dumps({"baseline": base_row, "chosen": dict(zip(names, best[0], strict=True)), "figures": best[1]}))


if __name__ == "__main__":
    main()
