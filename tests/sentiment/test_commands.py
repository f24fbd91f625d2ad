"""`yuqing sentiment eval` and `export-corrections` through the real CLI."""

from __future__ import annotations

import csv
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from sentiment.analyze import Analyzer
from sentiment.evaluate import binary_metrics, read_labelled
from yuqing.cli import main
from yuqing.config import Settings
from yuqing.post import Post

ROWS = [
    (0, "电信的宽带太烂了，天天断网，客服也不管，气死我了[怒]"),
    (0, "垃圾移动，乱扣我话费，再也不用了[怒骂]"),
    (0, "今天好难过，什么都做不好[泪]"),
    (1, "联通客服小姐姐态度超级好，问题马上就解决了，点赞[赞]"),
    (1, "终于放假啦，和朋友出去玩，太开心了[哈哈]"),
    (1, "新套餐真划算，网速也快，很满意[心]"),
]


@pytest.fixture
def small_csv(tmp_path: Path) -> Path:
    path = tmp_path / "small.csv"
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["label", "text"])
        writer.writerows(ROWS)
        writer.writerow(["x", "not a label"])
        writer.writerow(["1", ""])
    return path


def test_eval_prints_metrics_and_a_json_last_line(small_csv: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sentiment", "eval", "--data", str(small_csv)]) == 0
    out, err = capsys.readouterr()
    last = json.loads(out.strip().splitlines()[-1])
    assert set(last) >= {"model", "n", "accuracy", "macro_f1", "posts_per_s"}
    assert last["model"] == "linear" and last["n"] == 6
    assert last["accuracy"] == 1.0 and last["macro_f1"] == 1.0 and last["posts_per_s"] > 0
    assert "skipped 2 rows" in err


def test_eval_compare_runs_every_model(small_csv: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sentiment", "eval", "--data", str(small_csv), "--compare"]) == 0
    out, _ = capsys.readouterr()
    lines = out.strip().splitlines()
    table = {line.split()[0] for line in lines[1:-1]}
    assert table == {"snownlp", "snownlp-weibo", "linear"}
    results = json.loads(lines[-1])["results"]
    assert {r["model"] for r in results} == table and all(r["n"] == 6 for r in results)


def test_eval_rejects_a_file_without_the_header(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b\n1,x\n", encoding="utf-8")
    assert main(["sentiment", "eval", "--data", str(bad)]) == 2
    assert "label" in capsys.readouterr().err
    assert main(["sentiment", "eval", "--data", str(tmp_path / "missing.csv")]) == 2


def test_metrics() -> None:
    assert binary_metrics([1, 1, 0, 0], [1, 0, 0, 0]) == (0.75, pytest.approx((2 / 3 + 0.8) / 2))
    assert binary_metrics([], []) == (0.0, 0.0)


def test_read_labelled_accepts_review_column(tmp_path: Path) -> None:
    path = tmp_path / "r.csv"
    path.write_text("label,review\n1,好吃\n0,难吃\n", encoding="utf-8")
    assert read_labelled(path) == ([1, 0], ["好吃", "难吃"], 0)


def test_export_corrections_from_the_store(tmp_path: Path) -> None:
    from yuqing.store import open_store

    config = tmp_path / "yuqing.toml"
    config.write_text(f'[store]\npath = "{tmp_path / "y.db"}"\n', encoding="utf-8")
    settings = Settings().replace(store={"path": str(tmp_path / "y.db")})
    t = datetime(2026, 11, 24, 1, 0, tzinfo=UTC)
    posts = [Post("weibo", "1", "移动的信号还行吧", t), Post("weibo", "2", "联通营业厅服务真好", t),
             Post("weibo", "3", "电信今天发布新套餐", t)]
    analyses, _ = Analyzer.from_settings(settings).analyze(posts)
    store = open_store(settings)
    try:
        store.upsert_posts(list(zip(posts, analyses, strict=True)))
        store.correct_label("weibo", "1", "negative", by="ops")
        store.correct_label("weibo", "2", "positive", by="ops")
        store.correct_label("weibo", "3", "neutral", by="ops")
    finally:
        store.close()
    out = tmp_path / "corrections.csv"
    assert main(["--config", str(config), "sentiment", "export-corrections", "--out", str(out)]) == 0
    rows = list(csv.reader(out.open(encoding="utf-8")))
    assert rows[0] == ["label", "text"]
    assert sorted(rows[1:]) == [["0", "移动的信号还行吧"], ["1", "联通营业厅服务真好"]]
    labels, texts, skipped = read_labelled(out)
    assert labels == [0, 1] or labels == [1, 0]
