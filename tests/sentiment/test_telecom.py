"""The `linear` model's telecom-domain layer: lexicon cues with negation, the fitted scale, and the model on
operator posts (the previous default; the tables here are now part of the default `linear3` model's fit set).

tests/sentiment/telecom_cases.csv is a hand-written table of 150 telecom posts (70 complaints, 40 neutral news
and questions, 40 praise), written apart from the demo scenario and from sentiment/telecom_train.csv (the
lexicon scale's fit set).
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest

from sentiment.analyze import label_for, neutral_band
from sentiment.evaluate import read_three_labels, three_label_metrics
from sentiment.lexicon import LEXICON_FILE, Lexicon, default_lexicon
from sentiment.models import get_model
from sentiment.text import normalize
from sentiment.training import TELECOM_FIT, fit_lexicon_scale
from yuqing.cli import main

CASES = Path(__file__).resolve().parent / "telecom_cases.csv"


def evidence(text: str) -> float:
    return default_lexicon().evidence(normalize(text))


@pytest.mark.parametrize("text", [
    "中国电信宽带又断网了，客服打了三次都没人管",
    "移动乱扣我话费，打10086也不给解决，准备去工信部投诉",
    "联通5G信号太差了，打电话都断断续续",
    "营业厅排队两个小时，服务态度极差",
    "说好的免费宽带，结果开始收费，这不是欺诈吗",  # rhetorical 这不是 ... 吗 does not negate
    "对营业厅这次的处理结果不是很满意",  # negated praise is a complaint
])
def test_complaints_have_negative_evidence(text: str) -> None:
    assert evidence(text) < -1.0


@pytest.mark.parametrize("text", [
    "宽带师傅上门很快就修好了，点赞",
    "不得不说联通客服很专业",  # 不得不 is not a negator
    "客服很耐心，问题解决了，满意",
])
def test_praise_has_positive_evidence(text: str) -> None:
    assert evidence(text) > 1.0


@pytest.mark.parametrize("text", ["今天宽带没有断网", "这周信号没掉线", "用了一年电信宽带从没断网"])
def test_negated_complaint_is_cancelled_not_a_complaint(text: str) -> None:
    assert 0.0 <= evidence(text) < 1.0


def test_negator_inside_an_earlier_cue_does_not_negate_the_next_one() -> None:
    found = default_lexicon().matches("客服没人管不给解决")
    assert [c for c, _ in found] == ["没人管", "不给解决"] and all(w < 0 for _, w in found)


def test_longest_cue_wins_and_intensifier_scales() -> None:
    lex = default_lexicon()
    assert [c for c, _ in lex.matches("信号太差")] == ["信号太差"]
    assert lex.matches("套餐非常好评")[0][1] > lex.matches("套餐好评")[0][1] > 0


def test_evidence_is_capped_and_zero_without_cues() -> None:
    lex = default_lexicon()
    assert lex.evidence("中国移动发布三季度财报") == 0.0 and lex.in_domain("中国移动发布三季度财报")
    assert -lex.cap < lex.evidence("垃圾电信，骗子，坑人，乱扣费，投诉，没人管，不给解决") < -0.9 * lex.cap


def test_bad_lexicon_file_is_a_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "lex.toml"
    bad.write_text('[complaint]\n"断网" = -2\n[praise]\n"断网" = 1\n', encoding="utf-8")
    with pytest.raises(ValueError, match="lex.toml.*both"):
        Lexicon.load(bad)
    bad.write_text('[complaint]\n"断网" = "much"\n', encoding="utf-8")
    with pytest.raises(ValueError, match="lex.toml"):
        Lexicon.load(bad)


def test_fit_scale_follows_the_evidence() -> None:
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 400).astype(float)
    informative = (2 * y - 1) * rng.uniform(0.5, 2.0, 400)
    zeros = np.zeros(400)
    assert fit_lexicon_scale(zeros, zeros, y, zeros, informative, y) > 0.5
    noise = rng.normal(0, 2.0, 400)
    assert fit_lexicon_scale(zeros, noise, y, zeros, noise, y) == 0.0


def test_fit_set_and_test_table_do_not_share_posts() -> None:
    with TELECOM_FIT.open(encoding="utf-8") as a, CASES.open(encoding="utf-8") as b:
        assert not {r["text"] for r in csv.DictReader(a)} & {r["text"] for r in csv.DictReader(b)}


def test_default_model_carries_the_lexicon_in_its_version() -> None:
    model = get_model("linear")
    assert model.lexicon_scale > 0
    assert f"+lex-{Lexicon.load(LEXICON_FILE).digest}x" in model.version


@pytest.fixture(scope="module")
def table() -> tuple[list[str], list[str], list[str]]:
    labels, texts, skipped = read_three_labels(CASES)
    assert skipped == 0 and len(labels) >= 150
    probs = get_model("linear").predict_proba(texts)
    band = neutral_band("linear")
    return labels, texts, [label_for(p, band) for p in probs]


def test_telecom_table_complaints_are_caught_and_praise_is_never_negative(table) -> None:
    labels, texts, pred = table
    m = three_label_metrics(labels, pred)
    missed = [t for g, p, t in zip(labels, pred, texts, strict=True) if g == "negative" and p != "negative"]
    assert m["negative_recall"] >= 0.85, missed  # before the domain layer: 0.07
    assert m["positive_as_negative"] == 0
    assert m["neutral_as_negative"] <= 4
    assert m["binary_accuracy"] >= 0.88  # negative vs the rest, what alerts act on; before: 0.56


def test_telecom_negation_through_the_model() -> None:
    model = get_model("linear")
    band = neutral_band("linear")
    p = model.predict_proba(["今天宽带没有断网，信号也挺稳定", "对营业厅的服务很不满意", "客服一点都不专业"])
    assert label_for(p[0], band) != "negative"
    assert label_for(p[1], band) == "negative" and label_for(p[2], band) == "negative"


def test_eval_command_scores_a_three_label_table(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sentiment", "eval", "--data", str(CASES), "--model", "linear"]) == 0
    out = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    (result,) = out["results"]
    assert result["model"] == "linear" and result["n"] == 150 and "+lex-" in result["version"]
    assert result["negative_recall"] >= 0.85


def test_cues_count_only_in_telecom_posts() -> None:
    lex = default_lexicon()
    assert not lex.in_domain("这部电影真垃圾，看得我好失望") and evidence("这部电影真垃圾，看得我好失望") == 0.0
    assert lex.in_domain("联通真垃圾") and evidence("联通真垃圾") < -1.0


def test_first_blind_telecom_table_floor() -> None:
    """telecom_blind.csv was written before any model ran on it; its misses were read in session 1, and the
    session-2 lexicon includes words from them, so it is no longer blind (telecom_blind2.csv is).

    Measured with the shipped model: negative vs rest 0.93 (0.62 without the domain layer), 22 of 25 complaints
    caught (2 of 25 without), 1 of 20 praise posts called negative. The floors sit just below that.
    """
    labels, texts, _ = read_three_labels(CASES.with_name("telecom_blind.csv"))
    band = neutral_band("linear")
    m = three_label_metrics(labels, [label_for(p, band) for p in get_model("linear").predict_proba(texts)])
    assert m["binary_accuracy"] >= 0.9
    assert m["negative_recall"] >= 0.84
    assert m["positive_as_negative"] <= 2


def test_blind_telecom_table_floor() -> None:
    """telecom_blind2.csv (120 posts) was written without sight of the lexicon or the other tables and committed
    before any model ran on it; nothing was changed after reading its results.

    Measured with the shipped model: negative vs rest 0.79, 35 of 50 complaints caught, 4 of 40 praise posts and
    6 of 30 neutral posts called negative (before the session-2 cues: 0.76, 26 of 50, 4, 1).
    """
    labels, texts, skipped = read_three_labels(CASES.with_name("telecom_blind2.csv"))
    assert (len(labels), skipped) == (120, 0)
    band = neutral_band("linear")
    m = three_label_metrics(labels, [label_for(p, band) for p in get_model("linear").predict_proba(texts)])
    assert m["binary_accuracy"] >= 0.76
    assert m["negative_recall"] >= 0.66
    assert m["positive_as_negative"] <= 5
    assert m["neutral_as_negative"] <= 8
