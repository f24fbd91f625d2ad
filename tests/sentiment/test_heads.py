"""Learned telecom heads beside the rules: fitting, the file round trip, merging with the rules, the version."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from sentiment import devset
from sentiment.analyze import Analyzer, merge_risks, merge_touchpoints
from sentiment.models.heads import HEADS_FILE, TelecomHeads, features, shipped_heads
from sentiment.topics import OTHER, load_taxonomy
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
