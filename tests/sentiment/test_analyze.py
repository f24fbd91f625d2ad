"""The analyzer: one Analysis per post in order, labels from the neutral band, events, settings, lazy imports."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from sentiment.analyze import Analyzer, label_for
from sentiment.topics import load_taxonomy
from yuqing.config import ConfigError, Settings
from yuqing.records import Post

ROOT = Path(__file__).resolve().parents[2]
T0 = datetime(2026, 11, 24, 1, 0, tzinfo=UTC)


class FakeModel:
    """Scores by keyword so tests know the answer; records how it was called."""

    name = "fake"
    version = "1"

    def __init__(self) -> None:
        self.calls: list[int] = []

    def predict_proba(self, texts):
        self.calls.append(len(texts))
        return [0.9 if "好" in t else 0.1 if "差" in t or "断" in t else 0.5 for t in texts]


def post(i: int, text: str, **kw) -> Post:
    return Post("weibo", str(i), text, T0 + timedelta(minutes=i), **kw)


@pytest.fixture
def analyzer() -> Analyzer:
    return Analyzer(FakeModel(), load_taxonomy(), batch_size=2, band=(0.3, 0.7), clock=lambda: T0, heads=None)


def test_one_analysis_per_post_in_order(analyzer: Analyzer) -> None:
    posts = [
        post(1, '<a href="/n/x">@中国电信</a> 深圳宽带断网一整天了，投诉到工信部！<img alt="[怒]">',
             author_followers=50_000, author_verified=True, reposts=300),
        post(2, "联通客服态度很好，问题马上解决了", ip_region="四川"),
        post(3, "今天吃了火锅", operators=("中国移动",)),
    ]
    analyses, events = analyzer.analyze(posts)
    assert [a.label for a in analyses] == ["negative", "positive", "neutral"]
    first, second, third = analyses
    assert first.touchpoints == ("宽带",)  # 断网 in a broadband post is the home line (LABELLING.md)
    assert first.operators == ("中国电信",)
    assert (first.province, first.city) == ("广东", "深圳")
    assert first.risk_flags == ("escalation",)
    assert first.influence > second.influence
    assert "断网" in first.keywords
    assert first.model == "fake" and first.analyzed_at == T0
    rules = load_taxonomy().version
    assert first.model_version == f"1+{rules}" and rules.startswith("rules-")
    assert first.simhash > 0
    assert second.operators == ("中国联通",) and second.province == "四川" and second.touchpoints == ("客服热线",)
    assert third.operators == ("中国移动",) and third.touchpoints == ("其他",)
    assert events == [] and all(a.event_id == "" for a in analyses)
    assert analyzer.model.calls == [2, 1]  # batches of batch_size


def test_copies_share_an_event(analyzer: Analyzer) -> None:
    text = "广州移动信号太差了，家里一格都没有，打10086也解决不了"
    analyses, events = analyzer.analyze([post(i, text + "!" * i) for i in range(4)])
    assert len(events) == 1 and events[0].size == 4 and events[0].negative == 4
    assert {a.event_id for a in analyses} == {events[0].event_id}
    again, events2 = analyzer.analyze([post(10, text + "[怒]")], known_events=events)
    assert again[0].event_id == events[0].event_id and events2[0].size == 5


def test_empty_batch(analyzer: Analyzer) -> None:
    assert analyzer.analyze([]) == ([], [])


@pytest.mark.parametrize(("score", "label"), [(0.0, "negative"), (0.29, "negative"), (0.3, "neutral"),
                                              (0.69, "neutral"), (0.7, "positive"), (1.0, "positive")])
def test_label_band(score: float, label: str) -> None:
    assert label_for(score, (0.3, 0.7)) == label


def test_from_settings_uses_the_default_model() -> None:
    analyzer = Analyzer.from_settings(Settings())
    from sentiment.models import DEFAULT

    assert analyzer.model.name == DEFAULT
    analyses, _ = analyzer.analyze([post(1, "电信的宽带太烂了，天天断网，气死我了[怒]"),
                                    post(2, "移动的新套餐真划算，网速也快，开心[哈哈]")])
    assert analyses[0].label == "negative" and analyses[1].label == "positive"
    lo, hi = analyzer.band
    assert 0.0 < lo <= 0.5 <= hi < 1.0


def test_empty_posts_are_neutral() -> None:
    analyzer = Analyzer.from_settings(Settings())
    analyses, events = analyzer.analyze([post(1, ""), post(2, "   "), post(3, "<p>&nbsp;</p>")])
    assert [a.label for a in analyses] == ["neutral"] * 3
    assert all(a.score == 0.5 and a.touchpoints == ("其他",) and a.simhash == 0 for a in analyses)
    assert events == []


def test_unknown_model_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="sentiment.*model.*nonesuch"):
        Analyzer.from_settings(Settings().replace(sentiment={"model": "nonesuch"}))


def test_importing_the_pipeline_does_not_load_snownlp() -> None:
    code = ("import sys; import sentiment.analyze; from sentiment.models import get_model; get_model('linear'); "
            "print('snownlp' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "False"
