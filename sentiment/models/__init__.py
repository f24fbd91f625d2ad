"""Sentiment models behind one interface, looked up by the name used in settings.

A model has `name`, `version` and `predict_proba(texts) -> list[float]` (probability the text is positive).
Models that can reuse the pipeline's segmentation also offer `predict_words(texts, words)`; three-way models
(`linear3`) also give their own labels: `predict_labels(texts, words, domain)` and `predict_raw(texts)`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import cache
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

MODEL_DIR = Path(__file__).resolve().parent

DEFAULT = "linear3"  # the best measured on out-of-distribution dev sets; see sentiment/models/README.md


@runtime_checkable
class SentimentModel(Protocol):
    name: str
    version: str

    def predict_proba(self, texts: Sequence[str]) -> list[float]: ...


def _stock(directory: Path) -> SentimentModel:
    from sentiment.models.snownlp_models import StockSnowNLP

    return StockSnowNLP()


def _snownlp_weibo(directory: Path) -> SentimentModel:
    from sentiment.models.snownlp_models import WEIBO_FILE, WeiboSnowNLP

    return WeiboSnowNLP.load(directory / WEIBO_FILE.name)


def _linear(directory: Path) -> SentimentModel:
    from sentiment.models.linear import MODEL_FILE, LinearModel

    return LinearModel.load(directory / MODEL_FILE.name)


def _linear3(directory: Path) -> SentimentModel:
    from sentiment.models.linear3 import MODEL_FILE, ThreeWayModel

    return ThreeWayModel.load(directory / MODEL_FILE.name)


# name -> loader(directory of model files)
REGISTRY: dict[str, Callable[[Path], SentimentModel]] = {
    "snownlp": _stock,
    "snownlp-weibo": _snownlp_weibo,
    "linear": _linear,
    "linear3": _linear3,
}


def resolve(name: str) -> str:
    """The registry name for a settings value ("default" -> the best measured model)."""
    name = name or "default"
    if name == "default":
        return DEFAULT
    if name not in REGISTRY:
        raise KeyError(f"unknown sentiment model {name!r}; known: default, {', '.join(REGISTRY)}")
    return name


def get_model(name: str = "default", directory: Path | str | None = None) -> SentimentModel:
    """The model called `name` from `directory` (default: the shipped files), loaded once per process."""
    return _load(resolve(name), Path(directory or MODEL_DIR).resolve())


@cache
def _load(name: str, directory: Path) -> SentimentModel:
    return REGISTRY[name](directory)


def check_settings(settings: Any) -> list[str]:
    """Problems `yuqing config check` reports for [sentiment]: the model is in the registry and loads, and the
    analyzer builds from these settings (which reads the touchpoints file)."""
    conf = settings.sentiment
    try:
        name = resolve(conf.model)
    except KeyError as exc:
        return [f"[sentiment] model: {exc.args[0]}"]
    try:
        get_model(name)
    except Exception as exc:  # a missing or corrupt model file
        return [f"[sentiment] model: {name!r} cannot be loaded: {exc}"]
    from sentiment.analyze import Analyzer

    try:
        Analyzer.from_settings(settings)
    except Exception as exc:  # the model loaded above: what is left is the touchpoints file
        return [f"[sentiment] touchpoints: {exc}"]
    return []
