"""`yuqing sentiment train --models linear3` on a small data folder: splits, bias choice, reproducible bytes."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest

from sentiment.training3 import choose_general_bias, choose_telecom_bias, prior_weighted_f1, split_of
from yuqing.cli import main

GOOD = ["客服态度很好，问题解决了[赞]", "网速很快，很满意[哈哈]", "新套餐划算，开心[心]", "今天好开心，出去玩[哈哈]"]
BAD = ["宽带天天断网，气死了[怒]", "乱扣话费，垃圾服务[怒骂]", "信号太差，打不通电话[泪]", "好难过，什么都做不好[泪]"]
NEUTRAL = ["明天下午三点开会", "【通知】本周六图书馆开放", "转发微博", "新闻：某地举办马拉松比赛"]


def write(path: Path, header: list[str], rows: list[list[str]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        writer.writerows(rows)


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    d = tmp_path / "data" / "sentiment"
    d.mkdir(parents=True)
    three = [[lab, emo, f"{t}{i}"] for i in range(12) for lab, emo, texts in
             (("positive", "happy", GOOD), ("negative", "angry", BAD), ("neutral", "none", NEUTRAL))
             for t in [texts[i % 4]]]
    for name in ("nlpcc2013_emotion.csv", "smp2020_virus_train.csv", "smp2020_virus_eval.csv"):
        write(d / name, ["label", "emotion", "text"], [[lab, emo, f"{t}{name[:3]}"] for lab, emo, t in three])
    binary = [[str(y), f"{t}{i}"] for i in range(12) for y, texts in ((1, GOOD), (0, BAD)) for t in [texts[i % 4]]]
    write(d / "weibo2018_train.csv", ["mid", "label", "text"], [[str(i), *r] for i, r in enumerate(binary)])
    write(d / "weibo_senti_100k_train.csv", ["label", "text"], [[y, t + "s"] for y, t in binary])
    return tmp_path / "data"


def train_twice(model: str, data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[Path, dict]:
    """`sentiment train --models MODEL` into two folders; the first folder and the report, once both files are
    checked to be the same bytes."""
    a, b = tmp_path / "a", tmp_path / "b"
    for out in (a, b):
        assert main(["sentiment", "train", "--models", model, "--data-dir", str(data_dir), "--out", str(out)]) == 0
    report = json.loads(capsys.readouterr().out.strip().splitlines()[-1])[model]
    assert (a / f"{model}.npz").read_bytes() == (b / f"{model}.npz").read_bytes()
    return a, report


def test_train_linear3_is_reproducible_and_loads(data_dir: Path, tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    from sentiment.models.linear3 import ThreeWayModel

    a, report = train_twice("linear3", data_dir, tmp_path, capsys)
    assert report["version"].startswith("linear3-") and report["telecom_fit_posts"] > 500
    assert set(report["dev"]) == {"nlpcc_dev", "virus_dev", "weibo2018_dev", "senti100k_dev"}
    thresholds = json.loads((a / "thresholds.json").read_text(encoding="utf-8"))["linear3"]
    assert len(thresholds["bias_general"]) == 3 and len(thresholds["bias_telecom"]) == 3
    model = ThreeWayModel.load(a / "linear3.npz")
    labels, scores = model.predict_raw(["宽带天天断网，气死了[怒]", "今天好开心，出去玩[哈哈]"])
    assert labels[1] == "positive" and scores[0] < 0.5 < scores[1]


def test_splits_are_fixed_by_the_text() -> None:
    assert split_of("同一条微博", "nl") == split_of("同一条微博", "nl")
    assert split_of("同一条微博", "nl") != split_of("同一条微博", "ve")
    assert 0.0 <= split_of("x", "y") < 1.0


def test_prior_weighted_f1_reweights_the_classes() -> None:
    gold = np.array([0, 0, 1, 2, 2, 2, 2, 2])
    perfect = prior_weighted_f1(gold, gold)
    assert perfect == pytest.approx(1.0)
    # missing one negative costs more when negatives are 57% of the target mix than when they are 25% here
    miss = gold.copy()
    miss[0] = 2
    assert prior_weighted_f1(gold, miss) < prior_weighted_f1(gold, miss, prior=np.array([0.25, 0.125, 0.625]))


def test_general_bias_keeps_negative_recall() -> None:
    rng = np.random.default_rng(0)
    gold = rng.integers(0, 3, 300)
    lp = np.log(np.full((300, 3), 0.1))
    lp[np.arange(300), gold] = np.log(0.5)
    lp[gold == 0, 1] = np.log(0.6)  # negatives look neutral: the bias must push them back
    bias, figures = choose_general_bias({"a": (lp, gold)})
    assert figures["a"]["negative_recall"] >= 0.8 and bias[1] < 0


def test_telecom_bias_puts_complaints_first() -> None:
    sentiment = np.array([0] * 18 + [1, 2])
    complaint = np.array([True] * 18 + [False, False])
    lp = np.log(np.tile([0.3, 0.5, 0.2], (20, 1)))  # complaints read as neutral
    lp[18] = np.log([0.1, 0.8, 0.1])
    lp[19] = np.log([0.1, 0.1, 0.8])
    bias, figures = choose_telecom_bias(lp, sentiment, complaint)
    assert figures["complaints_negative"] == 1.0 and figures["non_complaints_negative"] == 0.0


def test_fits_use_one_blas_thread() -> None:
    """lbfgs stops on a path that depends on how BLAS sums: fits run with one thread whatever the machine."""
    from threadpoolctl import threadpool_info

    from sentiment.training3 import one_thread

    with one_thread():
        assert all(pool["num_threads"] == 1 for pool in threadpool_info())


def test_train_complaint_detector_is_reproducible(data_dir: Path, tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    from sentiment.models.complaint import ComplaintDetector

    a, report = train_twice("complaint", data_dir, tmp_path, capsys)
    assert report["version"].startswith("complaint-") and report["posts"] >= 1200
    detector = ComplaintDetector.load(a / "complaint.npz")
    assert 0.0 <= detector.lo <= detector.hi
