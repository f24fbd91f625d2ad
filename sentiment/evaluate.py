"""Evaluation of sentiment models on a `label,text` CSV (1 positive, 0 negative): accuracy, macro-F1, posts/s.

A model's 3-label output is mapped to binary by score >= 0.5 (positive) or < 0.5 (negative): the neutral
band only matters to the dashboard, a binary set has no neutral posts.
"""

from __future__ import annotations

import csv
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Result:
    model: str
    version: str
    n: int
    accuracy: float
    macro_f1: float
    posts_per_s: float

    def as_json(self) -> dict:
        return {"model": self.model, "version": self.version, "n": self.n, "accuracy": round(self.accuracy, 4),
                "macro_f1": round(self.macro_f1, 4), "posts_per_s": round(self.posts_per_s, 1)}


def read_labelled(path: str | Path) -> tuple[list[int], list[str], int]:
    """Labels and texts of a CSV with a `label` and a `text` (or `review`) column, and how many rows were skipped.

    Rows whose label is not 0 or 1 or whose text is empty are skipped and counted, never silently.
    """
    labels: list[int] = []
    texts: list[str] = []
    skipped = 0
    with open(path, encoding="utf-8-sig", newline="") as fh:
        reader = csv.DictReader(fh)
        fields = reader.fieldnames or []
        text_col = "text" if "text" in fields else "review" if "review" in fields else None
        if "label" not in fields or text_col is None:
            raise ValueError(f"{path}: needs a header with `label` and `text` columns, got {fields}")
        for row in reader:
            label, text = (row.get("label") or "").strip(), (row.get(text_col) or "").strip()
            if label not in ("0", "1") or not text:
                skipped += 1
                continue
            labels.append(int(label))
            texts.append(text)
    return labels, texts, skipped


def binary_metrics(y_true: Sequence[int], y_pred: Sequence[int]) -> tuple[float, float]:
    """(accuracy, macro-F1 over the two classes)."""
    n = len(y_true)
    if n == 0:
        return 0.0, 0.0
    correct = sum(int(a == b) for a, b in zip(y_true, y_pred, strict=True))
    f1s = []
    for cls in (0, 1):
        tp = sum(1 for a, b in zip(y_true, y_pred, strict=True) if a == cls and b == cls)
        fp = sum(1 for a, b in zip(y_true, y_pred, strict=True) if a != cls and b == cls)
        fn = sum(1 for a, b in zip(y_true, y_pred, strict=True) if a == cls and b != cls)
        f1s.append(2 * tp / (2 * tp + fp + fn) if tp else 0.0)
    return correct / n, sum(f1s) / 2


def evaluate(model, labels: Sequence[int], texts: Sequence[str]) -> Result:
    """Score every text with the model (already loaded, so load time is not counted) and measure it.

    The segmentation cache is emptied first: each model is timed from cold, not on texts another model cut.
    """
    from sentiment.segment import clear_cache

    clear_cache()
    start = time.perf_counter()
    probs = model.predict_proba(list(texts))
    elapsed = max(time.perf_counter() - start, 1e-9)
    preds = [1 if p >= 0.5 else 0 for p in probs]
    acc, f1 = binary_metrics(labels, preds)
    return Result(model.name, model.version, len(labels), acc, f1, len(labels) / elapsed)
