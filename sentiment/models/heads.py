"""Learned telecom heads beside the keyword rules: one-vs-rest logistic regressions that say whether a post is
about a touchpoint, or whether its writer is leaving (churn).

The keyword rules (sentiment/touchpoints.toml, sentiment.topics.risk_flags) miss phrasing nobody wrote a word for;
a head trained on labelled telecom posts (sentiment/data/telecom_written_{e,f}.jsonl, and for churn the labelled
customer-service turns) adds what it is confident about. A head's answer is OR-ed with its rule's: only heads
that raised the other writer's figures without lowering the real dev set's are shipped (sentiment/models/README.md).

Features are the `linear` model's hashed words and character 1-3 grams folded into 2^16 buckets, binary and
L2-normalised; weights are int8 with one scale per head, in an .npz of plain arrays (allow_pickle=False).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

import numpy as np
from scipy import sparse

from sentiment.models.linear import hash_features, write_npz

HERE = Path(__file__).resolve().parent
HEADS_FILE = HERE / "telecom_heads.npz"
BITS = 16
CHURN = "churn"


def features(texts: Sequence[str], words: Sequence[Sequence[str]]) -> sparse.csr_matrix:
    """Binary hashed features folded into 2^BITS buckets, each row scaled to unit length."""
    return fold(hash_features(texts, words))


def fold(X: sparse.csr_matrix) -> sparse.csr_matrix:
    """`features` from already hashed features (sentiment.models.linear.hash_features): no second hashing."""
    cols = (X.indices & ((1 << BITS) - 1)).astype(np.int32)
    X = sparse.csr_matrix((np.ones(len(cols), dtype=np.float32), cols, X.indptr.copy()),  # sum_duplicates rewrites it
                          shape=(X.shape[0], 1 << BITS))
    X.sum_duplicates()
    X.data[:] = 1.0
    norms = np.sqrt(np.asarray(X.sum(axis=1)).ravel())
    norms[norms == 0] = 1.0
    return sparse.csr_matrix(sparse.diags(1.0 / norms) @ X, dtype=np.float32)


class TelecomHeads:
    """Named heads (touchpoint names and `churn`) with weights (heads x 2^BITS), intercepts and thresholds."""

    def __init__(self, names: Sequence[str], weights: np.ndarray, bias: np.ndarray, threshold: np.ndarray,
                 version: str) -> None:
        self.names = tuple(names)
        self.wT = np.ascontiguousarray(np.asarray(weights, dtype=np.float32).T)
        self.bias = np.asarray(bias, dtype=np.float32)
        self.logit_threshold = np.log(threshold / (1 - threshold)).astype(np.float32)
        self.threshold = np.asarray(threshold, dtype=np.float64)
        self.version = version

    def predict(self, texts: Sequence[str], words: Sequence[Sequence[str]]) -> list[frozenset[str]]:
        """The heads that fire on each normalised text."""
        if not texts:
            return []
        return self.predict_hashed(hash_features(texts, words))

    def predict_hashed(self, X: sparse.csr_matrix) -> list[frozenset[str]]:
        """`predict` from the texts' hashed features (sentiment.models.linear.hash_features), hashed once for all."""
        if X.shape[0] == 0:
            return []
        fires = (fold(X) @ self.wT + self.bias) >= self.logit_threshold
        return [frozenset(self.names[j] for j in np.flatnonzero(row)) for row in fires]

    def save(self, path: Path = HEADS_FILE) -> None:
        w = np.asarray(self.wT.T, dtype=np.float64)
        scale = np.abs(w).max(axis=1, keepdims=True) / 127.0
        scale[scale == 0] = 1.0
        write_npz(path, {"names": np.array(self.names), "version": np.array(self.version),
                         "w_q": np.round(w / scale).astype(np.int8), "w_scale": scale, "b": self.bias.astype(np.float64),
                         "threshold": self.threshold, "bits": np.array([BITS])})

    @classmethod
    def load(cls, path: Path = HEADS_FILE) -> TelecomHeads:
        if not path.exists():
            raise FileNotFoundError(f"{path} is missing: run `yuqing sentiment train --models heads`")
        with np.load(path, allow_pickle=False) as d:
            if int(d["bits"][0]) != BITS:
                raise ValueError(f"{path}: built for 2^{int(d['bits'][0])} buckets, code expects 2^{BITS}")
            w = d["w_q"].astype(np.float32) * d["w_scale"].astype(np.float32)
            return cls([str(n) for n in d["names"]], w, d["b"], d["threshold"], str(d["version"]))


@lru_cache(maxsize=4)
def shipped_heads(path: Path = HEADS_FILE) -> TelecomHeads | None:
    """The shipped heads, loaded once per process; None when the file is absent (the rules then work alone)."""
    return TelecomHeads.load(path) if path.exists() else None
