"""The run loop on a real SQLite store: one alert per fire, severity raised, realert, silence, reopen, backtest."""

from __future__ import annotations

from datetime import timedelta

import pytest

from alerts.engine import backtest, evaluate
from alerts.loader import parse_rules
from tests.alerts.factory import NOW, make_post
from tests.conftest import make_both
from yuqing.index import PostQuery
from yuqing.ops import lifecycle
from yuqing.records import Alert, CrawlRun, Event


@pytest.fixture(params=["sqlite+sqlite", "es-standin+postgresql"])
def store(request: pytest.FixtureRequest, tmp_path):
    """The engine runs on either store: the SQLite file and the Elasticsearch store (against its loopback stand-in)."""
    index, ops = request.param.split("+")
    yield from make_both(tmp_path, index, ops, request.getfixturevalue("pg_url") if ops == "postgresql" else "")


ESCALATION = parse_rules({"rules": [{"name": "升级", "type": "escalation", "more_than": 2, "window_minutes": 60}]})


def crisis(store, n: int, *, text: str = "移动断网三天了，我要打12300投诉", start: float = 1, **kw) -> None:
    store.upsert_posts([make_post(text, minutes_ago=start + i * 0.5, **kw) for i in range(n)])


def test_fires_once_then_updates_quietly(store, settings) -> None:
    crisis(store, 3)
    first = evaluate(*store, settings, NOW, rules=ESCALATION)
    assert [(d.action, d.notify, d.alert.severity) for d in first.decisions] == [("new", True, "orange")]
    assert "3 条" in first.decisions[0].alert.reason and "12300" in first.decisions[0].alert.reason
    second = evaluate(*store, settings, NOW + timedelta(minutes=1), rules=ESCALATION)
    assert [(d.action, d.notify) for d in second.decisions] == [("update", False)]
    assert len(store.list_alerts()) == 1


def test_severity_raised_when_crisis_grows(store, settings) -> None:
    crisis(store, 3)
    evaluate(*store, settings, NOW, rules=ESCALATION)
    crisis(store, 4, start=0.1)
    report = evaluate(*store, settings, NOW + timedelta(minutes=1), rules=ESCALATION)
    (d,) = report.decisions
    assert (d.action, d.notify, d.alert.severity) == ("raise", True, "red")
    assert store.find_alert("升级", "all").severity == "red" and len(store.list_alerts()) == 1


def test_resolved_alert_reopens_only_after_realert_window(store, settings) -> None:
    crisis(store, 3)
    (d,) = evaluate(*store, settings, NOW, rules=ESCALATION).decisions
    lifecycle.acknowledge(store, d.alert.alert_id, "值班员", NOW + timedelta(minutes=2))
    lifecycle.resolve(store, d.alert.alert_id, "值班员", "已联系网络部恢复", NOW + timedelta(minutes=5))
    later = evaluate(*store, settings, NOW + timedelta(minutes=10), rules=ESCALATION)
    assert [d.action for d in later.decisions] == ["suppressed"]
    assert store.get_alert(d.alert.alert_id).status == "resolved"
    crisis(store, 3, start=1, now=NOW + timedelta(minutes=70))
    again = evaluate(*store, settings, NOW + timedelta(minutes=70), rules=ESCALATION)
    (r,) = again.decisions
    assert (r.action, r.notify, r.alert.status, r.alert.reopened) == ("reopen", True, "open", 1)
    assert r.alert.alert_id == d.alert.alert_id and not r.alert.acknowledged_by
    actions = [a.action for a in store.list_audit(target=f"alert:{d.alert.alert_id}")]
    assert {"alert_new", "ack", "resolve", "alert_reopen"} <= set(actions)


def test_silence_records_but_does_not_notify(store, settings) -> None:
    crisis(store, 3)
    lifecycle.silence(store, "升级", "", NOW + timedelta(hours=1), "主管", "演练中", now=NOW)
    (d,) = evaluate(*store, settings, NOW, rules=ESCALATION).decisions
    assert (d.action, d.notify, d.silenced) == ("new", False, True)
    assert store.find_alert("升级", "all") is not None
    lifecycle.silence(store, "升级", "别的key", NOW + timedelta(hours=3), "主管", now=NOW)
    crisis(store, 10, now=NOW + timedelta(hours=2))
    (d,) = evaluate(*store, settings, NOW + timedelta(hours=2), rules=ESCALATION).decisions
    assert (d.action, d.notify, d.silenced) == ("raise", True, False)  # the rule silence ended; the key one differs


