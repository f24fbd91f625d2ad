"""The hot_list rule through the engine: polls recorded in a real OpsDB, the alert opened when the outage enters
微博热搜, raised as it climbs, and emailed over real SMTP on loopback like every other alert."""

from __future__ import annotations

from datetime import timedelta

from alerts.engine import backtest, run_once
from alerts.loader import load_rules, rules_path
from alerts.outbox import deliver_due
from tests.alerts.factory import NOW
from yuqing.ops.subscribers import subscribe
from yuqing.records import HotTrack

WORD = "郑州电信宽带大面积断网"


def poll(store, minutes: int, rank: int | None) -> None:
    at = NOW + timedelta(minutes=minutes)
    seen = [] if rank is None else [HotTrack(board="weibo", word=WORD, first_seen=at, last_seen=at, rank=rank,
                                             best_rank=rank, heat=3_000_000 // rank, operators=("中国电信",),
                                             words=("宽带", "断网"))]
    store.ops.record_hot_poll("weibo", at, seen)


def test_the_outage_on_the_hot_list_alerts_and_is_emailed(store, settings, smtp_server) -> None:
    rules = [r for r in load_rules(rules_path(settings.alerts.rules)) if r.type_name == "hot_list"]
    assert [r.name for r in rules] == ["登上热搜榜"]  # the packaged default
    subscribe(store, settings, "duty@example.test", name="值班", min_severity="blue", actor="test")
    assert run_once(*store, settings, NOW, rules=rules) == []  # nothing on the list yet
    subjects = []
    for minutes, rank in ((0, 28), (3, 15), (6, 6), (11, 2), (16, 2)):
        poll(store, minutes, rank)
        run_once(*store, settings, NOW + timedelta(minutes=minutes, seconds=30), rules=rules)
        deliver_due(store.ops, settings, NOW + timedelta(minutes=minutes, seconds=40))
        subjects = [m["Subject"] for m in smtp_server.inbox.to("duty@example.test")]
    (alert,) = store.ops.list_alerts()
    assert (alert.rule, alert.key, alert.severity, alert.rule_type) == ("登上热搜榜", f"weibo:{WORD}", "red", "hot_list")
    assert list(alert.scope["operators"]) == ["中国电信"] and list(alert.scope["platforms"]) == ["weibo"]
    # opened at #28 (yellow), raised at #6 (orange) and #2 (red); #15 and the second #2 change nothing
    assert [s.split("】")[0] for s in subjects] == ["【黄色预警", "【橙色预警·升级", "【红色预警·升级"], subjects
    assert all(WORD in s and "微博热搜" in s for s in subjects)
    body = smtp_server.inbox.to("duty@example.test")[-1].get_body(("plain",)).get_content()
    assert "登上微博热搜" in body and "从第 28 位升至第 2 位" in body
    poll(store, 20, None)  # it left the list: nothing more fires
    assert run_once(*store, settings, NOW + timedelta(minutes=20, seconds=30), rules=rules) == []


def test_a_backtest_replays_the_hot_lists_as_they_were(store, settings) -> None:
    """The stored polls replayed: opened at #28, raised at #6 and #2 as the live run did, nothing from the polls
    after each step (the rank at 11 min is not seen at 7 min), and once a later poll of 微博热搜 no longer shows it
    (another watched entry ranked at 20 min) nothing fires; shown again later, it is new on the list again."""
    rules = [r for r in load_rules(rules_path(settings.alerts.rules)) if r.type_name == "hot_list"]
    for minutes, rank in ((0, 28), (3, 15), (6, 6), (11, 2), (16, 2)):
        poll(store, minutes, rank)
    other = HotTrack(board="weibo", word="移动5G套餐涨价", first_seen=NOW, last_seen=NOW, rank=40, best_rank=40,
                     operators=("中国移动",), words=("套餐",))
    store.ops.record_hot_poll("weibo", NOW + timedelta(minutes=20), [other])
    hits = backtest(*store, settings, NOW + timedelta(seconds=30), NOW + timedelta(minutes=30, seconds=30),
                    timedelta(minutes=1), rules=rules)
    mine = [(int((h.at - NOW).total_seconds() // 60), h.action, h.alert.severity, h.alert.count)
            for h in hits if h.alert.key == f"weibo:{WORD}"]
    assert mine == [(0, "new", "yellow", 28), (6, "raise", "orange", 6), (11, "raise", "red", 2)], mine
    assert [h.alert.key for h in hits if h.action == "new"] == [f"weibo:{WORD}", "weibo:移动5G套餐涨价"]
    assert store.ops.list_alerts() == []  # a backtest writes nothing
    poll(store, 40, 9)  # back on the list after leaving it
    again = backtest(*store, settings, NOW + timedelta(minutes=40, seconds=30), NOW + timedelta(minutes=41),
                     timedelta(minutes=1), rules=rules)
    assert [(h.action, h.alert.key) for h in again] == [("new", f"weibo:{WORD}")]
    assert "新上榜" in again[0].alert.reason
