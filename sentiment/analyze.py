"""analyze(posts) -> analyses and events, in batches; the model and the jieba dictionary load once per process."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from sentiment import events as events_mod
from sentiment.models import SentimentModel, get_model, resolve
from sentiment.models.heads import TelecomHeads, shipped_heads
from sentiment.models.linear import hash_features
from sentiment.regions import locate
from sentiment.segment import cut
from sentiment.text import mentions, normalize
from sentiment.topics import (
    OTHER,
    Taxonomy,
    about_operator,
    detect_operators,
    influence,
    keywords,
    load_taxonomy,
    risk_flags,
)
from yuqing.records import Analysis, Event, Post, now_utc

THRESHOLDS_FILE = Path(__file__).resolve().parent / "models" / "thresholds.json"
DEFAULT_BAND = (0.35, 0.65)


def neutral_band(model_name: str) -> tuple[float, float]:
    """(lo, hi): score < lo is negative, score >= hi positive, between is neutral; calibrated by `train`."""
    if THRESHOLDS_FILE.exists():
        data = json.loads(THRESHOLDS_FILE.read_text(encoding="utf-8"))
        band = data.get(model_name, {}).get("band")
        if band:
            return float(band[0]), float(band[1])
    return DEFAULT_BAND


def label_for(score: float, band: tuple[float, float]) -> str:
    if score < band[0]:
        return "negative"
    if score >= band[1]:
        return "positive"
    return "neutral"


def merge_touchpoints(rules: tuple[str, ...], learned: frozenset[str], order: tuple[str, ...]) -> tuple[str, ...]:
    """The rules' touchpoints with those a learned head adds, in taxonomy order; (其他,) only when neither finds one."""
    found = (set(rules) - {OTHER}) | (learned & set(order))
    return tuple(n for n in order if n in found) or (OTHER,)


def merge_risks(rules: tuple[str, ...], learned: frozenset[str]) -> tuple[str, ...]:
    """The rules' risk flags, with churn added when the learned churn head fires."""
    return rules + ("churn",) if "churn" in learned and "churn" not in rules else rules


