"""A telecom complaint detector beside the three-way model: does a post report a problem its writer wants fixed or is
unhappy about (../shared/data/telecom/LABELLING.md)? A complaint is negative by convention; a how-to question that
names a fault is not a complaint.

It is a class-balanced logistic regression over the heads' features (hashed words and character 1-3 grams folded
into 2^16 buckets, binary, L2-normalised), trained on the written telecom posts' and the labelled customer-service
turns' complaint labels (sentiment/training_complaint.py). `linear3` reads it for posts about an operator:

- P(complaint) >= `hi`: the post is negative (a calm fault report is a complaint);
- P(complaint) < `lo`: the post is negative only on strong evidence, P(negative) >= `strong` from the sentiment
  model (or a threat to escalate or leave); otherwise the better of neutral and positive;
- in between: the sentiment model decides as before.

The thresholds were chosen on the other writer's posts and the customer-service turns, and confirmed on the real dev
set (sentiment/models/README.md, `python bench/complaint.py`). Weights are int8 with one scale, in an .npz of plain
arrays (allow_pickle=False).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from sentiment.models.heads import BITS
from sentiment.models.heads import features as features_of
from sentiment.models.linear import write_npz

HERE = Path(__file__).resolve().parent
COMPLAINT_FILE = HERE / "complaint.npz"


class ComplaintDetector:
    """P(complaint) for normalised texts, and the thresholds `linear3` decides with."""

    def __init__(self, weights: np.ndarray, bias: float, hi: float, lo: float, strong: float, version: str) -> None:
        self.w = np.asarray(weights, dtype=np.float32).ravel()
        self.b = float(bias)
        self.hi, self.lo, self.strong = float(hi), float(lo), float(strong)
        self.version = version

    def proba(self, texts: Sequence[str], words: Sequence[Sequence[str]]) -> np.ndarray:
        if not texts:
            return np.zeros(0)
        return self.proba_hashed(features_of(texts, words))

    def proba_hashed(self, X) -> np.ndarray:
        """P(complaint) from folded features (sentiment.models.heads.fold of the hashed features)."""
        z = X @ self.w + self.b
        return 1.0 / (1.0 + np.exp(-np.asarray(z, dtype=np.float64)))

    def decide(self, labels: list[str], p_complaint: np.ndarray, p_negative: np.ndarray,
               otherwise: Sequence[str], risky: Sequence[bool]) -> list[str]:
        """The labels of posts about an operator after reading the detector (see the module docstring);
        `otherwise[i]` is the sentiment model's better label of neutral and positive (after its bias)."""
        out = list(labels)
        for i, (pc, pn) in enumerate(zip(p_complaint, p_negative, strict=True)):
            if pc >= self.hi:
                out[i] = "negative"
            elif pc < self.lo and out[i] == "negative" and pn < self.strong and not risky[i]:
                out[i] = otherwise[i]
        return out

    def save(self, path: Path = COMPLAINT_FILE) -> None:
        w = np.asarray(self.w, dtype=np.float64)
        scale = max(float(np.abs(w).max()) / 127.0, 1e-12)
        write_npz(path, {"version": np.array(self.version), "bits": np.array([BITS]),
                         "w_q": np.round(w / scale).astype(np.int8), "w_scale": np.array([scale]),
                         "b": np.array([self.b]), "thresholds": np.array([self.hi, self.lo, self.strong])})

    @classmethod
    def load(cls, path: Path = COMPLAINT_FILE) -> ComplaintDetector:
        with np.load(path, allow_pickle=False) as d:
            if int(d["bits"][0]) != BITS:
                raise ValueError(f"{path}: built for 2^{int(d['bits'][0])} buckets, code expects 2^{BITS}")
            w = d["w_q"].astype(np.float32) * np.float32(d["w_scale"][0])
            hi, lo, strong = (float(x) for x in d["thresholds"])
            return cls(w, float(d["b"][0]), hi, lo, strong, str(d["version"]))
