"""Fit the telecom heads (sentiment/models/heads.py) from labelled telecom text, reproducibly.

Touchpoint heads learn from the written posts' touchpoint labels (sentiment/data/telecom_written_{e,f}.jsonl); the
churn head also from the labelled customer-service turns (sentiment/dev/customer_service_labels.jsonl, texts from
../shared/data; without them the head is fitted on the written posts alone and the report says so).

Which heads ship (SHIPPED) was chosen out of distribution: each head trained on one writer's posts, OR-ed with its
rule, had to raise F1 on the other writer's posts in both directions without lowering it on the real telecom dev
set (figures in sentiment/models/README.md, `python bench/telecom_heads.py`). The real dev and final posts are never
trained on.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from sentiment.models.heads import CHURN, TelecomHeads, features

log = logging.getLogger(__name__)
SEED = 20261124
HEAD_C = 30.0
THRESHOLD = 0.5
SHIPPED = ("宽带", "资费账单", "营销短信与骚扰", "套餐与合约", "国际漫游", CHURN)


def gold(rows: Sequence[dict], head: str) -> np.ndarray:
    """Whether each labelled row has the head's label (a touchpoint in `touchpoints`, or `churn`)."""
    if head == CHURN:
        return np.array([bool(r["churn"]) for r in rows])
    return np.array([head in (r.get("touchpoints") or ()) for r in rows])


def prepare(rows: Sequence[dict]) -> tuple[list[str], list[list[str]]]:
    from sentiment.segment import cut
    from sentiment.text import normalize

    norm = [normalize(r["text"]) for r in rows]
    return norm, [cut(n) for n in norm]


def fit_heads(touch_rows: Sequence[dict], churn_rows: Sequence[dict], heads: Sequence[str] = SHIPPED,
              version: str = "heads") -> TelecomHeads:
    """One class-balanced logistic regression per head (touchpoints from `touch_rows`, churn from `churn_rows`)."""
    from sklearn.linear_model import LogisticRegression

    x_touch = features(*prepare(touch_rows))
    x_churn = x_touch if churn_rows is touch_rows else features(*prepare(churn_rows))
    weights, bias = [], []
    for head in heads:
        rows, X = (churn_rows, x_churn) if head == CHURN else (touch_rows, x_touch)
        y = gold(rows, head)
        clf = LogisticRegression(C=HEAD_C, solver="liblinear", class_weight="balanced", max_iter=5000,
                                 random_state=SEED).fit(X, y)
        weights.append(clf.coef_.ravel())
        bias.append(float(clf.intercept_[0]))
    return TelecomHeads(heads, np.vstack(weights), np.array(bias), np.full(len(heads), THRESHOLD), version)


def _version(rows: Sequence[dict]) -> str:
    digest = hashlib.sha1()
    for r in rows:
        digest.update(f"{sorted(r.get('touchpoints') or ())}\t{bool(r['churn'])}\t{r['text']}\n".encode())
    return f"heads-{digest.hexdigest()[:10]}-{len(rows)}"


def train_heads(out_dir: Path, data_dir: Path | None = None) -> dict:
    """Fit the shipped heads on both writers' posts (and the customer-service turns for churn); write
    telecom_heads.npz in out_dir and return a small report."""
    from sentiment import devset
    from sentiment.models.heads import HEADS_FILE

    written = devset.written("e") + devset.written("f")
    try:
        service = devset.customer_service(data_dir=data_dir)
    except FileNotFoundError as exc:
        log.warning("churn head fitted without the customer-service turns: %s", exc)
        service = []
    churn_rows = written + service
    heads = fit_heads(written, churn_rows, version=_version(written + service))
    out_dir.mkdir(parents=True, exist_ok=True)
    heads.save(out_dir / HEADS_FILE.name)
    return {"version": heads.version, "heads": list(heads.names), "touchpoint_posts": len(written),
            "churn_posts": len(churn_rows)}
