"""`yuqing sentiment analyze --input FILE`: CSV, JSON lines, plain lines and stdin; one object per row, in order;
a bad row gets an error object on its own line."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from sentiment.analyze_file import detect
from yuqing.cli import main

KEYS = {"row", "label", "score", "touchpoints", "operators", "province", "city", "risk_flags", "keywords", "model",
        "model_version"}


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, list[dict], str]:
    code = main(["sentiment", "analyze", *args])
    out, err = capsys.readouterr()
    return code, [json.loads(line) for line in out.splitlines()], err


def test_csv_rows_in_order_with_an_error_on_the_bad_row(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "posts.csv"
    path.write_text('id,text\n'
                    'a,"@中国联通客服 家里宽带从昨天开始连不上，光猫红灯，麻烦派人看一下"\n'
                    'b,\n'
                    'c,"深圳移动信号太差了，再不解决我就去工信部投诉，然后携号转网"\n'
                    'd,"多行的\n帖子：谢谢客服，问题解决了"\n', encoding="utf-8")
    code, rows, err = run(capsys, "--input", str(path))
    assert code == 0
    assert [r["row"] for r in rows] == [1, 2, 3, 4] and [r["id"] for r in rows] == ["a", "b", "c", "d"]
    assert rows[1] == {"row": 2, "id": "b", "error": "no text"}
    first, third = rows[0], rows[2]
    assert KEYS <= set(first) and first["label"] == "negative" and 0.0 <= first["score"] <= 1.0
    assert "宽带" in first["touchpoints"] and first["operators"] == ["中国联通"]
    assert set(third["risk_flags"]) == {"escalation", "churn"} and third["city"] == "深圳"
    assert third["operators"] == ["中国移动"] and "网络信号" in third["touchpoints"]
    assert "1 rows could not be analysed" in err


def test_jsonl_bad_lines_keep_their_place(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "posts.jsonl"
    path.write_text('{"text": "电信宽带又断网了"}\n'
                    'not json at all\n'
                    '\n'
                    '{"id": 7, "body": "no text field"}\n'
                    '["a list"]\n'
                    '{"id": "x", "text": "今天天气很好，出去玩了"}\n', encoding="utf-8")
    code, rows, _ = run(capsys, "--input", str(path))
    assert code == 0 and [r["row"] for r in rows] == [1, 2, 3, 4, 5, 6]
    assert [("error" in r) for r in rows] == [False, True, True, True, True, False]
    assert rows[1]["error"].startswith("not JSON") and rows[2]["error"] == "empty line"
    assert rows[3] == {"row": 4, "id": "7", "error": "no `text` string"}
    assert rows[5]["id"] == "x" and rows[5]["touchpoints"] == ["其他"] and rows[5]["operators"] == []


def test_plain_lines_from_stdin(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("联通的网速太慢了\n\n@中国移动 请问怎么查询剩余流量？\n"))
    code, rows, _ = run(capsys, "--input", "-")
    assert code == 0 and [r["row"] for r in rows] == [1, 2, 3]
    assert rows[1] == {"row": 2, "error": "empty line"}
    assert rows[0]["label"] == "negative" and rows[2]["operators"] == ["中国移动"]


def test_stdin_csv_and_jsonl_are_sniffed(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("text,id\n宽带断了,1\n"))
    code, rows, _ = run(capsys, "--input", "-")
    assert code == 0 and rows[0]["id"] == "1" and rows[0]["touchpoints"] == ["宽带"]
    monkeypatch.setattr("sys.stdin", io.StringIO('{"text": "宽带断了"}\n'))
    code, rows, _ = run(capsys, "--input", "-")
    assert code == 0 and rows[0]["touchpoints"] == ["宽带"]


def test_a_whole_file_that_cannot_be_read_is_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "no_text.csv"
    path.write_text("id,body\n1,x\n", encoding="utf-8")
    assert main(["sentiment", "analyze", "--input", str(path)]) == 2
    assert "text" in capsys.readouterr().err
    assert main(["sentiment", "analyze", "--input", str(tmp_path / "missing.csv")]) == 2


def test_a_failing_analysis_spoils_only_its_own_row(monkeypatch: pytest.MonkeyPatch,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    from sentiment import topics

    real = topics.Taxonomy.match

    def flaky(self, text):
        if "炸" in text:
            raise RuntimeError("boom")
        return real(self, text)

    monkeypatch.setattr(topics.Taxonomy, "match", flaky)
    monkeypatch.setattr("sys.stdin", io.StringIO("宽带断了\n这条会炸\n信号很好\n"))
    code, rows, _ = run(capsys, "--input", "-")
    assert code == 0 and [r["row"] for r in rows] == [1, 2, 3]
    assert "error" not in rows[0] and "boom" in rows[1]["error"] and "error" not in rows[2]


def test_format_detection() -> None:
    assert detect("anything", "x.csv") == "csv" and detect("anything", "x.jsonl") == "jsonl"
    assert detect('{"text": 1}') == "jsonl" and detect("\ufeffid,text") == "csv" and detect("宽带断了") == "lines"
