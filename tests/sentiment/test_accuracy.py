"""Honest accuracy floors on the real shared data (skipped when ../shared/data is absent).

The recipe test trains the shipped model's recipe on 80% of each set and scores the other 20%, which it never
saw; the shipped model itself was trained on all shared data, so it is only checked for having learnt it.
"""

from __future__ import annotations

import numpy as np
import pytest

from sentiment.evaluate import binary_metrics
from sentiment.training import Corpus, fit_linear, holdout_split, load_corpus
from tests.conftest import SHARED_DATA, shared_path


@pytest.fixture(scope="module")
def corpus() -> Corpus:
    shared_path("sentiment", "weibo2018_train.csv")
    shared_path("sentiment", "weibo_senti_100k_train.csv")
    return load_corpus(SHARED_DATA)


def _accuracy(model, corpus: Corpus, origin: str) -> float:
    idx = [i for i, o in enumerate(corpus.origin) if o == origin]
    probs = model.predict_words([corpus.norm[i] for i in idx], [corpus.words[i] for i in idx])
    acc, _ = binary_metrics([corpus.labels[i] for i in idx], [int(p >= 0.5) for p in probs])
    return acc


def test_recipe_on_held_out_split(corpus: Corpus) -> None:
    train, held = holdout_split(corpus)
    assert not set(train.texts) & set(held.texts)
    # all weibo2018 training rows and every other weibo_senti_100k one, to keep the test quick
    keep = [i for i, o in enumerate(train.origin) if o == "weibo2018" or i % 2 == 0]
    model = fit_linear(train.take(keep))
    assert _accuracy(model, held, "weibo2018") >= 0.82  # measured about 0.85 with the full recipe; stock SnowNLP 0.60
    assert _accuracy(model, held, "weibo_senti_100k") >= 0.965  # measured about 0.98 with the full recipe


def test_shipped_model_learnt_the_shared_data(corpus: Corpus) -> None:
    from sentiment.models import get_model

    model = get_model("default")
    sample = corpus.take(np.random.default_rng(0).choice(len(corpus.labels), 4000, replace=False).tolist())
    assert _accuracy(model, sample, "weibo2018") >= 0.9
    assert _accuracy(model, sample, "weibo_senti_100k") >= 0.97
