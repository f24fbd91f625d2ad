"""Sentiment models behind one interface, looked up by the name used in settings.

A model has `name`, `version` and `predict_proba(texts) -> list[float]` (probability the text is positive).
Models that can reuse the pipeline's segmentation also offer `predict_words(texts, words)`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import cache
from typing import Protocol, runtime_checkable

DEFAULT = "snownlp"  # the best measured model; see sentiment/models/README.md for the numbers


@runtime_checkable
class SentimentModel(Protocol):
    name: str
    version: str

    def predict_proba(self, texts: Sequence[str]) -> list[float]: ...


def _stock() -> SentimentModel:
    from sentiment.models.snownlp_models import StockSnowNLP

    return StockSnowNLP()


def _snownlp_weibo() -> SentimentModel:
    from sentiment.models.snownlp_models import WeiboSnowNLP

    return WeiboSnowNLP.load()


def _linear() -> SentimentModel:
    from sentiment.models.linear import LinearModel

    return LinearModel.load()


REGISTRY: dict[str, Callable[[], SentimentModel]] = {
    "snownlp": _stock,
    "snownlp-weibo": _snownlp_weibo,
    "linear": _linear,
}


def resolve(name: str) -> str:
    """The registry name for a settings value ("default" -> the best measured model)."""
    name = name or "default"
    if name == "default":
        return DEFAULT
    if name not in REGISTRY:
        raise KeyError(f"unknown sentiment model {name!r}; known: default, {', '.join(REGISTRY)}")
    return name


@cache
def get_model(name: str = "default") -> SentimentModel:
    """The model called `name`, loaded once per process."""
    return REGISTRY[resolve(name)]()