def test_one_alert_per_event_across_rules(store, settings) -> None:
    rules = parse_rules({"rules": [
        {"name": "大V", "type": "influential", "severity": "orange"},
        {"name": "发酵", "type": "event_growth", "min_count": 5, "growth": 2, "severity": "yellow"},
    ]})
    store.upsert_events([Event(event_id="ev1", title="移动营业厅乱收费", first_seen=NOW - timedelta(minutes=20),
                               last_seen=NOW, size=12, negative=12, operators=("中国移动",))])
    crisis(store, 6, text="营业厅乱收费", event_id="ev1")
    store.upsert_posts([make_post("营业厅乱收费 大家评评理", event_id="ev1", verified=True, reposts=3000)])
    report = evaluate(*store, settings, NOW, rules=rules)
    assert len(store.list_alerts()) == 1
    (alert,) = store.list_alerts()
    assert alert.event_id == "ev1" and alert.severity == "red"  # influential: 3000 reposts = 6x threshold
    assert sum(d.notify for d in report.decisions) == 1


def test_an_outage_split_into_two_events_by_concurrent_crawls_is_one_alert(store, settings) -> None:
    """Weibo's crawl grouped the 郑州 outage as ev_b and an alert opened on it; Tieba's crawl, running at the same
    time, grouped its older floors as ev_a. The next evaluation merges ev_b into the older ev_a before the rules
    run: the alert follows, and the influential Tieba post's match folds into it instead of opening a second one."""
    rules = parse_rules({"rules": [
        {"name": "大V", "type": "influential", "severity": "orange"},
        {"name": "发酵", "type": "event_growth", "min_count": 5, "growth": 2, "severity": "yellow"},
    ]})
    zz = dict(operators=("中国电信",), city="郑州", province="河南")
    store.upsert_events([Event("ev_b", "中国电信·郑州：断网 电信宽带", NOW - timedelta(minutes=20), NOW, size=6,
                               negative=6, keywords=("断网", "电信宽带", "宽带", "工信部"), operators=("中国电信",),
                               city="郑州")])
    crisis(store, 6, text="郑州电信断网一上午了，工信部投诉", event_id="ev_b", **zz)
    (opened,) = evaluate(*store, settings, NOW, rules=rules).decisions
    assert opened.alert.event_id == "ev_b"
    store.upsert_events([Event("ev_a", "中国电信·郑州：断网 宽带", NOW - timedelta(minutes=30), NOW, size=4,
                               negative=4, keywords=("断网", "宽带", "大面积"), operators=("中国电信",), city="郑州")])
    store.upsert_posts([make_post("郑州电信宽带大面积断网", event_id="ev_a", minutes_ago=12 + i, **zz) for i in range(3)])
    store.upsert_posts([make_post("郑州电信断网 大家评评理", event_id="ev_a", verified=True, reposts=3000, **zz)])
    report = evaluate(*store, settings, NOW + timedelta(minutes=1), rules=rules)
    assert report.events_merged == 1 and store.get_event("ev_b") is None
    (alert,) = store.list_alerts()
    assert (alert.alert_id, alert.event_id, alert.severity) == (opened.alert.alert_id, "ev_a", "red")
    assert store.count_posts(PostQuery(event_id="ev_a")) == 10


