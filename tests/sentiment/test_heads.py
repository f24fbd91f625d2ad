"""Learned telecom heads beside the rules: fitting, the file round trip, merging with the rules, the version."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from sentiment import devset
from sentiment.analyze import Analyzer, merge_risks, merge_touchpoints
from sentiment.models.heads import HEADS_FILE, TelecomHeads, features, shipped_heads
from sentiment.segment import cut
from sentiment.text import normalize
from sentiment.topics import OTHER, about_operator, load_taxonomy
from sentiment.training_heads import SHIPPED, fit_heads, prepare
from yuqing.records import Post

TAXONOMY = load_taxonomy()


class FakeModel:
    name = "fake"
    version = "1"

    def predict_proba(self, texts):
        return [0.5 for _ in texts]


def test_merge_keeps_rule_answers_and_adds_learned_ones_in_taxonomy_order() -> None:
    assert merge_touchpoints(("资费账单",), frozenset({"宽带"}), TAXONOMY.names) == ("宽带", "资费账单")
    assert merge_touchpoints((OTHER,), frozenset({"宽带"}), TAXONOMY.names) == ("宽带",)
    assert merge_touchpoints((OTHER,), frozenset(), TAXONOMY.names) == (OTHER,)
    assert merge_touchpoints((OTHER,), frozenset({"churn"}), TAXONOMY.names) == (OTHER,)  # not a touchpoint
    assert merge_risks(("escalation",), frozenset({"churn"})) == ("escalation", "churn")
    assert merge_risks(("churn",), frozenset({"churn"})) == ("churn",)
    assert merge_risks((), frozenset({"宽带"})) == ()


def test_heads_learn_from_written_posts_and_survive_the_file(tmp_path: Path) -> None:
    rows = devset.written("e")
    heads = fit_heads(rows, rows, heads=("宽带", "churn"), version="heads-test")
    norm, words = prepare(rows)
    got = heads.predict(norm, words)
    gold = np.array(["宽带" in r["touchpoints"] for r in rows])
    fired = np.array(["宽带" in g for g in got])
    assert (fired & gold).sum() / gold.sum() >= 0.9  # it fits its own training posts
    assert (fired & ~gold).sum() <= 0.1 * gold.sum()
    heads.save(tmp_path / "h.npz")
    again = TelecomHeads.load(tmp_path / "h.npz")
    assert again.version == "heads-test" and again.names == ("宽带", "churn")
    assert again.predict(norm, words) == got  # int8 weights give the same answers on these posts
    assert heads.predict([], []) == []


def test_features_are_unit_rows_and_empty_text_is_empty() -> None:
    X = features(["宽带又断了", ""], [["宽带", "又", "断", "了"], []])
    assert X.shape == (2, 2**16)
    assert abs(float(X[0].multiply(X[0]).sum()) - 1.0) < 1e-5 and X[1].nnz == 0


def test_missing_heads_file_names_the_command(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="--models heads"):
        TelecomHeads.load(tmp_path / "absent.npz")


def test_shipped_heads_are_small_and_recorded_in_the_analysis_version() -> None:
    assert HEADS_FILE.exists() and HEADS_FILE.stat().st_size < 2_000_000
    heads = shipped_heads()
    assert heads is not None and heads.names == SHIPPED
    post = Post("weibo", "1", "宽带每晚都掉线，光猫灯一直闪", datetime(2026, 1, 1, tzinfo=UTC))
    with_heads = Analyzer(FakeModel(), TAXONOMY).analyze([post])[0][0]
    rules_only = Analyzer(FakeModel(), TAXONOMY, heads=None).analyze([post])[0][0]
    rules = TAXONOMY.version
    assert with_heads.model_version == f"1+{heads.version}+{rules}" and rules_only.model_version == f"1+{rules}"
    assert "宽带" in with_heads.touchpoints


def test_fold_leaves_the_hashed_features_it_reads_as_they_were() -> None:
    """The Analyzer hashes a batch once for the heads and the model: folding for the heads must not rewrite the
    matrix the model reads next (it once shared its row pointers, which summing duplicates rewrote)."""
    from sentiment.models.heads import fold
    from sentiment.models.linear import hash_features

    long = "".join(chr(0x4E00 + (i * 7919) % 20000) for i in range(600))  # ~1,800 features: some collide in 2^16
    texts = ["联通宽带又断网了光猫一直闪红灯", long, "移动信号太差了家里一格都没有"]
    X = hash_features(texts, [list(t) for t in texts])
    before = (X.indptr.copy(), X.indices.copy())
    folded = fold(X)
    assert folded.nnz < X.nnz  # buckets did collide, so duplicates were summed
    assert (X.indptr == before[0]).all() and (X.indices == before[1]).all()


def test_the_analysis_is_the_same_whether_the_batch_is_hashed_once_or_twice() -> None:
    from sentiment.models import get_model

    model = get_model("linear3")
    posts = [Post("weibo", str(i), t, datetime(2026, 1, 1, tzinfo=UTC)) for i, t in enumerate(
        ["联通的网速太慢了", "[嘻嘻][嘻嘻][嘻嘻][抓狂]", "移动掌上营业厅App一直闪退，登录不了", "感谢电信的装维师傅",
         "宽带每晚都掉线，光猫灯一直闪，准备携号转网"] * 60)]
    once = Analyzer(model, TAXONOMY).analyze(posts)[0]
    texts = [normalize(p.text) for p in posts]
    domain = [bool(a.operators) or about_operator(t) for a, t in zip(once, texts, strict=True)]
    alone = model.predict_labels(texts[:256], [cut(t) for t in texts[:256]], domain[:256],
                                 [bool(a.risk_flags) for a in once[:256]])  # hashed by the model itself
    assert [a.label for a in once[:256]] == alone[0]
    assert [a.score for a in once[:256]] == [round(s, 4) for s in alone[1]]
