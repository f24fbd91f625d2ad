"""The shipped sentiment model: NB-weighted logistic regression over hashed words and character 1-3 grams.

Features are binary (present or not): jieba words of the normalised text, and its character 1-3 grams with
each emoticon (`[怒]`) folded into one character. They are hashed into 2^20 buckets with numpy (splitmix64 of
the code points, crc32 of words), so the model is one weight vector (naive-Bayes log-count ratio times the
regression weight, folded together) and a Platt calibration, and scoring needs neither scikit-learn nor pickle:
it is stored as an .npz of plain arrays, loaded with allow_pickle=False.

A telecom-domain layer adds `lexicon_scale` times the post's cue evidence (sentiment/lexicon.py) to the
calibrated logit: the Weibo training data has almost no operator complaints. The scale is fitted by `train`.
"""

from __future__ import annotations

import io
import zipfile
import zlib
from collections.abc import Sequence
from functools import lru_cache
from itertools import chain
from pathlib import Path

import numpy as np
from scipy import sparse

from sentiment.text import EMOTICON

HERE = Path(__file__).resolve().parent
MODEL_FILE = HERE / "linear.npz"
N_FEATURES = 2**20
_MASK = np.uint64(N_FEATURES - 1)
_SALT = [np.uint64(x) for x in (0x0, 0x51ED270B, 0xA3C59AC2, 0x7F4A7C15)]  # unigram, bigram, trigram, word
_S21, _S42 = np.uint64(21), np.uint64(42)


def _fold_emoticon(m) -> str:
    """One private-use character per emoticon, stable across processes."""
    return chr(0xE000 + zlib.crc32(m.group().encode("utf-8")) % 6400)


def _mix(z: np.ndarray) -> np.ndarray:
    """splitmix64 finaliser: spreads n-gram codes evenly over the buckets."""
    z = z + np.uint64(0x9E3779B97F4A7C15)
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


@lru_cache(maxsize=500_000)
def _word_hash(word: str) -> int:
    return zlib.crc32(word.encode("utf-8"))


def feature_indices(text: str, words: Sequence[str]) -> np.ndarray:
    """Sorted unique feature buckets of one normalised text and its words."""
    return hash_features([text], [words]).indices


