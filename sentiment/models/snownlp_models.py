"""SnowNLP models: the stock one (shopping reviews) and its Bayes classifier retrained on Weibo with jieba tokens.

Importing snownlp loads all of its models (about 420 MB), so this module is imported only when one of
these models is selected.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterable, Sequence
from pathlib import Path

HERE = Path(__file__).resolve().parent
WEIBO_FILE = HERE / "snownlp_weibo.json.gz"


class StockSnowNLP:
    """`SnowNLP(text).sentiments` exactly as shipped: its own segmenter and shopping-review model."""

    name = "snownlp"

    def __init__(self) -> None:
        import snownlp
        from snownlp import sentiment

        self.version = f"snownlp-{getattr(snownlp, '__version__', '0.12.3')}-stock"
        self._classify = sentiment.classify

    def predict_proba(self, texts: Sequence[str]) -> list[float]:
        return [float(self._classify(t)) if t.strip() else 0.5 for t in texts]


class WeiboSnowNLP:
    """SnowNLP's naive Bayes classifier trained on the shared Weibo sets, fed jieba tokens instead of its segmenter."""

    name = "snownlp-weibo"

    def __init__(self, classifier, version: str) -> None:  # classifier: snownlp.classification.bayes.Bayes
        self._bayes = classifier
        self.version = version

    @classmethod
    def train(cls, docs: Iterable[list[str]], labels: Iterable[int], version: str) -> WeiboSnowNLP:
        """Train on jieba words (stopwords are dropped here, as SnowNLP's own sentiment drops them)."""
        from snownlp.classification.bayes import Bayes

        bayes = Bayes()
        bayes.train([[_content(words), "pos" if y == 1 else "neg"] for words, y in zip(docs, labels, strict=True)])
        return cls(bayes, version)

    def save(self, path: Path = WEIBO_FILE, min_count: int = 3) -> None:
        """Word counts of both classes as gzipped JSON with sorted keys (no code, same bytes for the same data);
        words seen fewer than min_count times are dropped."""
        classes = {}
        for label, prob in self._bayes.d.items():
            counts = {w: c for w, c in prob.d.items() if c >= min_count}
            classes[label] = {"counts": counts, "total": sum(counts.values()), "none": prob.none}
        payload = {"version": self.version, "classes": classes}
        text = json.dumps(payload, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
        path.write_bytes(gzip.compress(text.encode("utf-8"), mtime=0))

    @classmethod
    def load(cls, path: Path = WEIBO_FILE) -> WeiboSnowNLP:
        from snownlp.classification.bayes import Bayes
        from snownlp.utils.frequency import AddOneProb

        if not path.exists():
            raise FileNotFoundError(f"{path} is missing: run `yuqing sentiment train`")
        payload = json.loads(gzip.decompress(path.read_bytes()))
        bayes = Bayes()
        for label, spec in payload["classes"].items():
            prob = AddOneProb()
            prob.d, prob.total, prob.none = dict(spec["counts"]), spec["total"], spec["none"]
            bayes.d[label] = prob
        bayes.total = sum(p.getsum() for p in bayes.d.values())
        return cls(bayes, payload["version"])

    def predict_words(self, texts: Sequence[str], words: Sequence[list[str]]) -> list[float]:
        out = []
        for ws in words:
            content = _content(ws)
            if not content:
                out.append(0.5)  # nothing to read: no opinion, not the class prior
                continue
            label, prob = self._bayes.classify(content)
            out.append(prob if label == "pos" else 1.0 - prob)
        return out

    def predict_proba(self, texts: Sequence[str]) -> list[float]:
        from sentiment.segment import cut
        from sentiment.text import normalize

        return self.predict_words(texts, [cut(normalize(t)) for t in texts])


def _content(words: Iterable[str]) -> list[str]:
    from sentiment.segment import stopwords

    stop = stopwords()
    return [w for w in words if w not in stop and not w.isspace()]
