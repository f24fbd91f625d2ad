"""A name on the command line that names nothing (an alert, an event, a subscriber, a user, a chat channel) is a
usage error in every command family: exit 2 and one line on stderr saying what was not found, nothing changed.
(Exit 1 stays for a thing that exists but cannot do what was asked, e.g. resolving a resolved alert.)"""

from __future__ import annotations

import pytest

from yuqing.cli import main

CASES = [
    (["alerts", "ack", "99"], "预警 99 不存在"),
    (["alerts", "resolve", "99", "--note", "已处理"], "预警 99 不存在"),
    (["alerts", "unsubscribe", "nobody@example.test"], "没有找到该订阅：nobody@example.test"),
    (["alerts", "unsubscribe", "no-such-channel"], "没有找到该订阅：no-such-channel"),
    (["alerts", "test-channel", "nowhere"], "nowhere"),
    (["report", "event", "--alert", "99", "--out", "a.html"], "99"),
    (["report", "event", "ev-none", "--out", "e.html"], "ev-none"),
    (["users", "disable", "nobody"], "no user 'nobody'"),
    (["users", "remove", "nobody"], "no user 'nobody'"),
    (["users", "unlock", "nobody"], "no user 'nobody'"),
]


@pytest.mark.parametrize(("argv", "said"), CASES, ids=[" ".join(c[0][:2]) + f" {i}" for i, c in enumerate(CASES)])
def test_an_unknown_name_exits_2_with_one_line(argv, said, tmp_path, monkeypatch, capsys) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("YUQING_CONFIG", raising=False)
    monkeypatch.delenv("YUQING_ES_URL", raising=False)
    monkeypatch.setenv("YUQING_STORE_PATH", str(tmp_path / "yuqing.db"))
    assert main(argv) == 2
    out = capsys.readouterr()
    lines = [line for line in out.err.splitlines() if said in line]
    assert len(lines) == 1, out.err
    assert "Traceback" not in out.err and not list(tmp_path.glob("*.html"))