class Analyzer:
    """Turns batches of posts into Analysis records and events; build it once and reuse it."""

    def __init__(self, model: SentimentModel, taxonomy: Taxonomy, *, batch_size: int = 256,
                 band: tuple[float, float] | None = None, clock: Callable[[], datetime] = now_utc,
                 heads: TelecomHeads | None | bool = True) -> None:
        self.model = model
        # learned touchpoint/churn heads OR-ed with the rules; True = the shipped ones (if present), None/False = rules
        self.heads = shipped_heads() if heads is True else (heads or None)
        self.taxonomy = taxonomy
        self.batch_size = max(1, batch_size)
        self.band = band or neutral_band(model.name)
        self.clock = clock

    @property
    def version(self) -> str:
        """What produced an analysis: the model's version, the heads' when they take part, and the rules' (touchpoint
        words and risk patterns) when the taxonomy was loaded from its file."""
        parts = [self.model.version, self.heads.version if self.heads else "", self.taxonomy.version]
        return "+".join(p for p in parts if p)

    @classmethod
    def from_settings(cls, settings) -> Analyzer:  # settings: yuqing.config.Settings
        """The analyzer for settings.sentiment (model name, batch size, touchpoint file)."""
        conf = settings.sentiment
        try:
            name = resolve(conf.model)
        except KeyError as exc:
            from yuqing.config import ConfigError

            raise ConfigError(f"{settings.source_file or 'settings'}: [sentiment] model: {exc.args[0]}") from None
        path = Path(conf.touchpoints)
        if not path.is_absolute() and not path.exists():
            path = Path(__file__).resolve().parents[1] / conf.touchpoints
        return cls(get_model(name), load_taxonomy(path), batch_size=conf.batch_size)

    def scores(self, texts: Sequence[str], words: Sequence[list[str]]) -> list[float]:
        """Probability positive for normalised texts, in model-sized batches."""
        out: list[float] = []
        predict_words = getattr(self.model, "predict_words", None)
        for start in range(0, len(texts), self.batch_size):
            chunk = slice(start, start + self.batch_size)
            if predict_words is not None:
                out.extend(predict_words(texts[chunk], words[chunk]))
            else:
                out.extend(self.model.predict_proba(texts[chunk]))
        return out

    def labels(self, texts: Sequence[str], words: Sequence[list[str]], domain: Sequence[bool],
               risky: Sequence[bool], hashed: Any = None) -> tuple[list[str], list[float]]:
        """Labels and scores for normalised texts: a three-way model labels them itself (posts about an operator
        through its telecom layer); other models' scores are cut by the neutral band."""
        predict_labels = getattr(self.model, "predict_labels", None)
        if predict_labels is None:
            scores = self.scores(texts, words)
            return [label_for(s, self.band) for s in scores], scores
        labels: list[str] = []
        scores: list[float] = []
        for start in range(0, len(texts), self.batch_size):
            chunk = slice(start, start + self.batch_size)
            extra = {} if hashed is None else {"hashed": hashed[chunk]}
            lab, sc = predict_labels(texts[chunk], words[chunk], domain[chunk], risky[chunk], **extra)
            labels.extend(lab)
            scores.extend(sc)
        return labels, scores

    def analyze(self, posts: Sequence[Post], known_events: Sequence[Event] = ()) -> tuple[list[Analysis], list[Event]]:
        """One Analysis per post (same order) and the events these posts created or grew."""
        if not posts:
            return [], []
        texts = [normalize(f"{p.title} {p.text}" if p.title else p.text) for p in posts]
        words = [cut(t) for t in texts]
        named = [mentions(p.text) for p in posts]  # normalisation drops @mentions: who a post calls on is read here
        operators = [tuple(p.operators) or detect_operators(" ".join([t, *m]))
                     for p, t, m in zip(posts, texts, named, strict=True)]
        domain = [bool(ops) or about_operator(t) for ops, t in zip(operators, texts, strict=True)]
        reads = getattr(self.model, "reads_hashed", False)  # hashed once for the heads and such a model (linear3)
        hashed = hash_features(texts, words) if self.heads or reads else None
        learned = self.heads.predict_hashed(hashed) if self.heads else [frozenset()] * len(texts)
        risks = [merge_risks(risk_flags(t, m), heads) for t, m, heads in zip(texts, named, learned, strict=True)]
        labels, scores = self.labels(texts, words, domain, [bool(r) for r in risks], hashed if reads else None)
        hashes = events_mod.simhashes(texts)
        now = self.clock()
        rows = []
        items = []
        version = self.version
        for post, text, ws, label, score, sh, ops, risk, heads in zip(posts, texts, words, labels, scores, hashes,
                                                                      operators, risks, learned, strict=True):
            touch = merge_touchpoints(self.taxonomy.match(text), heads, self.taxonomy.names)
            province, city = locate(text, post.ip_region)
            keys = keywords(ws)
            rows.append(dict(
                label=label, score=round(float(score), 4), model=self.model.name, model_version=version,
                touchpoints=touch, operators=ops, province=province, city=city, risk_flags=risk,
                influence=influence(post.author_followers, post.author_verified, post.reposts, post.comments,
                                    post.likes),
                keywords=keys, simhash=sh, analyzed_at=now,
            ))
            items.append(events_mod.Item(post, sh, keys, ops, touch, city, label == "negative", province))
        event_ids, events = events_mod.group(items, known_events)
        return [Analysis(event_id=eid, **row) for row, eid in zip(rows, event_ids, strict=True)], events

    def refresh(self, post: Post, previous: Analysis) -> Analysis:
        """A re-crawled post with unchanged text keeps its analysis (see `refresh`)."""
        return refresh(post, previous)


def refresh(post: Post, previous: Analysis) -> Analysis:
    """A re-crawled post whose text is unchanged keeps its analysis and its place in its event (analyzing it
    again would count it into its event twice); only the reach its new counts give is recomputed."""
    return dataclasses.replace(previous, influence=influence(post.author_followers, post.author_verified,
                                                             post.reposts, post.comments, post.likes))


def analyze(posts: Sequence[Post], known_events: Sequence[Event] = (), *, model: str = "default") -> tuple[
        list[Analysis], list[Event]]:
    """Convenience: analyse with the default taxonomy and the named model (loaded once per process)."""
    return Analyzer(get_model(model), load_taxonomy()).analyze(posts, known_events)