def test_two_alerts_opened_on_parts_of_one_event_are_folded_into_the_first(store, settings) -> None:
    """Each part of a split outage opened its own alert before the merge (two crawls, two rules); after the merge
    both point at one event, and the later one is folded into the first: resolved by the system with a note naming
    it, the first keeps the higher severity, the next evaluation updates only the first, and nobody is notified."""
    rules = parse_rules({"rules": [
        {"name": "大V", "type": "influential", "severity": "orange"},
        {"name": "升级", "type": "escalation", "more_than": 2, "window_minutes": 60},
    ]})
    zz = dict(operators=("中国电信",), city="郑州", province="河南")
    store.upsert_events([
        Event("ev_a", "中国电信·郑州：断网 宽带", NOW - timedelta(minutes=30), NOW, size=1, negative=1,
              keywords=("断网", "宽带", "大面积"), operators=("中国电信",), city="郑州"),
        Event("ev_b", "中国电信·郑州：断网 电信宽带", NOW - timedelta(minutes=20), NOW, size=3, negative=3,
              keywords=("断网", "电信宽带", "宽带", "工信部"), operators=("中国电信",), city="郑州")])
    store.upsert_posts([make_post("郑州电信宽带大面积断网 大家评评理", event_id="ev_a", verified=True, reposts=3000,
                                  **zz)])
    crisis(store, 3, text="郑州电信宽带断网一上午了，我要打12300投诉", event_id="ev_b", **zz)
    # before the merge existed in this order, each part had its own alert:
    for rule, key, eid in (("大V", "x", "ev_a"), ("升级", "all", "ev_b")):
        store.save_alert(Alert(rule=rule, key=key, severity="orange" if eid == "ev_a" else "red", title=rule,
                               reason="", opened_at=NOW - timedelta(minutes=5 if eid == "ev_a" else 3),
                               event_id=eid))
    first, second = sorted(store.list_alerts(), key=lambda a: a.alert_id)
    report = evaluate(*store, settings, NOW, rules=rules)
    assert report.events_merged == 1
    kept, folded = store.get_alert(first.alert_id), store.get_alert(second.alert_id)
    assert (kept.status, kept.event_id, kept.severity) == ("open", "ev_a", "red")
    assert (folded.status, folded.resolved_by, folded.event_id) == ("resolved", "system", "ev_a")
    assert folded.resolution_note == f"并入预警 #{first.alert_id}（同一事件）"
    assert [a.action for a in store.list_audit(target=f"alert:{second.alert_id}")][0] == "merge"
    assert not any(d.notify for d in report.decisions)
    assert {d.alert.alert_id for d in report.decisions if d.action != "suppressed"} <= {first.alert_id}
    assert [a.alert_id for a in store.list_alerts(statuses=("open", "acknowledged"))] == [first.alert_id]


def test_flatline_from_source_health(store, settings) -> None:
    store.record_crawl_run(CrawlRun(source="weibo", started_at=NOW - timedelta(hours=3),
                                    finished_at=NOW - timedelta(hours=3), posts_new=5))
    store.record_crawl_run(CrawlRun(source="weibo", started_at=NOW - timedelta(minutes=5),
                                    finished_at=NOW - timedelta(minutes=4), posts_new=0, healthy=False,
                                    reason="HTTP 418", errors={"http_418": 3}))
    rules = parse_rules({"rules": [{"name": "断流", "type": "flatline", "max_silence_minutes": 60}]})
    (d,) = evaluate(*store, settings, NOW, rules=rules).decisions
    assert d.alert.key == "weibo" and d.alert.severity == "orange" and "HTTP 418" in d.alert.reason
    assert d.alert.title == "数据源断流：微博" and "数据源 微博 已" in d.alert.reason  # email subjects are Chinese


def test_broken_rule_is_counted_and_others_run(store, settings, monkeypatch) -> None:
    rules = ESCALATION + parse_rules({"rules": [{"name": "坏", "type": "negative_share"}]})
    monkeypatch.setattr(type(rules[1]), "evaluate", lambda self, w: 1 / 0)
    crisis(store, 3)
    report = evaluate(*store, settings, NOW, rules=rules)
    assert [d.alert.rule for d in report.decisions] == ["升级"] and "ZeroDivisionError" in report.errors["坏"]
    assert any(k[1] == "rule" for k in store.rejected_counts())


def test_volume_spike_uses_previous_days_as_baseline(store, settings) -> None:
    rules = parse_rules({"rules": [{"name": "激增", "type": "volume_spike", "min_count": 5, "ratio": 3}]})
    for d in (1, 2, 3):
        crisis(store, 4, text="信号差", now=NOW - timedelta(days=d))
    crisis(store, 8, text="信号差")
    assert evaluate(*store, settings, NOW, rules=rules).decisions == []  # 8 against 4 a day: 2x
    crisis(store, 6, text="信号差", start=0.1)
    (d,) = evaluate(*store, settings, NOW + timedelta(minutes=1), rules=rules).decisions
    assert d.alert.count == 14 and d.alert.baseline == 4.0 and "前3天同时段平均 4.0 条" in d.alert.reason


