"""`yuqing alerts …` end to end: subscribers, run-once, backtest, test-email, lifecycle, against loopback SMTP."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

from tests.alerts.conftest import open_both
from tests.alerts.factory import NOW, make_post
from yuqing.cli import main


def test_subscriber_management(env, capsys) -> None:
    assert main(["alerts", "subscribe", "a@example.test", "--min-severity", "orange", "--operators", "中国移动,中国联通",
                 "--mode", "hourly"]) == 0
    assert main(["alerts", "subscribe", "b@example.test", "--regions", "深圳", "--mode", "daily",
                 "--daily-at", "09:30"]) == 0
    assert main(["alerts", "subscribe", "a@example.test", "--min-severity", "red"]) == 0  # update, not a second one
    capsys.readouterr()
    assert main(["alerts", "subscribers"]) == 0
    out = capsys.readouterr().out
    assert "a@example.test" in out and "最低红色" in out and "每小时汇总" in out and "运营商=中国移动、中国联通" in out
    assert "日报 09:30" in out and "地区=深圳" in out and out.count("a@example.test") == 1
    assert main(["alerts", "unsubscribe", "a@example.test"]) == 0
    capsys.readouterr()
    assert main(["alerts", "unsubscribe", "nobody@example.test"]) == 2  # an unknown name: a usage error
    assert "没有找到该订阅：nobody@example.test" in capsys.readouterr().err
    main(["alerts", "subscribers"])
    assert "（已退订）a@example.test" in capsys.readouterr().out
    assert main(["alerts", "subscribe", "not-an-address"]) == 2


def test_run_once_prints_and_sends(env, smtp_server, capsys) -> None:
    store = open_both(env.store.path)
    store.upsert_posts([make_post("移动宽带断网，已经投诉到工信部", minutes_ago=1 + i, now=NOW) for i in range(4)])
    store.close()
    main(["alerts", "subscribe", "duty@example.test"])
    capsys.readouterr()
    assert main(["alerts", "run-once", "--at", (NOW + timedelta(seconds=1)).isoformat()]) == 0
    out = capsys.readouterr().out
    assert "[新预警]" in out and "/ all" not in out and "升级投诉苗头" in out and "工信部×4" in out and "发出 1 封" in out
    assert [m["Subject"] for m in smtp_server.inbox.to("duty@example.test")] == ["【橙色预警】出现升级投诉苗头（全部运营商）"]
    assert main(["alerts", "list"]) == 0
    listed = capsys.readouterr().out
    assert "未处理" in listed and "（规则：升级投诉苗头）" in listed and " / all" not in listed
    assert main(["alerts", "ack", "1", "--by", "值班员"]) == 0
    assert main(["alerts", "resolve", "1", "--by", "值班员", "--note", "已回复用户"]) == 0
    assert main(["alerts", "resolve", "1", "--by", "值班员", "--note", "again"]) == 1  # exists, cannot move
    assert main(["alerts", "ack", "99"]) == 2 and main(["alerts", "resolve", "99", "--note", "x"]) == 2  # no such
    assert main(["alerts", "silence", "升级投诉苗头", "--for", "2h", "--by", "主管"]) == 0
    assert "已静默 升级投诉苗头" in capsys.readouterr().out


def test_backtest_command(env, capsys) -> None:
    store = open_both(env.store.path)
    store.upsert_posts([make_post("找律师起诉移动", minutes_ago=1 + i, now=NOW - timedelta(hours=2)) for i in range(3)])
    store.close()
    assert main(["alerts", "backtest", "--from", (NOW - timedelta(hours=3)).isoformat(), "--to", NOW.isoformat(),
                 "--step", "10m", "--json"]) == 0
    lines = [line for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
    assert len(lines) == 1 and '"rule": "升级投诉苗头"' in lines[0] and '"at": "2026-11-24T00:00:00+00:00"' in lines[0]


def test_test_email(env, smtp_server, capsys) -> None:
    assert main(["alerts", "test-email", "me@example.test"]) == 0
    assert "已发送到 me@example.test" in capsys.readouterr().out
    (msg,) = smtp_server.inbox.to("me@example.test")
    assert msg["Subject"] == "【黄色预警·测试】这是一封测试预警邮件" and msg["From"] == "yuqing@example.test"


def test_test_email_reports_failure_and_keeps_message(env, capsys) -> None:
    assert main(["alerts", "test-email", "me@example.test"]) == 1
    assert "发送失败" in capsys.readouterr().err


def test_bad_rules_file_is_named(env, tmp_path, monkeypatch, capsys) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("rules: [{name: x, type: escalation, more_than: -3}]", encoding="utf-8")
    monkeypatch.setenv("YUQING_ALERTS_RULES", str(bad))
    assert main(["alerts", "rules"]) == 2
    assert f"{bad}: rules[0] (x).more_than: must be at least 0" in capsys.readouterr().err


def test_backtest_stops_at_now(env, capsys) -> None:
    """A --to in the future is capped at now (said in one line): no flatline hits at times that have not come."""
    from yuqing.records import CrawlRun, now_utc

    now = now_utc()
    store = open_both(env.store.path)
    store.record_crawl_run(CrawlRun(source="weibo", started_at=now - timedelta(hours=6),
                                    finished_at=now - timedelta(hours=6), posts_new=5))
    store.record_crawl_run(CrawlRun(source="weibo", started_at=now - timedelta(hours=5),
                                    finished_at=now - timedelta(hours=5), posts_new=0))
    store.close()
    assert main(["alerts", "backtest", "--from", (now - timedelta(hours=6)).isoformat(),
                 "--to", (now + timedelta(days=2)).isoformat(), "--step", "30m"]) == 0
    out = capsys.readouterr().out
    assert "回测截至当前时间" in out and "回测跳过" not in out and "重放" in out
    assert main(["alerts", "backtest", "--from", (now - timedelta(hours=6)).isoformat(),
                 "--to", (now + timedelta(days=2)).isoformat(), "--step", "30m", "--json"]) == 0
    hits = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
    assert hits and all(datetime.fromisoformat(h["at"]) <= now_utc() for h in hits)