def hash_features(texts: Sequence[str], words: Sequence[Sequence[str]]) -> sparse.csr_matrix:
    """Binary hashed feature matrix, one row per text; the whole batch is hashed in a few numpy calls."""
    n = len(texts)
    chars = [EMOTICON.sub(_fold_emoticon, t).replace(" ", "") for t in texts]
    codes = np.frombuffer("".join(chars).encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
    row = np.repeat(np.arange(n, dtype=np.int64), [len(c) for c in chars])
    hashes = [codes ^ _SALT[0]]
    rows = [row]
    if len(codes) >= 2:
        same = row[:-1] == row[1:]
        hashes.append((((codes[:-1] << _S21) | codes[1:]) ^ _SALT[1])[same])
        rows.append(row[:-1][same])
    if len(codes) >= 3:
        same = row[:-2] == row[2:]
        hashes.append((((codes[:-2] << _S42) | (codes[1:-1] << _S21) | codes[2:]) ^ _SALT[2])[same])
        rows.append(row[:-2][same])
    kept = [[w for w in ws if not w.isspace()] for ws in words]
    flat = list(chain.from_iterable(kept))
    if flat:
        word_hashes = np.fromiter(map(_word_hash, flat), dtype=np.uint64, count=len(flat))
        hashes.append((word_hashes << np.uint64(8)) ^ _SALT[3])
        rows.append(np.repeat(np.arange(n, dtype=np.int64), [len(k) for k in kept]))
    buckets = (_mix(np.concatenate(hashes)) & _MASK).astype(np.int64)
    keys = np.sort((np.concatenate(rows) << 20) | buckets)
    if len(keys) > 1:
        keys = keys[np.concatenate(([True], keys[1:] != keys[:-1]))]
    indptr = np.searchsorted(keys >> 20, np.arange(n + 1, dtype=np.int64))
    indices = (keys & (N_FEATURES - 1)).astype(np.int32)
    return sparse.csr_matrix((np.ones(len(indices), dtype=np.float32), indices, indptr), shape=(n, N_FEATURES))


def write_npz(path: Path, arrays: dict[str, np.ndarray]) -> None:
    """An .npz of plain arrays (no pickle) in the given order with fixed timestamps: the same arrays give the same
    bytes, so retraining on the same data reproduces the shipped file."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for key, arr in arrays.items():
            buf = io.BytesIO()
            np.save(buf, arr, allow_pickle=False)
            info = zipfile.ZipInfo(f"{key}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, buf.getvalue())


class LinearModel:
    """Probability positive = sigmoid(a * (x . w + b) + c + s * lexicon evidence) over binary hashed features."""

    name = "linear"

    def __init__(self, weights: np.ndarray, intercept: float, platt: tuple[float, float], version: str,
                 lexicon_scale: float = 0.0, lexicon=None) -> None:
        self.weights = np.asarray(weights, dtype=np.float32)
        self.intercept = float(intercept)
        self.platt = (float(platt[0]), float(platt[1]))
        self.base_version = version
        self.lexicon_scale = float(lexicon_scale)
        if self.lexicon_scale and lexicon is None:
            from sentiment.lexicon import default_lexicon

            lexicon = default_lexicon()
        self.lexicon = lexicon if self.lexicon_scale else None

    def with_lexicon(self, scale: float, lexicon=None) -> LinearModel:
        """The same model with the telecom-domain layer at `scale` (0 turns it off)."""
        return LinearModel(self.weights, self.intercept, self.platt, self.base_version, scale, lexicon)

    @property
    def version(self) -> str:
        """The training data's version, plus the lexicon's digest and scale when the domain layer is on."""
        if self.lexicon is None:
            return self.base_version
        return f"{self.base_version}+lex-{self.lexicon.digest}x{self.lexicon_scale:g}"

    def decision(self, X: sparse.csr_matrix) -> np.ndarray:
        return X @ self.weights + self.intercept

    def calibrate(self, z: np.ndarray, evidence: np.ndarray | None = None) -> np.ndarray:
        logit = self.platt[0] * z + self.platt[1]
        if evidence is not None:
            logit = logit + self.lexicon_scale * evidence
        return 1.0 / (1.0 + np.exp(-logit))

    def evidence(self, texts: Sequence[str]) -> np.ndarray | None:
        """The lexicon evidence of each normalised text, or None without the domain layer."""
        return None if self.lexicon is None else self.lexicon.evidences(texts)

    def predict_words(self, texts: Sequence[str], words: Sequence[Sequence[str]]) -> list[float]:
        """Scores for normalised texts whose words the pipeline has already cut."""
        if not texts:
            return []
        X = hash_features(texts, words)
        probs = self.calibrate(self.decision(X), self.evidence(texts))
        probs[np.diff(X.indptr) == 0] = 0.5  # nothing to read: no opinion, not the model's prior
        return probs.tolist()

    def predict_proba(self, texts: Sequence[str]) -> list[float]:
        from sentiment.segment import cut
        from sentiment.text import normalize

        norm = [normalize(t) for t in texts]
        return self.predict_words(norm, [cut(t) for t in norm])

    def save(self, path: Path = MODEL_FILE) -> None:
        """Plain arrays in a zip with fixed timestamps, so retraining on the same data gives the same bytes."""
        arrays = {
            "weights": self.weights.astype(np.float16),
            "intercept": np.array([self.intercept], dtype=np.float64),
            "platt": np.array(self.platt, dtype=np.float64),
            "version": np.array(self.base_version),
            "lexicon_scale": np.array([self.lexicon_scale], dtype=np.float64),
            "n_features": np.array([N_FEATURES], dtype=np.int64),
        }
        write_npz(path, arrays)

    @classmethod
    def load(cls, path: Path = MODEL_FILE) -> LinearModel:
        if not path.exists():
            raise FileNotFoundError(f"{path} is missing: run `yuqing sentiment train`")
        with np.load(path, allow_pickle=False) as data:
            if int(data["n_features"][0]) != N_FEATURES:
                raise ValueError(f"{path}: built for {int(data['n_features'][0])} features, code expects {N_FEATURES}")
            scale = float(data["lexicon_scale"][0]) if "lexicon_scale" in data.files else 0.0
            return cls(data["weights"], float(data["intercept"][0]), tuple(data["platt"]), str(data["version"]), scale)