def test_backtest_reports_when_rules_would_have_fired(store, settings) -> None:
    crisis(store, 5, now=NOW - timedelta(hours=5))  # posts 1..3 minutes before 21:00 UTC
    crisis(store, 2, now=NOW - timedelta(hours=1))
    hits = backtest(*store, settings, NOW - timedelta(hours=6), NOW, timedelta(minutes=10), rules=ESCALATION)
    assert [(h.at, h.action) for h in hits] == [(NOW - timedelta(hours=5), "new")]
    assert hits[0].alert.count == 5 and store.list_alerts() == []  # a backtest writes nothing


def test_flatline_for_a_source_that_never_delivered_counts_from_first_sight(store, settings) -> None:
    store.record_crawl_run(CrawlRun(source="zhihu", started_at=NOW - timedelta(minutes=1), finished_at=NOW,
                                    healthy=False, reason="HTTP 403"))
    rules = parse_rules({"rules": [{"name": "断流", "type": "flatline", "max_silence_minutes": 60}]})
    assert evaluate(*store, settings, NOW, rules=rules).decisions == []  # just started: not silent for long yet
    assert evaluate(*store, settings, NOW + timedelta(minutes=30), rules=rules).decisions == []
    (d,) = evaluate(*store, settings, NOW + timedelta(minutes=61), rules=rules).decisions
    assert d.alert.key == "zhihu" and "从未交付新帖" in d.alert.reason and "HTTP 403" in d.alert.reason


def test_resolved_event_is_not_mailed_again_by_another_rule(store, settings) -> None:
    store.upsert_events([Event(event_id="ev2", title="联通套餐乱扣费", first_seen=NOW - timedelta(minutes=20),
                               last_seen=NOW, size=8, negative=8, operators=("中国联通",))])
    influential = parse_rules({"rules": [{"name": "大V", "type": "influential"}]})
    store.upsert_posts([make_post("联通乱扣费 大家评评理", event_id="ev2", verified=True, reposts=600)])
    (first,) = evaluate(*store, settings, NOW, rules=influential).decisions
    lifecycle.resolve(store, first.alert.alert_id, "值班员", "已致歉退费", NOW + timedelta(minutes=1))
    crisis(store, 3, text="联通乱扣费，我要找律师", event_id="ev2", start=0.1, now=NOW + timedelta(minutes=5))
    escalation = evaluate(*store, settings, NOW + timedelta(minutes=5), rules=ESCALATION).decisions
    assert [(d.action, d.notify) for d in escalation] == [("suppressed", False)]
    assert len(store.list_alerts()) == 1


def test_escalation_finds_word_posts_beyond_the_most_influential(store, settings, monkeypatch) -> None:
    import alerts.snapshot

    monkeypatch.setattr(alerts.snapshot, "POST_LIMIT", 5)  # only 5 "most influential" posts fit in the window
    store.upsert_posts([make_post("移动信号差", minutes_ago=1 + i * 0.1, influence=10.0) for i in range(20)])
    crisis(store, 3, text="移动乱扣费 已经投诉到工信部", influence=0.0)
    (d,) = evaluate(*store, settings, NOW, rules=ESCALATION).decisions
    assert d.alert.count == 3


def test_escalation_flag_is_fetched_whatever_the_label(store, settings) -> None:
    store.upsert_posts([make_post("店铺直播全停了，损失好几千", label="positive", risk_flags=("escalation",),
                                  minutes_ago=1 + i) for i in range(3)])
    (d,) = evaluate(*store, settings, NOW, rules=ESCALATION).decisions
    assert d.alert.count == 3 and "风险标记" in d.alert.reason


