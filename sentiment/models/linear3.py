"""The default model: three labels (negative / neutral / positive) learnt from real neutral data, with a telecom layer.

Features are the `linear` model's binary hashed words and character 1-3 grams (sentiment/models/linear.py),
TF-IDF weighted and L2-normalised. Three parts, all linear:

- general: the average log-probability of a softmax over the three labels and of two naive-Bayes-weighted
  logistic heads (neutral vs. having an attitude; positive vs. negative), trained on three-way Weibo (NLPCC 2013,
  SMP2020 COVID) with the binary Weibo sets and official telecom FAQ text;
- telecom: a softmax trained on telecom posts (complaints, questions, news, praise), and a small stacker that
  combines it with the general log-probabilities. It is used only for posts about an operator (named in the
  text or @-mentioned), where a calm fault report must count as a complaint and a how-to question must not;
- per-part label biases chosen on out-of-distribution dev sets (sentiment/models/README.md).

`label` is the arg-max; `score` is P(positive | the post has an attitude) = P(pos) / (P(pos) + P(neg)), so
score < 0.5 means "leaning negative" and binary evaluation keeps its meaning. Weights are int8 with one scale
per vector in an .npz of plain arrays (allow_pickle=False).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from scipy import sparse

from sentiment.models.complaint import COMPLAINT_FILE, ComplaintDetector
from sentiment.models.heads import fold
from sentiment.models.linear import N_FEATURES, hash_features, write_npz

HERE = Path(__file__).resolve().parent
MODEL_FILE = HERE / "linear3.npz"
LABELS = ("negative", "neutral", "positive")
# The telecom layer does not read operator names: praise names the operator more often than complaints do, so
# with a few hundred training posts the name itself (or a placeholder for it) would turn into good news.
_OPERATOR_NAME = re.compile(r"中国电信|中国移动|中国联通|电信|联通|移动(?!数据|网络|信号)|运营商")


def mask_operators(texts: Sequence[str]) -> tuple[list[str], list[list[str]]]:
    """Texts with every operator name removed, and their words."""
    from sentiment.segment import cut

    masked = [_OPERATOR_NAME.sub("", t) for t in texts]
    return masked, [cut(t) for t in masked]


def tfidf(X: sparse.csr_matrix, idf: np.ndarray) -> sparse.csr_matrix:
    """Binary features times IDF, each row scaled to unit length (empty rows stay empty)."""
    X = sparse.csr_matrix(X.multiply(idf.astype(np.float32)), dtype=np.float32)
    norms = np.sqrt(np.asarray(X.multiply(X).sum(axis=1)).ravel())
    norms[norms == 0] = 1.0
    return sparse.csr_matrix(sparse.diags(1.0 / norms) @ X, dtype=np.float32)


def log_softmax(z: np.ndarray) -> np.ndarray:
    return z - np.logaddexp.reduce(z, axis=1, keepdims=True)


def _log_sigmoid(z: np.ndarray) -> np.ndarray:
    return -np.logaddexp(0.0, -z)


def hier_log_probs(z_neutral: np.ndarray, z_positive: np.ndarray) -> np.ndarray:
    """log P over (negative, neutral, positive) from P(neutral) and P(positive | not neutral) logits."""
    neu, polar = _log_sigmoid(z_neutral), _log_sigmoid(-z_neutral)
    pos, neg = _log_sigmoid(z_positive), _log_sigmoid(-z_positive)
    return np.stack([polar + neg, neu, polar + pos], axis=1)


class ThreeWayModel:
    """Three-way sentiment with a telecom layer; see the module docstring."""

    name = "linear3"
    # arrays stored in the model file: name -> shape suffix (F = N_FEATURES)
    VECTORS = ("flat", "neutral", "polar", "telecom")

    def __init__(self, arrays: dict[str, np.ndarray], version: str, complaint: ComplaintDetector | None = None) -> None:
        self.a = {k: np.asarray(v) for k, v in arrays.items()}
        # the complaint detector beside the model (sentiment/models/complaint.py) decides posts about an operator
        self.complaint = complaint
        self.base_version = version
        self.version = f"{version}+{complaint.version}" if complaint else version
        self.idf = self.a["idf"].astype(np.float32)
        # (features x labels), contiguous: a transposed view would be copied by scipy on every batch
        self.flat_wT = np.ascontiguousarray(self.a["flat_w"].T, dtype=np.float32)
        self.telecom_wT = np.ascontiguousarray(self.a["telecom_w"].T, dtype=np.float32)

    # -- scoring ---------------------------------------------------------------------------------------------------
    def log_probs(self, texts: Sequence[str], words: Sequence[Sequence[str]],
                  domain: Sequence[bool] | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(log P over the three labels, the label bias of each row, rows with no features) for normalised texts.

        Posts about an operator (`domain`) get the telecom layer's probabilities and bias, the rest the general
        part's. The bias moves the label only; the score is read from the unbiased probabilities."""
        return self._log_probs(texts, words, domain)[:3]

    reads_hashed = True  # predict_labels takes the hashed features the Analyzer already made for the heads

    def _log_probs(self, texts: Sequence[str], words: Sequence[Sequence[str]], domain: Sequence[bool] | None,
                   hashed: sparse.csr_matrix | None = None
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray, sparse.csr_matrix]:
        """log_probs and the hashed features (the complaint detector reads them too)."""
        a = self.a
        X = hash_features(texts, words) if hashed is None else hashed
        empty = np.diff(X.indptr) == 0
        Xt = tfidf(X, self.idf)
        flat = log_softmax(Xt @ self.flat_wT + a["flat_b"])
        hier = hier_log_probs(X @ a["neutral_w"] + a["neutral_b"][0], X @ a["polar_w"] + a["polar_b"][0])
        out = (flat + hier) / 2.0
        bias = np.tile(a["bias_general"], (len(texts), 1))
        if domain is not None and any(domain):
            rows = np.flatnonzero(np.asarray(domain, dtype=bool))
            Xm = tfidf(hash_features(*mask_operators([texts[i] for i in rows])), self.idf)
            tel = log_softmax(Xm @ self.telecom_wT + a["telecom_b"])
            out[rows] = log_softmax(np.hstack([out[rows], tel]) @ a["stack_w"].T + a["stack_b"])
            bias[rows] = a["bias_telecom"]
        return out, bias, empty, X

    def predict_labels(self, texts: Sequence[str], words: Sequence[Sequence[str]],
                       domain: Sequence[bool] | None = None, risky: Sequence[bool] | None = None,
                       hashed: sparse.csr_matrix | None = None) -> tuple[list[str], list[float]]:
        """Labels and scores (P(positive | not neutral)) for normalised texts; `domain[i]` marks posts about an
        operator (the telecom layer decides those), `risky[i]` one whose writer threatens to escalate or leave
        (sentiment.topics.risk_flags): such a post about an operator is not neutral, it is a complaint. `hashed`:
        sentiment.models.linear.hash_features(texts, words) when the caller has them already."""
        if not texts:
            return [], []
        lp, bias, empty, X = self._log_probs(texts, words, domain, hashed)
        p = np.exp(lp)
        labels = [LABELS[i] for i in (lp + bias).argmax(axis=1)]
        if domain is not None and risky is not None:
            labels = ["negative" if lab == "neutral" and d and r else lab
                      for lab, d, r in zip(labels, domain, risky, strict=True)]
        if domain is not None and self.complaint is not None and any(domain):
            rows = np.flatnonzero(np.asarray(domain, dtype=bool))
            pc = self.complaint.proba_hashed(fold(X[rows]))
            flags = [bool(risky[i]) if risky is not None else False for i in rows]
            biased = (lp + bias)[rows]
            otherwise = ["positive" if b[2] > b[1] else "neutral" for b in biased]
            decided = self.complaint.decide([labels[i] for i in rows], pc, p[rows, 0], otherwise, flags)
            for i, lab in zip(rows, decided, strict=True):
                labels[i] = lab
        scores = p[:, 2] / np.maximum(p[:, 0] + p[:, 2], 1e-12)
        for i in np.flatnonzero(empty):  # nothing to read: no opinion
            labels[i], scores[i] = "neutral", 0.5
        return labels, [round(float(s), 6) for s in scores]

    def predict_words(self, texts: Sequence[str], words: Sequence[Sequence[str]],
                      domain: Sequence[bool] | None = None) -> list[float]:
        return self.predict_labels(texts, words, domain)[1]

    def predict_raw(self, texts: Sequence[str]) -> tuple[list[str], list[float]]:
        """Labels and scores for raw post texts: normalised, cut, and the operator found in the text or its
        @-mentions (normalisation drops mentions, so they are read first)."""
        from sentiment.segment import cut
        from sentiment.text import mentions, normalize
        from sentiment.topics import about_operator, risk_flags

        norm = [normalize(t) for t in texts]
        domain = [about_operator(n, t) for n, t in zip(norm, texts, strict=True)]
        risky = [bool(risk_flags(n, mentions(t))) for n, t in zip(norm, texts, strict=True)]
        return self.predict_labels(norm, [cut(n) for n in norm], domain, risky)

    def predict_proba(self, texts: Sequence[str]) -> list[float]:
        return self.predict_raw(texts)[1]

    # -- file ------------------------------------------------------------------------------------------------------
    def save(self, path: Path = MODEL_FILE) -> None:
        """int8 weight vectors with one float scale each, in a zip with fixed timestamps (same data, same bytes)."""
        arrays: dict[str, np.ndarray] = {"version": np.array(self.base_version), "n_features": np.array([N_FEATURES])}
        idf = self.a["idf"]
        arrays["idf_q"] = np.round(idf * 20).clip(0, 255).astype(np.uint8)  # idf in [1, 12], steps of 0.05
        for key, value in self.a.items():
            if key == "idf":
                continue
            value = np.asarray(value, dtype=np.float64)
            if value.shape[-1] == N_FEATURES:
                scale = np.abs(value).max(axis=-1, keepdims=True) / 127.0
                scale[scale == 0] = 1.0
                arrays[key + "_q"] = np.round(value / scale).astype(np.int8)
                arrays[key + "_scale"] = scale.astype(np.float64)
            else:
                arrays[key] = value
        write_npz(path, {key: arrays[key] for key in sorted(arrays)})

    @classmethod
    def load(cls, path: Path = MODEL_FILE, complaint: bool = True) -> ThreeWayModel:
        """The model in `path`, with the complaint detector beside it in the same directory when there is one."""
        if not path.exists():
            raise FileNotFoundError(f"{path} is missing: run `yuqing sentiment train`")
        arrays: dict[str, np.ndarray] = {}
        with np.load(path, allow_pickle=False) as data:
            if int(data["n_features"][0]) != N_FEATURES:
                raise ValueError(f"{path}: built for {int(data['n_features'][0])} features, code expects {N_FEATURES}")
            version = str(data["version"])
            for key in data.files:
                if key in ("version", "n_features") or key.endswith("_scale"):
                    continue
                if key == "idf_q":
                    arrays["idf"] = data[key].astype(np.float32) / 20.0
                elif key.endswith("_q"):
                    base = key[:-2]
                    arrays[base] = (data[key].astype(np.float32) * data[base + "_scale"].astype(np.float32))
                else:
                    arrays[key] = data[key]
        detector = path.parent / COMPLAINT_FILE.name
        return cls(arrays, version, ComplaintDetector.load(detector) if complaint and detector.exists() else None)
