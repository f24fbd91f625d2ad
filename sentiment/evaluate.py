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


THREE = ("negative", "neutral", "positive")


def read_three_labels(path: str | Path) -> tuple[list[str], list[str], int]:
    """Labels and texts of a `label,text` CSV labelled negative/neutral/positive, and how many rows were skipped."""
    labels: list[str] = []
    texts: list[str] = []
    skipped = 0
    with open(path, encoding="utf-8-sig", newline="") as fh:
        reader = csv.DictReader(fh)
        if "label" not in (reader.fieldnames or []) or "text" not in (reader.fieldnames or []):
            raise ValueError(f"{path}: needs a header with `label` and `text` columns, got {reader.fieldnames}")
        for row in reader:
            label, text = (row.get("label") or "").strip(), (row.get("text") or "").strip()
            if label not in THREE or not text:
                skipped += 1
                continue
            labels.append(label)
            texts.append(text)
    return labels, texts, skipped


def three_label_metrics(gold: Sequence[str], pred: Sequence[str]) -> dict:
    """Accuracy and macro-F1 over the three labels, and negative vs the rest (what alerts act on)."""
    pairs = list(zip(gold, pred, strict=True))
    n = len(pairs)

    def f1(cls: str, g: Sequence[str], p: Sequence[str]) -> float:
        tp = sum(1 for a, b in zip(g, p, strict=True) if a == cls and b == cls)
        wrong = sum(1 for a, b in zip(g, p, strict=True) if (a == cls) != (b == cls))
        return 2 * tp / (2 * tp + wrong) if tp else 0.0

    neg_g = ["negative" if a == "negative" else "other" for a in gold]
    neg_p = ["negative" if b == "negative" else "other" for b in pred]
    negatives = [b for a, b in pairs if a == "negative"]
    return {
        "n": n,
        "accuracy": round(sum(a == b for a, b in pairs) / n, 4) if n else 0.0,
        "macro_f1": round(sum(f1(c, gold, pred) for c in THREE) / 3, 4),
        "binary_accuracy": round(sum(a == b for a, b in zip(neg_g, neg_p, strict=True)) / n, 4) if n else 0.0,
        "binary_macro_f1": round((f1("negative", neg_g, neg_p) + f1("other", neg_g, neg_p)) / 2, 4),
        "negative_recall": round(negatives.count("negative") / len(negatives), 4) if negatives else 0.0,
        "positive_as_negative": sum(1 for a, b in pairs if a == "positive" and b == "negative"),
        "neutral_as_negative": sum(1 for a, b in pairs if a == "neutral" and b == "negative"),
    }


def evaluate_three(model, band: tuple[float, float], labels: Sequence[str], texts: Sequence[str]) -> dict:
    """Three-label metrics of a model with its neutral band (see three_label_metrics), plus posts/s."""
    from sentiment.segment import clear_cache

    clear_cache()
    start = time.perf_counter()
    pred, _ = model_labels(model, band, texts)
    elapsed = max(time.perf_counter() - start, 1e-9)
    out = {"model": model.name, "version": model.version, "band": list(band)}
    out.update(three_label_metrics(labels, pred))
    out["posts_per_s"] = round(len(texts) / elapsed, 1)
    out["per_class"] = per_class(labels, pred)
    out["confusion"] = confusion(labels, pred)
    return out


def per_class(gold: Sequence[str], pred: Sequence[str], classes: Sequence[str] = THREE) -> dict:
    """Precision, recall, F1 and support of each label."""
    out = {}
    for cls in classes:
        tp = sum(1 for a, b in zip(gold, pred, strict=True) if a == cls and b == cls)
        fp = sum(1 for a, b in zip(gold, pred, strict=True) if a != cls and b == cls)
        fn = sum(1 for a, b in zip(gold, pred, strict=True) if a == cls and b != cls)
        p = tp / (tp + fp) if tp + fp else 0.0
        r = tp / (tp + fn) if tp + fn else 0.0
        out[cls] = {"precision": round(p, 4), "recall": round(r, 4),
                    "f1": round(2 * p * r / (p + r), 4) if p + r else 0.0, "support": tp + fn}
    return out


def confusion(gold: Sequence[str], pred: Sequence[str], classes: Sequence[str] = THREE) -> dict[str, dict[str, int]]:
    """{gold label: {predicted label: count}}."""
    out = {g: dict.fromkeys(classes, 0) for g in classes}
    for a, b in zip(gold, pred, strict=True):
        if a in out and b in out[a]:
            out[a][b] += 1
    return out


def model_labels(model, band: tuple[float, float], texts: Sequence[str]) -> tuple[list[str], list[float]]:
    """Labels and scores of raw texts: a three-way model's own labels, or the score's place in the neutral band."""
    from sentiment.analyze import label_for

    if hasattr(model, "predict_raw"):
        return model.predict_raw(list(texts))
    probs = model.predict_proba(list(texts))
    return [label_for(p, band) for p in probs], probs
