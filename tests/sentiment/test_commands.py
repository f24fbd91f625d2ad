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
from yuqing.records import Post

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
    assert last["model"] == "linear3" and last["n"] == 6
    assert last["accuracy"] == 1.0 and last["macro_f1"] == 1.0 and last["posts_per_s"] > 0
    assert "skipped 2 rows" in err


def test_eval_compare_runs_every_model(small_csv: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sentiment", "eval", "--data", str(small_csv), "--compare"]) == 0
    out, _ = capsys.readouterr()
    lines = out.strip().splitlines()
    table = {line.split()[0] for line in lines[1:-1]}
    assert table == {"snownlp", "snownlp-weibo", "linear", "linear3"}
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
    from yuqing.wiring import open_index

    config = tmp_path / "yuqing.toml"
    config.write_text(f'[store]\npath = "{tmp_path / "y.db"}"\n', encoding="utf-8")
    settings = Settings().replace(store={"path": str(tmp_path / "y.db")})
    t = datetime(2026, 11, 24, 1, 0, tzinfo=UTC)
    posts = [Post("weibo", "1", "移动的信号还行吧", t), Post("weibo", "2", "联通营业厅服务真好", t),
             Post("weibo", "3", "电信今天发布新套餐", t)]
    analyses, _ = Analyzer.from_settings(settings).analyze(posts)
    store = open_index(settings)
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


def test_train_rebuilds_models_from_a_data_dir(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = tmp_path / "data" / "sentiment"
    data.mkdir(parents=True)
    good = ["客服态度很好，问题解决了[赞]", "网速很快，很满意[哈哈]", "新套餐划算，开心[心]"]
    bad = ["宽带天天断网，气死了[怒]", "乱扣话费，垃圾服务[怒骂]", "信号太差，打不通电话[泪]"]
    for name, header in (("weibo2018_train.csv", "mid,label,text"), ("weibo_senti_100k_train.csv", "label,text")):
        with (data / name).open("w", encoding="utf-8", newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow(header.split(","))
            for i in range(20):
                for label, texts in ((1, good), (0, bad)):
                    row = [label, f"{texts[i % 3]}{i}{name[6:10]}"]
                    writer.writerow(([str(i)] if header.startswith("mid") else []) + row)
    out, held = tmp_path / "models", tmp_path / "held"
    args = ["sentiment", "train", "--data-dir", str(tmp_path / "data"), "--out", str(out), "--holdout-dir", str(held),
            "--models", "linear,snownlp-weibo"]
    assert main(args) == 0
    report = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert report["posts"] == 64  # 80 rows less the 16 held out
    assert {p.name for p in out.iterdir()} == {"linear.npz", "snownlp_weibo.json.gz", "thresholds.json"}
    thresholds = json.loads((out / "thresholds.json").read_text(encoding="utf-8"))
    assert set(thresholds) == {"linear", "snownlp-weibo", "snownlp"}
    lo, hi = thresholds["linear"]["band"]
    assert 0.0 <= lo <= hi <= 1.0
    assert main(["sentiment", "eval", "--data", str(held / "weibo2018_holdout.csv"), "--model-dir", str(out),
                 "--model", "linear"]) == 0
    assert json.loads(capsys.readouterr().out.strip().splitlines()[-1])["accuracy"] >= 0.9


def test_train_names_a_missing_data_dir(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sentiment", "train", "--data-dir", str(tmp_path), "--out", str(tmp_path / "m")]) == 2
    assert "nlpcc2013_emotion.csv is missing" in capsys.readouterr().err
    assert main(["sentiment", "train", "--data-dir", str(tmp_path), "--out", str(tmp_path / "m"), "--models", "linear"]) == 2
    assert "weibo2018_train.csv is missing" in capsys.readouterr().err
    assert main(["sentiment", "train", "--models", "nosuch"]) == 2
    assert "unknown nosuch" in capsys.readouterr().err


def test_eval_refuses_another_labelling_scheme(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "moods.csv"  # 0 joy, 1 anger, 2 disgust, 3 sadness: its 0/1 are not negative/positive
    path.write_text("label,text\n0,开心\n1,气死了\n2,恶心\n3,难过\n", encoding="utf-8")
    assert main(["sentiment", "eval", "--data", str(path)]) == 2
    assert "labels 2, 3 besides 0/1" in capsys.readouterr().err


def test_eval_names_an_unknown_model_plainly(small_csv: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sentiment", "eval", "--data", str(small_csv), "--model", "nosuch"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: unknown sentiment model 'nosuch'; known: default") and '"' not in err


def test_eval_uses_the_configured_model(small_csv: Path, capsys: pytest.CaptureFixture[str],
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("YUQING_SENTIMENT_MODEL", "snownlp-weibo")
    assert main(["sentiment", "eval", "--data", str(small_csv)]) == 0
    assert json.loads(capsys.readouterr().out.strip().splitlines()[-1])["model"] == "snownlp-weibo"


def test_eval_warns_when_posts_were_training_data(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from tests.conftest import shared_path

    labels, texts, _ = read_labelled(shared_path("sentiment", "weibo2018_train.csv"))
    path = tmp_path / "seen.csv"
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["label", "text"])
        writer.writerows(zip(labels[:20], texts[:20], strict=True))
        writer.writerows(ROWS)
    assert main(["sentiment", "eval", "--data", str(path)]) == 0
    captured = capsys.readouterr()
    assert "warning: 20 of 26 posts are in the data the shipped models were trained on" in captured.err
    assert json.loads(captured.out.strip().splitlines()[-1])["n"] == 26
    shipped = Path(__file__).resolve().parents[2] / "sentiment" / "models"
    assert main(["sentiment", "eval", "--data", str(path), "--model-dir", str(shipped)]) == 0
    assert "warning" not in capsys.readouterr().err  # another model directory: its training data is not known


def test_reanalyze_labels_posts_stored_without_analysis_or_by_another_model(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import dataclasses

    from yuqing.records import now_utc
    from yuqing.wiring import open_index

    config = tmp_path / "yuqing.toml"
    config.write_text(f'[store]\npath = "{tmp_path / "y.db"}"\n', encoding="utf-8")
    settings = Settings().replace(store={"path": str(tmp_path / "y.db")})
    t = now_utc()
    posts = [Post("weibo", "1", "电信宽带断网三天了，客服电话打不通[怒]", t),
             Post("weibo", "2", "联通营业厅服务真好，点赞", t),
             Post("weibo", "3", "移动今天发布新套餐", t),
             Post("weibo", "4", "电信宽带又断网了，光猫红灯", t.replace(year=t.year - 1))]
    analyses, _ = Analyzer.from_settings(settings).analyze(posts)
    store = open_index(settings)
    try:
        store.upsert_posts([(posts[0], None), (posts[1], dataclasses.replace(analyses[1], model_version="old",
                                                                             label="negative")),
                            (posts[2], analyses[2]), (posts[3], None)])
        store.correct_label("weibo", "2", "neutral", by="ops")
    finally:
        store.close()
    base = ["--config", str(config), "sentiment", "reanalyze"]
    assert main([*base, "--days", "30", "--dry-run"]) == 0
    dry = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert (dry["posts_seen"], dry["reanalyzed"], dry["labels_changed"], dry["dry_run"]) == (4, 2, 2, True)
    assert main([*base, "--days", "30", "--only-missing"]) == 0
    assert json.loads(capsys.readouterr().out.strip().splitlines()[-1])["reanalyzed"] == 1  # post 1 only
    assert main([*base]) == 0
    done = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert (done["reanalyzed"], done["unchanged"]) == (2, 2)  # post 2 (old model) and post 4 (a year old)
    store = open_index(settings)
    try:
        one, two, four = (store.get_post("weibo", i) for i in ("1", "2", "4"))
    finally:
        store.close()
    assert one.analysis is not None and one.analysis.label == "negative" and four.analysis is not None
    assert two.analysis.model_version == done["model_version"] and two.analysis.label == "positive"
    assert two.corrected_label == "neutral" and two.label == "neutral"  # the human correction stays
    assert main([*base]) == 0
    assert json.loads(capsys.readouterr().out.strip().splitlines()[-1])["reanalyzed"] == 0
