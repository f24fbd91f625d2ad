"""`yuqing alerts` as the README shows it: silence checks the rule, --by defaults to the OS user, a bad address
is one Chinese line, statuses print in Chinese, and `list` is newest opened first."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.alerts.conftest import open_both
from tests.alerts.factory import NOW
from yuqing.cli import main
from yuqing.records import Alert, now_utc


@pytest.fixture
def alerts(env) -> list[Alert]:
    """Five alerts, #1 opened first and #5 last."""
    store = open_both(env.store.path)
    try:
        return [store.save_alert(Alert(rule="升级投诉苗头", key=f"k{i}", severity="orange", title=f"告警{i}", reason="r",
                                       opened_at=NOW - timedelta(hours=6 - i), updated_at=NOW - timedelta(hours=6 - i)))
                for i in range(1, 6)]
    finally:
        store.close()


@pytest.fixture
def os_user(monkeypatch: pytest.MonkeyPatch) -> str:
    import getpass

    monkeypatch.setattr(getpass, "getuser", lambda: "qa")
    return "cli:qa"


def test_silence_rejects_an_unknown_rule_and_lists_the_valid_ones(env, capsys) -> None:
    assert main(["alerts", "silence", "nosuchrule", "--for", "2h", "--by", "qa"]) == 2
    captured = capsys.readouterr()
    assert "已静默" not in captured.out
    assert captured.err.startswith("静默失败：未知规则 nosuchrule（可选：负面声量激增、") and captured.err.count("\n") == 1
    assert "升级投诉苗头" in captured.err and "数据源断流" in captured.err and "* 表示所有规则" in captured.err
    store = open_both(env.store.path)
    assert store.active_silences(now_utc()) == []
    store.close()
    assert main(["alerts", "silence", "*", "--for", "2h", "--by", "qa"]) == 0
    assert main(["alerts", "silence", "数据源断流", "--key", "weibo", "--for", "30m", "--by", "qa"]) == 0


def test_readme_lifecycle_commands_work_without_by(env, alerts, os_user, capsys) -> None:
    assert main(["alerts", "ack", "4"]) == 0
    assert main(["alerts", "resolve", "5", "--note", "已回复用户"]) == 0
    assert main(["alerts", "silence", "升级投诉苗头", "--for", "2h"]) == 0
    out = capsys.readouterr().out
    assert "预警 #4 现为已确认" in out and "预警 #5 现为已解决" in out and "已静默 升级投诉苗头" in out
    store = open_both(env.store.path)
    try:
        assert store.get_alert(4).acknowledged_by == os_user
        assert store.get_alert(5).resolved_by == os_user
        (silence,) = store.active_silences(now_utc())
        assert silence.by == os_user
        actors = {(e.action, e.actor) for e in store.list_audit()}
        assert {("ack", os_user), ("resolve", os_user), ("silence", os_user)} <= actors
    finally:
        store.close()
    assert main(["alerts", "ack", "3", "--by", "值班员"]) == 0
    assert "预警 #3 现为已确认" in capsys.readouterr().out


def test_test_email_bad_address_is_one_chinese_line(env, capsys) -> None:
    assert main(["alerts", "test-email", "not-an-address"]) == 2
    err = capsys.readouterr().err
    assert err == "测试邮件未发送：不是有效的邮箱地址：not-an-address\n"
    store = open_both(env.store.path)
    assert store.list_outbox() == []
    store.close()


def test_subscribe_bad_address_is_chinese(env, capsys) -> None:
    assert main(["alerts", "subscribe", "not-an-address"]) == 2
    assert capsys.readouterr().err == "订阅失败：不是有效的邮箱地址：not-an-address\n"


def _ids(out: str) -> list[str]:
    return [line.split()[0] for line in out.splitlines() if line.startswith("#")]


def test_list_is_newest_opened_first_after_ack_and_resolve(env, alerts, capsys) -> None:
    assert main(["alerts", "ack", "1", "--by", "qa"]) == 0
    assert main(["alerts", "resolve", "4", "--by", "qa", "--note", "done"]) == 0  # both now changed last
    capsys.readouterr()
    assert main(["alerts", "list"]) == 0
    assert _ids(capsys.readouterr().out) == ["#5", "#4", "#3", "#2", "#1"]
    assert main(["alerts", "list", "--limit", "2"]) == 0
    assert _ids(capsys.readouterr().out) == ["#5", "#4"]
    assert main(["alerts", "list", "--status", "open", "--limit", "2"]) == 0
    assert _ids(capsys.readouterr().out) == ["#5", "#3"]


def test_broken_rules_file_is_one_line_for_silence_and_subscribe(env, tmp_path, monkeypatch, capsys) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("rules:\n  - name: x\n    type: [unclosed\n", encoding="utf-8")
    monkeypatch.setenv("YUQING_ALERTS_RULES", str(bad))
    assert main(["alerts", "silence", "x", "--for", "1h"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"静默失败：规则文件错误：{bad}: not valid YAML") and err.count("\n") == 1
    assert main(["alerts", "subscribe", "a@example.com", "--rules", "x"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"订阅失败：规则文件错误：{bad}: not valid YAML") and err.count("\n") == 1
    assert main(["alerts", "subscribe", "a@example.com", "--rules", "flatline"]) == 0  # a type needs no file
