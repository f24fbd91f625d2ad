"""Subscribers: every value checked against the configured files on subscribe, and a bad one already stored
skips only that subscriber while everyone else's digests and queued mail still go out."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest

from alerts.email import schedule_digests
from alerts.rules import RuleError
from tests.alerts.conftest import open_both
from tests.alerts.factory import NOW
from tests.conftest import Both
from yuqing.cli import main
from yuqing.ops.subscribers import subscribe
from yuqing.records import OutboxMessage, Subscriber, now_utc
from yuqing.run import alerts_job

BAD = [
    (["--mode", "daily", "--daily-at", "25:99"], ["日报时间 25:99 无效", "00:00 至 23:59"]),
    (["--daily-at", "8点"], ["日报时间 8点 无效"]),
    (["--platforms", "twitter"], ["未知平台 twitter", "weibo（微博）、zhihu（知乎）、zhidao（百度知道）、heimao（黑猫投诉）、tieba（贴吧）、bilibili（B站）"]),
    (["--touchpoints", "飞机"], ["未知触点 飞机", "网络信号、宽带", "其他"]),
    (["--rules", "不存在的规则"], ["未知规则 不存在的规则", "升级投诉苗头", "数据源断流", "规则类型：", "flatline"]),
    (["--operators", "中国电讯"], ["未知运营商 中国电讯", "可选：中国电信、中国移动、中国联通"]),
    (["--operators", "中国移动,中国电讯", "--platforms", "weibo,twitter"], ["未知运营商 中国电讯", "未知平台 twitter"]),
]


@pytest.mark.parametrize("extra, says", BAD, ids=[" ".join(e) for e, _ in BAD])
def test_subscribe_rejects_unknown_values_in_one_chinese_line(env, capsys, extra, says) -> None:
    assert main(["alerts", "subscribe", "late@example.com", *extra]) == 2
    err = capsys.readouterr().err
    assert err.startswith("订阅失败：") and err.count("\n") == 1 and "Traceback" not in err
    for part in says:
        assert part in err
    store = open_both(env.store.path)
    assert store.list_subscribers() == []  # nothing half-saved
    store.close()


def test_subscribe_accepts_known_values_and_normalises(env, capsys) -> None:
    assert main(["alerts", "subscribe", "ops@example.com", "--mode", "daily", "--daily-at", "8:05", "--platforms",
                 "微博,zhihu,weibo", "--touchpoints", "宽带,其他", "--rules", "数据源断流,flatline", "--operators",
                 "中国电信"]) == 0
    out = capsys.readouterr().out
    assert "日报 08:05" in out and "平台=weibo、zhihu" in out and "触点=宽带、其他" in out
    assert "规则=数据源断流、flatline" in out and "运营商=中国电信" in out


def test_update_is_checked_and_leaves_the_stored_subscriber_alone(store, settings) -> None:
    subscribe(store, settings, "a@example.com", operators=("中国移动",), actor="test")
    with pytest.raises(ValueError, match="未知运营商 中国电讯"):
        subscribe(store, settings, "A@example.com", operators=("中国电讯",), actor="test")
    (sub,) = store.list_subscribers()
    assert sub.operators == ("中国移动",)


def test_names_come_from_the_configured_files(env, tmp_path, monkeypatch, capsys) -> None:
    watchlist = tmp_path / "watch.toml"
    watchlist.write_text('[operators."中国广电"]\nnames = ["中国广电"]\n', encoding="utf-8")
    touch = tmp_path / "touch.toml"
    touch.write_text('[touchpoints."机顶盒"]\nwords = ["机顶盒"]\n', encoding="utf-8")
    monkeypatch.setenv("YUQING_CRAWL_WATCHLIST", str(watchlist))
    monkeypatch.setenv("YUQING_SENTIMENT_TOUCHPOINTS", str(touch))
    monkeypatch.setenv("YUQING_CRAWL_SOURCES", "weibo,heimao")
    assert main(["alerts", "subscribe", "a@example.com", "--operators", "中国广电", "--touchpoints", "机顶盒"]) == 0
    assert main(["alerts", "subscribe", "a@example.com", "--operators", "中国移动"]) == 2
    assert "可选：中国广电）" in capsys.readouterr().err
    assert main(["alerts", "subscribe", "a@example.com", "--platforms", "zhihu"]) == 2
    assert "可选：weibo（微博）、heimao（黑猫投诉））" in capsys.readouterr().err
    monkeypatch.setenv("YUQING_CRAWL_WATCHLIST", str(tmp_path / "missing.toml"))
    assert main(["alerts", "subscribe", "a@example.com", "--operators", "中国广电"]) == 2
    err = capsys.readouterr().err
    assert "读不到运营商清单文件" in err and "missing.toml" in err and err.count("\n") == 1


def _daily(store, email: str, daily_at: str) -> Subscriber:
    return store.save_subscriber(Subscriber(email=email, mode="daily", daily_at=daily_at))  # as an old version stored it


def test_stored_bad_daily_time_skips_that_subscriber_only(store, settings) -> None:
    bad = _daily(store, "late@example.com", "25:99")
    _daily(store, "early@example.com", "08:00")
    store.save_subscriber(Subscriber(email="boss@example.com", mode="hourly"))
    at = NOW + timedelta(minutes=5)  # 10:05 Shanghai: the 08:00 日报 is due
    assert schedule_digests(*store, settings, at) == 1
    assert [m.to for m in store.list_outbox()] == [("early@example.com",)]
    ((source, stage, reason), count), = store.rejected_counts().items()
    assert (source, stage, count) == ("alerts", "subscriber", 1)
    assert f"#{bad.subscriber_id} late@example.com" in reason and "日报时间 25:99 无效" in reason
    assert schedule_digests(*store, settings, at + timedelta(minutes=1)) == 0
    assert sum(store.rejected_counts().values()) == 1  # recorded once per problem, not every minute
    store.save_subscriber(dataclasses.replace(bad, daily_at="07:00"))  # fixed: gets its report again
    assert schedule_digests(*store, settings, at + timedelta(minutes=2)) == 1
    assert store.get_mark(bad.subscriber_id, "problem") == ""


def _queued(env) -> Both:
    store = open_both(env.store.path)
    _daily(store, "late@example.com", "25:99")
    now = now_utc()
    store.enqueue(OutboxMessage(to=("waiting@example.com",), subject="已排队的告警", text="正文", html="<p>正文</p>",
                                      dedup_key="queued-before", created_at=now, next_attempt_at=now))
    return store


def test_alert_job_still_delivers_queued_mail_with_a_bad_subscriber(env, smtp_server) -> None:
    store = _queued(env)
    store.close()
    assert alerts_job()["sent"] == 1
    assert [m["Subject"] for m in smtp_server.inbox.to("waiting@example.com")] == ["已排队的告警"]


def test_alert_job_delivers_queued_mail_even_when_evaluation_fails(env, smtp_server, tmp_path, monkeypatch) -> None:
    _queued(env).close()
    bad = tmp_path / "bad.yaml"
    bad.write_text("rules: [{name: x, type: nosuchtype}]", encoding="utf-8")
    monkeypatch.setenv("YUQING_ALERTS_RULES", str(bad))
    with pytest.raises(RuleError):
        alerts_job()
    assert len(smtp_server.inbox.to("waiting@example.com")) == 1


def test_run_once_command_with_a_bad_subscriber(env, smtp_server, capsys) -> None:
    _queued(env).close()
    assert main(["alerts", "run-once"]) == 0
    assert "发出 1 封" in capsys.readouterr().out
    assert len(smtp_server.inbox.to("waiting@example.com")) == 1