def test_backtest_replays_source_health_for_flatline(store, settings) -> None:
    """Runs every 10 min; weibo delivers until 3 h before NOW, then finds nothing new: silent from then on."""
    for i in range(36):
        started = NOW - timedelta(hours=6) + timedelta(minutes=10 * i)
        delivering = started < NOW - timedelta(hours=3)
        store.record_crawl_run(CrawlRun(source="weibo", started_at=started, finished_at=started + timedelta(minutes=1),
                                        posts_new=5 if delivering else 0))
    last_post = NOW - timedelta(hours=3) - timedelta(minutes=10) + timedelta(minutes=1)
    rules = parse_rules({"rules": [{"name": "断流", "type": "flatline", "max_silence_minutes": 60}]})
    hits = backtest(*store, settings, NOW - timedelta(hours=7), NOW, timedelta(minutes=10), rules=rules)
    assert (hits[0].at, hits[0].action, hits[0].alert.key) == (last_post + timedelta(minutes=69), "new", "weibo")
    assert "最近一条新帖" in hits[0].alert.reason
    assert [(h.action, h.alert.key) for h in hits[1:]] == [("raise", "weibo")]  # still silent: more severe
    assert hits[1].alert.severity != hits[0].alert.severity
    assert store.list_alerts() == [] and store.ops.get_cursor("weibo", "x") is None


def test_volume_spike_stores_and_prints_the_floored_baseline(store, settings) -> None:
    """Half a post a day before: the ratio is against the floor (1), so count / baseline equals the printed ratio."""
    rules = parse_rules({"rules": [{"name": "激增", "type": "volume_spike", "min_count": 5, "ratio": 3,
                                    "baseline_days": 2}]})
    crisis(store, 1, text="信号差", now=NOW - timedelta(days=1))
    store.upsert_posts([make_post("信号很好", label="positive", minutes_ago=3, now=NOW - timedelta(days=d))
                        for d in (1, 2)])
    crisis(store, 38, text="信号差", start=0.1)
    (d,) = evaluate(*store, settings, NOW, rules=rules).decisions
    a = d.alert
    assert a.count == 38 and a.baseline == 1.0
    assert f"为基线的 {a.count / a.baseline:.1f} 倍" in a.reason and "按基线下限 1 条计" in a.reason


def test_most_specific_match_names_the_event_alert(store, settings) -> None:
    """An all-operator spike opens the event's alert; the 电信 spike and the 郑州 outage fold into it: the alert
    takes the outage's title, scope, rule and samples, keeps its id and the highest severity."""
    rules = parse_rules({"rules": [
        {"name": "全部激增", "type": "volume_spike", "min_count": 5, "ratio": 3, "severity": "red"},
        {"name": "电信激增", "type": "volume_spike", "min_count": 5, "ratio": 3, "scope": {"operators": ["中国电信"]}},
        {"name": "城市故障", "type": "outage_city", "min_count": 8},
    ]})
    store.upsert_posts([make_post("郑州电信宽带断了", operators=("中国电信",), touchpoints=("宽带",), province="河南",
                                  city="郑州", event_id="ev3", minutes_ago=1 + i) for i in range(10)])
    store.upsert_posts([make_post("联通套餐乱扣费", operators=("中国联通",), touchpoints=("资费",), province="广东",
                                  city="广州", influence=90.0, minutes_ago=2) for _ in range(3)])
    report = evaluate(*store, settings, NOW, rules=rules)
    assert [d.action for d in report.decisions][0] == "new" and len(store.list_alerts()) == 1
    (alert,) = store.list_alerts()
    assert alert.alert_id == report.decisions[0].alert.alert_id and alert.event_id == "ev3"
    assert (alert.rule, alert.rule_type, alert.key) == ("城市故障", "outage_city", "中国电信:郑州")
    assert alert.title == "中国电信河南郑州疑似网络故障" and alert.severity == "red"
    assert list(alert.scope["operators"]) == ["中国电信"] and list(alert.scope["regions"]) == ["河南", "郑州"]
    samples = {sp.post.text for sp in store.search_posts(PostQuery(keys=alert.sample_keys), limit=10)}
    assert samples == {"郑州电信宽带断了"}
    again = evaluate(*store, settings, NOW + timedelta(minutes=1), rules=rules)  # the broad rules do not rename it
    assert {d.action for d in again.decisions} == {"update"} and store.get_alert(alert.alert_id).title == alert.title
    hits = backtest(*store, settings, NOW, NOW + timedelta(minutes=1), timedelta(minutes=1), rules=rules)
    assert hits[-1].alert.title == alert.title and hits[-1].alert.severity == "red"
